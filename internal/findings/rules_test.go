package findings

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// The rules on inventories the fixture organization cannot produce: users read with
// per-user calls (newer than the report) with calls denied, secrets sync's key shape, an
// account read before the password policy was, a report that failed, a document that
// does not parse, and the boundaries of each threshold.

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func mkRes(typ, id, account string, profile map[string]any) store.Resource {
	b, _ := json.Marshal(profile)
	return store.Resource{Type: typ, ID: id, AccountID: account, Scope: account, DisplayName: id, Profile: b}
}

func day(n int) string { return now.AddDate(0, 0, -n).Format(time.RFC3339) }

func judge(t *testing.T, rs []store.Resource, reads map[string]store.AccountRead, opts Options) map[string]store.Finding {
	t.Helper()
	out := map[string]store.Finding{}
	for _, f := range Evaluate(Input{ConnectionID: "aws", SyncID: "s9", At: now,
		Inventory: &store.ReviewInventory{Resources: rs, Reads: reads}}, opts) {
		k := f.Control + " " + f.Resource
		if _, dup := out[k]; dup {
			t.Fatalf("%s judged twice", k)
		}
		out[k] = f
	}
	return out
}

func want(t *testing.T, got map[string]store.Finding, key, status, reason string) {
	t.Helper()
	f, ok := got[key]
	if !ok {
		t.Fatalf("no finding %s", key)
	}
	if f.Status != status || f.Reason != reason {
		t.Errorf("%s: %s %q\n want %s %q", key, f.Status, f.Reason, status, reason)
	}
	if f.Status != store.FindingPass && f.Fix == "" {
		t.Errorf("%s: %s without a fix", key, f.Status)
	}
}

const acct = "111111111111"

func mkAccount(extra map[string]any) store.Resource {
	p := map[string]any{"account_id": acct, "synced": true, "status": "ACTIVE",
		"credential_report_generated_at": now.Add(-time.Hour).Format(time.RFC3339),
		"account_mfa_enabled":            true, "account_access_keys_present": false, "root_virtual_mfa_count": 0,
		"root_mfa_active": true, "password_policy_state": "set",
		"password_policy": map[string]any{"minimum_password_length": 14, "password_reuse_prevention": 24}}
	for k, v := range extra {
		if v == nil {
			delete(p, k)
		} else {
			p[k] = v
		}
	}
	return mkRes("account", acct, acct, p)
}

func mkUser(name string, p map[string]any) store.Resource {
	arn := "arn:aws:iam::" + acct + ":user/" + name
	p["arn"], p["user_name"] = arn, name
	return mkRes("iam_user", arn, acct, p)
}

func TestRulesOnUserCalls(t *testing.T) {
	got := judge(t, []store.Resource{
		mkAccount(nil),
		// Newer than the report: no password_last_changed; never used.
		mkUser("newbie", map[string]any{"credentials_source": "user_calls", "console_access": true, "mfa_active": true}),
		// GetLoginProfile denied: console access unknown.
		mkUser("hidden", map[string]any{"credentials_source": "user_calls", "credentials_unread": []string{"iam:GetLoginProfile"}, "mfa_active": false}),
		// ListMFADevices denied with a console password and no MFA found: unknown, not fail.
		mkUser("nomfa", map[string]any{"credentials_source": "user_calls", "console_access": true, "mfa_active": false,
			"password_last_used": day(1), "credentials_unread": []string{"iam:ListMFADevices"}}),
		// Secrets sync's key shape (access_key_id, created), two active, one 91 days old.
		mkUser("keys", map[string]any{"credentials_source": "credential_report", "console_access": false, "mfa_active": false,
			"access_keys": []map[string]any{
				{"access_key_id": "AKIAOLD", "active": true, "created": day(91), "last_used": day(1)},
				{"access_key_id": "AKIANEW", "active": true, "created": day(10)}}}),
		// Exactly 45 days unused fails ("45 days or more"); 44 passes. 90 days old passes 1.14.
		mkUser("edge45", map[string]any{"credentials_source": "credential_report", "console_access": true, "mfa_active": true,
			"password_last_used": day(45), "access_keys": []map[string]any{{"slot": 1, "active": true, "last_rotated": day(90), "last_used": day(44)}}}),
		// An inactive key never used is neither a setup key nor unused.
		mkUser("inactive", map[string]any{"credentials_source": "credential_report", "console_access": true, "mfa_active": true,
			"password_last_used": day(2), "access_keys": []map[string]any{{"slot": 1, "active": false, "last_rotated": day(300)}}}),
	}, nil, Options{})
	arn := func(n string) string { return " arn:aws:iam::" + acct + ":user/" + n }
	want(t, got, "1.12"+arn("newbie"), "unknown", "cannot tell: password never used and its last change is unknown (the user is newer than the credential report)")
	want(t, got, "1.10"+arn("newbie"), "pass", "the user has a console password and MFA (mfa_active = true)")
	want(t, got, "1.10"+arn("hidden"), "unknown", "whether the user has a console password is unknown: iam:GetLoginProfile was denied")
	want(t, got, "1.11"+arn("hidden"), "unknown", "whether the user has a console password is unknown: iam:GetLoginProfile was denied")
	want(t, got, "1.12"+arn("hidden"), "unknown", "cannot tell: console password (iam:GetLoginProfile denied)")
	want(t, got, "1.10"+arn("nomfa"), "unknown", "the user has a console password and its MFA devices could not be read: iam:ListMFADevices was denied")
	want(t, got, "1.13"+arn("keys"), "fail", "the user has 2 active access keys: access key AKIAOLD, access key AKIANEW")
	want(t, got, "1.14"+arn("keys"), "fail", "active access keys older than 90 days: access key AKIAOLD last rotated "+day(91)+" (91 days)")
	want(t, got, "1.12"+arn("keys"), "pass", "every enabled credential of the user was used (or set) less than 45 days before the sync")
	want(t, got, "1.11"+arn("keys"), "pass", "the user has no console password (password_enabled = false)")
	want(t, got, "1.12"+arn("edge45"), "fail", "credentials unused for 45 days or more: password last used "+day(45)+" (45 days)")
	want(t, got, "1.14"+arn("edge45"), "pass", "every active access key was rotated within 90 days")
	want(t, got, "1.11"+arn("inactive"), "pass", "every active access key of the user has been used")
	want(t, got, "1.12"+arn("inactive"), "pass", "every enabled credential of the user was used (or set) less than 45 days before the sync")
	want(t, got, "1.14"+arn("inactive"), "pass", "the user has no active access key")
}

func TestRulesOnAccountData(t *testing.T) {
	// The report failed; GetAccountSummary still judges 1.4 and 1.5; 1.7 and the users are
	// unknown; the password policy was not read by this version.
	got := judge(t, []store.Resource{
		mkAccount(map[string]any{"credential_report_error": "iam:GetCredentialReport denied", "credential_report_generated_at": nil,
			"password_policy_state": nil, "password_policy": nil}),
		mkUser("u", map[string]any{"credential_report": "unavailable", "attached_policies": []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}}),
		mkRes("iam_policy", "arn:aws:iam::aws:policy/ReadOnlyAccess", "", map[string]any{"policy_type": "aws_managed",
			"attached_in_accounts": []string{acct}, "document": `{"Statement":{"Effect":"Allow","Action":["s3:Get*","*"],"Resource":["*"]}}`}),
	}, nil, Options{})
	want(t, got, "1.4 "+acct, "pass", "the root user has no access key (GetAccountSummary AccountAccessKeysPresent = 0)")
	want(t, got, "1.5 "+acct, "pass", "the root user has MFA (GetAccountSummary AccountMFAEnabled = 1)")
	want(t, got, "1.7 "+acct, "unknown", "no credential report for account 111111111111: iam:GetCredentialReport denied")
	want(t, got, "1.10 arn:aws:iam::111111111111:user/u", "unknown", "no credential report for account 111111111111: iam:GetCredentialReport denied")
	want(t, got, "1.8 "+acct, "unknown", "the password policy was not read by sync s9")
	// 1.15 needs no report; a statement object (not a list) with "*" inside lists counts for 1.16.
	want(t, got, "1.15 arn:aws:iam::111111111111:user/u", "fail", "the user has policies of its own: attached policies arn:aws:iam::aws:policy/ReadOnlyAccess")
	want(t, got, "1.16 arn:aws:iam::aws:policy/ReadOnlyAccess", "fail", `the attached policy arn:aws:iam::aws:policy/ReadOnlyAccess has a statement with Effect Allow, Action "*" and Resource "*"`)

	// Root used 29 days ago fails the 30-day window, 30 days passes; a summary-less account
	// falls back to a fresh report; a document that does not parse is unknown.
	got = judge(t, []store.Resource{
		mkAccount(map[string]any{"account_access_keys_present": nil, "account_mfa_enabled": nil, "root_active_access_keys": 1,
			"root_access_keys": []map[string]any{{"slot": 2, "active": true, "last_used": day(29)}}, "root_password_last_used": day(40)}),
		mkRes("iam_role", "arn:aws:iam::111111111111:role/r", acct, map[string]any{"attached_policies": []string{"arn:aws:iam::111111111111:policy/bad"}}),
		mkRes("iam_policy", "arn:aws:iam::111111111111:policy/bad", acct, map[string]any{"policy_type": "customer_managed", "policy_name": "bad",
			"attachment_count": 1, "document": `{"Statement": [`}),
	}, nil, Options{})
	want(t, got, "1.4 "+acct, "fail", "the credential report shows 1 active root access key(s)")
	want(t, got, "1.5 "+acct, "pass", "the credential report shows mfa_active = true for <root_account>")
	want(t, got, "1.7 "+acct, "fail", "the root user was used at "+day(29)+" (access key 2), 29 days before the sync; the window is 30 days")
	if f := got["1.16 arn:aws:iam::111111111111:policy/bad"]; f.Status != "unknown" || !strings.HasPrefix(f.Reason, "the policy's document does not parse: ") {
		t.Errorf("1.16 bad: %s %q", f.Status, f.Reason)
	}
	got = judge(t, []store.Resource{mkAccount(map[string]any{"root_password_last_used": day(30)})}, nil, Options{})
	want(t, got, "1.7 "+acct, "pass", "the root user was last used at "+day(30)+" (password), 30 days before the sync")

	// A report newer than the sync is fine; one older than the tolerance is not.
	got = judge(t, []store.Resource{mkAccount(map[string]any{"credential_report_generated_at": now.Add(-25 * time.Hour).Format(time.RFC3339)})}, nil, Options{})
	want(t, got, "1.7 "+acct, "unknown", "the credential report of account 111111111111 was generated at "+now.Add(-25*time.Hour).Format(time.RFC3339)+
		", 25h0m0s before the sync read AWS; the tolerance is 24h0m0s")
	got = judge(t, []store.Resource{mkAccount(map[string]any{"credential_report_generated_at": now.Add(time.Minute).Format(time.RFC3339)})}, nil, Options{})
	want(t, got, "1.7 "+acct, "pass", "the credential report shows no use of the root user's password or access keys")

	// Last read by another sync (the connection's latest did not read it).
	got = judge(t, []store.Resource{mkAccount(nil)}, map[string]store.AccountRead{acct: {AccountID: acct, LastReadSync: "s8"}}, Options{})
	want(t, got, "1.5 "+acct, "unknown", "account 111111111111 was last read by sync s8, not by sync s9")
	want(t, got, "gh.account_synced "+acct, "fail", "account 111111111111 was last read by sync s8, not by sync s9")
}

func TestRulesOnIdentityCenter(t *testing.T) {
	admin := mkRes("permission_set", "arn:aws:sso:::permissionSet/ssoins-1/ps-admin", "", map[string]any{"session_duration": "PT1H30M",
		"inline_policy": `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`})
	admin.DisplayName = "Break glass"
	got := judge(t, []store.Resource{
		mkAccount(nil), admin,
		mkRes("sso_user", "u-1", "", map[string]any{"status": "unknown", "status_note": "SCIM token rejected (401)", "user_name": "x"}),
	}, nil, Options{MaxSessionDuration: time.Hour})
	want(t, got, "gh.session_duration arn:aws:sso:::permissionSet/ssoins-1/ps-admin", "fail", "session duration PT1H30M (1h30m0s) is longer than 1h0m0s")
	if why := adminSet(asRes(admin)); why != "its inline policy allows * on *" {
		t.Errorf("admin-level because %q", why)
	}
	if d, ok := isoDuration("PT12H"); !ok || d != 12*time.Hour {
		t.Errorf("PT12H = %s %v", d, ok)
	}
	if _, ok := isoDuration("P1D"); ok {
		t.Error("P1D parsed")
	}

	// A user whose status is unknown holding the admin set directly, without a lease: the
	// departed finding is unknown with the status note, the standing-admin finding fails;
	// with an active lease (and one marked standing, which does not count) it passes.
	grant := store.Grant{ID: "g1", EntitlementID: "account:" + acct + ":ps-admin", ResourceType: "account", ResourceID: acct,
		PrincipalType: "sso_user", PrincipalID: "u-1", Direct: true}
	inv := &store.ReviewInventory{Resources: []store.Resource{mkAccount(nil), admin,
		mkRes("sso_user", "u-1", "", map[string]any{"status": "unknown", "status_note": "SCIM token rejected (401)", "user_name": "x"})},
		Grants: []store.Grant{grant}}
	key := "account_assignment|" + acct + "|ps-admin|USER|u-1"
	for _, c := range []struct {
		leases []store.Lease
		status string
	}{
		{nil, "fail"},
		{[]store.Lease{{ID: "l1", AccessKey: key, State: store.LeaseActive, Standing: true}}, "fail"},
		{[]store.Lease{{ID: "l2", AccessKey: key, State: store.LeaseEnded}}, "fail"},
		{[]store.Lease{{ID: "l3", AccessKey: key, State: store.LeaseActive}}, "pass"},
	} {
		fs := Evaluate(Input{ConnectionID: "aws", SyncID: "s9", At: now, Inventory: inv, Leases: c.leases}, Options{})
		var standing, departed store.Finding
		for _, f := range fs {
			switch f.Control {
			case "gh.standing_admin":
				standing = f
			case "gh.departed_access":
				departed = f
			}
		}
		if standing.Status != c.status || standing.Account != acct || standing.Resource != "u-1" {
			t.Errorf("leases %+v: standing admin %s %q", c.leases, standing.Status, standing.Reason)
		}
		if departed.Status != "unknown" || departed.Reason != "the user's status is unknown: SCIM token rejected (401)" || departed.Account != "" {
			t.Errorf("departed %s %q", departed.Status, departed.Reason)
		}
	}
}

func asRes(r store.Resource) res { return res{&r, decode(&r)} }

// gh.unused_services on states the syncs leave in the store: details older than the
// tolerance, a read that failed (with and without an older result), a FAILED job, the
// window's boundary, a service-linked role (not judged), and the control off.
func TestUnusedServicesRules(t *testing.T) {
	role := func(name, path string) store.Resource {
		return mkRes("iam_role", "arn:aws:iam::"+acct+":role/"+name, acct, map[string]any{"path": path, "created": day(400)})
	}
	at := func(d int) *time.Time { x := now.AddDate(0, 0, -d); return &x }
	rs := []store.Resource{mkAccount(nil), role("stale", "/"), role("throttled", "/"), role("denied-old", "/"), role("failedjob", "/"),
		role("edge", "/"), role("AWSServiceRoleForSupport", "/aws-service-role/support.amazonaws.com/")}
	arn := func(n string) string { return "arn:aws:iam::" + acct + ":role/" + n }
	la := map[string]store.LastAccess{
		arn("stale"):      {CompletedAt: at(31), Services: []store.ServiceAccess{{Namespace: "s3", LastAuthenticated: at(1)}}},
		arn("throttled"):  {JobID: "j1", JobStartedAt: at(1), Error: "IAM GetServiceLastAccessedDetails failed 3 times: Throttling: Rate exceeded; left for the next sync"},
		arn("denied-old"): {CompletedAt: at(40), Error: "iam:GetServiceLastAccessedDetails denied: AccessDenied"},
		arn("failedjob"):  {Error: "the job failed: InternalError: boom"},
		// s3 used exactly 90 days before: unused; ec2 89 days before: used.
		arn("edge"): {CompletedAt: at(1), Services: []store.ServiceAccess{{Namespace: "s3", Name: "Amazon S3", LastAuthenticated: at(90)},
			{Namespace: "ec2", Name: "Amazon EC2", LastAuthenticated: at(89)}}},
	}
	judgeLA := func(opts Options) map[string]store.Finding {
		out := map[string]store.Finding{}
		for _, f := range Evaluate(Input{ConnectionID: "aws", SyncID: "s9", At: now, Inventory: &store.ReviewInventory{Resources: rs}, LastAccess: la}, opts) {
			out[f.Control+" "+f.Resource] = f
		}
		return out
	}
	got := judgeLA(Options{UnusedServices: true})
	k := func(n string) string { return "gh.unused_services " + arn(n) }
	want(t, got, k("stale"), "unknown", "the service last accessed details of "+arn("stale")+" were generated at 2026-01-29T12:00:00Z, 744h0m0s before the sync read AWS; the tolerance is 720h0m0s")
	want(t, got, k("throttled"), "unknown", "the service last accessed details of "+arn("throttled")+" could not be read: IAM GetServiceLastAccessedDetails failed 3 times: Throttling: Rate exceeded; left for the next sync")
	want(t, got, k("denied-old"), "unknown", "the service last accessed details of "+arn("denied-old")+" were generated at 2026-01-20T12:00:00Z, 960h0m0s before the sync read AWS; the tolerance is 720h0m0s; the last read failed: iam:GetServiceLastAccessedDetails denied: AccessDenied")
	want(t, got, k("failedjob"), "unknown", "the service last accessed details of "+arn("failedjob")+" could not be read: the job failed: InternalError: boom")
	want(t, got, k("edge"), "fail", "1 of the 2 services its policies grant not used in 90 days: s3")
	if f := got[k("denied-old")]; !strings.Contains(f.Fix, "iam:GenerateServiceLastAccessedDetails") {
		t.Errorf("denied-old fix %q", f.Fix)
	}
	if _, ok := got[k("AWSServiceRoleForSupport")]; ok {
		t.Error("a service-linked role is judged")
	}
	// A longer tolerance judges the stale one; the control off judges nothing.
	got = judgeLA(Options{UnusedServices: true, LastAccessTolerance: 60 * 24 * time.Hour})
	want(t, got, k("stale"), "pass", "no service unused for 90 days: 1 of the 1 service its policies grant used in that time")
	for key := range judgeLA(Options{}) {
		if strings.HasPrefix(key, "gh.unused_services") {
			t.Fatalf("judged with the control off: %s", key)
		}
	}
}
