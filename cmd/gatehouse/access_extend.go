package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

// newAccessExtendCommand is `gatehouse access extend ID --for 30m`: more time on active
// access, at once or after approval, as the request's policy says.
func newAccessExtendCommand() *cobra.Command {
	var server, reason string
	var more time.Duration
	cmd := &cobra.Command{
		Use:   "extend ID --for 30m [--reason WHY]",
		Short: "Ask for more time on your active access (the policy says whether it needs approval again)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if more <= 0 {
				return fmt.Errorf("say how much more time with --for, e.g. --for 30m")
			}
			return requestActionCommand(cmd, server, args[0], "extend", map[string]any{"duration": more.String(), "reason": reason}, "extended:")
		},
	}
	serverFlag(cmd, &server)
	cmd.Flags().DurationVar(&more, "for", 0, "how much more time, e.g. 30m")
	cmd.Flags().StringVar(&reason, "reason", "", "why you need more time")
	return cmd
}
