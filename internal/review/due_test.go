package review

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// startDue creates and starts a campaign over prod due in 14 days with the undecided policy.
func (e *env) startDue(undecided string, r Reviewers) *Campaign {
	e.t.Helper()
	ctx := context.Background()
	c, err := e.svc.CreateCampaign(ctx, admin, CampaignInput{Name: "due " + undecided, Scope: Scope{Accounts: []string{prodID}}, Reviewers: r,
		Due: e.clock.Now().Add(14 * 24 * time.Hour), Undecided: undecided})
	if err != nil {
		e.t.Fatal(err)
	}
	if c, err = e.svc.Start(ctx, admin, c.ID); err != nil {
		e.t.Fatal(err)
	}
	return c
}

// At the due date, undecided items follow the campaign: keep (by gatehouse, saying why) —
// decided items stay as decided — and nothing happens before the due date or twice.
func TestDueKeep(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		c := e.startDue(UndecidedKeep, Reviewers{People: []string{"dave@example.com"}})
		items := e.items(dave, c.ID, ItemQuery{})
		revoked := e.find(items, e.assignment(prodID, "ReadOnly", "sso_user", e.ids["sso:erin"]), ssoMember(e.ids["group:Developers"]))
		if _, err := e.svc.Decide(ctx, dave, c.ID, revoked.ID, DecisionInput{Decision: "revoke", Reason: "left"}); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(14*24*time.Hour - time.Minute)
		if err := e.svc.HandleDue(ctx); err != nil {
			t.Fatal(err)
		}
		if got := len(e.items(admin, c.ID, ItemQuery{State: ItemPending})); got != 11 {
			t.Fatalf("before the due date: %d pending, want 11", got)
		}
		e.clock.Add(time.Minute)
		if err := e.svc.HandleDue(ctx); err != nil {
			t.Fatal(err)
		}
		for _, it := range e.items(admin, c.ID, ItemQuery{}) {
			if it.ID == revoked.ID {
				if it.State != ItemRevocationPending || it.DecidedBy != "dave@example.com" {
					t.Errorf("dave's revoke changed: %s by %s", it.State, it.DecidedBy)
				}
				continue
			}
			if it.State != ItemKept || it.DecidedBy != "gatehouse" || it.Reason != "due date passed; campaign says keep" {
				t.Errorf("%s: %s by %q (%q)", it.ID, it.State, it.DecidedBy, it.Reason)
			}
		}
		if err := e.svc.HandleDue(ctx); err != nil {
			t.Fatal(err)
		}
		full, _ := e.svc.Item(ctx, admin, c.ID, items[0].ID)
		if n := len(full.Events); n != 2 || full.Events[1].Kind != "auto_decided" {
			t.Errorf("history after two runs: %+v", full.Events)
		}
		if roles, _ := e.svc.Roles(ctx, "dave@example.com"); len(roles) != 0 {
			t.Errorf("dave is still a reviewer: %v", roles)
		}
	})
}

// revoke: undecided items are revoked by gatehouse and their remediation starts.
func TestDueRevoke(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		c := e.startDue(UndecidedRevoke, Reviewers{People: []string{"dave@example.com"}})
		e.clock.Add(15 * 24 * time.Hour)
		if err := e.svc.HandleDue(ctx); err != nil {
			t.Fatal(err)
		}
		camp, _ := e.svc.Campaign(ctx, admin, c.ID)
		// The policies attached to the two IAM groups become owner tasks (Gatehouse does not
		// change IAM policies); the rest, policies held through a group included, are queued.
		if camp.Progress.Pending != 0 || camp.Progress.RevocationPending != 10 || camp.Progress.TaskOpen != 2 {
			t.Errorf("progress %+v", camp.Progress)
		}
		if n := len(e.queue.kinds()); n != 10 {
			t.Errorf("%d remediation jobs, want 10", n)
		}
		for _, it := range e.items(admin, c.ID, ItemQuery{}) {
			if it.Decision != DecisionRevoke || it.DecidedBy != "gatehouse" || it.Reason != "due date passed; campaign says revoke" {
				t.Errorf("%s: %s by %s", it.ID, it.Decision, it.DecidedBy)
			}
		}
	})
}

// escalate: undecided items go to the fallback reviewers (never their own person), who
// are told; the due date moves 7 days, once; what is still undecided then stays pending.
func TestDueEscalate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		c := e.startDue(UndecidedEscalate, Reviewers{People: []string{"dave@example.com"}, Fallback: []string{"alice@example.com", "carol@example.com"}})
		due := c.Due
		e.clock.Add(14 * 24 * time.Hour)
		if err := e.svc.HandleDue(ctx); err != nil {
			t.Fatal(err)
		}
		camp, _ := e.svc.Campaign(ctx, admin, c.ID)
		if !camp.Due.Equal(due.Add(7*24*time.Hour)) || camp.Progress.Pending != 12 {
			t.Fatalf("after escalation: due %s, %+v", camp.Due, camp.Progress)
		}
		for _, it := range e.items(admin, c.ID, ItemQuery{}) {
			want := []string{"alice@example.com", "carol@example.com"}
			if it.Identity == "alice@example.com" {
				want = []string{"carol@example.com"}
			}
			if !reflect.DeepEqual(it.Reviewers, want) {
				t.Errorf("%s (%s): reviewers %v, want %v", it.ID, it.Identity, it.Reviewers, want)
			}
		}
		evs := e.ev.of("review_escalated")
		if len(evs) != 2 || evs[0].To[0] != "alice@example.com" || evs[0].Pending != 9 || evs[1].To[0] != "carol@example.com" || evs[1].Pending != 12 {
			t.Errorf("escalation notices: %+v", evs)
		}
		if inbox, _, _ := e.svc.Inbox(ctx, dave, ItemQuery{}); len(inbox) != 0 {
			t.Errorf("dave's inbox after escalation: %d", len(inbox))
		}
		// Running again before the new due date does nothing.
		if err := e.svc.HandleDue(ctx); err != nil {
			t.Fatal(err)
		}
		if evs := e.ev.of("review_escalated"); len(evs) != 2 {
			t.Errorf("escalated twice: %d notices", len(evs))
		}
		e.clock.Add(7 * 24 * time.Hour)
		if err := e.svc.HandleDue(ctx); err != nil {
			t.Fatal(err)
		}
		camp, _ = e.svc.Campaign(ctx, admin, c.ID)
		if camp.Progress.Pending != 12 || !camp.Due.Equal(due.Add(7*24*time.Hour)) {
			t.Errorf("after the second due date: due %s, %+v", camp.Due, camp.Progress)
		}
		items := e.items(admin, c.ID, ItemQuery{})
		full, _ := e.svc.Item(ctx, admin, c.ID, items[0].ID)
		var kinds []string
		for _, ev := range full.Events {
			kinds = append(kinds, ev.Kind)
		}
		if !reflect.DeepEqual(kinds, []string{"frozen", "escalated", "due_passed"}) {
			t.Errorf("history %v", kinds)
		}
	})
}

// Reminders go to reviewers with items waiting every ReminderEvery from the start, once
// more DueSoon before the due date, and not to those who are done.
func TestReminders(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		e.setOwners(mgmtID, "carol@example.com")
		e.setOwners(prodID, "dave@example.com")
		c := e.start("all", Scope{Accounts: []string{mgmtID, prodID}}, Reviewers{Owner: true}) // due in 14 days
		if _, err := e.svc.DecideBulk(ctx, carol, c.ID, ItemQuery{}, DecisionInput{Decision: "keep", Reason: "fine"}); err != nil {
			t.Fatal(err)
		}
		send := func() []Event {
			t.Helper()
			before := len(e.ev.of("review_reminder")) + len(e.ev.of("review_due_soon"))
			if err := e.svc.SendReminders(ctx); err != nil {
				t.Fatal(err)
			}
			all := append(e.ev.of("review_reminder"), e.ev.of("review_due_soon")...)
			return all[before:]
		}
		e.clock.Add(71 * time.Hour)
		if evs := send(); len(evs) != 0 {
			t.Errorf("before 72h: %+v", evs)
		}
		e.clock.Add(time.Hour)
		evs := send()
		if len(evs) != 1 || evs[0].Kind != "review_reminder" || evs[0].To[0] != "dave@example.com" || evs[0].Pending != 12 ||
			evs[0].URL != "https://gh.example.com/reviews" {
			t.Fatalf("at 72h: %+v", evs)
		}
		if evs := send(); len(evs) != 0 {
			t.Errorf("twice at 72h: %+v", evs)
		}
		e.clock.Add(72 * time.Hour)
		if evs := send(); len(evs) != 1 || evs[0].Kind != "review_reminder" {
			t.Errorf("at 144h: %+v", evs)
		}
		// 13 days after the start, within a day of the due date: the due-soon notice.
		e.clock.Add(13*24*time.Hour - 144*time.Hour)
		evs = send()
		if len(evs) != 1 || evs[0].Kind != "review_due_soon" || evs[0].To[0] != "dave@example.com" {
			t.Errorf("due soon: %+v", evs)
		}
		if evs := send(); len(evs) != 0 {
			t.Errorf("due soon twice: %+v", evs)
		}
	})
}

// Closing a campaign tells its owner, with how many items were still undecided.
func TestCloseNotifiesTheOwner(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		c := e.start("closing", Scope{Accounts: []string{prodID}}, Reviewers{People: []string{"dave@example.com"}})
		items := e.items(audr, c.ID, ItemQuery{})
		if len(items) < 2 {
			t.Fatalf("the prod campaign has %d items, want at least 2", len(items))
		}
		var decided string
		for _, it := range items {
			if !it.AdminLevel && it.Identity != "dave@example.com" && slices.Contains(it.Reviewers, "dave@example.com") {
				if _, err := e.svc.Decide(ctx, dave, c.ID, it.ID, DecisionInput{Decision: "keep", Reason: "needed"}); err != nil {
					t.Fatal(err)
				}
				decided = it.ID
				break
			}
		}
		if decided == "" {
			t.Fatal("no item that dave can keep without a reason")
		}
		if _, err := e.svc.Close(ctx, audr, c.ID); err != nil {
			t.Fatal(err)
		}
		evs := e.ev.of("review_closed")
		if len(evs) != 1 {
			t.Fatalf("review_closed events = %+v, want one", evs)
		}
		ev := evs[0]
		if ev.CampaignID != c.ID || ev.Campaign != "closing" || len(ev.To) != 1 || ev.To[0] != "admin@example.com" ||
			ev.Actor != "audrey@example.com" || ev.Pending != len(items)-1 || !ev.Due.Equal(c.Due) {
			t.Errorf("review_closed = %+v, want to admin@example.com by audrey@example.com with %d undecided", ev, len(items)-1)
		}
	})
}
