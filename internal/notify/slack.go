package notify

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/jit"
)

// slackBody is the body of ev's Slack incoming webhook delivery: {"text": SlackText(ev)}.
func slackBody(ev jit.Event) ([]byte, error) {
	return json.Marshal(map[string]string{"text": SlackText(ev)})
}

// SlackText is the one-line message of ev for Slack: what happened, to whom, the reason when
// there is one, and a link to the request. Text from people (names, reasons) is escaped so
// that it cannot form Slack links or mentions.
func SlackText(ev jit.Event) string {
	who := esc(ev.Requester)
	what := esc(ev.Target.DisplayName)
	if what == "" {
		what = esc(ev.Target.EntitlementID)
	}
	actor := esc(ev.Actor)
	ends := "its end"
	if ev.EndsAt != nil && !ev.EndsAt.IsZero() {
		ends = ev.EndsAt.UTC().Format("2006-01-02 15:04 UTC")
	}
	var s string
	switch ev.Kind {
	case "requested":
		s = fmt.Sprintf("%s requested %s.", who, what)
	case "approval_needed":
		s = fmt.Sprintf("Approval needed: %s requests %s.", who, what)
		if len(ev.To) > 0 {
			s = fmt.Sprintf("Approval needed: %s requests %s (approvers: %s).", who, what, esc(strings.Join(ev.To, ", ")))
		}
	case "approved":
		s = fmt.Sprintf("%s approved %s's request for %s.", actor, who, what)
	case "denied":
		s = fmt.Sprintf("%s denied %s's request for %s.", actor, who, what)
	case "granted":
		s = fmt.Sprintf("%s now has %s until %s.", who, what, ends)
	case "expiry_warning":
		s = fmt.Sprintf("%s's access to %s ends at %s", who, what, ends)
		if ev.EndsAt != nil && !ev.At.IsZero() && ev.EndsAt.After(ev.At) {
			s += fmt.Sprintf(" (in %s)", shortDuration(ev.EndsAt.Sub(ev.At)))
		}
		s += "."
	case "revoked":
		if ev.Actor == ev.Requester {
			s = fmt.Sprintf("%s released %s.", who, what)
		} else {
			s = fmt.Sprintf("%s revoked %s's access to %s.", actor, who, what)
		}
	case "expired":
		if ev.EndsAt == nil || ev.EndsAt.IsZero() {
			// No lease ever started: the approval timed out (policy on_timeout: expire).
			s = fmt.Sprintf("%s's request for %s expired before it was approved.", who, what)
		} else {
			s = fmt.Sprintf("%s's access to %s expired.", who, what)
		}
	case "failed":
		s = fmt.Sprintf("%s's request for %s failed.", who, what)
	case "break_glass":
		s = fmt.Sprintf("Break-glass: %s granted themself %s; it needs a review.", who, what)
	case "break_glass_reviewed":
		s = fmt.Sprintf("%s reviewed %s's break-glass access to %s.", actor, who, what)
	case "extension_requested":
		s = fmt.Sprintf("%s asks for more time on %s.", who, what)
		if len(ev.To) > 0 {
			s = fmt.Sprintf("%s asks for more time on %s (approvers: %s).", who, what, esc(strings.Join(ev.To, ", ")))
		}
	case "extension_denied":
		s = fmt.Sprintf("%s denied %s's extension of %s.", actor, who, what)
	case "drift":
		s = fmt.Sprintf("Drift: AWS does not match the lease of %s's access to %s.", who, what)
	case "cancelled":
		if ev.Actor == ev.Requester || ev.Actor == "" {
			s = fmt.Sprintf("%s cancelled their request for %s.", who, what)
		} else {
			s = fmt.Sprintf("%s cancelled %s's request for %s.", actor, who, what)
		}
	case "extended":
		s = fmt.Sprintf("%s's access to %s was extended until %s.", who, what, ends)
	case "app_task":
		s = fmt.Sprintf("Task for %s: %s's access to %s.", esc(strings.Join(ev.To, ", ")), who, what)
	case "app_task_cancelled":
		s = fmt.Sprintf("Task cancelled for %s: %s's access to %s.", esc(strings.Join(ev.To, ", ")), who, what)
	case "app_task_overdue":
		s = fmt.Sprintf("Overdue task: %s's access to %s.", who, what)
	default:
		s = fmt.Sprintf("%s: %s, %s.", esc(ev.Kind), who, what)
	}
	// An expiry warning's reason repeats the time left, which the line already says.
	if ev.Reason != "" && ev.Kind != "expiry_warning" {
		s += " Reason: " + esc(strings.TrimRight(oneLine(ev.Reason), ".")) + "."
	}
	if ev.URL != "" {
		s += fmt.Sprintf(" <%s|%s>", ev.URL, esc(ev.RequestID))
	} else if ev.RequestID != "" {
		s += " (" + esc(ev.RequestID) + ")"
	}
	return s
}

// esc escapes what Slack's message formatting reserves (&, <, >).
func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// oneLine keeps a multi-line reason on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// shortDuration is d rounded for people: 10m, 1h30m, 45s.
func shortDuration(d time.Duration) string {
	if d >= time.Minute {
		d = d.Round(time.Minute)
	} else {
		d = d.Round(time.Second)
	}
	s := d.String()
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
