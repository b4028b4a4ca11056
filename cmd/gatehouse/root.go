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
account of an organization into a .c1z file (gatehouse sync, read back with gatehouse
inspect), and grants and revokes IAM and Identity Center group memberships and
permission-set assignments (gatehouse grant, revoke). gatehouse serve is the server:
scheduled syncs into a store with history, a web UI and a JSON API behind OpenID Connect
sign-in, and an audit log (gatehouse migrate, token, audit work on its store). Against a
running server, gatehouse access requests, approves and releases just-in-time access and
gatehouse rules applies its rules (gatehouse login saves an API token). It is also a baton
connector (gatehouse connector).

Start with "gatehouse demo" (the whole product on a simulated AWS organization, with a demo
sign-in), or serve the simulator with "gatehouse sim --preset demo" and follow
docs/simulator.md. Against AWS, "gatehouse setup aws" generates the role to create and
"gatehouse doctor" checks it.

Flags that talk to AWS are the same on every command: --profile, --region, --endpoint-url,
--role-arn, --external-id. -f is --file everywhere.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newDemoCommand(), newVersionCommand(), newSimCommand(), newSyncCommand(), newInspectCommand(), newConnectorCommand(context.Background()), newGrantCommand(), newRevokeCommand(), newSetupCommand(), newDoctorCommand(), newBenchCommand(), newServeCommand(), newMigrateCommand(), newLoadtestCommand(), newTokenCommand())
	root.AddCommand(newAuditCommand(), newEvidenceCommand())
	root.AddCommand(newLoginCommand(), newAccessCommand(), newRulesCommand(), newReviewCommand())
	root.AddCommand(newDataSourcesCommand(), newAppsCommand())
	return root
}
