package syncrun

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/connector"
)

// The targets of the benchmark (issue 4, "Performance").
const (
	TargetMaxCalls     = 10000
	TargetMaxWallRatio = 1.25
	TargetMaxPeakBytes = 500_000_000 // 500 MB
)

// BenchConfig says what to benchmark.
type BenchConfig struct {
	// SimCommand is the command line of `gatehouse sim` (for example the running binary
	// and "sim"). The benchmark adds --addr, --preset and --seed, and nothing else: the
	// simulator serves with its default quotas and latency, those of AWS.
	SimCommand []string
	Preset     string
	Seed       int64
	// File is where the .c1z is written; empty writes it to a temporary directory and
	// removes it afterwards.
	File string
	// Concurrency is the number of accounts fetched in parallel (awsfetch's default when 0).
	Concurrency int
	// SyncSecrets also reads access key metadata, as `gatehouse sync --sync-secrets`; the
	// report then checks the per-user IAM calls against the number of IAM users.
	SyncSecrets bool
	// WriteOptions are passed to connector.WriteC1Z.
	WriteOptions []connector.WriteOption
	// Configure, when set, may adjust the fetch configuration (progress display).
	Configure func(*awsfetch.Config)
	// Fetched, when set, is called once the fetch has finished.
	Fetched func()
	// SimStderr receives the simulator's standard error (discarded when nil).
	SimStderr io.Writer
}

// BenchReport is what a benchmark measured. Durations are in seconds and memory in bytes,
// so that the JSON form needs no parsing beyond numbers.
type BenchReport struct {
	Preset      string `json:"preset"`
	Seed        int64  `json:"seed"`
	SyncSecrets bool   `json:"sync_secrets"`

	Machine      BenchMachine      `json:"machine"`
	Organization BenchOrganization `json:"organization"`
	Calls        BenchCalls        `json:"calls"`
	Floor        BenchFloor        `json:"floor"`
	Wall         BenchWall         `json:"wall"`
	// Ratio is Wall.Seconds / Floor.Seconds.
	Ratio   float64       `json:"ratio"`
	Memory  BenchMemory   `json:"memory"`
	Targets []BenchTarget `json:"targets"`
	// OK is true when every target holds.
	OK bool `json:"ok"`
}

// BenchMachine describes where the benchmark ran.
type BenchMachine struct {
	CPUs        int    `json:"cpus"`
	GOMAXPROCS  int    `json:"gomaxprocs"`
	MemoryBytes int64  `json:"memory_bytes"`
	OS          string `json:"os"`
	Arch        string `json:"arch"`
	Go          string `json:"go"`
}

// BenchOrganization is the size of what was synced.
type BenchOrganization struct {
	Accounts     int `json:"accounts"`
	Synced       int `json:"synced"`
	Resources    int `json:"resources"`
	Entitlements int `json:"entitlements"`
	Grants       int `json:"grants"`
	// IAMUsers and AccessKeys are the iam_user and access_key resources written.
	IAMUsers   int `json:"iam_users"`
	AccessKeys int `json:"access_keys"`
}

// BenchCalls are the API calls counted by the fetch and by the simulator.
type BenchCalls struct {
	Fetch     int64 `json:"fetch"`
	Simulator int64 `json:"simulator"`
	// Agree is true when both count the same calls for every service.
	Agree    bool           `json:"agree"`
	Services []BenchService `json:"services"`
	// Operations break the calls down further, sorted by service and operation.
	Operations []BenchOperation `json:"operations"`
	// Strategy is how Identity Center assignments were listed, and PairCalls and
	// PrincipalCalls the least calls each way would have needed (the cheaper is used).
	Strategy       string `json:"assignment_strategy,omitempty"`
	PairCalls      int    `json:"assignment_pair_calls,omitempty"`
	PrincipalCalls int    `json:"assignment_principal_calls,omitempty"`
	// PerUserIAM are the calls made for one IAM user or key at a time (ListAccessKeys,
	// GetAccessKeyLastUsed, ListMFADevices, GetUser, GetLoginProfile), as the fetch
	// counted them; every other IAM call is a bulk call made once per account.
	PerUserIAM int64 `json:"per_user_iam_calls"`
}

// perUserIAMOperations are the IAM operations called for one user or key at a time.
var perUserIAMOperations = map[string]bool{
	"ListAccessKeys": true, "GetAccessKeyLastUsed": true, "ListMFADevices": true, "GetUser": true, "GetLoginProfile": true,
}

// TargetMaxPerUserCallsRatio bounds, with secrets sync, the per-user IAM calls by the
// number of IAM users: about one ListAccessKeys per user, the rest being the few users
// the bulk calls cannot cover (a hardware MFA device, a user or key newer than the
// credential report).
const TargetMaxPerUserCallsRatio = 1.1

// BenchOperation is one operation's calls as the fetch and the simulator counted them.
type BenchOperation struct {
	Service   string `json:"service"`
	Operation string `json:"operation"`
	Fetch     int64  `json:"fetch"`
	Simulator int64  `json:"simulator"`
}

// BenchService is one service's calls as the fetch and the simulator counted them.
type BenchService struct {
	Service            string `json:"service"`
	Fetch              int64  `json:"fetch"`
	Simulator          int64  `json:"simulator"`
	FetchThrottled     int64  `json:"fetch_throttled"`
	SimulatorThrottled int64  `json:"simulator_throttled"`
}

// BenchFloor is the quota floor: for each quota bucket and scope, its calls divided by
// the simulator's quota; the largest.
type BenchFloor struct {
	Seconds float64 `json:"seconds"`
	Bucket  string  `json:"bucket"`
	// Buckets are every bucket and scope, the slowest first.
	Buckets []BenchBucket `json:"buckets"`
}

// BenchBucket is one quota bucket in one scope.
type BenchBucket struct {
	Bucket  string  `json:"bucket"`
	Scope   string  `json:"scope,omitempty"`
	Calls   int64   `json:"calls"`
	Quota   float64 `json:"quota_per_second"`
	Seconds float64 `json:"seconds"`
}

// BenchWall is the wall time of the sync and of its two halves.
type BenchWall struct {
	Seconds      float64 `json:"seconds"`
	FetchSeconds float64 `json:"fetch_seconds"`
	WriteSeconds float64 `json:"write_seconds"`
}

// BenchMemory is the peak memory of the benchmark's process (the simulator runs in
// another). PeakRSS is the kernel's high-water mark of resident memory (VmHWM); the
// fetch's and the write's are measured separately when the kernel lets the mark be
// reset. The Go figures are sampled every 20 ms: the heap's objects, and everything the
// Go runtime holds from the OS; memory allocated in C (Pebble's caches and memtables)
// shows only in RSS.
type BenchMemory struct {
	PeakRSS      int64 `json:"peak_rss_bytes"`
	FetchPeakRSS int64 `json:"fetch_peak_rss_bytes,omitempty"`
	WritePeakRSS int64 `json:"write_peak_rss_bytes,omitempty"`
	PeakGoHeap   int64 `json:"peak_go_heap_bytes"`
	PeakGoTotal  int64 `json:"peak_go_runtime_bytes"`
}

// BenchTarget is one target and whether it holds.
type BenchTarget struct {
	Name  string  `json:"name"`
	Limit float64 `json:"limit"`
	Value float64 `json:"value"`
	OK    bool    `json:"ok"`
}

// Bench starts the simulator as a child process, runs a whole sync (fetch and .c1z)
// against it in this process, and reports its cost.
func Bench(ctx context.Context, bc BenchConfig) (*BenchReport, error) {
	if len(bc.SimCommand) == 0 {
		return nil, errors.New("bench: no simulator command")
	}
	if bc.Preset == "" {
		bc.Preset = "large"
	}
	sim, err := startSim(ctx, bc)
	if err != nil {
		return nil, err
	}
	defer sim.stop()

	path := bc.File
	if path == "" {
		dir, err := os.MkdirTemp("", "gatehouse-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, bc.Preset+".c1z")
	}

	info := sim.info
	cfg := awsfetch.Config{
		Region:      info.Region,
		EndpointURL: info.Endpoint,
		Credentials: credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, ""),
		RoleARN:     info.RoleARN,
		ExternalID:  info.ExternalID,
		Orgs:        true,
		Concurrency: bc.Concurrency,
		// The demo preset has an account whose member role is missing on purpose; the
		// benchmark measures the sync of the rest.
		AllowPartial: true,
		SyncSecrets:  bc.SyncSecrets,
	}
	if info.InstanceARN != "" {
		cfg.IdentityCenter, cfg.IdentityCenterRegion = true, info.IdentityCenterRegion
		cfg.SCIMEndpoint, cfg.SCIMToken = info.SCIMEndpoint, info.SCIMToken
	}
	if bc.Configure != nil {
		bc.Configure(&cfg)
	}

	sampler := startMemorySampler()
	resetPeakRSS := resetRSSHighWaterMark() == nil
	var fetchPeak int64
	res, err := run(ctx, cfg, path, func() {
		if bc.Fetched != nil {
			bc.Fetched()
		}
		if resetPeakRSS {
			fetchPeak = rssHighWaterMark()
			resetPeakRSS = resetRSSHighWaterMark() == nil
		}
	}, bc.WriteOptions...)
	heap, total := sampler.stop()
	if err != nil {
		return nil, err
	}
	peak := rssHighWaterMark()

	counters, err := sim.counters(ctx)
	if err != nil {
		return nil, err
	}

	r := &BenchReport{
		Preset:      bc.Preset,
		Seed:        bc.Seed,
		SyncSecrets: bc.SyncSecrets,
		Machine: BenchMachine{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), MemoryBytes: machineMemory(),
			OS: runtime.GOOS, Arch: runtime.GOARCH, Go: runtime.Version()},
		Memory: BenchMemory{PeakRSS: max(peak, fetchPeak), PeakGoHeap: heap, PeakGoTotal: total},
	}
	if resetPeakRSS && fetchPeak > 0 {
		r.Memory.FetchPeakRSS, r.Memory.WritePeakRSS = fetchPeak, peak
	}
	r.fillOrganization(res)
	r.fillCalls(res.Fetch, counters)
	r.fillFloor(res.Fetch, awssim.DefaultQuotas())
	r.Wall = BenchWall{Seconds: res.Duration.Seconds(), FetchSeconds: res.Fetch.Wall.Seconds(), WriteSeconds: res.C1Z.Duration.Seconds()}
	if r.Floor.Seconds > 0 {
		r.Ratio = r.Wall.Seconds / r.Floor.Seconds
	}
	r.fillTargets()
	return r, nil
}

func (r *BenchReport) fillOrganization(res *Result) {
	o := &r.Organization
	o.Accounts, o.Synced = res.Fetch.Accounts, res.Fetch.Synced
	for _, n := range res.C1Z.Resources {
		o.Resources += n
	}
	o.Entitlements, o.Grants = res.C1Z.Entitlements, res.C1Z.Grants
	o.IAMUsers, o.AccessKeys = res.C1Z.Resources["iam_user"], res.C1Z.Resources["access_key"]
}

func (r *BenchReport) fillCalls(s *awsfetch.Stats, counters []awssim.OpCount) {
	by := map[string]*BenchService{}
	get := func(service string) *BenchService {
		if by[service] == nil {
			by[service] = &BenchService{Service: service}
		}
		return by[service]
	}
	for _, svc := range s.Services {
		b := get(svc.Service)
		b.Fetch, b.FetchThrottled = svc.Calls, svc.Throttles
		r.Calls.Fetch += svc.Calls
	}
	ops := map[[2]string]*BenchOperation{}
	op := func(service, operation string) *BenchOperation {
		k := [2]string{service, operation}
		if ops[k] == nil {
			ops[k] = &BenchOperation{Service: service, Operation: operation}
		}
		return ops[k]
	}
	for _, o := range s.Operations {
		op(o.Service, o.Operation).Fetch = o.Calls
		if o.Service == "iam" && perUserIAMOperations[o.Operation] {
			r.Calls.PerUserIAM += o.Calls
		}
	}
	for _, c := range counters {
		b := get(c.Service)
		b.Simulator += c.Calls
		b.SimulatorThrottled += c.Throttled
		r.Calls.Simulator += c.Calls
		op(c.Service, c.Operation).Simulator += c.Calls
	}
	for _, o := range ops {
		r.Calls.Operations = append(r.Calls.Operations, *o)
	}
	sort.Slice(r.Calls.Operations, func(i, j int) bool {
		a, b := r.Calls.Operations[i], r.Calls.Operations[j]
		return a.Service < b.Service || a.Service == b.Service && a.Operation < b.Operation
	})
	r.Calls.Agree = true
	for _, b := range by {
		r.Calls.Services = append(r.Calls.Services, *b)
		if b.Fetch != b.Simulator {
			r.Calls.Agree = false
		}
	}
	sort.Slice(r.Calls.Services, func(i, j int) bool { return r.Calls.Services[i].Service < r.Calls.Services[j].Service })
	r.Calls.Strategy = string(s.Assignments.Strategy)
	r.Calls.PairCalls, r.Calls.PrincipalCalls = s.Assignments.PairCalls, s.Assignments.PrincipalCalls
}

func (r *BenchReport) fillFloor(s *awsfetch.Stats, quotas awssim.Quotas) {
	rates := map[string]float64{}
	for k, q := range quotas {
		rates[k] = q.Rate
	}
	floor, bucket := s.FloorAt(rates)
	r.Floor = BenchFloor{Seconds: floor.Seconds(), Bucket: bucket}
	for _, b := range s.Buckets {
		q := b.Rate
		if v, ok := rates[b.Bucket]; ok {
			q = v
		}
		fb := BenchBucket{Bucket: b.Bucket, Scope: b.Scope, Calls: b.Calls, Quota: q}
		if q > 0 {
			fb.Seconds = float64(b.Calls) / q
		}
		r.Floor.Buckets = append(r.Floor.Buckets, fb)
	}
	sort.SliceStable(r.Floor.Buckets, func(i, j int) bool { return r.Floor.Buckets[i].Seconds > r.Floor.Buckets[j].Seconds })
}

func (r *BenchReport) fillTargets() {
	r.Targets = []BenchTarget{
		{Name: "API calls", Limit: TargetMaxCalls, Value: float64(r.Calls.Fetch), OK: r.Calls.Fetch <= TargetMaxCalls},
		{Name: "wall / quota floor", Limit: TargetMaxWallRatio, Value: r.Ratio, OK: r.Floor.Seconds > 0 && r.Ratio <= TargetMaxWallRatio},
		{Name: "peak memory (bytes)", Limit: TargetMaxPeakBytes, Value: float64(r.Memory.PeakRSS), OK: r.Memory.PeakRSS > 0 && r.Memory.PeakRSS < TargetMaxPeakBytes},
	}
	if r.SyncSecrets && r.Organization.IAMUsers > 0 {
		ratio := float64(r.Calls.PerUserIAM) / float64(r.Organization.IAMUsers)
		r.Targets = append(r.Targets, BenchTarget{Name: "per-user IAM calls / IAM users", Limit: TargetMaxPerUserCallsRatio, Value: ratio, OK: ratio <= TargetMaxPerUserCallsRatio})
	}
	r.OK = r.Calls.Agree
	for _, t := range r.Targets {
		r.OK = r.OK && t.OK
	}
}

// WriteText prints the report for people.
func (r *BenchReport) WriteText(w io.Writer) {
	m := r.Machine
	secrets := ""
	if r.SyncSecrets {
		secrets = ", with --sync-secrets"
	}
	fmt.Fprintf(w, "gatehouse bench: preset %s (seed %d)%s, simulator with AWS's default quotas and latency in a separate process\n", r.Preset, r.Seed, secrets)
	fmt.Fprintf(w, "machine: %d CPUs (GOMAXPROCS %d), %s memory, %s/%s, %s\n", m.CPUs, m.GOMAXPROCS, mib(m.MemoryBytes), m.OS, m.Arch, m.Go)
	o := r.Organization
	fmt.Fprintf(w, "synced: %d of %d accounts; %d resources, %d entitlements, %d grants\n", o.Synced, o.Accounts, o.Resources, o.Entitlements, o.Grants)
	fmt.Fprintf(w, "IAM users: %d, access keys: %d\n", o.IAMUsers, o.AccessKeys)

	fmt.Fprintf(w, "\nAPI calls            fetch  simulator  throttled\n")
	for _, s := range r.Calls.Services {
		fmt.Fprintf(w, "  %-16s %7d  %9d  %9d\n", s.Service, s.Fetch, s.Simulator, s.SimulatorThrottled)
	}
	agree := "the counts agree"
	if !r.Calls.Agree {
		agree = "THE COUNTS DIFFER"
	}
	fmt.Fprintf(w, "  %-16s %7d  %9d  (%s)\n", "total", r.Calls.Fetch, r.Calls.Simulator, agree)
	if r.Calls.Strategy != "" {
		fmt.Fprintf(w, "  Identity Center assignments listed with %s (by account and permission set: %d calls at least; by principal: %d)\n",
			r.Calls.Strategy, r.Calls.PairCalls, r.Calls.PrincipalCalls)
	}

	fmt.Fprintf(w, "  per-user IAM calls   %7d", r.Calls.PerUserIAM)
	for _, o := range r.Calls.Operations {
		if o.Service == "iam" && perUserIAMOperations[o.Operation] {
			fmt.Fprintf(w, "  %s %d", o.Operation, o.Fetch)
		}
	}
	fmt.Fprintln(w)

	fmt.Fprintf(w, "\nquota floor %s (%s); the slowest buckets:\n", seconds(r.Floor.Seconds), r.Floor.Bucket)
	for _, b := range r.Floor.Buckets[:min(5, len(r.Floor.Buckets))] {
		name := b.Bucket
		if b.Scope != "" {
			name += " " + b.Scope
		}
		fmt.Fprintf(w, "  %-40s %6d calls / %g per s = %s\n", name, b.Calls, b.Quota, seconds(b.Seconds))
	}
	fmt.Fprintf(w, "wall %s (fetch %s, .c1z %s) = %.3f x the floor\n", seconds(r.Wall.Seconds), seconds(r.Wall.FetchSeconds), seconds(r.Wall.WriteSeconds), r.Ratio)

	mem := r.Memory
	fmt.Fprintf(w, "peak memory: RSS %s", mib(mem.PeakRSS))
	if mem.FetchPeakRSS > 0 {
		fmt.Fprintf(w, " (fetch %s, .c1z write %s)", mib(mem.FetchPeakRSS), mib(mem.WritePeakRSS))
	}
	fmt.Fprintf(w, "; Go heap %s, Go runtime %s\n", mib(mem.PeakGoHeap), mib(mem.PeakGoTotal))

	fmt.Fprintf(w, "\ntargets\n")
	for _, t := range r.Targets {
		var limit, value string
		switch t.Name {
		case "API calls":
			limit, value = fmt.Sprintf("<= %d", int(t.Limit)), fmt.Sprintf("%d", int(t.Value))
		case "wall / quota floor", "per-user IAM calls / IAM users":
			limit, value = fmt.Sprintf("<= %.2f", t.Limit), fmt.Sprintf("%.3f", t.Value)
		default:
			limit, value = fmt.Sprintf("< %d MB", int(t.Limit/1e6)), fmt.Sprintf("%.0f MB", t.Value/1e6)
		}
		ok := "ok"
		if !t.OK {
			ok = "MISSED"
		}
		fmt.Fprintf(w, "  %-30s %-10s %12s  %s\n", t.Name, limit, value, ok)
	}
}

func seconds(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(100 * time.Millisecond).String()
}

func mib(b int64) string {
	if b <= 0 {
		return "unknown"
	}
	if b >= 10<<30 {
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	}
	return fmt.Sprintf("%d MiB", (b+(1<<19))>>20)
}

// simProcess is a `gatehouse sim` child process.
type simProcess struct {
	cmd  *exec.Cmd
	info awssim.Info
	done chan struct{}
}

func startSim(ctx context.Context, bc BenchConfig) (*simProcess, error) {
	args := append(append([]string{}, bc.SimCommand[1:]...), "--addr", "127.0.0.1:0", "--preset", bc.Preset, "--seed", strconv.FormatInt(bc.Seed, 10))
	cmd := exec.Command(bc.SimCommand[0], args...)
	cmd.Stderr = bc.SimStderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the simulator: %w", err)
	}
	p := &simProcess{cmd: cmd, done: make(chan struct{})}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() { _ = cmd.Wait(); close(p.done) }()

	fail := func(err error) (*simProcess, error) {
		p.stop()
		return nil, err
	}
	select {
	case line, ok := <-lines:
		if !ok {
			return fail(fmt.Errorf("the simulator (%s) exited without printing its connection details", strings.Join(cmd.Args, " ")))
		}
		if err := json.Unmarshal([]byte(line), &p.info); err != nil || p.info.Endpoint == "" {
			return fail(fmt.Errorf("the simulator printed %q instead of its connection details", line))
		}
		return p, nil
	case <-time.After(2 * time.Minute):
		return fail(errors.New("the simulator did not start within 2 minutes"))
	case <-ctx.Done():
		return fail(ctx.Err())
	}
}

// stop interrupts the simulator and waits for it, killing it if it lingers.
func (p *simProcess) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// counters reads the simulator's call counters.
func (p *simProcess) counters(ctx context.Context) ([]awssim.OpCount, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(p.info.Endpoint, "/")+"/_sim/counters", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+p.info.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read the simulator's counters: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read the simulator's counters: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read the simulator's counters: %s: %s", resp.Status, bytes.TrimSpace(body))
	}
	var out struct {
		Operations []awssim.OpCount `json:"operations"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("read the simulator's counters: %w", err)
	}
	return out.Operations, nil
}

// memorySampler records the peak of the Go heap and of the Go runtime's memory.
type memorySampler struct {
	mu          sync.Mutex
	heap, total int64
	quit, done  chan struct{}
}

func startMemorySampler() *memorySampler {
	s := &memorySampler{quit: make(chan struct{}), done: make(chan struct{})}
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
	}
	read := func() {
		metrics.Read(samples)
		heap := int64(samples[0].Value.Uint64())
		total := int64(samples[1].Value.Uint64()) - int64(samples[2].Value.Uint64())
		s.mu.Lock()
		s.heap, s.total = max(s.heap, heap), max(s.total, total)
		s.mu.Unlock()
	}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			read()
			select {
			case <-s.quit:
				read()
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

func (s *memorySampler) stop() (heap, total int64) {
	close(s.quit)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.heap, s.total
}

// rssHighWaterMark returns the process's peak resident memory (VmHWM), 0 when unknown.
func rssHighWaterMark() int64 {
	return procStatusKB("/proc/self/status", "VmHWM:") << 10
}

// resetRSSHighWaterMark resets VmHWM to the current RSS (Linux 4.0 and later).
func resetRSSHighWaterMark() error {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// machineMemory returns the machine's memory, 0 when unknown.
func machineMemory() int64 {
	return procStatusKB("/proc/meminfo", "MemTotal:") << 10
}

// procStatusKB reads a "Key:   1234 kB" line of a /proc file.
func procStatusKB(path, key string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				return 0
			}
			n, _ := strconv.ParseInt(f[0], 10, 64)
			return n
		}
	}
	return 0
}
