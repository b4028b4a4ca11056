package server_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/evidence"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

type apiPack struct {
	ID          string            `json:"id"`
	State       string            `json:"state"`
	Error       string            `json:"error"`
	SHA256      string            `json:"sha256"`
	Scheduled   bool              `json:"scheduled"`
	DownloadURL string            `json:"download_url"`
	Summary     *evidence.Summary `json:"summary"`
}

// awaitPack polls the pack until it is ready (or failed: the test fails).
func awaitPack(t *testing.T, h http.Handler, c *auth.Caller, id string) apiPack {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		code, body := call(t, h, c, "GET", "/api/v1/evidence/"+id, "")
		var p apiPack
		if err := json.Unmarshal([]byte(body), &p); code != 200 || err != nil {
			t.Fatalf("GET pack: %d %s", code, body)
		}
		if p.State == store.EvidenceReady {
			return p
		}
		if p.State == store.EvidenceFailed || time.Now().After(deadline) {
			t.Fatalf("pack %s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The server builds packs on its River queue "evidence": a request answers 202 queued,
// the job builds the pack of the synced demo organization into the data directory, the
// download verifies, and the build is audited with the pack's hash. With evidence.schedule
// monthly, last month's pack is queued as the server starts.
func TestEvidencePackBuiltByTheServer(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			db := storetest.Config(t, d)
			start := time.Now().UTC().Add(-time.Second)
			srv := newServer(t, server.Config{DataDir: t.TempDir(), DatabaseURL: db.DatabaseURL,
				Connections: []server.Connection{demoConnection(t)}, SecretKey: testSecretKey,
				Evidence: server.Evidence{Schedule: "monthly"}})
			h := srv.Handler()
			auditor := &auth.Caller{Email: "carol@example.com", Roles: []string{auth.RoleAuditor}}
			admin := &auth.Caller{Email: "admin@example.com", Roles: []string{auth.RoleAdmin}}
			syncNow(t, h, admin)

			body := fmt.Sprintf(`{"from": %q, "to": %q, "applications": ["aws"]}`, start.Format(time.RFC3339), time.Now().UTC().Add(time.Second).Format(time.RFC3339))
			code, resp := call(t, h, auditor, "POST", "/api/v1/evidence", body)
			var p apiPack
			if err := json.Unmarshal([]byte(resp), &p); code != http.StatusAccepted || err != nil || p.State != store.EvidenceQueued {
				t.Fatalf("POST evidence: %d %s", code, resp)
			}
			p = awaitPack(t, h, auditor, p.ID)
			if p.Summary == nil || p.Summary.Counts.EndGrants == 0 || p.Summary.Counts.GrantsAdded != p.Summary.Counts.EndGrants ||
				p.Summary.Counts.StartGrants != 0 || !p.Summary.Chain.OK {
				t.Errorf("pack summary: %+v", p.Summary)
			}
			req := httptestRequest(auditor, p.DownloadURL)
			rec := newRecorder()
			h.ServeHTTP(rec, req)
			zipBytes := rec.Body.Bytes()
			zr, err := zip.NewReader(bytes.NewReader(zipBytes), int64(len(zipBytes)))
			if err != nil || rec.Code != 200 || rec.Header().Get("X-Content-SHA256") != p.SHA256 {
				t.Fatalf("download: %d %v %v", rec.Code, rec.Header(), err)
			}
			if rep := evidence.Verify(zr); !rep.OK() || rep.PackID != p.ID {
				t.Errorf("verify: %+v", rep)
			}
			entries, err := srv.App.Store.ListAudit(context.Background(), store.AuditFilter{Action: "evidence.build"})
			if err != nil {
				t.Fatal(err)
			}
			built := map[string]bool{}
			for _, e := range entries {
				var det struct{ PackID, SHA256 string }
				_ = json.Unmarshal([]byte(strings.NewReplacer(`"pack_id"`, `"PackID"`, `"sha256"`, `"SHA256"`).Replace(e.Detail)), &det)
				built[det.PackID] = det.SHA256 != ""
			}
			if !built[p.ID] {
				t.Errorf("evidence.build entries: %v", entries)
			}

			// The schedule queues last month's pack when its job first runs, which River
			// starts with the server (on a loaded machine it can come after the request
			// above), and builds it.
			var list struct{ Items []apiPack }
			var scheduled []string
			for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
				code, resp = call(t, h, auditor, "GET", "/api/v1/evidence", "")
				list.Items = nil
				if err := json.Unmarshal([]byte(resp), &list); code != 200 || err != nil {
					t.Fatalf("list: %d %s", code, resp)
				}
				scheduled = scheduled[:0]
				for _, it := range list.Items {
					if it.Scheduled {
						scheduled = append(scheduled, it.ID)
					}
				}
				if len(scheduled) > 0 || time.Now().After(deadline) {
					break
				}
			}
			if len(scheduled) != 1 || len(list.Items) != 2 {
				t.Fatalf("packs: %s", resp)
			}
			awaitPack(t, h, auditor, scheduled[0])
		})
	}
}

// evidence.schedule and its scope come from the file or the environment; a bad schedule
// is refused; a scope without a schedule is monthly.
func TestEvidenceConfig(t *testing.T) {
	cfg, err := loadYAML(t, "evidence:\n  accounts: [\"111111111111\"]\n  ous: [ou-abcd-prod0001]\n")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Evidence.Every() != "monthly" || strings.Join(cfg.Evidence.Accounts, ",") != "111111111111" || cfg.Evidence.OUs[0] != "ou-abcd-prod0001" {
		t.Errorf("evidence: %+v every %q", cfg.Evidence, cfg.Evidence.Every())
	}
	t.Setenv("GATEHOUSE_EVIDENCE_SCHEDULE", "weekly")
	t.Setenv("GATEHOUSE_EVIDENCE_APPLICATIONS", "aws,app_payroll")
	cfg, err = loadYAML(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Evidence.Every() != "weekly" || strings.Join(cfg.Evidence.Applications, ",") != "aws,app_payroll" {
		t.Errorf("evidence from the environment: %+v", cfg.Evidence)
	}
	t.Setenv("GATEHOUSE_EVIDENCE_SCHEDULE", "")
	if _, err := loadYAML(t, "evidence:\n  schedule: daily\n"); err == nil || !strings.Contains(err.Error(), `evidence.schedule "daily": want monthly, weekly or off`) {
		t.Errorf("a bad schedule: %v", err)
	}
	cfg, err = loadYAML(t, "evidence:\n  schedule: \"off\"\n  accounts: [\"111111111111\"]\n")
	if err != nil || cfg.Evidence.Every() != "" {
		t.Errorf("off: %v %q", err, cfg.Evidence.Every())
	}
}

func httptestRequest(c *auth.Caller, path string) *http.Request {
	req := httptest.NewRequest("GET", path, nil)
	return req.WithContext(auth.WithCaller(req.Context(), c))
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }
