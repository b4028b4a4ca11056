package notify_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/appimport"
	"github.com/gatehouse/gatehouse/internal/notify"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// Import alerts go through the outbox: a webhook that asks for import_rejected gets the
// signed document; Slack gets the one-line text; the row records the application.
func TestImportEventsThroughTheOutbox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		hook := newReceiver(t)
		slack := newReceiver(t)
		e := start(t, st, nil, notify.Config{Endpoints: []notify.Endpoint{
			{Name: "imports", Channel: notify.ChannelWebhook, URL: hook.URL, Secret: secret, Events: []string{"import_rejected"}},
			{Name: "chat", Channel: notify.ChannelSlack, URL: slack.URL + "/services/T0/B0/xyz", Events: []string{"import_held"}},
		}})
		ctx := context.Background()
		for _, ev := range []appimport.Event{
			{Kind: appimport.EventRejected, AppID: "app_1", AppName: "Payroll <HR>", Owner: "o@example.com", RunID: "run_1", ImportID: "imp_1",
				Files: []string{"apps/p.csv"}, Detail: `apps/p.csv, row 5, column "Resource Name": empty "Resource Name"`, At: at},
			{Kind: appimport.EventHeld, AppID: "app_1", AppName: "Payroll <HR>", Owner: "o@example.com", RunID: "run_2", ImportID: "imp_1",
				Files: []string{"apps/p.csv"}, Detail: "the import removes 2 of the application's 3 grants", At: at},
		} {
			if err := st.InTx(ctx, func(tx *store.Tx) error { return e.n.NotifyImportTx(ctx, tx, ev) }); err != nil {
				t.Fatal(err)
			}
		}
		rows := e.waitFinal(t, 2, 10*time.Second)
		got := hook.requests()
		want := `{"event":"import_rejected","application":{"id":"app_1","name":"Payroll \u003cHR\u003e","owner":"o@example.com"},` +
			`"run":"run_1","import":"imp_1","files":["apps/p.csv"],"detail":"apps/p.csv, row 5, column \"Resource Name\": empty \"Resource Name\"","at":"2026-12-03T11:00:00Z"}`
		if len(got) != 1 || string(got[0].Body) != want {
			t.Fatalf("webhook deliveries %d, body\n got %s\nwant %s", len(got), got[0].Body, want)
		}
		if err := notify.Verify(secret, got[0].Header, got[0].Body, time.Now(), 5*time.Minute); err != nil {
			t.Fatalf("verify: %v", err)
		}
		sl := slack.requests()
		if len(sl) != 1 {
			t.Fatalf("slack got %d", len(sl))
		}
		var m map[string]string
		if err := json.Unmarshal(sl[0].Body, &m); err != nil {
			t.Fatal(err)
		}
		if w := "The import of apps/p.csv into Payroll &lt;HR&gt; (app_1) is held for an admin to approve or reject: the import removes 2 of the application's 3 grants. Run run_2."; m["text"] != w {
			t.Fatalf("slack text\n got %q\nwant %q", m["text"], w)
		}
		for _, r := range rows {
			if r.RequestID != "app_1" || r.State != store.NotificationSent {
				t.Errorf("row %+v: want the application recorded and sent", r)
			}
		}
	})
}
