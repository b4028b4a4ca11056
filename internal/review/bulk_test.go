package review

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// A bulk keep decides the caller's items the filter matches and skips, with why, the
// admin-level ones (no reason) and the ones not theirs; one audit entry lists the items.
func TestDecideBulk(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		e.setOwners(mgmtID, "carol@example.com")
		e.setOwners(prodID, "dave@example.com")
		c := e.start("all", Scope{Accounts: []string{mgmtID, prodID}}, Reviewers{Owner: true})
		res, err := e.svc.DecideBulk(ctx, dave, c.ID, ItemQuery{}, DecisionInput{Decision: "keep"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Decided != 7 || len(res.Skipped) != 5 {
			t.Fatalf("decided %d, skipped %+v; want 7 and the 5 admin-level", res.Decided, res.Skipped)
		}
		for _, sk := range res.Skipped {
			if !strings.HasPrefix(sk.Why, "a reason is required to keep admin-level access") {
				t.Errorf("skipped %s: %s", sk.ItemID, sk.Why)
			}
		}
		// With a reason, the admin-level ones too, and nothing of carol's.
		res, err = e.svc.DecideBulk(ctx, dave, c.ID, ItemQuery{AdminOnly: true}, DecisionInput{Decision: "keep", Reason: "prod on-call"})
		if err != nil || res.Decided != 5 {
			t.Fatalf("admin-level with reason: %+v %v", res, err)
		}
		camp, _ := e.svc.Campaign(ctx, admin, c.ID)
		if camp.Progress.Kept != 12 || camp.Progress.Pending != camp.Progress.Total-12 || camp.Progress.Pending == 0 {
			t.Errorf("progress %+v", camp.Progress)
		}
		// An admin's bulk revoke filtered by carol: nothing is the admin's to decide.
		res, err = e.svc.DecideBulk(ctx, admin, c.ID, ItemQuery{Reviewer: "carol@example.com"}, DecisionInput{Decision: "revoke"})
		if err != nil || res.Decided != 0 || len(res.Skipped) != camp.Progress.Pending ||
			!strings.HasPrefix(res.Skipped[0].Why, "you are not the reviewer of item") {
			t.Errorf("admin's bulk: %+v %v", res, err)
		}
		entries, err := st.ListAudit(ctx, store.AuditFilter{Target: "campaign:" + c.ID, Limit: 20})
		if err != nil {
			t.Fatal(err)
		}
		var bulk []string
		for _, a := range entries {
			if a.Action == "review.decide_bulk" {
				bulk = append(bulk, a.Actor)
				if !strings.Contains(a.Detail, `"items":["it-`) {
					t.Errorf("bulk audit lists no items: %s", a.Detail)
				}
			}
		}
		if !reflect.DeepEqual(bulk, []string{"dave@example.com", "dave@example.com"}) {
			t.Errorf("bulk audit entries by %v", bulk)
		}
	})
}

// Delegation hands an item to another person (never its identity; the delegator keeps
// seeing it); reassignment is for admins and auditors.
func TestDelegateReassign(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		c := e.start("prod", Scope{Accounts: []string{prodID}}, Reviewers{People: []string{"dave@example.com"}})
		items := e.items(dave, c.ID, ItemQuery{})
		bobRO := e.find(items, e.assignment(prodID, "ReadOnly", "sso_user", e.ids["sso:bob"]), ViaDirect)
		if _, err := e.svc.Delegate(ctx, dave, c.ID, bobRO.ID, "bob@example.com", ""); CodeOf(err) != CodeInvalid ||
			err.Error() != "bob@example.com cannot review their own access; choose someone else" {
			t.Errorf("delegate to bob: %v", err)
		}
		if _, err := e.svc.Delegate(ctx, carol, c.ID, bobRO.ID, "erin@example.com", ""); CodeOf(err) != CodeForbidden {
			t.Errorf("carol delegates dave's item: %v", err)
		}
		it, err := e.svc.Delegate(ctx, dave, c.ID, bobRO.ID, "Carol@Example.com", "she runs support")
		if err != nil || !reflect.DeepEqual(it.Reviewers, []string{"carol@example.com"}) || it.Reviewer != "carol@example.com" {
			t.Fatalf("delegate: %+v %v", it, err)
		}
		if it.Events[len(it.Events)-1].Detail != "from dave@example.com to carol@example.com: she runs support" {
			t.Errorf("history: %+v", it.Events[len(it.Events)-1])
		}
		if _, err := e.svc.Decide(ctx, dave, c.ID, bobRO.ID, DecisionInput{Decision: "keep"}); CodeOf(err) != CodeForbidden {
			t.Errorf("dave decides after delegating: %v", err)
		}
		if _, err := e.svc.Item(ctx, dave, c.ID, bobRO.ID); err != nil {
			t.Errorf("dave reads what he delegated: %v", err)
		}
		inbox, _, _ := e.svc.Inbox(ctx, carol, ItemQuery{})
		if len(inbox) != 1 || inbox[0].ID != bobRO.ID {
			t.Errorf("carol's inbox: %v", keys(inbox))
		}
		if _, err := e.svc.Reassign(ctx, dave, c.ID, bobRO.ID, "erin@example.com", ""); CodeOf(err) != CodeForbidden {
			t.Errorf("dave reassigns: %v", err)
		}
		it, err = e.svc.Reassign(ctx, audr, c.ID, bobRO.ID, "erin@example.com", "carol is away")
		if err != nil || !reflect.DeepEqual(it.Reviewers, []string{"erin@example.com"}) {
			t.Fatalf("reassign: %+v %v", it, err)
		}
		if _, err := e.svc.Decide(ctx, erin, c.ID, bobRO.ID, DecisionInput{Decision: "keep"}); err != nil {
			t.Errorf("erin decides: %v", err)
		}
		if _, err := e.svc.Reassign(ctx, audr, c.ID, bobRO.ID, "dave@example.com", ""); CodeOf(err) != CodeConflict {
			t.Errorf("reassign a decided item: %v", err)
		}
		entries, _ := st.ListAudit(ctx, store.AuditFilter{Target: "campaign:" + c.ID + "/item:" + bobRO.ID, Limit: 10})
		var acts []string
		for _, a := range entries {
			acts = append(acts, a.Action+" by "+a.Actor)
		}
		slices.Sort(acts)
		want := []string{"review.decide by erin@example.com", "review.delegate by dave@example.com", "review.reassign by audrey@example.com"}
		if !reflect.DeepEqual(acts, want) {
			t.Errorf("audit %v", acts)
		}
	})
}
