package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// newAppsShowCommand is `gatehouse apps show APP`: the application with its imports and last
// import (state, files read, row-precise errors, why it is held) on stderr, and as one JSON
// line on stdout.
func newAppsShowCommand() *cobra.Command {
	var server string
	cmd := &cobra.Command{
		Use:   "show APP_ID",
		Short: "Show an application: its imports and its last import's state, errors and provenance",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newAPIClient(server)
			if err != nil {
				return err
			}
			a, raw, err := getApp(contextOrBackground(cmd), c, args[0])
			if err != nil {
				return err
			}
			printApp(cmd.ErrOrStderr(), a)
			fmt.Fprintln(cmd.OutOrStdout(), jsonLine(raw))
			return nil
		},
	}
	serverFlag(cmd, &server)
	return cmd
}
