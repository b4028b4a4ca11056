package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

func newAppsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "apps",
		Aliases: []string{"applications"},
		Short:   "Applications of a running server: list, create, import a file, show, decide a held import (docs/imports.md)",
		Long: `An application is an AWS connection (kind aws) or an application whose access is imported
from files of an S3 data source (kind file). These commands call the server's API (admins;
auditors may list and show), with the token of gatehouse login or GATEHOUSE_TOKEN.`,
		Example: `  gatehouse apps create --name Payroll --owner alice@example.com
  gatehouse apps import app_... --datasource ds_... --file apps/payroll.csv
  gatehouse apps show app_...
  gatehouse apps approve app_... run_...
  gatehouse apps list`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return fmt.Errorf("choose a command: gatehouse apps list, create, import, show, approve or reject (see gatehouse apps --help)")
		},
	}
	cmd.AddCommand(newAppsListCommand(), newAppsCreateCommand(), newAppsImportCommand(), newAppsShowCommand(),
		newAppsDecideCommand("approve"), newAppsDecideCommand("reject"))
	return cmd
}

// application is an application as the API answers it.
type application struct {
	ID         string         `json:"id"`
	Name       string         `json:"name"`
	Kind       string         `json:"kind"`
	Owner      string         `json:"owner"`
	Counts     map[string]int `json:"counts"`
	LastImport *importRun     `json:"last_import"`
	Imports    []struct {
		ID           string   `json:"id"`
		DatasourceID string   `json:"datasource_id"`
		Files        []string `json:"files"`
		Format       string   `json:"format"`
	} `json:"imports"`
}

// importRun is one run of an application's import.
type importRun struct {
	ID     string `json:"id"`
	State  string `json:"state"`
	Errors []struct {
		File    string `json:"file"`
		Row     int    `json:"row"`
		Column  string `json:"column"`
		Message string `json:"message"`
	} `json:"errors"`
	Provenance []struct {
		Key       string `json:"key"`
		VersionID string `json:"version_id"`
		ETag      string `json:"etag"`
		Size      int64  `json:"size"`
		ReadAt    string `json:"read_at"`
	} `json:"provenance"`
	Diff struct {
		GrantsBefore  int `json:"grants_before"`
		GrantsAdded   int `json:"grants_added"`
		GrantsRemoved int `json:"grants_removed"`
	} `json:"diff"`
	HeldReason string `json:"held_reason"`
	DecidedBy  string `json:"decided_by"`
	At         string `json:"at"`
}

// describe is the run in one line: its state, what it changed and when.
func (r *importRun) describe() string {
	s := fmt.Sprintf("%s %s at %s: %d grants before, %d added, %d removed", r.ID, r.State, r.At, r.Diff.GrantsBefore, r.Diff.GrantsAdded, r.Diff.GrantsRemoved)
	if r.DecidedBy != "" {
		s += ", decided by " + r.DecidedBy
	}
	return s
}

// printRun says on stderr what a run did: its state, the files it read, its errors, why it is held.
func printRun(w io.Writer, r *importRun, appID string) {
	fmt.Fprintf(w, "  last import: %s\n", r.describe())
	for _, p := range r.Provenance {
		fmt.Fprintf(w, "    read %s (ETag %s, %d bytes", p.Key, p.ETag, p.Size)
		if p.VersionID != "" {
			fmt.Fprintf(w, ", version %s", p.VersionID)
		}
		fmt.Fprintf(w, ") at %s\n", p.ReadAt)
	}
	for _, e := range r.Errors {
		where := e.File
		if e.Row > 0 {
			where += fmt.Sprintf(", row %d", e.Row)
		}
		if e.Column != "" {
			where += fmt.Sprintf(", column %q", e.Column)
		}
		fmt.Fprintf(w, "    %s: %s\n", where, e.Message)
	}
	switch r.State {
	case "rejected":
		fmt.Fprintln(w, "    nothing was applied: the application keeps its last good data; fix the file and upload it again")
	case "held":
		fmt.Fprintf(w, "    %s\n    decide it: gatehouse apps approve %s %s (or reject)\n", r.HeldReason, appID, r.ID)
	}
}

// printApp says on stderr what an application is and how its last import went.
func printApp(w io.Writer, a *application) {
	fmt.Fprintf(w, "%s %q (%s)", a.ID, a.Name, a.Kind)
	if a.Owner != "" {
		fmt.Fprintf(w, ", owner %s", a.Owner)
	}
	fmt.Fprintln(w)
	if len(a.Counts) > 0 {
		keys := make([]string, 0, len(a.Counts))
		for k := range a.Counts {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s %d", k, a.Counts[k]))
		}
		fmt.Fprintf(w, "  now: %s\n", strings.Join(parts, ", "))
	}
	for _, im := range a.Imports {
		fmt.Fprintf(w, "  import %s: %s of data source %s (%s)\n", im.ID, strings.Join(im.Files, ", "), im.DatasourceID, im.Format)
	}
	if a.LastImport != nil {
		printRun(w, a.LastImport, a.ID)
	}
}

// getApp GETs one application.
func getApp(ctx context.Context, c *apiClient, id string) (*application, []byte, error) {
	var a application
	raw, err := c.do(ctx, "GET", "/api/v1/applications/"+url.PathEscape(id), nil, &a)
	if err != nil {
		return nil, raw, err
	}
	return &a, raw, nil
}

func decodeApp(raw []byte) (*application, error) {
	var a application
	return &a, json.Unmarshal(raw, &a)
}
