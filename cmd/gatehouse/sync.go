package main

import (
	"context"
	"errors"
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

// exitPartial is the exit status of a partial sync that was not allowed: an ACTIVE
// account could not be read and the previous file was kept.
const exitPartial = 3

func newSyncCommand() *cobra.Command {
	var (
		aws          awsFlags
		file         string
		allowPartial bool
		verbose      bool
	)
	cmd := &cobra.Command{
		Use:   "sync --file PATH.c1z",
		Short: "Read who can reach what across AWS and write it to a .c1z file",
		Long: `Read IAM (and, with --orgs, every member account's IAM), IAM Identity Center and the
organization tree in bulk, and write the inventory as a baton .c1z file.

Credentials come from the standard AWS chain (environment, shared config and profiles, SSO,
instance and container roles); --role-arn with --external-id is assumed from them first.

An ACTIVE account whose member role cannot be assumed, or that denies a read, makes the
sync partial: without its IAM the file would show its access as removed. A partial sync
keeps the previous file exactly as it was, prints each such account with the likely
causes in the order to check them, and exits with status 3; --allow-partial writes the
file anyway. Suspended and closed accounts are skipped without making the sync partial.
Any other failure (AWS errors, throttling or network errors that outlast the retries)
fails the sync, naming the account and the call.

Exit status: 0 the file was written; 3 partial sync, the file was left as it was;
1 any other error, the file was left as it was.`,
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
			cfg.AllowPartial = allowPartial
			cfg.Logger = sdkWarningLogger()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			stopProgress := showProgress(ctx, &cfg)
			res, err := syncrun.Run(ctx, cfg, file)
			stopProgress()
			if err != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("sync interrupted; %s", leftAsItWas(file))
				}
				var pe *awsfetch.PartialError
				if errors.As(err, &pe) {
					return &exitError{code: exitPartial, err: errors.New(partialMessage(pe, file, verbose))}
				}
				return err
			}
			if verbose {
				res.WriteVerboseSummary(cmd.OutOrStdout())
			} else {
				res.WriteSummary(cmd.OutOrStdout())
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "the .c1z file to write (replaced only when the sync succeeds)")
	cmd.Flags().BoolVar(&allowPartial, "allow-partial", false, "write the file even when ACTIVE accounts could not be read (their IAM is missing from it)")
	cmd.Flags().BoolVar(&verbose, "verbose", false, "also print what AWS answered for each account that could not be read")
	aws.register(cmd.Flags())
	return cmd
}

// leftAsItWas says what became of the file a failed sync did not replace: a previous
// file is kept as it was, and none is created.
func leftAsItWas(file string) string {
	if _, err := os.Stat(file); err != nil {
		return file + " was not written"
	}
	return file + " was left as it was"
}

// partialMessage says which accounts made the sync partial and what to check in each,
// most likely cause first; verbose adds what AWS answered.
func partialMessage(pe *awsfetch.PartialError, file string, verbose bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "partial sync: %d of %d accounts could not be read; %s\n", len(pe.Skipped), pe.Accounts, leftAsItWas(file))
	for _, a := range pe.Skipped {
		fmt.Fprintf(&b, "  %s %-16s %s\n", a.ID, a.Name, a.Reason)
		if verbose && a.Detail != "" {
			fmt.Fprintf(&b, "      AWS: %s\n", strings.Join(strings.Fields(a.Detail), " "))
		}
	}
	b.WriteString("Fix each account and sync again, or pass --allow-partial to write the file without their IAM.")
	if !verbose {
		b.WriteString(" --verbose shows what AWS answered.")
	}
	return b.String()
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
