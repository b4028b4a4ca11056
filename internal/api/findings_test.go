package api_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// GET /api/v1/findings: auditors and admins only; the contract's fields; the account,
// control and status filters; paging; bad filters answered 400 with what is allowed; one
// finding with its history.
func TestFindingsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		a := newTestAPI(t, st)
		ctx := context.Background()
		t1 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		t2 := t1.Add(6 * time.Hour)
		bob := "arn:aws:iam::222222222222:user/bob"
		mk := func(control, v5, account, resource, status string) store.Finding {
			return store.Finding{Control: control, CISv5: v5, Title: "title " + control, Account: account, Resource: resource,
				Status: status, Reason: "because " + status, Evidence: map[string]any{"mfa_active": status == "pass"}, Fix: "fix " + control}
		}
		if _, err := st.ApplyFindings(ctx, "aws", "s1", t1, []store.Finding{
			mk("1.10", "1.9", "222222222222", bob, "fail"),
			mk("1.8", "1.7", "222222222222", "222222222222", "fail"),
			mk("1.8", "1.7", "111111111111", "111111111111", "pass"),
			mk("1.5", "1.4", "444444444444", "444444444444", "unknown"),
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.ApplyFindings(ctx, "aws", "s2", t2, []store.Finding{
			mk("1.10", "1.9", "222222222222", bob, "pass"),
			mk("1.8", "1.7", "222222222222", "222222222222", "fail"),
			mk("1.8", "1.7", "111111111111", "111111111111", "pass"),
			mk("1.5", "1.4", "444444444444", "444444444444", "unknown"),
		}); err != nil {
			t.Fatal(err)
		}
		for who, want := range map[string]int{"": 401, "person": 403, "auditor": 200, "admin": 200} {
			if code, _ := a.do(who, "GET", "/api/v1/findings", nil); code != want {
				t.Errorf("GET /api/v1/findings as %q: %d, want %d", who, code, want)
			}
		}
		keys := func(body map[string]any) []string {
			var out []string
			for _, it := range body["items"].([]any) {
				m := it.(map[string]any)
				out = append(out, fmt.Sprintf("%s %s %s", m["account"], m["control"], m["status"]))
			}
			return out
		}
		code, body := a.do("auditor", "GET", "/api/v1/findings", nil)
		if code != 200 || fmt.Sprint(keys(body)) != "[111111111111 1.8 pass 222222222222 1.10 pass 222222222222 1.8 fail 444444444444 1.5 unknown]" {
			t.Fatalf("all: %d %v", code, keys(body))
		}
		first := body["items"].([]any)[1].(map[string]any)
		want := map[string]any{"control": "1.10", "cis_v5": "1.9", "title": "title 1.10", "connection": "aws", "account": "222222222222",
			"resource": bob, "status": "pass", "reason": "because pass", "evidence": map[string]any{"mfa_active": true},
			"fix": "fix 1.10", "since": "2026-03-01T06:00:00Z", "sync_id": "s2", "evaluated_at": "2026-03-01T06:00:00Z",
			"id": store.FindingID("aws", "1.10", "222222222222", bob)}
		if !equalJSON(first, want) {
			t.Errorf("finding:\n got %v\nwant %v", first, want)
		}
		for q, wantKeys := range map[string]string{
			"account=222222222222":             "[222222222222 1.10 pass 222222222222 1.8 fail]",
			"control=1.8":                      "[111111111111 1.8 pass 222222222222 1.8 fail]",
			"status=fail":                      "[222222222222 1.8 fail]",
			"status=unknown&control=1.5":       "[444444444444 1.5 unknown]",
			"account=333333333333":             "[]",
			"control=1.8&account=111111111111": "[111111111111 1.8 pass]",
		} {
			code, body := a.do("auditor", "GET", "/api/v1/findings?"+q, nil)
			if code != 200 || fmt.Sprint(keys(body)) != wantKeys {
				t.Errorf("%s: %d %v, want %s", q, code, keys(body), wantKeys)
			}
		}
		// Pages of 3 then 1.
		_, body = a.do("admin", "GET", "/api/v1/findings?page_size=3", nil)
		token, _ := body["next_page_token"].(string)
		if len(body["items"].([]any)) != 3 || token == "" {
			t.Fatalf("page 1: %v", body)
		}
		_, body = a.do("admin", "GET", "/api/v1/findings?page_size=3&page_token="+token, nil)
		if fmt.Sprint(keys(body)) != "[444444444444 1.5 unknown]" || body["next_page_token"] != nil && body["next_page_token"] != "" {
			t.Errorf("page 2: %v", body)
		}
		for q, detail := range map[string]string{
			"status=ok":       `status must be pass, fail or unknown, got "ok"`,
			"account=12":      `account must be a 12-digit AWS account id, got "12"`,
			"page_token=zzz!": "page_token is not one this API gave; start again without it",
		} {
			code, body := a.do("auditor", "GET", "/api/v1/findings?"+q, nil)
			if code != 400 || body["detail"] != detail {
				t.Errorf("%s: %d %v", q, code, body["detail"])
			}
		}
		if code, body := a.do("auditor", "GET", "/api/v1/findings?control=9.9", nil); code != 400 ||
			body["detail"] != `control "9.9" is not one Gatehouse judges; use one of 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 1.10, 1.11, 1.12, 1.13, 1.14, 1.15, 1.16, 1.17, gh.standing_admin, gh.departed_access, gh.session_duration, gh.unused_services, gh.account_synced` {
			t.Errorf("control=9.9: %d %v", code, body["detail"])
		}

		// One finding: opened failing at s1, resolved at s2.
		id := store.FindingID("aws", "1.10", "222222222222", bob)
		code, body = a.do("auditor", "GET", "/api/v1/findings/"+id, nil)
		if code != 200 || body["status"] != "pass" || !equalJSON(body["history"], []any{
			map[string]any{"sync_id": "s1", "at": "2026-03-01T00:00:00Z", "from": "", "to": "fail"},
			map[string]any{"sync_id": "s2", "at": "2026-03-01T06:00:00Z", "from": "fail", "to": "pass"},
		}) {
			t.Errorf("finding %s: %d %v", id, code, body)
		}
		if code, _ := a.do("person", "GET", "/api/v1/findings/"+id, nil); code != 403 {
			t.Errorf("person: %d", code)
		}
		if code, _ := a.do("auditor", "GET", "/api/v1/findings/fnd_nope", nil); code != 404 {
			t.Errorf("missing: %d", code)
		}
	})
}
