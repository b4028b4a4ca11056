package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/evidence"
	"github.com/gatehouse/gatehouse/internal/evidence/evidencetest"
)

// The evidence page: auditors and admins list packs and request one with the form (bad
// input said in the form); a ready pack offers its download and summary; people get 403.
func TestEvidencePage(t *testing.T) {
	u := newTestUI(t)
	evidencetest.Seed(t, u.store)
	svc, err := evidence.New(evidence.Config{Store: u.store, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	u.app.Evidence = svc

	if res := u.get(person, "/evidence"); res.Status != http.StatusForbidden {
		t.Fatalf("a person: %d", res.Status)
	}
	res := u.get(auditor, "/evidence")
	cspSafe(t, res.Body)
	mustContain(t, text(res.Body), "Evidence packs", "No packs yet", "New pack", "Request pack")

	today := time.Now().UTC().Format("2006-01-02")
	for _, c := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"from": {today}, "to": {today}, "accounts": {"999999999999"}}, `unknown account "999999999999": no synced connection has it`},
		{url.Values{"from": {"2026-03-01"}, "to": {"2026-02-01"}}, "from (2026-03-01T00:00:00Z) is after to (2026-02-01T23:59:59Z): swap them"},
		{url.Values{"from": {"March"}, "to": {today}}, `from must be an RFC 3339 time such as 2026-01-02T15:04:05Z, got "March"`},
	} {
		res := u.postForm(auditor, "/evidence", c.form)
		if res.Status != http.StatusBadRequest {
			t.Errorf("%v: status %d", c.form, res.Status)
			continue
		}
		mustContain(t, text(res.Body), c.want)
	}

	res = u.postForm(auditor, "/evidence", url.Values{"from": {today}, "to": {today}, "accounts": {"prod"}})
	if res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/evidence?requested=ev-") {
		t.Fatalf("request: %d %v %s", res.Status, res.Header, text(res.Body))
	}
	id := strings.TrimPrefix(res.Header.Get("Location"), "/evidence?requested=")
	p, err := svc.Get(t.Context(), id)
	if err != nil || p.State != "ready" || strings.Join(p.Scope.Accounts, ",") != "prod" || p.RequestedBy != auditor.Email ||
		p.From.Format(time.RFC3339) != today+"T00:00:00Z" || p.To.Format("15:04:05.000") != "23:59:59.999" {
		t.Fatalf("the pack: %+v %v", p, err)
	}
	res = u.get(admin, res.Header.Get("Location"))
	cspSafe(t, res.Body)
	mustContain(t, text(res.Body), "Pack "+id+" requested", "accounts prod", "ready", "audit log intact", "by aud@example.com", "sha256 "+p.SHA256[:12]+"…")
	for _, href := range []string{`title="SHA-256 of the ZIP: ` + p.SHA256 + `"`, `href="/api/v1/evidence/` + id + `/download"`, `href="/api/v1/evidence/` + id + `/summary"`} {
		if !strings.Contains(res.Body, href) {
			t.Errorf("the page lacks %s", href)
		}
	}
	if strings.Contains(res.Body, `hx-trigger="every 2s"`) {
		t.Error("the list polls although no pack is being built")
	}
}
