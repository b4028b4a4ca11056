package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// newAppsListCommand is `gatehouse apps list`: the AWS connections and the applications
// imported from files, as a table or one JSON line each (--json).
func newAppsListCommand() *cobra.Command {
	var server string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List the applications: AWS connections and applications imported from files",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newAPIClient(server)
			if err != nil {
				return err
			}
			items, err := listAll(contextOrBackground(cmd), c, "/api/v1/applications")
			if err != nil {
				return err
			}
			if len(items) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "there are no applications; create one with gatehouse apps create")
				return nil
			}
			t := &table{header: []string{"ID", "NAME", "KIND", "OWNER", "GRANTS", "LAST IMPORT"}, keep: []int{0}}
			for _, raw := range items {
				if asJSON {
					fmt.Fprintln(cmd.OutOrStdout(), jsonLine(raw))
					continue
				}
				a, err := decodeApp(raw)
				if err != nil {
					return err
				}
				last := "-"
				if a.LastImport != nil {
					last = a.LastImport.State // its time, diff and errors: gatehouse apps show, --json
				}
				owner := a.Owner
				if owner == "" {
					owner = "-"
				}
				t.add(a.ID, a.Name, a.Kind, owner, fmt.Sprint(a.Counts["grants"]), last)
			}
			if !asJSON {
				_, err = t.write(cmd.OutOrStdout(), terminalWidth)
			}
			return err
		},
	}
	serverFlag(cmd, &server)
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON line per application instead of a table")
	return cmd
}
