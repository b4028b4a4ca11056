package main

import (
	"context"

	"github.com/spf13/cobra"
)

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "gatehouse",
		Short: "Access governance for AWS: who can reach what, across every account",
		Long: `Gatehouse inventories IAM, IAM Identity Center and AWS Organizations across every
account of an organization, grants and revokes access, and hands out access that ends on time.

Start with "gatehouse sim" to serve a simulated AWS organization on your machine.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newDemoCommand(), newVersionCommand(), newSimCommand(), newSyncCommand(), newInspectCommand(), newConnectorCommand(context.Background()), newGrantCommand(), newRevokeCommand(), newSetupCommand(), newDoctorCommand(), newBenchCommand())
	return root
}
