package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/connector"
	"github.com/gatehouse/gatehouse/internal/syncrun"
)

func newBenchCommand() *cobra.Command {
	var (
		preset        string
		seed          int64
		file          string
		concurrency   int
		asJSON        bool
		check         bool
		batonDefaults bool
		syncSecrets   bool
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure a whole sync of a simulated organization: API calls, wall time against the quota floor, peak memory",
		Long: `Start "gatehouse sim" with a preset organization as a separate process (AWS's default quotas
and latency), run a whole sync against it in this process (fetch and .c1z), and report:

  - API calls per service, as the fetch and the simulator counted them (they must agree);
  - the quota floor: for each quota bucket and scope, its calls divided by the simulator's
    quota; the largest is the least time any client could take;
  - the wall time of the sync and its ratio to the floor;
  - peak memory: the process's resident high-water mark (VmHWM; the simulator is not
    counted), for the fetch and the write separately, and the Go heap;
  - whether the targets hold: at most 10,000 API calls, wall time at most 1.25 x the
    floor, peak memory under 500 MB.

With --sync-secrets the sync also reads access key metadata, and a fourth target holds the
calls made per IAM user (ListAccessKeys, GetAccessKeyLastUsed, ListMFADevices, GetUser,
GetLoginProfile) to at most 1.1 per IAM user. The secrets preset (5,000 IAM users in 10
accounts, 2,600 of them with an access key) is the organization for it.

The large preset takes about two and a half minutes, the floor being Identity Center's quota.`,
		Example: `  gatehouse bench
  gatehouse bench --preset secrets --sync-secrets
  gatehouse bench --preset demo --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if concurrency < 0 {
				return fmt.Errorf("--concurrency must be at least 1, got %d", concurrency)
			}
			if file != "" && !strings.HasSuffix(file, ".c1z") {
				return fmt.Errorf("--file %q should end in .c1z", file)
			}
			if !slices.Contains(awssim.PresetNames(), preset) {
				return fmt.Errorf("--preset must be one of %v, got %q", awssim.PresetNames(), preset)
			}
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find the gatehouse binary to start the simulator: %w", err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			var stopProgress func()
			bc := syncrun.BenchConfig{
				SimCommand:  []string{exe, "sim"},
				Preset:      preset,
				Seed:        seed,
				File:        file,
				Concurrency: concurrency,
				SyncSecrets: syncSecrets,
				SimStderr:   cmd.ErrOrStderr(),
				Configure:   func(c *awsfetch.Config) { stopProgress = showProgress(ctx, c) },
				Fetched: func() {
					if stopProgress != nil {
						stopProgress()
					}
				},
			}
			if batonDefaults {
				bc.WriteOptions = append(bc.WriteOptions, connector.WithBatonMemoryDefaults())
			}
			r, err := syncrun.Bench(ctx, bc)
			if stopProgress != nil {
				stopProgress()
			}
			if err != nil {
				if ctx.Err() != nil {
					return errors.New("bench interrupted")
				}
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(r); err != nil {
					return err
				}
			} else {
				r.WriteText(cmd.OutOrStdout())
			}
			if check && !r.OK {
				return errors.New("bench: a target was missed or the call counts disagree")
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&preset, "preset", "large", "organization the simulator generates: "+fmt.Sprint(awssim.PresetNames()))
	fl.Int64Var(&seed, "seed", 1, "seed of the simulator's generator, latency jitter and faults")
	fl.StringVarP(&file, "file", "f", "", "keep the .c1z at this path (by default it is written to a temporary directory and removed)")
	fl.IntVar(&concurrency, "concurrency", 0, fmt.Sprintf("accounts read in parallel (default %d)", awsfetch.DefaultConcurrency))
	fl.BoolVar(&asJSON, "json", false, "print the report as JSON")
	fl.BoolVar(&check, "check", false, "exit with status 1 when a target is missed or the call counts disagree")
	fl.BoolVar(&syncSecrets, "sync-secrets", false, "also read access key metadata, as gatehouse sync --sync-secrets, and check the per-user IAM calls")
	fl.BoolVar(&batonDefaults, "baton-memory-defaults", false, "write the .c1z with baton's default store settings and Go's default GC pacing, to compare")
	return cmd
}
