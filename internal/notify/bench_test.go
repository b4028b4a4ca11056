package notify_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/notify"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// BenchmarkNotifyTx is what notifying adds to a request's transaction: a transaction that
// writes an audit entry (as every request change does) and one event for two endpoints (two
// outbox rows, two River jobs), committed. Jobs are inserted, not worked.
//
//	go test ./internal/notify/ -run '^$' -bench NotifyTx -benchtime 300x
//
// The "none" runs have no endpoint: the audit entry's transaction alone, for comparison.
func BenchmarkNotifyTx(b *testing.B) {
	for _, d := range storetest.Dialects {
		for _, two := range []bool{false, true} {
			name := string(d) + "/none"
			var eps []notify.Endpoint
			if two {
				name = string(d) + "/two_endpoints"
				eps = []notify.Endpoint{
					{Name: "ops", Channel: notify.ChannelWebhook, URL: "http://127.0.0.1:1/hook", Secret: secret},
					{Name: "chat", Channel: notify.ChannelSlack, URL: "http://127.0.0.1:1/slack"},
				}
			}
			b.Run(name, func(b *testing.B) { benchNotifyTx(b, d, eps) })
		}
	}
}

func benchNotifyTx(b *testing.B, d store.Dialect, eps []notify.Endpoint) {
	st := storetest.Open(b, d)
	n, err := notify.New(notify.Config{Store: st, Endpoints: eps})
	if err != nil {
		b.Fatal(err)
	}
	js, err := jobs.New(jobs.Config{Store: st, Connections: noConnections{}, DataDir: b.TempDir(), Extensions: []jobs.Extension{n.Extension()}})
	if err != nil {
		b.Fatal(err)
	}
	n.SetQueue(js)
	ctx := context.Background()
	ev := event("granted")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev.At = time.Now()
		// Every request change writes at least its audit entry: the baseline's cost.
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.AppendAudit(ctx, "alice@example.com", "request.active", "request:req_bench", map[string]any{"i": i}, ""); err != nil {
				return err
			}
			return n.NotifyTx(ctx, tx, ev)
		}); err != nil {
			b.Fatal(err)
		}
	}
}
