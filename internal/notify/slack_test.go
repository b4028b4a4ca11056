package notify_test

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/notify"
)

// The Slack line of each kind, exactly; people's text is escaped so it cannot form links or
// mentions.
func TestSlackTextPerKind(t *testing.T) {
	link := " <https://gatehouse.example.com/requests/req_abcdefghij0123456789|req_abcdefghij0123456789>"
	warn := event("expiry_warning")
	warn.Reason, warn.Actor = "the access ends in 10m0s; extend it if you need more time", "gatehouse"
	warnAt := ends.Add(-10 * time.Minute)
	warn.At = warnAt
	released := event("revoked")
	released.Actor, released.Reason = "alice@example.com", "done."
	approval := event("approval_needed")
	approval.Reason, approval.To = "", []string{"bob@example.com", "carol@example.com"}
	requested := event("requested")
	requested.Actor, requested.Reason = "alice@example.com", "INC-42: <!channel> & restart\nthe batch"
	failed := event("failed")
	failed.Actor, failed.Reason, failed.URL = "gatehouse", "ConflictException: the permission set is being provisioned", ""
	expired := event("expired")
	expired.Reason = ""
	extReq := event("extension_requested")
	extReq.Actor, extReq.Reason, extReq.To = "alice@example.com", "the migration runs late", []string{"bob@example.com"}
	cancelled := event("cancelled")
	cancelled.Actor, cancelled.Reason = "alice@example.com", ""
	drift := event("drift")
	drift.Actor, drift.Reason = "gatehouse", "the assignment was removed in AWS while the lease is active"
	timedOut := event("expired")
	timedOut.Actor, timedOut.Reason, timedOut.EndsAt = "gatehouse", "nobody approved step 1 within 4h", nil
	for _, c := range []struct {
		name string
		ev   func() string
		want string
	}{
		{"requested", func() string { return notify.SlackText(requested) },
			"alice@example.com requested AdministratorAccess on prod (111111111111). Reason: INC-42: &lt;!channel&gt; &amp; restart the batch." + link},
		{"approval_needed", func() string { return notify.SlackText(approval) },
			"Approval needed: alice@example.com requests AdministratorAccess on prod (111111111111) (approvers: bob@example.com, carol@example.com)." + link},
		{"approved", func() string { return notify.SlackText(event("approved")) },
			"bob@example.com approved alice@example.com's request for AdministratorAccess on prod (111111111111). Reason: looks fine." + link},
		{"denied", func() string { return notify.SlackText(event("denied")) },
			"bob@example.com denied alice@example.com's request for AdministratorAccess on prod (111111111111). Reason: looks fine." + link},
		{"expiry_warning", func() string { return notify.SlackText(warn) },
			"alice@example.com's access to AdministratorAccess on prod (111111111111) ends at 2026-12-03 12:00 UTC (in 10m)." + link},
		{"released", func() string { return notify.SlackText(released) },
			"alice@example.com released AdministratorAccess on prod (111111111111). Reason: done." + link},
		{"expired", func() string { return notify.SlackText(expired) },
			"alice@example.com's access to AdministratorAccess on prod (111111111111) expired." + link},
		{"failed without a link", func() string { return notify.SlackText(failed) },
			"alice@example.com's request for AdministratorAccess on prod (111111111111) failed. Reason: ConflictException: the permission set is being provisioned. (req_abcdefghij0123456789)"},
		{"break_glass", func() string { return notify.SlackText(event("break_glass")) },
			"Break-glass: alice@example.com granted themself AdministratorAccess on prod (111111111111); it needs a review. Reason: looks fine." + link},
		{"extension_requested", func() string { return notify.SlackText(extReq) },
			"alice@example.com asks for more time on AdministratorAccess on prod (111111111111) (approvers: bob@example.com). Reason: the migration runs late." + link},
		{"cancelled by the requester", func() string { return notify.SlackText(cancelled) },
			"alice@example.com cancelled their request for AdministratorAccess on prod (111111111111)." + link},
		{"expired in approval", func() string { return notify.SlackText(timedOut) },
			"alice@example.com's request for AdministratorAccess on prod (111111111111) expired before it was approved. Reason: nobody approved step 1 within 4h." + link},
		{"drift", func() string { return notify.SlackText(drift) },
			"Drift: AWS does not match the lease of alice@example.com's access to AdministratorAccess on prod (111111111111). Reason: the assignment was removed in AWS while the lease is active." + link},
	} {
		if got := c.ev(); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}
