package review

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/jit"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// A policy attached directly to an IAM user is not Gatehouse's to change: revoking it opens a
// task for the owner (the admins, as prod has no owner) with the exact change, notified;
// only the owner or an admin may mark it done, which does not make it remediated; the sync
// after the owner detached the policy does.
func TestOwnerTaskCompletedThenVerified(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newE2E(t, st, awsfetch.Config{})
		camp := e.startCampaign("Policies")
		policyARN := "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
		it := e.find(e.items(camp.ID), "carol's IAMReadOnlyAccess attached directly", func(it *Item) bool {
			return it.ResourceID == policyARN && strings.HasSuffix(it.PrincipalID, ":user/carol") && it.Via == ViaDirect
		})
		before := e.access()
		got, err := e.svc.Decide(ctx, e2eDave, camp.ID, it.ID, DecisionInput{Decision: DecisionRevoke, Reason: "not needed"})
		if err != nil {
			t.Fatal(err)
		}
		wantTask := "Detach the policy IAMReadOnlyAccess (" + policyARN + ") from the IAM user carol (arn:aws:iam::" + e2eProd + ":user/carol) in account prod (" + e2eProd + ")"
		if got.State != ItemTaskOpen || got.Remediation == nil || got.Remediation.Action != ActionOwnerTask ||
			got.Remediation.Task != wantTask || got.Remediation.Owner != "admin@example.com" {
			t.Fatalf("revoked: state %s remediation %+v; want task_open for admin@example.com: %s", got.State, got.Remediation, wantTask)
		}
		if evs := e.events.of("review_task"); len(evs) != 1 || !slices.Equal(evs[0].To, []string{"admin@example.com"}) ||
			evs[0].Detail != wantTask || evs[0].CampaignID != camp.ID || evs[0].Campaign != "Policies" {
			t.Errorf("review_task events %+v", evs)
		}
		time.Sleep(300 * time.Millisecond) // no job runs for a task
		if !slices.Equal(before, e.access()) {
			t.Fatal("Gatehouse changed AWS for an owner task")
		}
		if _, err := e.svc.CompleteTask(ctx, e2eDave, camp.ID, it.ID, "done"); CodeOf(err) != CodeForbidden {
			t.Fatalf("dave completes the admins' task: %v, want 403", err)
		}
		done, err := e.svc.CompleteTask(ctx, e2eAdmin, camp.ID, it.ID, "detached in the console")
		if err != nil {
			t.Fatal(err)
		}
		if done.State != ItemTaskOpen || done.Remediation.State != RemediationDone || done.Remediation.DoneAt == nil {
			t.Fatalf("completed: state %s remediation %+v; want still task_open, remediation done", done.State, done.Remediation)
		}
		if !slices.ContainsFunc(done.Events, func(ev ItemEvent) bool {
			return ev.Kind == "remediation_done" && ev.By == "admin@example.com" && strings.Contains(ev.Detail, "detached in the console")
		}) {
			t.Errorf("events %+v", done.Events)
		}
		// The sync still shows the policy: nothing is verified.
		s2 := e.sync()
		if cur, _ := e.svc.Item(ctx, e2eAdmin, camp.ID, it.ID); cur.State != ItemTaskOpen {
			t.Fatalf("after %s, which still shows the policy, the item is %s", s2, cur.State)
		}
		e.sim.Do(func(w *awssim.World) {
			u := w.Accounts[e2eProd].Users["carol"]
			u.AttachedPolicies = slices.DeleteFunc(u.AttachedPolicies, func(p string) bool { return p == policyARN })
		})
		s3 := e.sync()
		cur, _ := e.svc.Item(ctx, e2eAdmin, camp.ID, it.ID)
		if cur.State != ItemRemediated || cur.Remediation.State != RemediationVerified || cur.Remediation.VerifiedSync != s3 {
			t.Fatalf("after %s: state %s remediation %+v; want remediated by %s", s3, cur.State, cur.Remediation, s3)
		}
	})
}

// leaseDoc lets everyone request access to accounts, approved by an admin.
const leaseDoc = `rules:
  - name: accounts
    requesters: {everyone: true}
    duration: {default: 1h, max: 4h}
    approval_policy: admins
policies:
  - name: admins
    steps:
      - name: Admins
        approvers: {admins: true}
`

// Access held through a just-in-time lease is reviewed as such, and a revoke ends the lease
// through its own path: the lease ends "revoked" by the reviewer, AWS no longer has the
// assignment, the remediation is done only then, and the next sync verifies it.
func TestLeaseEndedByReview(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newE2E(t, st, awsfetch.Config{})
		if _, err := e.leases.ApplyRules(ctx, e2eAdmin, []byte(leaseDoc)); err != nil {
			t.Fatal(err)
		}
		bob := &auth.Caller{Email: "bob@example.com"}
		ent := "account:" + e2eProd + ":" + e.ids["ps:Developer"]
		req, err := e.leases.Create(ctx, bob, jit.CreateInput{EntitlementID: ent, Reason: "deploy"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.leases.Approve(ctx, e2eAdmin, req.ID, "ok"); err != nil {
			t.Fatal(err)
		}
		leaseOfBob := func() *jit.Request {
			r, err := e.leases.Get(ctx, e2eAdmin, req.ID)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		deadline := time.Now().Add(30 * time.Second)
		for leaseOfBob().State != jit.StateActive {
			if time.Now().After(deadline) {
				t.Fatalf("bob's request is %s, want active", leaseOfBob().State)
			}
			time.Sleep(50 * time.Millisecond)
		}
		assignment := "assignment " + e2eProd + " Developer to user bob"
		if !slices.Contains(e.access(), assignment) {
			t.Fatal("the lease is active but AWS has no assignment")
		}
		e.sync()
		camp := e.startCampaign("Leases")
		lease := leaseOfBob().Lease
		it := e.find(e.items(camp.ID), "bob's Developer through his lease", func(it *Item) bool {
			return it.EntitlementID == ent && it.PrincipalID == e.ids["sso:bob"]
		})
		if it.Via != ViaLeasePrefix+lease.ID {
			t.Fatalf("bob's item is held via %q, want his lease %s", it.Via, lease.ID)
		}
		before := e.access()
		// A sync reads AWS while the lease is still active; it is ingested only after the
		// lease ended: it shows the access, so it verifies nothing.
		early := e.read()
		if _, err := e.svc.Decide(ctx, e2eDave, camp.ID, it.ID, DecisionInput{Decision: DecisionRevoke, Reason: "the deploy is over"}); err != nil {
			t.Fatal(err)
		}
		got := e.waitRemediation(camp.ID, it.ID, 30*time.Second, RemediationDone)
		if got.Remediation.Action != ActionRevokeLease || got.State != ItemRevocationPending {
			t.Errorf("remediation %+v state %s", got.Remediation, got.State)
		}
		if r := leaseOfBob(); r.State != jit.StateRevoked || r.Lease.EndReason != jit.EndRevoked {
			t.Errorf("bob's request is %s (lease %+v), want revoked", r.State, r.Lease)
		}
		l, err := st.GetLease(ctx, lease.ID)
		if err != nil || l.EndedBy != "dave@example.com" || l.State != store.LeaseEnded {
			t.Errorf("lease %+v (%v), want ended by dave", l, err)
		}
		removed, added := accessDiff(before, e.access())
		if !slices.Equal(removed, []string{assignment}) || len(added) != 0 {
			t.Fatalf("AWS changed: removed %q added %q; want only %q removed", removed, added, assignment)
		}
		stale := e.ingest(early)
		if cur, _ := e.svc.Item(ctx, e2eAdmin, camp.ID, it.ID); cur.State != ItemRevocationPending || cur.Remediation.VerifiedSync != "" {
			t.Fatalf("sync %s, read while the lease was active, verified it: state %s remediation %+v", stale, cur.State, cur.Remediation)
		}
		s := e.sync()
		cur, _ := e.svc.Item(ctx, e2eAdmin, camp.ID, it.ID)
		if cur.State != ItemRemediated || cur.Remediation.VerifiedSync != s {
			t.Errorf("after %s: state %s remediation %+v", s, cur.State, cur.Remediation)
		}
	})
}

// The next campaign of the same scope knows the last one: the access it revoked that is back
// (erin's Developer, granted again outside Gatehouse), the access it kept, and the access that
// is new since (bob's direct ReadOnly).
func TestCompareWithPreviousCampaign(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newE2E(t, st, awsfetch.Config{})
		first := e.startCampaign("Q3")
		devEnt := "account:" + e2eProd + ":" + e.ids["ps:Developer"]
		items := e.items(first.ID)
		erin := e.find(items, "erin's direct Developer", func(it *Item) bool {
			return it.EntitlementID == devEnt && it.PrincipalID == e.ids["sso:erin"] && it.Via == ViaDirect
		})
		for _, it := range items {
			d := DecisionInput{Decision: DecisionKeep, Reason: "needed"}
			if it.ID == erin.ID {
				d = DecisionInput{Decision: DecisionRevoke, Reason: "not needed"}
			}
			if _, err := e.svc.Decide(ctx, e2eDave, first.ID, it.ID, d); err != nil {
				t.Fatal(err)
			}
		}
		e.waitRemediation(first.ID, erin.ID, 30*time.Second, RemediationDone)
		e.sync()
		e.sim.Do(func(w *awssim.World) {
			w.AddAssignment(e2eProd, e.ids["psarn:Developer"], "USER", e.ids["sso:erin"])
			w.AddAssignment(e2eProd, e.ids["psarn:ReadOnly"], "USER", e.ids["sso:bob"])
		})
		e.sync()
		second := e.startCampaign("Q4")
		if second.Previous != first.ID {
			t.Fatalf("the second campaign's previous is %q, want %s", second.Previous, first.ID)
		}
		cmp, err := e.svc.Compare(ctx, &auth.Caller{Email: "audrey@example.com", Roles: []string{auth.RoleAuditor}}, second.ID)
		if err != nil {
			t.Fatal(err)
		}
		names := func(list []Item) []string {
			var out []string
			for _, it := range list {
				out = append(out, it.Identity+" "+it.EntitlementName+" "+it.Via)
			}
			slices.Sort(out)
			return out
		}
		if got := names(cmp.Returned); !slices.Equal(got, []string{"erin@example.com Developer on prod direct"}) {
			t.Errorf("returned %q, want erin's Developer", got)
		}
		if got := names(cmp.New); len(got) != 1 || !strings.HasPrefix(got[0], "bob@example.com ReadOnly") || !strings.HasSuffix(got[0], " direct") {
			t.Errorf("new %q, want bob's direct ReadOnly", got)
		}
		if len(cmp.Kept) != len(items)-1 || cmp.Previous != first.ID {
			t.Errorf("kept %d (previous %s), want the %d items kept last time", len(cmp.Kept), cmp.Previous, len(items)-1)
		}
		if _, err := e.svc.Compare(ctx, e2eDave, second.ID); CodeOf(err) != CodeForbidden {
			t.Errorf("a reviewer compares: %v, want 403", err)
		}
	})
}
