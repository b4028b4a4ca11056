package awsfetch

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse/gatehouse/internal/inventory"
)

// fetchCredentialReport gets the account's IAM credential report: it asks for one
// (GenerateCredentialReport) until IAM says COMPLETE, then downloads it. A report younger
// than four hours is reused by IAM, so asking is cheap. IAM answers in between with
// ReportInProgress, or ReportNotPresent / ReportExpired when the report it had is gone;
// both mean "generate again and wait". The wait is bounded by timeout.
//
// The report is returned with the time IAM generated it (GeneratedTime): it describes the
// account as of then, up to four hours before the sync.
func fetchCredentialReport(ctx context.Context, client *iam.Client, poll, timeout time.Duration) ([]*inventory.CredentialReportRow, time.Time, error) {
	deadline := time.Now().Add(timeout)
	wait := poll
	sleep := func() error {
		if time.Now().Add(wait).After(deadline) {
			return fmt.Errorf("the credential report was not ready after %s", timeout)
		}
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		// Reports of small accounts are ready in seconds; a large account's take longer,
		// and polling it less often leaves its IAM quota to the other calls.
		wait = min(wait*3/2, 10*time.Second)
		return nil
	}
	for {
		gen, err := client.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
		if err != nil {
			if errorCode(err) == "LimitExceeded" {
				// Too many reports being generated at once in this account; wait our turn.
				if err := sleep(); err != nil {
					return nil, time.Time{}, err
				}
				continue
			}
			return nil, time.Time{}, wrapf(err, "GenerateCredentialReport")
		}
		if gen.State != types.ReportStateTypeComplete {
			if err := sleep(); err != nil {
				return nil, time.Time{}, err
			}
			continue
		}
		rep, err := client.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
		if err != nil {
			switch errorCode(err) {
			case "ReportInProgress", "ReportNotPresent", "ReportExpired":
				if err := sleep(); err != nil {
					return nil, time.Time{}, err
				}
				continue
			}
			return nil, time.Time{}, wrapf(err, "GetCredentialReport")
		}
		if rep.ReportFormat != "" && rep.ReportFormat != types.ReportFormatTypeTextCsv {
			return nil, time.Time{}, fmt.Errorf("GetCredentialReport: unexpected format %q", rep.ReportFormat)
		}
		rows, err := parseCredentialReport(rep.Content)
		return rows, aws.ToTime(rep.GeneratedTime).UTC(), err
	}
}

// parseCredentialReport parses the report's CSV. Columns are found by their header
// names, so a column AWS adds later does not shift the others.
func parseCredentialReport(content []byte) ([]*inventory.CredentialReportRow, error) {
	r := csv.NewReader(bytes.NewReader(content))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return []*inventory.CredentialReportRow{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("credential report: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	for _, required := range []string{"user", "arn"} {
		if _, ok := col[required]; !ok {
			return nil, fmt.Errorf("credential report: no %q column in header %q", required, strings.Join(header, ","))
		}
	}
	rows := []*inventory.CredentialReportRow{}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("credential report: %w", err)
		}
		field := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		var ts func(name string) time.Time
		var perr error
		ts = func(name string) time.Time {
			t, err := reportTime(field(name))
			if err != nil && perr == nil {
				perr = fmt.Errorf("credential report line %d, %s: %w", line, name, err)
			}
			return t
		}
		row := &inventory.CredentialReportRow{
			User:                field("user"),
			ARN:                 field("arn"),
			CreatedAt:           ts("user_creation_time"),
			PasswordEnabled:     field("password_enabled") == "true",
			PasswordLastUsed:    ts("password_last_used"),
			PasswordLastChanged: ts("password_last_changed"),
			MFAActive:           field("mfa_active") == "true",
		}
		for k := 0; k < 2; k++ {
			p := fmt.Sprintf("access_key_%d_", k+1)
			row.AccessKeys[k] = inventory.CredentialReportKey{
				Active:          field(p+"active") == "true",
				LastRotated:     ts(p + "last_rotated"),
				LastUsed:        ts(p + "last_used_date"),
				LastUsedRegion:  reportText(field(p + "last_used_region")),
				LastUsedService: reportText(field(p + "last_used_service")),
			}
		}
		if perr != nil {
			return nil, perr
		}
		rows = append(rows, row)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].User < rows[j].User })
	return rows, nil
}

// reportTime parses a timestamp cell; the report writes N/A, no_information or
// not_supported where there is none.
func reportTime(s string) (time.Time, error) {
	switch s {
	case "", "N/A", "no_information", "not_supported":
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("not a timestamp: %q", s)
	}
	return t.UTC(), nil
}

// reportText returns a text cell, or "" for the report's placeholders.
func reportText(s string) string {
	switch s {
	case "N/A", "no_information", "not_supported":
		return ""
	}
	return s
}

// CredentialReportStats summarise the credential reports of the synced accounts. IAM
// reuses a report for up to four hours, so its data (password and key use, MFA) is as of
// its generation time, which the sync summary shows.
type CredentialReportStats struct {
	// Accounts is the number of synced accounts with a report; Oldest and Newest are the
	// extreme generation times, OldestAccount the account of the oldest.
	Accounts       int
	Oldest, Newest time.Time
	OldestAccount  string
	// Unavailable are the synced accounts whose report could not be obtained (their
	// account profile says why).
	Unavailable []string
	// NewerUsers is the number of users the reports did not cover (created after their
	// account's report), whose credentials were read with per-user calls.
	NewerUsers int
}

// add counts one synced account.
func (s *CredentialReportStats) add(a *inventory.Account) {
	if a.IAM == nil {
		return
	}
	if a.IAM.CredentialReport == nil {
		s.Unavailable = append(s.Unavailable, a.ID)
		return
	}
	s.NewerUsers += len(a.IAM.UserCredentials)
	at := a.IAM.CredentialReportGeneratedAt
	if at.IsZero() {
		return
	}
	s.Accounts++
	if s.Oldest.IsZero() || at.Before(s.Oldest) {
		s.Oldest, s.OldestAccount = at, a.ID
	}
	if at.After(s.Newest) {
		s.Newest = at
	}
}
