package findings_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/findings"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// The fixture organization synced from the simulator by the real fetcher, ingested, and
// judged: every finding of the first sync is in testdata/s1.golden (status, resource,
// reason, fix), reviewed line by line; the most telling are asserted here too. The second
// sync, after fixes made in the simulator, resolves those findings and keeps the others
// open with their original since.
func TestFindingsOnFixtureOrganization(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		env := startFixture(t)
		env.syncInto(t, st, "s1")
		// alice holds AdministratorAccess on prod directly through an active lease (JIT);
		// carol holds it standing through the Admins group.
		lease := &store.Lease{ID: "lease_alice", RequestID: "req_alice", Requester: "alice@example.com", ConnectionID: conn,
			AccessKey: fmt.Sprintf("account_assignment|%s|%s|USER|%s", prodID, env.ids["ps:AdministratorAccess"], env.ids["sso:alice"]),
			Target:    `{"kind":"account_assignment"}`, State: store.LeaseActive, Duration: time.Hour, CreatedAt: env.now}
		if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.InsertLease(ctx, lease) }); err != nil {
			t.Fatal(err)
		}
		svc, err := findings.New(findings.Config{Store: st, Options: findings.Options{ReportTolerance: 2 * time.Hour}})
		if err != nil {
			t.Fatal(err)
		}
		res, err := svc.Evaluate(ctx, conn, "s1")
		if err != nil {
			t.Fatal(err)
		}
		all, err := st.ListFindings(ctx, store.FindingFilter{ConnectionID: conn})
		if err != nil {
			t.Fatal(err)
		}
		if res.Findings != len(all) || res.Applied.Opened != len(all) {
			t.Fatalf("result %+v, %d findings stored", res, len(all))
		}
		checkGolden(t, "s1", env.render(all))

		seen := map[string]map[string]bool{}
		see := func(fs []store.Finding) {
			for _, f := range fs {
				if seen[f.Control] == nil {
					seen[f.Control] = map[string]bool{}
				}
				seen[f.Control][f.Status] = true
			}
		}
		see(all)

		byKey := func(control, account, resource string) store.Finding {
			t.Helper()
			for _, f := range all {
				if f.Control == control && f.Account == account && f.Resource == resource {
					return f
				}
			}
			t.Fatalf("no finding %s %s %s", control, account, resource)
			return store.Finding{}
		}
		bob := "arn:aws:iam::" + prodID + ":user/bob"
		// 1.12 judges a never-used password by password_last_changed and a never-used key
		// by its last_rotated, not by "never used, so fine".
		f := byKey("1.12", prodID, bob)
		if f.Status != "fail" || f.Reason != "credentials unused for 45 days or more: password never used, last changed 2025-11-21T00:00:00Z (100 days); access key 1 never used, last rotated 2025-11-21T00:00:00Z (100 days)" {
			t.Errorf("1.12 bob: %s %q", f.Status, f.Reason)
		}
		if f.CISv5 != "1.11" || f.Evidence["credentials_source"] != "credential_report" || f.Evidence["credential_report_generated_at"] != "2026-03-01T00:00:00Z" ||
			f.Evidence["password_last_changed"] != "2025-11-21T00:00:00Z" || !strings.HasPrefix(f.Fix, "Remove the console password") {
			t.Errorf("1.12 bob evidence %v fix %q", f.Evidence, f.Fix)
		}
		// 1.7 reads both root keys' last use too: prod's root password was used 50 days
		// before, its access key 2 days before.
		if f := byKey("1.7", prodID, prodID); f.Status != "fail" || f.Reason != "the root user was used at 2026-02-27T00:00:00Z (access key 1), 2 days before the sync; the window is 30 days" {
			t.Errorf("1.7 prod: %s %q", f.Status, f.Reason)
		}
		// A stale credential report (3h old, tolerance 2h) is never a pass.
		if f := byKey("1.10", sandID, "arn:aws:iam::"+sandID+":user/dave"); f.Status != "unknown" ||
			f.Reason != "the credential report of account 444444444444 was generated at 2026-02-28T21:00:00Z, 3h0m0s before the sync read AWS; the tolerance is 2h0m0s" {
			t.Errorf("1.10 dave: %s %q", f.Status, f.Reason)
		}
		// A password policy read that kept failing is unknown, not a pass or a "no policy".
		if f := byKey("1.8", sandID, sandID); f.Status != "unknown" || f.Reason != "the password policy could not be read: IAM GetAccountPasswordPolicy failed 3 times: Throttling: Rate exceeded" {
			t.Errorf("1.8 sandbox: %s %q", f.Status, f.Reason)
		}
		// No password policy at all fails.
		if f := byKey("1.9", stageID, stageID); f.Status != "fail" || f.Reason != "the account has no password policy (GetAccountPasswordPolicy: NoSuchEntity)" {
			t.Errorf("1.9 staging: %s %q", f.Status, f.Reason)
		}
		// An account the sync could not read: unknown, and gh.account_synced fails.
		if f := byKey("1.5", brokeID, brokeID); f.Status != "unknown" || !strings.HasPrefix(f.Reason, "account 555555555555 could not be read by sync s1 (") {
			t.Errorf("1.5 broken: %s %q", f.Status, f.Reason)
		}
		if f := byKey("gh.account_synced", brokeID, brokeID); f.Status != "fail" || f.Fix != "lift the deny-all SCP of 555555555555" {
			t.Errorf("gh.account_synced broken: %s %q fix %q", f.Status, f.Reason, f.Fix)
		}
		// Standing admin (carol, through Admins) fails; JIT admin (alice, a lease) passes.
		if f := byKey("gh.standing_admin", prodID, env.ids["sso:carol"]); f.Status != "fail" ||
			f.Reason != "holds admin-level access standing, not through a just-in-time lease: AdministratorAccess (group Admins)" {
			t.Errorf("standing carol: %s %q", f.Status, f.Reason)
		}
		if f := byKey("gh.standing_admin", prodID, env.ids["sso:alice"]); f.Status != "pass" {
			t.Errorf("standing alice: %s %q", f.Status, f.Reason)
		}

		// Sync 2, six hours later (IAM regenerates the reports): bob got an MFA device,
		// prod's password policy was fixed, carol left the Admins group, and staging
		// refuses Gatehouse (its IAM is kept, stale: its findings become unknown).
		env.sim.Do(func(w *awssim.World) {
			a := w.Accounts[prodID]
			a.AddMFADevice(w, a.Users["bob"], true)
			a.PasswordPolicy = &awssim.PasswordPolicy{MinimumPasswordLength: 16, PasswordReusePrevention: 24}
			w.Accounts[stageID].DenyAll = true
			var keep []*awssim.Membership
			for _, m := range w.SSO.Memberships {
				if m.UserID != env.ids["sso:carol"] {
					keep = append(keep, m)
				}
			}
			w.SSO.Memberships = keep
		})
		t1 := env.now
		env.now = env.now.Add(6 * time.Hour)
		env.syncInto(t, st, "s2")
		res, err = svc.Evaluate(ctx, conn, "s2")
		if err != nil {
			t.Fatal(err)
		}
		all2, err := st.ListFindings(ctx, store.FindingFilter{ConnectionID: conn})
		if err != nil {
			t.Fatal(err)
		}
		checkGolden(t, "s2", env.render(all2))
		see(all2)
		// Every control passes somewhere, fails somewhere and is unknown somewhere in the
		// two syncs, but for three that cannot be unknown: gh.account_synced (it is about
		// the read itself), gh.session_duration and gh.standing_admin (Identity Center is
		// read whole by every sync, or the sync fails). gh.unused_services is judged only
		// when the syncs read the service last accessed details: unused_test.go has its
		// three statuses.
		for _, c := range findings.Controls {
			if c.ID == findings.UnusedServices.ID {
				continue
			}
			for _, status := range []string{store.FindingPass, store.FindingFail, store.FindingUnknown} {
				exempt := status == store.FindingUnknown &&
					(c.ID == "gh.account_synced" || c.ID == "gh.session_duration" || c.ID == "gh.standing_admin")
				if !seen[c.ID][status] && !exempt {
					t.Errorf("control %s has no %s finding", c.ID, status)
				}
			}
		}

		evs, err := st.ListFindingEvents(ctx, env.now, env.now, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range evs {
			got = append(got, env.names(fmt.Sprintf("%s %s %s %q->%q", e.Account, e.Control, e.Resource, e.From, e.To)))
		}
		checkGolden(t, "s2-events", strings.Join(got, "\n")+"\n")
		for _, w := range []string{
			`222222222222 1.8 222222222222 "fail"->"pass"`,
			`222222222222 1.9 222222222222 "fail"->"pass"`,
			`222222222222 1.10 ` + bob + ` "fail"->"pass"`,
			`222222222222 gh.standing_admin <sso:carol> "fail"->""`,
			`333333333333 1.6 333333333333 "fail"->"unknown"`,
			`333333333333 1.15 arn:aws:iam::333333333333:user/erin "fail"->"unknown"`,
		} {
			if !strings.Contains(strings.Join(got, "\n")+"\n", w+"\n") {
				t.Errorf("s2 has no event %s", w)
			}
		}
		// Resolved at s2; still open since s1.
		if f := byKeyIn(t, st, "1.10", prodID, bob); f.Status != "pass" || !f.Since.Equal(env.now) || f.SyncID != "s2" {
			t.Errorf("1.10 bob after s2: %+v", f)
		}
		if f := byKeyIn(t, st, "1.15", prodID, bob); f.Status != "fail" || !f.Since.Equal(t1) || f.SyncID != "s2" {
			t.Errorf("1.15 bob after s2: %s since %s sync %s; want fail since %s (s1), judged by s2", f.Status, f.Since, f.SyncID, t1)
		}
		if res.Applied.Changed+res.Applied.Gone+res.Applied.Opened != len(evs) {
			t.Errorf("s2 applied %+v, %d events", res.Applied, len(evs))
		}
	})
}

func byKeyIn(t *testing.T, st *store.Store, control, account, resource string) store.Finding {
	t.Helper()
	f, err := st.GetFinding(context.Background(), store.FindingID(conn, control, account, resource))
	if err != nil {
		t.Fatalf("finding %s %s %s: %v", control, account, resource, err)
	}
	return *f
}
