package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/syncrun"
)

func newSyncCommand() *cobra.Command {
	var (
		aws  awsFlags
		file string
	)
	cmd := &cobra.Command{
		Use:   "sync --file PATH.c1z",
		Short: "Read who can reach what across AWS and write it to a .c1z file",
		Long: `Read IAM (and, with --orgs, every member account's IAM), IAM Identity Center and the
organization tree in bulk, and write the inventory as a baton .c1z file.

Credentials come from the standard AWS chain (environment, shared config and profiles, SSO,
instance and container roles); --role-arn with --external-id is assumed from them first.
An account whose role cannot be assumed, or that denies a call, does not fail the sync: it
is listed at the end with the reason.`,
		Example: `  gatehouse sync --file org.c1z --role-arn arn:aws:iam::111111111111:role/GatehouseConnector \
      --external-id EXTERNAL_ID --orgs --identity-center --identity-center-region us-east-1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return fmt.Errorf("--file is required: the .c1z file to write, e.g. --file org.c1z")
			}
			if !strings.HasSuffix(file, ".c1z") {
				return fmt.Errorf("--file %q should end in .c1z (baton tools recognise the extension)", file)
			}
			cfg, err := aws.config()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			stopProgress := showProgress(ctx, &cfg)
			res, err := syncrun.Run(ctx, cfg, file)
			stopProgress()
			if err != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("sync interrupted; %s was left as it was", file)
				}
				return err
			}
			res.WriteSummary(cmd.OutOrStdout())
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "the .c1z file to write (replaced only when the sync succeeds)")
	aws.register(cmd.Flags())
	return cmd
}

// showProgress draws a progress line on stderr while the fetch runs, when stderr is a
// terminal. It returns a function that clears the line.
func showProgress(ctx context.Context, cfg *awsfetch.Config) func() {
	if fi, err := os.Stderr.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return func() {}
	}
	live := &awsfetch.Live{}
	cfg.Live = live
	var (
		mu          sync.Mutex
		done, total int
	)
	cfg.Progress = func(d, t int) {
		mu.Lock()
		done, total = d, t
		mu.Unlock()
	}
	ctx, cancel := context.WithCancel(ctx)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				fmt.Fprint(os.Stderr, "\r\033[K")
				return
			case <-tick.C:
				mu.Lock()
				d, t := done, total
				mu.Unlock()
				fmt.Fprintf(os.Stderr, "\r\033[Kaccounts %d/%d · %d API calls · %d throttled", d, t, live.Calls(), live.Throttles())
			}
		}
	}()
	return func() { cancel(); <-finished }
}
