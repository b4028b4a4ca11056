package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// waitState polls a request as who until it is in one of states, and returns it.
func (s *jitServer) waitState(who, id string, states ...string) apiRequestLease {
	s.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		var r apiRequestLease
		if code, raw := s.call(who, "GET", "/api/v1/requests/"+id, "", &r); code != http.StatusOK {
			s.t.Fatalf("GET %s: %d %s", id, code, raw)
		}
		for _, st := range states {
			if r.State == st {
				return r
			}
		}
		if r.State == "failed" || time.Now().After(deadline) {
			s.t.Fatalf("request %s is %s (error %q), want %v", id, r.State, r.Error, states)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// apiRequestLease is a request with its lease, as the API answers it.
type apiRequestLease struct {
	apiRequest
	Error string `json:"error"`
	Lease *struct {
		ID        string  `json:"id"`
		RequestID string  `json:"request_id"`
		State     string  `json:"state"`
		StartsAt  *string `json:"starts_at"`
		EndsAt    *string `json:"ends_at"`
		EndedAt   *string `json:"ended_at"`
		EndReason string  `json:"end_reason"`
	} `json:"lease"`
	PendingExtension *struct {
		Duration string `json:"duration"`
	} `json:"pending_extension"`
}

func parseTimes(t *testing.T, what string, ss ...*string) []time.Time {
	t.Helper()
	var out []time.Time
	for _, s := range ss {
		if s == nil {
			t.Fatalf("%s: a time is null", what)
		}
		v, err := time.Parse(time.RFC3339, *s)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		out = append(out, v)
	}
	return out
}

// The lease's side of the contract through a real server granting on the simulator: an
// approved request becomes active with the lease's starts_at and ends_at (RFC 3339, the
// duration apart) on the request and its lease; the leases list shows it; an extension
// waits for approval and, approved, moves ends_at; release ends it (revoked, released);
// an admin revokes another; the actions a state does not allow are 409 saying why.
func TestJITAPILeases(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			s := newJITServer(t, d, true)
			create := func(ps string) string {
				var r apiRequest
				if code, raw := s.call("bob", "POST", "/api/v1/requests", `{"entitlement_id": "`+s.ent[ps]+`", "duration": "1h", "reason": "incident 4711"}`, &r); code != 201 {
					t.Fatalf("create: %d %s", code, raw)
				}
				if code, raw := s.call("alice", "POST", "/api/v1/requests/"+r.ID+"/approve", `{"reason": "ok"}`, nil); code != 200 {
					t.Fatalf("approve: %d %s", code, raw)
				}
				return r.ID
			}
			id := create("AdministratorAccess")
			active := s.waitState("bob", id, "active")
			times := parseTimes(t, "active request", active.StartsAt, active.EndsAt)
			if d := times[1].Sub(times[0]); d != time.Hour {
				t.Errorf("starts_at %s, ends_at %s: %s apart, want the duration 1h", *active.StartsAt, *active.EndsAt, d)
			}
			if l := active.Lease; l == nil || !strings.HasPrefix(l.ID, "lease_") || l.RequestID != id || l.State != "active" ||
				l.StartsAt == nil || *l.StartsAt != *active.StartsAt || l.EndsAt == nil || *l.EndsAt != *active.EndsAt || l.EndedAt != nil {
				t.Errorf("active request's lease = %+v", active.Lease)
			}
			var leases struct {
				Items []struct {
					ID, RequestID, State string
					Requester            string `json:"requester"`
				} `json:"items"`
			}
			if code, raw := s.call("bob", "GET", "/api/v1/leases?state=active", "", &leases); code != 200 || len(leases.Items) != 1 || leases.Items[0].ID != active.Lease.ID || leases.Items[0].Requester != "bob@example.com" {
				t.Errorf("bob's active leases: %d %s", code, raw)
			}
			if code, raw := s.call("dave", "GET", "/api/v1/leases", "", &leases); code != 200 || len(leases.Items) != 0 {
				t.Errorf("dave's leases: %d %s", code, raw)
			}
			if code, raw := s.call("carol", "GET", "/api/v1/leases?scope=all", "", &leases); code != 200 || len(leases.Items) != 1 {
				t.Errorf("all leases for the auditor: %d %s", code, raw)
			}
			s.problem("dave", "GET", "/api/v1/leases?scope=all", "", 403)

			// More time: the seed policy wants it approved again; approved, ends_at moves.
			var ext apiRequestLease
			if code, raw := s.call("bob", "POST", "/api/v1/requests/"+id+"/extend", `{"duration": "30m", "reason": "still on it"}`, &ext); code != 200 ||
				ext.State != "active" || ext.PendingExtension == nil || ext.PendingExtension.Duration != "30m0s" || ext.EndsAt == nil || *ext.EndsAt != *active.EndsAt {
				t.Fatalf("extend: %d %s", code, raw)
			}
			s.problem("bob", "POST", "/api/v1/requests/"+id+"/extend", `{"duration": "30m"}`, 409)
			s.problem("alice", "POST", "/api/v1/requests/"+id+"/extend", `{"duration": "30m"}`, 403)
			var extended apiRequestLease
			if code, raw := s.call("alice", "POST", "/api/v1/requests/"+id+"/approve", `{"reason": "fine"}`, &extended); code != 200 || extended.PendingExtension != nil {
				t.Fatalf("approve the extension: %d %s", code, raw)
			}
			if got := parseTimes(t, "extended", extended.EndsAt)[0]; !got.Equal(times[1].Add(30 * time.Minute)) {
				t.Errorf("ends_at after the extension: %s, want %s", got, times[1].Add(30*time.Minute))
			}

			// Only bob releases; then the access is revoked in AWS and the lease ends, released.
			s.problem("alice", "POST", "/api/v1/requests/"+id+"/release", `{}`, 403)
			var released apiRequestLease
			if code, raw := s.call("bob", "POST", "/api/v1/requests/"+id+"/release", `{"reason": "done"}`, &released); code != 200 || (released.State != "expiring" && released.State != "revoked") {
				t.Fatalf("release: %d %s", code, raw)
			}
			done := s.waitState("bob", id, "revoked")
			if done.Lease == nil || done.Lease.State != "ended" || done.Lease.EndReason != "released" || done.Lease.EndedAt == nil {
				t.Errorf("released lease = %+v", done.Lease)
			}
			s.problem("bob", "POST", "/api/v1/requests/"+id+"/release", `{}`, 409)
			s.problem("bob", "POST", "/api/v1/requests/"+id+"/extend", `{"duration": "30m"}`, 409)

			// An admin revokes another active request.
			other := create("ReadOnly")
			s.waitState("bob", other, "active")
			if code, raw := s.call("alice", "POST", "/api/v1/requests/"+other+"/revoke", `{"reason": "offboarding"}`, nil); code != 200 {
				t.Fatalf("revoke: %d %s", code, raw)
			}
			if r := s.waitState("carol", other, "revoked"); r.Lease == nil || r.Lease.EndReason != "revoked" {
				t.Errorf("revoked lease = %+v", r.Lease)
			}
		})
	}
}
