package main

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/doctor"
)

func newDoctorCommand() *cobra.Command {
	var (
		aws          awsFlags
		provisioning bool
		asJSON       bool
		s3           s3DoctorFlags
	)
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check a live AWS setup step by step: credentials, role, External ID, permissions, member accounts, SCIM",
		Long: `Check, with the same flags as gatehouse sync, that everything the chosen features need
works, and print a checklist: credentials found (and where), connector role assumable,
External ID required by its trust policy, management account or delegated administrator
(--orgs), Identity Center instance found (--identity-center), every permission the
features need (read actions probed with harmless read calls; write actions, with
--provisioning, checked with the IAM policy simulator or by reading the role's policies,
never called), every member account's role assumable, and the SCIM endpoint and token.

With --s3, check an S3 data source's role instead (--role-arn, --external-id, --bucket,
optional --prefix and --region): Gatehouse's own identity, sts:AssumeRole with the External
ID, s3:GetBucketLocation, s3:ListBucket under the prefix, and s3:GetObjectAttributes and
s3:GetObject on the first file there, as the data source's "Test connection" does.

Every failure comes with a fix. The exit code is 0 only when nothing failed (warnings
allowed); --json prints the checklist as JSON for programs.`,
		Example: `  gatehouse doctor --role-arn arn:aws:iam::111111111111:role/GatehouseConnector \
      --external-id EXTERNAL_ID --orgs --identity-center --provisioning
  gatehouse doctor --s3 --role-arn arn:aws:iam::111111111111:role/GatehouseS3Reader \
      --external-id EXTERNAL_ID --bucket acme-access-exports --prefix apps/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if s3.enabled {
				return runDoctorS3(cmd, &aws, &s3, asJSON)
			}
			cfg, err := aws.config()
			if err != nil {
				return err
			}
			cfg.Logger = sdkWarningLogger()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			rep := doctor.Run(ctx, doctor.Options{Config: cfg, Provisioning: provisioning})
			if ctx.Err() != nil {
				return fmt.Errorf("doctor interrupted")
			}
			if asJSON {
				if err := rep.WriteJSON(cmd.OutOrStdout()); err != nil {
					return err
				}
			} else {
				rep.WriteText(cmd.OutOrStdout())
			}
			if failed := rep.Failed(); len(failed) > 0 {
				return fmt.Errorf("doctor: %s failed", strings.Join(failed, ", "))
			}
			return nil
		},
	}
	aws.register(cmd.Flags())
	cmd.Flags().BoolVar(&provisioning, "provisioning", false, "also check the write permissions of gatehouse grant and revoke (without calling them)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the checklist as JSON")
	s3.register(cmd.Flags())
	return cmd
}
