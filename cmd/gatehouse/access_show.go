package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// newAccessShowCommand is `gatehouse access show ID`: one request with its whole history
// (every transition, who and when) on stderr and the request as one JSON line on stdout.
func newAccessShowCommand() *cobra.Command {
	var server string
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show a request: where it is, its lease's start and end, and every transition (who, when, why)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newAPIClient(server)
			if err != nil {
				return err
			}
			r, raw, err := c.getRequest(contextOrBackground(cmd), args[0])
			if err != nil {
				return err
			}
			w := cmd.ErrOrStderr()
			fmt.Fprintln(w, r.describe())
			fmt.Fprintf(w, "  requested by %s: %q\n", r.Requester, r.Reason)
			if r.StartsAt != nil {
				end := "-"
				if r.EndsAt != nil {
					end = *r.EndsAt
				}
				fmt.Fprintf(w, "  lease: %s to %s\n", *r.StartsAt, end)
			}
			for _, t := range r.Transitions {
				from := t.From
				if from == "" {
					from = "(new)"
				}
				line := fmt.Sprintf("  %s  %s -> %s  by %s", t.At, from, t.To, t.By)
				if t.Reason != "" {
					line += ": " + oneLine(t.Reason)
				}
				fmt.Fprintln(w, line)
			}
			fmt.Fprintln(cmd.OutOrStdout(), jsonLine(raw))
			return nil
		},
	}
	serverFlag(cmd, &server)
	return cmd
}
