package notify_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/notify"
)

// The owner tasks of leases in imported applications are events endpoints can ask for, and
// Slack says whose task it is and what to do.
func TestAppTaskEvents(t *testing.T) {
	e := notify.Endpoint{Name: "owners", Channel: notify.ChannelSlack, URL: "https://hooks.slack.example/services/T/B/x",
		Events: []string{"app_task", "app_task_cancelled", "app_task_overdue"}}
	if errs := e.Check(); len(errs) != 0 {
		t.Fatalf("an endpoint asking for the owner task events is refused: %v", errs)
	}
	ev := event("app_task")
	ev.Actor, ev.To = "gatehouse", []string{"owner@example.com"}
	ev.Target.DisplayName = "admin on role Payroll Admins in Payroll"
	ev.Reason = `Grant entitlement "admin" on role "Payroll Admins" in Payroll to Alice (user alice, alice@example.com).`
	want := `Task for owner@example.com: alice@example.com's access to admin on role Payroll Admins in Payroll. Reason: Grant entitlement "admin" on role "Payroll Admins" in Payroll to Alice (user alice, alice@example.com). <https://gatehouse.example.com/requests/req_abcdefghij0123456789|req_abcdefghij0123456789>`
	if got := notify.SlackText(ev); got != want {
		t.Errorf("slack:\n%s\nwant\n%s", got, want)
	}
	ev.Kind, ev.To = "app_task_overdue", []string{"owner@example.com", "admin@example.com"}
	ev.Reason = "the revoke task is overdue"
	want = `Overdue task: alice@example.com's access to admin on role Payroll Admins in Payroll. Reason: the revoke task is overdue. <https://gatehouse.example.com/requests/req_abcdefghij0123456789|req_abcdefghij0123456789>`
	if got := notify.SlackText(ev); got != want {
		t.Errorf("slack:\n%s\nwant\n%s", got, want)
	}
}
