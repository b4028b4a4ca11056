package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// newAppsCreateCommand is `gatehouse apps create`: POST /api/v1/applications.
func newAppsCreateCommand() *cobra.Command {
	var server, name, owner string
	var threshold int
	cmd := &cobra.Command{
		Use:   "create --name NAME --owner EMAIL [--remove-threshold 20]",
		Short: "Create an application whose access is imported from files",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			body := map[string]any{"name": name, "owner": owner}
			if cmd.Flags().Changed("remove-threshold") {
				body["remove_threshold"] = threshold
			}
			c, err := newAPIClient(server)
			if err != nil {
				return err
			}
			raw, err := c.do(contextOrBackground(cmd), "POST", "/api/v1/applications", body, nil)
			if err != nil {
				return err
			}
			a, err := decodeApp(raw)
			if err != nil {
				return err
			}
			w := cmd.ErrOrStderr()
			fmt.Fprint(w, "created: ")
			printApp(w, a)
			fmt.Fprintf(w, "attach a file with: gatehouse apps import %s --datasource DATASOURCE_ID --file KEY\n", a.ID)
			fmt.Fprintln(cmd.OutOrStdout(), jsonLine(raw))
			return nil
		},
	}
	serverFlag(cmd, &server)
	cmd.Flags().StringVar(&name, "name", "", "the application's name, as people know it")
	cmd.Flags().StringVar(&owner, "owner", "", "the email address of the application's owner")
	cmd.Flags().IntVar(&threshold, "remove-threshold", 20, "an import removing more than this percent of the grants is held for an admin")
	return cmd
}
