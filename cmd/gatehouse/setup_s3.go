package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/setup"
)

func newSetupS3Command() *cobra.Command {
	var (
		opts                      setup.S3Options
		format                    string
		region, endpoint, profile string
	)
	cmd := &cobra.Command{
		Use:   "s3",
		Short: "Generate the role an S3 data source reads access files through (trust with the External ID, read-only on one bucket and prefix)",
		Long: `Generate the IAM role through which Gatehouse reads application access files from one
bucket (an S3 data source): its trust policy, which trusts the principal Gatehouse runs as
only with the data source's External ID, and its least-privilege permissions policy:
s3:GetBucketLocation on the bucket, s3:ListBucket on the bucket under --prefix only
(condition s3:prefix), and s3:GetObject and s3:GetObjectAttributes on the keys under
--prefix. As JSON (the two documents as IAM takes them), Terraform or CloudFormation.

--external-id is the data source's External ID: Gatehouse generated it when the data source
was added (POST /api/v1/datasources answers it, GET /api/v1/datasources/{id} shows it) and it
never changes, so a role created from this output keeps working.

Then run "gatehouse doctor --s3" with the role ARN to check every permission.`,
		Example: `  gatehouse setup s3 --bucket acme-access-exports --prefix apps/ --external-id "$EXTERNAL_ID" \
    --trusted-principal arn:aws:iam::111111111111:role/gatehouse-runtime --format json > s3-role.json
  aws iam create-role --role-name GatehouseS3Reader --assume-role-policy-document "$(jq .trust_policy s3-role.json)"
  aws iam put-role-policy --role-name GatehouseS3Reader --policy-name GatehouseS3Read --policy-document "$(jq .permissions_policy s3-role.json)"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := setup.ParseFormat(format)
			if err != nil || f == setup.All {
				return fmt.Errorf("--format must be json, terraform or cloudformation, got %q", format)
			}
			if err := opts.ValidateS3(); err != nil {
				return err
			}
			stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
			if opts.TrustedPrincipal == "" {
				if err := awsfetch.CheckProfile(cmd.Context(), profile); err != nil {
					return err
				}
				ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
				defer cancel()
				caller, err := setup.CurrentCaller(ctx, awsfetch.Config{Profile: profile, Region: region, EndpointURL: endpoint, MaxAttempts: 3})
				if err != nil {
					if strings.HasPrefix(err.Error(), "no usable AWS credentials") {
						return fmt.Errorf("--trusted-principal is not set and there are no usable AWS credentials to find your own identity with; pass --trusted-principal with the ARN of the IAM user or role Gatehouse runs as")
					}
					return fmt.Errorf("--trusted-principal is not set and your own identity could not be found (%v); pass --trusted-principal with the ARN of the IAM user or role Gatehouse runs as", err)
				}
				opts.TrustedPrincipal = caller.PrincipalARN
				if opts.AccountID == "" {
					opts.AccountID = caller.AccountID
				}
				fmt.Fprintf(stderr, "Trusted principal %s: your own identity, from the credentials at hand; pass --trusted-principal if Gatehouse runs as another.\n", caller.PrincipalARN)
			}
			b, err := setup.GenerateS3(opts)
			if err != nil {
				return err
			}
			switch f {
			case setup.JSON:
				_, err = stdout.Write(b.JSONDocument())
			case setup.Terraform:
				_, err = stdout.Write(b.Terraform())
			case setup.CloudFormation:
				_, err = stdout.Write(b.CloudFormation())
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(stderr, "\nThe %s above goes to stdout. Once the role %s exists, check it with:\n  gatehouse doctor --s3 --role-arn %s --bucket %s%s --external-id %s\n",
				describeFormat(f), b.RoleName, b.RoleARN(), b.Bucket, prefixFlag(b.Prefix), b.ExternalID)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Bucket, "bucket", "", "the bucket the access files are in (required)")
	fl.StringVar(&opts.Prefix, "prefix", "", "limit the role to keys that start with this (for example apps/)")
	fl.StringVar(&opts.ExternalID, "external-id", "", "the data source's External ID, as Gatehouse shows it (required)")
	fl.StringVar(&opts.TrustedPrincipal, "trusted-principal", "", "ARN of the IAM user or role Gatehouse runs as (default: your own identity, from STS)")
	fl.StringVar(&opts.RoleName, "role-name", setup.DefaultS3RoleName, "name of the role")
	fl.StringVar(&opts.AccountID, "account-id", "", "account the role is created in, for the printed role ARN (default: the trusted principal's)")
	fl.StringVar(&format, "format", string(setup.JSON), "json, terraform or cloudformation")
	fl.StringVar(&region, "region", "", "region for finding your identity")
	fl.StringVar(&endpoint, "endpoint-url", "", "AWS endpoint for finding your identity (for example the URL gatehouse sim prints)")
	fl.StringVar(&profile, "profile", "", "AWS shared configuration profile for finding your identity (default: AWS_PROFILE)")
	return cmd
}

// prefixFlag is " --prefix P" for a prefix, or nothing.
func prefixFlag(p string) string {
	if p == "" {
		return ""
	}
	if strings.ContainsAny(p, " '\"$`\\;&|<>*?()") {
		return " --prefix '" + strings.ReplaceAll(p, "'", `'\''`) + "'"
	}
	return " --prefix " + p
}
