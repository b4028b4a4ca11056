package jit

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

var ctx = context.Background()

func wantCode(t *testing.T, err error, code Code, contains string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %d %q", code, contains)
	}
	if CodeOf(err) != code {
		t.Fatalf("error %q has code %d, want %d", err, CodeOf(err), code)
	}
	if !strings.Contains(err.Error(), contains) {
		t.Fatalf("error %q does not say %q", err, contains)
	}
}

func history(r *Request) string {
	var parts []string
	for _, t := range r.Transitions {
		parts = append(parts, string(t.From)+">"+string(t.To)+" by "+t.By)
	}
	return strings.Join(parts, "; ")
}

// The main flow: a request goes to the Approvers group, one of them approves it, and every
// step is stored, audited and notified.
func TestRequestApprovedByGroupMember(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, testDoc)
		r, err := e.svc.Create(ctx, alice, CreateInput{EntitlementID: entAdmin, Duration: 90 * time.Minute, Reason: "incident 42"})
		if err != nil {
			t.Fatal(err)
		}
		if r.State != StatePendingApproval || r.Rule != "accounts" || r.Policy.Name != "approvers" || r.Duration != 90*time.Minute {
			t.Fatalf("created %+v", r)
		}
		if !strings.HasPrefix(r.ID, "req_") || len(r.ID) != 24 {
			t.Errorf("id %q, want req_ + 20 characters", r.ID)
		}
		want := Target{ConnectionID: conn, EntitlementID: entAdmin, Kind: KindAccountAssignment,
			DisplayName: "AdministratorAccess on prod (111111111111)", Application: "aws", AccountID: prodID, AccountName: "prod",
			PermissionSetARN: adminARN, PermissionSetID: psAdmin, PermissionSetName: "AdministratorAccess",
			PrincipalID: "u-alice", PrincipalName: "alice"}
		if r.Target != want {
			t.Errorf("target\n got %+v\nwant %+v", r.Target, want)
		}
		if len(r.Steps) != 1 || !reflect.DeepEqual(r.Steps[0].Approvers, []string{"bob@example.com", "carol@example.com"}) || r.Steps[0].State != "waiting" {
			t.Fatalf("steps %+v", r.Steps)
		}
		if ev := e.ev.last("approval_needed"); ev == nil || !reflect.DeepEqual(ev.To, []string{"bob@example.com", "carol@example.com"}) ||
			ev.URL != "https://gh.example.com/requests/"+r.ID {
			t.Errorf("approval_needed event %+v", ev)
		}
		// Bob's inbox has it; dave's has not, and dave cannot even see it.
		inbox, _, err := e.svc.List(ctx, bob, ListFilter{Scope: "to_approve"})
		if err != nil || len(inbox) != 1 || inbox[0].ID != r.ID {
			t.Fatalf("bob's inbox %v %v", inbox, err)
		}
		if inbox, _, _ := e.svc.List(ctx, dave, ListFilter{Scope: "to_approve"}); len(inbox) != 0 {
			t.Errorf("dave's inbox %v", inbox)
		}
		_, err = e.svc.Get(ctx, dave, r.ID)
		wantCode(t, err, CodeNotFound, "no request "+r.ID)

		e.clock.Add(time.Minute)
		got, err := e.svc.Approve(ctx, bob, r.ID, "ok")
		if err != nil {
			t.Fatal(err)
		}
		if got.State != StateApproved || got.Steps[0].State != "approved" || len(got.Steps[0].Approvals) != 1 ||
			got.Steps[0].Approvals[0].By != "bob@example.com" || got.Steps[0].Approvals[0].Reason != "ok" {
			t.Fatalf("approved %+v %+v", got, got.Steps)
		}
		if s := history(got); s != ">pending_approval by alice@example.com; pending_approval>approved by bob@example.com" {
			t.Errorf("transitions %s", s)
		}
		if inbox, _, _ := e.svc.List(ctx, bob, ListFilter{Scope: "to_approve"}); len(inbox) != 0 {
			t.Errorf("bob's inbox after deciding %v", inbox)
		}
		if dec, _, _ := e.svc.List(ctx, bob, ListFilter{Scope: "decided"}); len(dec) != 1 {
			t.Errorf("bob's decided list %v", dec)
		}
		if got := strings.Join(e.ev.kinds(), ","); got != "requested,approval_needed,approved" {
			t.Errorf("events %s", got)
		}
		// The audit log has the creation, the approval and the transition.
		var actions []string
		entries, err := st.ListAudit(ctx, store.AuditFilter{Action: "request.", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range entries {
			if strings.HasPrefix(a.Action, "request.") {
				actions = append(actions, a.Action+" "+a.Actor)
			}
		}
		if got := strings.Join(actions, ","); !strings.Contains(got, "request.create alice@example.com") ||
			!strings.Contains(got, "request.approval bob@example.com") || !strings.Contains(got, "request.approved bob@example.com") {
			t.Errorf("audit %s", got)
		}
	})
}

func TestAuthorizationAndIllegalMoves(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, testDoc)
		// Bob requests: he is in Approvers himself, and never approves his own request.
		r, err := e.svc.Create(ctx, bob, CreateInput{EntitlementID: entAdmin, Reason: "deploy"})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(r.Steps[0].Approvers, []string{"carol@example.com"}) {
			t.Errorf("approvers %v: the requester must not be among them", r.Steps[0].Approvers)
		}
		_, err = e.svc.Approve(ctx, bob, r.ID, "")
		wantCode(t, err, CodeForbidden, "nobody approves their own request")
		// Dave is not an approver (and cannot see it); an admin sees it but is no approver.
		_, err = e.svc.Approve(ctx, dave, r.ID, "")
		wantCode(t, err, CodeNotFound, "no request")
		_, err = e.svc.Approve(ctx, admin, r.ID, "")
		wantCode(t, err, CodeForbidden, "you are not among the approvers of step 1 (carol@example.com)")
		// Only the requester or an admin cancels.
		_, err = e.svc.Cancel(ctx, carol, r.ID, "")
		wantCode(t, err, CodeForbidden, "only the requester (bob@example.com) or an admin can cancel")
		c, err := e.svc.Cancel(ctx, bob, r.ID, "not needed")
		if err != nil || c.State != StateCancelled || c.Steps[0].State != "cancelled" {
			t.Fatalf("cancel: %v %+v", err, c)
		}
		// Every move out of a final state is a 409 naming the state.
		_, err = e.svc.Approve(ctx, carol, r.ID, "")
		wantCode(t, err, CodeConflict, "request "+r.ID+" is cancelled, so it cannot be approved")
		_, err = e.svc.Deny(ctx, carol, r.ID, "")
		wantCode(t, err, CodeConflict, "is cancelled, so it cannot be denied")
		_, err = e.svc.Cancel(ctx, bob, r.ID, "")
		wantCode(t, err, CodeConflict, "is cancelled, so it cannot be cancelled")

		// One denial ends it; the requester cannot deny either.
		r2, err := e.svc.Create(ctx, alice, CreateInput{EntitlementID: entAdmin, Reason: "x"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Deny(ctx, alice, r2.ID, "")
		wantCode(t, err, CodeForbidden, "nobody approves their own request")
		d, err := e.svc.Deny(ctx, carol, r2.ID, "too broad")
		if err != nil || d.State != StateDenied || d.Steps[0].State != "denied" {
			t.Fatalf("deny: %v %+v", err, d)
		}
		_, err = e.svc.Approve(ctx, bob, r2.ID, "")
		wantCode(t, err, CodeConflict, "is denied, so it cannot be approved")
		// An approved request cannot be approved again, and can still be cancelled.
		e.clock.Add(time.Minute)
		r3, err := e.svc.Create(ctx, alice, CreateInput{EntitlementID: entAdmin, Reason: "x"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Approve(ctx, carol, r3.ID, ""); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Approve(ctx, bob, r3.ID, "")
		wantCode(t, err, CodeConflict, "is approved, so it cannot be approved")
		_, err = e.svc.Deny(ctx, bob, r3.ID, "")
		wantCode(t, err, CodeConflict, "is approved, so it cannot be denied")
		if c, err := e.svc.Cancel(ctx, admin, r3.ID, "wrong account"); err != nil || c.State != StateCancelled {
			t.Fatalf("admin cancel of an approved request: %v", err)
		}

		// Visibility: others' requests are not listed or readable; auditors see all.
		_, _, err = e.svc.List(ctx, dave, ListFilter{Scope: "all"})
		wantCode(t, err, CodeForbidden, "only admins and auditors")
		_, _, err = e.svc.List(ctx, dave, ListFilter{Requester: "alice@example.com"})
		wantCode(t, err, CodeForbidden, "your requests are yours")
		all, _, err := e.svc.List(ctx, audr, ListFilter{Scope: "all"})
		if err != nil || len(all) != 3 {
			t.Fatalf("auditor's list: %d %v", len(all), err)
		}
		if _, err := e.svc.Get(ctx, audr, r.ID); err != nil {
			t.Errorf("auditor get: %v", err)
		}
		mine, _, err := e.svc.List(ctx, alice, ListFilter{})
		if err != nil || len(mine) != 2 || mine[0].ID != r3.ID || mine[1].ID != r2.ID {
			t.Fatalf("alice's list %v %v", mine, err)
		}
	})
}

func TestCreateRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, testDoc)
		_, err := e.svc.Create(ctx, alice, CreateInput{EntitlementID: entAdmin})
		wantCode(t, err, CodeInvalid, "give a reason: say why you need AdministratorAccess on prod (111111111111) (rule 'accounts' requires one)")
		_, err = e.svc.Create(ctx, alice, CreateInput{EntitlementID: entAdmin, Reason: "x", Duration: 5 * time.Hour})
		wantCode(t, err, CodeInvalid, "duration 5h is longer than the 4h that rule 'accounts' allows; ask for 4h or less")
		_, err = e.svc.Create(ctx, alice, CreateInput{EntitlementID: entAdmin, Reason: "x", Duration: 30 * time.Second})
		wantCode(t, err, CodeInvalid, "shorter than the minimum of 1m")
		_, err = e.svc.Create(ctx, frank, CreateInput{EntitlementID: entAdmin, Reason: "x"})
		wantCode(t, err, CodeForbidden, "You have no Identity Center user with the email or user name frank@example.com")
		_, err = e.svc.Create(ctx, alice, CreateInput{EntitlementID: "account:" + prodID + ":ps-cccccccccccccccc", Reason: "x"})
		wantCode(t, err, CodeNotFound, "no entitlement account:111111111111:ps-cccccccccccccccc in the inventory")
		_, err = e.svc.Create(ctx, alice, CreateInput{EntitlementID: entAdmin, Reason: "x", BreakGlass: true})
		wantCode(t, err, CodeForbidden, "rule 'accounts' does not allow break-glass access")
		_, err = e.svc.Create(ctx, nil, CreateInput{EntitlementID: entAdmin, Reason: "x"})
		wantCode(t, err, CodeForbidden, "sign in first")
		// The default duration is the rule's; a second open request for the same access is refused.
		r, err := e.svc.Create(ctx, alice, CreateInput{EntitlementID: entAdmin, Reason: "x"})
		if err != nil || r.Duration != time.Hour {
			t.Fatalf("default duration: %v %v", r, err)
		}
		_, err = e.svc.Create(ctx, alice, CreateInput{EntitlementID: entAdmin, Reason: "again"})
		wantCode(t, err, CodeConflict, "you already have request "+r.ID)
		// IAM group membership maps to the IAM user with alice's email tag in the group's account.
		g, err := e.svc.Create(ctx, alice, CreateInput{EntitlementID: entOps})
		if err != nil {
			t.Fatal(err)
		}
		if g.Target.Kind != KindIAMGroupMembership || g.Target.PrincipalID != "arn:aws:iam::111111111111:user/alice-iam" || g.Target.GroupID != opsARN {
			t.Errorf("IAM target %+v", g.Target)
		}
		_, err = e.svc.Create(ctx, bob, CreateInput{EntitlementID: entOps})
		wantCode(t, err, CodeForbidden, "You have no IAM user in account prod with an email tag of bob@example.com")
		// The Identity Center user is found by user name when no user has the email; a disabled
		// user cannot be given access.
		g, err = e.svc.Create(ctx, caller("greg@example.com"), CreateInput{EntitlementID: entRead})
		if err != nil || g.Target.PrincipalID != "u-greg" {
			t.Fatalf("greg by user name: %v %+v", err, g)
		}
		_, err = e.svc.Create(ctx, caller("hank@example.com"), CreateInput{EntitlementID: entRead})
		wantCode(t, err, CodeForbidden, "Your Identity Center user Hank is disabled; ask an admin to enable it.")
	})
}

// A policy whose only step is "nobody" approves at once (and hands the request to the grant).
func TestAutoApprove(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, testDoc)
		r, err := e.svc.Create(ctx, alice, CreateInput{EntitlementID: entRead})
		if err != nil {
			t.Fatal(err)
		}
		if r.State != StateApproved || r.Rule != "readonly" || !r.Steps[0].Auto || r.Steps[0].State != "approved" {
			t.Fatalf("auto: %+v", r)
		}
		if s := history(r); s != ">pending_approval by alice@example.com; pending_approval>approved by gatehouse" {
			t.Errorf("transitions %s", s)
		}
	})
}

// design.md: "an approver expression that selects nobody silently skipping the step". A step
// whose approvers are nobody but the requester goes to the fallback; with no fallback the
// request is refused with why.
func TestStepWithNobodyEligibleIsNeverSkipped(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, testDoc)
		// Carol is alice's manager: an ordinary manager step.
		r, err := e.svc.Create(ctx, alice, CreateInput{EntitlementID: entAppr})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(r.Steps[0].Approvers, []string{"carol@example.com"}) || r.Steps[0].UsesFallback {
			t.Fatalf("manager step %+v", r.Steps[0])
		}
		// Bob has no manager: the fallback (group Security: dave) decides, and the step says why.
		r, err = e.svc.Create(ctx, bob, CreateInput{EntitlementID: entAppr})
		if err != nil {
			t.Fatal(err)
		}
		s := r.Steps[0]
		if !s.UsesFallback || !reflect.DeepEqual(s.Approvers, []string{"dave@example.com"}) ||
			!strings.Contains(s.Note, "no manager is known for bob@example.com") || r.State != StatePendingApproval {
			t.Fatalf("fallback step %+v", s)
		}
		_, err = e.svc.Approve(ctx, carol, r.ID, "")
		wantCode(t, err, CodeNotFound, "no request") // carol is nobody's approver here
		if got, err := e.svc.Approve(ctx, dave, r.ID, ""); err != nil || got.State != StateApproved {
			t.Fatalf("fallback approval: %v", err)
		}
		// Dave's manager is unknown and dave is the whole fallback: nobody can approve, so the
		// request cannot be made, and the message says why and what to do.
		_, err = e.svc.Create(ctx, dave, CreateInput{EntitlementID: entAppr})
		wantCode(t, err, CodeInvalid, "This request cannot be made: step 1 (the requester's manager) needs 1 approval from the requester's manager, but nobody other than the requester is among them; no manager is known for dave@example.com, and the fallback approvers (group Security) cannot take it over either (nobody other than the requester is among them; the requester cannot approve their own request). Ask an admin to add approvers to policy 'manager'.")

		// With no fallback at all: a group with no members.
		if _, err := e.svc.ApplyRules(ctx, admin, []byte(strings.Replace(testDoc, "groups: [Approvers]}\n  - name: auto", "groups: [Nobody-here]}\n  - name: auto", 1))); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Create(ctx, erin, CreateInput{EntitlementID: entAdmin, Reason: "x"})
		wantCode(t, err, CodeInvalid, "This request cannot be made: step 1 (group Nobody-here) needs 1 approval from group Nobody-here, but nobody other than the requester is among them; group Nobody-here has no members with an email, and policy 'approvers' has no fallback approvers. Ask an admin to add approvers or a fallback to policy 'approvers'.")
	})
}

// distinct: the person who approved step 1 cannot approve step 2; both steps are needed.
func TestDistinctTwoSteps(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, testDoc)
		r, err := e.svc.Create(ctx, alice, CreateInput{EntitlementID: entDevAdm})
		if err != nil {
			t.Fatal(err)
		}
		if r.Rule != "dev" || !r.EndSessions || len(r.Steps) != 2 || r.Steps[1].State != "pending" {
			t.Fatalf("%+v", r)
		}
		r, err = e.svc.Approve(ctx, bob, r.ID, "step 1")
		if err != nil || r.State != StatePendingApproval || r.Steps[0].State != "approved" || r.Steps[1].State != "waiting" {
			t.Fatalf("after step 1: %v %+v", err, r)
		}
		_, err = e.svc.Approve(ctx, bob, r.ID, "again")
		wantCode(t, err, CodeForbidden, "you approved an earlier step, and this request's policy wants a different person for each step")
		if inbox, _, _ := e.svc.List(ctx, dave, ListFilter{Scope: "to_approve"}); len(inbox) != 1 {
			t.Errorf("dave's inbox %v", inbox)
		}
		if inbox, _, _ := e.svc.List(ctx, bob, ListFilter{Scope: "to_approve"}); len(inbox) != 0 {
			t.Errorf("bob's inbox %v", inbox)
		}
		r, err = e.svc.Approve(ctx, dave, r.ID, "step 2")
		if err != nil || r.State != StateApproved {
			t.Fatalf("after step 2: %v %+v", err, r)
		}
		if ev := e.ev.last("approval_needed"); ev == nil || !reflect.DeepEqual(ev.To, []string{"dave@example.com"}) {
			t.Errorf("step 2's approval_needed went to %+v", ev)
		}
	})
}

// Editing a policy never changes a request in flight: the request keeps its snapshot and its
// approvers.
func TestPolicyEditDoesNotChangeRequestInFlight(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, testDoc)
		r, err := e.svc.Create(ctx, alice, CreateInput{EntitlementID: entAdmin, Reason: "x"})
		if err != nil {
			t.Fatal(err)
		}
		edited := strings.Replace(testDoc, "      - approvers: {groups: [Approvers]}\n  - name: auto",
			"      - approvers: {groups: [Security]}\n        required: 1\n  - name: auto", 1)
		if v, err := e.svc.ApplyRules(ctx, admin, []byte(edited)); err != nil || v != 2 {
			t.Fatalf("apply: %d %v", v, err)
		}
		_, err = e.svc.Approve(ctx, dave, r.ID, "")
		wantCode(t, err, CodeNotFound, "no request")
		got, err := e.svc.Approve(ctx, carol, r.ID, "")
		if err != nil || got.State != StateApproved || !strings.Contains(string(got.Policy.Doc), "Approvers") {
			t.Fatalf("approve under the snapshot: %v %s", err, got.Policy.Doc)
		}
		// A new request follows the new policy.
		n, err := e.svc.Create(ctx, erin, CreateInput{EntitlementID: entAdmin, Reason: "x"})
		if err != nil || !reflect.DeepEqual(n.Steps[0].Approvers, []string{"dave@example.com"}) {
			t.Fatalf("new request: %v %+v", err, n)
		}
	})
}

func TestBreakGlass(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, testDoc)
		_, err := e.svc.Create(ctx, alice, CreateInput{EntitlementID: entDevAdm, BreakGlass: true})
		wantCode(t, err, CodeInvalid, "break-glass access is reviewed after the fact")
		r, err := e.svc.Create(ctx, alice, CreateInput{EntitlementID: entDevAdm, BreakGlass: true, Reason: "prod down"})
		if err != nil {
			t.Fatal(err)
		}
		if r.State != StateApproved || !r.BreakGlass || r.ReviewedBy != "" {
			t.Fatalf("break-glass %+v", r)
		}
		for _, s := range r.Steps {
			if s.State != "not_reached" || len(s.Approvals) != 0 || !strings.HasPrefix(s.Note, "break-glass") {
				t.Errorf("a break-glass request's step says %s (%q)", s.State, s.Note)
			}
		}
		if s := history(r); s != ">pending_approval by alice@example.com; pending_approval>approved by alice@example.com" {
			t.Errorf("transitions %s", s)
		}
		ev := e.ev.last("break_glass")
		if ev == nil || !reflect.DeepEqual(ev.To, []string{"bob@example.com", "carol@example.com", "dave@example.com"}) {
			t.Fatalf("break_glass event %+v", ev)
		}
		if inbox, _, _ := e.svc.List(ctx, dave, ListFilter{Scope: "to_approve"}); len(inbox) != 1 {
			t.Errorf("review in dave's inbox: %v", inbox)
		}
		_, err = e.svc.Approve(ctx, alice, r.ID, "")
		wantCode(t, err, CodeForbidden, "you cannot review it")
		// The access runs its course before anyone reviews it: the review stays in the inboxes.
		for _, m := range [][2]State{{StateApproved, StateProvisioning}, {StateProvisioning, StateActive}, {StateActive, StateExpiring}, {StateExpiring, StateExpired}} {
			if err := st.InTx(ctx, func(tx *store.Tx) error {
				_, err := e.svc.transitionTx(ctx, tx, r.ID, []State{m[0]}, m[1], SystemActor, "", "")
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		if inbox, _, _ := e.svc.List(ctx, dave, ListFilter{Scope: "to_approve"}); len(inbox) != 1 || inbox[0].State != StateExpired {
			t.Errorf("review in dave's inbox after the access ended: %v", inbox)
		}
		got, err := e.svc.Approve(ctx, dave, r.ID, "looked fine")
		if err != nil || got.ReviewedBy != "dave@example.com" || got.ReviewedAt == nil {
			t.Fatalf("review: %v %+v", err, got)
		}
		if inbox, _, _ := e.svc.List(ctx, bob, ListFilter{Scope: "to_approve"}); len(inbox) != 0 {
			t.Errorf("reviewed, still in bob's inbox: %v", inbox)
		}
		_, err = e.svc.Approve(ctx, bob, r.ID, "")
		wantCode(t, err, CodeConflict, "so it cannot be approved")
	})
}

func TestRulesSeedAndApply(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, "")
		doc, v, err := e.svc.Rules(ctx)
		if err != nil || v != 0 || !strings.Contains(string(doc), "name: accounts-everyone") || !strings.Contains(string(doc), "admins: true") {
			t.Fatalf("seed: %d %v\n%s", v, err, doc)
		}
		// The server stores the seed as version 1, once.
		if err := e.svc.SeedRules(ctx); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.SeedRules(ctx); err != nil {
			t.Fatal(err)
		}
		seeded, v, err := e.svc.Rules(ctx)
		if err != nil || v != 1 || !strings.HasSuffix(string(seeded), string(doc)) {
			t.Fatalf("seeded: %d %v\n%s", v, err, seeded)
		}
		// The seed works out of the box: anyone requests, an admin approves.
		r, err := e.svc.Create(ctx, alice, CreateInput{EntitlementID: entAdmin, Reason: "x"})
		if err != nil || r.Rule != "accounts-everyone" || !reflect.DeepEqual(r.Steps[0].Approvers, []string{"admin@example.com"}) {
			t.Fatalf("seed request: %v %+v", err, r)
		}
		_, err = e.svc.ApplyRules(ctx, alice, []byte(testDoc))
		wantCode(t, err, CodeForbidden, "only admins")
		_, err = e.svc.ApplyRules(ctx, admin, []byte("rules:\n  - name: a\n    requesters: {everyone: true}\n    approval_policy: nope\n"))
		if err == nil || err.Error() != `rules.yaml:4:22: rules[0].approval_policy: no approval policy is called "nope"; define it under policies: (see docs/jit.md)` {
			t.Fatalf("bad doc: %v", err)
		}
		if _, v, _ := e.svc.Rules(ctx); v != 1 {
			t.Errorf("a bad document changed the version to %d", v)
		}
		if v, err := e.svc.ApplyRules(ctx, admin, []byte("# ours\n"+testDoc)); err != nil || v != 2 {
			t.Fatalf("apply: %d %v", v, err)
		}
		doc, v, _ = e.svc.Rules(ctx)
		if v != 2 || !strings.HasPrefix(string(doc), "# ours\n") {
			t.Errorf("stored document %d %q", v, doc[:20])
		}
	})
}

func TestOwnersApprove(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, strings.Replace(testDoc, "approvers: {groups: [Approvers]}\n  - name: auto", "approvers: {owners: true}\n    fallback: {admins: true}\n  - name: auto", 1))
		err := e.svc.SetOwners(ctx, bob, OwnerAccount, prodID, []string{"erin@example.com"})
		wantCode(t, err, CodeForbidden, "only admins set owners")
		if err := e.svc.SetOwners(ctx, admin, OwnerAccount, prodID, []string{"Erin@Example.com"}); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.SetOwners(ctx, admin, OwnerPermissionSet, psAdmin, []string{"dave@example.com"}); err != nil {
			t.Fatal(err)
		}
		if o, _ := e.svc.Owners(ctx, OwnerAccount, prodID); !reflect.DeepEqual(o, []string{"erin@example.com"}) {
			t.Errorf("owners %v", o)
		}
		r, err := e.svc.Create(ctx, alice, CreateInput{EntitlementID: entAdmin, Reason: "x"})
		if err != nil || !reflect.DeepEqual(r.Steps[0].Approvers, []string{"dave@example.com", "erin@example.com"}) {
			t.Fatalf("owners step: %v %+v", err, r)
		}
		// ReadOnly has no permission-set owner: the account's owner alone.
		if err := e.svc.SetOwners(ctx, admin, OwnerAccount, devID, nil); err != nil {
			t.Fatal(err)
		}
	})
}

// Two approvers deciding one request at the same moment: exactly one approval counts, the
// other is told the request moved on (409), and the request is approved once.
func TestConcurrentDecisions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, testDoc)
		for round := range 5 {
			r, err := e.svc.Create(ctx, alice, CreateInput{EntitlementID: entAdmin, Reason: "x"})
			if err != nil {
				t.Fatal(err)
			}
			errs := make(chan error, 2)
			for _, who := range []*auth.Caller{bob, carol} {
				go func() {
					var err error
					if round%2 == 0 {
						_, err = e.svc.Approve(ctx, who, r.ID, "")
					} else if who == bob {
						_, err = e.svc.Approve(ctx, who, r.ID, "")
					} else {
						_, err = e.svc.Deny(ctx, who, r.ID, "")
					}
					errs <- err
				}()
			}
			e1, e2 := <-errs, <-errs
			if (e1 == nil) == (e2 == nil) {
				t.Fatalf("round %d: both or neither decided: %v / %v", round, e1, e2)
			}
			lost := e1
			if lost == nil {
				lost = e2
			}
			if CodeOf(lost) != CodeConflict {
				t.Fatalf("round %d: the second decision got %v, want 409", round, lost)
			}
			got, _ := e.svc.Get(ctx, alice, r.ID)
			if len(got.Transitions) != 2 || len(got.Steps[0].Approvals) != 1 {
				t.Fatalf("round %d: %s, decisions %+v", round, history(got), got.Steps[0].Approvals)
			}
			if got.State == StateApproved {
				if _, err := e.svc.Cancel(ctx, alice, r.ID, ""); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

// A pending extension (L's Extend records it) goes to the request's approvers: never the
// requester; one of them denies it, and the request stays active.
func TestPendingExtensionDecisions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, testDoc)
		r, err := e.svc.Create(ctx, alice, CreateInput{EntitlementID: entAdmin, Reason: "x"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Approve(ctx, bob, r.ID, ""); err != nil {
			t.Fatal(err)
		}
		forceState(t, st, r.ID, StateActive)
		if need, err := extensionNeedsApproval(r); err != nil || !need {
			t.Fatalf("approvers policy: extension needs approval = %v %v", need, err)
		}
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			return e.svc.setPendingExtensionTx(ctx, tx, r.ID, &Extension{Duration: 30 * time.Minute, Reason: "more", RequestedAt: e.clock.Now()})
		}); err != nil {
			t.Fatal(err)
		}
		got, _ := e.svc.Get(ctx, alice, r.ID)
		if got.PendingExtension == nil || got.PendingExtension.Duration != 30*time.Minute || got.PendingExtension.Reason != "more" {
			t.Fatalf("pending extension %+v", got.PendingExtension)
		}
		if ev := e.ev.last("extension_requested"); ev == nil || !reflect.DeepEqual(ev.To, []string{"bob@example.com", "carol@example.com"}) {
			t.Errorf("extension_requested %+v", ev)
		}
		if inbox, _, _ := e.svc.List(ctx, carol, ListFilter{Scope: "to_approve"}); len(inbox) != 1 {
			t.Errorf("carol's inbox %v", inbox)
		}
		_, err = e.svc.Approve(ctx, alice, r.ID, "")
		wantCode(t, err, CodeForbidden, "you made request "+r.ID+", so you cannot approve its extension")
		_, err = e.svc.Deny(ctx, dave, r.ID, "")
		wantCode(t, err, CodeNotFound, "no request")
		got, err = e.svc.Deny(ctx, carol, r.ID, "enough")
		if err != nil || got.PendingExtension != nil || got.State != StateActive {
			t.Fatalf("deny extension: %v %+v", err, got)
		}
		if inbox, _, _ := e.svc.List(ctx, carol, ListFilter{Scope: "to_approve"}); len(inbox) != 0 {
			t.Errorf("carol's inbox after deciding %v", inbox)
		}
		_, err = e.svc.Deny(ctx, carol, r.ID, "")
		wantCode(t, err, CodeConflict, "is active, so it cannot be denied")
		// An approver's Approve of a pending extension gives the lease the time.
		leaseDuration := func(id string) time.Duration {
			l, err := st.LeaseOfRequest(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return l.Duration
		}
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			return e.svc.setPendingExtensionTx(ctx, tx, r.ID, &Extension{Duration: 20 * time.Minute, Reason: "again"})
		}); err != nil {
			t.Fatal(err)
		}
		got, err = e.svc.Approve(ctx, bob, r.ID, "fine")
		if err != nil || got.PendingExtension != nil || leaseDuration(r.ID) != 80*time.Minute {
			t.Fatalf("approve extension: %v %+v, lease %s", err, got.PendingExtension, leaseDuration(r.ID))
		}
		// A policy that approves automatically extends without approval.
		auto, err := e.svc.Create(ctx, alice, CreateInput{EntitlementID: entRead})
		if err != nil {
			t.Fatal(err)
		}
		if need, _ := extensionNeedsApproval(auto); need {
			t.Error("an auto-approved request's extension waits for approval")
		}
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			return e.svc.setPendingExtensionTx(ctx, tx, auto.ID, &Extension{Duration: 15 * time.Minute})
		}); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.svc.Get(ctx, alice, auto.ID); got.PendingExtension != nil || leaseDuration(auto.ID) != 75*time.Minute {
			t.Errorf("auto extension: pending %+v, lease %s", got.PendingExtension, leaseDuration(auto.ID))
		}
	})
}

// Two requests for the same access made at the same moment: one is made, the other is told
// about it (409).
func TestConcurrentDuplicateRequests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, testDoc)
		for round := range 4 {
			errs := make(chan error, 3)
			ids := make(chan string, 3)
			for range 3 {
				go func() {
					r, err := e.svc.Create(ctx, alice, CreateInput{EntitlementID: entAdmin, Reason: "x"})
					if err == nil {
						ids <- r.ID
					}
					errs <- err
				}()
			}
			made := 0
			for range 3 {
				if err := <-errs; err == nil {
					made++
				} else if CodeOf(err) != CodeConflict || !strings.Contains(err.Error(), "you already have request") {
					t.Fatalf("round %d: %v", round, err)
				}
			}
			if made != 1 {
				t.Fatalf("round %d: %d requests made for one access at once, want 1", round, made)
			}
			if _, err := e.svc.Cancel(ctx, alice, <-ids, ""); err != nil {
				t.Fatal(err)
			}
		}
	})
}
