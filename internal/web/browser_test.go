package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse/gatehouse/internal/auth"
)

// The UI tests drive a real headless Chromium (Debian's chromium package) with chromedp.
//
//	GATEHOUSE_CHROMIUM           the browser binary (default /usr/bin/chromium)
//	GATEHOUSE_REQUIRE_CHROMIUM=1 fail, instead of skipping, when it is missing (CI sets it)
//	GATEHOUSE_SCREENSHOTS=dir    write screenshots of the main pages there (docs/screenshots)

// serverCSP is the Content-Security-Policy internal/server sends, for the tests that serve
// the pages without the whole server.
const serverCSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

// Browser is one headless Chromium tab with the console watched for errors.
type Browser struct {
	T   *testing.T
	Ctx context.Context
	mu  sync.Mutex
	// problems are console errors, uncaught exceptions and CSP violations.
	problems []string
	// allowed are messages a test expects (a form answered 422 on purpose).
	allowed []string
}

// Allow makes console problems containing substr expected rather than failures.
func (b *Browser) Allow(substr string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.allowed = append(b.allowed, substr)
}

// chromiumPath is the browser to drive, or "" (and a reason) when there is none.
func chromiumPath() (string, string) {
	p := os.Getenv("GATEHOUSE_CHROMIUM")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if _, err := os.Stat(p); err != nil {
		return "", "no Chromium at " + p + " (install Debian's chromium, or set GATEHOUSE_CHROMIUM)"
	}
	return p, ""
}

// NewBrowser starts Chromium for the test, or skips when there is none (fails when
// GATEHOUSE_REQUIRE_CHROMIUM=1).
func NewBrowser(t *testing.T) *Browser {
	t.Helper()
	path, why := chromiumPath()
	if path == "" {
		if os.Getenv("GATEHOUSE_REQUIRE_CHROMIUM") == "1" {
			t.Fatalf("Chromium is required (GATEHOUSE_REQUIRE_CHROMIUM=1): %s", why)
		}
		t.Skipf("UI test skipped: %s", why)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1360, 900),
		chromedp.Flag("lang", "en-US"),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run as root with its sandbox
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	b := &Browser{T: t, Ctx: ctx}
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	// Start the browser and watch its console from the first page on.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium %s: %v", path, err)
	}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			// The provider's demo login page has no icon, so Chromium asks for /favicon.ico.
			if strings.HasSuffix(m.URL, "/favicon.ico") {
				continue
			}
			if m.Type == chromedp.ConsoleError || m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
				b.mu.Lock()
				b.problems = append(b.problems, m.String()+" ("+m.URL+")")
				b.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
	problems:
		for _, p := range b.problems {
			for _, a := range b.allowed {
				if strings.Contains(p, a) {
					continue problems
				}
			}
			t.Errorf("browser console: %s", p)
		}
	})
	return b
}

// Do runs actions, failing the test on error.
func (b *Browser) Do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.T.Helper()
	if err := chromedp.Do(b.Ctx, actions...); err != nil {
		b.T.Fatalf("%s: %v", what, err)
	}
}

// Text is the visible text of the first element matching the CSS selector.
func (b *Browser) Text(sel string) string {
	b.T.Helper()
	s, err := chromedp.Run(b.Ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.T.Fatalf("text of %s: %v", sel, err)
	}
	return strings.Join(strings.Fields(s), " ")
}

// WaitText waits until the element's text contains want.
func (b *Browser) WaitText(sel, want string, timeout time.Duration) string {
	b.T.Helper()
	deadline := time.Now().Add(timeout)
	var got string
	for time.Now().Before(deadline) {
		s, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`(document.querySelector(`+jsString(sel)+`)||{}).innerText||""`))
		if err == nil {
			got = strings.Join(strings.Fields(s), " ")
			if strings.Contains(got, want) {
				return got
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.T.Fatalf("after %s, %s still does not show %q; it shows %q", timeout, sel, want, got)
	return ""
}

// WaitTextIn waits until the element's text is one of want, and returns it.
func (b *Browser) WaitTextIn(sel string, timeout time.Duration, want ...string) string {
	b.T.Helper()
	deadline := time.Now().Add(timeout)
	var got string
	for time.Now().Before(deadline) {
		s, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`(document.querySelector(`+jsString(sel)+`)||{}).innerText||""`))
		if err == nil {
			got = strings.Join(strings.Fields(s), " ")
			for _, w := range want {
				if got == w {
					return got
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.T.Fatalf("after %s, %s shows %q, none of %q", timeout, sel, got, want)
	return ""
}

// WaitCount waits until n elements match the CSS selector.
func (b *Browser) WaitCount(sel string, n int, timeout time.Duration) {
	b.T.Helper()
	deadline := time.Now().Add(timeout)
	for b.Count(sel) != n {
		if time.Now().After(deadline) {
			b.T.Fatalf("after %s, %d elements match %s, want %d", timeout, b.Count(sel), sel, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Count is how many elements match the CSS selector.
func (b *Browser) Count(sel string) int {
	b.T.Helper()
	n, err := chromedp.Run(b.Ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+jsString(sel)+`).length`))
	if err != nil {
		b.T.Fatalf("count %s: %v", sel, err)
	}
	return n
}

// Location is the tab's current URL.
func (b *Browser) Location() string {
	b.T.Helper()
	u, err := chromedp.Run(b.Ctx, chromedp.Location())
	if err != nil {
		b.T.Fatal(err)
	}
	return u
}

// Screenshot saves the page as dir/name.png when GATEHOUSE_SCREENSHOTS names a directory.
func (b *Browser) Screenshot(name string) {
	b.T.Helper()
	dir := os.Getenv("GATEHOUSE_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.T.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.T.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.T.Fatal(err)
	}
}

func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`).Replace(s) + "'"
}

// asCaller serves h with caller signed in and the server's CSP, as the whole server does
// once sign-in has run.
func asCaller(h http.Handler, caller *auth.Caller) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", serverCSP)
		h.ServeHTTP(w, r.WithContext(auth.WithCaller(r.Context(), caller)))
	})
}

// TestBrowserLoadMoreUnderCSP pages the audit log in Chromium: htmx loads from /static
// under the strict CSP, "Load more" appends the next entries in place, and the console
// stays free of errors and CSP violations.
func TestBrowserLoadMoreUnderCSP(t *testing.T) {
	u := newTestUI(t)
	appendAudit(t, u, auditPageSize+7)
	srv := httptest.NewServer(asCaller(u.router, auditor))
	defer srv.Close()
	b := NewBrowser(t)
	b.Do("open the audit log", chromedp.Navigate(srv.URL+"/audit"))
	if n := b.Count("#audit-table tbody tr:not(.more-row)"); n != auditPageSize {
		t.Fatalf("first page shows %d entries, want %d", n, auditPageSize)
	}
	b.Do("load more", chromedp.Click(chromedp.CSS(".more-row button")))
	deadline := time.Now().Add(10 * time.Second)
	for b.Count("#audit-table tbody tr:not(.more-row)") != auditPageSize+7 {
		if time.Now().After(deadline) {
			t.Fatalf("after Load more the table shows %d entries, want %d", b.Count("#audit-table tbody tr:not(.more-row)"), auditPageSize+7)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if b.Count(".more-row") != 0 {
		t.Fatal("Load more is still offered after the last entry")
	}
	if got := b.Text("#audit-table tbody tr:last-child td:first-child"); got != "1" {
		t.Fatalf("the last row is entry %q, want 1", got)
	}
	if !strings.HasSuffix(b.Location(), "/audit") {
		t.Fatalf("Load more navigated away: %s", b.Location())
	}
}

// SetCacheTTL sets how long inventory pages are kept (0: not at all) until the returned
// function puts it back; the latency measurement uses it to measure pages built afresh.
func SetCacheTTL(d time.Duration) func() {
	old := cacheTTL
	cacheTTL = d
	return func() { cacheTTL = old }
}

// Eval runs a JavaScript expression in the page and returns its value (DevTools runs it,
// so the page's CSP does not apply: tests use it to read and poke, never the pages).
func (b *Browser) Eval(expr string) any {
	b.T.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[any](expr))
	if err != nil {
		b.T.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// Viewport resizes the page's viewport (a phone is 390 x 844).
func (b *Browser) Viewport(w, h int64) {
	b.T.Helper()
	b.Do("resize the viewport", chromedp.EmulateViewport(w, h))
}

// Open navigates to url and waits for the page to load.
func (b *Browser) Open(url string) {
	b.T.Helper()
	b.Do("open "+url, chromedp.Navigate(url))
}

// Click clicks the first element matching the CSS selector, waiting for it to be visible.
func (b *Browser) Click(sel string) {
	b.T.Helper()
	b.Do("click "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// ClickAndWait clicks a link or submit button and waits for the page it leads to.
func (b *Browser) ClickAndWait(sel string) {
	b.T.Helper()
	if _, err := chromedp.RunResponse(b.Ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)); err != nil {
		b.T.Fatalf("click %s: %v", sel, err)
	}
}

// Type types text into the element matching the CSS selector.
func (b *Browser) Type(sel, text string) {
	b.T.Helper()
	b.Do("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text, chromedp.NodeVisible))
}

// WaitVisible waits until an element matching the CSS selector is visible.
func (b *Browser) WaitVisible(sel string) {
	b.T.Helper()
	b.Do("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
}
