// Package findings judges compliance controls over a connection's ingested inventory
// after every sync: the IAM controls of the CIS AWS Foundations Benchmark (v3.0.0/v4.0.0
// numbering, with v5.0.0's) as the benchmark's audit procedures describe them, and
// Gatehouse's own Identity Center and organization controls ("gh.*"). docs/findings.md
// says how each control is judged.
//
// A finding is pass, fail or unknown. It is never pass when the data it needs is missing
// or stale: an account the sync could not read, no credential report, a report older
// than the tolerance, a read that was denied or failed all make it unknown, and its
// reason says which. Every finding names its resource, its evidence (the report's row
// and generation time, the policy, the setting read) and the fix.
//
// Evaluate is pure: the inventory in, the findings out. Service.AfterIngest reads the
// inventory of the sync just ingested, evaluates it and stores the result with its
// history (store.ApplyFindings).
package findings

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// Defaults of Options.
const (
	DefaultReportTolerance     = 24 * time.Hour
	DefaultMaxSessionDuration  = 8 * time.Hour
	DefaultRootUseWindow       = 30 * 24 * time.Hour
	DefaultUnusedAfter         = 90 * 24 * time.Hour
	DefaultLastAccessTolerance = 30 * 24 * time.Hour
)

// The benchmark's own numbers, not settings.
const (
	unusedAfter  = 45 * 24 * time.Hour // 1.12: unused for 45 days or more
	rotateWithin = 90 * 24 * time.Hour // 1.14: rotated every 90 days or less
	minLength    = 14                  // 1.8
	reuseCount   = 24                  // 1.9
)

// Options are the thresholds that are settings rather than the benchmark's numbers.
type Options struct {
	// ReportTolerance: a credential report generated longer than this before the sync
	// read AWS makes the controls judged from it unknown (default 24h). IAM regenerates a
	// report at most every four hours, so a working sync's report is at most that old.
	ReportTolerance time.Duration
	// MaxSessionDuration: a permission set whose session duration is longer fails
	// gh.session_duration (default 8h; Identity Center allows up to 12h).
	MaxSessionDuration time.Duration
	// RootUseWindow: a root user used this recently before the sync fails 1.7 (default
	// 30 days).
	RootUseWindow time.Duration
	// UnusedAfter: a granted service not used for this long fails gh.unused_services
	// (default 90 days).
	UnusedAfter time.Duration
	// LastAccessTolerance: service last accessed details generated longer than this
	// before the sync make gh.unused_services unknown (default 30 days; the syncs read
	// them again every week by default, a budget at a time).
	LastAccessTolerance time.Duration
	// UnusedServices judges gh.unused_services; the server sets it when its syncs read
	// the service last accessed details (findings.unused_access_budget above 0). Off,
	// the control is not judged at all rather than unknown everywhere.
	UnusedServices bool
}

func (o Options) withDefaults() Options {
	if o.ReportTolerance <= 0 {
		o.ReportTolerance = DefaultReportTolerance
	}
	if o.MaxSessionDuration <= 0 {
		o.MaxSessionDuration = DefaultMaxSessionDuration
	}
	if o.RootUseWindow <= 0 {
		o.RootUseWindow = DefaultRootUseWindow
	}
	if o.UnusedAfter <= 0 {
		o.UnusedAfter = DefaultUnusedAfter
	}
	if o.LastAccessTolerance <= 0 {
		o.LastAccessTolerance = DefaultLastAccessTolerance
	}
	return o
}

// Input is what the findings of one sync are judged from.
type Input struct {
	ConnectionID string
	SyncID       string
	// At is when the sync read AWS: ages are measured to it.
	At time.Time
	// Inventory is the connection's current inventory after the sync's ingestion (its
	// resources with profiles, its sso_user grants and its accounts' read states).
	Inventory *store.ReviewInventory
	// Leases are the connection's active and ending just-in-time leases.
	Leases []store.Lease
	// LastAccess are the users' and roles' service last accessed details, by ARN, as
	// the syncs have read them so far.
	LastAccess map[string]store.LastAccess
}

// InventoryTypes and PrincipalTypes are what Evaluate needs of the inventory.
var (
	InventoryTypes = []string{"account", "iam_user", "iam_group", "iam_role", "iam_policy", "sso_user", "sso_group", "permission_set"}
	PrincipalTypes = []string{"sso_user"}
)

// Evaluate judges every control over the input and returns the findings sorted by
// account, control and resource.
func Evaluate(in Input, opts Options) []store.Finding {
	e := newEval(in, opts.withDefaults())
	for _, a := range e.accounts {
		e.rootControls(a)
		e.passwordPolicy(a)
		e.userControls(a)
		e.policyControls(a)
		if e.opts.UnusedServices {
			e.unusedServices(a)
		}
		e.accountSynced(a)
	}
	e.identityCenter()
	e.departedIAMUsers()
	out := e.out
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Account != b.Account {
			return a.Account < b.Account
		}
		if a.Control != b.Control {
			return controlOrder(a.Control) < controlOrder(b.Control)
		}
		return a.Resource < b.Resource
	})
	return out
}

func controlOrder(id string) int {
	for i, c := range Controls {
		if c.ID == id {
			return i
		}
	}
	return len(Controls)
}

// res is an inventory resource with its decoded profile.
type res struct {
	*store.Resource
	p map[string]any
}

// account is what every control of an account needs to know first.
type account struct {
	res
	id string
	// notRead, when not empty, is why the sync has no current data of the account: every
	// control of it is unknown with this reason.
	notRead string
	// inactive: the account is not ACTIVE (suspended, closing): it refuses every call and
	// nothing in it can be used, so only gh.account_synced is judged.
	inactive bool
	// reportProblem, when not empty, is why the credential report cannot be used, and
	// reportFix how to get one.
	reportProblem string
	reportFix     string
	reportAt      *time.Time
	users         []res
	roles         []res
	// attached are the managed policies attached to the account's users, groups and
	// roles (their attached_policies, kept with a stale account's IAM).
	attached       map[string]bool
	stale          bool
	staleReason    string
	staleFix       string
	lastReadAt     *time.Time
	lastReadSyncID string
}

type eval struct {
	in       Input
	opts     Options
	out      []store.Finding
	accounts []*account
	byID     map[string]*account
	// policies are the iam_policy resources by ARN; ssoUsers by id; sets the permission
	// sets by their id (ps-...); groups the sso_group names by id.
	policies map[string]res
	ssoUsers map[string]res
	ssoOrder []string
	sets     map[string]res
	groups   map[string]string
	hasSSO   bool
}

func decode(r *store.Resource) map[string]any {
	var p map[string]any
	if len(r.Profile) > 0 {
		_ = json.Unmarshal(r.Profile, &p)
	}
	if p == nil {
		p = map[string]any{}
	}
	return p
}

func newEval(in Input, opts Options) *eval {
	e := &eval{in: in, opts: opts, byID: map[string]*account{}, ssoUsers: map[string]res{}, sets: map[string]res{}, groups: map[string]string{},
		policies: map[string]res{}}
	inv := in.Inventory
	if inv == nil {
		inv = &store.ReviewInventory{}
	}
	for i := range inv.Resources {
		r := &inv.Resources[i]
		if r.Type == "account" {
			a := &account{res: res{r, decode(r)}, id: r.ID}
			e.accounts = append(e.accounts, a)
			e.byID[r.ID] = a
		}
	}
	sort.Slice(e.accounts, func(i, j int) bool { return e.accounts[i].id < e.accounts[j].id })
	for i := range inv.Resources {
		r := &inv.Resources[i]
		switch r.Type {
		case "iam_user", "iam_role", "iam_group":
			a := e.byID[r.AccountID]
			if a == nil {
				continue
			}
			x := res{r, decode(r)}
			switch r.Type {
			case "iam_user":
				a.users = append(a.users, x)
			case "iam_role":
				a.roles = append(a.roles, x)
			}
			if a.attached == nil {
				a.attached = map[string]bool{}
			}
			for _, arn := range strs(x.p, "attached_policies") {
				a.attached[arn] = true
			}
		case "iam_policy":
			e.policies[r.ID] = res{r, decode(r)}
		case "sso_user":
			e.hasSSO = true
			e.ssoUsers[r.ID] = res{r, decode(r)}
			e.ssoOrder = append(e.ssoOrder, r.ID)
		case "sso_group":
			e.groups[r.ID] = r.DisplayName
		case "permission_set":
			e.sets[r.ID[strings.LastIndex(r.ID, "/")+1:]] = res{r, decode(r)}
		}
	}
	sort.Strings(e.ssoOrder)
	for _, a := range e.accounts {
		e.judgeRead(a, inv.Reads)
	}
	return e
}

// judgeRead decides whether the sync read the account and whether its credential report
// can be used.
func (e *eval) judgeRead(a *account, reads map[string]store.AccountRead) {
	status := str(a.p, "status")
	if status != "" && status != "ACTIVE" {
		a.inactive = true
	}
	if r, ok := reads[a.id]; ok {
		a.lastReadAt, a.lastReadSyncID = r.LastReadAt, r.LastReadSync
		if r.Stale {
			a.stale, a.staleReason, a.staleFix = true, r.StaleReason, r.StaleFix
		}
	}
	synced, _ := a.p["synced"].(bool)
	switch {
	case a.stale:
		a.notRead = fmt.Sprintf("account %s could not be read by sync %s (%s)", a.id, e.in.SyncID, orText(a.staleReason, "no reason recorded"))
		if a.lastReadAt != nil {
			a.notRead += ": its IAM is as last read at " + fmtTime(*a.lastReadAt)
		} else {
			a.notRead += ": it has never been read"
		}
	case !synced:
		a.notRead = fmt.Sprintf("account %s was not synced by sync %s: %s", a.id, e.in.SyncID, orText(str(a.p, "skip_reason"), "no reason recorded"))
	case a.lastReadSyncID != "" && a.lastReadSyncID != e.in.SyncID:
		a.notRead = fmt.Sprintf("account %s was last read by sync %s, not by sync %s", a.id, a.lastReadSyncID, e.in.SyncID)
	}
	if a.notRead != "" {
		return
	}
	a.reportFix = fixReport
	if msg := str(a.p, "credential_report_error"); msg != "" {
		a.reportProblem = "no credential report for account " + a.id + ": " + msg
		return
	}
	at := timeOf(a.p, "credential_report_generated_at")
	if at == nil {
		a.reportProblem = "no credential report for account " + a.id + " (none was read)"
		return
	}
	a.reportAt = at
	if age := e.in.At.Sub(*at); age > e.opts.ReportTolerance {
		a.reportProblem = fmt.Sprintf("the credential report of account %s was generated at %s, %s before the sync read AWS; the tolerance is %s",
			a.id, fmtTime(*at), roundDuration(age), e.opts.ReportTolerance)
		a.reportFix = fixOldReport
	}
}

// add appends a finding of control c.
func (e *eval) add(c Control, account, resource, status, reason string, evidence map[string]any, fix string) {
	e.out = append(e.out, store.Finding{Control: c.ID, CISv5: c.CISv5, Title: c.Title, Account: account, Resource: resource,
		Status: status, Reason: reason, Evidence: evidence, Fix: fix})
}

func (e *eval) pass(c Control, account, resource, reason string, evidence map[string]any) {
	e.add(c, account, resource, store.FindingPass, reason, evidence, "")
}

// fail records a failing finding; its fix is the control's.
func (e *eval) fail(c Control, account, resource, reason string, evidence map[string]any) {
	e.add(c, account, resource, store.FindingFail, reason, evidence, c.Fix)
}

// unknown records a finding that cannot be judged; fix says how to get the data.
func (e *eval) unknown(c Control, account, resource, reason, fix string, evidence map[string]any) {
	e.add(c, account, resource, store.FindingUnknown, reason, evidence, fix)
}

// Profile helpers: profiles are JSON objects with RFC 3339 times.

func str(p map[string]any, k string) string { s, _ := p[k].(string); return s }

func boolOf(p map[string]any, k string) (bool, bool) { b, ok := p[k].(bool); return b, ok }

func num(p map[string]any, k string) (float64, bool) { n, ok := p[k].(float64); return n, ok }

func strs(p map[string]any, k string) []string {
	l, _ := p[k].([]any)
	out := make([]string, 0, len(l))
	for _, v := range l {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func objects(p map[string]any, k string) []map[string]any {
	l, _ := p[k].([]any)
	var out []map[string]any
	for _, v := range l {
		if o, ok := v.(map[string]any); ok {
			out = append(out, o)
		}
	}
	return out
}

func timeOf(p map[string]any, k string) *time.Time {
	s := str(p, k)
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil
	}
	t = t.UTC()
	return &t
}

func fmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// days is a duration in whole days, for people.
func days(d time.Duration) int { return int(d / (24 * time.Hour)) }

func roundDuration(d time.Duration) time.Duration {
	if d > time.Hour {
		return d.Round(time.Minute)
	}
	return d.Round(time.Second)
}

func orText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// pick copies the keys of p that are set into a new evidence map.
func pick(p map[string]any, keys ...string) map[string]any {
	out := map[string]any{}
	for _, k := range keys {
		if v, ok := p[k]; ok {
			out[k] = v
		}
	}
	return out
}
