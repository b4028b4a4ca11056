package jit

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/awsprovision"
	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// The crash-safety proof. The server's just-in-time half (store, River jobs, sweeper,
// provisioner) runs in a child process — this test binary, started again with
// crashChildEnv — on a SQLite data directory, against a simulator in the test process with
// its latency on. The test kills the child with SIGKILL at random moments of its grants and
// revokes and starts it again at once, a seeded number of times per trial, then lets the
// last child run until every lease is over, and checks against what AWS (the simulator)
// recorded:
//   - every lease that ended was revoked in AWS within 5 s of its end, or of the restart
//     when the process was killed around the end, whichever is later (another lease of the
//     same access holding it meanwhile excepted);
//   - no access existed without a lease (every assignment appeared after a lease of it was
//     approved and was gone by the last deadline of its leases; nothing is left at the end);
//   - no assignment was created twice (a creation never starts while the assignment exists
//     or another creation of it is in flight).
//
// GATEHOUSE_CRASH_TRIALS sets the number of trials (default 6, to keep the suite short;
// docs/performance.md has the 100-trial run), GATEHOUSE_CRASH_SEED the first seed.

const crashChildEnv = "GATEHOUSE_JIT_CRASH_CHILD"

// crashPlan is what a child process is told to do.
type crashPlan struct {
	DataDir string
	// DatabaseURL, when set, is the PostgreSQL store of every replica (the replica test).
	DatabaseURL string
	Sim         awssim.Info
	Leases      []crashLease
}

type crashLease struct {
	Requester string
	Target    Target
	Duration  time.Duration
}

func TestMain(m *testing.M) {
	if spec := os.Getenv(crashChildEnv); spec != "" {
		os.Exit(runCrashChild(spec))
	}
	os.Exit(m.Run())
}

// runCrashChild is the child process: a replica that creates the plan's approved requests
// once (one transaction) and works until every lease is over, then prints DONE.
func runCrashChild(spec string) int {
	var plan crashPlan
	if err := json.Unmarshal([]byte(spec), &plan); err != nil {
		fmt.Fprintln(os.Stderr, "plan:", err)
		return 2
	}
	ctx := context.Background()
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "child:", err); return 1 }
	st, err := store.Open(ctx, store.Config{DataDir: plan.DataDir, DatabaseURL: plan.DatabaseURL})
	if err != nil {
		return fail(err)
	}
	if _, err := st.Migrate(ctx); err != nil {
		return fail(err)
	}
	svc, err := New(Config{Store: st,
		FetchConfig: func(context.Context, string) (awsfetch.Config, error) { return simConfig(plan.Sim), nil },
		Provision:   awsprovision.Options{PollInterval: 100 * time.Millisecond, AssignmentWait: time.Minute}})
	if err != nil {
		return fail(err)
	}
	j, err := jobs.New(jobs.Config{Store: st, Connections: noConnections{}, Extensions: []jobs.Extension{svc.Extension()},
		DataDir: plan.DataDir})
	if err != nil {
		return fail(err)
	}
	svc.SetQueue(j)
	if err := j.Start(ctx); err != nil {
		return fail(err)
	}
	stop := svc.Start(ctx)
	existing, _, err := st.ListLeases(ctx, store.LeaseFilter{}, store.Page{})
	if err != nil {
		return fail(err)
	}
	if len(existing) == 0 {
		now := time.Now()
		err := st.InTx(ctx, func(tx *store.Tx) error {
			for i, pl := range plan.Leases {
				req := &Request{ID: fmt.Sprintf("req_crash%015d", i), State: StateApproved, Requester: pl.Requester, Target: pl.Target,
					Reason: "crash test", Duration: pl.Duration, CreatedAt: now, UpdatedAt: now, Rule: "accounts",
					Policy: PolicySnapshot{Name: "test", Doc: json.RawMessage(`{"name":"test"}`)}}
				row, err := toRow(req)
				if err != nil {
					return err
				}
				if err := tx.InsertAccessRequest(ctx, row); err != nil {
					return err
				}
				if _, err := tx.AppendRequestTransition(ctx, store.RequestTransition{RequestID: req.ID, To: string(StateApproved), Actor: "bob@example.com", At: now}); err != nil {
					return err
				}
				if err := svc.grantTx(ctx, tx, req); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fail(err)
		}
	}
	fmt.Println("STARTED")
	for {
		time.Sleep(100 * time.Millisecond)
		list, _, err := st.ListLeases(ctx, store.LeaseFilter{}, store.Page{})
		if err != nil {
			continue
		}
		done := len(list) == len(plan.Leases)
		for _, l := range list {
			done = done && (l.State == store.LeaseEnded || l.State == store.LeaseFailed)
		}
		if done {
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_ = j.Stop(sctx)
			_ = stop(sctx)
			cancel()
			_ = st.Close()
			fmt.Println("DONE")
			return 0
		}
	}
}

// crashChild is a running child process.
type crashChild struct {
	cmd     *exec.Cmd
	started time.Time
	lines   chan string
}

func startCrashChild(t *testing.T, plan []byte) *crashChild {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+string(plan))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &crashChild{cmd: cmd, started: time.Now(), lines: make(chan string, 16)}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	return c
}

func (c *crashChild) kill() {
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	_ = c.cmd.Wait()
}

// crashTrialResult is what one trial measured.
type crashTrialResult struct {
	leases, kills int
	// worstLateness is the longest time from a lease's end (or the restart after it) to
	// its access leaving AWS.
	worstLateness time.Duration
}

func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash-safety proof kills and restarts processes for a minute; it runs without -short")
	}
	trials := 6
	if v := os.Getenv("GATEHOUSE_CRASH_TRIALS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("GATEHOUSE_CRASH_TRIALS=%q: want a positive number", v)
		}
		trials = n
	}
	seed := uint64(20261203)
	if v := os.Getenv("GATEHOUSE_CRASH_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("GATEHOUSE_CRASH_SEED=%q: want a number", v)
		}
		seed = n
	}
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	var worst time.Duration
	kills, leases := 0, 0
	for i := 0; i < trials; i++ {
		s := seed + uint64(i)
		var res crashTrialResult
		if !t.Run(fmt.Sprintf("seed%d", s), func(t *testing.T) { res = crashTrial(t, s) }) {
			t.Fatalf("trial with seed %d failed (rerun it alone with GATEHOUSE_CRASH_SEED=%d GATEHOUSE_CRASH_TRIALS=1)", s, s)
		}
		worst = max(worst, res.worstLateness)
		kills += res.kills
		leases += res.leases
	}
	t.Logf("%d trials, %d leases, %d SIGKILLs: every ended lease revoked in AWS; the latest revoke came %s after its lease's end (or the restart after it)",
		trials, leases, kills, worst.Round(time.Millisecond))
}

// crashAssignmentDelay is how long the simulator's assignment operations take in the
// crash trials.
const crashAssignmentDelay = time.Second

// crashTrial runs one seeded trial and checks it.
func crashTrial(t *testing.T, seed uint64) crashTrialResult { return crashTrialOn(t, seed, "") }

// crashTrialOn runs a trial: on SQLite, one replica killed and restarted; with a
// PostgreSQL URL, two replicas of which one is killed (not restarted) while the other
// carries on.
func crashTrialOn(t *testing.T, seed uint64, databaseURL string) crashTrialResult {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	w, err := awssim.LoadFixture("../awssim/testdata/provisioning.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sim := awssim.New(w, awssim.Options{Latency: 20 * time.Millisecond, Jitter: 10 * time.Millisecond, Seed: int64(seed),
		AssignmentDelay: crashAssignmentDelay, Now: time.Now})
	if _, err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	env := &simEnv{t: t, sim: sim, users: map[string]string{}, ps: map[string]string{}}
	sim.Do(func(w *awssim.World) {
		for _, u := range w.SSO.Users {
			env.users[u.UserName] = u.ID
		}
		for _, p := range w.SSO.PermissionSets {
			env.ps[p.Name] = p.ARN
		}
	})
	// Two to four leases of 1 to 3 s; the small choice of access makes overlaps common.
	plan := crashPlan{DataDir: t.TempDir(), DatabaseURL: databaseURL, Sim: sim.Info()}
	for n := 2 + rng.IntN(3); len(plan.Leases) < n; {
		user := []string{"alice", "bob"}[rng.IntN(2)]
		tg := env.target(user, []string{"Developer", "AdministratorAccess"}[rng.IntN(2)], []string{simProd, simStaging}[rng.IntN(2)])
		plan.Leases = append(plan.Leases, crashLease{Requester: user + "@example.com", Target: tg,
			Duration: time.Second + time.Duration(rng.IntN(2001))*time.Millisecond})
	}
	spec, err := json.Marshal(plan)
	if err != nil {
		t.Fatal(err)
	}
	// One to three kills between 0.1 s and 6 s after the start: in grants (the first
	// seconds) and in revokes (the leases end after 1.5 to 4.5 s).
	killAt := make([]time.Duration, 1+rng.IntN(3))
	for i := range killAt {
		killAt[i] = 100*time.Millisecond + time.Duration(rng.IntN(5900))*time.Millisecond
	}
	sort.Slice(killAt, func(i, j int) bool { return killAt[i] < killAt[j] })

	begin := time.Now()
	child := startCrashChild(t, spec)
	restarts := []time.Time{begin}
	if databaseURL != "" {
		// The first replica creates the requests; the second starts once they exist, and
		// the first is killed once, holding whatever jobs and locks it has then.
		for line := range child.lines {
			if line == "STARTED" {
				break
			}
		}
		victim := child
		child = startCrashChild(t, spec)
		killAt = killAt[:1]
		time.Sleep(time.Until(begin.Add(killAt[0])))
		victim.kill()
	} else {
		for _, at := range killAt {
			time.Sleep(time.Until(begin.Add(at)))
			child.kill()
			child = startCrashChild(t, spec)
			restarts = append(restarts, child.started)
		}
	}
	deadline := time.After(90 * time.Second)
	for done := false; !done; {
		select {
		case line, ok := <-child.lines:
			if !ok {
				_ = child.cmd.Wait()
				t.Fatalf("the last child exited without finishing: %v", child.cmd.ProcessState)
			}
			done = line == "DONE"
		case <-deadline:
			child.kill()
			t.Fatal("the leases were not all over 90 s after the start")
		}
	}
	_ = child.cmd.Wait()

	st, err := store.Open(context.Background(), store.Config{DataDir: plan.DataDir, DatabaseURL: databaseURL})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	list, _, err := st.ListLeases(context.Background(), store.LeaseFilter{}, store.Page{})
	if err != nil || len(list) != len(plan.Leases) {
		t.Fatalf("leases %d (%v), want %d", len(list), err, len(plan.Leases))
	}
	// deadlineOf is when a lease's access must have left AWS: 5 s after its end, or after
	// a restart that came within those 5 s, whichever is later.
	clockFrom := func(end time.Time) time.Time {
		from := end
		for _, r := range restarts {
			if r.After(from) && !r.After(from.Add(5*time.Second)) {
				from = r
			}
		}
		return from
	}
	deadlineOf := func(end time.Time) time.Time { return clockFrom(end).Add(5 * time.Second) }
	// Operations a killed process started may still be in flight (a repeated deletion):
	// let them finish, so that what they do is checked too.
	var lastDone time.Time
	sim.Do(func(w *awssim.World) {
		for _, op := range w.SSO.Operations {
			if op.DoneAt.After(lastDone) {
				lastDone = op.DoneAt
			}
		}
	})
	time.Sleep(time.Until(lastDone.Add(10 * time.Millisecond)))
	byKey := map[string][]store.Lease{}
	for _, l := range list {
		if l.State != store.LeaseEnded || l.EndReason != EndExpired || l.EndsAt == nil || l.StartsAt == nil {
			t.Fatalf("lease %s is %s (%s), want ended at its end: %+v", l.ID, l.State, l.EndReason, l)
		}
		byKey[l.AccessKey] = append(byKey[l.AccessKey], l)
	}
	res := crashTrialResult{leases: len(list), kills: len(killAt)}
	for key, leases := range byKey {
		var tg Target
		if err := json.Unmarshal([]byte(leases[0].Target), &tg); err != nil {
			t.Fatal(err)
		}
		ops := env.operations(tg)
		sort.Slice(ops, func(i, j int) bool { return ops[i].DoneAt.Before(ops[j].DoneAt) })
		// No assignment created twice: a creation starts only while the assignment is
		// absent and no other operation on it is in flight. (A deletion may be repeated:
		// a process killed while AWS deleted asks again after its restart, harmlessly.)
		present := false
		var lastDone time.Time
		type interval struct{ from, to time.Time }
		var spans []interval
		for _, op := range ops {
			// The simulator completes an operation on the first request after its delay;
			// one whose delay has passed is done (a deletion a killed process repeated
			// may have had no request after it).
			if op.Status != "SUCCEEDED" && !(op.Status == "IN_PROGRESS" && op.DoneAt.Before(time.Now())) {
				t.Fatalf("%s: operation %+v did not succeed; ops %+v", key, op, ops)
			}
			switch {
			case !op.Delete:
				if start := op.DoneAt.Add(-crashAssignmentDelay); present || start.Before(lastDone) {
					t.Fatalf("%s: created again at %s while present (%v) or while another operation was in flight (done %s): %+v", key, start, present, lastDone, ops)
				}
				present = true
				spans = append(spans, interval{from: op.DoneAt})
			case present:
				present = false
				spans[len(spans)-1].to = op.DoneAt
			}
			lastDone = op.DoneAt
		}
		if present || len(spans) == 0 {
			t.Fatalf("%s: present at the end %v, %d presence spans: %+v", key, present, len(spans), ops)
		}
		// No access without a lease: each span starts after a lease of it was approved,
		// and ends by the deadline of a lease it served.
		for _, sp := range spans {
			var lastDeadline time.Time
			approvedBefore := false
			for _, l := range leases {
				if !l.CreatedAt.After(sp.from) {
					approvedBefore = true
				}
				if l.CreatedAt.Before(sp.to) {
					if d := deadlineOf(*l.EndsAt); d.After(lastDeadline) {
						lastDeadline = d
					}
				}
			}
			if !approvedBefore {
				t.Fatalf("%s: access appeared at %s before any lease of it was approved", key, sp.from)
			}
			if sp.to.After(lastDeadline) {
				t.Fatalf("%s: access left AWS at %s, after its last lease's deadline %s (restarts %v)", key, sp.to, lastDeadline, restarts)
			}
		}
		// Every lease ended on time: at its deadline the access was gone, unless another
		// lease of it still held it then.
		for _, l := range leases {
			dl := deadlineOf(*l.EndsAt)
			heldThen := false
			for _, sp := range spans {
				if !sp.from.After(dl) && sp.to.After(dl) {
					heldThen = true
				}
			}
			if !heldThen {
				// Lateness: from the end (or the restart after it) to the access leaving.
				from := clockFrom(*l.EndsAt)
				for _, sp := range spans {
					if !sp.from.After(*l.EndsAt) && sp.to.After(*l.EndsAt) {
						res.worstLateness = max(res.worstLateness, sp.to.Sub(from))
					}
				}
				continue
			}
			other := false
			for _, o := range leases {
				if o.ID != l.ID && !o.CreatedAt.After(dl) && deadlineOf(*o.EndsAt).After(dl) {
					other = true
				}
			}
			if !other {
				t.Fatalf("lease %s (%s) ended %s, but its access was still in AWS at its deadline %s with no other lease", l.ID, key, l.EndsAt, dl)
			}
		}
	}
	var names []string
	for _, s := range plan.Leases {
		names = append(names, s.Target.PrincipalName+"/"+s.Target.PermissionSetName+"/"+s.Target.AccountID+"/"+s.Duration.String())
	}
	t.Logf("seed %d: leases %s; kills at %v; worst lateness %s", seed, strings.Join(names, " "), killAt, res.worstLateness.Round(time.Millisecond))
	return res
}

// Two replicas on PostgreSQL: one is killed (SIGKILL, not restarted) at a random moment
// while it holds jobs and locks; the other ends every lease on time (within 5 s of its end),
// with the same checks as TestCrashSafety. GATEHOUSE_REPLICA_TRIALS sets the number of
// trials (default 3).
func TestReplicaKilledOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("kills replicas for half a minute; it runs without -short")
	}
	trials := 3
	if v := os.Getenv("GATEHOUSE_REPLICA_TRIALS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("GATEHOUSE_REPLICA_TRIALS=%q: want a positive number", v)
		}
		trials = n
	}
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	var worst time.Duration
	for i := 0; i < trials; i++ {
		seed := uint64(20261300 + i)
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			url := storetest.NewDatabase(t)
			res := crashTrialOn(t, seed, url)
			worst = max(worst, res.worstLateness)
		})
	}
	t.Logf("%d trials: every ended lease revoked in AWS by the surviving replica; latest %s after its end", trials, worst.Round(time.Millisecond))
}
