package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// apiRequest is a request as the API answers it (the contract's fields).
type apiRequest struct {
	ID            string  `json:"id"`
	State         string  `json:"state"`
	Requester     string  `json:"requester"`
	EntitlementID string  `json:"entitlement_id"`
	DisplayName   string  `json:"display_name"`
	Application   string  `json:"application"`
	AccountID     string  `json:"account_id"`
	Reason        string  `json:"reason"`
	Duration      string  `json:"duration"`
	StartsAt      *string `json:"starts_at"`
	EndsAt        *string `json:"ends_at"`
	Rule          string  `json:"rule"`
	Policy        struct {
		Name string `json:"name"`
	} `json:"policy"`
	Steps []struct {
		Approvers []string `json:"approvers"`
		State     string   `json:"state"`
	} `json:"steps"`
	Transitions []struct {
		From, To, By, At, Reason string
	} `json:"transitions"`
	BreakGlass bool   `json:"break_glass"`
	CreatedAt  string `json:"created_at"`
}

// The contract of issue 11 through a real server on the demo organization: a request made (201), seen by its requester and refused to another person, refused to its
// requester as an approver (403) and to someone who is no approver (403), approved by an
// admin (200); a cancelled request cannot be approved (409, saying why); the lists; the
// rules as YAML with line-precise problems.
func TestJITAPIRequestFlow(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			s := newJITServer(t, d, true)

			adminID, readOnlyID := s.ent["AdministratorAccess"], s.ent["ReadOnly"]

			// Over the rule's maximum: 400 saying so.
			if d := s.problem("bob", "POST", "/api/v1/requests", `{"entitlement_id": "`+adminID+`", "duration": "9h", "reason": "x"}`, 400); !strings.Contains(d, "8h") {
				t.Errorf("9h: %q", d)
			}

			// bob asks: 201 with the request.
			var req apiRequest
			code, raw := s.call("bob", "POST", "/api/v1/requests", `{"entitlement_id": "`+adminID+`", "duration": "1h30m", "reason": "incident 4711"}`, &req)
			if code != 201 {
				t.Fatalf("create: %d %s", code, raw)
			}
			for _, key := range []string{`"id"`, `"state"`, `"requester"`, `"entitlement_id"`, `"display_name"`, `"application"`, `"account_id"`, `"reason"`, `"duration"`,
				`"starts_at":null`, `"ends_at":null`, `"rule"`, `"policy"`, `"steps"`, `"transitions"`, `"lease"`, `"error"`, `"break_glass":false`, `"created_at"`} {
				if !strings.Contains(raw, key) {
					t.Errorf("the created request lacks %s: %s", key, raw)
				}
			}
			if !strings.HasPrefix(req.ID, "req_") || req.State != "pending_approval" || req.Requester != "bob@example.com" || req.EntitlementID != adminID ||
				req.Duration != "1h30m0s" || req.Reason != "incident 4711" || req.AccountID != s.prod || req.Application != "aws" ||
				req.Rule != "accounts-everyone" || req.Policy.Name != "default" || len(req.Steps) != 1 || !contains(req.Steps[0].Approvers, "alice@example.com") ||
				len(req.Transitions) != 1 || req.Transitions[0].From != "" || req.Transitions[0].To != "pending_approval" || req.Transitions[0].By != "bob@example.com" {
				t.Errorf("created request = %s", raw)
			}
			if _, err := time.Parse(time.RFC3339, req.CreatedAt); err != nil {
				t.Errorf("created_at %q: %v", req.CreatedAt, err)
			}

			// Who sees it: bob, his approver alice, the auditor carol; not dave.
			for who, want := range map[string]int{"bob": 200, "alice": 200, "carol": 200} {
				if code, raw := s.call(who, "GET", "/api/v1/requests/"+req.ID, "", nil); code != want {
					t.Errorf("GET as %s: %d %s", who, code, raw)
				}
			}
			// To dave it does not exist: 404, as for an unknown id.
			s.problem("dave", "GET", "/api/v1/requests/"+req.ID, "", 404)
			s.problem("bob", "GET", "/api/v1/requests/req_doesnotexist0000000", "", 404)
			var list struct {
				Items []apiRequest `json:"items"`
			}
			listIDs := func(who, query string) []string {
				list.Items = nil
				if code, raw := s.call(who, "GET", "/api/v1/requests"+query, "", &list); code != 200 || !strings.Contains(raw, `"items":[`) {
					t.Fatalf("list %s as %s: %d %s", query, who, code, raw)
				}
				var ids []string
				for _, r := range list.Items {
					ids = append(ids, r.ID)
				}
				return ids
			}
			if ids := listIDs("bob", ""); len(ids) != 1 || ids[0] != req.ID {
				t.Errorf("bob's requests: %v", ids)
			}
			if ids := listIDs("dave", "?scope=mine"); len(ids) != 0 {
				t.Errorf("dave's requests: %v", ids)
			}
			if ids := listIDs("alice", "?scope=to_approve"); !contains(ids, req.ID) {
				t.Errorf("alice's requests to approve: %v", ids)
			}
			if ids := listIDs("carol", "?scope=all&state=pending_approval"); !contains(ids, req.ID) {
				t.Errorf("all pending requests, for the auditor: %v", ids)
			}
			s.problem("dave", "GET", "/api/v1/requests?scope=all", "", 403)

			// bob cannot approve his own request, carol (who may read it) is no approver: 403
			// saying why; to dave, who may not see it, it does not exist.
			if d := s.problem("bob", "POST", "/api/v1/requests/"+req.ID+"/approve", `{"reason": "looks fine to me"}`, 403); !strings.Contains(d, "you made this request, and nobody approves their own request") {
				t.Errorf("approving one's own request: %q", d)
			}
			s.problem("carol", "POST", "/api/v1/requests/"+req.ID+"/approve", `{}`, 403)
			s.problem("carol", "POST", "/api/v1/requests/"+req.ID+"/cancel", `{}`, 403)
			s.problem("dave", "POST", "/api/v1/requests/"+req.ID+"/approve", `{}`, 404)

			// A second request, cancelled by bob, cannot be approved: 409 naming its state.
			var other apiRequest
			if code, raw := s.call("bob", "POST", "/api/v1/requests", `{"entitlement_id": "`+readOnlyID+`", "reason": "read the logs"}`, &other); code != 201 || other.Duration != "1h0m0s" {
				t.Fatalf("second request (the rule's default duration): %d %s", code, raw)
			}
			var cancelled apiRequest
			if code, raw := s.call("bob", "POST", "/api/v1/requests/"+other.ID+"/cancel", `{"reason": "not needed after all"}`, &cancelled); code != 200 ||
				cancelled.State != "cancelled" || len(cancelled.Transitions) != 2 || cancelled.Transitions[1].To != "cancelled" ||
				cancelled.Transitions[1].By != "bob@example.com" || cancelled.Transitions[1].Reason != "not needed after all" {
				t.Fatalf("cancel: %d %s", code, raw)
			}
			if d := s.problem("alice", "POST", "/api/v1/requests/"+other.ID+"/approve", `{"reason": "ok"}`, 409); !strings.Contains(d, "cancelled") {
				t.Errorf("approving a cancelled request: %q", d)
			}
			s.problem("bob", "POST", "/api/v1/requests/"+other.ID+"/cancel", ``, 409)

			// alice approves bob's first request: 200 with the request, approved by her.
			var approved apiRequest
			code, raw = s.call("alice", "POST", "/api/v1/requests/"+req.ID+"/approve", `{"reason": "ok for the incident"}`, &approved)
			if code != 200 || approved.ID != req.ID {
				t.Fatalf("approve: %d %s", code, raw)
			}
			if approved.State == "pending_approval" || approved.State == "denied" || approved.State == "cancelled" || approved.State == "failed" {
				t.Errorf("approved request is %s: %s", approved.State, raw)
			}
			found := false
			for _, tr := range approved.Transitions {
				found = found || (tr.From == "pending_approval" && tr.To == "approved" && tr.By == "alice@example.com" && tr.Reason == "ok for the incident")
			}
			if !found {
				t.Errorf("no transition pending_approval -> approved by alice: %s", raw)
			}
			s.problem("alice", "POST", "/api/v1/requests/"+req.ID+"/deny", `{"reason": "changed my mind"}`, 409)

			// The rules: YAML out, YAML in; a bad document changes nothing and says where.
			code, h, doc := s.callHeader("alice", "GET", "/api/v1/rules", "", nil)
			if code != 200 || h.Get("Content-Type") != "application/yaml" || !strings.Contains(doc, "accounts-everyone") || h.Get("X-Gatehouse-Rules-Version") == "" {
				t.Fatalf("GET rules: %d %s %s", code, h, doc)
			}
			bad := "rules:\n  - name: prod\n    aproval_policy: default\n    requesters: {everyone: true}\n    duration:\n      default: 90x\n"
			var rejected struct {
				Status   int    `json:"status"`
				Detail   string `json:"detail"`
				Problems []struct {
					Line    int    `json:"line"`
					Column  int    `json:"column"`
					Field   string `json:"field"`
					Message string `json:"message"`
				} `json:"problems"`
			}
			code, h, raw = s.callHeader("alice", "PUT", "/api/v1/rules", bad, &rejected)
			if code != 400 || rejected.Status != 400 || h.Get("Content-Type") != "application/problem+json" || len(rejected.Problems) < 2 {
				t.Fatalf("bad rules: %d %s", code, raw)
			}
			lines := map[int]string{}
			for _, p := range rejected.Problems {
				if p.Line == 0 || p.Message == "" {
					t.Errorf("a problem without line or message: %+v", p)
				}
				lines[p.Line] = p.Field
				if !strings.Contains(rejected.Detail, p.Message) {
					t.Errorf("the detail does not list %q: %s", p.Message, rejected.Detail)
				}
			}
			if !strings.Contains(lines[3], "aproval_policy") || !strings.Contains(lines[6], "duration.default") {
				t.Errorf("problems by line = %v, want line 3 (aproval_policy) and line 6 (duration.default)", lines)
			}
			if _, _, after := s.callHeader("alice", "GET", "/api/v1/rules", "", nil); after != doc {
				t.Errorf("a rejected document changed the rules:\n%s", after)
			}
			var applied struct {
				Version int64 `json:"version"`
			}
			if code, raw := s.call("alice", "PUT", "/api/v1/rules", doc, &applied); code != 200 || applied.Version < 1 {
				t.Errorf("PUT the exported rules back: %d %s", code, raw)
			}
		})
	}
}

func toStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
