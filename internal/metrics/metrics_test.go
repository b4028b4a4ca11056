package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/metrics"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler("").ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Result().Body)
	return string(b)
}

// Requests are recorded by the pattern of the route that served them, with the status
// they got (200 when the handler wrote a body without a status), and requests no route
// matched under one label, so that ids in paths never make new series.
func TestInstrumentLabelsByRoutePattern(t *testing.T) {
	m := metrics.New()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/syncs/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "missing" {
			http.Error(w, "no", http.StatusNotFound)
			return
		}
		_, _ = w.Write([]byte("{}"))
	})
	h := m.Instrument(mux)
	for _, p := range []string{"/api/v1/syncs/a", "/api/v1/syncs/b", "/api/v1/syncs/missing", "/nowhere/1", "/nowhere/2"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	body := scrape(t, m)
	for _, want := range []string{
		`gatehouse_http_request_duration_seconds_count{method="GET",route="/api/v1/syncs/{id}",status="200"} 2`,
		`gatehouse_http_request_duration_seconds_count{method="GET",route="/api/v1/syncs/{id}",status="404"} 1`,
		`gatehouse_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"} 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// The queue depth is read at each scrape; the states a dashboard watches are there even
// when empty, and a failed count is flagged rather than shown as an empty queue.
func TestQueueDepth(t *testing.T) {
	m := metrics.New()
	fail := false
	m.WatchQueue(func(context.Context) (map[string]int64, error) {
		if fail {
			return nil, errors.New("database down")
		}
		return map[string]int64{"available": 3, "completed": 10}, nil
	})
	body := scrape(t, m)
	for _, want := range []string{
		`gatehouse_jobs{state="available"} 3`, `gatehouse_jobs{state="running"} 0`,
		`gatehouse_jobs{state="retryable"} 0`, `gatehouse_jobs{state="completed"} 10`,
		`gatehouse_jobs_count_errors 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	fail = true
	body = scrape(t, m)
	if !strings.Contains(body, "gatehouse_jobs_count_errors 1") || strings.Contains(body, `gatehouse_jobs{state="available"}`) {
		t.Errorf("a failed count should set gatehouse_jobs_count_errors and show no depth:\n%s", body)
	}
}
