package jit

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/appimport"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// Just-in-time access to an application imported from files: the owner grants and revokes
// by hand (tasks), and the application's imports show what is really there.

const appDoc = `rules:
  - name: accounts
    requesters: {everyone: true}
    approval_policy: admins
  - name: payroll
    match: {application: Payroll}
    requesters: {everyone: true}
    duration: {default: 1h, max: 8h}
    reason_required: true
    approval_policy: owner
policies:
  - name: admins
    steps:
      - approvers: {admins: true}
  - name: owner
    steps:
      - approvers: {owners: true}
`

const payrollHeader = "User ID,Email Address,Full Name,User Status,Resource Type,Resource Name,Entitlement\n"

// The application's file: olga (its owner) and bob, who views Payroll; with bobAdmin, bob is
// also admin of Payroll Admins; erin is admin there from the start (standing access).
func payrollCSV(bobAdmin bool) string {
	s := payrollHeader +
		"olga,owner@example.com,Olga Owner,enabled,role,Payroll Admins,admin\n" +
		"bob,bob@example.com,Bob,enabled,role,Payroll,viewer\n" +
		"erin,erin@example.com,Erin,enabled,role,Payroll Admins,admin\n"
	if bobAdmin {
		s += "bob,bob@example.com,Bob,enabled,role,Payroll Admins,admin\n"
	}
	return s
}

type appEnv struct {
	*env
	apps  *appimport.Service
	app   *store.App
	ent   string
	reads int
}

func newAppEnv(t *testing.T, st *store.Store) *appEnv {
	t.Helper()
	e := &appEnv{env: newEnv(t, st, appDoc)}
	apps, err := appimport.New(appimport.Config{Store: st, DataDir: t.TempDir(), Parse: appimport.ParseFiles, Now: e.clock.Now,
		AfterApply: e.svc.AfterImport})
	if err != nil {
		t.Fatal(err)
	}
	e.apps = apps
	all := 100 // the test removes one grant of three: never held
	if e.app, err = apps.CreateApplication(ctx, "admin@example.com", "", appimport.AppInput{Name: "Payroll", Owner: "owner@example.com", RemoveThreshold: &all}); err != nil {
		t.Fatal(err)
	}
	if _, err := apps.AttachImport(ctx, "admin@example.com", "", e.app.ID, appimport.ImportInput{DatasourceID: "ds_1", Files: []string{"payroll.csv"}}); err != nil {
		t.Fatal(err)
	}
	e.ent = appimport.EntitlementID(e.app.ID, "role", "Payroll Admins", "admin")
	e.importFile(t, payrollCSV(false))
	return e
}

// importFile imports a new version of the application's file (as a data source's read
// would) and returns the applied run's id.
func (e *appEnv) importFile(t *testing.T, body string) string {
	t.Helper()
	e.reads++
	if err := e.apps.OnObject(ctx, "ds_1", appimport.Object{Key: "payroll.csv", ETag: fmt.Sprint(e.reads), Size: int64(len(body)),
		ReadAt: e.clock.Now()}, strings.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	run, err := e.st.LatestAppRun(ctx, e.app.ID)
	if err != nil || run.State != store.RunApplied {
		t.Fatalf("import: %+v %v", run, err)
	}
	e.clock.Add(time.Second)
	return run.ID
}

func (e *appEnv) get(t *testing.T, id string) *Request {
	t.Helper()
	r, err := e.svc.Get(ctx, admin, id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (e *appEnv) lease(t *testing.T, id string) *store.Lease {
	t.Helper()
	l, err := e.st.LeaseOfRequest(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func (e *appEnv) audit(t *testing.T, target string) string {
	t.Helper()
	entries, err := e.st.ListAudit(ctx, store.AuditFilter{Target: target})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range entries {
		out = append(out, a.Action)
	}
	return strings.Join(out, ",")
}

var owner = caller("owner@example.com")

// The whole life: Bob requests Payroll admin, the owner approves; the grant is a task for the
// owner and the request waits (provisioning) until an import shows the grant; at the lease's
// end the revoke is a task, the request stays expiring while imports still show the access
// (overdue: alerted to the owner and the admins), and ends when an import no longer shows it.
func TestAppLeaseGrantAndRevokeByImports(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAppEnv(t, st)

		// The catalog shows the application's entitlements to those the rule allows.
		items, _, err := e.svc.Catalog(ctx, bob, CatalogQuery{Q: "payroll admins"})
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 1 || items[0].EntitlementID != e.ent || items[0].Application != e.app.ID || items[0].ResourceType != "app_resource" ||
			items[0].DisplayName != "admin on role Payroll Admins in Payroll" || items[0].Rule != "payroll" || items[0].Approvers != "the owner of Payroll" {
			t.Fatalf("catalog %+v", items)
		}
		entry, err := e.svc.Entry(ctx, bob, e.ent)
		if err != nil || !entry.Requestable || entry.Note != "" ||
			entry.Item.Why != "Rule 'payroll' applies because it matches every entitlement of application Payroll; it allows everyone signed in." {
			t.Fatalf("entry %+v %v", entry, err)
		}

		r, err := e.svc.Create(ctx, bob, CreateInput{EntitlementID: e.ent, Duration: time.Hour, Reason: "payroll run"})
		if err != nil {
			t.Fatal(err)
		}
		if r.State != StatePendingApproval || len(r.Steps) != 1 || !slices.Equal(r.Steps[0].Approvers, []string{"owner@example.com"}) ||
			r.Target.Kind != KindAppGrant || r.Target.PrincipalID != e.app.ID+":bob" || r.Target.Email != "bob@example.com" {
			t.Fatalf("request %+v %+v", r, r.Steps)
		}
		_, err = e.svc.Approve(ctx, carol, r.ID, "")
		wantCode(t, err, CodeNotFound, "no request "+r.ID)
		if r, err = e.svc.Approve(ctx, owner, r.ID, "ok"); err != nil {
			t.Fatal(err)
		}

		// The grant is a task for the owner; nothing is active.
		if r.State != StateProvisioning || r.Lease == nil || r.Lease.State != LeasePending || r.StartsAt != nil || r.Task == nil {
			t.Fatalf("approved: %s lease %+v task %+v", r.State, r.Lease, r.Task)
		}
		grantInstr := "Grant entitlement \"admin\" on role \"Payroll Admins\" in Payroll to Bob (user bob, bob@example.com), for bob@example.com's request " + r.ID +
			". Mark this task done when you have; the access counts from then, and the next import of Payroll that shows the grant confirms it."
		if k := r.Task; k.Kind != "grant" || k.State != "open" || k.Owner != "owner@example.com" || k.Instruction != grantInstr ||
			!k.DueAt.Equal(e.clock.Now().Add(DefaultGrantTaskDue)) || k.Overdue {
			t.Fatalf("grant task %+v", k)
		}
		ev := e.ev.last("app_task")
		if ev == nil || !slices.Equal(ev.To, []string{"owner@example.com"}) || ev.Reason != grantInstr || ev.RequestID != r.ID ||
			ev.URL != "https://gh.example.com/requests/"+r.ID {
			t.Fatalf("the owner was not told: %+v", ev)
		}
		// Only the owner (or an admin) marks it done; the requester cannot, others do not see it.
		_, err = e.svc.MarkTaskDone(ctx, bob, r.ID, "")
		wantCode(t, err, CodeForbidden, "only the owner of Payroll (or an admin) marks its tasks done")
		_, err = e.svc.MarkTaskDone(ctx, carol, r.ID, "")
		wantCode(t, err, CodeNotFound, "no request "+r.ID)
		if seen, err := e.svc.Get(ctx, owner, r.ID); err != nil || seen.Task == nil {
			t.Fatalf("the owner cannot see the request: %v", err)
		}

		// An import that does not show the grant changes nothing.
		e.clock.Add(10 * time.Minute)
		e.importFile(t, payrollCSV(false))
		if got := e.get(t, r.ID); got.State != StateProvisioning || got.Task.State != "open" {
			t.Fatalf("after an import without the grant: %s %+v", got.State, got.Task)
		}
		// An import that shows it: active, the lease counted from now.
		e.clock.Add(10 * time.Minute)
		granted := e.clock.Now()
		run := e.importFile(t, payrollCSV(true))
		r = e.get(t, r.ID)
		if r.State != StateActive || r.Lease.State != LeaseActive || r.StartsAt == nil || !r.StartsAt.Equal(granted) ||
			!r.EndsAt.Equal(granted.Add(time.Hour)) || r.Lease.Unverified {
			t.Fatalf("after the import with the grant: %s %+v", r.State, r.Lease)
		}
		if k := r.Task; k.State != "verified" || k.VerifiedRun != run || k.VerifiedAt == nil || !k.VerifiedAt.Equal(granted) {
			t.Fatalf("grant task %+v", k)
		}
		if ev := e.ev.last("granted"); ev == nil || ev.Reason != "granted in Payroll: import "+run+" shows it ("+e.ent+":app_user:"+e.app.ID+":bob)" {
			t.Fatalf("granted event %+v", ev)
		}

		// Not due yet: the job waits.
		l := e.lease(t, r.ID)
		if err := e.svc.work(ctx, l.ID, 0, 1); err == nil || !strings.Contains(err.Error(), "JobSnoozeError") {
			t.Fatalf("the job before the end: %v", err)
		}
		// At the end: a revoke task for the owner; the request is expiring.
		e.clock.Add(time.Hour)
		if err := e.svc.work(ctx, l.ID, 0, 1); err != nil {
			t.Fatal(err)
		}
		r = e.get(t, r.ID)
		revokeInstr := "Remove entitlement \"admin\" on role \"Payroll Admins\" in Payroll from Bob (user bob, bob@example.com): bob@example.com's lease ended (expired). " +
			"The access ends when an import of Payroll no longer shows the grant; mark this task done when you have removed it."
		if r.State != StateExpiring || r.Lease.State != LeaseEnding || r.Task.Kind != "revoke" || r.Task.State != "open" || r.Task.Instruction != revokeInstr ||
			len(r.Lease.Tasks) != 2 || !r.Task.DueAt.Equal(e.clock.Now().Add(DefaultRevokeTaskDue)) {
			t.Fatalf("at the end: %s lease %+v task %+v", r.State, r.Lease, r.Task)
		}
		if ev := e.ev.last("app_task"); ev == nil || ev.Reason != revokeInstr || !slices.Equal(ev.To, []string{"owner@example.com"}) {
			t.Fatalf("revoke task event %+v", ev)
		}
		// A second run of the job asks nothing twice.
		if err := e.svc.work(ctx, l.ID, 0, 1); err != nil {
			t.Fatal(err)
		}
		if n := len(e.get(t, r.ID).Lease.Tasks); n != 2 {
			t.Fatalf("%d tasks after the job ran again", n)
		}

		// Imports that still show the access: expiring; once the task is overdue, the owner
		// and the admins are alerted, once.
		e.importFile(t, payrollCSV(true))
		if got := e.get(t, r.ID); got.State != StateExpiring || e.ev.last("app_task_overdue") != nil {
			t.Fatalf("still shown, not overdue: %s", got.State)
		}
		e.clock.Add(DefaultRevokeTaskDue)
		e.importFile(t, payrollCSV(true))
		got := e.get(t, r.ID)
		if got.State != StateExpiring || got.Lease.State != LeaseEnding || !got.Task.Overdue {
			t.Fatalf("overdue: %s %+v", got.State, got.Task)
		}
		over := e.ev.last("app_task_overdue")
		if over == nil || !slices.Equal(over.To, []string{"owner@example.com", "admin@example.com"}) ||
			!strings.Contains(over.Reason, "bob@example.com still has access in Payroll after the lease ended; Gatehouse cannot remove it, the owner must") {
			t.Fatalf("overdue alert %+v", over)
		}
		e.importFile(t, payrollCSV(true))
		if n := strings.Count(strings.Join(e.ev.kinds(), ","), "app_task_overdue"); n != 1 {
			t.Fatalf("alerted %d times", n)
		}
		// The owner says it is done: only the task changes; the lease waits for an import.
		if got, err = e.svc.MarkTaskDone(ctx, owner, r.ID, "removed"); err != nil {
			t.Fatal(err)
		}
		if got.State != StateExpiring || got.Task.State != "done" || got.Task.DoneBy != "owner@example.com" || got.Lease.State != LeaseEnding {
			t.Fatalf("revoke marked done: %s %+v", got.State, got.Task)
		}
		_, err = e.svc.MarkTaskDone(ctx, owner, r.ID, "")
		wantCode(t, err, CodeConflict, "has no open task (its tasks: grant verified, revoke done)")

		// An import without the grant ends it.
		run = e.importFile(t, payrollCSV(false))
		r = e.get(t, r.ID)
		if r.State != StateExpired || r.Lease.State != LeaseEnded || r.Lease.EndReason != EndExpired || r.Task.State != "verified" || r.Task.VerifiedRun != run {
			t.Fatalf("after the import without the grant: %s %+v %+v", r.State, r.Lease, r.Task)
		}
		if l := e.lease(t, r.ID); l.EndNote != "removed in Payroll: import "+run+" no longer shows the grant" {
			t.Errorf("end note %q", l.EndNote)
		}
		want := ">pending_approval by bob@example.com; pending_approval>approved by owner@example.com; approved>provisioning by gatehouse; " +
			"provisioning>provisioning by gatehouse; provisioning>active by gatehouse; active>expiring by gatehouse; expiring>expiring by gatehouse; " +
			"expiring>expiring by owner@example.com; expiring>expired by gatehouse"
		if got := history(r); got != want {
			t.Errorf("transitions\n%s\nwant\n%s", got, want)
		}
		if got := e.audit(t, "lease:"+l.ID); got != "lease.create,lease.task,lease.task_verified,lease.grant,lease.task,lease.task_overdue,lease.task_done,lease.task_verified,lease.end" {
			t.Errorf("audit %s", got)
		}
		if got := strings.Join(e.ev.kinds(), ","); got != "requested,approval_needed,approved,app_task,granted,app_task,app_task_overdue,expired" {
			t.Errorf("events %s", got)
		}

		// The access comes back in a later import with no lease holding it: drift, alerted once
		// to the owner and the admins.
		run = e.importFile(t, payrollCSV(true))
		dl := e.lease(t, r.ID)
		wantDrift := "import " + run + " of Payroll shows the access again (" + e.ent + ":app_user:" + e.app.ID + ":bob) after the lease ended; no lease holds it: remove it in Payroll, or request it"
		if dl.Drift != wantDrift {
			t.Errorf("drift %q\nwant %q", dl.Drift, wantDrift)
		}
		if ev := e.ev.last("drift"); ev == nil || ev.Reason != wantDrift || !slices.Equal(ev.To, []string{"owner@example.com", "admin@example.com"}) {
			t.Errorf("drift event %+v", ev)
		}
		e.importFile(t, payrollCSV(true))
		if n := strings.Count(strings.Join(e.ev.kinds(), ","), "drift"); n != 1 {
			t.Errorf("drift alerted %d times", n)
		}
	})
}

// The owner marks the grant done before any import shows it: active at once, unverified until
// an import shows it. A person with no user in the application may request (the owner creates
// the user); releasing early is a revoke task. Access an import shows before any lease
// (standing) is active at once and never removed.
func TestAppLeaseMarkedDoneReleasedAndStanding(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAppEnv(t, st)

		// Frank has no Payroll user: he may request, and the entry says the owner creates one.
		entry, err := e.svc.Entry(ctx, frank, e.ent)
		if err != nil || !entry.Requestable ||
			entry.Note != "Payroll has no user with your email frank@example.com yet: its owner creates one when granting the access, so the grant may take longer." {
			t.Fatalf("frank's entry %+v %v", entry, err)
		}
		r, err := e.svc.Create(ctx, frank, CreateInput{EntitlementID: e.ent, Duration: 2 * time.Hour, Reason: "audit"})
		if err != nil {
			t.Fatal(err)
		}
		if r, err = e.svc.Approve(ctx, owner, r.ID, ""); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(r.Task.Instruction, "Grant entitlement \"admin\" on role \"Payroll Admins\" in Payroll to frank@example.com (who has no user in Payroll yet: create one with this email)") {
			t.Fatalf("instruction %q", r.Task.Instruction)
		}
		e.clock.Add(5 * time.Minute)
		done := e.clock.Now()
		if r, err = e.svc.MarkTaskDone(ctx, admin, r.ID, "created frank"); err != nil {
			t.Fatal(err)
		}
		if r.State != StateActive || !r.StartsAt.Equal(done) || !r.EndsAt.Equal(done.Add(2*time.Hour)) || !r.Lease.Unverified || r.Task.State != "done" {
			t.Fatalf("marked done: %s %+v %+v", r.State, r.Lease, r.Task)
		}
		// The import with frank's new user and grant verifies it; the lease keeps its start.
		run := e.importFile(t, payrollCSV(false)+"frank,frank@example.com,Frank,enabled,role,Payroll Admins,admin\n")
		r = e.get(t, r.ID)
		if r.Lease.Unverified || r.Task.State != "verified" || r.Task.VerifiedRun != run || !r.StartsAt.Equal(done) {
			t.Fatalf("verified: %+v %+v", r.Lease, r.Task)
		}
		// Frank releases it: a revoke task at once.
		if r, err = e.svc.Release(ctx, frank, r.ID, "done"); err != nil {
			t.Fatal(err)
		}
		if r.State != StateExpiring || r.Task.Kind != "revoke" || r.Task.State != "open" {
			t.Fatalf("released: %s %+v", r.State, r.Task)
		}
		e.importFile(t, payrollCSV(false))
		if r = e.get(t, r.ID); r.State != StateRevoked || r.Lease.EndReason != EndReleased {
			t.Fatalf("after the import: %s %+v", r.State, r.Lease)
		}

		// Erin holds the access before any lease: active at once, no task; at the end the
		// access stays and no revoke task is made.
		re, err := e.svc.Create(ctx, erin, CreateInput{EntitlementID: e.ent, Duration: time.Hour, Reason: "x"})
		if err != nil {
			t.Fatal(err)
		}
		if re, err = e.svc.Approve(ctx, owner, re.ID, ""); err != nil {
			t.Fatal(err)
		}
		if re.State != StateActive || re.Task != nil || re.Lease.State != LeaseActive {
			t.Fatalf("standing: %s %+v %+v", re.State, re.Lease, re.Task)
		}
		e.clock.Add(time.Hour)
		if err := e.svc.work(ctx, e.lease(t, re.ID).ID, 0, 1); err != nil {
			t.Fatal(err)
		}
		re = e.get(t, re.ID)
		if re.State != StateExpired || re.Task != nil {
			t.Fatalf("standing at its end: %s %+v", re.State, re.Task)
		}
		if l := e.lease(t, re.ID); l.State != store.LeaseEnded || !l.Standing ||
			l.EndNote != "kept in Payroll: the access existed before the lease (standing access, as the import showed)" {
			t.Errorf("standing lease %+v", l)
		}

		// A lease waiting for its owner needs no job: the sweeper leaves it alone.
		rb, err := e.svc.Create(ctx, bob, CreateInput{EntitlementID: e.ent, Duration: time.Hour, Reason: "x"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Approve(ctx, owner, rb.ID, ""); err != nil {
			t.Fatal(err)
		}
		list, err := st.LeasesNeedingJobs(context.Background(), e.clock.Now(), e.clock.Now(), 10)
		if err != nil || len(list) != 0 {
			t.Fatalf("leases needing jobs: %+v %v", list, err)
		}
	})
}

// Overlap: a new lease of access whose earlier lease waits for its removal takes it over (the
// removal is cancelled, the owner told); once the owner marked the removal done, a new lease
// asks for the grant again instead, and the imports settle both.
func TestAppLeaseTakesOverAccessBeingRemoved(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAppEnv(t, st)
		grantAndEnd := func() *Request {
			t.Helper()
			r, err := e.svc.Create(ctx, bob, CreateInput{EntitlementID: e.ent, Duration: time.Hour, Reason: "x"})
			if err != nil {
				t.Fatal(err)
			}
			if r, err = e.svc.Approve(ctx, owner, r.ID, ""); err != nil {
				t.Fatal(err)
			}
			if r.State == StateProvisioning {
				e.importFile(t, payrollCSV(true))
			}
			e.clock.Add(time.Hour)
			if err := e.svc.work(ctx, e.lease(t, r.ID).ID, 0, 1); err != nil {
				t.Fatal(err)
			}
			r = e.get(t, r.ID)
			if r.State != StateExpiring || r.Task.Kind != "revoke" {
				t.Fatalf("at its end: %s %+v", r.State, r.Task)
			}
			return r
		}
		a := grantAndEnd()
		// B while A waits for its removal: the import still shows the access, B takes it over.
		b, err := e.svc.Create(ctx, bob, CreateInput{EntitlementID: e.ent, Duration: time.Hour, Reason: "again"})
		if err != nil {
			t.Fatal(err)
		}
		if b, err = e.svc.Approve(ctx, owner, b.ID, ""); err != nil {
			t.Fatal(err)
		}
		if b.State != StateActive || b.Task != nil {
			t.Fatalf("b: %s %+v", b.State, b.Task)
		}
		a = e.get(t, a.ID)
		bl := e.lease(t, b.ID)
		if a.State != StateExpired || a.Task.State != "cancelled" || a.Lease.State != LeaseEnded {
			t.Fatalf("a: %s %+v %+v", a.State, a.Lease, a.Task)
		}
		if l := e.lease(t, a.ID); l.EndNote != "kept in Payroll: still needed by "+bl.ID+" (a new request of the same access)" {
			t.Errorf("a's end note %q", l.EndNote)
		}
		if ev := e.ev.last("app_task_cancelled"); ev == nil || ev.RequestID != a.ID || !slices.Equal(ev.To, []string{"owner@example.com"}) {
			t.Errorf("the owner was not told: %+v", ev)
		}
		// B ends; the owner marks its removal done; C then asks for the grant again.
		e.clock.Add(time.Hour)
		if err := e.svc.work(ctx, bl.ID, 0, 1); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.MarkTaskDone(ctx, owner, b.ID, "removed"); err != nil {
			t.Fatal(err)
		}
		c, err := e.svc.Create(ctx, bob, CreateInput{EntitlementID: e.ent, Duration: time.Hour, Reason: "third"})
		if err != nil {
			t.Fatal(err)
		}
		if c, err = e.svc.Approve(ctx, owner, c.ID, ""); err != nil {
			t.Fatal(err)
		}
		if c.State != StateProvisioning || c.Task == nil || c.Task.Kind != "grant" {
			t.Fatalf("c: %s %+v", c.State, c.Task)
		}
		e.importFile(t, payrollCSV(false))
		if b = e.get(t, b.ID); b.State != StateExpired || b.Task.State != "verified" {
			t.Fatalf("b after the import without the grant: %s %+v", b.State, b.Task)
		}
		if c = e.get(t, c.ID); c.State != StateProvisioning {
			t.Fatalf("c: %s", c.State)
		}
		e.importFile(t, payrollCSV(true))
		if c = e.get(t, c.ID); c.State != StateActive || c.Task.State != "verified" {
			t.Fatalf("c after the import with the grant: %s %+v", c.State, c.Task)
		}
	})
}
