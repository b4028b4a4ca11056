package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/gatehouse/gatehouse/internal/review"
	"github.com/gatehouse/gatehouse/internal/store"
)

// ReviewKinds are the event kinds of access reviews (review.Event.Kind); endpoints ask for
// them among Kinds like any other.
var ReviewKinds = []string{
	"review_started",   // a campaign started: to every reviewer, with how many items wait for them
	"review_reminder",  // reviewers with items still to decide, on the campaign's schedule
	"review_due_soon",  // the last reminder before the due date
	"review_escalated", // undecided items went to the fallback reviewers at the due date
	"review_task",      // a revoke Gatehouse cannot make: a task for the owner, with the exact change
	"review_closed",    // the campaign was closed
}

func init() { Kinds = append(Kinds, ReviewKinds...) }

var _ review.Notifier = (*Notifier)(nil)

// NotifyReviewTx queues the review event ev for every endpoint that wants it, in tx, like
// NotifyTx: the rows and their delivery jobs commit or roll back with the change. A delivery
// of a review event records the campaign's id where a request event records the request's.
func (n *Notifier) NotifyReviewTx(ctx context.Context, tx *store.Tx, ev review.Event) error {
	if ev.Kind == "" {
		return errors.New("notify: an event needs a kind")
	}
	if ev.At.IsZero() {
		ev.At = n.cfg.Now()
	}
	return n.queueTx(ctx, tx, ev.Kind, ev.CampaignID, func(channel string) ([]byte, error) {
		if channel == ChannelSlack {
			return json.Marshal(map[string]string{"text": ReviewSlackText(ev)})
		}
		return reviewWebhookBody(ev)
	})
}

// queueTx writes, for every endpoint that wants kind, the outbox row with the body body(channel)
// gives and the River job that delivers it.
func (n *Notifier) queueTx(ctx context.Context, tx *store.Tx, kind, about string, body func(channel string) ([]byte, error)) error {
	for _, name := range n.names() {
		e := n.endpoints[name]
		if !e.Wants(kind) {
			continue
		}
		if n.queue == nil {
			return errors.New("notify: no job queue (SetQueue was not called); the event is not recorded")
		}
		b, err := body(e.Channel)
		if err != nil {
			return fmt.Errorf("notify %s: %w", e.Name, err)
		}
		row := &store.Notification{
			ID: store.NewNotificationID(), Channel: e.Channel, Endpoint: e.Name, Event: kind, RequestID: about,
			Payload: string(b), CreatedAt: time.UnixMilli(n.cfg.Now().UnixMilli()).UTC(),
		}
		if err := tx.InsertNotification(ctx, row); err != nil {
			return err
		}
		res, err := n.queue.InsertTx(ctx, tx, DeliverArgs{DeliveryID: row.ID}, &river.InsertOpts{Queue: Queue, MaxAttempts: n.cfg.MaxAttempts})
		if err != nil {
			return fmt.Errorf("queue the delivery to %s: %w", e.Name, err)
		}
		if err := tx.SetNotificationJob(ctx, row.ID, res.Job.ID); err != nil {
			return fmt.Errorf("record the delivery job: %w", err)
		}
	}
	return nil
}

// ReviewWebhookPayload is the JSON body of a webhook delivery of a review event
// (docs/notifications.md).
type ReviewWebhookPayload struct {
	Event    string                `json:"event"`
	Campaign ReviewWebhookCampaign `json:"campaign"`
	// Actor is who caused the event: an email, or "gatehouse" for the jobs.
	Actor string `json:"actor"`
	// To are the people the event is for (reviewers, an owner).
	To []string `json:"to"`
	// Pending is how many items wait for them.
	Pending int `json:"pending"`
	// Detail says more: the exact change of an owner task, why items escalated.
	Detail string `json:"detail"`
	At     string `json:"at"`
}

// ReviewWebhookCampaign is the campaign a review event is about.
type ReviewWebhookCampaign struct {
	ID   string  `json:"id"`
	Name string  `json:"name"`
	Due  *string `json:"due"`
	URL  string  `json:"url"`
}

func reviewWebhookBody(ev review.Event) ([]byte, error) {
	to := ev.To
	if to == nil {
		to = []string{}
	}
	p := ReviewWebhookPayload{
		Event:    ev.Kind,
		Campaign: ReviewWebhookCampaign{ID: ev.CampaignID, Name: ev.Campaign, URL: ev.URL},
		Actor:    ev.Actor, To: to, Pending: ev.Pending, Detail: ev.Detail, At: ev.At.UTC().Format(timeFormat),
	}
	if !ev.Due.IsZero() {
		s := ev.Due.UTC().Format(timeFormat)
		p.Campaign.Due = &s
	}
	return json.Marshal(p)
}

// ReviewSlackText is the one-line Slack message of a review event: what happened in which
// campaign, for whom, how many items wait, the due date, and a link to the campaign. Text
// from people (names, details) is escaped as in SlackText.
func ReviewSlackText(ev review.Event) string {
	name := esc(ev.Campaign)
	if name == "" {
		name = esc(ev.CampaignID)
	}
	to := esc(strings.Join(ev.To, ", "))
	due := ""
	if !ev.Due.IsZero() {
		due = ev.Due.UTC().Format("2006-01-02 15:04 UTC")
	}
	items := func(n int) string {
		if n == 1 {
			return "1 item"
		}
		return fmt.Sprintf("%d items", n)
	}
	var s string
	switch ev.Kind {
	case "review_started":
		s = fmt.Sprintf("Access review %q started: %s to review", name, items(ev.Pending))
		if to != "" {
			s += " for " + to
		}
		if due != "" {
			s += ", due " + due
		}
		s += "."
	case "review_reminder":
		s = fmt.Sprintf("Reminder: %s still to review in %q", items(ev.Pending), name)
		if to != "" {
			s += " (" + to + ")"
		}
		if due != "" {
			s += ", due " + due
		}
		s += "."
	case "review_due_soon":
		s = fmt.Sprintf("Access review %q is due %s: %s still undecided", name, due, items(ev.Pending))
		if to != "" {
			s += " (" + to + ")"
		}
		s += "."
	case "review_escalated":
		s = fmt.Sprintf("Access review %q: %s undecided at the due date went to %s", name, items(ev.Pending), to)
		if due != "" {
			s += ", now due " + due
		}
		s += "."
	case "review_task":
		s = fmt.Sprintf("Access review %q: a revoke Gatehouse cannot make needs %s", name, to)
		s += "."
	case "review_closed":
		s = fmt.Sprintf("Access review %q was closed by %s.", name, esc(ev.Actor))
		if ev.Pending > 0 {
			s = fmt.Sprintf("Access review %q was closed by %s with %s undecided.", name, esc(ev.Actor), items(ev.Pending))
		}
	default:
		s = fmt.Sprintf("%s: access review %q.", esc(ev.Kind), name)
	}
	if ev.Detail != "" {
		s += " " + esc(strings.TrimRight(oneLine(ev.Detail), ".")) + "."
	}
	if ev.URL != "" {
		s += fmt.Sprintf(" <%s|%s>", ev.URL, esc(ev.CampaignID))
	} else if ev.CampaignID != "" {
		s += " (" + esc(ev.CampaignID) + ")"
	}
	return s
}
