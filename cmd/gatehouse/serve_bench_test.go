package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/loadtest"
)

// BenchmarkServeLarge measures the server with the inventory of the simulator's large
// organization (docs/performance.md, "The server"). It runs the real binaries: `gatehouse
// sim --preset large` (AWS's quotas and latency), `gatehouse serve` with a connection to
// it, whose first sync (fetch, .c1z, ingestion into the store) it waits for; then 50
// concurrent clients load the person page, the account page and the change feed (pages
// and API) for 30 s; then the server idles and its memory is read.
//
//	go test -run '^$' -bench ServeLarge -benchtime 1x -timeout 30m ./cmd/gatehouse/
//
// GATEHOUSE_BENCH_DATA_DIR keeps the data directory (a second run reuses its inventory and
// skips the sync); GATEHOUSE_BENCH_DATABASE_URL runs the server on PostgreSQL.
func BenchmarkServeLarge(b *testing.B) {
	ctx := context.Background()
	dataDir := os.Getenv("GATEHOUSE_BENCH_DATA_DIR")
	if dataDir == "" {
		dataDir = b.TempDir()
	}
	info := benchSim(b)
	addr := freeAddr(b)
	base := "http://" + addr
	cfgPath := filepath.Join(dataDir, "bench.yaml")
	cfg := fmt.Sprintf(`listen: %s
data_dir: %s
admins: [bench@example.com]
sync_schedule: 24h
jobs:
  sync_timeout: 1h
  rescue_after: 2h
connections:
  - id: aws
    name: large
    endpoint_url: %s
    region: %s
    role_arn: %s
    external_id: %s
    orgs: true
    member_role_name: %s
    identity_center: true
    identity_center_region: %s
    access_key_id: %s
    secret_access_key: %s
`, addr, dataDir, info.Endpoint, info.Region, info.RoleARN, info.ExternalID, info.MemberRoleName, info.IdentityCenterRegion, info.AccessKeyID, info.SecretAccessKey)
	env := os.Environ()
	if u := os.Getenv("GATEHOUSE_BENCH_DATABASE_URL"); u != "" {
		cfg += "database_url: " + u + "\nsecret_key: " + "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" + "\n"
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		b.Fatal(err)
	}
	tokenOut, err := exec.Command(gatehouseBin, "token", "create", "--config", cfgPath, "--email", "bench@example.com", "--name", "bench").Output()
	if err != nil {
		b.Fatalf("token create: %v", err)
	}
	token := strings.TrimSpace(string(tokenOut))

	serve := exec.Command(gatehouseBin, "serve", "--config", cfgPath)
	serve.Env = env
	logf, _ := os.Create(filepath.Join(dataDir, "serve.log"))
	serve.Stderr = logf
	if err := serve.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		_ = serve.Process.Signal(os.Interrupt)
		_ = serve.Wait()
	}()
	c := &http.Client{Timeout: 30 * time.Second}
	get := func(path string, v any) {
		b.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			b.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		if err := json.Unmarshal(body, v); err != nil {
			b.Fatalf("GET %s: %v", path, err)
		}
	}
	for i := 0; ; i++ {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if i > 300 {
			b.Fatal("gatehouse serve did not become ready")
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The first sync: started by the scheduler when the connection has never synced.
	type syncJSON struct {
		ID         string  `json:"id"`
		State      string  `json:"state"`
		StartedAt  *string `json:"started_at"`
		FinishedAt *string `json:"finished_at"`
		APICalls   int     `json:"api_calls"`
	}
	var syncs struct{ Items []syncJSON }
	var peakDuringSync int64
	for {
		get("/api/v1/syncs", &syncs)
		if n := procStatusKB(b, serve.Process.Pid, "VmHWM"); n > peakDuringSync {
			peakDuringSync = n
		}
		if len(syncs.Items) > 0 && (syncs.Items[0].State == "succeeded" || syncs.Items[0].State == "partial") {
			break
		}
		if len(syncs.Items) > 0 && syncs.Items[0].State == "failed" {
			b.Fatalf("sync failed: %+v", syncs.Items[0])
		}
		time.Sleep(2 * time.Second)
	}
	s := syncs.Items[0]
	started, _ := time.Parse(time.RFC3339, *s.StartedAt)
	finished, _ := time.Parse(time.RFC3339, *s.FinishedAt)
	var counts struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	get("/api/v1/people?page_size=1000", &counts)
	if len(counts.Items) == 0 {
		b.Fatal("no people after the sync")
	}
	// The person with the most access among the first page, the way an auditor would
	// look at the busiest person.
	var people struct {
		Items []struct {
			Email string `json:"email"`
		} `json:"items"`
	}
	get("/api/v1/people?page_size=50", &people)
	best, bestN := "", -1
	for _, p := range people.Items {
		var acc struct{ Items []json.RawMessage }
		get("/api/v1/people/"+url.PathEscape(p.Email)+"/access?page_size=1000", &acc)
		if len(acc.Items) > bestN {
			best, bestN = p.Email, len(acc.Items)
		}
	}
	var accounts struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	get("/api/v1/resources?type=account&page_size=20", &accounts)
	account := accounts.Items[len(accounts.Items)/2].ID
	paths := []string{
		"/people/" + url.PathEscape(best),
		"/inventory/account/" + account,
		"/",
		"/api/v1/people/" + url.PathEscape(best) + "/access",
		"/api/v1/resources/account/" + account,
		"/api/v1/changes",
	}
	res, err := loadtest.Run(ctx, loadtest.Config{BaseURL: base, Token: token, Paths: paths, Clients: 50, Duration: 30 * time.Second, Warmup: true})
	if err != nil {
		b.Fatal(err)
	}
	var report strings.Builder
	res.Write(&report)
	time.Sleep(10 * time.Second)
	idle := procStatusKB(b, serve.Process.Pid, "VmRSS")
	b.Logf("sync %s: %s, %d API calls, %s from start to ingested; serve's peak RSS during it %d MiB\nperson %s has %d access items; account %s; %d people on the first page\n%s\nidle RSS after the load: %d MiB",
		s.ID, s.State, s.APICalls, finished.Sub(started), peakDuringSync/1024, best, bestN, account, len(counts.Items), report.String(), idle/1024)
	for _, p := range res.Paths {
		name := strings.NewReplacer("/", "_", "@", "_", ".", "_").Replace(strings.Trim(p.Path, "/"))
		if len(name) > 30 {
			name = name[:30]
		}
		b.ReportMetric(float64(p.P99.Microseconds())/1000, "p99-ms:"+name)
	}
	b.ReportMetric(float64(idle)/1024, "idle-MiB")
}

// benchSim starts `gatehouse sim --preset large` with AWS's quotas and latency.
func benchSim(b *testing.B) awssim.Info {
	cmd := exec.Command(gatehouseBin, "sim", "--addr", "127.0.0.1:0", "--preset", "large")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	if !sc.Scan() {
		b.Fatal("gatehouse sim printed nothing")
	}
	var info awssim.Info
	if err := json.Unmarshal(sc.Bytes(), &info); err != nil {
		b.Fatal(err)
	}
	go io.Copy(io.Discard, stdout)
	return info
}

func freeAddr(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// procStatusKB reads a kB field (VmRSS, VmHWM) of /proc/<pid>/status.
func procStatusKB(b *testing.B, pid int, field string) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
