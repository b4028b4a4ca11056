package web

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/ingest"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/syncrun"
)

// The fixture inventory of the page tests: testdata/org.yaml synced three times by the
// real fetcher from the simulator, and each .c1z ingested as a sync would:
//
//	s1 at t1: alice (Identity Center) is in Admins (AdministratorAccess on management and
//	          prod); bob is in Developers (ReadOnly on prod); alice's IAM user is in
//	          operators in management.
//	s2 at t2: alice left Admins and holds ReadOnly on staging directly.
//	s3 at t3: prod's member role refuses Gatehouse: prod is skipped, its IAM kept (stale).
var (
	t1 = time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)
	t2 = t1.Add(time.Hour)
	t3 = t2.Add(time.Hour)
)

// fixtureFiles are the three .c1z files, synced once per test binary.
var fixtureFiles struct {
	once  sync.Once
	files [3]string
	skip  [3][]ingest.SkippedAccount
	ids   map[string]string
	dir   string
	err   error
}

// fixtureIDs names the generated ids: "sso:alice", "group:Admins", "ps:ReadOnly" (the
// permission set's id as in entitlement ids).
func fixtureIDs(t *testing.T) map[string]string {
	syncFixture(t)
	return fixtureFiles.ids
}

func syncFixture(t *testing.T) {
	t.Helper()
	f := &fixtureFiles
	f.once.Do(func() {
		dir, err := osMkdirTemp()
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
			res, err := syncrun.Run(ctx, cfg, path)
			if err != nil {
				f.err = err
				return
			}
			f.files[i] = path
			for _, s := range res.Fetch.Skipped {
				f.skip[i] = append(f.skip[i], ingest.SkippedAccount{AccountID: s.ID, Reason: s.Reason, Fix: "give the member role its trust back"})
			}
		}
		syncTo(0)
		sim.Do(func(w *awssim.World) {
			w.SSO.Memberships = slices.DeleteFunc(w.SSO.Memberships, func(m *awssim.Membership) bool {
				return m.GroupID == f.ids["group:Admins"] && m.UserID == f.ids["sso:alice"]
			})
			w.AddAssignment("444444444444", f.ids["psarn:ReadOnly"], "USER", f.ids["sso:alice"])
		})
		syncTo(1)
		sim.Do(func(w *awssim.World) { w.Accounts["333333333333"].DenyAll = true })
		syncTo(2)
	})
	if f.err != nil {
		t.Fatalf("sync the fixture organization: %v", f.err)
	}
}

// ingestFixture ingests the first n syncs (s1..sn at t1..tn) into the test UI's store.
func (u *testUI) ingestFixture(n int) {
	u.t.Helper()
	syncFixture(u.t)
	for i, at := range []time.Time{t1, t2, t3}[:n] {
		_, err := ingest.Apply(context.Background(), u.store, ingest.Input{
			ConnectionID: "aws", SyncID: "s" + string(rune('1'+i)), C1ZPath: fixtureFiles.files[i], At: at,
			Skipped: fixtureFiles.skip[i],
		})
		if err != nil {
			u.t.Fatalf("ingest s%d: %v", i+1, err)
		}
	}
}

// ingestOne ingests fixture sync i (0-based) at at.
func ingestOne(u *testUI, i int, at time.Time) (*ingest.Result, error) {
	return ingest.Apply(context.Background(), u.store, ingest.Input{
		ConnectionID: "aws", SyncID: "s" + string(rune('1'+i)), C1ZPath: fixtureFiles.files[i], At: at, Skipped: fixtureFiles.skip[i],
	})
}

var _ = store.ErrNotFound

// TestMain removes the fixture's files after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureFiles.dir != "" {
		_ = os.RemoveAll(fixtureFiles.dir)
	}
	os.Exit(code)
}

func osMkdirTemp() (string, error) { return os.MkdirTemp("", "gatehouse-web-fixture-") }
