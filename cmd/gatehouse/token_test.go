package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/store"
)

// TestTokenCommands creates a token with the CLI, calls the API with it, lists and
// revokes it with the CLI, and sees the API refuse it.
func TestTokenCommands(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, err := runGatehouse(t, "token", "create", "--data-dir", dir, "--email", "Ann@Example.com", "--name", "terraform", "--expires", "720h")
	if err != nil {
		t.Fatalf("token create: %v\n%s", err, stderr)
	}
	secret := strings.TrimSuffix(stdout, "\n")
	if !strings.HasPrefix(secret, "ght_") || strings.ContainsAny(secret, " \n") {
		t.Fatalf("stdout = %q, want the token alone", stdout)
	}
	if !strings.Contains(stderr, `"terraform" for ann@example.com, valid until `) || !strings.Contains(stderr, "gatehouse token revoke tok_") {
		t.Fatalf("stderr = %q", stderr)
	}
	id := stderr[strings.Index(stderr, "tok_"):]
	id = id[:strings.IndexByte(id, ' ')]

	// GATEHOUSE_ADMINS makes ann an admin when the server starts; the token acts as her.
	t.Setenv("GATEHOUSE_ADMINS", "ann@example.com")
	cfg, err := server.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = dir
	srv, err := server.New(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer func() { hs.Close(); _ = srv.Shutdown(context.Background()) }()
	me := func() (int, string) {
		req, _ := http.NewRequest("GET", hs.URL+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := me()
	var got struct {
		Email string   `json:"email"`
		Roles []string `json:"roles"`
	}
	_ = json.Unmarshal([]byte(body), &got)
	if code != 200 || got.Email != "ann@example.com" || !slices.Equal(got.Roles, []string{"admin", "approver"}) { // approver: the seed policy's admins
		t.Fatalf("GET /api/v1/me with the CLI's token: %d %s", code, body)
	}

	// The store is shared: the CLI lists and revokes while the server runs.
	stdout, stderr, err = runGatehouse(t, "token", "list", "--data-dir", dir)
	if err != nil || !strings.Contains(stdout, id) || !strings.Contains(stdout, "terraform") || !strings.Contains(stdout, "active") || strings.Contains(stdout, secret) {
		t.Fatalf("token list: %v\n%s%s", err, stdout, stderr)
	}
	if _, stderr, err = runGatehouse(t, "token", "revoke", "--data-dir", dir, id); err != nil || !strings.Contains(stderr, "revoked API token "+id) {
		t.Fatalf("token revoke: %v %s", err, stderr)
	}
	if code, body := me(); code != 401 || !strings.Contains(body, "was revoked at") {
		t.Fatalf("revoked token: %d %s", code, body)
	}
	stdout, _, _ = runGatehouse(t, "token", "list", "--data-dir", dir)
	if !strings.Contains(stdout, "revoked") {
		t.Fatalf("token list after revoke: %s", stdout)
	}
	if _, stderr, err = runGatehouse(t, "token", "revoke", "--data-dir", dir, id); err == nil || !strings.Contains(stderr, "was revoked already") {
		t.Fatalf("second revoke: %v %s", err, stderr)
	}
	if _, stderr, err = runGatehouse(t, "token", "revoke", "--data-dir", dir, "tok_nope"); err == nil || !strings.Contains(stderr, "there is no API token tok_nope") {
		t.Fatalf("unknown revoke: %v %s", err, stderr)
	}
	entries, _ := srv.App.Store.ListAudit(context.Background(), store.AuditFilter{Action: "token."})
	if len(entries) != 2 || entries[0].Action != "token.create" || entries[0].Actor != "cli" || entries[1].Action != "token.revoke" || entries[1].Target != "token:"+id {
		t.Fatalf("audit = %+v", entries)
	}

	// An expired token is refused with a message saying so.
	short, _, err := runGatehouse(t, "token", "create", "--data-dir", dir, "--email", "bob@example.com", "--name", "brief", "--expires", "1s")
	if err != nil {
		t.Fatal(err)
	}
	secret = strings.TrimSpace(short)
	time.Sleep(1100 * time.Millisecond)
	if code, body := me(); code != 401 || !strings.Contains(body, "expired at") {
		t.Fatalf("expired token: %d %s", code, body)
	}

	// Bad input says what to give.
	if _, stderr, err = runGatehouse(t, "token", "create", "--data-dir", dir, "--email", "bob@example.com"); err == nil || !strings.Contains(stderr, "give --email") {
		t.Fatalf("missing name: %v %s", err, stderr)
	}
	if _, stderr, err = runGatehouse(t, "token", "create", "--data-dir", dir, "--email", "bob", "--name", "x"); err == nil || !strings.Contains(stderr, `email "bob": give the email`) {
		t.Fatalf("bad email: %v %s", err, stderr)
	}
}
