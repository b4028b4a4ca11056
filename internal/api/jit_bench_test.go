package api_test

import (
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// BenchmarkJITRequestRoundTrip measures what a person waits for at the API: making a request
// (rules, identity, policy snapshot, the stored request, its transition, audit and jobs in
// one transaction) and cancelling it, each over real HTTP with a bearer token, on each store.
// It reports the p50 and p99 of each call.
//
//	go test ./internal/api/ -run '^$' -bench JITRequestRoundTrip -benchtime 200x
func BenchmarkJITRequestRoundTrip(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			benchRoundTrip(b, d)
		})
	}
}

func benchRoundTrip(b *testing.B, d store.Dialect) {
	s := newJITServer(b, d, true)
	body := `{"entitlement_id": "` + s.ent["AdministratorAccess"] + `", "duration": "1h", "reason": "benchmark"}`
	var creates, cancels []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var r apiRequest
		start := time.Now()
		if code, raw := s.call("bob", "POST", "/api/v1/requests", body, &r); code != http.StatusCreated {
			b.Fatalf("create: %d %s", code, raw)
		}
		mid := time.Now()
		if code, raw := s.call("bob", "POST", "/api/v1/requests/"+r.ID+"/cancel", `{}`, nil); code != http.StatusOK {
			b.Fatalf("cancel: %d %s", code, raw)
		}
		creates, cancels = append(creates, mid.Sub(start)), append(cancels, time.Since(mid))
	}
	b.StopTimer()
	for name, ds := range map[string][]time.Duration{"create": creates, "cancel": cancels} {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, name+"-p50-ms")
		b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds())/1000, name+"-p99-ms")
	}
}
