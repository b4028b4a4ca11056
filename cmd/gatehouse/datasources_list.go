package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
)

// newDataSourcesListCommand is `gatehouse datasources list`: every data source, as a table
// or one JSON line each (--json).
func newDataSourcesListCommand() *cobra.Command {
	var server string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List the data sources: bucket, External ID, last read",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newAPIClient(server)
			if err != nil {
				return err
			}
			items, err := listAll(contextOrBackground(cmd), c, "/api/v1/datasources")
			if err != nil {
				return err
			}
			if len(items) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "there are no data sources; add one with gatehouse datasources add")
				return nil
			}
			t := &table{header: []string{"ID", "NAME", "BUCKET", "EXTERNAL ID", "LAST READ"}, keep: []int{0, 2, 3}}
			for _, raw := range items {
				if asJSON {
					fmt.Fprintln(cmd.OutOrStdout(), jsonLine(raw))
					continue
				}
				var d dataSource
				if err := json.Unmarshal(raw, &d); err != nil {
					return err
				}
				last := "never read"
				if d.LastSyncAt != nil {
					last = d.LastState // the time and the summary: --json
				}
				t.add(d.ID, d.Name, d.where(), d.ExternalID, last)
			}
			if !asJSON {
				_, err = t.write(cmd.OutOrStdout(), terminalWidth)
			}
			return err
		},
	}
	serverFlag(cmd, &server)
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON line per data source instead of a table")
	return cmd
}
