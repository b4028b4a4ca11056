package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// demoConnection serves the demo organization and returns the connection to it, as a
// config file would give it.
func demoConnection(t *testing.T) server.Connection {
	t.Helper()
	w, err := awssim.Preset("demo", 1)
	if err != nil {
		t.Fatal(err)
	}
	sim := awssim.New(w, awssim.Options{})
	if _, err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	info := sim.Info()
	return server.Connection{
		ID: "aws", EndpointURL: info.Endpoint, Region: info.Region, RoleARN: info.RoleARN, ExternalID: info.ExternalID,
		Orgs: true, MemberRoleName: info.MemberRoleName, IdentityCenter: true,
		AccessKeyID: info.AccessKeyID, SecretAccessKey: info.SecretAccessKey,
	}
}

// testSecretKey encrypts the stored secrets of the test servers (base64 of 32 bytes).
const testSecretKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

func newServer(t *testing.T, cfg server.Config) *server.Server {
	t.Helper()
	if cfg.KeepSyncs == 0 {
		cfg.KeepSyncs = 3
	}
	if cfg.SyncSchedule == 0 {
		cfg.SyncSchedule = time.Hour
	}
	srv, err := server.New(context.Background(), cfg, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return srv
}

// call makes a request as caller (nil: anonymous) and returns the status and body.
func call(t *testing.T, h http.Handler, caller *auth.Caller, method, path, body string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if caller != nil {
		req = req.WithContext(auth.WithCaller(req.Context(), caller))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(b)
}

type apiSync struct {
	ID              string  `json:"id"`
	State           string  `json:"state"`
	Trigger         string  `json:"trigger"`
	StartedAt       *string `json:"started_at"`
	FinishedAt      *string `json:"finished_at"`
	APICalls        int64   `json:"api_calls"`
	SkippedAccounts []struct {
		AccountID string `json:"account_id"`
		Reason    string `json:"reason"`
		Fix       string `json:"fix"`
	} `json:"skipped_accounts"`
}

func TestSyncAPIAndMetrics(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			db := storetest.Config(t, d)
			conn := demoConnection(t)
			srv := newServer(t, server.Config{
				DataDir: t.TempDir(), DatabaseURL: db.DatabaseURL, Connections: []server.Connection{conn},
				SecretKey: testSecretKey,
			})
			h := srv.Handler()
			admin := &auth.Caller{Email: "admin@example.com", Roles: []string{auth.RoleAdmin}}
			auditor := &auth.Caller{Email: "auditor@example.com", Roles: []string{auth.RoleAuditor}}
			person := &auth.Caller{Email: "person@example.com"}

			// Who may start one.
			if code, _ := call(t, h, nil, "POST", "/api/v1/syncs", `{}`); code != http.StatusUnauthorized {
				t.Fatalf("anonymous POST: %d", code)
			}
			if code, _ := call(t, h, auditor, "POST", "/api/v1/syncs", `{}`); code != http.StatusForbidden {
				t.Fatalf("auditor POST: %d", code)
			}
			if code, _ := call(t, h, person, "GET", "/api/v1/syncs", ""); code != http.StatusForbidden {
				t.Fatalf("person GET: %d", code)
			}
			if code, body := call(t, h, admin, "POST", "/api/v1/syncs", `{"connection_id": "other"}`); code != http.StatusNotFound {
				t.Fatalf("unknown connection: %d %s", code, body)
			}

			// With one connection the body may be empty: 202 with the queued sync.
			code, body := call(t, h, admin, "POST", "/api/v1/syncs", "")
			if code != http.StatusAccepted {
				t.Fatalf("POST: %d %s", code, body)
			}
			var started apiSync
			if err := json.Unmarshal([]byte(body), &started); err != nil {
				t.Fatal(err)
			}
			for _, key := range []string{`"id"`, `"state"`, `"trigger"`, `"started_at"`, `"finished_at"`, `"api_calls"`, `"skipped_accounts":[]`} {
				if !strings.Contains(body, key) {
					t.Errorf("sync %s lacks %s", body, key)
				}
			}
			if started.State != "queued" || started.Trigger != "manual" {
				t.Fatalf("started %+v", started)
			}
			code, body = call(t, h, admin, "POST", "/api/v1/syncs", `{"connection_id": "aws"}`)
			if code != http.StatusConflict || !strings.Contains(body, "already queued or running") {
				t.Fatalf("second POST: %d %s, want 409", code, body)
			}

			// The auditor watches it finish.
			var got apiSync
			deadline := time.Now().Add(60 * time.Second)
			for {
				code, body = call(t, h, auditor, "GET", "/api/v1/syncs/"+started.ID, "")
				if code != http.StatusOK {
					t.Fatalf("GET sync: %d %s", code, body)
				}
				got = apiSync{}
				if err := json.Unmarshal([]byte(body), &got); err != nil {
					t.Fatal(err)
				}
				if got.State == "succeeded" || got.State == "partial" || got.State == "failed" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("sync still %s", got.State)
				}
				time.Sleep(100 * time.Millisecond)
			}
			if got.State != "partial" || got.StartedAt == nil || got.FinishedAt == nil || got.APICalls == 0 || len(got.SkippedAccounts) != 2 {
				t.Fatalf("finished sync %s", body)
			}
			for _, sk := range got.SkippedAccounts {
				if sk.AccountID == "" || sk.Reason == "" || sk.Fix == "" {
					t.Errorf("skipped account without id, reason or fix: %+v", sk)
				}
			}
			// The sync was ingested: the inventory has the organization, and the ACTIVE
			// account that could not be read is stale with the sync's reason and fix.
			counts, err := srv.App.Store.InventoryCounts(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if counts["account"] != 7 || counts["grants"] == 0 {
				t.Fatalf("inventory after the sync: %v, want the demo's 7 accounts and grants", counts)
			}
			reads, err := srv.App.Store.AccountReads(context.Background(), "aws")
			if err != nil {
				t.Fatal(err)
			}
			stale := 0
			for _, ar := range reads {
				if ar.Stale {
					stale++
					var fix string
					for _, sk := range got.SkippedAccounts {
						if sk.AccountID == ar.AccountID {
							fix = sk.Fix
						}
					}
					if fix == "" || ar.StaleFix != fix {
						t.Errorf("stale account %s: fix %q, the sync said %q", ar.AccountID, ar.StaleFix, fix)
					}
				}
			}
			if stale == 0 {
				t.Errorf("no stale account after a partial sync: %+v", reads)
			}
			// The findings were judged after the ingestion, before the sync finished: each
			// stale ACTIVE account fails gh.account_synced with the sync's fix, and its root
			// MFA is unknown, never passed.
			code, body = call(t, h, auditor, "GET", "/api/v1/findings?control=gh.account_synced&status=fail", "")
			var fl struct {
				Items []struct {
					Account string `json:"account"`
					Fix     string `json:"fix"`
					SyncID  string `json:"sync_id"`
				} `json:"items"`
			}
			if err := json.Unmarshal([]byte(body), &fl); err != nil || code != http.StatusOK {
				t.Fatalf("findings: %d %s", code, body)
			}
			staleActive := map[string]bool{}
			for _, ar := range reads {
				for _, sk := range got.SkippedAccounts {
					if ar.Stale && sk.AccountID == ar.AccountID && !strings.Contains(sk.Reason, "SUSPENDED") {
						staleActive[ar.AccountID] = true
					}
				}
			}
			if len(fl.Items) == 0 || len(fl.Items) != len(staleActive) {
				t.Errorf("gh.account_synced failures %s; want one per stale ACTIVE account %v", body, staleActive)
			}
			for _, f := range fl.Items {
				code, body := call(t, h, auditor, "GET", "/api/v1/findings?control=1.5&account="+f.Account, "")
				if code != http.StatusOK || !strings.Contains(body, `"status":"unknown"`) || f.Fix == "" || f.SyncID != started.ID {
					t.Errorf("stale account %s: %+v; 1.5: %s", f.Account, f, body)
				}
			}
			if code, _ := call(t, h, person, "GET", "/api/v1/findings", ""); code != http.StatusForbidden {
				t.Errorf("person GET findings: %d", code)
			}
			// The sync started service last accessed jobs within the budget (50 per
			// account). The simulator's jobs (Options{}) finish at once, so the look at the
			// end of each account's read, in the same role session, collected every one:
			// no job is left for the next sync, and every gh.unused_services verdict rests
			// on details that were read (their completion time is in the evidence).
			la, err := srv.App.Store.LastAccessOf(context.Background(), "aws")
			if err != nil {
				t.Fatal(err)
			}
			perAccount := map[string]int{}
			for arn, l := range la {
				if l.JobID != "" || l.CompletedAt == nil {
					t.Errorf("service last accessed of %s after one sync: %+v, want its job collected in the sync that started it", arn, l)
				}
				perAccount[l.AccountID]++
			}
			if len(la) == 0 {
				t.Error("the sync read no service last accessed details")
			}
			for acc, n := range perAccount {
				if n > 50 {
					t.Errorf("account %s: %d jobs started, over the budget of 50", acc, n)
				}
			}
			code, body = call(t, h, auditor, "GET", "/api/v1/findings?control=gh.unused_services&page_size=500", "")
			var unused struct {
				Items []struct {
					Resource, Status, Reason string
					Evidence                 map[string]any
				}
			}
			if err := json.Unmarshal([]byte(body), &unused); code != http.StatusOK || err != nil || len(unused.Items) < len(la) {
				t.Fatalf("gh.unused_services after one sync: %d %.400s; want at least %d", code, body, len(la))
			}
			judged := 0
			for _, f := range unused.Items {
				if _, read := la[f.Resource]; !read {
					if f.Status != "unknown" {
						t.Errorf("%s: %s %q without its details read", f.Resource, f.Status, f.Reason)
					}
					continue
				}
				judged++
				if f.Status == "unknown" || f.Evidence["job_completed_at"] == nil {
					t.Errorf("%s: %s %q %v, want a verdict on the details read", f.Resource, f.Status, f.Reason, f.Evidence)
				}
			}
			if judged != len(la) {
				t.Errorf("%d findings on details read, want %d", judged, len(la))
			}
			if code, _ := call(t, h, auditor, "GET", "/api/v1/syncs/nope", ""); code != http.StatusNotFound {
				t.Fatalf("GET unknown sync: %d", code)
			}
			code, body = call(t, h, auditor, "GET", "/api/v1/syncs?page_size=1", "")
			if code != http.StatusOK || !strings.Contains(body, `"items":[{"id":"`+started.ID+`"`) {
				t.Fatalf("list: %d %s", code, body)
			}

			// /metrics is public and tells what happened.
			code, body = call(t, h, nil, "GET", "/metrics", "")
			if code != http.StatusOK {
				t.Fatalf("/metrics: %d", code)
			}
			for _, want := range []string{
				`gatehouse_syncs_total{connection="aws",state="partial"} 1`,
				`gatehouse_sync_duration_seconds_count{connection="aws",state="partial"} 1`,
				`gatehouse_sync_api_calls_total{connection="aws"} `,
				`gatehouse_jobs{state="available"} `,
				`gatehouse_jobs{state="running"} `,
				`gatehouse_http_request_duration_seconds_count{method="POST",route="/api/v1/syncs",status="202"} 1`,
				`gatehouse_http_request_duration_seconds_count{method="POST",route="/api/v1/syncs",status="409"} 1`,
				`gatehouse_http_request_duration_seconds_count{method="GET",route="/api/v1/syncs/{id}",status="404"} 1`,
			} {
				if !strings.Contains(body, want) {
					t.Errorf("/metrics lacks %s", want)
				}
			}
		})
	}
}

func TestMetricsToken(t *testing.T) {
	srv := newServer(t, server.Config{DataDir: t.TempDir(), MetricsToken: "s3cret"})
	h := srv.Handler()
	for _, tc := range []struct {
		auth string
		want int
	}{{"", 401}, {"Bearer nope", 401}, {"s3cret", 401}, {"Bearer s3cret", 200}} {
		req := httptest.NewRequest("GET", "/metrics", nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("/metrics with Authorization %q: %d, want %d", tc.auth, rec.Code, tc.want)
		}
		if tc.want == 200 && !strings.Contains(rec.Body.String(), "gatehouse_jobs{") {
			t.Errorf("/metrics body lacks the queue depth")
		}
	}
}
