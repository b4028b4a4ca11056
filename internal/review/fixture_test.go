package review

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/ingest"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/syncrun"
)

// The fixture inventory of the review tests: testdata/org.yaml synced by the real fetcher
// from the simulator over HTTP, and the .c1z ingested as a sync would (the approach of
// internal/web's and internal/jit's tests):
//
//	s1 at t1: the organization as the file says.
//	s2 at t2: bob left Developers; staging refuses Gatehouse (its IAM is kept, stale).
var (
	t1 = time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)
	t2 = t1.Add(time.Hour)
)

const (
	conn      = "aws"
	mgmtID    = "111111111111"
	prodID    = "333333333333"
	stagingID = "444444444444"
)

// fixtureFiles are the .c1z files, synced once per test binary.
var fixtureFiles struct {
	once  sync.Once
	files [2]string
	skip  [2][]ingest.SkippedAccount
	ids   map[string]string
	dir   string
	err   error
}

// fixtureIDs names the simulator's generated ids: "sso:alice", "group:Admins",
// "ps:ReadOnly" (the permission set id), "psarn:ReadOnly".
func fixtureIDs(t testing.TB) map[string]string {
	syncFixture(t)
	return fixtureFiles.ids
}

func syncFixture(t testing.TB) {
	t.Helper()
	f := &fixtureFiles
	f.once.Do(func() {
		dir, err := os.MkdirTemp("", "gatehouse-review-fixture-")
		if err != nil {
			f.err = err
			return
		}
		f.dir = dir
		w, err := awssim.LoadFixture(filepath.Join("testdata", "org.yaml"))
		if err != nil {
			f.err = err
			return
		}
		now := time.Now().UTC().Truncate(time.Second)
		sim := awssim.New(w, awssim.Options{Now: func() time.Time { return now }})
		url, err := sim.Start("127.0.0.1:0")
		if err != nil {
			f.err = err
			return
		}
		defer sim.Close()
		var cfg awsfetch.Config
		f.ids = map[string]string{}
		sim.Do(func(w *awssim.World) {
			cfg = awsfetch.Config{
				Region: w.Region, EndpointURL: url,
				Credentials: credentials.NewStaticCredentialsProvider(w.Connector.AccessKeyID, w.Connector.SecretAccessKey, ""),
				RoleARN:     w.Connector.RoleARN, ExternalID: w.Connector.ExternalID,
				Orgs: true, IdentityCenter: true, IdentityCenterRegion: w.SSO.Region, AllowPartial: true,
				Quotas:     awsfetch.Quotas{"iam": {}, "sts": {}, "organizations": {}, "identitycenter": {}, "sso:DescribePermissionSet": {}},
				MaxBackoff: 50 * time.Millisecond, CredentialReportPoll: 5 * time.Millisecond,
			}
			for _, u := range w.SSO.Users {
				f.ids["sso:"+u.UserName] = u.ID
			}
			for _, g := range w.SSO.Groups {
				f.ids["group:"+g.DisplayName] = g.ID
			}
			for _, p := range w.SSO.PermissionSets {
				f.ids["ps:"+p.Name] = p.ARN[strings.LastIndex(p.ARN, "/")+1:]
				f.ids["psarn:"+p.Name] = p.ARN
			}
		})
		syncTo := func(i int) {
			if f.err != nil {
				return
			}
			path := filepath.Join(dir, "s"+string(rune('1'+i))+".c1z")
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			res, err := syncrunRun(ctx, cfg, path)
			if err != nil {
				f.err = err
				return
			}
			f.files[i] = path
			f.skip[i] = res
		}
		syncTo(0)
		sim.Do(func(w *awssim.World) {
			var keep []*awssim.Membership
			for _, m := range w.SSO.Memberships {
				if !(m.GroupID == f.ids["group:Developers"] && m.UserID == f.ids["sso:bob"]) {
					keep = append(keep, m)
				}
			}
			w.SSO.Memberships = keep
			w.Accounts[stagingID].DenyAll = true
		})
		syncTo(1)
	})
	if f.err != nil {
		t.Fatalf("sync the fixture organization: %v", f.err)
	}
}

// ingestFixture ingests the first n syncs (s1..sn at t1..tn) into st.
func ingestFixture(t testing.TB, st *store.Store, n int) {
	t.Helper()
	syncFixture(t)
	for i, at := range []time.Time{t1, t2}[:n] {
		if _, err := ingest.Apply(context.Background(), st, ingest.Input{
			ConnectionID: conn, SyncID: "s" + string(rune('1'+i)), C1ZPath: fixtureFiles.files[i], At: at, Skipped: fixtureFiles.skip[i],
		}); err != nil {
			t.Fatalf("ingest s%d: %v", i+1, err)
		}
	}
}

func caller(email string, roles ...string) *auth.Caller {
	return &auth.Caller{Email: email, Roles: roles, Via: "session"}
}

var (
	alice = caller("alice@example.com")
	bob   = caller("bob@example.com")
	carol = caller("carol@example.com")
	dave  = caller("dave@example.com")
	erin  = caller("erin@example.com")
	admin = caller("admin@example.com", auth.RoleAdmin)
	audr  = caller("audrey@example.com", auth.RoleAuditor)
)

// TestMain removes the fixture's files after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureFiles.dir != "" {
		_ = os.RemoveAll(fixtureFiles.dir)
	}
	os.Exit(code)
}

// syncrunRun syncs the simulator into path and returns the accounts it skipped.
func syncrunRun(ctx context.Context, cfg awsfetch.Config, path string) ([]ingest.SkippedAccount, error) {
	res, err := syncrun.Run(ctx, cfg, path)
	if err != nil {
		return nil, err
	}
	var out []ingest.SkippedAccount
	for _, s := range res.Fetch.Skipped {
		out = append(out, ingest.SkippedAccount{AccountID: s.ID, Reason: s.Reason, Fix: "give the member role its trust back"})
	}
	return out, nil
}

// ingestOne ingests fixture sync i (0-based) at its time.
func ingestOne(st *store.Store, i int) (*ingest.Result, error) {
	return ingest.Apply(context.Background(), st, ingest.Input{
		ConnectionID: conn, SyncID: "s" + string(rune('1'+i)), C1ZPath: fixtureFiles.files[i], At: []time.Time{t1, t2}[i], Skipped: fixtureFiles.skip[i],
	})
}
