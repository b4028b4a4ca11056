package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/store"
)

// walkServer starts a server on a fresh SQLite store with one admin and one auditor.
func walkServer(t *testing.T) (*server.Server, *httptest.Server) {
	t.Helper()
	cfg, err := server.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	cfg.Admins = []string{"admin@example.com"}
	cfg.Auditors = []string{"auditor@example.com"}
	srv, err := server.New(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); _ = srv.Shutdown(context.Background()) })
	return srv, hs
}

// who is one of the four kinds of caller the walk calls every route as.
type who struct {
	name, email string
	roles       []string
	bearer      string
}

// placeholder fills a route pattern's path parameters: {email} is the caller's own (a
// person may look at their own things), anything else a value that names nothing. A
// trailing-slash (subtree) pattern gets a last segment.
var param = regexp.MustCompile(`\{([a-zA-Z_]+)(\.\.\.)?\}`)

func fillPath(pattern, email string) string {
	p := param.ReplaceAllStringFunc(pattern, func(m string) string {
		if strings.HasPrefix(m, "{email") {
			return email
		}
		return "placeholder"
	})
	p = strings.ReplaceAll(p, "{$}", "") // "/{$}" is the exact path "/"
	if strings.HasSuffix(p, "/") && p != "/" {
		p += "placeholder"
	}
	return p
}

// narrowed lists routes whose handler may rightly answer 403 to a caller the route's
// Access lets in (the handler narrows further), with why. Keep it short.
var narrowed = map[string]string{}

// TestEveryRouteEnforcesItsAccess walks every route registered on the server's router
// (all of them, including those added later) as anonymous, a person, an auditor and an
// admin, and checks the answer against the route's declared Access: anonymous callers
// of non-public routes get 401 (pages: a redirect to sign-in), callers without the role
// 403, and everyone allowed gets neither (nor a 500).
func TestEveryRouteEnforcesItsAccess(t *testing.T) {
	srv, hs := walkServer(t)
	ctx := context.Background()
	callers := []who{
		{name: "anonymous", email: "nobody@example.com"},
		{name: "person", email: "person@example.com"},
		{name: "auditor", email: "auditor@example.com", roles: []string{auth.RoleAuditor}},
		{name: "admin", email: "admin@example.com", roles: []string{auth.RoleAdmin}},
	}
	for i := range callers[1:] {
		c := &callers[i+1]
		secret, _, err := auth.CreateToken(ctx, srv.App.Store, auth.NewToken{Email: c.email, Name: "route walk", Roles: c.roles, Actor: "test"})
		if err != nil {
			t.Fatal(err)
		}
		c.bearer = secret
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	routes := srv.Router.Routes()
	if len(routes) < 5 {
		t.Fatalf("only %d routes registered: %+v", len(routes), routes)
	}
	for _, rt := range routes {
		for _, c := range callers {
			path := fillPath(rt.Pattern, c.email)
			req, err := http.NewRequest(rt.Method, hs.URL+path, strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			if c.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+c.bearer)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s %s as %s: %v", rt.Method, path, c.name, err)
			}
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 500))
			resp.Body.Close()
			allowed := mayCall(rt.Access, c)
			where := rt.Method + " " + path + " (" + rt.Access.String() + ") as " + c.name
			switch {
			case !allowed && c.bearer == "":
				isPageGet := rt.Method == "GET" && !strings.HasPrefix(rt.Pattern, "/api/")
				if isPageGet {
					if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
						t.Errorf("%s: %d (Location %q), want 303 to /login", where, resp.StatusCode, resp.Header.Get("Location"))
					}
				} else if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("%s: %d %s, want 401", where, resp.StatusCode, body)
				}
			case !allowed:
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("%s: %d %s, want 403", where, resp.StatusCode, body)
				}
			default:
				bad := resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusInternalServerError
				if resp.StatusCode == http.StatusForbidden {
					_, ok := narrowed[rt.Method+" "+rt.Pattern]
					bad = bad || !ok
				}
				if bad {
					t.Errorf("%s: %d %s, want neither 401 nor 403 nor 500", where, resp.StatusCode, body)
				}
			}
		}
	}
}

// mayCall is who may call a route of each access level, written out here rather than
// taken from auth.Access.Allows, so that a mistake there shows.
func mayCall(a auth.Access, c who) bool {
	signedIn := c.bearer != ""
	has := func(role string) bool { return slices.Contains(c.roles, role) }
	switch a {
	case auth.Public:
		return true
	case auth.SignedIn:
		return signedIn
	case auth.Auditor:
		return signedIn && (has(auth.RoleAuditor) || has(auth.RoleAdmin))
	case auth.Admin:
		return signedIn && has(auth.RoleAdmin)
	}
	panic("unknown access level " + a.String())
}

// TestEveryUnsafeRouteRefusesCrossSiteCookieRequests sends each POST, PUT, PATCH and
// DELETE route a cross-site request carrying an admin's session cookie: every one is
// refused (CSRF), whatever the route.
func TestEveryUnsafeRouteRefusesCrossSiteCookieRequests(t *testing.T) {
	srv, hs := walkServer(t)
	ctx := context.Background()
	id := "route-walk-session-id"
	sum := sha256.Sum256([]byte(id))
	now := time.Now()
	if err := srv.App.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.UpsertSignIn(ctx, store.User{Email: "admin@example.com", Roles: []string{auth.RoleAdmin}}, now); err != nil {
			return err
		}
		return tx.CreateSession(ctx, store.Session{IDHash: hex.EncodeToString(sum[:]), Email: "admin@example.com", CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	}); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, rt := range srv.Router.Routes() {
		if rt.Method == "GET" || rt.Method == "HEAD" || rt.Method == "OPTIONS" {
			continue
		}
		n++
		path := fillPath(rt.Pattern, "admin@example.com")
		req, _ := http.NewRequest(rt.Method, hs.URL+path, strings.NewReader("{}"))
		req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: id})
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site %s %s with an admin's session cookie: %d, want 403", rt.Method, path, resp.StatusCode)
		}
	}
	if n == 0 {
		t.Fatal("no unsafe routes registered")
	}
}
