package auth

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

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// identifyServer serves a router behind Identify with two routes that echo the caller.
func identifyServer(t *testing.T, st *store.Store, cfg Config) (*Service, *httptest.Server) {
	t.Helper()
	svc, err := New(context.Background(), st, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRouter()
	echo := func(w http.ResponseWriter, r *http.Request) {
		c := FromContext(r.Context())
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(c)
	}
	r.HandleFunc("GET", "/api/v1/whoami", SignedIn, echo)
	r.HandleFunc("POST", "/api/v1/things", SignedIn, echo)
	r.HandleFunc("POST", "/settings", Admin, echo)
	r.HandleFunc("GET", "/metrics", Public, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "metrics sees "+r.Header.Get("Authorization"))
	})
	srv := httptest.NewServer(svc.Identify(r))
	t.Cleanup(srv.Close)
	return svc, srv
}

type answer struct {
	status int
	body   string
	header http.Header
}

func call(t *testing.T, method, url string, hdr map[string]string, cookies ...*http.Cookie) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, string(b), resp.Header}
}

func TestBearerTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc, srv := identifyServer(t, st, Config{Admins: []string{"Ann@Example.com"}})
		secret, tok, err := CreateToken(ctx, st, NewToken{Email: "ann@example.com", Name: "terraform", Roles: []string{RoleAdmin}, Actor: "cli"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(secret, TokenPrefix) || len(secret) < 40 {
			t.Fatalf("token %q: want %s and 32 random bytes", secret, TokenPrefix)
		}
		bearer := map[string]string{"Authorization": "Bearer " + secret}
		a := call(t, "GET", srv.URL+"/api/v1/whoami", bearer)
		var c Caller
		if err := json.Unmarshal([]byte(a.body), &c); a.status != 200 || err != nil {
			t.Fatalf("with the token: %d %s", a.status, a.body)
		}
		if c.Email != "ann@example.com" || !slices.Equal(c.Roles, []string{RoleAdmin}) || c.Via != "token" || c.TokenID != tok.ID || c.RemoteAddr != "127.0.0.1" {
			t.Fatalf("caller = %+v", c)
		}
		// The token's hash is stored, never the token.
		if got, _, err := st.TokenByHash(ctx, secret); err == nil {
			t.Fatalf("the token itself is stored as its hash: %+v", got)
		}
		stored, _ := st.GetAPIToken(ctx, tok.ID)
		if stored.LastUsedAt == nil {
			t.Fatal("last_used_at not recorded")
		}
		// A token call is not subject to the CSRF check (a browser cannot add the header).
		if a := call(t, "POST", srv.URL+"/settings", map[string]string{"Authorization": "Bearer " + secret, "Sec-Fetch-Site": "cross-site"}); a.status != 200 {
			t.Fatalf("admin token POST marked cross-site: %d %s", a.status, a.body)
		}
		audit, _ := st.ListAudit(ctx, store.AuditFilter{Action: "token.create"})
		if len(audit) != 1 || audit[0].Actor != "cli" || audit[0].Target != "token:"+tok.ID || !strings.Contains(audit[0].Detail, `"name":"terraform"`) {
			t.Fatalf("audit = %+v", audit)
		}

		for _, tc := range []struct{ name, header, want string }{
			{"unknown", "Bearer " + TokenPrefix + "nope", "this API token is not known"},
			{"not bearer", "Basic YWxpY2U6c2VjcmV0", `must be "Bearer <token>"`},
			{"empty", "Bearer ", `must be "Bearer <token>"`},
		} {
			a := call(t, "GET", srv.URL+"/api/v1/whoami", map[string]string{"Authorization": tc.header})
			if a.status != 401 || !strings.Contains(detail(a.body), tc.want) || a.header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%s: %d %s, want 401 problem saying %q", tc.name, a.status, a.body, tc.want)
			}
		}
		// A bad token on a public route is refused too: it is never served as anonymous.
		if a := call(t, "POST", srv.URL+"/api/v1/things", map[string]string{"Authorization": "Bearer junk"}); a.status != 401 {
			t.Fatalf("bad token: %d", a.status)
		}
		// /metrics checks its own token: Identify leaves the header to it.
		svc.cfg.BearerExempt = []string{"/metrics"}
		if a := call(t, "GET", srv.URL+"/metrics", map[string]string{"Authorization": "Bearer metrics-secret"}); a.status != 200 || a.body != "metrics sees Bearer metrics-secret" {
			t.Fatalf("/metrics: %d %s", a.status, a.body)
		}

		// Expired: the same token an hour after its end.
		short, stok, err := CreateToken(ctx, st, NewToken{Email: "bob@example.com", Name: "short", TTL: time.Hour, Actor: "cli"})
		if err != nil {
			t.Fatal(err)
		}
		if a := call(t, "GET", srv.URL+"/api/v1/whoami", map[string]string{"Authorization": "Bearer " + short}); a.status != 200 || !strings.Contains(a.body, `"Roles":[]`) {
			t.Fatalf("fresh short token: %d %s", a.status, a.body)
		}
		svc.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
		a = call(t, "GET", srv.URL+"/api/v1/whoami", map[string]string{"Authorization": "Bearer " + short})
		if a.status != 401 || !strings.Contains(detail(a.body), "API token "+stok.ID+` ("short") expired at`) {
			t.Fatalf("expired token: %d %s", a.status, a.body)
		}
		svc.now = time.Now

		// Revoked: refused at once, and revoking twice says so.
		if _, err := RevokeToken(ctx, st, tok.ID, "", "cli", ""); err != nil {
			t.Fatal(err)
		}
		a = call(t, "GET", srv.URL+"/api/v1/whoami", bearer)
		if a.status != 401 || !strings.Contains(a.body, "was revoked at") {
			t.Fatalf("revoked token: %d %s", a.status, a.body)
		}
		if _, err := RevokeToken(ctx, st, tok.ID, "", "cli", ""); err != ErrAlreadyRevoked {
			t.Fatalf("second revoke: %v", err)
		}
		// Someone else's token is not found for a non-admin owner check.
		if _, err := RevokeToken(ctx, st, stok.ID, "ann@example.com", "ann@example.com", ""); err != store.ErrNotFound {
			t.Fatalf("revoke another's token: %v, want not found", err)
		}
	})
}

func TestCreateTokenRefusesBadInput(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	for _, nt := range []NewToken{
		{Email: "not-an-email", Name: "x"},
		{Email: "a@example.com", Name: "  "},
		{Email: "a@example.com", Name: "x", TTL: -time.Hour},
	} {
		_, _, err := CreateToken(context.Background(), st, nt)
		if bad := (*BadInputError)(nil); err == nil || !asBad(err, &bad) {
			t.Fatalf("%+v: %v, want a BadInputError", nt, err)
		}
	}
}

func asBad(err error, target **BadInputError) bool {
	b, ok := err.(*BadInputError)
	*target = b
	return ok
}

// detail is the detail of a problem document.
func detail(body string) string {
	var p struct{ Detail string }
	_ = json.Unmarshal([]byte(body), &p)
	return p.Detail
}

// session creates a session for email directly in the store and returns its cookie.
func session(t *testing.T, st *store.Store, email string, roles []string, ttl time.Duration) *http.Cookie {
	t.Helper()
	id, _ := randomString(32)
	now := time.Now()
	err := st.InTx(context.Background(), func(tx *store.Tx) error {
		if err := tx.UpsertSignIn(context.Background(), store.User{Email: email, Name: "N", Roles: roles}, now); err != nil {
			return err
		}
		return tx.CreateSession(context.Background(), store.Session{IDHash: hashSecret(id), Email: email, CreatedAt: now, ExpiresAt: now.Add(ttl)})
	})
	if err != nil {
		t.Fatal(err)
	}
	return &http.Cookie{Name: SessionCookie, Value: id}
}

func TestSessionCookieAndCSRF(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	_, srv := identifyServer(t, st, Config{PublicURL: "https://gatehouse.example.com"})
	ck := session(t, st, "ann@example.com", []string{}, time.Hour)

	a := call(t, "GET", srv.URL+"/api/v1/whoami", nil, ck)
	if a.status != 200 || !strings.Contains(a.body, `"Email":"ann@example.com"`) || !strings.Contains(a.body, `"Via":"session"`) {
		t.Fatalf("session GET: %d %s", a.status, a.body)
	}
	// Same-origin POSTs pass: what a browser sends from Gatehouse's own page...
	for name, hdr := range map[string]map[string]string{
		"Sec-Fetch-Site same-origin": {"Sec-Fetch-Site": "same-origin"},
		"Origin is the host":         {"Origin": srv.URL},
		"Origin is public_url":       {"Origin": "https://gatehouse.example.com"},
		"no browser headers":         {},
	} {
		if a := call(t, "POST", srv.URL+"/api/v1/things", hdr, ck); a.status != 200 {
			t.Fatalf("%s: %d %s, want 200", name, a.status, a.body)
		}
	}
	// ...and cross-site ones with the session cookie are refused.
	for name, hdr := range map[string]map[string]string{
		"Sec-Fetch-Site cross-site": {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
		"Origin another site":       {"Origin": "https://evil.example"},
	} {
		a := call(t, "POST", srv.URL+"/api/v1/things", hdr, ck)
		if a.status != 403 || !strings.Contains(a.body, "cross-origin request refused") {
			t.Fatalf("%s: %d %s, want 403", name, a.status, a.body)
		}
	}
	// A cross-site GET is harmless and passes.
	if a := call(t, "GET", srv.URL+"/api/v1/whoami", map[string]string{"Sec-Fetch-Site": "cross-site"}, ck); a.status != 200 {
		t.Fatalf("cross-site GET: %d", a.status)
	}
	// An expired session is anonymous (401) and the browser is told to forget it.
	old := session(t, st, "bob@example.com", nil, -time.Minute)
	a = call(t, "GET", srv.URL+"/api/v1/whoami", nil, old)
	if a.status != 401 || !strings.Contains(a.header.Get("Set-Cookie"), SessionCookie+"=;") {
		t.Fatalf("expired session: %d %s (Set-Cookie %q)", a.status, a.body, a.header.Get("Set-Cookie"))
	}
	// A person without the role gets 403 on an admin route; an admin passes.
	if a := call(t, "POST", srv.URL+"/settings", nil, ck); a.status != 403 {
		t.Fatalf("person on admin route: %d", a.status)
	}
	admin := session(t, st, "root@example.com", []string{RoleAdmin}, time.Hour)
	if a := call(t, "POST", srv.URL+"/settings", nil, admin); a.status != 200 {
		t.Fatalf("admin on admin route: %d", a.status)
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"":                          "/",
		"/people/ann@example.com":   "/people/ann@example.com",
		"/resources?type=account":   "/resources?type=account",
		"https://evil.example/":     "/",
		"//evil.example/x":          "/",
		"/\\evil.example":           "/",
		"/\t/evil.example":          "/",
		"evil.example":              "/",
		"javascript:alert(1)":       "/",
		"/login":                    "/",
		"/login?next=/x":            "/",
		"/auth/callback?code=x":     "/",
		"/logout":                   "/",
		"/loginfo":                  "/loginfo",
		"/%2F%2Fevil.example":       "/%2F%2Fevil.example",
		"/x?y=https://evil.example": "/x?y=https://evil.example",
	} {
		if got := SafeNext(in); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCookiesAreSecureOverTLS(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	plain, err := New(context.Background(), st, Config{PublicURL: "http://127.0.0.1:8080"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	behindTLSProxy, err := New(context.Background(), st, Config{PublicURL: "https://gatehouse.example.com"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "http://127.0.0.1:8080/", nil)
	if plain.cookieSecure(r) || !behindTLSProxy.cookieSecure(r) {
		t.Fatalf("Secure: plain %v, https public_url %v", plain.cookieSecure(r), behindTLSProxy.cookieSecure(r))
	}
	tlsReq := httptest.NewRequest("GET", "https://127.0.0.1:8443/", nil)
	if !plain.cookieSecure(tlsReq) {
		t.Fatal("a request that came over TLS gets a cookie without Secure")
	}
	w := httptest.NewRecorder()
	behindTLSProxy.clearCookie(w, r, SessionCookie, "/")
	if sc := w.Header().Get("Set-Cookie"); !strings.Contains(sc, "Secure") || !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Lax") {
		t.Fatalf("Set-Cookie %q", sc)
	}
}
