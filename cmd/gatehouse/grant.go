package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func newGrantCommand() *cobra.Command {
	var (
		flags                                 provisionFlags
		entitlement, principalType, principal string
	)
	cmd := &cobra.Command{
		Use:   "grant --entitlement ENTITLEMENT_ID --principal-type TYPE --principal PRINCIPAL_ID [--dry-run]",
		Short: "Grant access in AWS: an IAM or Identity Center group membership, or a permission set in an account",
		Long: `Grant an entitlement to a principal, with ids as gatehouse inspect prints them:

  iam_group:<group ARN>:member                 to an iam_user (same account)
  sso_group:<group id>:member                  to an sso_user
  account:<account id>:<permission set id>     to an sso_user or sso_group

The command reads what it needs from AWS (no sync needed), makes the change only when it
does not exist yet, and reports success only once AWS confirms it: an Identity Center
account assignment is followed until AWS reports SUCCEEDED or FAILED (--wait).

With --dry-run it makes the same reads, prints the AWS calls it would make and changes
nothing. It also checks what the real run would meet: the IAM policy simulator
(iam:SimulatePrincipalPolicy) says whether the role that would make the change may, and the
account of an assignment must be ACTIVE. When a check fails, it says "would be denied" or
"would fail" and why, and exits with status 1.

The connection flags are sync's. The change is logged to stderr as one JSON entry with
AWS's request ids.`,
		Example: `  gatehouse grant --role-arn arn:aws:iam::111111111111:role/GatehouseConnector --external-id EXTERNAL_ID \
      --identity-center-region us-east-1 \
      --entitlement account:222222222222:ps-0123456789abcdef --principal-type sso_group --principal GROUP_ID`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			access, ref, err := accessOf(entitlement, principalType, principal)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			p, err := flags.provisioner(ctx)
			if err != nil {
				return err
			}
			defer p.Close()
			res, err := p.Grant(ctx, access)
			if err != nil {
				return err
			}
			writeResult(cmd.OutOrStdout(), res, ref)
			return blockedError(res)
		},
	}
	cmd.Flags().StringVar(&entitlement, "entitlement", "", "the entitlement to grant (e.g. account:222222222222:ps-0123456789abcdef)")
	cmd.Flags().StringVar(&principalType, "principal-type", "", "the principal's resource type: iam_user, sso_user or sso_group")
	cmd.Flags().StringVar(&principal, "principal", "", "the principal's id (an IAM user ARN, or an identity store user or group id)")
	flags.register(cmd.Flags())
	return cmd
}
