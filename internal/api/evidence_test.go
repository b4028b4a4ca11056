package api_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/evidence"
	"github.com/gatehouse/gatehouse/internal/evidence/evidencetest"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// get fetches path as who and returns the status, headers and raw body.
func (a *testAPI) raw(who, path string) (int, http.Header, []byte) {
	a.t.Helper()
	req, _ := http.NewRequest("GET", a.srv.URL+path, nil)
	req.Header.Set("X-Test-Caller", who)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, b
}

// The evidence API: auditors and admins request (202), list, read and download packs;
// people get 403; bad input is 400 with its exact message; the download's SHA-256 is the
// body's and the audit log's.
func TestEvidenceAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		a := newTestAPI(t, st)
		f := evidencetest.Seed(t, st)
		svc, err := evidence.New(evidence.Config{Store: st, DataDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		a.app.Evidence = svc
		from, to := f.From.Format(time.RFC3339Nano), f.To.Format(time.RFC3339Nano)
		body := map[string]any{"from": from, "to": to, "accounts": []string{evidencetest.Prod}}

		for who, want := range map[string]int{"": 401, "person": 403} {
			for _, c := range []struct{ method, path string }{{"POST", "/api/v1/evidence"}, {"GET", "/api/v1/evidence"},
				{"GET", "/api/v1/evidence/ev-x"}, {"GET", "/api/v1/evidence/ev-x/download"}, {"GET", "/api/v1/evidence/ev-x/summary"}} {
				code, b := a.do(who, c.method, c.path, body)
				if code != want {
					t.Errorf("%s %s as %q: %d, want %d", c.method, c.path, who, code, want)
				}
				if want == 403 && b["detail"] != "this needs the auditor role" {
					t.Errorf("%s %s as a person: %v", c.method, c.path, b["detail"])
				}
			}
		}
		for _, c := range []struct {
			body any
			want string
		}{
			{map[string]any{"from": "last month", "to": to}, `from must be an RFC 3339 time such as 2026-01-02T15:04:05Z, got "last month"`},
			{map[string]any{"from": from, "to": "2026-13-01T00:00:00Z"}, `to must be an RFC 3339 time such as 2026-01-02T15:04:05Z, got "2026-13-01T00:00:00Z"`},
			{map[string]any{"from": "2026-03-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"}, "from (2026-03-01T00:00:00Z) is after to (2026-02-01T00:00:00Z): swap them"},
			{map[string]any{"from": from, "to": to, "accounts": []string{"999999999999"}},
				`unknown account "999999999999": no synced connection has it; give a 12-digit account id or an account's name (GET /api/v1/resources?type=account lists them)`},
			{map[string]any{"from": from, "to": to, "acounts": []string{"x"}}, `the body has no key "acounts": the keys are from, to, accounts, ous, applications`},
			{map[string]any{"to": to}, "from is required: an RFC 3339 time such as 2026-01-02T15:04:05Z"},
		} {
			code, b := a.do("auditor", "POST", "/api/v1/evidence", c.body)
			if code != 400 || b["detail"] != c.want {
				t.Errorf("%v: %d %v\nwant %q", c.body, code, b["detail"], c.want)
			}
		}

		code, p := a.do("auditor", "POST", "/api/v1/evidence", body)
		if code != 202 {
			t.Fatalf("request: %d %v", code, p)
		}
		id := p["id"].(string)
		// Without a job queue the service builds before answering: ready at once.
		if p["state"] != "ready" || p["requested_by"] != "audrey@example.com" || p["download_url"] != "/api/v1/evidence/"+id+"/download" ||
			p["from"] != f.From.Format("2006-01-02T15:04:05.999Z07:00") {
			t.Errorf("pack: %v", p)
		}
		code, got := a.do("admin", "GET", "/api/v1/evidence/"+id, nil)
		if code != 200 || got["sha256"] != p["sha256"] || got["summary"].(map[string]any)["counts"].(map[string]any)["end_grants"] != 1.0 {
			t.Errorf("get: %d %v", code, got)
		}
		code, list := a.do("auditor", "GET", "/api/v1/evidence", nil)
		if code != 200 || len(list["items"].([]any)) != 1 || list["items"].([]any)[0].(map[string]any)["id"] != id {
			t.Errorf("list: %d %v", code, list)
		}
		if code, b := a.do("auditor", "GET", "/api/v1/evidence/ev-nope", nil); code != 404 || b["detail"] != "no such evidence pack: ev-nope" {
			t.Errorf("unknown pack: %d %v", code, b)
		}

		code, hdr, zipBytes := a.raw("auditor", "/api/v1/evidence/"+id+"/download")
		sum := sha256.Sum256(zipBytes)
		if code != 200 || hdr.Get("Content-Type") != "application/zip" || hdr.Get("X-Content-SHA256") != hex.EncodeToString(sum[:]) ||
			hdr.Get("X-Content-SHA256") != p["sha256"] || !strings.HasPrefix(hdr.Get("Content-Disposition"), `attachment; filename="evidence-`) {
			t.Fatalf("download: %d %v", code, hdr)
		}
		zr, err := zip.NewReader(bytes.NewReader(zipBytes), int64(len(zipBytes)))
		if err != nil {
			t.Fatal(err)
		}
		if rep := evidence.Verify(zr); !rep.OK() || rep.PackID != id {
			t.Errorf("the downloaded pack: %+v", rep)
		}
		code, hdr, html := a.raw("auditor", "/api/v1/evidence/"+id+"/summary")
		if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") || !strings.Contains(string(html), "<strong>A.5.18</strong>") {
			t.Errorf("summary: %d %v", code, hdr)
		}
		entries, err := st.ListAudit(t.Context(), store.AuditFilter{Action: "evidence.download"})
		if err != nil || len(entries) != 2 || !strings.Contains(entries[0].Detail, `"sha256":"`+hex.EncodeToString(sum[:])+`"`) ||
			entries[0].Actor != "audrey@example.com" {
			t.Errorf("downloads audited: %v %v", entries, err)
		}
	})
}
