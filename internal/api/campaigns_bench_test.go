package api_test

import (
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// BenchmarkReviewAPI measures what a reviewer waits for at the API, over real HTTP with a
// bearer token, on each store: their inbox (a page of 100), a campaign's items as the
// auditor (a page of 100), and a decision. The campaign covers every account of the demo
// organization; b.N decisions need b.N undecided items, so it runs at most as many as
// there are (every one a keep with a reason). It reports the p50 and p99 of each call.
//
//	go test ./internal/api/ -run '^$' -bench ReviewAPI -benchtime 40x
func BenchmarkReviewAPI(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			benchReviewAPI(b, d)
		})
	}
}

func benchReviewAPI(b *testing.B, d store.Dialect) {
	s := newJITServer(b, d, true)
	due := time.Now().UTC().Add(14 * 24 * time.Hour).Truncate(time.Second).Format(time.RFC3339)
	var c apiCampaign
	if code, raw := s.call("carol", "POST", "/api/v1/campaigns", `{"name": "bench", "reviewers": {"people": ["dave@example.com"]}, "due": "`+due+`"}`, &c); code != http.StatusCreated {
		b.Fatalf("create: %d %s", code, raw)
	}
	camp := "/api/v1/campaigns/" + c.ID
	if code, raw := s.call("carol", "POST", camp+"/start", "", &c); code != http.StatusOK {
		b.Fatalf("start: %d %s", code, raw)
	}
	var page struct {
		Items []apiItem `json:"items"`
	}
	if code, raw := s.call("dave", "GET", "/api/v1/reviews?page_size=1000", "", &page); code != http.StatusOK || len(page.Items) == 0 {
		b.Fatalf("inbox: %d %s", code, raw)
	}
	// A copy: the pages below are decoded into the same slice.
	todo := append([]apiItem(nil), page.Items...)
	var inbox, items, decide []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if code, raw := s.call("dave", "GET", "/api/v1/reviews?page_size=100", "", &page); code != http.StatusOK {
			b.Fatalf("inbox: %d %s", code, raw)
		}
		t1 := time.Now()
		if code, raw := s.call("carol", "GET", camp+"/items?page_size=100", "", &page); code != http.StatusOK {
			b.Fatalf("items: %d %s", code, raw)
		}
		t2 := time.Now()
		inbox, items = append(inbox, t1.Sub(t0)), append(items, t2.Sub(t1))
		if i < len(todo) {
			if code, raw := s.call("dave", "POST", camp+"/items/"+todo[i].ID+"/decision", `{"decision": "keep", "reason": "benchmark"}`, nil); code != http.StatusOK {
				b.Fatalf("decide: %d %s", code, raw)
			}
			decide = append(decide, time.Since(t2))
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(c.Progress.Total), "items")
	for name, ds := range map[string][]time.Duration{"inbox": inbox, "items": items, "decide": decide} {
		if len(ds) == 0 {
			continue
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, name+"-p50-ms")
		b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds())/1000, name+"-p99-ms")
	}
}
