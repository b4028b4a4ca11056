package api_test

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
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// jitTestSecretKey encrypts the stored secrets of the test servers (base64 of 32 bytes).
const jitTestSecretKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

// jitServer is a real Gatehouse server on 127.0.0.1, connected to the simulated demo
// organization, with API tokens for alice (admin), carol (auditor) and bob and dave
// (people with Identity Center users in the demo organization, no roles).
type jitServer struct {
	t    testing.TB
	url  string
	srv  *server.Server
	tok  map[string]string
	prod string // the prod account's id
	// ent are the entitlement ids of the permission sets on prod, by name.
	ent map[string]string
}

// newJITServer starts the server on a store of dialect d; with synced, it runs the first
// sync and waits for it, so that the inventory (and the catalog) has the organization.
func newJITServer(t testing.TB, d store.Dialect, synced bool) *jitServer {
	t.Helper()
	w, err := awssim.Preset("demo", 1)
	if err != nil {
		t.Fatal(err)
	}
	var prod string
	for _, a := range w.Accounts {
		if a.Name == "prod" {
			prod = a.ID
		}
	}
	ent := map[string]string{}
	for _, ps := range w.SSO.PermissionSets {
		ent[ps.Name] = "account:" + prod + ":" + ps.ARN[strings.LastIndex(ps.ARN, "/")+1:]
	}
	sim := awssim.New(w, awssim.Options{})
	if _, err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	info := sim.Info()
	db := storetest.Config(t, d)
	srv, err := server.New(context.Background(), server.Config{
		DataDir: t.TempDir(), DatabaseURL: db.DatabaseURL, SecretKey: jitTestSecretKey, KeepSyncs: 3, SyncSchedule: time.Hour,
		Admins: []string{"alice@example.com"}, Auditors: []string{"carol@example.com"},
		Connections: []server.Connection{{
			ID: "aws", EndpointURL: info.Endpoint, Region: info.Region, RoleARN: info.RoleARN, ExternalID: info.ExternalID,
			Orgs: true, MemberRoleName: info.MemberRoleName, IdentityCenter: true,
			AccessKeyID: info.AccessKeyID, SecretAccessKey: info.SecretAccessKey,
		}},
	}, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	s := &jitServer{t: t, url: hs.URL, srv: srv, tok: map[string]string{}, prod: prod, ent: ent}
	roles := auth.RolesFromConfig([]string{"alice@example.com"}, []string{"carol@example.com"})
	for _, who := range []string{"alice", "bob", "carol", "dave"} {
		email := who + "@example.com"
		secret, _, err := auth.CreateToken(context.Background(), srv.App.Store, auth.NewToken{Email: email, Name: "test", Roles: roles[email], Actor: "test"})
		if err != nil {
			t.Fatal(err)
		}
		s.tok[who] = secret
	}
	if synced {
		s.sync()
	}
	return s
}

// sync runs a sync now and waits for it to finish. The server's scheduler queues a first
// sync of a connection that has none as it starts, so the request can meet that one (409):
// then it waits for it to end and asks again, so the sync it waits for always started after
// the call.
func (s *jitServer) sync() {
	s.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var started struct {
			ID string `json:"id"`
		}
		code, raw := s.call("alice", "POST", "/api/v1/syncs", "", &started)
		switch {
		case code == http.StatusAccepted:
			s.awaitSync(started.ID, deadline, true)
			return
		case code == http.StatusConflict && time.Now().Before(deadline):
			var list struct {
				Items []struct {
					ID string `json:"id"`
				} `json:"items"`
			}
			if c, r := s.call("alice", "GET", "/api/v1/syncs?page_size=1", "", &list); c != http.StatusOK || len(list.Items) == 0 {
				s.t.Fatalf("a sync is running but the list of syncs is %d %s", c, r)
			}
			s.awaitSync(list.Items[0].ID, deadline, false)
		default:
			s.t.Fatalf("start a sync: %d %s", code, raw)
		}
	}
}

// awaitSync waits for sync id to end; a failed sync fails the test when mustSucceed.
func (s *jitServer) awaitSync(id string, deadline time.Time, mustSucceed bool) {
	s.t.Helper()
	for {
		var got struct {
			State string `json:"state"`
		}
		s.call("alice", "GET", "/api/v1/syncs/"+id, "", &got)
		switch got.State {
		case "succeeded", "partial":
			return
		case "failed":
			if mustSucceed {
				s.t.Fatalf("the sync failed")
			}
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("sync %s still %s after 2 minutes", id, got.State)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// call sends body (JSON text, or "" for none) as who ("" for anonymous) and decodes the
// answer into out when given; it returns the status and the raw answer.
func (s *jitServer) call(who, method, path, body string, out any) (int, string) {
	s.t.Helper()
	code, _, raw := s.callHeader(who, method, path, body, out)
	return code, raw
}

func (s *jitServer) callHeader(who, method, path, body string, out any) (int, http.Header, string) {
	s.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, s.url+path, rd)
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+s.tok[who])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			s.t.Fatalf("%s %s: %d, not JSON: %s", method, path, res.StatusCode, raw)
		}
	}
	return res.StatusCode, res.Header, string(raw)
}

// problemOf checks that an answer is a problem document of status code and returns its
// detail.
func (s *jitServer) problem(who, method, path, body string, code int) string {
	s.t.Helper()
	var p struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
		Detail string `json:"detail"`
	}
	got, h, raw := s.callHeader(who, method, path, body, &p)
	if got != code || p.Status != code || p.Title == "" || p.Detail == "" || h.Get("Content-Type") != "application/problem+json" {
		s.t.Errorf("%s %s as %q: %d %s %s, want a problem document of %d", method, path, who, got, h.Get("Content-Type"), raw, code)
	}
	return p.Detail
}

// Bad input is refused with 400 and a detail saying what to send, before anything is asked
// of the service; no credential is 401; revoke is for admins.
func TestJITAPIRefusesBadInput(t *testing.T) {
	s := newJITServer(t, store.SQLite, false)
	for _, c := range []struct {
		method, path, body, want string
	}{
		{"POST", "/api/v1/requests", "", `the body is empty; send {"entitlement_id": "account:111111111111:ps-0123456789abcdef", "duration": "1h30m", "reason": "why you need it"}`},
		{"POST", "/api/v1/requests", `{"entitlement_id": "x",`, `the body is not valid JSON`},
		{"POST", "/api/v1/requests", `{"entitlement": "x"}`, `unknown field "entitlement"`},
		{"POST", "/api/v1/requests", `{"entitlement_id": "x", "duration": 90}`, `duration must be a JSON string`},
		{"POST", "/api/v1/requests", `{"entitlement_id": "x", "duration": "90x"}`, `duration must be a positive Go duration such as 1h30m (h, m, s), got "90x"`},
		{"POST", "/api/v1/requests", `{"entitlement_id": "x", "duration": "-1h"}`, `duration must be a positive Go duration`},
		{"POST", "/api/v1/requests", `{"duration": "1h"}`, `entitlement_id is required: the id of an item of GET /api/v1/catalog`},
		{"POST", "/api/v1/requests/req_x/extend", `{}`, `duration is required: a Go duration such as 30m`},
		{"POST", "/api/v1/requests/req_x/extend", `{"duration": "soon"}`, `duration must be a positive Go duration such as 30m (h, m, s), got "soon"`},
		{"POST", "/api/v1/requests/req_x/approve", `{"reason": 1}`, `reason must be a JSON string; send {"reason": "why"}`},
		{"POST", "/api/v1/requests/req_x/deny", `{"why": "x"}`, `unknown field "why"`},
		{"GET", "/api/v1/requests?scope=everyone", "", `scope must be mine (your requests), to_approve (waiting for your decision), decided (those you decided) or all (auditors and admins), got "everyone"`},
		{"GET", "/api/v1/requests?state=open", "", `state must be one of pending_approval, approved, provisioning, active, expiring, revoked, expired, denied, cancelled, failed`},
		{"GET", "/api/v1/requests?page_size=x", "", `page_size must be a positive whole number`},
		{"GET", "/api/v1/leases?state=gone", "", `state must be one of pending, active, ending, ended, failed`},
		{"GET", "/api/v1/leases?scope=team", "", `scope must be mine (your leases) or all`},
		{"GET", "/api/v1/catalog?page_size=0", "", `page_size must be a positive whole number`},
	} {
		if d := s.problem("bob", c.method, c.path, c.body, 400); !strings.Contains(d, c.want) {
			t.Errorf("%s %s %s: detail %q, want it to say %q", c.method, c.path, c.body, d, c.want)
		}
	}
	if d := s.problem("alice", "PUT", "/api/v1/rules", " \n", 400); !strings.Contains(d, "the body is empty; send the rules document (YAML") {
		t.Errorf("empty rules: %q", d)
	}
	for _, path := range []string{"/api/v1/catalog", "/api/v1/requests", "/api/v1/leases", "/api/v1/rules"} {
		s.problem("", "GET", path, "", 401)
	}
	s.problem("", "POST", "/api/v1/requests", `{"entitlement_id": "x"}`, 401)
	if d := s.problem("bob", "POST", "/api/v1/requests/req_x/revoke", `{"reason": "x"}`, 403); !strings.Contains(d, "admin") {
		t.Errorf("revoke as a person: %q", d)
	}
	if d := s.problem("bob", "PUT", "/api/v1/rules", "rules: []\n", 403); !strings.Contains(d, "admin") {
		t.Errorf("PUT rules as a person: %q", d)
	}
	s.problem("bob", "GET", "/api/v1/rules", "", 403)
}

// An API without the jit service (an app assembled without jobs) says so with 503 rather
// than failing on a nil service.
func TestJITAPIWithoutService(t *testing.T) {
	a := newTestAPI(t, storetest.Open(t, store.SQLite))
	for _, path := range []string{"/api/v1/catalog", "/api/v1/requests", "/api/v1/leases"} {
		code, body := a.do("person", "GET", path, nil)
		if code != http.StatusServiceUnavailable || !strings.Contains(body["detail"].(string), "just-in-time access is not running on this server") {
			t.Errorf("GET %s: %d %v", path, code, body)
		}
	}
}
