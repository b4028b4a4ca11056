package auth_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/api"
	"github.com/gatehouse/gatehouse/internal/app"
	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/oidcdemo"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// signInEnv is Gatehouse's sign-in routes and API on a test server, signing in through a
// real OpenID provider (oidcdemo) over HTTP.
type signInEnv struct {
	idp *oidcdemo.Provider
	st  *store.Store
	gh  *httptest.Server
}

func newSignInEnv(t *testing.T, st *store.Store) *signInEnv {
	t.Helper()
	idp, err := oidcdemo.Start("127.0.0.1:0", []oidcdemo.Person{
		{Email: "alice@example.com", Name: "Alice Admin"},
		{Email: "audrey@example.com", Name: "Audrey Auditor"},
		{Email: "pat@example.com", Name: "Pat Person"},
		{Email: "eve@example.com", Name: "Eve Unverified", Unverified: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idp.Close() })
	svc, err := auth.New(context.Background(), st, auth.Config{
		Issuer: idp.Issuer(), ClientID: idp.ClientID, ClientSecret: idp.ClientSecret,
		Admins: []string{"alice@example.com"}, Auditors: []string{"audrey@example.com"}, SessionTTL: time.Hour,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := auth.NewRouter()
	svc.Register(r)
	api.Register(r, &app.App{Store: st, Auth: svc})
	r.HandleFunc("GET", "/", auth.SignedIn, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "home of "+auth.FromContext(r.Context()).Email)
	})
	gh := httptest.NewServer(svc.Identify(r))
	t.Cleanup(gh.Close)
	idp.RegisterRedirect(gh.URL + "/auth/callback")
	return &signInEnv{idp: idp, st: st, gh: gh}
}

// browser is an HTTP client with a cookie jar that records every response and can stop
// before following a redirect.
type browser struct {
	*http.Client
	seen   []*http.Response
	stopAt func(*http.Request) bool
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{}
	b.Client = &http.Client{Jar: jar, Transport: recorder{b}, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if b.stopAt != nil && b.stopAt(req) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

type recorder struct{ b *browser }

func (r recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil {
		r.b.seen = append(r.b.seen, resp)
	}
	return resp, err
}

func (b *browser) get(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	resp, err := b.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browser) post(t *testing.T, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := b.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// toLoginPage starts a sign-in at Gatehouse and follows it to the provider's login page;
// it returns the authorization request id.
func (e *signInEnv) toLoginPage(t *testing.T, b *browser, next string) string {
	t.Helper()
	resp, body := b.get(t, e.gh.URL+"/login?next="+url.QueryEscape(next))
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Request.URL.String(), e.idp.Issuer()+"/demo-login") {
		t.Fatalf("GET /login ended at %s: %d %s", resp.Request.URL, resp.StatusCode, body)
	}
	if !strings.Contains(body, "DEMO ONLY") || !strings.Contains(body, `id="signin-alice"`) || !strings.Contains(body, `id="signin-audrey"`) {
		t.Fatalf("the provider's login page does not list the demo people: %s", body)
	}
	return resp.Request.URL.Query().Get("authRequestID")
}

// choose picks person on the provider's login page and follows where that leads.
func (e *signInEnv) choose(t *testing.T, b *browser, reqID, person string) (*http.Response, string) {
	t.Helper()
	return b.post(t, e.idp.Issuer()+"/demo-login", url.Values{"id": {reqID}, "person": {person}})
}

func me(t *testing.T, b *browser, base string) (int, api.Me) {
	t.Helper()
	resp, body := b.get(t, base+"/api/v1/me")
	var m api.Me
	if resp.StatusCode == 200 {
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, m
}

func TestSignInEndToEnd(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newSignInEnv(t, st)
		b := newBrowser(t)
		reqID := e.toLoginPage(t, b, "/api/v1/me")
		resp, body := e.choose(t, b, reqID, "alice")
		if resp.StatusCode != 200 || resp.Request.URL.String() != e.gh.URL+"/api/v1/me" {
			t.Fatalf("after choosing alice: %s %d %s", resp.Request.URL, resp.StatusCode, body)
		}
		var m api.Me
		if err := json.Unmarshal([]byte(body), &m); err != nil || m.Email != "alice@example.com" || m.Name != "Alice Admin" || !slices.Equal(m.Roles, []string{"admin"}) || m.Via != "session" {
			t.Fatalf("/api/v1/me after sign-in = %s", body)
		}
		// The session cookie is HttpOnly, SameSite=Lax, for the whole site, for the TTL.
		var set *http.Cookie
		for _, r := range b.seen {
			if r.Request.URL.Path == "/auth/callback" {
				for _, c := range r.Cookies() {
					if c.Name == auth.SessionCookie {
						set = c
					}
				}
				if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/api/v1/me" {
					t.Fatalf("callback answered %d to %q", r.StatusCode, r.Header.Get("Location"))
				}
			}
		}
		if set == nil || !set.HttpOnly || set.SameSite != http.SameSiteLaxMode || set.Path != "/" || set.MaxAge != 3600 || set.Secure || len(set.Value) < 43 {
			t.Fatalf("session cookie = %+v", set)
		}
		// Stored: the user with the provider's subject and the configured role, not the
		// session id.
		u, err := st.GetUser(context.Background(), "alice@example.com")
		if err != nil || u.Subject != "alice" || u.Issuer != e.idp.Issuer() || u.LastLoginAt == nil {
			t.Fatalf("user = %+v %v", u, err)
		}
		if _, _, err := st.SessionUser(context.Background(), set.Value, time.Now()); err == nil {
			t.Fatal("the session id itself is stored; only its hash may be")
		}
		entries, _ := st.ListAudit(context.Background(), store.AuditFilter{Action: "signin"})
		if len(entries) != 1 || entries[0].Actor != "alice@example.com" || entries[0].RemoteAddr != "127.0.0.1" || !strings.Contains(entries[0].Detail, `"subject":"alice"`) {
			t.Fatalf("signin audit = %+v", entries)
		}

		// An auditor and a person, in their own browsers.
		for person, want := range map[string][]string{"audrey": {"auditor"}, "pat": {}} {
			ob := newBrowser(t)
			e.choose(t, ob, e.toLoginPage(t, ob, "/"), person)
			code, m := me(t, ob, e.gh.URL)
			if code != 200 || m.Email != person+"@example.com" || !slices.Equal(m.Roles, want) {
				t.Fatalf("%s: %d %+v, want roles %v", person, code, m, want)
			}
		}

		// Signing in again in the same browser replaces the session: the first one ends.
		e.choose(t, b, e.toLoginPage(t, b, "/"), "alice")
		ghURL, _ := url.Parse(e.gh.URL)
		first := newBrowser(t)
		first.Jar.SetCookies(ghURL, []*http.Cookie{{Name: auth.SessionCookie, Value: set.Value}})
		if code, _ := me(t, first, e.gh.URL); code != 401 {
			t.Fatalf("the replaced session still works: %d", code)
		}
		current := b.Jar.Cookies(ghURL)[0]
		if code, m := me(t, b, e.gh.URL); code != 200 || m.Email != "alice@example.com" || current.Value == set.Value {
			t.Fatalf("after signing in again: %d %+v", code, m)
		}

		// Logout ends the session on the server: the old cookie is worthless afterwards.
		resp, body = b.post(t, e.gh.URL+"/logout", nil)
		if resp.StatusCode != 200 || !strings.Contains(body, "Signed out") {
			t.Fatalf("logout: %d %s", resp.StatusCode, body)
		}
		if code, _ := me(t, b, e.gh.URL); code != 401 {
			t.Fatalf("after logout /api/v1/me: %d, want 401", code)
		}
		replay := newBrowser(t)
		replay.Jar.SetCookies(ghURL, []*http.Cookie{{Name: auth.SessionCookie, Value: current.Value}})
		if code, _ := me(t, replay, e.gh.URL); code != 401 {
			t.Fatalf("the signed-out session's cookie still works: %d", code)
		}
		out, _ := st.ListAudit(context.Background(), store.AuditFilter{Action: "signout"})
		if len(out) != 1 || out[0].Actor != "alice@example.com" {
			t.Fatalf("signout audit = %+v", out)
		}
		// A page needing sign-in sends an anonymous browser to /login and back.
		b.stopAt = func(r *http.Request) bool { return r.URL.Path == "/login" }
		resp, _ = b.get(t, e.gh.URL+"/")
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2F" {
			t.Fatalf("anonymous page: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}

// callbackURL signs in as person but stops before Gatehouse's callback, returning its URL.
func (e *signInEnv) callbackURL(t *testing.T, b *browser, person string) *url.URL {
	t.Helper()
	reqID := e.toLoginPage(t, b, "/")
	b.stopAt = func(r *http.Request) bool { return r.URL.Path == "/auth/callback" }
	defer func() { b.stopAt = nil }()
	resp, body := e.choose(t, b, reqID, person)
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || loc.Path != "/auth/callback" {
		t.Fatalf("provider answered %d %s %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	return loc
}

func TestSignInRefusals(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	e := newSignInEnv(t, st)
	ghURL, _ := url.Parse(e.gh.URL)
	refused := func(t *testing.T, b *browser, u string, status int, want string) {
		t.Helper()
		resp, body := b.get(t, u)
		if resp.StatusCode != status || !strings.Contains(body, want) {
			t.Fatalf("GET %s: %d %s, want %d saying %q", u, resp.StatusCode, body, status, want)
		}
		if code, _ := me(t, b, e.gh.URL); code != 401 {
			t.Fatalf("signed in after a refused sign-in: %d", code)
		}
	}

	t.Run("tampered state", func(t *testing.T) {
		b := newBrowser(t)
		cb := e.callbackURL(t, b, "pat")
		q := cb.Query()
		q.Set("state", q.Get("state")+"x")
		cb.RawQuery = q.Encode()
		refused(t, b, cb.String(), 400, "This sign-in was not started by this browser")
	})

	t.Run("replayed code", func(t *testing.T) {
		b := newBrowser(t)
		cb := e.callbackURL(t, b, "pat")
		signinCookies := b.Jar.Cookies(&url.URL{Scheme: "http", Host: ghURL.Host, Path: "/auth/callback"})
		resp, _ := b.get(t, cb.String())
		if resp.StatusCode != 200 {
			t.Fatalf("first use of the callback: %d", resp.StatusCode)
		}
		// The same answer again, cookie and all (an attacker who captured both).
		thief := newBrowser(t)
		thief.Jar.SetCookies(&url.URL{Scheme: "http", Host: ghURL.Host, Path: "/auth/callback"}, signinCookies)
		refused(t, thief, cb.String(), 400, "This sign-in answer was used already")
	})

	t.Run("code from another sign-in", func(t *testing.T) {
		// The browser's own state, but a code issued to another sign-in: PKCE fails at
		// the provider.
		b := newBrowser(t)
		mine := e.callbackURL(t, b, "pat")
		other := e.callbackURL(t, newBrowser(t), "alice")
		q := mine.Query()
		q.Set("code", other.Query().Get("code"))
		mine.RawQuery = q.Encode()
		refused(t, b, mine.String(), 400, "The sign-in provider refused the sign-in code")
	})

	t.Run("wrong nonce", func(t *testing.T) {
		// The authorization request is altered on its way to the provider, so the ID
		// token carries another nonce than the one this sign-in recorded.
		b := newBrowser(t)
		b.stopAt = func(r *http.Request) bool { return strings.HasPrefix(r.URL.String(), e.idp.Issuer()) }
		resp, _ := b.get(t, e.gh.URL+"/login")
		b.stopAt = nil
		authz, _ := url.Parse(resp.Header.Get("Location"))
		q := authz.Query()
		if q.Get("nonce") == "" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" || q.Get("scope") != "openid profile email" {
			t.Fatalf("authorization request lacks nonce, state or PKCE: %s", authz)
		}
		q.Set("nonce", "injected-nonce")
		authz.RawQuery = q.Encode()
		resp, _ = b.get(t, authz.String())
		reqID := resp.Request.URL.Query().Get("authRequestID")
		b.stopAt = func(r *http.Request) bool { return r.URL.Path == "/auth/callback" }
		resp, _ = e.choose(t, b, reqID, "alice")
		b.stopAt = nil
		refused(t, b, resp.Header.Get("Location"), 400, "Its nonce does not match the one this sign-in sent")
	})

	t.Run("unverified email", func(t *testing.T) {
		b := newBrowser(t)
		resp, body := e.choose(t, b, e.toLoginPage(t, b, "/"), "eve")
		if resp.StatusCode != 403 || !strings.Contains(body, "eve@example.com is not verified") {
			t.Fatalf("unverified: %d %s", resp.StatusCode, body)
		}
		if _, err := st.GetUser(context.Background(), "eve@example.com"); err == nil {
			t.Fatal("a refused person was recorded as a user")
		}
	})

	t.Run("open redirect", func(t *testing.T) {
		b := newBrowser(t)
		reqID := e.toLoginPage(t, b, "//evil.example/phish")
		resp, body := e.choose(t, b, reqID, "pat")
		if resp.Request.URL.String() != e.gh.URL+"/" || body != "home of pat@example.com" {
			t.Fatalf("next=//evil.example led to %s: %s", resp.Request.URL, body)
		}
	})

	failed, _ := st.ListAudit(context.Background(), store.AuditFilter{Action: "signin.failed"})
	var reasons []string
	for _, f := range failed {
		reasons = append(reasons, f.Actor+": "+f.Detail)
	}
	want := []string{"state does not match", "already used (replay)", "code exchange", "nonce does not match", "email not verified"}
	if len(failed) != len(want) {
		t.Fatalf("signin.failed entries: %q, want %d", reasons, len(want))
	}
	for i, w := range want {
		if !strings.Contains(reasons[i], w) {
			t.Fatalf("signin.failed %d = %q, want it to say %q", i, reasons[i], w)
		}
	}
	if failed[4].Actor != "eve@example.com" || failed[0].Actor != "anonymous" {
		t.Fatalf("actors: %q", reasons)
	}
}

func TestSignInUnavailable(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	for name, tc := range map[string]struct {
		cfg  auth.Config
		want string
	}{
		"not configured": {auth.Config{}, "Sign-in is not configured"},
		"provider down":  {auth.Config{Issuer: "http://127.0.0.1:1", ClientID: "x"}, "The sign-in provider does not answer"},
	} {
		t.Run(name, func(t *testing.T) {
			svc, err := auth.New(context.Background(), st, tc.cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			r := auth.NewRouter()
			svc.Register(r)
			srv := httptest.NewServer(svc.Identify(r))
			defer srv.Close()
			resp, body := newBrowser(t).get(t, srv.URL+"/login")
			if resp.StatusCode != 503 || !strings.Contains(body, tc.want) {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
		})
	}
	if _, err := auth.New(context.Background(), st, auth.Config{Issuer: "https://idp.example.com"}, nil); err == nil || !strings.Contains(err.Error(), "oidc.client_id is required") {
		t.Fatalf("issuer without client id: %v", err)
	}
}
