// Package loadtest measures the latency of a running Gatehouse server's pages and API:
// N concurrent clients request a list of paths for a duration, and the report gives
// requests per second and latency percentiles per path. `gatehouse loadtest` runs it;
// docs/performance.md has the figures.
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Config says what to load.
type Config struct {
	BaseURL string
	// Token is sent as Authorization: Bearer.
	Token string
	// Paths are requested round-robin by every client.
	Paths    []string
	Clients  int
	Duration time.Duration
	// Warmup requests each path once before measuring.
	Warmup bool
}

// PathResult is the latency of one path.
type PathResult struct {
	Path     string
	Requests int
	Errors   int
	// FirstError is the first non-2xx status or transport error seen.
	FirstError         string
	P50, P90, P99, Max time.Duration
	// Bytes is the size of the last response body.
	Bytes int
}

// Result is the whole run.
type Result struct {
	Clients  int
	Duration time.Duration
	Requests int
	Errors   int
	Paths    []PathResult
}

// Run loads the server and reports.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Clients < 1 || cfg.Duration <= 0 || len(cfg.Paths) == 0 {
		return nil, errors.New("loadtest: need at least one client, a positive duration and one path")
	}
	client := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Clients, MaxConnsPerHost: cfg.Clients},
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	get := func(ctx context.Context, path string) (time.Duration, int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			return 0, 0, err
		}
		if cfg.Token != "" {
			req.Header.Set("Authorization", "Bearer "+cfg.Token)
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, 0, err
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		if err != nil {
			return d, int(n), err
		}
		if resp.StatusCode/100 != 2 {
			return d, int(n), fmt.Errorf("%s: HTTP %d", path, resp.StatusCode)
		}
		return d, int(n), nil
	}
	if cfg.Warmup {
		for _, p := range cfg.Paths {
			if _, _, err := get(ctx, p); err != nil {
				return nil, fmt.Errorf("warm-up: %w", err)
			}
		}
	}
	type sample struct {
		path int
		d    time.Duration
		n    int
		err  error
	}
	var (
		mu      sync.Mutex
		samples = make([][]time.Duration, len(cfg.Paths))
		errs    = make([]int, len(cfg.Paths))
		first   = make([]string, len(cfg.Paths))
		bytes   = make([]int, len(cfg.Paths))
	)
	rctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < cfg.Clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := c; rctx.Err() == nil; i++ {
				p := i % len(cfg.Paths)
				d, n, err := get(rctx, cfg.Paths[p])
				if rctx.Err() != nil {
					return // a request cut by the end of the run is not a sample
				}
				mu.Lock()
				if err != nil {
					errs[p]++
					if first[p] == "" {
						first[p] = err.Error()
					}
				} else {
					samples[p] = append(samples[p], d)
					bytes[p] = n
				}
				mu.Unlock()
			}
		}(c)
	}
	wg.Wait()
	res := &Result{Clients: cfg.Clients, Duration: time.Since(start)}
	for i, p := range cfg.Paths {
		s := samples[i]
		sort.Slice(s, func(a, b int) bool { return s[a] < s[b] })
		pr := PathResult{Path: p, Requests: len(s) + errs[i], Errors: errs[i], FirstError: first[i], Bytes: bytes[i]}
		if len(s) > 0 {
			pr.P50, pr.P90, pr.P99, pr.Max = quantile(s, 0.50), quantile(s, 0.90), quantile(s, 0.99), s[len(s)-1]
		}
		res.Requests += pr.Requests
		res.Errors += pr.Errors
		res.Paths = append(res.Paths, pr)
	}
	return res, nil
}

// quantile is the nearest-rank quantile of sorted samples.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(float64(len(sorted))*q+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// Write prints the result as a table.
func (r *Result) Write(w io.Writer) {
	fmt.Fprintf(w, "%d clients for %s: %d requests (%.0f/s), %d errors\n", r.Clients, r.Duration.Round(time.Millisecond), r.Requests, float64(r.Requests)/r.Duration.Seconds(), r.Errors)
	width := 4
	for _, p := range r.Paths {
		width = max(width, len(p.Path))
	}
	fmt.Fprintf(w, "%-*s  %8s  %8s  %8s  %8s  %8s  %9s\n", width, "path", "requests", "p50", "p90", "p99", "max", "bytes")
	for _, p := range slices.Clone(r.Paths) {
		fmt.Fprintf(w, "%-*s  %8d  %8s  %8s  %8s  %8s  %9d\n", width, p.Path, p.Requests, ms(p.P50), ms(p.P90), ms(p.P99), ms(p.Max), p.Bytes)
		if p.Errors > 0 {
			fmt.Fprintf(w, "  %d errors, first: %s\n", p.Errors, p.FirstError)
		}
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }
