package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gatehouse/gatehouse/internal/datasource"
	"github.com/gatehouse/gatehouse/internal/doctor"
)

// s3DoctorFlags are the flags of gatehouse doctor --s3 besides the AWS ones.
type s3DoctorFlags struct {
	enabled        bool
	bucket, prefix string
}

func (f *s3DoctorFlags) register(fl *pflag.FlagSet) {
	fl.BoolVar(&f.enabled, "s3", false, "check an S3 data source's role (with --role-arn, --external-id, --bucket) instead of a connection")
	fl.StringVar(&f.bucket, "bucket", "", "with --s3, the bucket the access files are in")
	fl.StringVar(&f.prefix, "prefix", "", "with --s3, the prefix of the data source's files")
}

// runDoctorS3 runs the checks of an S3 data source from the credentials at hand (the
// identity Gatehouse runs as) and prints the checklist.
func runDoctorS3(cmd *cobra.Command, a *awsFlags, f *s3DoctorFlags, asJSON bool) error {
	switch {
	case a.roleARN == "":
		return fmt.Errorf("--s3 needs --role-arn: the ARN of the data source's role (gatehouse setup s3 generates it)")
	case !strings.HasPrefix(a.roleARN, "arn:aws") || !strings.Contains(a.roleARN, ":role/"):
		return fmt.Errorf("--role-arn must be a role ARN like arn:aws:iam::123456789012:role/GatehouseS3Reader, got %q", a.roleARN)
	case a.externalID == "":
		return fmt.Errorf("--s3 needs --external-id: the data source's External ID, as Gatehouse shows it")
	case f.bucket == "":
		return fmt.Errorf("--s3 needs --bucket: the bucket the access files are in")
	case a.orgs || a.identityCenter || a.syncSecrets || a.scimEndpoint != "":
		return fmt.Errorf("--s3 checks a data source's role only; leave out --orgs, --identity-center, --sync-secrets and --scim-endpoint (run gatehouse doctor without --s3 for those)")
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	base, err := datasource.BaseConfig(ctx, datasource.BaseOptions{Profile: a.profile, EndpointURL: a.endpointURL, MaxAttempts: 3})
	if err != nil {
		return err
	}
	rep := doctor.RunS3(ctx, base, datasource.Target{RoleARN: a.roleARN, ExternalID: a.externalID, Bucket: f.bucket, Prefix: f.prefix, Region: a.region})
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
}
