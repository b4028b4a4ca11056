package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/setup"
)

func newSetupCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Generate what connecting Gatehouse needs (roles, policies, Terraform, CloudFormation)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return fmt.Errorf("choose what to set up: gatehouse setup aws (connect an AWS organization) or gatehouse setup s3 (a bucket of access files; see gatehouse setup s3 --help)")
		},
	}
	cmd.AddCommand(newSetupAWSCommand(), newSetupS3Command())
	return cmd
}

func newSetupAWSCommand() *cobra.Command {
	var (
		opts       setup.Options
		format     string
		out        string
		stateDir   string
		region     string
		endpoint   string
		profile    string
		externalID string
	)
	cmd := &cobra.Command{
		Use:   "aws",
		Short: "Generate the connector role, its least-privilege policy and the member-account role for the chosen features",
		Long: `Generate everything an AWS administrator needs to connect Gatehouse, for exactly the
features chosen: the connector role's trust policy (with an External ID), its
least-privilege permissions policy (reads for the sync; writes only with --provisioning),
the read-only member-account role GatehouseMember and its policy (with --orgs), Terraform and
CloudFormation that create them (a service-managed StackSet creates the member role in
every account of the organization), and the gatehouse sync flags to use afterwards.

The External ID is generated once and kept in the state directory (--state-dir), so
running setup again gives the same trust policy and never silently invalidates a role
created from the first run. The role trusts --trusted-principal, by default your own
identity (from STS) when AWS credentials are at hand.

Then run "gatehouse doctor" with the printed flags to check the result step by step.`,
		Example: `  gatehouse setup aws --orgs --identity-center --out ./gatehouse-aws
  gatehouse setup aws --trusted-principal arn:aws:iam::111111111111:role/gatehouse-runtime --format terraform > gatehouse.tf`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := setup.ParseFormat(format)
			if err != nil {
				return err
			}
			if f == setup.All && out == "" {
				return fmt.Errorf("--format all writes several files; add --out DIR")
			}
			opts.ExternalID = externalID
			opts.Region = region
			if !opts.Features.Orgs && !cmd.Flags().Changed("member-role-name") {
				// The default names the role created with --orgs; without it there is none.
				opts.MemberRoleName = ""
			}
			opts.Profile, opts.EndpointURL = profile, endpoint
			if err := opts.Validate(); err != nil {
				return err
			}
			// The profile finds the caller's identity and is carried by the printed
			// commands: one that does not exist is named before anything is generated.
			if err := awsfetch.CheckProfile(cmd.Context(), profile); err != nil {
				return err
			}
			stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
			// Without --out, stdout carries the generated document alone, so that it can
			// be redirected to a file; what people read goes to stderr.
			info := stdout
			if out == "" {
				info = stderr
			}

			principalNote := ""
			if opts.TrustedPrincipal == "" {
				ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
				defer cancel()
				caller, err := setup.CurrentCaller(ctx, awsfetch.Config{Profile: profile, Region: region, EndpointURL: endpoint, MaxAttempts: 3})
				if err != nil {
					if strings.HasPrefix(err.Error(), "no usable AWS credentials") {
						return fmt.Errorf("--trusted-principal is not set and there are no usable AWS credentials to find your own identity with; pass --trusted-principal with the ARN of the IAM user or role Gatehouse will run as (or set AWS credentials, e.g. AWS_PROFILE)")
					}
					return fmt.Errorf("--trusted-principal is not set and your own identity could not be found (%v); pass --trusted-principal with the ARN of the IAM user or role Gatehouse will run as", err)
				}
				opts.TrustedPrincipal = caller.PrincipalARN
				if opts.AccountID == "" {
					opts.AccountID = caller.AccountID
				}
				principalNote = "your own identity, from the credentials at hand; pass --trusted-principal if Gatehouse will run as another"
				if caller.Note != "" {
					principalNote += "; " + caller.Note
				}
			} else if _, note, err := setup.NormalizePrincipal(opts.TrustedPrincipal); err != nil {
				return err
			} else {
				principalNote = note
			}

			orgNote := ""
			if opts.Features.Orgs && opts.OrgID == "" {
				// setup works offline with --org-id; without it, the credentials at hand
				// may say which organization they belong to.
				ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
				defer cancel()
				orgID, err := setup.CurrentOrganization(ctx, awsfetch.Config{Region: region, EndpointURL: endpoint, MaxAttempts: 3})
				if err != nil {
					return fmt.Errorf("%s (reading it failed: %v)", setup.MissingOrgID, err)
				}
				opts.OrgID = orgID
				orgNote = "read with organizations:DescribeOrganization; pass --org-id to set it"
			}

			id, err := setup.ResolveExternalID(stateDir, externalID)
			if err != nil {
				return err
			}
			opts.ExternalID = id.Value
			bundle, err := setup.Generate(opts)
			if err != nil {
				return err
			}
			if bundle.Warning != "" {
				fmt.Fprintln(stderr, bundle.Warning)
			}

			if principalNote != "" {
				fmt.Fprintf(info, "Trusted principal %s: %s.\n", bundle.TrustedPrincipal, principalNote)
			}
			if orgNote != "" {
				fmt.Fprintf(info, "Organization %s: %s.\n", bundle.OrgID, orgNote)
			}
			writeExternalIDOrigin(info, stderr, id)

			files := bundle.Files(f)
			if out != "" {
				if err := setup.WriteFiles(out, files); err != nil {
					return err
				}
				var names []string
				for _, file := range files {
					names = append(names, file.Name)
				}
				fmt.Fprintf(stdout, "Wrote %s to %s.\n\n", strings.Join(names, ", "), out)
				fmt.Fprint(stdout, bundle.NextSteps(f, true))
				return nil
			}
			switch f {
			case setup.JSON:
				_, err = stdout.Write(bundle.JSONDocument())
			case setup.Terraform:
				_, err = stdout.Write(bundle.Terraform())
			case setup.CloudFormation:
				_, err = stdout.Write(bundle.CloudFormation())
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(stderr, "\nThe %s above goes to stdout; run with --out DIR to write every file instead.\n\n", describeFormat(f))
			fmt.Fprint(stderr, bundle.NextSteps(f, false))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.Features.Orgs, "orgs", false, "read every account of the organization (the role goes in the management account or a delegated administrator)")
	fl.BoolVar(&opts.Features.IdentityCenter, "identity-center", false, "read IAM Identity Center")
	fl.BoolVar(&opts.Features.SyncSecrets, "sync-secrets", false, "read access key metadata (never secret values)")
	fl.BoolVar(&opts.Features.SCIM, "scim", false, "read Identity Center user status from its SCIM endpoint (needs no IAM permission, only the SCIM token)")
	fl.BoolVar(&opts.Features.Provisioning, "provisioning", false, "grant and revoke access: adds write actions to the policies")
	fl.StringVar(&opts.MemberRoleName, "member-role-name", setup.DefaultMemberRoleName, "with --orgs, the read-only role created in every member account for Gatehouse; "+setup.OrganizationAccessRole+" opts in to that existing administrator role instead (not least privilege: warns, creates nothing)")
	fl.StringVar(&opts.OrgID, "org-id", "", "with --orgs, the organization's id (o-...): the connector role may assume the member role only in its accounts (default: read with organizations:DescribeOrganization from the credentials at hand)")
	fl.StringVar(&opts.RoleName, "role-name", setup.DefaultRoleName, "name of the connector role")
	fl.StringVar(&opts.TrustedPrincipal, "trusted-principal", "", "ARN of the IAM user or role Gatehouse runs as, which may assume the connector role (default: your own identity, from STS)")
	fl.StringVar(&opts.AccountID, "account-id", "", "account the connector role is created in (default: the account of your credentials, else the trusted principal's)")
	fl.StringVar(&externalID, "external-id", "", "External ID the trust policy requires (default: the one kept in --state-dir, else a new random one)")
	fl.StringVar(&stateDir, "state-dir", setup.DefaultStateDir, "directory where the External ID is kept between runs")
	fl.StringVar(&format, "format", string(setup.JSON), "json, terraform, cloudformation, or all (all needs --out)")
	fl.StringVar(&out, "out", "", "write the files into this directory instead of printing to stdout")
	fl.StringVar(&region, "region", "", "region for gatehouse sync and for the StackSet's instances (default "+setup.DefaultRegion+")")
	fl.StringVar(&opts.IdentityCenterRegion, "identity-center-region", "", "region of the Identity Center instance, passed to gatehouse sync")
	fl.StringVar(&endpoint, "endpoint-url", "", "AWS endpoint for finding your identity (for example the URL gatehouse sim prints); the printed commands carry it")
	fl.StringVar(&profile, "profile", "", "AWS shared configuration profile for finding your identity, as the AWS CLI's --profile (default: AWS_PROFILE); the printed commands carry it")
	return cmd
}

// writeExternalIDOrigin says where the External ID came from and where it is kept; a
// replaced External ID is a warning on stderr whatever the output.
func writeExternalIDOrigin(info, stderr io.Writer, id setup.ExternalID) {
	switch id.Origin {
	case "new":
		fmt.Fprintf(info, "External ID: generated a new one, kept in %s; setup reuses it when run again with this --state-dir.\n", id.Path)
	case "reused":
		fmt.Fprintf(info, "External ID: reused the one kept in %s, so a role created from an earlier run stays valid.\n", id.Path)
	default:
		fmt.Fprintf(info, "External ID: as given with --external-id, kept in %s.\n", id.Path)
	}
	if id.Replaced != "" {
		fmt.Fprintf(stderr, "warning: --external-id replaces the External ID %s that %s kept from an earlier run; a role created with it keeps requiring it until its trust policy is updated.\n", id.Replaced, id.Path)
	}
}

func describeFormat(f setup.Format) string {
	switch f {
	case setup.Terraform:
		return "Terraform configuration"
	case setup.CloudFormation:
		return "CloudFormation template"
	}
	return "JSON document"
}
