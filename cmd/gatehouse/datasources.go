package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/spf13/cobra"
)

// gatehouse datasources and gatehouse apps are thin commands over a running server's API
// (docs/imports.md): an admin adds an S3 data source, tests its role, reads it now, and
// imports a file of it into an application. As everywhere in the CLI, what people read goes
// to stderr (or a table to stdout for list), and each result is one JSON line on stdout.

func newDataSourcesCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "datasources",
		Aliases: []string{"datasource"},
		Short:   "S3 data sources of a running server: add, list, test the role, read now (docs/imports.md)",
		Long: `An S3 data source is a bucket (and optionally a prefix) that the server reads application
access files from, through a role with an External ID that Gatehouse generates once
(docs/imports.md). These commands call the server's API (admins; auditors may list), with the
token of gatehouse login or GATEHOUSE_TOKEN.`,
		Example: `  gatehouse datasources add --name "HR exports" --role-arn arn:aws:iam::111111111111:role/GatehouseS3Reader --bucket acme-access-exports --prefix apps/
  gatehouse datasources test ds_...
  gatehouse datasources sync ds_... --wait
  gatehouse datasources list`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return fmt.Errorf("choose a command: gatehouse datasources list, add, test or sync (see gatehouse datasources --help)")
		},
	}
	cmd.AddCommand(newDataSourcesListCommand(), newDataSourcesAddCommand(), newDataSourcesTestCommand(), newDataSourcesSyncCommand())
	return cmd
}

// dataSource is a data source as the API answers it.
type dataSource struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	RoleARN     string  `json:"role_arn"`
	Bucket      string  `json:"bucket"`
	Prefix      string  `json:"prefix"`
	Region      string  `json:"region"`
	ExternalID  string  `json:"external_id"`
	Schedule    string  `json:"schedule"`
	LastSyncAt  *string `json:"last_sync_at"`
	LastState   string  `json:"last_state"`
	LastError   string  `json:"last_error"`
	LastSummary *struct {
		Listed    int      `json:"listed"`
		Fetched   int      `json:"fetched"`
		Unchanged int      `json:"unchanged"`
		Failed    int      `json:"failed"`
		Missing   []string `json:"missing"`
		Notes     []string `json:"notes"`
	} `json:"last_summary"`
}

// where is s3://bucket/prefix.
func (d *dataSource) where() string { return "s3://" + d.Bucket + "/" + d.Prefix }

// lastRead says how the last read went, in a few words.
func (d *dataSource) lastRead() string {
	if d.LastSyncAt == nil {
		return "never read"
	}
	s := d.LastState + " at " + *d.LastSyncAt
	if d.LastSummary != nil {
		s += fmt.Sprintf(": %d listed, %d read, %d unchanged, %d failed", d.LastSummary.Listed, d.LastSummary.Fetched, d.LastSummary.Unchanged, d.LastSummary.Failed)
	}
	return s
}

// getDataSource GETs one data source.
func getDataSource(ctx context.Context, c *apiClient, id string) (*dataSource, []byte, error) {
	var d dataSource
	raw, err := c.do(ctx, "GET", "/api/v1/datasources/"+url.PathEscape(id), nil, &d)
	if err != nil {
		return nil, raw, err
	}
	return &d, raw, nil
}

// printDataSource says on stderr what a data source is and how its last read went.
func printDataSource(w io.Writer, d *dataSource) {
	fmt.Fprintf(w, "%s %q: %s through %s, External ID %s (it never changes), every %s\n", d.ID, d.Name, d.where(), d.RoleARN, d.ExternalID, d.Schedule)
	fmt.Fprintf(w, "  last read: %s\n", d.lastRead())
	if d.LastError != "" {
		fmt.Fprintf(w, "  error: %s\n", oneLine(d.LastError))
	}
	if d.LastSummary != nil {
		for _, n := range d.LastSummary.Notes {
			fmt.Fprintf(w, "  note: %s\n", oneLine(n))
		}
		if len(d.LastSummary.Missing) > 0 {
			fmt.Fprintf(w, "  no longer in the bucket: %s\n", strings.Join(d.LastSummary.Missing, ", "))
		}
	}
}

// listAll GETs every page of a list and returns its items.
func listAll(ctx context.Context, c *apiClient, path string) ([]json.RawMessage, error) {
	var out []json.RawMessage
	for token := ""; ; {
		q := url.Values{"page_size": {"1000"}}
		if token != "" {
			q.Set("page_token", token)
		}
		var page struct {
			Items []json.RawMessage `json:"items"`
			Next  string            `json:"next_page_token"`
		}
		if _, err := c.do(ctx, "GET", path+"?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.Next == "" {
			return out, nil
		}
		token = page.Next
	}
}
