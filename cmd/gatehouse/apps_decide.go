package main

import (
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/spf13/cobra"
)

// newAppsDecideCommand is `gatehouse apps approve APP RUN` and `gatehouse apps reject APP
// RUN`: an admin's decision on a held import run.
func newAppsDecideCommand(action string) *cobra.Command {
	var server string
	short := map[string]string{
		"approve": "Apply a held import run as it is",
		"reject":  "Drop a held import run; the application keeps its data",
	}[action]
	cmd := &cobra.Command{
		Use:   action + " APP_ID RUN_ID",
		Short: short,
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newAPIClient(server)
			if err != nil {
				return err
			}
			raw, err := c.do(contextOrBackground(cmd), "POST", "/api/v1/applications/"+url.PathEscape(args[0])+"/runs/"+url.PathEscape(args[1])+"/"+action, nil, nil)
			if err != nil {
				return err
			}
			var r importRun
			if err := json.Unmarshal(raw, &r); err != nil {
				return err
			}
			fmt.Fprintln(cmd.ErrOrStderr(), r.describe())
			fmt.Fprintln(cmd.OutOrStdout(), jsonLine(raw))
			return nil
		},
	}
	serverFlag(cmd, &server)
	return cmd
}
