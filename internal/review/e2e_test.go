package review

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/awsprovision"
	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/ingest"
	"github.com/gatehouse/gatehouse/internal/jit"
	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
	"github.com/gatehouse/gatehouse/internal/syncrun"
)

// The end-to-end tests run the real thing: the simulator's review organization
// (testdata/review-org.yaml) synced through the real SDK clients over HTTP, the file
// ingested into the store, a campaign started on that inventory, decisions, the
// review_remediate jobs on River making the changes through the provisioner the leases use,
// the next sync and ingestion verifying them, and the exports.

const (
	e2eConn = "aws"
	e2eProd = "222222222222"
)

var (
	e2eAdmin = &auth.Caller{Email: "admin@example.com", Roles: []string{auth.RoleAdmin}}
	e2eDave  = &auth.Caller{Email: "dave@example.com"}
)

// e2eEnv is a server's reviews (service, River jobs, the jit provisioners) on a store,
// against a simulator it syncs.
type e2eEnv struct {
	t      *testing.T
	st     *store.Store
	sim    *awssim.Sim
	svc    *Service
	jobs   *jobs.Service
	cfg    awsfetch.Config
	dir    string
	syncs  int
	syncAt time.Time
	ids    map[string]string // "sso:alice", "group:Admins", "ps:Developer" (id), "psarn:Developer"
	leases *jit.Service
	events *reviewEvents
}

// reviewEvents records the review notifications.
type reviewEvents struct {
	mu  sync.Mutex
	evs []Event
}

func (n *reviewEvents) NotifyReviewTx(_ context.Context, _ *store.Tx, ev Event) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.evs = append(n.evs, ev)
	return nil
}

func (n *reviewEvents) of(kind string) []Event {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []Event
	for _, e := range n.evs {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// newE2E starts the simulator of the review organization with opts, syncs and ingests it
// once (sync s1), and starts the review service with its jobs.
func newE2E(t *testing.T, st *store.Store, provision awsfetch.Config) *e2eEnv {
	t.Helper()
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	w, err := awssim.LoadFixture(filepath.Join("testdata", "review-org.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sim := awssim.New(w, awssim.Options{Now: time.Now, AssignmentDelay: 200 * time.Millisecond})
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	e := &e2eEnv{t: t, st: st, sim: sim, dir: t.TempDir(), ids: map[string]string{}}
	sim.Do(func(w *awssim.World) {
		e.cfg = awsfetch.Config{Region: w.Region, EndpointURL: url, RoleARN: w.Connector.RoleARN, ExternalID: w.Connector.ExternalID,
			Credentials: credentials.NewStaticCredentialsProvider(w.Connector.AccessKeyID, w.Connector.SecretAccessKey, ""),
			Orgs:        true, IdentityCenter: true, IdentityCenterRegion: w.SSO.Region, AllowPartial: true,
			Quotas:     awsfetch.Quotas{"iam": {}, "sts": {}, "organizations": {}, "identitycenter": {}, "sso:DescribePermissionSet": {}},
			MaxBackoff: 50 * time.Millisecond, CredentialReportPoll: 5 * time.Millisecond,
		}
		for _, u := range w.SSO.Users {
			e.ids["sso:"+u.UserName] = u.ID
		}
		for _, g := range w.SSO.Groups {
			e.ids["group:"+g.DisplayName] = g.ID
		}
		for _, p := range w.SSO.PermissionSets {
			e.ids["ps:"+p.Name] = p.ARN[strings.LastIndex(p.ARN, "/")+1:]
			e.ids["psarn:"+p.Name] = p.ARN
		}
	})
	pcfg := e.cfg
	if provision.MaxAttempts > 0 {
		pcfg.MaxAttempts, pcfg.MaxBackoff = provision.MaxAttempts, provision.MaxBackoff
	}
	leases, err := jit.New(jit.Config{Store: st, FetchConfig: func(_ context.Context, id string) (awsfetch.Config, error) {
		if id != e2eConn {
			return awsfetch.Config{}, fmt.Errorf("unknown connection %s", id)
		}
		return pcfg, nil
	}, Provision: awsprovision.Options{PollInterval: 50 * time.Millisecond, AssignmentWait: 30 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetConfiguredRoles(context.Background(), map[string][]string{
		"admin@example.com": {auth.RoleAdmin}, "audrey@example.com": {auth.RoleAuditor}}); err != nil {
		t.Fatal(err)
	}
	e.sync()
	e.leases, e.events = leases, &reviewEvents{}
	svc, err := New(Config{Store: st, Provisioners: leases, Leases: leases, Notifier: e.events, BaseURL: "https://gh.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	j, err := jobs.New(jobs.Config{Store: st, Connections: noConnections{}, Extensions: []jobs.Extension{svc.Extension(), leases.Extension()},
		DataDir: t.TempDir(), RetryBackoff: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	svc.SetQueue(j)
	leases.SetQueue(j)
	if err := j.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	t.Cleanup(func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = j.Stop(ctx)
		})
	})
	e.svc, e.jobs = svc, j
	return e
}

// noConnections gives the jobs no connection to sync: the tests sync by hand.
type noConnections struct{}

func (noConnections) ListConnections(context.Context) ([]jobs.Connection, error) { return nil, nil }
func (noConnections) FetchConfig(context.Context, string) (awsfetch.Config, error) {
	return awsfetch.Config{}, fmt.Errorf("no connections in this test")
}

// sync syncs the simulator into a new file, ingests it as the next sync ("s1", "s2", ...)
// with the accounts it could not read as stale, and (once the service runs) verifies the
// reviews against it, as the server's sync job does. It returns the sync id.
func (e *e2eEnv) sync() string {
	e.t.Helper()
	return e.ingest(e.read())
}

// readSync is a sync that read AWS but is not ingested yet.
type readSync struct {
	path    string
	at      time.Time
	skipped []ingest.SkippedAccount
}

// read syncs the simulator into a new file, as a sync reads AWS, at the wall clock's time.
func (e *e2eEnv) read() readSync {
	e.t.Helper()
	path := filepath.Join(e.dir, fmt.Sprintf("read-%d.c1z", time.Now().UnixNano()))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The sync read AWS now; ingestion refuses a sync older than the last one.
	at := time.Now().UTC()
	if !at.After(e.syncAt) {
		at = e.syncAt.Add(time.Millisecond)
	}
	res, err := syncrun.Run(ctx, e.cfg, path)
	if err != nil {
		e.t.Fatalf("sync: %v", err)
	}
	r := readSync{path: path, at: at}
	for _, s := range res.Fetch.Skipped {
		r.skipped = append(r.skipped, ingest.SkippedAccount{AccountID: s.ID, Reason: s.Reason, Fix: "fix the member role"})
	}
	return r
}

// ingest ingests a sync read earlier as the next sync and verifies the reviews against it.
func (e *e2eEnv) ingest(r readSync) string {
	e.t.Helper()
	e.syncs++
	id := fmt.Sprintf("s%d", e.syncs)
	e.syncAt = r.at
	ctx := context.Background()
	if _, err := ingest.Apply(ctx, e.st, ingest.Input{ConnectionID: e2eConn, SyncID: id, C1ZPath: r.path, At: r.at, Skipped: r.skipped}); err != nil {
		e.t.Fatalf("ingest %s: %v", id, err)
	}
	if e.svc != nil {
		if err := e.svc.AfterIngest(ctx, e2eConn, id); err != nil {
			e.t.Fatalf("verify against %s: %v", id, err)
		}
	}
	return id
}

// access lists every assignment, Identity Center membership and IAM group membership the
// simulator holds, sorted, by names.
func (e *e2eEnv) access() []string {
	var out []string
	e.sim.Do(func(w *awssim.World) {
		names := map[string]string{}
		for _, u := range w.SSO.Users {
			names[u.ID] = "user " + u.UserName
		}
		for _, g := range w.SSO.Groups {
			names[g.ID] = "group " + g.DisplayName
		}
		ps := map[string]string{}
		for _, p := range w.SSO.PermissionSets {
			ps[p.ARN] = p.Name
		}
		for _, a := range w.SSO.Assignments {
			out = append(out, fmt.Sprintf("assignment %s %s to %s", a.AccountID, ps[a.PermissionSetARN], names[a.PrincipalID]))
		}
		for _, m := range w.SSO.Memberships {
			out = append(out, fmt.Sprintf("sso member %s in %s", names[m.UserID], names[m.GroupID]))
		}
		for id, a := range w.Accounts {
			for _, g := range a.Groups {
				for _, u := range g.Members {
					out = append(out, fmt.Sprintf("iam member %s in %s/%s", u, id, g.Name))
				}
			}
		}
	})
	sort.Strings(out)
	return out
}

// items reads every item of a campaign as an admin.
func (e *e2eEnv) items(id string) []Item {
	e.t.Helper()
	items, err := e.svc.allItems(context.Background(), e2eAdmin, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return items
}

// find is the one item matching pred.
func (e *e2eEnv) find(items []Item, what string, pred func(*Item) bool) Item {
	e.t.Helper()
	var found []Item
	for i := range items {
		if pred(&items[i]) {
			found = append(found, items[i])
		}
	}
	if len(found) != 1 {
		e.t.Fatalf("%d items are %s, want 1: %+v", len(found), what, found)
	}
	return found[0]
}

// waitRemediation waits until the item's remediation is in one of states.
func (e *e2eEnv) waitRemediation(campaign, item string, within time.Duration, states ...string) *Item {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for {
		it, err := e.svc.Item(context.Background(), e2eAdmin, campaign, item)
		if err != nil {
			e.t.Fatal(err)
		}
		if it.Remediation != nil && slices.Contains(states, it.Remediation.State) {
			return it
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("item %s: remediation %+v after %s, want %v (events %+v)", item, it.Remediation, within, states, it.Events)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// startCampaign creates and starts a campaign over prod reviewed by dave.
func (e *e2eEnv) startCampaign(name string) *Campaign {
	e.t.Helper()
	ctx := context.Background()
	c, err := e.svc.CreateCampaign(ctx, e2eAdmin, CampaignInput{Name: name, Scope: Scope{Accounts: []string{e2eProd}},
		Reviewers: Reviewers{People: []string{"dave@example.com"}}, Due: time.Now().Add(7 * 24 * time.Hour), Undecided: UndecidedKeep})
	if err != nil {
		e.t.Fatalf("create: %v", err)
	}
	c, err = e.svc.Start(ctx, e2eAdmin, c.ID)
	if err != nil {
		e.t.Fatalf("start: %v", err)
	}
	return c
}

// The proof of the issue: a campaign over prod; dave revokes (a) erin's direct assignment of
// Developer, (b) alice's AdministratorAccess through the Identity Center group Admins, (c)
// carol's membership of the IAM group oncall, and keeps everything else. The jobs remove
// exactly that in the simulator and nothing else; a sync that cannot read prod verifies
// nothing; the next full sync marks exactly those three remediated with its id (and shows
// that carol's ReadOnlyAccess through oncall is gone too); the CSV and JSON exports list
// exactly those decisions and states, and their SHA-256 is the one in the audit log.
func TestRevokesRemovedInAWSVerifiedBySyncAndExported(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newE2E(t, st, awsfetch.Config{})
		before := e.access()
		camp := e.startCampaign("Quarterly review: production access")
		items := e.items(camp.ID)
		if len(items) < 6 {
			t.Fatalf("the campaign froze %d items, want prod's assignments and IAM", len(items))
		}
		devEnt := "account:" + e2eProd + ":" + e.ids["ps:Developer"]
		adminEnt := "account:" + e2eProd + ":" + e.ids["ps:AdministratorAccess"]
		oncallARN := "arn:aws:iam::" + e2eProd + ":group/oncall"
		direct := e.find(items, "erin's direct Developer", func(it *Item) bool {
			return it.EntitlementID == devEnt && it.PrincipalID == e.ids["sso:erin"] && it.Via == ViaDirect
		})
		viaGroup := e.find(items, "alice's AdministratorAccess through Admins", func(it *Item) bool {
			return it.EntitlementID == adminEnt && it.PrincipalID == e.ids["sso:alice"] && it.Via == "sso_group:"+e.ids["group:Admins"]+":member"
		})
		iamMember := e.find(items, "carol in oncall", func(it *Item) bool {
			return it.EntitlementID == "iam_group:"+oncallARN+":member" && strings.HasSuffix(it.PrincipalID, ":user/carol")
		})
		throughOncall := e.find(items, "carol's ReadOnlyAccess through oncall", func(it *Item) bool {
			return it.ResourceType == "iam_policy" && strings.HasSuffix(it.PrincipalID, ":user/carol") && it.Via == "iam_group:"+oncallARN+":member"
		})
		if !strings.Contains(viaGroup.Plan, "Admins") {
			t.Errorf("alice's item plan %q does not say she is removed from Admins", viaGroup.Plan)
		}
		revoke := map[string]bool{direct.ID: true, viaGroup.ID: true, iamMember.ID: true}
		for _, it := range items {
			d := DecisionInput{Decision: DecisionKeep, Reason: "still needed"}
			if revoke[it.ID] {
				d = DecisionInput{Decision: DecisionRevoke, Reason: "left the team"}
			}
			if _, err := e.svc.Decide(ctx, e2eDave, camp.ID, it.ID, d); err != nil {
				t.Fatalf("decide %s on %s (%s via %s): %v", d.Decision, it.ID, it.EntitlementID, it.Via, err)
			}
		}
		for id := range revoke {
			it := e.waitRemediation(camp.ID, id, 30*time.Second, RemediationDone)
			if it.State != ItemRevocationPending {
				t.Errorf("item %s is %s after AWS confirmed, want revocation_pending until a sync shows it", id, it.State)
			}
		}
		after := e.access()
		removed, added := accessDiff(before, after)
		wantRemoved := []string{
			"assignment " + e2eProd + " Developer to user erin",
			"iam member carol in " + e2eProd + "/oncall",
			"sso member user alice in group Admins",
		}
		if !slices.Equal(removed, wantRemoved) || len(added) != 0 {
			t.Fatalf("AWS changed:\n removed %q\n added %q\nwant removed exactly %q", removed, added, wantRemoved)
		}

		// A sync that cannot read prod: the inventory of prod is stale, nothing is verified
		// (erin's assignment is gone from Identity Center's listing, but prod was not read).
		e.sim.Do(func(w *awssim.World) { w.Accounts[e2eProd].DenyAll = true })
		stale := e.sync()
		for id := range revoke {
			it, _ := e.svc.Item(ctx, e2eAdmin, camp.ID, id)
			if it.State != ItemRevocationPending || it.Remediation.VerifiedSync != "" {
				t.Errorf("after %s, which could not read prod, item %s is %s (verified by %q): a stale account verified it", stale, id, it.State, it.Remediation.VerifiedSync)
			}
		}
		e.sim.Do(func(w *awssim.World) { w.Accounts[e2eProd].DenyAll = false })
		s3 := e.sync()
		for _, it := range e.items(camp.ID) {
			switch {
			case revoke[it.ID]:
				if it.State != ItemRemediated || it.Remediation.State != RemediationVerified || it.Remediation.VerifiedSync != s3 || it.AccessGoneSync != s3 {
					t.Errorf("revoked item %s: state %s, remediation %+v, gone in %q; want remediated, verified by %s", it.ID, it.State, it.Remediation, it.AccessGoneSync, s3)
				}
			case it.ID == throughOncall.ID:
				if it.State != ItemKept || it.AccessGoneAt == nil || it.AccessGoneSync != s3 {
					t.Errorf("carol's ReadOnlyAccess through oncall: state %s, gone %v in %q; want kept and access gone in %s", it.State, it.AccessGoneAt, it.AccessGoneSync, s3)
				}
			default:
				if it.State != ItemKept || it.AccessGoneAt != nil {
					t.Errorf("kept item %s (%s via %s): state %s, gone %v", it.ID, it.EntitlementID, it.Via, it.State, it.AccessGoneAt)
				}
			}
		}

		// The exports list exactly these decisions and states; the hash is the audit log's.
		ex, err := e.svc.Export(ctx, &auth.Caller{Email: "audrey@example.com", Roles: []string{auth.RoleAuditor}}, camp.ID, FormatCSV)
		if err != nil {
			t.Fatal(err)
		}
		body := exportBytes(t, ex)
		rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(rows[0], csvHeader) || len(rows) != len(items)+1 {
			t.Fatalf("CSV has %d rows (header %v), want the header and %d items", len(rows), rows[0], len(items))
		}
		col := map[string]int{}
		for i, h := range rows[0] {
			col[h] = i
		}
		var revoked []string
		for _, r := range rows[1:] {
			id := r[col["item_id"]]
			if r[col["reviewer"]] != "dave@example.com" || r[col["decided_by"]] != "dave@example.com" || r[col["decided_at"]] == "" {
				t.Errorf("CSV row %s: reviewer %q decided by %q at %q", id, r[col["reviewer"]], r[col["decided_by"]], r[col["decided_at"]])
			}
			if r[col["decision"]] == DecisionRevoke {
				revoked = append(revoked, id)
				if r[col["state"]] != "remediated" || r[col["remediation_state"]] != "verified" || r[col["verified_sync"]] != s3 ||
					r[col["reason"]] != "left the team" || r[col["remediation"]] == "" {
					t.Errorf("CSV revoked row %v", r)
				}
			} else if r[col["decision"]] != DecisionKeep || r[col["state"]] != "kept" || r[col["reason"]] != "still needed" {
				t.Errorf("CSV kept row %v", r)
			}
		}
		sort.Strings(revoked)
		want := []string{direct.ID, viaGroup.ID, iamMember.ID}
		sort.Strings(want)
		if !slices.Equal(revoked, want) {
			t.Errorf("CSV revoked items %v, want %v", revoked, want)
		}
		checkHash(t, st, camp.ID, ex, body)

		jx, err := e.svc.Export(ctx, e2eAdmin, camp.ID, FormatJSON)
		if err != nil {
			t.Fatal(err)
		}
		jbody := exportBytes(t, jx)
		var doc ExportDocument
		if err := json.Unmarshal(jbody, &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Items) != len(items) || doc.Summary.Revoked != 3 || doc.Summary.Verified != 3 || doc.Summary.Kept != len(items)-3 ||
			!doc.Summary.Complete || doc.Campaign.ID != camp.ID {
			t.Errorf("JSON summary %+v with %d items", doc.Summary, len(doc.Items))
		}
		for _, it := range doc.Items {
			if revoke[it.ID] != (it.Decision == DecisionRevoke) || (revoke[it.ID] && (it.Remediation == nil || it.Remediation.VerifiedSync != s3)) {
				t.Errorf("JSON item %s: decision %s remediation %+v", it.ID, it.Decision, it.Remediation)
			}
		}
		checkHash(t, st, camp.ID, jx, jbody)
	})
}

// accessDiff is what before has and after not (removed), and the other way round (added).
func accessDiff(before, after []string) (removed, added []string) {
	for _, b := range before {
		if !slices.Contains(after, b) {
			removed = append(removed, b)
		}
	}
	for _, a := range after {
		if !slices.Contains(before, a) {
			added = append(added, a)
		}
	}
	return removed, added
}

// checkHash checks that the export's SHA-256 is the body's, and is the one recorded with the
// export and in its audit entry.
func checkHash(t *testing.T, st *store.Store, campaignID string, ex *Export, body []byte) {
	t.Helper()
	if int64(len(body)) != ex.Size {
		t.Fatalf("export says %d bytes, its file holds %d", ex.Size, len(body))
	}
	sum := sha256.Sum256(body)
	if got := hex.EncodeToString(sum[:]); got != ex.SHA256 {
		t.Fatalf("export says SHA-256 %s, the body's is %s", ex.SHA256, got)
	}
	entries, err := st.ListAudit(context.Background(), store.AuditFilter{Target: "campaign:" + campaignID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range entries {
		if a.Action == "review.export" && strings.Contains(a.Detail, `"sha256":"`+ex.SHA256+`"`) && strings.Contains(a.Detail, `"format":"`+ex.Format+`"`) {
			found = true
		}
	}
	if !found {
		t.Errorf("no review.export audit entry names %s (%s)", ex.SHA256, ex.Format)
	}
	exports, err := st.ReviewExports(context.Background(), campaignID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(exports, func(x store.ReviewExport) bool {
		return x.SHA256 == ex.SHA256 && x.Size == int64(len(body)) && x.Format == ex.Format
	}) {
		t.Errorf("review_exports %+v has no row for %s", exports, ex.SHA256)
	}
}

// A throttled AWS call leaves the item revocation_pending with AWS's reason, and the job
// tries again until AWS accepts; the remediation is done only then.
func TestThrottledRevokeRecordedAndRetried(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newE2E(t, st, awsfetch.Config{MaxAttempts: 2, MaxBackoff: 10 * time.Millisecond})
		camp := e.startCampaign("Throttled")
		oncallARN := "arn:aws:iam::" + e2eProd + ":group/oncall"
		carol := e.find(e.items(camp.ID), "carol in oncall", func(it *Item) bool {
			return it.EntitlementID == "iam_group:"+oncallARN+":member" && strings.HasSuffix(it.PrincipalID, ":user/carol")
		})
		e.sim.Do(func(w *awssim.World) {
			w.Accounts[e2eProd].Faults = map[string]awssim.Fault{"RemoveUserFromGroup": awssim.FaultThrottle}
		})
		if _, err := e.svc.Decide(ctx, e2eDave, camp.ID, carol.ID, DecisionInput{Decision: DecisionRevoke, Reason: "not on call"}); err != nil {
			t.Fatal(err)
		}
		it := e.waitRemediation(camp.ID, carol.ID, 30*time.Second, RemediationFailed)
		if it.State != ItemRevocationPending || !strings.Contains(it.Remediation.Error, "Throttling") || it.Remediation.Attempts < 1 {
			t.Fatalf("throttled: state %s remediation %+v; want revocation_pending with AWS's throttling error", it.State, it.Remediation)
		}
		if !slices.ContainsFunc(it.Events, func(ev ItemEvent) bool {
			return ev.Kind == "remediation_failed" && strings.Contains(ev.Detail, "Throttling")
		}) {
			t.Errorf("events %+v lack the failure", it.Events)
		}
		if !slices.Contains(e.access(), "iam member carol in "+e2eProd+"/oncall") {
			t.Fatal("carol left oncall while AWS refused")
		}
		// Still failing a while later: retried, never done.
		time.Sleep(2500 * time.Millisecond)
		it, _ = e.svc.Item(ctx, e2eAdmin, camp.ID, carol.ID)
		if it.Remediation.State == RemediationDone || it.Remediation.Attempts < 2 {
			t.Fatalf("after retries: %+v, want failed again (attempts >= 2)", it.Remediation)
		}
		e.sim.Do(func(w *awssim.World) { w.Accounts[e2eProd].Faults = nil })
		it = e.waitRemediation(camp.ID, carol.ID, 60*time.Second, RemediationDone)
		if it.Remediation.Error != "" || it.State != ItemRevocationPending {
			t.Errorf("done: %+v state %s", it.Remediation, it.State)
		}
		if slices.Contains(e.access(), "iam member carol in "+e2eProd+"/oncall") {
			t.Fatal("done, but carol is still in oncall")
		}
		s := e.sync()
		it, _ = e.svc.Item(ctx, e2eAdmin, camp.ID, carol.ID)
		if it.State != ItemRemediated || it.Remediation.VerifiedSync != s {
			t.Errorf("after %s: %s %+v", s, it.State, it.Remediation)
		}
	})
}
