package review

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// setOwners makes emails the owners of an account.
func (e *env) setOwners(account string, emails ...string) {
	e.t.Helper()
	err := e.st.InTx(context.Background(), func(tx *store.Tx) error {
		return tx.SetOwners(context.Background(), store.OwnerAccount, account, emails, "admin@example.com", time.Now())
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// Nobody decides their own access: with alice and dave as reviewers, alice's items go to
// dave only, and alice deciding one is refused with where it goes; the freeze's history
// says why.
func TestNobodyDecidesOwnAccess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		c := e.start("prod", Scope{Accounts: []string{prodID}}, Reviewers{People: []string{"alice@example.com"}, Fallback: []string{"carol@example.com"}})
		items := e.items(admin, c.ID, ItemQuery{})
		own := e.find(items, e.assignment(prodID, "AdministratorAccess", "sso_user", e.ids["sso:alice"]), ssoMember(e.ids["group:Admins"]))
		if !reflect.DeepEqual(own.Reviewers, []string{"carol@example.com"}) {
			t.Fatalf("alice's own item goes to %v, want the fallback carol", own.Reviewers)
		}
		_, err := e.svc.Decide(ctx, alice, c.ID, own.ID, DecisionInput{Decision: DecisionKeep, Reason: "I need it"})
		if CodeOf(err) != CodeForbidden || err.Error() != "this is your own access: it goes to carol@example.com" {
			t.Fatalf("alice decides her own access: %v", err)
		}
		// alice reviews bob's items, and sees none of her own.
		mine := e.items(alice, c.ID, ItemQuery{})
		for _, it := range mine {
			if it.Identity == "alice@example.com" {
				t.Errorf("alice sees her own item %s", it.ID)
			}
		}
		if len(mine) != 12-3 {
			t.Errorf("alice sees %d items, want the 9 that are not hers", len(mine))
		}
		full, err := e.svc.Item(ctx, carol, c.ID, own.ID)
		if err != nil {
			t.Fatal(err)
		}
		var notes []string
		for _, ev := range full.Events {
			notes = append(notes, ev.Kind+": "+ev.Detail)
		}
		if !slices.Contains(notes, "reviewer_fallback: goes to the fallback reviewers carol@example.com: alice@example.com would review their own access") {
			t.Errorf("history of alice's item: %q", notes)
		}
		// An admin deciding an item that is not theirs is refused too.
		if _, err := e.svc.Decide(ctx, admin, c.ID, own.ID, DecisionInput{Decision: DecisionRevoke}); CodeOf(err) != CodeForbidden ||
			err.Error() != "you are not the reviewer of item "+own.ID+": it waits for carol@example.com" {
			t.Errorf("admin decides: %v", err)
		}
		if _, err := e.svc.Decide(ctx, carol, c.ID, own.ID, DecisionInput{Decision: DecisionRevoke, Reason: "left the team"}); err != nil {
			t.Errorf("carol decides: %v", err)
		}
	})
}

// A reviewer sees and decides only their items: with owners as reviewers, carol (owner of
// management) sees management's items only, cannot read or decide prod's (dave's), and her
// inbox holds hers; "reviewer" is her role while items wait for her.
func TestReviewerSeesOnlyTheirItems(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		e.setOwners(mgmtID, "carol@example.com")
		e.setOwners(prodID, "dave@example.com")
		c := e.start("all", Scope{Accounts: []string{mgmtID, prodID}}, Reviewers{Owner: true})
		all := e.items(audr, c.ID, ItemQuery{})
		var mgmt, prod []string
		for _, it := range all {
			switch it.AccountID {
			case mgmtID:
				mgmt = append(mgmt, it.ID)
			case prodID:
				prod = append(prod, it.ID)
			}
		}
		if len(mgmt) == 0 || len(prod) != 12 {
			t.Fatalf("management %d items, prod %d", len(mgmt), len(prod))
		}
		var carols []string
		for _, it := range e.items(carol, c.ID, ItemQuery{}) {
			carols = append(carols, it.ID)
		}
		if !reflect.DeepEqual(carols, mgmt) {
			t.Fatalf("carol sees %v, want management's %v", carols, mgmt)
		}
		inbox, _, err := e.svc.Inbox(ctx, carol, ItemQuery{})
		if err != nil || len(inbox) != len(mgmt) || inbox[0].CampaignID != c.ID {
			t.Fatalf("carol's inbox: %d items, %v", len(inbox), err)
		}
		if _, err := e.svc.Item(ctx, carol, c.ID, prod[0]); CodeOf(err) != CodeForbidden {
			t.Errorf("carol reads a prod item: %v", err)
		}
		if _, err := e.svc.Decide(ctx, carol, c.ID, prod[0], DecisionInput{Decision: DecisionRevoke, Reason: "x"}); CodeOf(err) != CodeForbidden ||
			!strings.HasPrefix(err.Error(), "you are not the reviewer of item "+prod[0]) {
			t.Errorf("carol decides a prod item: %v", err)
		}
		if _, _, err := e.svc.Items(ctx, carol, c.ID, ItemQuery{Reviewer: "dave@example.com"}); CodeOf(err) != CodeForbidden {
			t.Errorf("carol lists dave's items: %v", err)
		}
		if _, _, err := e.svc.Items(ctx, erin, c.ID, ItemQuery{}); CodeOf(err) != CodeForbidden {
			t.Errorf("erin lists the campaign: %v", err)
		}
		if list, _, err := e.svc.Campaigns(ctx, erin, CampaignQuery{}); err != nil || len(list) != 0 {
			t.Errorf("erin's campaigns: %v %v", list, err)
		}
		if list, _, err := e.svc.Campaigns(ctx, carol, CampaignQuery{}); err != nil || len(list) != 1 {
			t.Errorf("carol's campaigns: %v %v", list, err)
		}
		roles, err := e.svc.Roles(ctx, "Carol@Example.com")
		if err != nil || !reflect.DeepEqual(roles, []string{"reviewer"}) {
			t.Errorf("carol's roles %v %v", roles, err)
		}
		if roles, _ := e.svc.Roles(ctx, "erin@example.com"); len(roles) != 0 {
			t.Errorf("erin's roles %v", roles)
		}
		// carol decides all hers: no longer a reviewer.
		for _, id := range mgmt {
			if _, err := e.svc.Decide(ctx, carol, c.ID, id, DecisionInput{Decision: DecisionKeep, Reason: "still needed"}); err != nil {
				t.Fatal(err)
			}
		}
		if roles, _ := e.svc.Roles(ctx, "carol@example.com"); len(roles) != 0 {
			t.Errorf("carol's roles once done: %v", roles)
		}
		camp, err := e.svc.Campaign(ctx, admin, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []ReviewerProgress{{Reviewer: "carol@example.com", Total: len(mgmt), Decided: len(mgmt)}, {Reviewer: "dave@example.com", Total: 12, Pending: 12}}
		if !reflect.DeepEqual(camp.ByReviewer, want) || camp.Progress.Kept != len(mgmt) || camp.Progress.Pending != 12 {
			t.Errorf("progress %+v by reviewer %+v", camp.Progress, camp.ByReviewer)
		}
	})
}

// Keeping admin-level access needs a reason (400 saying so); a keep with one is kept; a
// revoke is revocation_pending with its remediation queued; an item is decided once.
func TestDecideKeepRevoke(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		c := e.start("prod", Scope{Accounts: []string{prodID}}, Reviewers{People: []string{"dave@example.com"}})
		items := e.items(dave, c.ID, ItemQuery{})
		adminItem := e.find(items, e.assignment(prodID, "AdministratorAccess", "sso_user", e.ids["sso:alice"]), ssoMember(e.ids["group:Admins"]))
		_, err := e.svc.Decide(ctx, dave, c.ID, adminItem.ID, DecisionInput{Decision: "keep"})
		if CodeOf(err) != CodeInvalid || err.Error() != "a reason is required to keep admin-level access (AdministratorAccess on prod of alice@example.com); say why it is still needed" {
			t.Fatalf("keep admin without reason: %v", err)
		}
		if _, err := e.svc.Decide(ctx, dave, c.ID, adminItem.ID, DecisionInput{Decision: "maybe"}); CodeOf(err) != CodeInvalid ||
			err.Error() != `decision is "maybe"; use keep or revoke` {
			t.Errorf("bad decision: %v", err)
		}
		it, err := e.svc.Decide(ctx, dave, c.ID, adminItem.ID, DecisionInput{Decision: "keep", Reason: "on-call lead"})
		if err != nil || it.State != ItemKept || it.Decision != DecisionKeep || it.DecidedBy != "dave@example.com" || it.Reason != "on-call lead" {
			t.Fatalf("keep with reason: %+v %v", it, err)
		}
		// A non-admin item needs no reason to keep.
		ro := e.find(items, e.assignment(prodID, "ReadOnly", "sso_user", e.ids["sso:bob"]), ViaDirect)
		if it, err := e.svc.Decide(ctx, dave, c.ID, ro.ID, DecisionInput{Decision: "keep"}); err != nil || it.State != ItemKept {
			t.Fatalf("keep read-only: %v", err)
		}
		erinRO := e.find(items, e.assignment(prodID, "ReadOnly", "sso_user", e.ids["sso:erin"]), ssoMember(e.ids["group:Developers"]))
		it, err = e.svc.Decide(ctx, dave, c.ID, erinRO.ID, DecisionInput{Decision: "revoke", Reason: "left"})
		if err != nil || it.State != ItemRevocationPending || it.Remediation == nil || it.Remediation.State != RemediationQueued ||
			it.Remediation.Action != ActionRemoveSSOMember {
			t.Fatalf("revoke: %+v %+v %v", it, it.Remediation, err)
		}
		var hist []string
		for _, ev := range it.Events {
			hist = append(hist, ev.Kind+" by "+ev.By+" "+ev.Decision+": "+ev.Detail)
		}
		wantHist := []string{"frozen by gatehouse : frozen from sync s1; reviewers: dave@example.com", "decided by dave@example.com revoke: left",
			"remediation_started by gatehouse : Remove erin@example.com from the Identity Center group Developers (this removes every access erin@example.com holds through Developers, not only ReadOnly on prod)"}
		if !reflect.DeepEqual(hist, wantHist) {
			t.Errorf("history %q", hist)
		}
		if it.Plan != it.Remediation.Description {
			t.Errorf("the plan shown before deciding %q is not what the revoke does %q", it.Plan, it.Remediation.Description)
		}
		if k := e.queue.kinds(); len(k) != 1 || k[0] != "review_remediate" {
			t.Errorf("jobs queued: %v", k)
		}
		if _, err := e.svc.Decide(ctx, dave, c.ID, erinRO.ID, DecisionInput{Decision: "keep"}); CodeOf(err) != CodeConflict {
			t.Errorf("second decision: %v", err)
		}
		// Filters: what is left to decide, and the revoked.
		left := e.items(dave, c.ID, ItemQuery{Decision: "none"})
		if len(left) != 12-3 {
			t.Errorf("%d undecided, want 9", len(left))
		}
		revoked := e.items(admin, c.ID, ItemQuery{State: ItemRevocationPending})
		if len(revoked) != 1 || revoked[0].ID != erinRO.ID {
			t.Errorf("revocation pending: %v", keys(revoked))
		}
		// A closed campaign takes no decisions.
		if _, err := e.svc.Close(ctx, audr, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Decide(ctx, dave, c.ID, left[0].ID, DecisionInput{Decision: "revoke"}); CodeOf(err) != CodeConflict ||
			err.Error() != "campaign "+c.ID+" is closed: it takes no decisions" {
			t.Errorf("decide when closed: %v", err)
		}
		entries, err := st.ListAudit(ctx, store.AuditFilter{Target: "campaign:" + c.ID + "/item:" + erinRO.ID, Limit: 10})
		if err != nil || len(entries) != 1 || entries[0].Actor != "dave@example.com" || !strings.Contains(entries[0].Detail, `"decision":"revoke"`) {
			t.Errorf("audit of the revoke: %+v %v", entries, err)
		}
	})
}
