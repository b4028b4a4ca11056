package web

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// seedFindings stores three syncs of findings: bob's MFA fails twice then passes, prod's
// password policy fails throughout, sandbox's root MFA is unknown.
func seedFindings(t *testing.T, u *testUI) {
	t.Helper()
	ctx := context.Background()
	t0 := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Second)
	bob := "arn:aws:iam::222222222222:user/bob"
	for i, bobStatus := range []string{"fail", "fail", "pass"} {
		fs := []store.Finding{
			{Control: "1.10", CISv5: "1.9", Title: "MFA is enabled for every IAM user with a console password", Account: "222222222222",
				Resource: bob, Status: bobStatus, Reason: "bob has no MFA (sync " + string(rune('1'+i)) + ")",
				Evidence: map[string]any{"mfa_active": bobStatus == "pass"}, Fix: "Assign an MFA device to the user"},
			{Control: "1.8", CISv5: "1.7", Title: "IAM password policy requires a minimum length of 14 or greater", Account: "222222222222",
				Resource: "222222222222", Status: "fail", Reason: "MinimumPasswordLength is 8; 14 or more is required", Fix: "aws iam update-account-password-policy"},
			{Control: "1.5", CISv5: "1.4", Title: "MFA is enabled for the root user", Account: "444444444444",
				Resource: "444444444444", Status: "unknown", Reason: "no credential report for account 444444444444", Fix: "Sync again"},
		}
		if _, err := u.store.ApplyFindings(ctx, "aws", "s"+string(rune('1'+i)), t0.Add(time.Duration(i)*6*time.Hour), fs); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFindingsPage(t *testing.T) {
	u := newTestUI(t)
	seedFindings(t, u)
	res := u.get(auditor, "/findings")
	if res.Status != 200 {
		t.Fatalf("status %d", res.Status)
	}
	cspSafe(t, res.Body)
	got := text(res.Body)
	// Counts at the latest sync, then the table by account, control, resource.
	mustContain(t, got, "Findings", "Failing 1", "Unknown 1", "Passing 1",
		"pass 1.10 v5 1.9 MFA is enabled for every IAM user with a console password 222222222222 arn:aws:iam::222222222222:user/bob bob has no MFA (sync 3)",
		`{ "mfa_active": true }`, "Judged by sync s3",
		"fail 1.8 v5 1.7", "222222222222 222222222222 MinimumPasswordLength is 8; 14 or more is required", "Fix: aws iam update-account-password-policy", "{}",
		"unknown 1.5 v5 1.4", "444444444444 444444444444 no credential report for account 444444444444",
		"Trend per control", "1.5", "1.8", "1.10", "Trend per account", "222222222222", "444444444444")
	// The trend of 1.10 has three bars: fail, fail, pass (red, red, green).
	row := regexp.MustCompile(`(?s)<tr data-key="1.10">.*?</tr>`).FindString(res.Body)
	if strings.Count(row, `fill="#d64545"`) != 2 || strings.Count(row, `fill="#1f9d55"`) != 1 || strings.Count(row, "<title>") != 3 {
		t.Fatalf("1.10 trend row: %s", row)
	}
	if !strings.Contains(row, "1 fail, 0 unknown, 0 pass") || !strings.Contains(row, "0 fail, 0 unknown, 1 pass") {
		t.Fatalf("1.10 trend titles: %s", row)
	}
	acct := regexp.MustCompile(`(?s)<tr data-key="222222222222">.*?</tr>`).FindString(res.Body)
	if !strings.Contains(acct, "2 fail, 0 unknown, 0 pass") || !strings.Contains(acct, "1 fail, 0 unknown, 1 pass") {
		t.Fatalf("222222222222 trend: %s", acct)
	}

	// Filters.
	got = text(u.get(auditor, "/findings?status=fail").Body)
	mustContain(t, got, "MinimumPasswordLength is 8")
	mustNotContain(t, got, "bob has no MFA", "no credential report for account")
	got = text(u.get(auditor, "/findings?account=444444444444").Body)
	mustContain(t, got, "no credential report for account 444444444444")
	mustNotContain(t, got, "MinimumPasswordLength is 8")
	got = text(u.get(admin, "/findings?control=1.10").Body)
	mustContain(t, got, "bob has no MFA (sync 3)")
	mustNotContain(t, got, "MinimumPasswordLength is 8")

	// Bad filters say what to do; people are refused.
	if res := u.get(auditor, "/findings?status=broken"); res.Status != http.StatusBadRequest ||
		!strings.Contains(text(res.Body), `Status must be pass, fail or unknown, got "broken".`) {
		t.Fatalf("bad status: %d", res.Status)
	}
	if res := u.get(auditor, "/findings?control=9.9"); res.Status != http.StatusBadRequest {
		t.Fatalf("bad control: %d", res.Status)
	}
	if res := u.get(person, "/findings"); res.Status != http.StatusForbidden {
		t.Fatalf("a person sees findings: %d", res.Status)
	}
}

func TestFindingsPageLoadsMore(t *testing.T) {
	u := newTestUI(t)
	var fs []store.Finding
	for i := 0; i < findingsPageSize+2; i++ {
		fs = append(fs, store.Finding{Control: "1.15", Account: "222222222222", Resource: "arn:aws:iam::222222222222:user/u" + string(rune('a'+i/26)) + string(rune('a'+i%26)),
			Status: "fail", Reason: "has policies"})
	}
	if _, err := u.store.ApplyFindings(context.Background(), "aws", "s1", time.Now(), fs); err != nil {
		t.Fatal(err)
	}
	res := u.get(auditor, "/findings")
	if n := strings.Count(res.Body, `<tr class="finding"`); n != findingsPageSize {
		t.Fatalf("first page has %d rows", n)
	}
	m := regexp.MustCompile(`hx-get="([^"]+)"`).FindStringSubmatch(res.Body)
	if m == nil {
		t.Fatal("no Load more")
	}
	frag := u.get(auditor, strings.ReplaceAll(m[1], "&amp;", "&"), "HX-Request", "true")
	if strings.Contains(frag.Body, "<html") || strings.Count(frag.Body, `<tr class="finding"`) != 2 || strings.Contains(frag.Body, "Load more") {
		t.Fatalf("next page: %s", frag.Body)
	}
}
