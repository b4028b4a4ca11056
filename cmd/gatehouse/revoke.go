package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/awsprovision"
	"github.com/gatehouse/gatehouse/internal/connector"
)

func newRevokeCommand() *cobra.Command {
	var (
		flags                                          provisionFlags
		grantID, entitlement, principalType, principal string
	)
	cmd := &cobra.Command{
		Use:   "revoke --grant GRANT_ID | --entitlement ENTITLEMENT_ID --principal-type TYPE --principal PRINCIPAL_ID [--dry-run]",
		Short: "Revoke access in AWS: the reverse of grant",
		Long: `Revoke a grant, named by its id as gatehouse inspect -f FILE.c1z grants --wide prints it
(<entitlement id>:<principal type>:<principal id>), or by its entitlement and principal as
for grant.

Revoking what is already gone succeeds and says so. Identity Center sessions that were
already started keep working until they expire (up to the permission set's session
duration); the output says so. With --dry-run it prints the AWS calls it would make,
changes nothing, and checks them as grant --dry-run does.`,
		Example: `  gatehouse revoke --role-arn arn:aws:iam::111111111111:role/GatehouseConnector --external-id EXTERNAL_ID \
      --grant 'iam_group:arn:aws:iam::222222222222:group/deployers:member:iam_user:arn:aws:iam::222222222222:user/alice'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var (
				access awsprovision.Access
				ref    connector.GrantRef
				err    error
			)
			switch {
			case grantID != "" && (entitlement != "" || principalType != "" || principal != ""):
				return fmt.Errorf("name the grant either with --grant or with --entitlement, --principal-type and --principal, not both")
			case grantID != "":
				if ref, err = connector.ParseGrantID(grantID); err != nil {
					return err
				}
				access, err = connector.AccessFor(ref.Entitlement, ref.PrincipalType, ref.PrincipalID)
			case entitlement == "" && principalType == "" && principal == "":
				return fmt.Errorf("say what to revoke: --grant GRANT_ID, or --entitlement, --principal-type and --principal")
			default:
				access, ref, err = accessOf(entitlement, principalType, principal)
			}
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
			res, err := p.Revoke(ctx, access)
			if err != nil {
				return err
			}
			writeResult(cmd.OutOrStdout(), res, ref)
			return blockedError(res)
		},
	}
	cmd.Flags().StringVar(&grantID, "grant", "", "the grant to revoke, as gatehouse inspect -f FILE.c1z grants --wide prints its id")
	cmd.Flags().StringVar(&entitlement, "entitlement", "", "the entitlement to take away (instead of --grant)")
	cmd.Flags().StringVar(&principalType, "principal-type", "", "the principal's resource type: iam_user, sso_user or sso_group")
	cmd.Flags().StringVar(&principal, "principal", "", "the principal's id")
	flags.register(cmd.Flags())
	return cmd
}
