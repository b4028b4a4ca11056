package findings_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/ingest"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
	"github.com/gatehouse/gatehouse/internal/syncrun"
)

var update = flag.Bool("update", false, "rewrite the golden files of the findings tests")

const (
	conn    = "aws"
	mgmtID  = "111111111111"
	prodID  = "222222222222"
	stageID = "333333333333"
	sandID  = "444444444444"
	brokeID = "555555555555"
)

// fixtureNow is testdata/org.yaml's now; the simulator's clock stays there (then moves
// for the second sync), so that every age is exact.
var fixtureNow = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// simEnv is the fixture organization served by the simulator over HTTP, with the
// configuration a sync uses and the generated ids by name ("sso:alice", "ps:ReadOnly",
// "psarn:ReadOnly").
type simEnv struct {
	sim *awssim.Sim
	url string
	cfg awsfetch.Config
	now time.Time
	ids map[string]string
}

func startFixture(t *testing.T) *simEnv {
	t.Helper()
	w, err := awssim.LoadFixture(filepath.Join("testdata", "org.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	e := &simEnv{now: fixtureNow, ids: map[string]string{}}
	e.sim = awssim.New(w, awssim.Options{Now: func() time.Time { return e.now }})
	e.url, err = e.sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.sim.Close() })
	e.sim.Do(func(w *awssim.World) {
		e.cfg = awsfetch.Config{
			Region: w.Region, EndpointURL: e.url,
			Credentials: credentials.NewStaticCredentialsProvider(w.Connector.AccessKeyID, w.Connector.SecretAccessKey, ""),
			RoleARN:     w.Connector.RoleARN, ExternalID: w.Connector.ExternalID,
			Orgs: true, IdentityCenter: true, IdentityCenterRegion: w.SSO.Region, AllowPartial: true,
			Quotas:     awsfetch.Quotas{"iam": {}, "sts": {}, "organizations": {}, "identitycenter": {}, "sso:DescribePermissionSet": {}},
			MaxBackoff: 5 * time.Millisecond, CredentialReportPoll: 5 * time.Millisecond, MaxAttempts: 3,
		}
		for _, u := range w.SSO.Users {
			e.ids["sso:"+u.UserName] = u.ID
		}
		for _, p := range w.SSO.PermissionSets {
			e.ids["ps:"+p.Name] = p.ARN[strings.LastIndex(p.ARN, "/")+1:]
			e.ids["psarn:"+p.Name] = p.ARN
		}
		// sandbox: GetAccountPasswordPolicy keeps failing (throttled past the retries).
		w.Accounts[sandID].Faults = map[string]awssim.Fault{"GetAccountPasswordPolicy": awssim.FaultThrottle}
	})
	return e
}

// syncInto syncs the simulator and ingests the file into st as syncID at the
// simulator's time.
func (e *simEnv) syncInto(t *testing.T, st *store.Store, syncID string) *syncrun.Result {
	t.Helper()
	path := filepath.Join(t.TempDir(), syncID+".c1z")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := syncrun.Run(ctx, e.cfg, path)
	if err != nil {
		t.Fatalf("sync %s: %v", syncID, err)
	}
	var skipped []ingest.SkippedAccount
	for _, s := range res.Fetch.Skipped {
		skipped = append(skipped, ingest.SkippedAccount{AccountID: s.ID, Reason: s.Reason, Fix: "lift the deny-all SCP of " + s.ID})
	}
	if _, err := ingest.Apply(ctx, st, ingest.Input{ConnectionID: conn, SyncID: syncID, C1ZPath: path, At: e.now, Skipped: skipped}); err != nil {
		t.Fatalf("ingest %s: %v", syncID, err)
	}
	return res
}

// names replaces the generated ids in s by their names ("<sso:alice>").
func (e *simEnv) names(s string) string {
	keys := make([]string, 0, len(e.ids))
	for k := range e.ids {
		keys = append(keys, k)
	}
	// Longest ids first: a permission set ARN contains its id.
	sort.Slice(keys, func(i, j int) bool { return len(e.ids[keys[i]]) > len(e.ids[keys[j]]) })
	for _, k := range keys {
		s = strings.ReplaceAll(s, e.ids[k], "<"+k+">")
	}
	return s
}

// render lists findings one per line: account, control (v5), resource, status, reason,
// and the fix for failures and unknowns.
func (e *simEnv) render(fs []store.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "%s | %s (v5 %s) | %s | %s | %s\n", orDash(f.Account), f.Control, orDash(f.CISv5), f.Resource, f.Status, f.Reason)
		if f.Status != store.FindingPass {
			fmt.Fprintf(&b, "    fix: %s\n", f.Fix)
		}
	}
	return e.names(b.String())
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// checkGolden compares got with testdata/<name>.golden, or rewrites it with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/findings -update to create it)", err)
	}
	if string(want) != got {
		wl, gl := strings.Split(string(want), "\n"), strings.Split(got, "\n")
		for i := 0; i < max(len(wl), len(gl)); i++ {
			var w, g string
			if i < len(wl) {
				w = wl[i]
			}
			if i < len(gl) {
				g = gl[i]
			}
			if w != g {
				t.Fatalf("%s differs at line %d (review, then go test ./internal/findings -update):\nwant %s\n got %s", path, i+1, w, g)
			}
		}
	}
}

// openSQLite is a fresh migrated SQLite store.
func openSQLite(t *testing.T) *store.Store {
	t.Helper()
	return storetest.Open(t, store.SQLite)
}
