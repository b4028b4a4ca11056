package main

import (
	"github.com/spf13/cobra"
)

// newAccessDecideCommand is `gatehouse access approve ID` and `gatehouse access deny ID`:
// an approver's decision on a request (never their own).
func newAccessDecideCommand(action string) *cobra.Command {
	var server, reason string
	short := map[string]string{
		"approve": "Approve a request waiting for your decision (its current step, or its pending extension)",
		"deny":    "Deny a request waiting for your decision (one denial ends it)",
	}[action]
	done := map[string]string{"approve": "approved:", "deny": "denied:"}[action]
	cmd := &cobra.Command{
		Use:   action + " ID [--reason WHY]",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return requestActionCommand(cmd, server, args[0], action, map[string]any{"reason": reason}, done)
		},
	}
	serverFlag(cmd, &server)
	cmd.Flags().StringVar(&reason, "reason", "", "why (shown on the request and in the audit log)")
	return cmd
}

// requestActionCommand takes an action on a request and prints the request as it is now.
func requestActionCommand(cmd *cobra.Command, server, id, action string, body map[string]any, done string) error {
	c, err := newAPIClient(server)
	if err != nil {
		return err
	}
	raw, err := c.do(contextOrBackground(cmd), "POST", requestPath(id, action), body, nil)
	if err != nil {
		return err
	}
	r, err := decodeRequest(raw)
	if err != nil {
		return err
	}
	printRequest(cmd, done, r, raw)
	return nil
}
