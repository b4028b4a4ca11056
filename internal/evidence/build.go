package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/jit"
	"github.com/gatehouse/gatehouse/internal/review"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The files of a pack.
const (
	FileSummaryHTML      = "summary.html"
	FileSummaryJSON      = "summary.json"
	FileStartResources   = "inventory/start_resources.csv"
	FileStartGrants      = "inventory/start_grants.csv"
	FileEndResources     = "inventory/end_resources.csv"
	FileEndGrants        = "inventory/end_grants.csv"
	FileSyncs            = "changes/syncs.csv"
	FileGrantChanges     = "changes/grant_changes.csv"
	FileResourceChanges  = "changes/resource_changes.csv"
	FileFindings         = "findings/findings.csv"
	FileFindingEvents    = "findings/finding_events.csv"
	FileRequests         = "jit/requests.json"
	FileApprovals        = "jit/approvals.csv"
	FileLeases           = "jit/leases.csv"
	FileCampaigns        = "reviews/campaigns.json"
	FileDecisions        = "reviews/decisions.csv"
	FileAuditLog         = "audit/audit_log.jsonl"
	FileAuditChain       = "audit/chain_check.json"
	requestBatch         = 500
	reviewItemPage       = 1000
	changePage           = 1000
	timeFormatPrecise    = "2006-01-02T15:04:05.000Z07:00"
	defaultGeneratedByID = "gatehouse"
)

// Options are the parts of a build that are not the request.
type Options struct {
	// ID names the pack (manifest and summary).
	ID string
	// By is who asked for the pack (an email, "cli:user@host", or "gatehouse (schedule)").
	By string
	// Now is the build's time (time.Now when nil).
	Now func() time.Time
}

// Summary is summary.json: what the pack holds, its chain check and the control mapping.
type Summary struct {
	PackID      string          `json:"pack_id"`
	GeneratedAt string          `json:"generated_at"`
	GeneratedBy string          `json:"generated_by"`
	From        string          `json:"from"`
	To          string          `json:"to"`
	Scope       Scope           `json:"scope"`
	Resolved    ResolvedSummary `json:"resolved"`
	Counts      Counts          `json:"counts"`
	Chain       ChainSummary    `json:"audit_chain"`
	// Findings says whether findings are in the pack, or why not.
	Findings string    `json:"findings"`
	Controls []Control `json:"controls"`
}

// ResolvedSummary is the scope as the pack read it.
type ResolvedSummary struct {
	// Connections are the connections and applications read (empty with AllConnections).
	Connections []string `json:"connections"`
	// AllConnections says every connection and imported application is in scope.
	AllConnections bool `json:"all_connections"`
	// Accounts are the accounts read, with OUs resolved to their subtrees (empty: every
	// account).
	Accounts []string `json:"accounts"`
	// AllAccounts says every account is in scope (and what concerns no account).
	AllAccounts bool `json:"all_accounts"`
}

// Counts are the pack's rows per part.
type Counts struct {
	StartResources   int `json:"start_resources"`
	StartGrants      int `json:"start_grants"`
	EndResources     int `json:"end_resources"`
	EndGrants        int `json:"end_grants"`
	Syncs            int `json:"syncs"`
	GrantsAdded      int `json:"grants_added"`
	GrantsRemoved    int `json:"grants_removed"`
	ResourcesAdded   int `json:"resources_added"`
	ResourcesRemoved int `json:"resources_removed"`
	Findings         int `json:"findings"`
	FindingsFailing  int `json:"findings_failing"`
	FindingsUnknown  int `json:"findings_unknown"`
	FindingEvents    int `json:"finding_events"`
	Requests         int `json:"requests"`
	Approvals        int `json:"approvals"`
	Leases           int `json:"leases"`
	LeasesRevoked    int `json:"leases_revoked"`
	Campaigns        int `json:"campaigns"`
	ReviewItems      int `json:"review_items"`
	Decided          int `json:"decided"`
	RevokeDecisions  int `json:"revoke_decisions"`
	RevokesVerified  int `json:"revokes_verified"`
	AuditEntries     int `json:"audit_entries"`
}

// ChainSummary is the audit log's check as the summary states it.
type ChainSummary struct {
	OK        bool   `json:"ok"`
	Statement string `json:"statement"`
}

// Built is a finished pack.
type Built struct {
	Path    string
	SHA256  string
	Size    int64
	Summary *Summary
}

// BuildFile builds the pack into path: a private temporary file (0600) next to it,
// renamed into place only when complete, so that a failed build leaves no partial pack.
func BuildFile(ctx context.Context, st *store.Store, req Request, res *Resolved, opts Options, path string) (*Built, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("evidence pack directory %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, fmt.Errorf("cannot write the pack in %s: %w", dir, err)
	}
	defer os.Remove(tmp.Name()) // gone after the rename; removes a failed build's file
	h := sha256.New()
	var n int64
	err = tmp.Chmod(0o600)
	var sum *Summary
	if err == nil {
		sum, err = Build(ctx, st, req, res, opts, hashCounter{w: tmp, h: h, n: &n})
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return nil, err
	}
	return &Built{Path: path, SHA256: hex.EncodeToString(h.Sum(nil)), Size: n, Summary: sum}, nil
}

// Build writes the pack of req (resolved as res) to w as a ZIP and returns its summary.
func Build(ctx context.Context, st *store.Store, req Request, res *Resolved, opts Options, w io.Writer) (*Summary, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	at := now().UTC().Truncate(time.Millisecond)
	if opts.By == "" {
		opts.By = defaultGeneratedByID
	}
	sum := &Summary{PackID: opts.ID, GeneratedAt: tsv(at), GeneratedBy: opts.By, From: tsv(req.From), To: tsv(req.To),
		Scope: req.Scope()}
	sum.Resolved = ResolvedSummary{Connections: res.Connections, Accounts: res.Accounts, AllAccounts: res.Accounts == nil,
		AllConnections: res.Connections == nil}
	if sum.Resolved.Connections == nil {
		sum.Resolved.Connections = []string{}
	}
	if sum.Resolved.Accounts == nil {
		sum.Resolved.Accounts = []string{}
	}
	b := &builder{st: st, req: req, res: res, pw: newPackWriter(w, at), sum: sum}
	steps := []func(context.Context) error{
		b.inventory, b.changes, b.findings, b.requests, b.reviews, b.audit,
	}
	for _, step := range steps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	sum.Controls = controls(b.pw.files, sum)
	if err := b.pw.file(FileSummaryJSON, func(e *entry) error { return writeJSON(e, sum) }); err != nil {
		return nil, err
	}
	if err := b.pw.file(FileSummaryHTML, func(e *entry) error { return renderSummary(e, sum, b.pw.files) }); err != nil {
		return nil, err
	}
	if err := b.pw.finish(Manifest{PackID: opts.ID, GeneratedAt: sum.GeneratedAt, GeneratedBy: opts.By, From: sum.From, To: sum.To}); err != nil {
		return nil, fmt.Errorf("write the manifest: %w", err)
	}
	return sum, nil
}

type builder struct {
	st  *store.Store
	req Request
	res *Resolved
	pw  *packWriter
	sum *Summary
}

var resourceHeader = []string{"connection_id", "type", "id", "display_name", "account_id", "account_name", "scope",
	"parent_type", "parent_id", "email", "first_sync", "first_seen", "stale", "profile"}

var grantHeader = []string{"connection_id", "grant_id", "entitlement_id", "entitlement_name", "resource_type", "resource_id",
	"principal_type", "principal_id", "principal_name", "principal_email", "account_id", "account_name", "direct", "via",
	"via_names", "first_sync", "first_seen", "stale"}

// inventory writes the resources and grants as of the period's start and end.
func (b *builder) inventory(ctx context.Context) error {
	for _, part := range []struct {
		at              time.Time
		resFile, grFile string
		resCount, grCnt *int
	}{
		{b.req.From, FileStartResources, FileStartGrants, &b.sum.Counts.StartResources, &b.sum.Counts.StartGrants},
		{b.req.To, FileEndResources, FileEndGrants, &b.sum.Counts.EndResources, &b.sum.Counts.EndGrants},
	} {
		err := b.pw.file(part.resFile, func(e *entry) error {
			c, err := newCSV(e, resourceHeader...)
			if err != nil {
				return err
			}
			err = b.st.EachResourceAt(ctx, part.at, b.res.storeScope(), func(r *store.Resource) error {
				profile := string(r.Profile)
				if profile == "" {
					profile = "{}"
				}
				return c.row(r.ConnectionID, r.Type, r.ID, r.DisplayName, r.AccountID, r.AccountName, r.Scope, r.ParentType,
					r.ParentID, r.Email, r.FirstSync, tsv(r.FirstSeen), boolText(r.Stale), profile)
			})
			if err != nil {
				return err
			}
			*part.resCount = e.rows
			return c.flush()
		})
		if err != nil {
			return err
		}
		err = b.pw.file(part.grFile, func(e *entry) error {
			c, err := newCSV(e, grantHeader...)
			if err != nil {
				return err
			}
			err = b.st.EachGrantAt(ctx, part.at, b.res.storeScope(), func(g *store.Grant) error {
				return c.row(g.ConnectionID, g.ID, g.EntitlementID, g.EntitlementName, g.ResourceType, g.ResourceID, g.PrincipalType,
					g.PrincipalID, g.PrincipalName, g.PrincipalEmail, g.AccountID, g.AccountName, boolText(g.Direct),
					strings.Join(g.Via, "; "), strings.Join(g.ViaNames, "; "), g.FirstSync, tsv(g.FirstSeen), boolText(g.Stale))
			})
			if err != nil {
				return err
			}
			*part.grCnt = e.rows
			return c.flush()
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// changes writes the syncs of the period and what each changed: grants and resources
// added and removed in (from, to] (the inventory as of from already has what changed at
// from, docs/history.md).
func (b *builder) changes(ctx context.Context) error {
	err := b.pw.file(FileSyncs, func(e *entry) error {
		ins, err := b.st.IngestsBetween(ctx, b.req.From, b.req.To, b.res.Connections)
		if err != nil {
			return err
		}
		c, err := newCSV(e, "connection_id", "sync_id", "at", "role", "grants_added", "grants_removed", "resources_added",
			"resources_removed", "stale_accounts")
		if err != nil {
			return err
		}
		for _, in := range ins {
			role := "in_period"
			if !in.At.After(b.req.From) {
				role = "start" // the sync the inventory as of from is
			}
			if err := c.row(in.ConnectionID, in.SyncID, tsv(in.At), role, strconv.Itoa(in.GrantsAdded), strconv.Itoa(in.GrantsRemoved),
				strconv.Itoa(in.ResourcesAdded), strconv.Itoa(in.ResourcesRemoved), strings.Join(in.StaleAccounts, "; ")); err != nil {
				return err
			}
			if role == "in_period" {
				b.sum.Counts.Syncs++
			}
		}
		return c.flush()
	})
	if err != nil {
		return err
	}
	err = b.pw.file(FileGrantChanges, func(e *entry) error {
		c, err := newCSV(e, "at", "sync_id", "connection_id", "kind", "initial", "grant_id", "entitlement_id", "entitlement_name",
			"principal_type", "principal_id", "principal_name", "person", "account_id", "account_name", "direct", "via")
		if err != nil {
			return err
		}
		f := store.ChangeFilter{From: b.req.From, To: b.req.To}
		if len(b.res.Accounts) == 1 {
			f.AccountID = b.res.Accounts[0]
		}
		if b.res.Accounts != nil && len(b.res.Accounts) == 0 {
			return c.flush() // no account in scope
		}
		for token := ""; ; {
			page, next, err := b.st.Changes(ctx, f, store.Page{Size: changePage, Token: token})
			if err != nil {
				return err
			}
			for _, ch := range page {
				if !b.res.hasConnection(ch.ConnectionID) || !b.res.hasAccount(ch.AccountID) {
					continue
				}
				if ch.Kind == store.ChangeAdded {
					b.sum.Counts.GrantsAdded++
				} else {
					b.sum.Counts.GrantsRemoved++
				}
				if err := c.row(tsv(ch.At), ch.SyncID, ch.ConnectionID, ch.Kind, boolText(ch.Initial), ch.GrantID, ch.EntitlementID,
					ch.EntitlementName, ch.PrincipalType, ch.PrincipalID, ch.PrincipalName, ch.Person, ch.AccountID, ch.AccountName,
					boolText(ch.Direct), strings.Join(ch.Via, "; ")); err != nil {
					return err
				}
			}
			if next == "" {
				break
			}
			token = next
		}
		return c.flush()
	})
	if err != nil {
		return err
	}
	return b.pw.file(FileResourceChanges, func(e *entry) error {
		c, err := newCSV(e, "at", "sync_id", "connection_id", "kind", "type", "id", "display_name", "account_id", "email")
		if err != nil {
			return err
		}
		err = b.st.EachResourceChange(ctx, b.req.From, b.req.To, b.res.storeScope(), func(ch *store.ResourceChange) error {
			if ch.Kind == store.ChangeAdded {
				b.sum.Counts.ResourcesAdded++
			} else {
				b.sum.Counts.ResourcesRemoved++
			}
			return c.row(tsv(ch.At), ch.SyncID, ch.ConnectionID, ch.Kind, ch.Type, ch.ID, ch.DisplayName, ch.AccountID, ch.Email)
		})
		if err != nil {
			return err
		}
		return c.flush()
	})
}

var findingHeader = []string{"finding_id", "connection_id", "control", "cis_v5", "title", "account", "resource",
	"status_at_end", "since_at_end", "status_now", "reason_now", "evidence_now", "fix", "evaluated_now_at", "sync_now"}

// findings writes the findings as they stood at the period's end and every change of
// their status in the period. A finding's status at the end is the last change at or
// before it (findings keep one event per change, docs/findings.md); its reason, evidence
// and fix are the latest judgement's (the store keeps no older ones), so they are written
// as "now" next to the status at the end.
func (b *builder) findings(ctx context.Context) error {
	b.sum.Findings = "included"
	var accounts []string
	if b.res.Accounts != nil {
		if len(b.res.Accounts) == 0 {
			accounts = []string{"-"} // no account in scope
		} else {
			accounts = b.res.Accounts
		}
	}
	events, err := b.st.FindingEvents(ctx, store.FindingEventFilter{To: b.req.To, Accounts: accounts})
	if err != nil {
		return err
	}
	current, err := b.st.ListFindings(ctx, store.FindingFilter{Accounts: accounts})
	if err != nil {
		return err
	}
	now := map[string]*store.Finding{}
	for i := range current {
		now[current[i].ID] = &current[i]
	}
	// The status at the end: the last event at or before it of each finding.
	type atEnd struct {
		ev    store.FindingEvent
		since time.Time
	}
	last := map[string]*atEnd{}
	var inPeriod []store.FindingEvent
	for _, e := range events {
		if !b.res.hasConnection(e.ConnectionID) || !b.res.hasAccount(e.Account) {
			continue
		}
		last[e.FindingID] = &atEnd{ev: e, since: e.At}
		if e.At.After(b.req.From) { // (from, to], as the inventory's changes
			inPeriod = append(inPeriod, e)
		}
	}
	var ids []string
	for id, l := range last {
		if l.ev.To != "" { // "" is a finding closed with its resource
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool {
		a, c := last[ids[i]].ev, last[ids[j]].ev
		for _, k := range [][2]string{{a.Account, c.Account}, {a.Control, c.Control}, {a.Resource, c.Resource}} {
			if k[0] != k[1] {
				return k[0] < k[1]
			}
		}
		return ids[i] < ids[j]
	})
	err = b.pw.file(FileFindings, func(e *entry) error {
		c, err := newCSV(e, findingHeader...)
		if err != nil {
			return err
		}
		for _, id := range ids {
			l := last[id]
			row := []string{id, l.ev.ConnectionID, l.ev.Control, "", "", l.ev.Account, l.ev.Resource, l.ev.To, tsv(l.since),
				"gone", "", "", "", "", ""}
			if f := now[id]; f != nil {
				ev := "{}"
				if len(f.Evidence) > 0 {
					bs, _ := json.Marshal(f.Evidence)
					ev = string(bs)
				}
				row[3], row[4], row[9], row[10], row[11], row[12], row[13], row[14] = f.CISv5, f.Title, f.Status, f.Reason, ev, f.Fix,
					tsv(f.EvaluatedAt), f.SyncID
			}
			switch l.ev.To {
			case store.FindingFail:
				b.sum.Counts.FindingsFailing++
			case store.FindingUnknown:
				b.sum.Counts.FindingsUnknown++
			}
			if err := c.row(row...); err != nil {
				return err
			}
		}
		b.sum.Counts.Findings = e.rows
		return c.flush()
	})
	if err != nil {
		return err
	}
	return b.pw.file(FileFindingEvents, func(e *entry) error {
		c, err := newCSV(e, "at", "sync_id", "connection_id", "control", "account", "resource", "finding_id", "from", "to")
		if err != nil {
			return err
		}
		for _, ev := range inPeriod {
			from, to := ev.From, ev.To
			if from == "" {
				from = "(opened)"
			}
			if to == "" {
				to = "(closed: resource gone)"
			}
			if err := c.row(tsv(ev.At), ev.SyncID, ev.ConnectionID, ev.Control, ev.Account, ev.Resource, ev.FindingID, from, to); err != nil {
				return err
			}
		}
		b.sum.Counts.FindingEvents = e.rows
		return c.flush()
	})
}

// RequestRecord is one just-in-time request in jit/requests.json.
type RequestRecord struct {
	ID            string           `json:"id"`
	State         string           `json:"state"`
	Requester     string           `json:"requester"`
	ConnectionID  string           `json:"connection_id"`
	EntitlementID string           `json:"entitlement_id"`
	Target        jit.Target       `json:"target"`
	Reason        string           `json:"reason"`
	Duration      string           `json:"duration"`
	Rule          string           `json:"rule"`
	Policy        string           `json:"approval_policy"`
	BreakGlass    bool             `json:"break_glass"`
	ReviewedBy    string           `json:"reviewed_by,omitempty"`
	ReviewedAt    string           `json:"reviewed_at,omitempty"`
	CreatedAt     string           `json:"created_at"`
	ApprovalChain []jit.StepStatus `json:"approval_chain"`
	Transitions   []TransitionRow  `json:"transitions"`
	Lease         *LeaseRecord     `json:"lease"`
}

// TransitionRow is one state change of a request.
type TransitionRow struct {
	From   string `json:"from"`
	To     string `json:"to"`
	By     string `json:"by"`
	At     string `json:"at"`
	Reason string `json:"reason"`
}

// LeaseRecord is a request's lease: when the access was granted, when the lease ended
// (its time ran out, or it was released or revoked early), when AWS confirmed the access
// removed, and how long after the end that was.
type LeaseRecord struct {
	ID       string `json:"id"`
	State    string `json:"state"`
	Standing bool   `json:"standing"`
	// GrantedAt is when AWS confirmed the grant; EndsAt the lease's scheduled end.
	GrantedAt string `json:"granted_at"`
	EndsAt    string `json:"ends_at"`
	// EndedAt is when the lease ended: Gatehouse started taking the access away.
	EndedAt   string `json:"ended_at"`
	EndReason string `json:"end_reason"`
	EndedBy   string `json:"ended_by"`
	// RevokedAt is when AWS confirmed the access removed; RevokeSeconds how long after
	// EndedAt (empty while the revoke is under way, or when nothing was to remove).
	RevokedAt     string   `json:"revoked_at"`
	RevokeSeconds *float64 `json:"revoke_seconds"`
	EndNote       string   `json:"end_note"`
}

// requests writes every request of the period with its approval chain and lease.
func (b *builder) requests(ctx context.Context) error {
	all, err := b.st.AccessRequestsInPeriod(ctx, b.req.From, b.req.To)
	if err != nil {
		return err
	}
	var reqs []store.AccessRequest
	for _, r := range all {
		var t jit.Target
		_ = json.Unmarshal(r.Target, &t)
		if b.res.hasConnection(r.ConnectionID) && b.res.hasAccount(targetAccount(t)) {
			reqs = append(reqs, r)
		}
	}
	var records []RequestRecord
	for start := 0; start < len(reqs); start += requestBatch {
		part := reqs[start:min(start+requestBatch, len(reqs))]
		ids := make([]string, len(part))
		for i, r := range part {
			ids[i] = r.ID
		}
		trs, err := b.st.RequestTransitions(ctx, ids...)
		if err != nil {
			return err
		}
		leases, err := b.st.LeasesOfRequests(ctx, ids...)
		if err != nil {
			return err
		}
		for _, r := range part {
			records = append(records, requestRecord(r, trs[r.ID], leases[r.ID]))
		}
	}
	b.sum.Counts.Requests = len(records)
	err = b.pw.file(FileRequests, func(e *entry) error {
		l, err := newJSONList(e, map[string]any{"from": b.sum.From, "to": b.sum.To}, "requests")
		if err != nil {
			return err
		}
		for i := range records {
			if err := l.add(&records[i]); err != nil {
				return err
			}
		}
		return l.end()
	})
	if err != nil {
		return err
	}
	err = b.pw.file(FileApprovals, func(e *entry) error {
		c, err := newCSV(e, "request_id", "requester", "entitlement_id", "account_id", "target", "step", "step_name", "step_state",
			"required", "approver", "decision", "reason", "at")
		if err != nil {
			return err
		}
		for _, r := range records {
			for _, st := range r.ApprovalChain {
				for _, d := range st.Approvals {
					decision := "approved"
					if !d.Approved {
						decision = "denied"
					}
					b.sum.Counts.Approvals++
					if err := c.row(r.ID, r.Requester, r.EntitlementID, targetAccount(r.Target), r.Target.DisplayName, strconv.Itoa(st.Index+1),
						st.Name, st.State, strconv.Itoa(st.Required), d.By, decision, d.Reason, tsv(d.At)); err != nil {
						return err
					}
				}
				if st.Auto {
					if err := c.row(r.ID, r.Requester, r.EntitlementID, targetAccount(r.Target), r.Target.DisplayName, strconv.Itoa(st.Index+1),
						st.Name, st.State, strconv.Itoa(st.Required), "", "auto", "the policy's step needs nobody's approval", ""); err != nil {
						return err
					}
				}
			}
		}
		return c.flush()
	})
	if err != nil {
		return err
	}
	return b.pw.file(FileLeases, func(e *entry) error {
		c, err := newCSV(e, "request_id", "lease_id", "requester", "entitlement_id", "account_id", "target", "state", "standing",
			"granted_at", "ends_at", "ended_at", "end_reason", "ended_by", "revoked_at", "revoke_seconds", "end_note")
		if err != nil {
			return err
		}
		for _, r := range records {
			l := r.Lease
			if l == nil {
				continue
			}
			b.sum.Counts.Leases++
			secs := ""
			if l.RevokeSeconds != nil {
				secs = strconv.FormatFloat(*l.RevokeSeconds, 'f', 3, 64)
				b.sum.Counts.LeasesRevoked++
			}
			if err := c.row(r.ID, l.ID, r.Requester, r.EntitlementID, targetAccount(r.Target), r.Target.DisplayName, l.State,
				boolText(l.Standing), l.GrantedAt, l.EndsAt, l.EndedAt, l.EndReason, l.EndedBy, l.RevokedAt, secs, l.EndNote); err != nil {
				return err
			}
		}
		return c.flush()
	})
}

// targetAccount is the account a request's target concerns: the assignment's account,
// or the account of an IAM group's ARN ("" for an Identity Center group).
func targetAccount(t jit.Target) string {
	if t.AccountID != "" {
		return t.AccountID
	}
	if t.Kind == jit.KindIAMGroupMembership && strings.HasPrefix(t.GroupID, "arn:") {
		if parts := strings.Split(t.GroupID, ":"); len(parts) > 4 {
			return parts[4]
		}
	}
	return ""
}

func requestRecord(r store.AccessRequest, trs []store.RequestTransition, l *store.Lease) RequestRecord {
	rec := RequestRecord{ID: r.ID, State: r.State, Requester: r.Requester, ConnectionID: r.ConnectionID,
		EntitlementID: r.EntitlementID, Reason: r.Reason, Duration: r.Duration.String(), Rule: r.Rule,
		BreakGlass: r.BreakGlass, ReviewedBy: r.ReviewedBy, ReviewedAt: ts(r.ReviewedAt), CreatedAt: tsv(r.CreatedAt),
		ApprovalChain: []jit.StepStatus{}, Transitions: []TransitionRow{}}
	_ = json.Unmarshal(r.Target, &rec.Target)
	var pol jit.PolicySnapshot
	if json.Unmarshal(r.Policy, &pol) == nil {
		rec.Policy = pol.Name
	}
	if len(r.Steps) > 0 {
		_ = json.Unmarshal(r.Steps, &rec.ApprovalChain)
	}
	var endedAt *time.Time
	for _, tr := range trs {
		rec.Transitions = append(rec.Transitions, TransitionRow{From: tr.From, To: tr.To, By: tr.Actor, At: tsv(tr.At), Reason: tr.Reason})
		if tr.To == string(jit.StateExpiring) && endedAt == nil {
			at := tr.At
			endedAt = &at
		}
	}
	if l != nil {
		lr := &LeaseRecord{ID: l.ID, State: l.State, Standing: l.Standing, GrantedAt: ts(l.StartsAt), EndsAt: ts(l.EndsAt),
			EndReason: l.EndReason, EndedBy: l.EndedBy, EndNote: l.EndNote}
		// The end: when the lease was asked to end (the request's move to expiring); a
		// lease that ran out without that transition ended at its scheduled end.
		end := endedAt
		if end == nil && l.EndedAt != nil && l.EndsAt != nil && l.EndReason == jit.EndExpired {
			end = l.EndsAt
		}
		lr.EndedAt = ts(end)
		if l.State == store.LeaseEnded && l.EndedAt != nil && l.StartsAt != nil && !l.Standing {
			lr.RevokedAt = ts(l.EndedAt)
			if end != nil {
				s := l.EndedAt.Sub(*end).Seconds()
				lr.RevokeSeconds = &s
			}
		}
		rec.Lease = lr
	}
	return rec
}

// CampaignRecord is one review campaign in reviews/campaigns.json, with the counts of
// its items in the pack's scope.
type CampaignRecord struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	Description   string            `json:"description"`
	State         string            `json:"state"`
	Scope         json.RawMessage   `json:"scope"`
	Reviewers     json.RawMessage   `json:"reviewers"`
	Due           string            `json:"due"`
	CreatedBy     string            `json:"created_by"`
	CreatedAt     string            `json:"created_at"`
	StartedAt     string            `json:"started_at"`
	ClosedAt      string            `json:"closed_at"`
	ClosedBy      string            `json:"closed_by"`
	SnapshotSyncs json.RawMessage   `json:"snapshot_syncs"`
	Items         CampaignItemCount `json:"items_in_scope"`
}

// CampaignItemCount counts a campaign's items in the pack's scope.
type CampaignItemCount struct {
	Total             int `json:"total"`
	Pending           int `json:"pending"`
	Kept              int `json:"kept"`
	Revoked           int `json:"revoked"`
	RevocationPending int `json:"revocation_pending"`
	TaskOpen          int `json:"task_open"`
	Verified          int `json:"verified"`
}

var decisionHeader = []string{"campaign_id", "campaign_name", "item_id", "connection_id", "account_id", "account_name", "identity",
	"principal_type", "principal_id", "principal_name", "entitlement_id", "entitlement_name", "via", "via_name", "admin_level",
	"reviewer", "decision", "reason", "decided_by", "decided_at", "state", "remediation_action", "remediation",
	"remediation_state", "remediation_done_at", "verified_sync", "verified_at", "access_gone_at", "access_gone_sync"}

// reviews writes the campaigns of the period and every decision in scope with its
// remediation and verification.
func (b *builder) reviews(ctx context.Context) error {
	camps, err := b.st.ReviewCampaignsInPeriod(ctx, b.req.From, b.req.To)
	if err != nil {
		return err
	}
	records := make([]CampaignRecord, len(camps))
	err = b.pw.file(FileDecisions, func(e *entry) error {
		c, err := newCSV(e, decisionHeader...)
		if err != nil {
			return err
		}
		for i, camp := range camps {
			rec := &records[i]
			*rec = CampaignRecord{ID: camp.ID, Name: camp.Name, Description: camp.Description, State: camp.State,
				Scope: rawOr(camp.Scope, "{}"), Reviewers: rawOr(camp.Reviewers, "{}"), Due: tsv(camp.DueAt), CreatedBy: camp.CreatedBy,
				CreatedAt: tsv(camp.CreatedAt), StartedAt: ts(camp.StartedAt), ClosedAt: ts(camp.ClosedAt), ClosedBy: camp.ClosedBy,
				SnapshotSyncs: rawOr(camp.SnapshotSyncs, "{}")}
			for token := ""; ; {
				items, next, err := b.st.ListReviewItems(ctx, store.ReviewItemFilter{CampaignID: camp.ID}, store.Page{Size: reviewItemPage, Token: token})
				if err != nil {
					return err
				}
				for _, it := range items {
					if !b.res.hasConnection(it.ConnectionID) || !b.res.hasAccount(it.AccountID) {
						continue
					}
					var rem review.Remediation
					if it.Remediation != "" {
						_ = json.Unmarshal([]byte(it.Remediation), &rem)
					}
					count(&rec.Items, &it)
					b.sum.Counts.ReviewItems++
					if it.Decision != "" {
						b.sum.Counts.Decided++
					}
					if it.Decision == review.DecisionRevoke {
						b.sum.Counts.RevokeDecisions++
					}
					if rem.VerifiedAt != nil {
						b.sum.Counts.RevokesVerified++
					}
					if err := c.row(camp.ID, camp.Name, it.ID, it.ConnectionID, it.AccountID, it.AccountName, it.Identity, it.PrincipalType,
						it.PrincipalID, it.PrincipalName, it.EntitlementID, it.EntitlementName, it.Via, it.ViaName, boolText(it.AdminLevel),
						it.Reviewer, it.Decision, it.Reason, it.DecidedBy, ts(it.DecidedAt), it.State, rem.Action, rem.Description,
						rem.State, ts(rem.DoneAt), rem.VerifiedSync, ts(rem.VerifiedAt), ts(it.AccessGoneAt), it.AccessGoneSync); err != nil {
						return err
					}
				}
				if next == "" {
					break
				}
				token = next
			}
		}
		return c.flush()
	})
	if err != nil {
		return err
	}
	b.sum.Counts.Campaigns = len(records)
	return b.pw.file(FileCampaigns, func(e *entry) error {
		l, err := newJSONList(e, map[string]any{"from": b.sum.From, "to": b.sum.To}, "campaigns")
		if err != nil {
			return err
		}
		for i := range records {
			if err := l.add(&records[i]); err != nil {
				return err
			}
		}
		return l.end()
	})
}

func count(c *CampaignItemCount, it *store.ReviewItem) {
	c.Total++
	switch review.ItemState(it.State) {
	case review.ItemPending:
		c.Pending++
	case review.ItemKept:
		c.Kept++
	case review.ItemRevocationPending:
		c.RevocationPending++
	case review.ItemTaskOpen:
		c.TaskOpen++
	case review.ItemRemediated:
		c.Verified++
	}
	if it.Decision == review.DecisionRevoke {
		c.Revoked++
	}
}

func rawOr(s, def string) json.RawMessage {
	if s == "" || !json.Valid([]byte(s)) {
		return json.RawMessage(def)
	}
	return json.RawMessage(s)
}

// ChainCheck is audit/chain_check.json: the excerpt's own chain (each entry's hash
// recomputed, each linked to the one before, no seq missing) and the whole log's check
// (internal/audit), which is what proves the excerpt is the log's.
type ChainCheck struct {
	From    string `json:"from"`
	To      string `json:"to"`
	Entries int    `json:"entries"`
	// FirstSeq and LastSeq bound the excerpt (0 when empty); PreviousHash is the hash of
	// the entry before FirstSeq, which its prev_hash must name.
	FirstSeq     int64    `json:"first_seq"`
	LastSeq      int64    `json:"last_seq"`
	PreviousHash string   `json:"previous_hash"`
	ExcerptOK    bool     `json:"excerpt_ok"`
	Problems     []string `json:"excerpt_problems"`
	// Log is the check of the whole audit log at the time of the build.
	Log   *audit.Report `json:"log"`
	LogOK bool          `json:"log_ok"`
	OK    bool          `json:"ok"`
}

// audit writes the audit log's entries of [from, to] and the check of their chain.
func (b *builder) audit(ctx context.Context) error {
	chk := ChainCheck{From: b.sum.From, To: b.sum.To, Problems: []string{}}
	to := b.req.To.Add(time.Millisecond) // ListAudit's To is exclusive; the period's is not
	prevHash, prevSeq := "", int64(0)
	err := b.pw.file(FileAuditLog, func(e *entry) error {
		e.tabular = true
		enc := json.NewEncoder(e)
		enc.SetEscapeHTML(false)
		f := store.AuditFilter{From: &b.req.From, To: &to, Limit: audit.PageSize}
		for {
			page, err := b.st.ListAudit(ctx, f)
			if err != nil {
				return err
			}
			for _, en := range page {
				if chk.Entries == 0 {
					chk.FirstSeq = en.Seq
					before, err := b.st.ListAudit(ctx, store.AuditFilter{BeforeSeq: en.Seq, Desc: true, Limit: 1})
					if err != nil {
						return err
					}
					if len(before) == 1 {
						chk.PreviousHash, prevSeq = before[0].Hash, before[0].Seq
					} else {
						prevSeq = en.Seq - 1
					}
					prevHash = chk.PreviousHash
				}
				chk.Entries++
				chk.LastSeq = en.Seq
				if en.Seq != prevSeq+1 {
					chk.Problems = append(chk.Problems, fmt.Sprintf("seq %d to %d: missing from the log", prevSeq+1, en.Seq-1))
				}
				if store.AuditHash(en) != en.Hash {
					chk.Problems = append(chk.Problems, fmt.Sprintf("seq %d: its content does not match its hash (edited)", en.Seq))
				}
				if en.PrevHash != prevHash {
					chk.Problems = append(chk.Problems, fmt.Sprintf("seq %d: its prev_hash is not the hash of the entry before it", en.Seq))
				}
				prevHash, prevSeq = en.Hash, en.Seq
				f.AfterSeq = en.Seq
				e.rows++
				if err := enc.Encode(audit.RecordOf(en)); err != nil {
					return err
				}
			}
			if len(page) < audit.PageSize {
				return nil
			}
		}
	})
	if err != nil {
		return err
	}
	rep, err := audit.Verify(ctx, b.st)
	if err != nil {
		return err
	}
	if rep.Problems == nil {
		rep.Problems = []audit.Problem{}
	}
	chk.Log, chk.LogOK = rep, rep.OK()
	chk.ExcerptOK = len(chk.Problems) == 0
	chk.OK = chk.ExcerptOK && chk.LogOK
	b.sum.Counts.AuditEntries = chk.Entries
	b.sum.Chain = chainStatement(&chk)
	return b.pw.file(FileAuditChain, func(e *entry) error { return writeJSON(e, &chk) })
}

func chainStatement(c *ChainCheck) ChainSummary {
	if c.OK {
		what := "the period has no audit entries"
		if c.Entries > 0 {
			what = fmt.Sprintf("the %d entries of the period (seq %d to %d) link to each other and to the entry before them", c.Entries, c.FirstSeq, c.LastSeq)
		}
		return ChainSummary{OK: true, Statement: fmt.Sprintf("Intact: %s, and the whole log (%d entries, head %s) verifies.", what, c.Log.Entries, c.Log.HeadHash)}
	}
	var probs []string
	probs = append(probs, c.Problems...)
	for _, p := range c.Log.Problems {
		probs = append(probs, p.Message)
	}
	sort.Strings(probs)
	if len(probs) > 10 {
		probs = append(probs[:10], fmt.Sprintf("and %d more (audit/chain_check.json)", len(probs)-10))
	}
	return ChainSummary{OK: false, Statement: "TAMPERED: " + strings.Join(probs, "; ")}
}
