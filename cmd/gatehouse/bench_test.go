package main

import (
	"encoding/json"
	"math"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/syncrun"
)

// gatehouse bench on the demo preset (a few seconds): the report has every part, and
// the calls the fetch counted are the calls the simulator served.
func TestBenchDemo(t *testing.T) {
	stdout, stderr, err := runGatehouse(t, "bench", "--preset", "demo", "--json")
	if err != nil {
		t.Fatalf("gatehouse bench: %v\n%s\n%s", err, stderr, stdout)
	}
	var r syncrun.BenchReport
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("the report is not the JSON of a BenchReport: %v\n%s", err, stdout)
	}

	if r.Preset != "demo" || r.Seed != 1 {
		t.Errorf("preset %q seed %d, want demo 1", r.Preset, r.Seed)
	}
	if r.Machine.CPUs < 1 || r.Machine.GOMAXPROCS < 1 || r.Machine.Go == "" || r.Machine.OS != runtime.GOOS {
		t.Errorf("machine = %+v", r.Machine)
	}
	if o := r.Organization; o.Accounts == 0 || o.Synced == 0 || o.Synced > o.Accounts || o.Resources == 0 || o.Entitlements == 0 || o.Grants == 0 {
		t.Errorf("organization = %+v", o)
	}

	// Calls: per service, the fetch's count is the simulator's.
	c := r.Calls
	if c.Fetch == 0 || c.Fetch != c.Simulator || !c.Agree {
		t.Errorf("calls: fetch %d, simulator %d, agree %v", c.Fetch, c.Simulator, c.Agree)
	}
	var sum int64
	services := map[string]bool{}
	for _, s := range c.Services {
		if s.Fetch != s.Simulator {
			t.Errorf("%s: the fetch counted %d calls, the simulator %d", s.Service, s.Fetch, s.Simulator)
		}
		services[s.Service] = true
		sum += s.Fetch
	}
	if sum != c.Fetch {
		t.Errorf("the services' calls add up to %d, the total is %d", sum, c.Fetch)
	}
	for _, want := range []string{"iam", "sts", "organizations", "sso", "identitystore"} {
		if !services[want] {
			t.Errorf("no calls reported for %s: %+v", want, c.Services)
		}
	}
	if !sort.SliceIsSorted(c.Services, func(i, j int) bool { return c.Services[i].Service < c.Services[j].Service }) {
		t.Errorf("services are not sorted: %+v", c.Services)
	}
	var opSum int64
	for _, o := range c.Operations {
		if o.Fetch != o.Simulator {
			t.Errorf("%s %s: the fetch counted %d calls, the simulator %d", o.Service, o.Operation, o.Fetch, o.Simulator)
		}
		opSum += o.Fetch
	}
	if opSum != c.Fetch {
		t.Errorf("the operations' calls add up to %d, the total is %d", opSum, c.Fetch)
	}
	if c.Strategy == "" || c.PairCalls == 0 || c.PrincipalCalls == 0 {
		t.Errorf("assignment strategy %q (%d pair calls, %d principal calls)", c.Strategy, c.PairCalls, c.PrincipalCalls)
	}

	// Floor: the largest of calls/quota over the buckets, and it names that bucket.
	f := r.Floor
	if f.Seconds <= 0 || f.Bucket == "" || len(f.Buckets) == 0 {
		t.Fatalf("floor = %+v", f)
	}
	var bucketCalls int64
	for i, b := range f.Buckets {
		if b.Quota <= 0 || math.Abs(b.Seconds-float64(b.Calls)/b.Quota) > 1e-9 {
			t.Errorf("bucket %+v: seconds is not calls/quota", b)
		}
		if i > 0 && b.Seconds > f.Buckets[i-1].Seconds {
			t.Errorf("buckets are not sorted slowest first: %+v", f.Buckets)
		}
		bucketCalls += b.Calls
	}
	if math.Abs(f.Buckets[0].Seconds-f.Seconds) > 0.001 || !strings.HasPrefix(f.Bucket, f.Buckets[0].Bucket) {
		t.Errorf("floor %.3fs (%s), slowest bucket %+v", f.Seconds, f.Bucket, f.Buckets[0])
	}
	if bucketCalls < c.Fetch-serviceCalls(c, "scim") {
		t.Errorf("the buckets hold %d calls, fewer than the paced services' %d", bucketCalls, c.Fetch)
	}

	// Wall time and its ratio to the floor.
	w := r.Wall
	if w.Seconds <= 0 || w.FetchSeconds <= 0 || w.WriteSeconds <= 0 || w.FetchSeconds+w.WriteSeconds > w.Seconds+0.01 {
		t.Errorf("wall = %+v", w)
	}
	if math.Abs(r.Ratio-w.Seconds/f.Seconds) > 1e-9 {
		t.Errorf("ratio %.4f, wall/floor %.4f", r.Ratio, w.Seconds/f.Seconds)
	}

	// Memory.
	m := r.Memory
	if m.PeakGoHeap <= 0 || m.PeakGoTotal < m.PeakGoHeap {
		t.Errorf("memory = %+v", m)
	}
	if runtime.GOOS == "linux" && (m.PeakRSS <= 0 || m.PeakRSS < m.FetchPeakRSS || m.PeakRSS < m.WritePeakRSS) {
		t.Errorf("memory = %+v", m)
	}

	// Targets. The wall time of so small a sync is mostly fixed delays (the credential
	// report), so only the structure is checked, and the targets that cannot depend on
	// the machine's load.
	names := []string{}
	allOK := c.Agree
	for _, tg := range r.Targets {
		names = append(names, tg.Name)
		allOK = allOK && tg.OK
		if tg.Name != "wall / quota floor" && !tg.OK {
			t.Errorf("target %+v missed on the demo preset", tg)
		}
	}
	if got := strings.Join(names, ", "); got != "API calls, wall / quota floor, peak memory (bytes)" {
		t.Errorf("targets %s", got)
	}
	if r.OK != allOK {
		t.Errorf("report OK %v, but the targets and the call counts say %v", r.OK, allOK)
	}

	// The text form of the same report.
	var text strings.Builder
	r.WriteText(&text)
	for _, want := range []string{"preset demo (seed 1)", "(the counts agree)", "quota floor ", " x the floor", "peak memory: RSS ", "targets"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the text report lacks %q:\n%s", want, text.String())
		}
	}
}

// serviceCalls returns the fetch's calls to one service.
func serviceCalls(c syncrun.BenchCalls, service string) int64 {
	for _, s := range c.Services {
		if s.Service == service {
			return s.Fetch
		}
	}
	return 0
}

func TestBenchRejectsBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "--preset", "huge"}, "--preset must be one of"},
		{[]string{"bench", "--file", "x.json"}, "should end in .c1z"},
	} {
		_, stderr, err := runGatehouse(t, c.args...)
		if err == nil || !strings.Contains(stderr, c.want) {
			t.Errorf("gatehouse %v: err=%v stderr=%q, want it to contain %q", c.args, err, stderr, c.want)
		}
	}
}
