package loadtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunCountsRequestsErrorsAndSendsToken(t *testing.T) {
	var unauthorized atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			unauthorized.Add(1)
		}
		if r.URL.Path == "/bad" {
			http.Error(w, "no", http.StatusInternalServerError)
			return
		}
		time.Sleep(2 * time.Millisecond)
		w.Write([]byte("hello"))
	}))
	defer srv.Close()
	res, err := Run(context.Background(), Config{BaseURL: srv.URL, Token: "tok", Paths: []string{"/ok", "/bad"}, Clients: 4, Duration: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if unauthorized.Load() != 0 {
		t.Fatalf("%d requests without the token", unauthorized.Load())
	}
	ok, bad := res.Paths[0], res.Paths[1]
	if ok.Requests == 0 || ok.Errors != 0 || ok.Bytes != 5 || ok.P50 < 2*time.Millisecond || ok.P99 < ok.P50 || ok.Max < ok.P99 {
		t.Fatalf("ok path: %+v", ok)
	}
	if bad.Requests == 0 || bad.Errors != bad.Requests || bad.FirstError != "/bad: HTTP 500" {
		t.Fatalf("bad path: %+v", bad)
	}
	var b strings.Builder
	res.Write(&b)
	if !strings.Contains(b.String(), "first: /bad: HTTP 500") {
		t.Fatalf("report:\n%s", b.String())
	}
}

func TestQuantileNearestRank(t *testing.T) {
	var s []time.Duration
	for i := 1; i <= 100; i++ {
		s = append(s, time.Duration(i))
	}
	if quantile(s, 0.5) != 50 || quantile(s, 0.99) != 99 || quantile(s, 1) != 100 {
		t.Fatalf("quantiles %v %v %v", quantile(s, 0.5), quantile(s, 0.99), quantile(s, 1))
	}
}
