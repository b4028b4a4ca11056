package api_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

func TestAuditAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		a := newTestAPI(t, st)
		ctx := context.Background()
		// 7 entries: odd ones by ann (sync.start), even ones by the system (sync.finish).
		for i := 1; i <= 7; i++ {
			actor, action := "ann@example.com", "sync.start"
			if i%2 == 0 {
				actor, action = "system", "sync.finish"
			}
			err := st.InTx(ctx, func(tx *store.Tx) error {
				_, err := tx.AppendAudit(ctx, actor, action, fmt.Sprintf("sync:s%d", i), map[string]any{"i": i}, "192.0.2.9")
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		for who, want := range map[string]int{"": 401, "person": 403, "auditor": 200, "admin": 200} {
			if code, _ := a.do(who, "GET", "/api/v1/audit", nil); code != want {
				t.Errorf("GET /api/v1/audit as %q: %d, want %d", who, code, want)
			}
		}

		seqs := func(body map[string]any) []int {
			var out []int
			for _, it := range body["items"].([]any) {
				out = append(out, int(it.(map[string]any)["seq"].(float64)))
			}
			return out
		}
		// Newest first, paged: 3 + 3 + 1, and the last page has no token.
		var all []int
		token := ""
		for page := 0; ; page++ {
			code, body := a.do("auditor", "GET", "/api/v1/audit?page_size=3&page_token="+token, nil)
			if code != 200 {
				t.Fatalf("page %d: %d %v", page, code, body)
			}
			all = append(all, seqs(body)...)
			token, _ = body["next_page_token"].(string)
			if token == "" {
				break
			}
		}
		if fmt.Sprint(all) != "[7 6 5 4 3 2 1]" {
			t.Fatalf("pages gave %v", all)
		}

		code, body := a.do("auditor", "GET", "/api/v1/audit?actor=system", nil)
		if code != 200 || fmt.Sprint(seqs(body)) != "[6 4 2]" {
			t.Errorf("actor=system: %d %v", code, seqs(body))
		}
		first := body["items"].([]any)[0].(map[string]any)
		if first["action"] != "sync.finish" || first["target"] != "sync:s6" || first["remote_addr"] != "192.0.2.9" ||
			!equalJSON(first["detail"], map[string]any{"i": 6}) || len(first["hash"].(string)) != 64 || len(first["prev_hash"].(string)) != 64 {
			t.Errorf("entry = %v", first)
		}
		if _, err := time.Parse(time.RFC3339, first["at"].(string)); err != nil {
			t.Errorf("at: %v", err)
		}
		if _, body = a.do("auditor", "GET", "/api/v1/audit?action=sync.start&target=sync:s3", nil); fmt.Sprint(seqs(body)) != "[3]" {
			t.Errorf("action+target: %v", seqs(body))
		}
		if _, body = a.do("auditor", "GET", "/api/v1/audit?action=sync.", nil); len(seqs(body)) != 7 {
			t.Errorf("action prefix: %v", seqs(body))
		}
		future := url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
		if _, body = a.do("auditor", "GET", "/api/v1/audit?from="+future, nil); len(seqs(body)) != 0 {
			t.Errorf("from the future: %v", seqs(body))
		}
		if _, body = a.do("auditor", "GET", "/api/v1/audit?to="+future, nil); len(seqs(body)) != 7 {
			t.Errorf("to the future: %v", seqs(body))
		}
		for q, want := range map[string]string{
			"from=yesterday": `from must be an RFC 3339 time such as 2026-01-02T15:04:05Z, got "yesterday"`,
			"page_token=abc": `page_token "abc" is not one this API gave; start again without it`,
			"page_size=-1":   `page_size must be a positive whole number (at most 1000), got "-1"`,
		} {
			if code, body := a.do("auditor", "GET", "/api/v1/audit?"+q, nil); code != 400 || body["detail"] != want {
				t.Errorf("%s: %d %v", q, code, body["detail"])
			}
		}
	})
}
