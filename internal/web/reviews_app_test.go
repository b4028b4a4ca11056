package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/review"
)

// An item of an application imported from a file shows the application where AWS access
// shows its account, no MFA row (the file says nothing of it), the file's last login and
// status, and an import (not a sync) as what verifies it.
func TestReviewAppItems(t *testing.T) {
	u := newTestUI(t)
	fake := reviewFixture()
	at := func(h int) *time.Time { x := now().Add(time.Duration(h) * time.Hour); return &x }
	active := false
	pending := &review.Item{ID: "it-app", CampaignID: "cmp-q1", ConnectionID: "app_1", GrantID: "app_resource:app_1:group:billing:admin:app_user:app_1:erin",
		EntitlementID: "app_resource:app_1:group:billing:admin", EntitlementName: "admin on group Billing", ResourceType: "app_resource",
		ResourceID: "app_1:group:billing", ResourceName: "Billing", PrincipalType: "app_user", PrincipalID: "app_1:erin", PrincipalName: "Erin Lee",
		Identity: "erin@example.com", Application: "Payroll", Via: review.ViaDirect, ViaName: "direct", Since: now().Add(-30 * 24 * time.Hour),
		AdminLevel: true, Reviewer: "dave@example.com", Reviewers: []string{"dave@example.com"}, State: review.ItemPending,
		Plan:    "Gatehouse cannot make this change; the owner must: Remove erin@example.com (user ID erin) from admin on group Billing in Payroll",
		Context: review.ItemContext{LastUsed: at(-24 * 3), LastUsedSource: "last login, from Payroll's file", Active: &active, Status: "disabled in Payroll", Application: "Payroll"}}
	done := *pending
	done.ID, done.State, done.Decision, done.DecidedBy = "it-app-done", review.ItemRemediated, "revoke", "dave@example.com"
	done.Remediation = &review.Remediation{Action: review.ActionOwnerTask, Owner: "owner@example.com", State: review.RemediationVerified,
		Task: "Remove erin@example.com (user ID erin) from admin on group Billing in Payroll", Description: pending.Plan,
		VerifiedSync: "run_2", VerifiedAt: at(-1)}
	fake.items = append(fake.items, pending, &done)
	u.withReviews(fake)

	res := u.get(dave, "/reviews")
	if res.Status != 200 {
		t.Fatalf("inbox: status %d: %s", res.Status, text(res.Body))
	}
	got := text(res.Body)
	mustContain(t, got, "admin on group Billing admin-level", "in the application Payroll · direct",
		"Last used 3 days ago (last login, from Payroll's file)", "Active disabled in Payroll",
		"Remove erin@example.com (user ID erin) from admin on group Billing in Payroll")
	mustNotContain(t, got, "in  () ·")

	res = u.get(dave, "/campaigns/cmp-q1/items/it-app-done")
	if res.Status != 200 {
		t.Fatalf("item: status %d: %s", res.Status, text(res.Body))
	}
	got = text(res.Body)
	mustContain(t, got, "erin@example.com · admin on group Billing", "in the application Payroll · held directly",
		"Application Payroll app_1", "Task for owner@example.com: Remove erin@example.com (user ID erin) from admin on group Billing in Payroll",
		"Verified by import run_2")
	mustNotContain(t, got, "MFA", "Verified by sync")

	// The form offers imported applications: a resource type, and ids or names to type.
	res = u.get(auditor, "/campaigns")
	if !strings.Contains(res.Body, `<option value="app_resource">Imported applications</option>`) ||
		!strings.Contains(res.Body, `placeholder="aws, a connection's id, or an imported application's id or name"`) {
		t.Fatalf("the campaign form does not offer imported applications")
	}
	due := now().Add(10 * 24 * time.Hour).Format("2006-01-02")
	res = u.postForm(auditor, "/campaigns", url.Values{"name": {"Payroll"}, "applications": {"app_1, Billing app"}, "resource_type": {"app_resource"},
		"owner": {"on"}, "due": {due}})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("create: %d %s", res.Status, text(res.Body))
	}
	if in := fake.created; !slices.Equal(in.Scope.Applications, []string{"app_1", "Billing app"}) || !slices.Equal(in.Scope.ResourceTypes, []string{"app_resource"}) || !in.Reviewers.Owner {
		t.Fatalf("created %+v", in)
	}
}
