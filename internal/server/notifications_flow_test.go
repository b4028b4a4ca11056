package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/notify"
	"github.com/gatehouse/gatehouse/internal/server"
)

// The whole flow on a real server against the simulated organization: bob requests access
// through the API, alice approves, Gatehouse grants it in AWS, bob releases it. The webhook
// receives each step once, signed with its secret, in the documented shape, and Slack a line
// for each.
func TestRequestFlowNotifiesWebhookAndSlack(t *testing.T) {
	const whSecret = "flow-webhook-secret-31c7"
	type got struct {
		path string
		hdr  http.Header
		body []byte
	}
	var mu sync.Mutex
	var recv []got
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		recv = append(recv, got{r.URL.Path, r.Header.Clone(), b})
		mu.Unlock()
	}))
	defer rc.Close()

	w, err := awssim.Preset("demo", 1)
	if err != nil {
		t.Fatal(err)
	}
	sim := awssim.New(w, awssim.Options{})
	if _, err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	info := sim.Info()
	ctx := context.Background()
	srv, err := server.New(ctx, server.Config{
		DataDir: t.TempDir(), KeepSyncs: 3, SyncSchedule: time.Hour, PublicURL: "https://gatehouse.example.com",
		Admins: []string{"alice@example.com"},
		Connections: []server.Connection{{
			ID: "aws", EndpointURL: info.Endpoint, Region: info.Region, RoleARN: info.RoleARN, ExternalID: info.ExternalID,
			Orgs: true, MemberRoleName: info.MemberRoleName, IdentityCenter: true,
			AccessKeyID: info.AccessKeyID, SecretAccessKey: info.SecretAccessKey,
		}},
		Notifications: server.Notifications{
			Webhooks: []server.Webhook{{Name: "audit-sink", URL: rc.URL + "/hook", Secret: whSecret}},
			Slack:    []server.Slack{{Name: "access", URL: rc.URL + "/slack", Events: []string{"approval_needed", "granted", "revoked"}}},
		},
	}, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer func() {
		hs.Close()
		c, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(c)
	}()
	tok := map[string]string{}
	roles := auth.RolesFromConfig([]string{"alice@example.com"}, nil)
	for _, who := range []string{"alice", "bob"} {
		email := who + "@example.com"
		secret, _, err := auth.CreateToken(ctx, srv.App.Store, auth.NewToken{Email: email, Name: "test", Roles: roles[email], Actor: "test"})
		if err != nil {
			t.Fatal(err)
		}
		tok[who] = secret
	}
	call := func(who, method, path, body string, out any) int {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, hs.URL+path, rd)
		req.Header.Set("Authorization", "Bearer "+tok[who])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		if out != nil {
			if err := json.Unmarshal(raw, out); err != nil {
				t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
			}
		}
		if res.StatusCode >= 300 {
			t.Logf("%s %s as %s: %d %s", method, path, who, res.StatusCode, raw)
		}
		return res.StatusCode
	}
	waitFor := func(what string, within time.Duration, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(within)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not after %s", what, within)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// The scheduler queues a first sync as the server starts; a request that meets it (409)
	// waits for it to end and asks again.
	var sy struct{ ID, State string }
	for {
		code := call("alice", "POST", "/api/v1/syncs", "", &sy)
		if code == 202 {
			break
		}
		if code != 409 {
			t.Fatalf("start a sync: %d", code)
		}
		var list struct{ Items []struct{ ID, State string } }
		call("alice", "GET", "/api/v1/syncs?page_size=1", "", &list)
		if len(list.Items) == 0 {
			t.Fatal("a sync is running but the list of syncs is empty")
		}
		first := list.Items[0]
		waitFor("the scheduler's first sync", 2*time.Minute, func() bool {
			call("alice", "GET", "/api/v1/syncs/"+first.ID, "", &first)
			return first.State == "succeeded" || first.State == "partial" || first.State == "failed"
		})
	}
	waitFor("the sync", 2*time.Minute, func() bool {
		call("alice", "GET", "/api/v1/syncs/"+sy.ID, "", &sy)
		if sy.State == "failed" {
			t.Fatal("the sync failed")
		}
		return sy.State == "succeeded" || sy.State == "partial"
	})
	var catalog struct {
		Items []struct {
			ID                string `json:"id"`
			AccountName       string `json:"account_name"`
			PermissionSetName string `json:"permission_set_name"`
		} `json:"items"`
	}
	call("bob", "GET", "/api/v1/catalog?page_size=1000", "", &catalog)
	ent := ""
	for _, it := range catalog.Items {
		if it.AccountName == "prod" && it.PermissionSetName == "AdministratorAccess" {
			ent = it.ID
		}
	}
	if ent == "" {
		t.Fatalf("no AdministratorAccess on prod in bob's catalog: %+v", catalog.Items)
	}
	var req struct{ ID, State string }
	if code := call("bob", "POST", "/api/v1/requests", `{"entitlement_id": "`+ent+`", "duration": "1h", "reason": "INC-9: fix the deploy"}`, &req); code != 201 {
		t.Fatalf("create: %d", code)
	}
	if code := call("alice", "POST", "/api/v1/requests/"+req.ID+"/approve", `{"reason": "go ahead"}`, &req); code != 200 {
		t.Fatalf("approve: %d", code)
	}
	waitFor("the grant", time.Minute, func() bool {
		call("bob", "GET", "/api/v1/requests/"+req.ID, "", &req)
		return req.State == "active"
	})
	if code := call("bob", "POST", "/api/v1/requests/"+req.ID+"/release", `{"reason": "done"}`, &req); code != 200 && code != 202 {
		t.Fatalf("release: %d", code)
	}
	waitFor("the revoke", time.Minute, func() bool {
		call("bob", "GET", "/api/v1/requests/"+req.ID, "", &req)
		return req.State == "revoked"
	})

	wantHook := []string{"requested", "approval_needed", "approved", "granted", "revoked"}
	waitFor("the deliveries", 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(recv) >= len(wantHook)+3
	})
	time.Sleep(300 * time.Millisecond) // nothing more may come
	mu.Lock()
	defer mu.Unlock()
	hook := map[string]notify.WebhookPayload{}
	var slack []string
	for _, r := range recv {
		switch r.path {
		case "/hook":
			if err := notify.Verify(whSecret, r.hdr, r.body, time.Now(), time.Minute); err != nil {
				t.Errorf("a webhook delivery does not verify: %v", err)
			}
			var p notify.WebhookPayload
			if err := json.Unmarshal(r.body, &p); err != nil {
				t.Fatal(err)
			}
			if _, dup := hook[p.Event]; dup {
				t.Errorf("event %s delivered twice", p.Event)
			}
			hook[p.Event] = p
		case "/slack":
			var m map[string]string
			_ = json.Unmarshal(r.body, &m)
			slack = append(slack, m["text"])
		}
	}
	if len(hook) != len(wantHook) {
		t.Errorf("webhook events %v, want %v", keys(hook), wantHook)
	}
	link := "https://gatehouse.example.com/requests/" + req.ID
	for _, ev := range wantHook {
		p, ok := hook[ev]
		if !ok {
			t.Errorf("no %s delivery", ev)
			continue
		}
		if p.Request.ID != req.ID || p.Request.Requester != "bob@example.com" || p.Request.EntitlementID != ent ||
			p.Request.Reason != "INC-9: fix the deploy" || p.Request.URL != link || !strings.Contains(p.Request.DisplayName, "AdministratorAccess on prod") {
			t.Errorf("%s: request %+v", ev, p.Request)
		}
	}
	if p := hook["approved"]; p.Actor != "alice@example.com" || p.Reason != "go ahead" {
		t.Errorf("approved: actor %q reason %q", p.Actor, p.Reason)
	}
	if p := hook["granted"]; p.Request.State != "active" || p.Request.EndsAt == nil {
		t.Errorf("granted: %+v", p.Request)
	}
	if p := hook["revoked"]; p.Actor != "bob@example.com" || p.Request.State != "revoked" {
		t.Errorf("revoked: actor %q state %q", p.Actor, p.Request.State)
	}
	if len(slack) != 3 {
		t.Fatalf("slack lines %q, want 3 (approval_needed, granted, revoked)", slack)
	}
	joined := strings.Join(slack, "\n")
	for _, want := range []string{
		"Approval needed: bob@example.com requests AdministratorAccess on prod",
		"bob@example.com now has AdministratorAccess on prod",
		"bob@example.com released AdministratorAccess on prod",
		"<" + link + "|" + req.ID + ">",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("slack lines lack %q:\n%s", want, joined)
		}
	}
}

func keys(m map[string]notify.WebhookPayload) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
