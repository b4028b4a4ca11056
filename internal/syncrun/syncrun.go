// Package syncrun runs a whole Gatehouse sync: it fetches an AWS organization in bulk
// (internal/awsfetch), writes the inventory to a .c1z file with the baton connector
// (internal/connector) and describes the result for people.
package syncrun

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/connector"
)

// Result is what a sync did. The snapshot itself is not kept: the write releases it as
// soon as baton has read it, to bound the memory of a sync (see connector.WithReleaseSnapshot);
// Fetch counts the accounts found and synced.
type Result struct {
	Path     string
	Fetch    *awsfetch.Stats
	C1Z      *connector.Summary
	Duration time.Duration
}

// Run fetches what cfg describes and writes it to path. The file at path is replaced only
// when the whole sync succeeded. opts are passed to connector.WriteC1Z.
func Run(ctx context.Context, cfg awsfetch.Config, path string, opts ...connector.WriteOption) (*Result, error) {
	return run(ctx, cfg, path, nil, opts...)
}

// run is Run with a function called between the fetch and the write.
func run(ctx context.Context, cfg awsfetch.Config, path string, fetched func(), opts ...connector.WriteOption) (*Result, error) {
	start := time.Now()
	snap, stats, err := awsfetch.Fetch(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if fetched != nil {
		fetched()
	}
	// From here on the connector holds the only reference to the snapshot, so that the
	// write can release it once baton has read it.
	c := connector.NewFromSnapshot(snap)
	opts = append([]connector.WriteOption{connector.WithReleaseSnapshot()}, opts...)
	sum, err := connector.WriteC1Z(ctx, c, path, opts...)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return &Result{Path: path, Fetch: stats, C1Z: sum, Duration: time.Since(start)}, nil
}

// WriteSummary prints the result for people: counts per resource type, grants, API calls
// per service, throttles, accounts skipped and why, duration.
func (r *Result) WriteSummary(w io.Writer) { r.writeSummary(w, false) }

// WriteVerboseSummary is WriteSummary with what AWS answered for each skipped account.
func (r *Result) WriteVerboseSummary(w io.Writer) { r.writeSummary(w, true) }

func (r *Result) writeSummary(w io.Writer, verbose bool) {
	fmt.Fprintf(w, "Synced %d of %d accounts in %s into %s\n", r.Fetch.Synced, r.Fetch.Accounts, r.Duration.Round(time.Millisecond), r.Path)

	fmt.Fprintln(w, "\nResources")
	for _, t := range sortedKeys(r.C1Z.Resources) {
		fmt.Fprintf(w, "  %-22s %7d\n", t, r.C1Z.Resources[t])
	}
	fmt.Fprintf(w, "  %-22s %7d\n", "entitlements", r.C1Z.Entitlements)
	fmt.Fprintf(w, "  %-22s %7d\n", "grants", r.C1Z.Grants)

	s := r.Fetch
	fmt.Fprintf(w, "\nAWS API calls %d (throttled %d, retried %d, failed %d) in %s\n", s.Calls, s.Throttles, s.Retries, s.Errors, s.Wall.Round(time.Millisecond))
	for _, svc := range s.Services {
		fmt.Fprintf(w, "  %-22s %7d", svc.Service, svc.Calls)
		if svc.Throttles > 0 {
			fmt.Fprintf(w, "  (throttled %d)", svc.Throttles)
		}
		fmt.Fprintln(w)
	}
	if floor, bucket := s.Floor(); floor > 0 {
		fmt.Fprintf(w, "  quota floor %s (%s)\n", floor.Round(time.Millisecond), bucket)
	}
	if a := s.Assignments; a.Strategy != "" {
		why := "the cheaper was used"
		if a.Note != "" {
			why = oneLine(a.Note)
		}
		fmt.Fprintf(w, "  Identity Center assignments listed with %s (%d calls per pair, %d per principal: %s)\n",
			a.Strategy, a.PairCalls, a.PrincipalCalls, why)
	}
	if us := s.UserStatus; us.Enabled+us.Disabled+us.Unknown > 0 {
		fmt.Fprintf(w, "\nIdentity Center users: %d enabled, %d disabled, %d status unknown", us.Enabled, us.Disabled, us.Unknown)
		if us.FromSCIM > 0 {
			fmt.Fprintf(w, " (%d from SCIM)", us.FromSCIM)
		}
		fmt.Fprintln(w)
		if us.Note != "" {
			fmt.Fprintf(w, "  status %s\n", oneLine(us.Note))
		}
	}

	writeCredentialReports(w, r.Fetch.CredentialReports)

	if len(r.C1Z.SkippedAccounts) > 0 {
		fmt.Fprintf(w, "\nAccounts not synced (%d)\n", len(r.C1Z.SkippedAccounts))
		for _, a := range r.C1Z.SkippedAccounts {
			fmt.Fprintf(w, "  %s %-16s %s\n", a.ID, a.Name, oneLine(a.Reason))
			if verbose && a.Detail != "" {
				fmt.Fprintf(w, "      AWS: %s\n", oneLine(a.Detail))
			}
		}
		active := 0
		for _, a := range r.Fetch.Skipped {
			if a.Active() {
				active++
			}
		}
		if active > 0 {
			// Only a fetch that allowed it gets here (awsfetch.Config.AllowPartial).
			fmt.Fprintf(w, "  This file is partial: the IAM of %d ACTIVE account(s) above is missing from it.\n", active)
		}
	}
}

// writeCredentialReports says as of when the IAM credential data is: IAM reuses a
// credential report for up to four hours, and users created since were read one by one.
func writeCredentialReports(w io.Writer, c awsfetch.CredentialReportStats) {
	if c.Accounts == 0 && len(c.Unavailable) == 0 {
		return
	}
	const layout = "2006-01-02 15:04:05 MST"
	fmt.Fprintln(w)
	switch {
	case c.Accounts == 1:
		fmt.Fprintf(w, "IAM credential report generated %s", c.Oldest.UTC().Format(layout))
	case c.Accounts > 1 && c.Oldest.Equal(c.Newest):
		fmt.Fprintf(w, "IAM credential reports of %d accounts generated %s", c.Accounts, c.Oldest.UTC().Format(layout))
	case c.Accounts > 1:
		fmt.Fprintf(w, "IAM credential reports of %d accounts generated %s (account %s) to %s", c.Accounts,
			c.Oldest.UTC().Format(layout), c.OldestAccount, c.Newest.UTC().Format(layout))
	}
	if c.Accounts > 0 {
		fmt.Fprintf(w, "; password and access key use is as of then")
		switch c.NewerUsers {
		case 0:
		case 1:
			fmt.Fprintf(w, "; 1 user created since was read with per-user calls")
		default:
			fmt.Fprintf(w, "; %d users created since were read with per-user calls", c.NewerUsers)
		}
		fmt.Fprintln(w)
	}
	if n := len(c.Unavailable); n > 0 {
		fmt.Fprintf(w, "No IAM credential report in %d account(s): %s (each account's credential_report_error says why)\n", n, strings.Join(c.Unavailable, ", "))
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
