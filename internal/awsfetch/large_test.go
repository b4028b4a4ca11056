package awsfetch

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/inventory"
)

var large = flag.Bool("large", false, "fetch the simulator's large preset with AWS's quotas and latency and report calls, wall time, quota floor and memory (minutes)")

// TestFetchLargePreset is the benchmark of the issue: it fetches awssim.Preset("large", 1)
// served with awssim.DefaultOptions() (AWS's quotas, 20-30 ms per call, 2 s credential
// reports) and reports the API calls per service, the wall time, the quota floor (for
// each quota bucket and scope, its calls divided by its rate; the largest), their ratio,
// and the peak memory of the process (simulator included). Run it by hand:
//
//	go test ./internal/awsfetch/ -run TestFetchLargePreset -large -v -timeout 30m
//
// Targets: at most 10,000 calls, wall time within 1.25 x the floor, peak memory under
// 500 MB.
func TestFetchLargePreset(t *testing.T) {
	if !*large {
		t.Skip("run with -large")
	}
	w, err := awssim.Preset("large", 1)
	if err != nil {
		t.Fatal(err)
	}
	opts := awssim.DefaultOptions()
	sim := awssim.New(w, opts)
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	var cfg Config
	sim.Do(func(w *awssim.World) {
		cfg = Config{Region: w.Region, EndpointURL: url,
			Credentials: credentials.NewStaticCredentialsProvider(w.Connector.AccessKeyID, w.Connector.SecretAccessKey, ""),
			RoleARN:     w.Connector.RoleARN, ExternalID: w.Connector.ExternalID,
			Orgs: true, IdentityCenter: true, IdentityCenterRegion: w.SSO.Region,
			SCIMEndpoint: url + "/scim/v2", SCIMToken: w.Connector.SCIMToken}
	})
	done := 0
	cfg.Progress = func(d, total int) {
		if d%50 == 0 || d == total {
			t.Logf("%s: %d/%d accounts", time.Now().Format("15:04:05"), d, total)
		}
		done = d
	}

	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var (
		mu                     sync.Mutex
		peakHeapSys, peakInuse uint64
		peakSys                uint64
		stop                   = make(chan struct{})
		sampled                = make(chan struct{})
	)
	go func() {
		defer close(sampled)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			mu.Lock()
			peakHeapSys, peakInuse, peakSys = max(peakHeapSys, m.HeapSys), max(peakInuse, m.HeapInuse), max(peakSys, m.Sys)
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()

	snap, stats, err := Fetch(context.Background(), cfg)
	close(stop)
	<-sampled
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}

	rates := map[string]float64{}
	for k, q := range awssim.DefaultQuotas() {
		rates[k] = q.Rate
	}
	floor, bucket := stats.FloorAt(rates)
	ratio := float64(stats.Wall) / float64(floor)

	var b strings.Builder
	fmt.Fprintf(&b, "large preset (seed 1), awssim.DefaultOptions()\n")
	fmt.Fprintf(&b, "accounts %d (synced %d, skipped %d), IAM users %d, roles %d; Identity Center users %d, groups %d, permission sets %d, assignments %d\n",
		stats.Accounts, stats.Synced, len(stats.Skipped), countUsers(snap), countRoles(snap),
		len(snap.IdentityCenter.Users), len(snap.IdentityCenter.Groups), len(snap.IdentityCenter.PermissionSets), len(snap.IdentityCenter.Assignments))
	fmt.Fprintf(&b, "assignment strategy %s (pairs %d, principals %d)\n", stats.Assignments.Strategy, stats.Assignments.PairCalls, stats.Assignments.PrincipalCalls)
	fmt.Fprintf(&b, "API calls %d (throttled %d, retries %d, errors %d)\n", stats.Calls, stats.Throttles, stats.Retries, stats.Errors)
	for _, s := range stats.Services {
		fmt.Fprintf(&b, "  %-14s %6d calls  %4d throttled\n", s.Service, s.Calls, s.Throttles)
	}
	for _, o := range stats.Operations {
		fmt.Fprintf(&b, "    %-14s %-52s %6d\n", o.Service, o.Operation, o.Calls)
	}
	// The buckets that come closest to the floor.
	type share struct {
		name string
		d    time.Duration
	}
	var shares []share
	for _, bk := range stats.Buckets {
		r := bk.Rate
		if v, ok := rates[bk.Bucket]; ok {
			r = v
		}
		name := bk.Bucket
		if bk.Scope != "" {
			name += " " + bk.Scope
		}
		shares = append(shares, share{name, floorOf(bk.Calls, r)})
	}
	sort.Slice(shares, func(i, j int) bool { return shares[i].d > shares[j].d })
	for _, s := range shares[:min(4, len(shares))] {
		fmt.Fprintf(&b, "  bucket %-30s calls/quota %s\n", s.name, s.d.Round(time.Millisecond))
	}
	fmt.Fprintf(&b, "wall %s, quota floor %s (%s), ratio %.3f\n", stats.Wall.Round(time.Millisecond), floor.Round(time.Millisecond), bucket, ratio)
	fmt.Fprintf(&b, "memory: peak HeapSys %d MB, peak HeapInuse %d MB, peak Sys %d MB (before the fetch, with the simulator's world: HeapInuse %d MB, Sys %d MB)\n",
		peakHeapSys>>20, peakInuse>>20, peakSys>>20, base.HeapInuse>>20, base.Sys>>20)
	t.Log("\n" + b.String())

	var simCalls int64
	for _, c := range sim.Counters().Snapshot() {
		simCalls += c.Calls
	}
	if simCalls != stats.Calls {
		t.Errorf("the simulator counted %d calls, the fetch %d", simCalls, stats.Calls)
	}
	if stats.Calls > 10000 {
		t.Errorf("%d API calls, target at most 10,000", stats.Calls)
	}
	if ratio > 1.25 {
		t.Errorf("wall time %.3f x the floor, target at most 1.25", ratio)
	}
	if peakSys >= 500<<20 {
		t.Errorf("peak memory %d MB, target under 500 MB", peakSys>>20)
	}
	if done != stats.Accounts {
		t.Errorf("progress reached %d of %d accounts", done, stats.Accounts)
	}
}

func countUsers(s *inventory.Snapshot) (n int) {
	for _, a := range s.Accounts {
		if a.IAM != nil {
			n += len(a.IAM.Users)
		}
	}
	return n
}

func countRoles(s *inventory.Snapshot) (n int) {
	for _, a := range s.Accounts {
		if a.IAM != nil {
			n += len(a.IAM.Roles)
		}
	}
	return n
}
