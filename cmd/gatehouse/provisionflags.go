package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/gatehouse/gatehouse/internal/awsprovision"
	"github.com/gatehouse/gatehouse/internal/connector"
)

// provisionFlags are the flags grant and revoke share: how to reach AWS (sync's
// connection flags), whether to only show the calls, how long to wait for AWS.
type provisionFlags struct {
	aws    awsFlags
	dryRun bool
	wait   time.Duration
}

func (f *provisionFlags) register(fl *pflag.FlagSet) {
	fl.BoolVar(&f.dryRun, "dry-run", false, "print the AWS calls that would change access, and change nothing (read calls are still made, to decide)")
	fl.DurationVar(&f.wait, "wait", awsprovision.DefaultAssignmentWait, "how long to wait for AWS to finish an Identity Center account assignment")
	f.aws.registerConnection(fl)
}

// provisioner connects to AWS for one grant or revoke. Its log (one JSON entry per
// change, the audit record) goes to stderr; the outcome for people goes to stdout.
func (f *provisionFlags) provisioner(ctx context.Context) (*awsprovision.Provisioner, error) {
	if f.wait <= 0 {
		return nil, fmt.Errorf("--wait must be positive, got %s", f.wait)
	}
	cfg, err := f.aws.connectionConfig()
	if err != nil {
		return nil, err
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(enc), zapcore.Lock(os.Stderr), zapcore.InfoLevel))
	return awsprovision.Connect(ctx, cfg, awsprovision.Options{
		DryRun: f.dryRun, AssignmentWait: f.wait, Logger: log, RequestedBy: requester(),
	})
}

// requester names the person running the command, for the log.
func requester() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}

// accessOf checks the --entitlement, --principal-type and --principal flags and returns
// the access they describe, and the grant it is.
func accessOf(entitlement, principalType, principal string) (awsprovision.Access, connector.GrantRef, error) {
	switch {
	case entitlement == "":
		return nil, connector.GrantRef{}, fmt.Errorf("--entitlement is required: the entitlement id, as gatehouse inspect -f FILE.c1z entitlements --wide prints it")
	case principalType == "":
		return nil, connector.GrantRef{}, fmt.Errorf("--principal-type is required: iam_user, sso_user or sso_group")
	case principal == "":
		return nil, connector.GrantRef{}, fmt.Errorf("--principal is required: the principal's id, as gatehouse inspect -f FILE.c1z resources --wide prints it")
	}
	ent, err := connector.ParseEntitlementID(entitlement)
	if err != nil {
		return nil, connector.GrantRef{}, err
	}
	access, err := connector.AccessFor(ent, principalType, principal)
	if err != nil {
		return nil, connector.GrantRef{}, err
	}
	return access, connector.GrantRef{Entitlement: ent, PrincipalType: principalType, PrincipalID: principal}, nil
}

// writeResult prints the outcome of a grant or revoke for people.
func writeResult(w io.Writer, res *awsprovision.Result, grant connector.GrantRef) {
	if res.DryRun {
		fmt.Fprintf(w, "dry run: %s: %s\n", res.Outcome, res.Description)
	} else {
		fmt.Fprintf(w, "%s: %s\n", res.Outcome, res.Description)
	}
	fmt.Fprintf(w, "grant id: %s\n", grant.ID())
	for _, pr := range res.Problems {
		fmt.Fprintf(w, "why: %s\n", pr)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	if res.DryRun {
		if len(res.Planned) == 0 {
			fmt.Fprintln(w, "No AWS call would change anything.")
		} else {
			if res.Outcome.Blocked() {
				fmt.Fprintln(w, "AWS calls the real run would attempt:")
			} else {
				fmt.Fprintln(w, "AWS calls that would be made:")
			}
			for i, c := range res.Planned {
				fmt.Fprintf(w, "  %d. %s in account %s as %s\n", i+1, c.Action(), c.Account, c.Role)
				for _, p := range c.Params {
					fmt.Fprintf(w, "       %s=%s\n", p.Name, p.Value)
				}
				if c.Note != "" {
					fmt.Fprintf(w, "       (%s)\n", c.Note)
				}
			}
		}
		fmt.Fprintln(w, "Nothing was changed.")
		return
	}
	var ids []string
	for _, c := range res.Evidence {
		ids = append(ids, c.Action()+" "+c.RequestID)
	}
	if len(ids) > 0 {
		fmt.Fprintf(w, "AWS request ids: %s\n", strings.Join(ids, ", "))
	}
}

// blockedError is the error of a dry run that found the change would not succeed, so
// that scripts see it in the exit status; the output above it says why.
func blockedError(res *awsprovision.Result) error {
	if !res.DryRun || !res.Outcome.Blocked() {
		return nil
	}
	return fmt.Errorf("dry run: the %s %s (see why above); nothing was changed", res.Action, res.Outcome)
}
