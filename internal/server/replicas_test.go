package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// replica is one `gatehouse serve` process.
type replica struct {
	name string
	cmd  *exec.Cmd
	url  string
	log  *syncBuffer
	done chan struct{}
}

// syncBuffer collects a process's log lines.
type syncBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *syncBuffer) add(l string) { b.mu.Lock(); b.lines = append(b.lines, l); b.mu.Unlock() }
func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}

// buildGatehouse builds the gatehouse binary once for the test.
func buildGatehouse(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gatehouse")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/gatehouse/gatehouse/cmd/gatehouse").CombinedOutput()
	if err != nil {
		t.Fatalf("build gatehouse: %v\n%s", err, out)
	}
	return bin
}

// startReplica starts `gatehouse serve` with the config file and environment, and waits
// until it serves.
func startReplica(t *testing.T, bin, name, config string, env []string) *replica {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--config", config, "--data-dir", filepath.Join(t.TempDir(), name))
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &replica{name: name, cmd: cmd, log: &syncBuffer{}, done: make(chan struct{})}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			r.log.add(line)
			var entry struct {
				Msg string `json:"msg"`
				URL string `json:"url"`
			}
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "serving" {
				urls <- entry.URL
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(r.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-r.done
		if t.Failed() {
			t.Logf("log of replica %s:\n%s", name, r.log)
		}
	})
	select {
	case r.url = <-urls:
	case <-r.done:
		t.Fatalf("replica %s exited: %v\n%s", name, cmd.ProcessState, r.log)
	case <-time.After(60 * time.Second):
		t.Fatalf("replica %s did not start serving\n%s", name, r.log)
	}
	return r
}

// TestKilledReplicaLosesNoSync runs two replicas on one PostgreSQL database, kills the
// one running a sync with SIGKILL in the middle of it, and checks that the other one
// finishes the sync (River rescues the job) and that no job is lost.
func TestKilledReplicaLosesNoSync(t *testing.T) {
	if testing.Short() {
		t.Skip("the two-replica test takes about a minute; run without -short")
	}
	dbURL := storetest.NewDatabase(t)
	bin := buildGatehouse(t)

	// The demo organization behind slow calls, so that a sync takes several seconds.
	w, err := awssim.Preset("demo", 1)
	if err != nil {
		t.Fatal(err)
	}
	sim := awssim.New(w, awssim.Options{Latency: 150 * time.Millisecond})
	if _, err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	info := sim.Info()
	config := filepath.Join(t.TempDir(), "gatehouse.yaml")
	if err := os.WriteFile(config, []byte(fmt.Sprintf(`listen: 127.0.0.1:0
admins: [admin@example.com]
connections:
  - id: aws
    endpoint_url: %s
    region: %s
    role_arn: %s
    external_id: %s
    orgs: true
    member_role_name: %s
    identity_center: true
    access_key_id: %s
    secret_access_key: %s
`, info.Endpoint, info.Region, info.RoleARN, info.ExternalID, info.MemberRoleName, info.AccessKeyID, info.SecretAccessKey)), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"GATEHOUSE_DATABASE_URL=" + dbURL,
		"GATEHOUSE_SECRET_KEY=" + testSecretKey,
		// A sync of the slowed demo takes about 5s; a job still running 15s after its
		// attempt started belongs to a dead replica. (River's rescuer looks every 30s.)
		"GATEHOUSE_JOBS_SYNC_TIMEOUT=12s",
		"GATEHOUSE_JOBS_RESCUE_AFTER=15s",
	}
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DatabaseURL: dbURL})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	// Both replicas serve; one of them (the leader) runs the connection's first sync,
	// which its scheduler starts at once.
	a := startReplica(t, bin, "a", config, env)
	b := startReplica(t, bin, "b", config, env)
	replicas := []*replica{a, b}
	var first *store.Sync
	waitFor(t, 60*time.Second, "the first (scheduled) sync to finish", func() bool {
		first, err = st.LatestSync(ctx, "aws")
		return err == nil && first.Final()
	})

	// An admin starts a sync through the API; whichever replica runs it is killed with
	// SIGKILL once it has made AWS calls (its progress, written about once a second,
	// says so) and before it finishes.
	out, err := exec.Command(bin, "token", "create", "--database-url", dbURL, "--email", "admin@example.com", "--name", "replica-test").Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	req, _ := http.NewRequest("POST", a.url+"/api/v1/syncs", strings.NewReader(`{"connection_id":"aws"}`))
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(out)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /api/v1/syncs: %d %s", resp.StatusCode, body)
	}
	var started struct{ ID string }
	if err := json.Unmarshal(body, &started); err != nil {
		t.Fatal(err)
	}
	var sy *store.Sync
	waitFor(t, 30*time.Second, "the sync to make progress", func() bool {
		sy, err = st.GetSync(ctx, started.ID)
		return err == nil && ((sy.State == store.SyncRunning && sy.Progress.APICalls > 0) || sy.Final())
	})
	if sy.State != store.SyncRunning {
		t.Fatalf("the sync is %s before the kill; slow the simulator down so it runs longer", sy.State)
	}
	var victim, survivor *replica
	for i, r := range replicas {
		if strings.Contains(sy.Runner, fmt.Sprintf("_pid%d_", r.cmd.Process.Pid)) {
			victim, survivor = r, replicas[1-i]
		}
	}
	if victim == nil {
		t.Fatalf("sync runner %q is neither replica (pids %d, %d)", sy.Runner, a.cmd.Process.Pid, b.cmd.Process.Pid)
	}
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-victim.done
	killedAt := time.Now()
	t.Logf("killed replica %s (pid %d) during sync %s at progress %+v", victim.name, victim.cmd.Process.Pid, sy.ID, sy.Progress)

	// The survivor takes over: it is or becomes the leader, River's rescuer finds the
	// job the victim left running, and the survivor runs it again from the start.
	var final *store.Sync
	waitFor(t, 120*time.Second, "the sync to finish on the surviving replica", func() bool {
		final, err = st.GetSync(ctx, sy.ID)
		return err == nil && final.Final()
	})
	t.Logf("sync finished %s after the kill: %s, attempts %d, in %s", time.Since(killedAt).Round(time.Second),
		final.State, final.Attempts, final.FinishedAt.Sub(*final.StartedAt).Round(100*time.Millisecond))
	if final.State != store.SyncPartial || final.Attempts != 2 || final.Error != "" {
		t.Fatalf("sync after the kill: state %s, attempts %d, error %q; want partial (the demo's sandbox account), 2 attempts", final.State, final.Attempts, final.Error)
	}
	if !strings.Contains(final.Runner, fmt.Sprintf("_pid%d_", survivor.cmd.Process.Pid)) {
		t.Fatalf("sync finished by %q, want replica %s (pid %d)", final.Runner, survivor.name, survivor.cmd.Process.Pid)
	}
	sep := string(filepath.Separator)
	if _, err := os.Stat(final.C1ZPath); err != nil || !strings.Contains(final.C1ZPath, sep+survivor.name+sep) {
		t.Fatalf("the .c1z %q should be in replica %s's data directory: %v", final.C1ZPath, survivor.name, err)
	}

	// River's view: the job completed on its second attempt, attempted by the victim
	// then the survivor, and no job is left running, retryable or discarded.
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	waitFor(t, 10*time.Second, "River to complete the sync job", func() bool {
		var state string
		_ = conn.QueryRow(ctx, "SELECT state::text FROM river_job WHERE id = $1", final.JobID).Scan(&state)
		return state == "completed"
	})
	var attempt int
	var attemptedBy []string
	if err := conn.QueryRow(ctx, "SELECT attempt, attempted_by FROM river_job WHERE id = $1", final.JobID).Scan(&attempt, &attemptedBy); err != nil {
		t.Fatal(err)
	}
	if attempt != 2 || len(attemptedBy) != 2 || attemptedBy[0] != sy.Runner || attemptedBy[1] != final.Runner {
		t.Fatalf("River job: attempt %d, attempted by %v; want 2 attempts by %s then %s", attempt, attemptedBy, sy.Runner, final.Runner)
	}
	var unfinished int
	if err := conn.QueryRow(ctx, "SELECT COUNT(*) FROM river_job WHERE state IN ('running', 'retryable', 'discarded', 'cancelled')").Scan(&unfinished); err != nil {
		t.Fatal(err)
	}
	if unfinished != 0 {
		t.Fatalf("%d River jobs left unfinished or lost", unfinished)
	}
	var syncs int
	if err := conn.QueryRow(ctx, "SELECT COUNT(*) FROM syncs").Scan(&syncs); err != nil {
		t.Fatal(err)
	}
	if syncs != 2 {
		t.Fatalf("%d syncs, want 2 (the first, scheduled once for both replicas, and the API's)", syncs)
	}
	audits, err := st.ListAudit(ctx, store.AuditFilter{Target: "sync:" + sy.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(audits) != 2 || audits[0].Action != "sync.start" || audits[0].Actor != "admin@example.com" || audits[1].Action != "sync.finish" {
		t.Fatalf("audit of the sync: %+v; want one start by the admin and one finish", audits)
	}
}

func waitFor(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
