package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/awssim"
)

type simFlags struct {
	addr            string
	preset          string
	fixture         string
	seed            int64
	latency         time.Duration
	jitter          time.Duration
	faultRate       float64
	pageSize        int
	noQuotas        bool
	quotaScale      float64
	assignmentDelay time.Duration
	// assignmentJitter spreads assignment operations over [delay, delay+jitter).
	assignmentJitter time.Duration
	provisioning     bool
	readOnly         bool
}

func newSimCommand() *cobra.Command {
	f := simFlags{}
	def := awssim.DefaultOptions()
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Serve a simulated AWS organization (IAM, STS, Organizations, Identity Center, S3, SCIM)",
		Long: `Serve a simulated AWS on one local port until interrupted.

The unmodified AWS SDKs, the AWS CLI and boto3 work against it with only the endpoint URL
changed. On start it prints one JSON line on stdout with what a client needs: the endpoint,
the region, an access key of a principal that may assume the connector role, the role's ARN
and External ID, the Identity Center instance and identity store, the SCIM endpoint and
token, member_role_name (the role member accounts hold for the connector), admin (an access
key of the management account's administrator, for changing AWS state by hand), and admin_token: the bearer token that the simulator's own admin endpoints
(GET <endpoint>/_sim/counters, /_sim/info) require, since they hand out secrets to any
process on the host otherwise.

In the demo preset the connector role holds the policy "gatehouse setup aws --orgs
--identity-center --sync-secrets --provisioning" generates, so gatehouse grant and revoke
work against it (docs/simulator.md shows a session). --read-only gives it the policy
generated without --provisioning instead, to see what a read-only connector is refused;
--provisioning gives the other presets and fixtures the provisioning policy.`,
		Example: `  gatehouse sim --addr 127.0.0.1:4566 --preset demo
  gatehouse sim --addr 127.0.0.1:4566 --fixture org.yaml --latency 0
  aws --endpoint-url http://127.0.0.1:4566 iam list-users`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := buildSim(cmd, f)
			if err != nil {
				return err
			}
			if _, err := s.Start(f.addr); err != nil {
				return err
			}
			defer s.Close()
			line, _ := json.Marshal(s.Info())
			fmt.Fprintln(cmd.OutOrStdout(), string(line))
			stop := make(chan os.Signal, 1)
			signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
			<-stop
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:4566", "address to listen on (host:port; port 0 picks a free one)")
	fl.StringVar(&f.preset, "preset", "demo", "generated organization: "+fmt.Sprint(awssim.PresetNames()))
	fl.StringVar(&f.fixture, "fixture", "", "YAML fixture file declaring an exact organization (instead of --preset); see docs/fixtures.md")
	fl.Int64Var(&f.seed, "seed", 1, "seed of the generator, latency jitter and injected faults")
	fl.DurationVar(&f.latency, "latency", def.Latency, "latency added to every AWS call")
	fl.DurationVar(&f.jitter, "jitter", def.Jitter, "random extra latency, up to this much")
	fl.Float64Var(&f.faultRate, "fault-rate", 0, "fraction of calls (0 to 1) answered with a 5xx error or a dropped connection")
	fl.IntVar(&f.pageSize, "page-size", 0, "cap every page of every paginated call at this size (0: the services' own sizes)")
	fl.BoolVar(&f.noQuotas, "no-quotas", false, "do not throttle (by default each service is throttled at AWS's quota)")
	fl.Float64Var(&f.quotaScale, "quota-scale", 1, "multiply every quota by this factor (0.5 halves them)")
	fl.BoolVar(&f.provisioning, "provisioning", false, "the connector role holds the generated policy with --provisioning (the demo preset's default)")
	fl.BoolVar(&f.readOnly, "read-only", false, "the connector role holds the generated read-only policy (no --provisioning): grant and revoke are denied")
	fl.DurationVar(&f.assignmentDelay, "assignment-delay", def.AssignmentDelay, "how long Identity Center account assignment operations stay IN_PROGRESS")
	fl.DurationVar(&f.assignmentJitter, "assignment-jitter", def.AssignmentJitter, "a deterministic extra of up to this much per assignment operation, so that they do not all take exactly --assignment-delay")
	return cmd
}

// buildSim validates the flags and builds the simulator they describe.
func buildSim(cmd *cobra.Command, f simFlags) (*awssim.Sim, error) {
	if f.faultRate < 0 || f.faultRate > 1 {
		return nil, fmt.Errorf("--fault-rate must be between 0 and 1, got %v", f.faultRate)
	}
	if f.pageSize < 0 {
		return nil, fmt.Errorf("--page-size must be 0 (the services' own sizes) or positive, got %d", f.pageSize)
	}
	if f.latency < 0 || f.jitter < 0 || f.assignmentDelay < 0 || f.assignmentJitter < 0 {
		return nil, fmt.Errorf("--latency, --jitter, --assignment-delay and --assignment-jitter must not be negative")
	}
	if f.quotaScale <= 0 {
		return nil, fmt.Errorf("--quota-scale must be positive, got %v", f.quotaScale)
	}
	var (
		w   *awssim.World
		err error
	)
	if f.fixture != "" {
		if cmd.Flags().Changed("preset") {
			return nil, fmt.Errorf("use either --preset or --fixture, not both")
		}
		w, err = awssim.LoadFixture(f.fixture)
	} else {
		w, err = awssim.Preset(f.preset, f.seed)
	}
	if err != nil {
		return nil, err
	}
	switch {
	case f.provisioning && f.readOnly:
		return nil, fmt.Errorf("use either --provisioning or --read-only, not both")
	case f.provisioning:
		w.SetConnectorPolicy(awssim.GeneratedConnectorPolicy(true))
	case f.readOnly:
		w.SetConnectorPolicy(awssim.GeneratedConnectorPolicy(false))
	}
	opts := awssim.DefaultOptions()
	opts.Latency, opts.Jitter, opts.FaultRate, opts.Seed = f.latency, f.jitter, f.faultRate, f.seed
	opts.PageSize, opts.AssignmentDelay, opts.AssignmentJitter = f.pageSize, f.assignmentDelay, f.assignmentJitter
	if f.noQuotas {
		opts.Quotas = nil
	} else if f.quotaScale != 1 {
		opts.Quotas = opts.Quotas.Scaled(f.quotaScale)
	}
	return awssim.New(w, opts), nil
}
