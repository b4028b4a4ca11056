package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
)

// API tokens in the UI: created for yourself and shown once, listed without the secret,
// revoked; someone else's token cannot be revoked.
func TestTokensPage(t *testing.T) {
	u := newTestUI(t)
	res := u.get(person, "/tokens")
	cspSafe(t, res.Body)
	mustContain(t, text(res.Body), "API tokens", "No tokens", "New token")

	res = u.postForm(person, "/tokens", url.Values{"name": {"nightly export"}, "expires": {"90d"}})
	if res.Status != 200 {
		t.Fatalf("create: status %d %s", res.Status, text(res.Body))
	}
	m := regexp.MustCompile(`<code class="secret-once" id="token-secret">(ght_[^<]+)</code>`).FindStringSubmatch(res.Body)
	if m == nil {
		t.Fatalf("the new token is not shown:\n%s", text(res.Body))
	}
	secret := m[1]
	mustContain(t, text(res.Body), "Token “nightly export” created. Copy it now: it is shown only this once.",
		"nightly export", "active")
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("the page with the secret may be cached: Cache-Control %q", cc)
	}
	// It works as a token of this person.
	tok, user, err := u.store.TokenByHash(context.Background(), hashForTest(secret))
	if err != nil || tok.Email != "pat@example.com" || user.Email != "pat@example.com" {
		t.Fatalf("token lookup: %v %+v", err, tok)
	}
	// Shown once: the list afterwards has the name, never the secret.
	res = u.get(person, "/tokens")
	mustContain(t, text(res.Body), "nightly export", tok.ID, "active", "Revoke")
	mustNotContain(t, res.Body, secret)

	// Someone else cannot revoke it.
	res = u.postForm(admin, "/tokens/"+tok.ID+"/revoke", nil)
	if res.Status != http.StatusNotFound {
		t.Fatalf("another person revokes the token: status %d", res.Status)
	}
	res = u.postForm(person, "/tokens/"+tok.ID+"/revoke", nil)
	if res.Status != http.StatusSeeOther {
		t.Fatalf("revoke: status %d %s", res.Status, text(res.Body))
	}
	res = u.get(person, res.Header.Get("Location"))
	mustContain(t, text(res.Body), "Token “nightly export” is revoked.", "nightly export", "revoked")
	if strings.Contains(res.Body, "/tokens/"+tok.ID+"/revoke") {
		t.Fatal("a revoked token still offers Revoke")
	}

	// Bad input says what to do.
	res = u.postForm(person, "/tokens", url.Values{"name": {""}, "expires": {"30d"}})
	if res.Status != http.StatusBadRequest {
		t.Fatalf("empty name: status %d", res.Status)
	}
	mustContain(t, text(res.Body), "say in at most 100 characters what the token is for")

	// The audit log has both.
	entries, err := u.store.ListAudit(context.Background(), storeAuditAll())
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Actor+" "+e.Action+" "+e.Target)
	}
	want := []string{"pat@example.com token.create token:" + tok.ID, "pat@example.com token.revoke token:" + tok.ID}
	if strings.Join(actions, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit log:\n%s\nwant:\n%s", strings.Join(actions, "\n"), strings.Join(want, "\n"))
	}
	_ = auth.TokenPrefix
}

// hashForTest is how the store keys tokens: hex SHA-256 of the secret.
func hashForTest(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

func storeAuditAll() store.AuditFilter { return store.AuditFilter{} }
