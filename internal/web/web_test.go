package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/gatehouse/gatehouse/internal/app"
	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// The people the handler tests act as.
var (
	admin   = &auth.Caller{Email: "ada@example.com", Name: "Ada Admin", Roles: []string{auth.RoleAdmin}, Via: "session"}
	auditor = &auth.Caller{Email: "aud@example.com", Name: "Audrey Auditor", Roles: []string{auth.RoleAuditor}, Via: "session"}
	person  = &auth.Caller{Email: "pat@example.com", Name: "Pat Person", Via: "session"}
)

// testUI is the web UI over a fresh SQLite store, behind the auth router.
type testUI struct {
	t      *testing.T
	store  *store.Store
	app    *app.App
	router *auth.Router
}

func newTestUI(t *testing.T) *testUI {
	t.Helper()
	st := storetest.Open(t, store.SQLite)
	a := &app.App{Store: st, Log: zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))}
	r := auth.NewRouter()
	Register(r, a)
	return &testUI{t: t, store: st, app: a, router: r}
}

// callerOf accepts a *auth.Caller (or nil) given as any.
func callerOf(c any) *auth.Caller {
	cc, _ := c.(*auth.Caller)
	return cc
}

// response is a rendered answer.
type response struct {
	Status int
	Header http.Header
	Body   string
}

// do sends a request as caller (nil: anonymous) and returns the answer.
func (u *testUI) do(caller *auth.Caller, method, target string, body io.Reader, hdr ...string) response {
	u.t.Helper()
	req := httptest.NewRequest(method, target, body)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if caller != nil {
		req = req.WithContext(auth.WithCaller(req.Context(), caller))
	}
	rec := httptest.NewRecorder()
	u.router.ServeHTTP(rec, req)
	return response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.String()}
}

func (u *testUI) get(caller *auth.Caller, target string, hdr ...string) response {
	u.t.Helper()
	return u.do(caller, "GET", target, nil, hdr...)
}

// text is the page's visible text with tags removed and spaces collapsed, for asserting
// what a reader sees ("Pat Person AdministratorAccess prod").
func text(html string) string {
	html = regexp.MustCompile(`(?s)<head>.*?</head>|<svg.*?</svg>`).ReplaceAllString(html, " ")
	html = regexp.MustCompile(`<[^>]*>`).ReplaceAllString(html, " ")
	for _, e := range [][2]string{{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&#34;", `"`}, {"&#39;", "'"}, {"&quot;", `"`}} {
		html = strings.ReplaceAll(html, e[0], e[1])
	}
	return strings.Join(strings.Fields(html), " ")
}

// mustContain fails unless the page's text contains every want, in order.
func mustContain(t *testing.T, got string, want ...string) {
	t.Helper()
	rest := got
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			if strings.Contains(got, w) {
				t.Fatalf("page has %q, but not after the text before it in %q\npage text: %s", w, want, got)
			}
			t.Fatalf("page text lacks %q\npage text: %s", w, got)
		}
		rest = rest[i+len(w):]
	}
}

func mustNotContain(t *testing.T, got string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(got, b) {
			t.Fatalf("page text has %q, which it must not\npage text: %s", b, got)
		}
	}
}

// cspSafe fails when html carries anything the server's CSP would block: inline scripts,
// style attributes or <style> blocks, inline event handlers, javascript: URLs.
func cspSafe(t *testing.T, html string) {
	t.Helper()
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`), // a script with a body
		regexp.MustCompile(`<script(?:(?:\s+[a-z-]+(?:="[^"]*")?)*)\s*>`),
		regexp.MustCompile(`(?i)\sstyle\s*=`),
		regexp.MustCompile(`(?i)<style`),
		regexp.MustCompile(`(?i)\son[a-z]+\s*=`),
		regexp.MustCompile(`(?i)\shx-on`),
		regexp.MustCompile(`(?i)javascript:`),
	} {
		for _, m := range re.FindAllString(html, -1) {
			if strings.HasPrefix(m, "<script") && strings.Contains(m, ` src="`) && !regexp.MustCompile(`>\s*[^<\s]`).MatchString(m) {
				continue // <script src=...> is fine
			}
			t.Fatalf("page has %q, which the Content-Security-Policy blocks", m)
		}
	}
}

func TestUnknownPageIsAStyledNotFound(t *testing.T) {
	u := newTestUI(t)
	res := u.get(auditor, "/no/such/page")
	if res.Status != http.StatusNotFound {
		t.Fatalf("status %d, want 404", res.Status)
	}
	mustContain(t, text(res.Body), "Audit log", "404", "Page not found", "There is nothing at /no/such/page.", "Go to the home page")
	cspSafe(t, res.Body)

	// Anonymous: the same page, without the navigation, offering sign-in.
	res = u.get(nil, "/nope")
	if res.Status != http.StatusNotFound {
		t.Fatalf("anonymous: status %d, want 404", res.Status)
	}
	mustContain(t, text(res.Body), "404", "Page not found", "Sign in")
	mustNotContain(t, text(res.Body), "Audit log", "My access")

	// The API keeps its problem documents.
	res = u.get(auditor, "/api/v1/nope")
	if res.Status != http.StatusNotFound || res.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("API: status %d type %q, want a 404 problem document", res.Status, res.Header.Get("Content-Type"))
	}
}

func TestStaticAssetsAreVersionedAndCached(t *testing.T) {
	u := newTestUI(t)
	home := u.get(nil, "/no-page") // any page links the assets
	m := regexp.MustCompile(`src="(/static/htmx\.min\.js\?v=[0-9a-f]{12})"`).FindStringSubmatch(home.Body)
	if m == nil {
		t.Fatalf("page does not load htmx from a versioned /static URL:\n%s", home.Body)
	}
	res := u.get(nil, m[1])
	if res.Status != 200 || !strings.HasPrefix(res.Body, "var htmx=function()") {
		t.Fatalf("htmx: status %d, body starts %q", res.Status, res.Body[:min(40, len(res.Body))])
	}
	if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
		t.Fatalf("versioned asset Cache-Control %q, want a year, immutable", cc)
	}
	if res := u.get(nil, "/static/app.css"); res.Status != 200 || res.Header.Get("Cache-Control") != "no-cache" || !strings.Contains(res.Body, "--accent") {
		t.Fatalf("unversioned app.css: status %d, Cache-Control %q", res.Status, res.Header.Get("Cache-Control"))
	}
	if res := u.get(nil, "/static/"); res.Status != 404 {
		t.Fatalf("/static/ lists the directory: status %d", res.Status)
	}
	// htmx is configured by its meta tag, with its inline indicator styles off (CSP).
	if !strings.Contains(home.Body, `<meta name="htmx-config" content='{&#34;includeIndicatorStyles&#34;:false`) &&
		!strings.Contains(home.Body, `<meta name="htmx-config" content='{"includeIndicatorStyles":false`) {
		t.Fatalf("no htmx-config meta turning includeIndicatorStyles off:\n%s", home.Body)
	}
}

func TestAuditLogPage(t *testing.T) {
	u := newTestUI(t)
	ctx := context.Background()
	err := u.store.InTx(ctx, func(tx *store.Tx) error {
		for i, e := range []struct{ actor, action, target string }{
			{"ada@example.com", "signin", ""},
			{"ada@example.com", "connection.create", "connection:aws"},
			{"system", "sync.start", "sync:s_1"},
			{"system", "sync.finish", "sync:s_1"},
			{"pat@example.com", "token.create", "token:t_1"},
		} {
			if _, err := tx.AppendAudit(ctx, e.actor, e.action, e.target, map[string]int{"n": i}, "10.0.0.7"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	res := u.get(auditor, "/audit")
	if res.Status != 200 {
		t.Fatalf("status %d", res.Status)
	}
	cspSafe(t, res.Body)
	// Newest first, every column.
	mustContain(t, text(res.Body), "Audit log",
		"5", "pat@example.com token.create token:t_1 n 4 10.0.0.7",
		"4", "system sync.finish sync:s_1",
		"3", "system sync.start sync:s_1",
		"2", "ada@example.com connection.create connection:aws",
		"1", "ada@example.com signin")

	// A prefix filter.
	res = u.get(auditor, "/audit?action=sync.")
	got := text(res.Body)
	mustContain(t, got, "sync.finish", "sync.start")
	mustNotContain(t, got, "token.create", "connection.create")

	// Nothing matches: the empty state.
	res = u.get(auditor, "/audit?actor=nobody@example.com")
	mustContain(t, text(res.Body), "No entries", "Nothing in the audit log matches these filters.")

	// A bad date says what to type.
	res = u.get(auditor, "/audit?from=yesterday")
	if res.Status != 400 {
		t.Fatalf("bad from: status %d", res.Status)
	}
	mustContain(t, text(res.Body), `From must be a date such as 2026-01-31 or an RFC 3339 time, got "yesterday".`)
}

func TestAuditLogLoadsMore(t *testing.T) {
	u := newTestUI(t)
	appendAudit(t, u, auditPageSize+3)
	res := u.get(auditor, "/audit")
	rows := strings.Count(res.Body, "<tr>") // data rows; the head row has no attributes either
	if rows != auditPageSize+1 {
		t.Fatalf("first page has %d rows (with the header), want %d", rows, auditPageSize+1)
	}
	m := regexp.MustCompile(`hx-get="([^"]+)"`).FindStringSubmatch(res.Body)
	if m == nil {
		t.Fatal("no Load more button")
	}
	next := strings.ReplaceAll(m[1], "&amp;", "&")
	if next != "/audit?before=4" {
		t.Fatalf("Load more asks for %q, want /audit?before=4", next)
	}
	frag := u.get(auditor, next, "HX-Request", "true")
	if strings.Contains(frag.Body, "<html") {
		t.Fatal("htmx request got the whole page, not the rows")
	}
	if n := strings.Count(frag.Body, "<tr>"); n != 3 {
		t.Fatalf("next page has %d rows, want 3", n)
	}
	if strings.Contains(frag.Body, "Load more") {
		t.Fatal("the last page still offers Load more")
	}
}

func TestAuditLogIsForAuditors(t *testing.T) {
	u := newTestUI(t)
	res := u.get(person, "/audit")
	if res.Status != http.StatusForbidden {
		t.Fatalf("a person sees the audit log: status %d", res.Status)
	}
	// The router's refusal is the UI's styled page, in the layout.
	mustContain(t, text(res.Body), "My access", "403", "Not allowed", "This needs the auditor role.")
	cspSafe(t, res.Body)
	// The API keeps its problem documents.
	if res := u.get(person, "/api/v1/nothing-here"); res.Status != http.StatusNotFound {
		t.Fatalf("API: %d", res.Status)
	}
	if res := u.get(admin, "/audit"); res.Status != 200 {
		t.Fatalf("an admin: status %d", res.Status)
	}
}

// The sign-in routes' pages render in the UI's look, without navigation.
func TestSignInMessagesInTheLayout(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	svc, err := auth.New(context.Background(), st, auth.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := &app.App{Store: st, Log: zap.NewNop(), Auth: svc}
	r := auth.NewRouter()
	svc.Register(r)
	Register(r, a)
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
	body := rec.Body.String()
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("/login without an issuer: status %d", rec.Code)
	}
	if !strings.Contains(body, `href="/static/app.css?v=`) || !strings.Contains(body, `id="message"`) {
		t.Fatalf("/login's message is not rendered by the web UI:\n%s", body)
	}
	cspSafe(t, body)
	mustNotContain(t, text(body), "Audit log", "My access")
}

// appendAudit appends n entries (sync.start by system).
func appendAudit(t *testing.T, u *testUI, n int) {
	t.Helper()
	ctx := context.Background()
	if err := u.store.InTx(ctx, func(tx *store.Tx) error {
		for range n {
			if _, err := tx.AppendAudit(ctx, "system", "sync.start", "sync:x", nil, ""); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

var _ = time.Now

// personCaller is a signed-in person without roles.
type personCaller struct{ email, name string }

func (p *personCaller) caller() *auth.Caller {
	return &auth.Caller{Email: p.email, Name: p.name, Via: "session"}
}
