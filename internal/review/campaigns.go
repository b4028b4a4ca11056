package review

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
)

// SystemActor is the actor of what the jobs do (due dates, reminders).
const SystemActor = "gatehouse"

// newID is prefix + 16 random hex digits.
func newID(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// normEmails lowercases, trims and de-duplicates emails, keeping their order.
func normEmails(in []string) []string {
	var out []string
	for _, e := range in {
		e = strings.ToLower(strings.TrimSpace(e))
		if e != "" && !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

// validSteps are the names a Sequence may use.
var validSteps = []string{"manager", "owner", "people", "groups"}

// clean checks a campaign's input and normalises it; it says what to fix.
func (s *Service) clean(in CampaignInput) (CampaignInput, error) {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return in, Errorf(CodeInvalid, "a campaign needs a name")
	}
	if in.Due.IsZero() {
		return in, Errorf(CodeInvalid, "a campaign needs a due date (due, RFC 3339)")
	}
	if !in.Due.After(s.cfg.Now()) {
		return in, Errorf(CodeInvalid, "the due date %s is in the past; give a date in the future", in.Due.UTC().Format(time.RFC3339))
	}
	in.Due = in.Due.UTC()
	switch in.Undecided {
	case "":
		in.Undecided = UndecidedKeep
	case UndecidedKeep, UndecidedRevoke, UndecidedEscalate:
	default:
		return in, Errorf(CodeInvalid, "undecided is %q; use keep, revoke or escalate", in.Undecided)
	}
	r := &in.Reviewers
	r.People, r.Fallback = normEmails(r.People), normEmails(r.Fallback)
	for _, e := range append(slices.Clone(r.People), r.Fallback...) {
		if !strings.Contains(e, "@") {
			return in, Errorf(CodeInvalid, "reviewer %q is not an email address", e)
		}
	}
	for i, st := range r.Sequence {
		st = strings.ToLower(strings.TrimSpace(st))
		if !slices.Contains(validSteps, st) {
			return in, Errorf(CodeInvalid, "sequence step %q is unknown; use manager, owner, people or groups", st)
		}
		r.Sequence[i] = st
	}
	sc := &in.Scope
	if sc.UnusedDays < 0 {
		return in, Errorf(CodeInvalid, "unused_days is %d; give a number of days above 0 (or leave it out)", sc.UnusedDays)
	}
	for _, a := range sc.Accounts {
		if len(a) != 12 || strings.Trim(a, "0123456789") != "" {
			return in, Errorf(CodeInvalid, "account %q is not a 12-digit AWS account id", a)
		}
	}
	for _, t := range sc.ResourceTypes {
		if !slices.Contains([]string{"account", "sso_group", "iam_group", "iam_policy", appResourceType}, t) {
			return in, Errorf(CodeInvalid, "resource type %q cannot be reviewed; use account, sso_group, iam_group, iam_policy or app_resource (imported applications)", t)
		}
	}
	return in, nil
}

// scopeKey identifies a scope (and connection): campaigns with the same key are compared.
func scopeKey(sc Scope, connectionID string) string {
	norm := func(v []string) []string {
		v = slices.Clone(v)
		sort.Strings(v)
		return v
	}
	sc.Accounts, sc.OUs, sc.PermissionSets, sc.Applications = norm(sc.Accounts), norm(sc.OUs), norm(sc.PermissionSets), norm(sc.Applications)
	sc.ResourceTypes, sc.SSOGroups, sc.IAMGroups, sc.IAMPolicies = norm(sc.ResourceTypes), norm(sc.SSOGroups), norm(sc.IAMGroups), norm(sc.IAMPolicies)
	b, _ := json.Marshal(struct {
		S Scope
		C string
	}{sc, connectionID})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

func (s *Service) toRow(id string, in CampaignInput, by string, at time.Time) (*store.ReviewCampaign, error) {
	scope, err := json.Marshal(in.Scope)
	if err != nil {
		return nil, err
	}
	revs, err := json.Marshal(in.Reviewers)
	if err != nil {
		return nil, err
	}
	return &store.ReviewCampaign{ID: id, Name: in.Name, Description: in.Description, State: string(CampaignDraft),
		Scope: string(scope), ScopeKey: scopeKey(in.Scope, in.ConnectionID), Reviewers: string(revs), DueAt: in.Due,
		Undecided: in.Undecided, ConnectionID: in.ConnectionID, CreatedBy: by, CreatedAt: at, UpdatedAt: at}, nil
}

// fromRow reads a campaign row (without progress).
func fromRow(r *store.ReviewCampaign) (*Campaign, error) {
	c := &Campaign{ID: r.ID, Name: r.Name, Description: r.Description, State: CampaignState(r.State), Due: r.DueAt,
		Undecided: r.Undecided, ConnectionID: r.ConnectionID, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt,
		StartedAt: r.StartedAt, ClosedAt: r.ClosedAt, ClosedBy: r.ClosedBy, Previous: r.PreviousID}
	if err := json.Unmarshal([]byte(r.Scope), &c.Scope); err != nil {
		return nil, fmt.Errorf("campaign %s: scope: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(r.Reviewers), &c.Reviewers); err != nil {
		return nil, fmt.Errorf("campaign %s: reviewers: %w", r.ID, err)
	}
	if r.SnapshotSyncs != "" {
		if err := json.Unmarshal([]byte(r.SnapshotSyncs), &c.SnapshotSyncs); err != nil {
			return nil, fmt.Errorf("campaign %s: snapshot: %w", r.ID, err)
		}
	}
	return c, nil
}

// withProgress fills the campaign's progress (and, for admins and auditors, per reviewer).
func (s *Service) withProgress(ctx context.Context, c *Campaign, perReviewer bool) error {
	n, err := s.st.ReviewCampaignCounts(ctx, c.ID)
	if err != nil {
		return err
	}
	c.Progress = Progress{Total: n.Total, Pending: n.ByState[string(ItemPending)], Kept: n.ByState[string(ItemKept)],
		RevocationPending: n.ByState[string(ItemRevocationPending)], Remediated: n.ByState[string(ItemRemediated)],
		TaskOpen: n.ByState[string(ItemTaskOpen)], AccessGone: n.AccessGone}
	if !perReviewer {
		return nil
	}
	rc, err := s.st.ReviewCampaignReviewerCounts(ctx, c.ID)
	if err != nil {
		return err
	}
	c.ByReviewer = nil
	for _, r := range rc {
		c.ByReviewer = append(c.ByReviewer, ReviewerProgress{Reviewer: r.Email, Total: r.Total, Pending: r.Pending, Decided: r.Total - r.Pending})
	}
	return nil
}

// CreateCampaign creates a draft campaign (admins and auditors).
func (s *Service) CreateCampaign(ctx context.Context, c *auth.Caller, in CampaignInput) (*Campaign, error) {
	if !c.CanAudit() {
		return nil, Errorf(CodeForbidden, "only admins and auditors create access review campaigns")
	}
	in, err := s.clean(in)
	if err != nil {
		return nil, err
	}
	if in.ConnectionID != "" {
		if _, err := s.st.GetConnection(ctx, in.ConnectionID); errors.Is(err, store.ErrNotFound) {
			return nil, Errorf(CodeInvalid, "there is no connection %q; leave connection_id out to review every connection", in.ConnectionID)
		} else if err != nil {
			return nil, err
		}
	}
	now := s.cfg.Now().UTC()
	row, err := s.toRow(newID("rc-"), in, strings.ToLower(c.Email), now)
	if err != nil {
		return nil, err
	}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.InsertReviewCampaign(ctx, row); err != nil {
			return err
		}
		_, err := tx.AppendAudit(ctx, c.Email, "review.create", "campaign:"+row.ID, map[string]any{
			"name": in.Name, "scope": in.Scope, "reviewers": in.Reviewers, "due": in.Due, "undecided": in.Undecided}, c.RemoteAddr)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.Campaign(ctx, c, row.ID)
}

// UpdateCampaign edits a draft campaign (admins and auditors).
func (s *Service) UpdateCampaign(ctx context.Context, c *auth.Caller, id string, in CampaignInput) (*Campaign, error) {
	if !c.CanAudit() {
		return nil, Errorf(CodeForbidden, "only admins and auditors change access review campaigns")
	}
	in, err := s.clean(in)
	if err != nil {
		return nil, err
	}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		cur, err := tx.ReviewCampaign(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return Errorf(CodeNotFound, "there is no campaign %s", id)
		}
		if err != nil {
			return err
		}
		if cur.State != string(CampaignDraft) {
			return Errorf(CodeConflict, "campaign %s is %s: only a draft can be changed", id, cur.State)
		}
		row, err := s.toRow(id, in, cur.CreatedBy, cur.CreatedAt)
		if err != nil {
			return err
		}
		row.UpdatedAt = s.cfg.Now().UTC()
		if err := tx.UpdateReviewCampaign(ctx, row); err != nil {
			return err
		}
		_, err = tx.AppendAudit(ctx, c.Email, "review.update", "campaign:"+id, map[string]any{
			"name": in.Name, "scope": in.Scope, "reviewers": in.Reviewers, "due": in.Due, "undecided": in.Undecided}, c.RemoteAddr)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.Campaign(ctx, c, id)
}

// campaign reads a campaign the caller may see (admins, auditors, its reviewers).
func (s *Service) campaign(ctx context.Context, c *auth.Caller, id string) (*Campaign, error) {
	row, err := s.st.GetReviewCampaign(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, Errorf(CodeNotFound, "there is no campaign %s", id)
	}
	if err != nil {
		return nil, err
	}
	if !c.CanAudit() {
		mine, _, err := s.st.ListReviewCampaigns(ctx, store.ReviewCampaignFilter{Reviewer: c.Email}, store.Page{Size: store.MaxPageSize})
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(mine, func(r store.ReviewCampaign) bool { return r.ID == id }) {
			return nil, Errorf(CodeForbidden, "you review no item of campaign %s; only admins, auditors and its reviewers see it", id)
		}
	}
	return fromRow(row)
}

// Campaign returns a campaign with its progress (admins, auditors, and its reviewers).
func (s *Service) Campaign(ctx context.Context, c *auth.Caller, id string) (*Campaign, error) {
	camp, err := s.campaign(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if err := s.withProgress(ctx, camp, c.CanAudit()); err != nil {
		return nil, err
	}
	return camp, nil
}

// Campaigns lists campaigns, newest first: all of them for admins and auditors, the ones
// with items for the caller otherwise.
func (s *Service) Campaigns(ctx context.Context, c *auth.Caller, q CampaignQuery) ([]Campaign, string, error) {
	f := store.ReviewCampaignFilter{State: string(q.State), Q: q.Q}
	if !c.CanAudit() {
		f.Reviewer = c.Email
	}
	rows, next, err := s.st.ListReviewCampaigns(ctx, f, q.Page)
	if errors.Is(err, store.ErrBadPageToken) {
		return nil, "", Errorf(CodeInvalid, "the page token is not valid; start again without it")
	}
	if err != nil {
		return nil, "", err
	}
	out := make([]Campaign, 0, len(rows))
	for i := range rows {
		camp, err := fromRow(&rows[i])
		if err != nil {
			return nil, "", err
		}
		if err := s.withProgress(ctx, camp, c.CanAudit()); err != nil {
			return nil, "", err
		}
		out = append(out, *camp)
	}
	return out, next, nil
}

// Start freezes the items from the inventory (one per grant in scope, per way it is held),
// assigns their reviewers and notifies them (admins and auditors).
func (s *Service) Start(ctx context.Context, c *auth.Caller, id string) (*Campaign, error) {
	if !c.CanAudit() {
		return nil, Errorf(CodeForbidden, "only admins and auditors start access review campaigns")
	}
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		row, err := tx.ReviewCampaign(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return Errorf(CodeNotFound, "there is no campaign %s", id)
		}
		if err != nil {
			return err
		}
		if row.State != string(CampaignDraft) {
			return Errorf(CodeConflict, "campaign %s is already %s; a campaign starts once", id, row.State)
		}
		camp, err := fromRow(row)
		if err != nil {
			return err
		}
		now := s.cfg.Now().UTC()
		if !camp.Due.After(now) {
			return Errorf(CodeConflict, "campaign %s was due %s; set a due date in the future before starting it", id, camp.Due.Format(time.RFC3339))
		}
		fr, err := s.freeze(ctx, tx, camp, now)
		if err != nil {
			return err
		}
		if err := tx.InsertReviewItems(ctx, fr.items); err != nil {
			return err
		}
		if err := tx.InsertReviewItemReviewers(ctx, fr.reviewers); err != nil {
			return err
		}
		if err := tx.InsertReviewItemEvents(ctx, fr.events); err != nil {
			return err
		}
		snap, _ := json.Marshal(fr.snapshots)
		row.State, row.StartedAt, row.SnapshotSyncs, row.PreviousID, row.UpdatedAt = string(CampaignActive), &now, string(snap), fr.previous, now
		if err := tx.UpdateReviewCampaign(ctx, row); err != nil {
			return err
		}
		if _, err := tx.AppendAudit(ctx, c.Email, "review.start", "campaign:"+id, map[string]any{
			"items": len(fr.items), "snapshot_syncs": fr.snapshots, "previous": fr.previous}, c.RemoteAddr); err != nil {
			return err
		}
		return s.notifyPendingTx(ctx, tx, camp, "review_started", fr.pendingBy(), c.Email, now, "")
	})
	if err != nil {
		return nil, err
	}
	return s.Campaign(ctx, c, id)
}

// notifyPendingTx sends kind to every reviewer in pending (email -> items waiting), one
// event each, in tx.
func (s *Service) notifyPendingTx(ctx context.Context, tx *store.Tx, camp *Campaign, kind string, pending map[string]int, actor string, at time.Time, detail string) error {
	if s.cfg.Notifier == nil {
		return nil
	}
	emails := make([]string, 0, len(pending))
	for e := range pending {
		emails = append(emails, e)
	}
	sort.Strings(emails)
	for _, e := range emails {
		if err := s.cfg.Notifier.NotifyReviewTx(ctx, tx, Event{Kind: kind, CampaignID: camp.ID, Campaign: camp.Name, To: []string{e},
			Pending: pending[e], Due: camp.Due, Actor: actor, Detail: detail, At: at, URL: s.reviewsURL()}); err != nil {
			return err
		}
	}
	return nil
}

// reviewsURL is the reviewer inbox's address.
func (s *Service) reviewsURL() string {
	if s.cfg.BaseURL == "" {
		return ""
	}
	return strings.TrimSuffix(s.cfg.BaseURL, "/") + "/reviews"
}

// Close closes an active campaign: no more decisions. Items still pending stay pending (the
// report says so); the undecided policy applies at the due date, not at close.
func (s *Service) Close(ctx context.Context, c *auth.Caller, id string) (*Campaign, error) {
	if !c.CanAudit() {
		return nil, Errorf(CodeForbidden, "only admins and auditors close access review campaigns")
	}
	// The undecided count for the closing notice; decisions stop at the close, so a decision
	// that lands between this read and the close can only make the notice overstate it by one.
	counts, err := s.st.ReviewCampaignCounts(ctx, id)
	if err != nil {
		return nil, err
	}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		row, err := tx.ReviewCampaign(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return Errorf(CodeNotFound, "there is no campaign %s", id)
		}
		if err != nil {
			return err
		}
		if row.State != string(CampaignActive) {
			return Errorf(CodeConflict, "campaign %s is %s: only an active campaign can be closed", id, row.State)
		}
		now := s.cfg.Now().UTC()
		row.State, row.ClosedAt, row.ClosedBy, row.UpdatedAt = string(CampaignClosed), &now, strings.ToLower(c.Email), now
		if err := tx.UpdateReviewCampaign(ctx, row); err != nil {
			return err
		}
		if _, err = tx.AppendAudit(ctx, c.Email, "review.close", "campaign:"+id, nil, c.RemoteAddr); err != nil {
			return err
		}
		if s.cfg.Notifier == nil {
			return nil
		}
		// The campaign's owner hears of the close, with what was left undecided.
		return s.cfg.Notifier.NotifyReviewTx(ctx, tx, Event{Kind: "review_closed", CampaignID: id, Campaign: row.Name,
			To: []string{row.CreatedBy}, Pending: counts.ByState[string(ItemPending)], Due: row.DueAt,
			Actor: strings.ToLower(c.Email), At: now, URL: s.reviewCampaignURL(id)})
	})
	if err != nil {
		return nil, err
	}
	return s.Campaign(ctx, c, id)
}
