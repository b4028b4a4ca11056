// Package metrics holds the server's Prometheus metrics (prometheus/client_golang) in its
// own registry, served at /metrics: sync durations, AWS API calls and throttles per
// connection, syncs by final state, River's queue depth and job failures, and HTTP
// request latency by route pattern and status.
package metrics

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatehouse/gatehouse/internal/problem"
)

// Metrics are one server's metrics.
type Metrics struct {
	Registry *prometheus.Registry

	// SyncDuration is the wall time of finished syncs, by connection and final state.
	SyncDuration *prometheus.HistogramVec
	// SyncAPICalls and SyncThrottles count the AWS calls of finished sync attempts, by
	// connection.
	SyncAPICalls  *prometheus.CounterVec
	SyncThrottles *prometheus.CounterVec
	// Syncs counts syncs that reached a final state, by connection and state.
	Syncs *prometheus.CounterVec
	// JobFailures counts River job attempts that failed, by job kind.
	JobFailures *prometheus.CounterVec
	// HTTPDuration is the latency of HTTP requests by method, route pattern and status.
	HTTPDuration *prometheus.HistogramVec
}

// New returns the metrics, registered with a new registry together with the Go runtime
// and process collectors.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		SyncDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gatehouse_sync_duration_seconds",
			Help:    "Wall time of finished syncs, from the start of the attempt that finished to its final state.",
			Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200},
		}, []string{"connection", "state"}),
		SyncAPICalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_sync_api_calls_total",
			Help: "AWS API calls made by sync attempts.",
		}, []string{"connection"}),
		SyncThrottles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_sync_api_throttles_total",
			Help: "AWS API calls of sync attempts answered with a throttling error (and retried).",
		}, []string{"connection"}),
		Syncs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_syncs_total",
			Help: "Syncs that reached a final state (succeeded, partial, failed).",
		}, []string{"connection", "state"}),
		JobFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_job_failures_total",
			Help: "Background job attempts that failed (River retries them until their attempts run out).",
		}, []string{"kind"}),
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gatehouse_http_request_duration_seconds",
			Help:    "Latency of HTTP requests by route pattern and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "status"}),
	}
	m.Registry.MustRegister(m.SyncDuration, m.SyncAPICalls, m.SyncThrottles, m.Syncs, m.JobFailures, m.HTTPDuration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// QueueCounter counts background jobs by state (River's available, running, retryable,
// scheduled, ...).
type QueueCounter func(ctx context.Context) (map[string]int64, error)

// WatchQueue adds the gatehouse_jobs gauge, read from count at each scrape: the queue
// depth is the database's, shared by every replica, so a scrape of any replica sees it.
func (m *Metrics) WatchQueue(count QueueCounter) {
	m.Registry.MustRegister(&queueCollector{count: count})
}

var queueDesc = prometheus.NewDesc("gatehouse_jobs",
	"Background jobs in the queue by state (available: waiting for a worker; running; retryable: failed and waiting for their next attempt; scheduled).",
	[]string{"state"}, nil)

var queueErrDesc = prometheus.NewDesc("gatehouse_jobs_count_errors", "1 when the last count of the job queue failed.", nil, nil)

type queueCollector struct{ count QueueCounter }

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- queueDesc; ch <- queueErrDesc }

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.count(ctx)
	failed := 0.0
	if err != nil {
		failed = 1
	}
	ch <- prometheus.MustNewConstMetric(queueErrDesc, prometheus.GaugeValue, failed)
	if err != nil {
		return
	}
	// The states a dashboard watches are always present, at 0 when empty.
	for _, st := range []string{"available", "running", "retryable", "scheduled"} {
		if _, ok := counts[st]; !ok {
			counts[st] = 0
		}
	}
	for st, n := range counts {
		ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(n), st)
	}
}

// Handler serves the metrics. With a token, a request must send it as
// "Authorization: Bearer <token>"; otherwise it is answered 401.
func (m *Metrics) Handler(token string) http.Handler {
	h := promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
	if token == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse metrics"`)
			problem.Write(w, http.StatusUnauthorized, "/metrics needs the metrics token (metrics_token) as Authorization: Bearer <token>")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Instrument records the latency of every request next serves, by the pattern of the
// route that served it (r.Pattern, set by http.ServeMux) and status. It must wrap the
// ServeMux directly: a middleware outside a request clone would not see the pattern.
func (m *Metrics) Instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		} else if _, path, ok := strings.Cut(route, " "); ok {
			route = path
		}
		m.HTTPDuration.WithLabelValues(r.Method, route, itoa(sw.status)).Observe(time.Since(start).Seconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer (flushing, deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func itoa(n int) string {
	if n >= 100 && n <= 999 {
		return string([]byte{byte('0' + n/100), byte('0' + n/10%10), byte('0' + n%10)})
	}
	return "other"
}
