package api_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// Admins see the deliveries, newest first, filtered and paged; nobody else does.
func TestNotificationsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		a := newTestAPI(t, st)
		ctx := context.Background()
		base := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
		var ids []string
		for i, ev := range []string{"requested", "approved", "granted"} {
			n := &store.Notification{ID: store.NewNotificationID(), Channel: "webhook", Endpoint: "ops", Event: ev, RequestID: "req_1",
				Payload: fmt.Sprintf(`{"event":%q}`, ev), CreatedAt: base.Add(time.Duration(i) * time.Minute)}
			if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.InsertNotification(ctx, n) }); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, n.ID)
		}
		if _, err := st.StartNotificationAttempt(ctx, ids[1], base.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := st.FinishNotificationAttempt(ctx, ids[1], store.NotificationResult{State: store.NotificationFailed, Status: 410,
			Error: "the endpoint answered 410 Gone", At: base.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		for who, want := range map[string]int{"": 401, "person": 403, "auditor": 403, "admin": 200} {
			if code, _ := a.do(who, "GET", "/api/v1/notifications", nil); code != want {
				t.Errorf("GET /api/v1/notifications as %q: %d, want %d", who, code, want)
			}
		}
		code, body := a.do("admin", "GET", "/api/v1/notifications?page_size=2", nil)
		items := body["items"].([]any)
		if code != 200 || len(items) != 2 || items[0].(map[string]any)["id"] != ids[2] || body["next_page_token"] == nil {
			t.Fatalf("page 1: %d %v", code, body)
		}
		code, body = a.do("admin", "GET", "/api/v1/notifications?page_size=2&page_token="+body["next_page_token"].(string), nil)
		if items = body["items"].([]any); code != 200 || len(items) != 1 || items[0].(map[string]any)["id"] != ids[0] {
			t.Fatalf("page 2: %d %v", code, body)
		}
		code, body = a.do("admin", "GET", "/api/v1/notifications?state=failed", nil)
		items = body["items"].([]any)
		if code != 200 || len(items) != 1 {
			t.Fatalf("state=failed: %d %v", code, body)
		}
		want := map[string]any{
			"id": ids[1], "channel": "webhook", "endpoint": "ops", "event": "approved", "request_id": "req_1", "state": "failed",
			"attempts": 1.0, "last_status": 410.0, "last_error": "the endpoint answered 410 Gone", "created_at": "2026-12-03T10:01:00Z",
			"attempted_at": "2026-12-03T11:00:00Z", "sent_at": nil, "payload": map[string]any{"event": "approved"},
		}
		if !equalJSON(items[0], want) {
			t.Fatalf("failed delivery\n got %v\nwant %v", items[0], want)
		}
		if code, body = a.do("admin", "GET", "/api/v1/notifications?state=lost", nil); code != 400 || body["detail"] != `state must be queued, sent or failed, got "lost"` {
			t.Errorf("state=lost: %d %v", code, body)
		}
		if code, _ = a.do("admin", "GET", "/api/v1/notifications?page_token=nonsense!", nil); code != 400 {
			t.Errorf("bad page token: %d", code)
		}
		if code, body = a.do("admin", "GET", "/api/v1/notifications?event=granted&request_id=req_1", nil); code != 200 || len(body["items"].([]any)) != 1 {
			t.Errorf("event+request filter: %d %v", code, body)
		}
	})
}
