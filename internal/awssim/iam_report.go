package awssim

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"strconv"
	"time"
)

// The IAM credential report: GenerateCredentialReport starts an asynchronous generation
// that completes Options.CredentialReportDelay later; GetCredentialReport returns the CSV.
// As in AWS a report is reused for 4 hours and expires after that.

func init() {
	register("iam", map[string]opHandler{
		"GenerateCredentialReport": iamGenerateCredentialReport,
		"GetCredentialReport":      iamGetCredentialReport,
	})
}

// credentialReportTTL is how long a report is reused and downloadable.
const credentialReportTTL = 4 * time.Hour

// credentialReportColumns are the report's columns, in AWS's order.
var credentialReportColumns = []string{
	"user", "arn", "user_creation_time", "password_enabled", "password_last_used",
	"password_last_changed", "password_next_rotation", "mfa_active",
	"access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
	"access_key_1_last_used_region", "access_key_1_last_used_service",
	"access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
	"access_key_2_last_used_region", "access_key_2_last_used_service",
	"cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
}

// advanceCredentialReports completes the reports whose generation time has come. The
// handlers call it before reading a report; World.advance may call it too, which makes
// the snapshot exact to the moment of completion.
func (w *World) advanceCredentialReports() {
	for _, a := range w.Accounts {
		r := &a.CredentialReport
		if !r.RequestedAt.IsZero() && r.Content == nil && !w.Now().Before(r.ReadyAt) {
			r.Content = credentialReportCSV(a, r.ReadyAt)
		}
	}
}

type generateCredentialReportResult struct {
	State       string `xml:"State"`
	Description string `xml:"Description,omitempty"`
}

func iamGenerateCredentialReport(q *request) (any, *apiError) {
	q.w.advanceCredentialReports()
	r := &q.account().CredentialReport
	now := q.w.Now()
	switch {
	case r.Content == nil && !r.RequestedAt.IsZero():
		return generateCredentialReportResult{State: "INPROGRESS", Description: "Report generation in progress"}, nil
	case r.Content != nil && now.Sub(r.ReadyAt) < credentialReportTTL:
		return generateCredentialReportResult{State: "COMPLETE"}, nil
	}
	*r = CredentialReport{RequestedAt: now, ReadyAt: now.Add(q.sim.opts.CredentialReportDelay)}
	return generateCredentialReportResult{State: "STARTED", Description: "No report exists. Starting a new report generation task"}, nil
}

// getCredentialReportResult carries Content as a string: a blob is base64 in the XML
// (the SDKs decode it) and encoding/xml would write []byte raw.
type getCredentialReportResult struct {
	Content       string    `xml:"Content"`
	ReportFormat  string    `xml:"ReportFormat"`
	GeneratedTime time.Time `xml:"GeneratedTime"`
}

func iamGetCredentialReport(q *request) (any, *apiError) {
	q.w.advanceCredentialReports()
	r := &q.account().CredentialReport
	switch {
	case r.Content == nil && r.RequestedAt.IsZero():
		return nil, &apiError{Status: 410, Code: "ReportNotPresent", Message: "Credential report does not exist. Use GenerateCredentialReport to generate a report."}
	case r.Content == nil:
		return nil, &apiError{Status: 404, Code: "ReportInProgress", Message: "Credential report generation is in progress. Try again later."}
	case q.w.Now().Sub(r.ReadyAt) >= credentialReportTTL:
		return nil, &apiError{Status: 410, Code: "ReportExpired", Message: "The most recent credential report has expired. Use GenerateCredentialReport to generate a new one."}
	}
	return getCredentialReportResult{Content: base64.StdEncoding.EncodeToString(r.Content), ReportFormat: "text/csv", GeneratedTime: r.ReadyAt}, nil
}

// credentialReportCSV renders the report as of asOf: the root user first, then each IAM
// user by name. Values that do not apply are N/A, a password never used is
// no_information, and the root user's password columns are not_supported, as in AWS.
// The root user's password use, access keys and MFA come from Account.Root and its MFA
// device; the simulator models no signing certificates.
//
// A report generated in the past (a fixture's credential_report_generated) leaves out
// what came after it, as AWS's report of that time would: users, keys and MFA devices
// created later, and uses after it (a key or password used since shows as never used,
// the simulator keeping only the latest use).
func credentialReportCSV(a *Account, asOf time.Time) []byte {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write(credentialReportColumns)
	rootUsed := "no_information"
	if r := a.Root.PasswordLastUsed; !r.IsZero() && !r.After(asOf) {
		rootUsed = reportTime(r)
	}
	rootMFA := false
	if d := a.RootMFA(); d != nil && !d.EnableDate.After(asOf) {
		rootMFA = true
	}
	root := []string{"<root_account>", "arn:aws:iam::" + a.ID + ":root", reportTime(a.JoinedAt),
		"not_supported", rootUsed, "not_supported", "not_supported", strconv.FormatBool(rootMFA)}
	var rootKeys []*AccessKey
	for _, k := range a.Root.AccessKeys {
		if !k.CreateDate.After(asOf) {
			rootKeys = append(rootKeys, k)
		}
	}
	for i := 0; i < 2; i++ {
		var k *AccessKey
		if i < len(rootKeys) {
			k = rootKeys[i]
		}
		root = append(root, reportKey(k, asOf)...)
	}
	root = append(root, "false", "N/A", "false", "N/A")
	_ = cw.Write(root)
	for _, name := range sortedKeys(a.Users) {
		u := a.Users[name]
		if u.CreateDate.After(asOf) {
			continue
		}
		row := []string{u.Name, u.ARN, reportTime(u.CreateDate)}
		if u.LoginProfile == nil || u.LoginProfile.CreateDate.After(asOf) {
			row = append(row, "false", "N/A", "N/A", "N/A")
		} else {
			lastUsed := "no_information"
			if !u.PasswordLastUsed.IsZero() && !u.PasswordLastUsed.After(asOf) {
				lastUsed = reportTime(u.PasswordLastUsed)
			}
			row = append(row, "true", lastUsed, reportTime(u.LoginProfile.CreateDate), "N/A")
		}
		mfa := false
		for _, d := range a.MFAOf(u.Name) {
			mfa = mfa || !d.EnableDate.After(asOf)
		}
		row = append(row, strconv.FormatBool(mfa))
		var keys []*AccessKey
		for _, k := range u.AccessKeys {
			if !k.CreateDate.After(asOf) {
				keys = append(keys, k)
			}
		}
		for i := 0; i < 2; i++ {
			var k *AccessKey
			if i < len(keys) {
				k = keys[i]
			}
			row = append(row, reportKey(k, asOf)...)
		}
		row = append(row, "false", "N/A", "false", "N/A")
		_ = cw.Write(row)
	}
	cw.Flush()
	return buf.Bytes()
}

// reportKey is the five access key columns for a key (nil: no such key).
func reportKey(k *AccessKey, asOf time.Time) []string {
	if k == nil {
		return []string{"false", "N/A", "N/A", "N/A", "N/A"}
	}
	if k.LastUsedDate.IsZero() || k.LastUsedDate.After(asOf) {
		return []string{strconv.FormatBool(k.Status == "Active"), reportTime(k.CreateDate), "N/A", "N/A", "N/A"}
	}
	return []string{strconv.FormatBool(k.Status == "Active"), reportTime(k.CreateDate), reportTime(k.LastUsedDate),
		orNA(k.LastUsedRegion), orNA(k.LastUsedService)}
}

// SetCredentialReport makes the account's credential report one generated at asOf, as
// if GenerateCredentialReport had completed then: IAM reuses it until it is four hours
// old, and it describes the account as of asOf (see credentialReportCSV).
func (a *Account) SetCredentialReport(asOf time.Time) {
	a.CredentialReport = CredentialReport{RequestedAt: asOf, ReadyAt: asOf, Content: credentialReportCSV(a, asOf)}
}

// reportTime formats a time as the report does: ISO 8601 with a +00:00 offset.
func reportTime(t time.Time) string {
	if t.IsZero() {
		return "N/A"
	}
	return t.UTC().Format("2006-01-02T15:04:05+00:00")
}
