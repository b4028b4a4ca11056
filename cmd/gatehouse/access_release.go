package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newAccessEndCommand is `gatehouse access cancel ID` (withdraw a request before it is
// active), `release ID` (end your own access early) and `revoke ID` (an admin ends anyone's
// access early). The access is removed in AWS by the server's jobs; the request shows when.
func newAccessEndCommand(action string) *cobra.Command {
	var server, reason string
	short := map[string]string{
		"cancel":  "Withdraw your request before it is active",
		"release": "End your active access now, before its time is up",
		"revoke":  "End someone's access now (admins; give --reason)",
	}[action]
	done := map[string]string{"cancel": "cancelled:", "release": "released:", "revoke": "revoked:"}[action]
	cmd := &cobra.Command{
		Use:   action + " ID [--reason WHY]",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if action == "revoke" && reason == "" {
				return errors.New("say why with --reason: the requester and the audit log see it")
			}
			return requestActionCommand(cmd, server, args[0], action, map[string]any{"reason": reason}, done)
		},
	}
	serverFlag(cmd, &server)
	cmd.Flags().StringVar(&reason, "reason", "", "why (shown on the request and in the audit log)")
	return cmd
}
