package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/jit"
)

// The pages against the real service (its seed rule "accounts-everyone" and policy
// "default") over the fixture inventory: a person with no Identity Center user sees why they
// cannot request; alice, who has one, gets the form, and the rule's own checks come back
// beside the fields. (The grant itself runs in TestUIJustInTimeAccess, with River.)
func TestPagesWithTheRealService(t *testing.T) {
	u := newTestUI(t)
	u.ingestFixture(1)
	svc, err := jit.New(jit.Config{Store: u.store})
	if err != nil {
		t.Fatal(err)
	}
	h := newHandlers(u.app)
	h.jit = svc
	u.router = auth.NewRouter()
	register(u.router, h)

	// The seed policy "default" is approved by Gatehouse's admins, whom this service does
	// not know: Ada approves instead.
	if _, err := svc.ApplyRules(context.Background(), admin, []byte(strings.ReplaceAll(strings.ReplaceAll(adaRules, "5m", "1h"), "max: 1h", "max: 8h"))); err != nil {
		t.Fatal(err)
	}

	// Pat has no Identity Center user: the account page says so, and offers no Request.
	res := u.get(person, "/catalog/aws/333333333333")
	if res.Status != 200 {
		t.Fatalf("account: status %d: %s", res.Status, text(res.Body))
	}
	cspSafe(t, res.Body)
	got := text(res.Body)
	mustContain(t, got, "AdministratorAccess not requestable", "pat@example.com", "ReadOnly not requestable")
	if !strings.Contains(strings.ToLower(got), "identity center user") {
		t.Fatalf("the page does not say that pat has no Identity Center user:\n%s", got)
	}
	mustNotContain(t, res.Body, `href="/requests/new?`)

	// Alice may request (the seed rule, everyone signed in); the form has the rule's terms.
	alice := &auth.Caller{Email: "alice@example.com", Name: "Alice Nguyen", Via: "session"}
	res = u.get(alice, "/catalog/aws/333333333333")
	mustContain(t, text(res.Body), "AdministratorAccess Request", "Rule accounts-everyone", "1 hour by default, up to 8 hours · a reason is required · approval policy ada-approves")
	ents, err := u.store.ResourceEntitlements(context.Background(), "account", "333333333333", nil)
	if err != nil {
		t.Fatal(err)
	}
	var id string
	for _, e := range ents {
		if e.DisplayName == "AdministratorAccess on prod" {
			id = e.ID
		}
	}
	res = u.get(alice, "/requests/new?entitlement="+url.QueryEscape(id))
	if res.Status != 200 {
		t.Fatalf("form: status %d: %s", res.Status, text(res.Body))
	}
	if got, want := strings.Join(optionValues(t, res.Body, "duration"), " "), "1m 5m 15m 30m 1h selected 2h 4h 8h"; got != want {
		t.Fatalf("duration choices %q, want %q", got, want)
	}
	res = u.postForm(alice, "/requests", url.Values{"entitlement": {id}, "duration": {"12h"}, "reason": {""}})
	if res.Status != http.StatusUnprocessableEntity {
		t.Fatalf("12h without reason: status %d", res.Status)
	}
	mustContain(t, text(res.Body), "At most 8 hours: rule accounts-everyone allows no more.", "Say why you need this access: rule accounts-everyone asks for a reason.")

	// A good request: its page, Ada's inbox, and Alice may not approve her own.
	res = u.postForm(alice, "/requests", url.Values{"entitlement": {id}, "duration": {"2h"}, "reason": {"INC-7"}})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("create: status %d: %s", res.Status, text(res.Body))
	}
	page := strings.TrimSuffix(res.Header.Get("Location"), "?done=created")
	res = u.get(alice, res.Header.Get("Location"))
	mustContain(t, text(res.Body), "Request sent.", "Status pending approval", "Cancel request",
		"Step 1 waiting 1 of ada@example.com", "Reason INC-7", "— pending approval alice@example.com")
	mustNotContain(t, res.Body, "/approve\"")
	res = u.get(admin, "/approvals")
	mustContain(t, text(res.Body), "AdministratorAccess on prod", "Requester alice@example.com", "For 2 hours", "Reason INC-7",
		"Policy ada-approves · step 1 of 1: 1 of ada@example.com", "What alice@example.com holds now", "AdministratorAccess on prod in prod via Admins", "Approve", "Deny")
	res = u.postForm(alice, page+"/approve", nil)
	if res.Status != http.StatusForbidden {
		t.Fatalf("self-approval: status %d", res.Status)
	}
	mustContain(t, text(res.Body), "Not allowed")
	// Someone else cannot see it at all.
	if res := u.get(person, page); res.Status != http.StatusNotFound {
		t.Fatalf("another person opens the request: status %d", res.Status)
	}
	// Alice cancels it; its page shows the transition.
	res = u.postForm(alice, page+"/cancel", url.Values{"reason": {"fixed without it"}})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("cancel: status %d: %s", res.Status, text(res.Body))
	}
	res = u.get(alice, res.Header.Get("Location"))
	mustContain(t, text(res.Body), "The request is cancelled.", "Status cancelled", "pending approval cancelled alice@example.com", "fixed without it")
	mustNotContain(t, res.Body, "hx-trigger=\"every 3s\"")
}

// adaRules are every permission set on every account for everyone, 5m by default and 1h at
// most, approved by ada@example.com.
const adaRules = `rules:
  - name: accounts-everyone
    match:
      application: aws
      resource_types: [account]
    requesters:
      everyone: true
    duration:
      default: 5m
      max: 1h
    reason_required: true
    approval_policy: ada-approves
policies:
  - name: ada-approves
    steps:
      - approvers:
          people: [ada@example.com]
`
