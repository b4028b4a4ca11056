package notify_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/notify"
	"github.com/gatehouse/gatehouse/internal/review"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

func reviewEvent(kind string) review.Event {
	return review.Event{Kind: kind, CampaignID: "camp_q4", Campaign: "Quarterly review: production <access>",
		To: []string{"dave@example.com"}, Pending: 3, Due: at.Add(72 * time.Hour), Actor: "gatehouse", At: at,
		URL: "https://gatehouse.example.com/campaigns/camp_q4"}
}

// Review events go through the same outbox: a webhook that asks for review_reminder gets the
// documented, signed document; Slack gets the one-line text; an endpoint that asks for other
// kinds gets nothing; the row records the campaign.
func TestReviewEventsThroughTheOutbox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		hook := newReceiver(t)
		slack := newReceiver(t)
		other := newReceiver(t)
		e := start(t, st, nil, notify.Config{Endpoints: []notify.Endpoint{
			{Name: "reviews", Channel: notify.ChannelWebhook, URL: hook.URL, Secret: secret, Events: []string{"review_reminder"}},
			{Name: "chat", Channel: notify.ChannelSlack, URL: slack.URL + "/services/T0/B0/xyz"},
			{Name: "grants", Channel: notify.ChannelWebhook, URL: other.URL, Secret: secret, Events: []string{"granted"}},
		}})
		ctx := context.Background()
		for _, kind := range []string{"review_started", "review_reminder"} {
			if err := st.InTx(ctx, func(tx *store.Tx) error { return e.n.NotifyReviewTx(ctx, tx, reviewEvent(kind)) }); err != nil {
				t.Fatal(err)
			}
		}
		rows := e.waitFinal(t, 3, 10*time.Second)
		got := hook.requests()
		if len(got) != 1 {
			t.Fatalf("the review webhook got %d deliveries, want 1 (review_reminder)", len(got))
		}
		want := `{"event":"review_reminder","campaign":{"id":"camp_q4","name":"Quarterly review: production \u003caccess\u003e",` +
			`"due":"2026-12-06T11:00:00Z","url":"https://gatehouse.example.com/campaigns/camp_q4"},"actor":"gatehouse",` +
			`"to":["dave@example.com"],"pending":3,"detail":"","at":"2026-12-03T11:00:00Z"}`
		if string(got[0].Body) != want {
			t.Fatalf("body\n got %s\nwant %s", got[0].Body, want)
		}
		if got[0].Header.Get(notify.HeaderEvent) != "review_reminder" {
			t.Errorf("event header %q", got[0].Header.Get(notify.HeaderEvent))
		}
		if err := notify.Verify(secret, got[0].Header, got[0].Body, time.Now(), 5*time.Minute); err != nil {
			t.Fatalf("verify: %v", err)
		}
		if n := len(other.requests()); n != 0 {
			t.Errorf("the grants-only webhook got %d review deliveries", n)
		}
		var texts []string
		for _, r := range slack.requests() {
			var m map[string]string
			if err := json.Unmarshal(r.Body, &m); err != nil {
				t.Fatal(err)
			}
			texts = append(texts, m["text"])
		}
		wantTexts := []string{
			`Access review "Quarterly review: production &lt;access&gt;" started: 3 items to review for dave@example.com, due 2026-12-06 11:00 UTC. <https://gatehouse.example.com/campaigns/camp_q4|camp_q4>`,
			`Reminder: 3 items still to review in "Quarterly review: production &lt;access&gt;" (dave@example.com), due 2026-12-06 11:00 UTC. <https://gatehouse.example.com/campaigns/camp_q4|camp_q4>`,
		}
		for _, w := range wantTexts {
			if !containsString(texts, w) {
				t.Errorf("slack texts %q lack\n%q", texts, w)
			}
		}
		for _, r := range rows {
			if r.RequestID != "camp_q4" || r.State != store.NotificationSent {
				t.Errorf("row %+v: want the campaign id recorded and sent", r)
			}
		}
	})
}

// Every review kind has its own sentence, and an endpoint may ask for them by name.
func TestReviewSlackTextPerKind(t *testing.T) {
	task := reviewEvent("review_task")
	task.To = []string{"owner@example.com"}
	task.Detail = "Detach the policy AdministratorAccess (arn:aws:iam::aws:policy/AdministratorAccess) from the IAM user bob in 111111111111"
	closed := reviewEvent("review_closed")
	closed.Actor = "carol@example.com"
	esc := reviewEvent("review_escalated")
	esc.To = []string{"admin@example.com"}
	cases := map[string]string{
		"review_due_soon":  `Access review "Quarterly review: production &lt;access&gt;" is due 2026-12-06 11:00 UTC: 3 items still undecided (dave@example.com). <https://gatehouse.example.com/campaigns/camp_q4|camp_q4>`,
		"review_escalated": `Access review "Quarterly review: production &lt;access&gt;": 3 items undecided at the due date went to admin@example.com, now due 2026-12-06 11:00 UTC. <https://gatehouse.example.com/campaigns/camp_q4|camp_q4>`,
		"review_task": `Access review "Quarterly review: production &lt;access&gt;": a revoke Gatehouse cannot make needs owner@example.com. ` +
			`Detach the policy AdministratorAccess (arn:aws:iam::aws:policy/AdministratorAccess) from the IAM user bob in 111111111111. <https://gatehouse.example.com/campaigns/camp_q4|camp_q4>`,
		"review_closed": `Access review "Quarterly review: production &lt;access&gt;" was closed by carol@example.com with 3 items undecided. <https://gatehouse.example.com/campaigns/camp_q4|camp_q4>`,
	}
	evs := map[string]review.Event{"review_due_soon": reviewEvent("review_due_soon"), "review_escalated": esc, "review_task": task, "review_closed": closed}
	for kind, want := range cases {
		if got := notify.ReviewSlackText(evs[kind]); got != want {
			t.Errorf("%s:\n got %s\nwant %s", kind, got, want)
		}
	}
	for _, k := range notify.ReviewKinds {
		if !notify.KnownKind(k) {
			t.Errorf("%s is not a known kind", k)
		}
		if errs := (notify.Endpoint{Name: "x", Channel: notify.ChannelSlack, URL: "https://hooks.slack.com/x", Events: []string{k}}).Check(); len(errs) != 0 {
			t.Errorf("an endpoint asking for %s: %v", k, errs)
		}
	}
}
