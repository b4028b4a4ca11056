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

// browser is one headless Chromium tab with the console watched for errors.
type browser struct {
	t   *testing.T
	ctx context.Context
	mu  sync.Mutex
	// problems are console errors, uncaught exceptions and CSP violations.
	problems []string
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

// newBrowser starts Chromium for the test, or skips when there is none (fails when
// GATEHOUSE_REQUIRE_CHROMIUM=1).
func newBrowser(t *testing.T) *browser {
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
	b := &browser{t: t, ctx: ctx}
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
		for _, p := range b.problems {
			t.Errorf("browser console: %s", p)
		}
	})
	return b
}

// do runs actions, failing the test on error.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// text is the visible text of the first element matching the CSS selector.
func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.Join(strings.Fields(s), " ")
}

// waitText waits until the element's text contains want.
func (b *browser) waitText(sel, want string, timeout time.Duration) string {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	var got string
	for time.Now().Before(deadline) {
		s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(document.querySelector(`+jsString(sel)+`)||{}).innerText||""`))
		if err == nil {
			got = strings.Join(strings.Fields(s), " ")
			if strings.Contains(got, want) {
				return got
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.t.Fatalf("after %s, %s still does not show %q; it shows %q", timeout, sel, want, got)
	return ""
}

// count is how many elements match the CSS selector.
func (b *browser) count(sel string) int {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+jsString(sel)+`).length`))
	if err != nil {
		b.t.Fatalf("count %s: %v", sel, err)
	}
	return n
}

// location is the tab's current URL.
func (b *browser) location() string {
	b.t.Helper()
	u, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return u
}

// screenshot saves the page as dir/name.png when GATEHOUSE_SCREENSHOTS names a directory.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	dir := os.Getenv("GATEHOUSE_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
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
	b := newBrowser(t)
	b.do("open the audit log", chromedp.Navigate(srv.URL+"/audit"))
	if n := b.count("#audit-table tbody tr:not(.more-row)"); n != auditPageSize {
		t.Fatalf("first page shows %d entries, want %d", n, auditPageSize)
	}
	b.do("load more", chromedp.Click(chromedp.CSS(".more-row button")))
	deadline := time.Now().Add(10 * time.Second)
	for b.count("#audit-table tbody tr:not(.more-row)") != auditPageSize+7 {
		if time.Now().After(deadline) {
			t.Fatalf("after Load more the table shows %d entries, want %d", b.count("#audit-table tbody tr:not(.more-row)"), auditPageSize+7)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if b.count(".more-row") != 0 {
		t.Fatal("Load more is still offered after the last entry")
	}
	if got := b.text("#audit-table tbody tr:last-child td:first-child"); got != "1" {
		t.Fatalf("the last row is entry %q, want 1", got)
	}
	if !strings.HasSuffix(b.location(), "/audit") {
		t.Fatalf("Load more navigated away: %s", b.location())
	}
}
