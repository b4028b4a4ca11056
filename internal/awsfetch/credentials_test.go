package awsfetch

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/inventory"
)

// credentialsFixture has a credential report generated two hours before now (IAM reuses
// a report for four hours), and users on both sides of it:
//   - alice (in the report) has a virtual and a hardware MFA device, a key the report
//     covers and a key created after it;
//   - bob (in the report) has a virtual device and a FIDO security key;
//   - carol (in the report) has a hardware token only;
//   - dana was created after the report: console password, a FIDO key, an access key.
//
// The fixture's connector section adds the operator user at now, after the report too.
const credentialsFixture = `
now: 2026-01-01T00:00:00Z
accounts:
  - id: "111111111111"
    name: acme
    iam:
      credential_report_generated: 2025-12-31T22:00:00Z
      users:
        - name: alice
          created: 2024-03-01T00:00:00Z
          console_password: true
          password_last_used: 2025-12-31T09:30:00Z
          mfa: [virtual, hardware]
          access_keys:
            - id: AKIAALICE00000000001
              created: 2025-07-01T00:00:00Z
              last_used: 2025-12-31T10:00:00Z
              last_used_service: s3
              last_used_region: eu-west-1
            - id: AKIAALICE00000000002
              created: 2025-12-31T23:00:00Z
              last_used: 2025-12-31T23:30:00Z
              last_used_service: ec2
              last_used_region: us-west-2
        - name: bob
          created: 2025-01-01T00:00:00Z
          mfa: [virtual, fido]
        - name: carol
          created: 2025-01-01T00:00:00Z
          mfa: [hardware]
        - name: dana
          created: 2025-12-31T23:00:00Z
          console_password: true
          password_last_used: 2025-12-31T23:45:00Z
          mfa: [fido]
          access_keys:
            - id: AKIADANA000000000001
              created: 2025-12-31T23:05:00Z
              last_used: 2025-12-31T23:50:00Z
              last_used_service: sts
              last_used_region: us-east-1
connector:
  external_id: acme-gatehouse-1
`

var credentialsNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func iamOps(stats *Stats) map[string]int64 {
	ops := map[string]int64{}
	for _, o := range stats.Operations {
		if o.Service == "iam" {
			ops[o.Operation] = o.Calls
		}
	}
	return ops
}

// Issue 9: the report's generation time is kept; users created after the report are
// filled from per-user calls instead of "unavailable"; key last use comes from the report
// where it covers the key, and GetAccessKeyLastUsed is called only for keys newer than
// it; every MFA device is listed, a user with a virtual device and a hardware or FIDO one
// included.
func TestFetchCredentialsAroundTheReport(t *testing.T) {
	env := startSim(t, fixture(t, credentialsFixture), awssim.Options{Now: func() time.Time { return credentialsNow }})
	cfg := env.cfg
	cfg.SyncSecrets = true
	snap, stats := fetch(t, cfg)
	in := snap.Accounts[0].IAM

	var serials = map[string][]string{} // user -> kinds of device, in serial order
	var operatorKey string
	env.sim.Do(func(w *awssim.World) {
		a := w.Accounts["111111111111"]
		operatorKey = a.Users[awssim.OperatorUserName].AccessKeys[0].ID
		for _, u := range []string{"alice", "bob", "carol", "dana"} {
			for _, d := range a.MFAOf(u) {
				serials[u] = append(serials[u], d.Serial)
			}
		}
	})

	if got, want := in.CredentialReportGeneratedAt, at(t, "2025-12-31T22:00:00Z"); !got.Equal(want) {
		t.Errorf("CredentialReportGeneratedAt = %v, want %v", got, want)
	}
	assertEqual(t, "users in the report", []string{"<root_account>", "alice", "bob", "carol"},
		names(in.CredentialReport, func(r *inventory.CredentialReportRow) string { return r.User }))

	// dana and the operator, created after the report, read one by one.
	operatorARN := "arn:aws:iam::111111111111:user/" + awssim.OperatorUserName
	assertEqual(t, "user credentials read with per-user calls", []*inventory.CredentialReportRow{
		{User: "dana", ARN: "arn:aws:iam::111111111111:user/dana", CreatedAt: at(t, "2025-12-31T23:00:00Z"),
			PasswordEnabled: true, PasswordLastUsed: at(t, "2025-12-31T23:45:00Z"), MFAActive: true,
			AccessKeys: [2]inventory.CredentialReportKey{{Active: true, LastRotated: at(t, "2025-12-31T23:05:00Z"),
				LastUsed: at(t, "2025-12-31T23:50:00Z"), LastUsedRegion: "us-east-1", LastUsedService: "sts"}}},
		{User: awssim.OperatorUserName, ARN: operatorARN, CreatedAt: credentialsNow,
			AccessKeys: [2]inventory.CredentialReportKey{{Active: true, LastRotated: credentialsNow,
				LastUsed: credentialsNow, LastUsedRegion: "us-east-1", LastUsedService: "sts"}}},
	}, in.UserCredentials)

	// Key last use: alice's first key from the report (its use before the report), the
	// keys newer than the report from GetAccessKeyLastUsed.
	assertEqual(t, "access keys", []*inventory.AccessKey{
		{ID: "AKIAALICE00000000001", UserName: "alice", UserARN: "arn:aws:iam::111111111111:user/alice", Status: "Active",
			CreatedAt: at(t, "2025-07-01T00:00:00Z"), LastUsedAt: at(t, "2025-12-31T10:00:00Z"), LastUsedService: "s3", LastUsedRegion: "eu-west-1"},
		{ID: "AKIAALICE00000000002", UserName: "alice", UserARN: "arn:aws:iam::111111111111:user/alice", Status: "Active",
			CreatedAt: at(t, "2025-12-31T23:00:00Z"), LastUsedAt: at(t, "2025-12-31T23:30:00Z"), LastUsedService: "ec2", LastUsedRegion: "us-west-2"},
		{ID: "AKIADANA000000000001", UserName: "dana", UserARN: "arn:aws:iam::111111111111:user/dana", Status: "Active",
			CreatedAt: at(t, "2025-12-31T23:05:00Z"), LastUsedAt: at(t, "2025-12-31T23:50:00Z"), LastUsedService: "sts", LastUsedRegion: "us-east-1"},
		{ID: operatorKey, UserName: awssim.OperatorUserName, UserARN: operatorARN, Status: "Active",
			CreatedAt: credentialsNow, LastUsedAt: credentialsNow, LastUsedService: "sts", LastUsedRegion: "us-east-1"},
	}, in.AccessKeys)

	// Every device of every user: alice's hardware token and bob's FIDO key besides
	// their virtual devices, carol's token, dana's FIDO key.
	var got []string
	for _, d := range in.MFADevices {
		kind := "hardware"
		switch {
		case d.Virtual:
			kind = "virtual"
		case d.FIDO():
			kind = "fido"
		}
		got = append(got, d.UserName+" "+kind+" "+d.Serial)
	}
	var want []string
	for _, u := range []string{"alice", "bob", "carol", "dana"} {
		for _, s := range serials[u] {
			kind := "hardware"
			switch {
			case s == "arn:aws:iam::111111111111:mfa/"+u:
				kind = "virtual"
			case len(s) > 4 && s[:4] == "arn:":
				kind = "fido"
			}
			want = append(want, u+" "+kind+" "+s)
		}
	}
	assertEqual(t, "MFA devices", want, got)
	if len(got) != 6 {
		t.Errorf("%d MFA devices, want 6", len(got))
	}

	// The calls: one ListAccessKeys per user; GetAccessKeyLastUsed for the three keys
	// newer than the report; GetLoginProfile and GetUser for the two newer users;
	// ListMFADevices for carol (MFA, no virtual device), dana and the operator (newer),
	// then alice and bob, since GetAccountSummary counts 6 devices in use and the virtual
	// list and those calls explain 4.
	assertEqual(t, "per-user IAM calls", map[string]int64{
		"ListAccessKeys": 5, "GetAccessKeyLastUsed": 3, "GetLoginProfile": 2, "GetUser": 2, "ListMFADevices": 5, "GetAccountSummary": 1,
	}, pick(iamOps(stats), "ListAccessKeys", "GetAccessKeyLastUsed", "GetLoginProfile", "GetUser", "ListMFADevices", "GetAccountSummary"))
}

// Without secrets sync, only the users newer than the report have their keys listed:
// their profile needs them, as the report's columns give the others'.
func TestFetchCredentialsWithoutSecrets(t *testing.T) {
	env := startSim(t, fixture(t, credentialsFixture), awssim.Options{Now: func() time.Time { return credentialsNow }})
	snap, stats := fetch(t, env.cfg)
	in := snap.Accounts[0].IAM
	if in.AccessKeys != nil {
		t.Errorf("AccessKeys = %v, want nil without secrets sync", in.AccessKeys)
	}
	if len(in.UserCredentials) != 2 || in.UserCredentials[0].User != "dana" || !in.UserCredentials[0].AccessKeys[0].Active ||
		!in.UserCredentials[0].AccessKeys[0].LastUsed.Equal(at(t, "2025-12-31T23:50:00Z")) {
		t.Errorf("dana's credentials = %+v", in.UserCredentials)
	}
	assertEqual(t, "per-user IAM calls", map[string]int64{"ListAccessKeys": 2, "GetAccessKeyLastUsed": 2},
		pick(iamOps(stats), "ListAccessKeys", "GetAccessKeyLastUsed"))
}

// When the devices in use are all explained by the virtual list and the users the
// report shows with MFA and no virtual device, nobody else is asked.
func TestFetchMFAWithoutExtraCalls(t *testing.T) {
	env := startSim(t, fixture(t, credentialsFixture), awssim.Options{Now: func() time.Time { return credentialsNow }})
	env.sim.Do(func(w *awssim.World) {
		a := w.Accounts["111111111111"]
		for serial, d := range a.MFADevices {
			if (d.UserName == "alice" || d.UserName == "bob") && !d.Virtual {
				delete(a.MFADevices, serial)
			}
		}
		a.SetCredentialReport(at(t, "2025-12-31T22:00:00Z"))
	})
	snap, stats := fetch(t, env.cfg)
	if n := len(snap.Accounts[0].IAM.MFADevices); n != 4 {
		t.Errorf("%d MFA devices, want 4 (two virtual, carol's and dana's)", n)
	}
	// carol, dana, the operator; not alice or bob.
	assertEqual(t, "ListMFADevices calls", map[string]int64{"ListMFADevices": 3}, pick(iamOps(stats), "ListMFADevices"))
}

func pick(m map[string]int64, keys ...string) map[string]int64 {
	out := map[string]int64{}
	for _, k := range keys {
		out[k] = m[k]
	}
	return out
}

// A role whose policy predates these per-user calls may be denied them: the account is
// still synced, and the user's row names what could not be read rather than reporting
// "no console password".
func TestFetchCredentialsDeniedCallsAreReported(t *testing.T) {
	env := startSim(t, fixture(t, credentialsFixture), awssim.Options{Now: func() time.Time { return credentialsNow }})
	env.sim.Do(func(w *awssim.World) {
		role := w.Accounts["111111111111"].Roles[awssim.ConnectorRoleName]
		role.InlinePolicies["DenyLoginProfiles"] = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:GetLoginProfile","Resource":"*"}]}`
	})
	snap, _ := fetch(t, env.cfg)
	a := snap.Accounts[0]
	if !a.Synced {
		t.Fatalf("account not synced: %s", a.SkipReason)
	}
	rows := a.IAM.UserCredentials
	if len(rows) != 2 || rows[0].User != "dana" || rows[0].PasswordEnabled ||
		!rows[0].PasswordLastUsed.Equal(at(t, "2025-12-31T23:45:00Z")) || len(rows[0].Unread) != 1 || rows[0].Unread[0] != "iam:GetLoginProfile" {
		t.Errorf("dana's row = %+v; want her password's last use, console access unread (iam:GetLoginProfile)", rows)
	}
}
