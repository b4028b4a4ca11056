package web

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/review"
)

// fakeReviews answers the review pages' calls from fixed data, so that the handler tests
// can assert each page's exact content in every item state (remediated, task open, access
// gone: states the real service reaches only after AWS changes and later syncs). It
// records every call. The real service's rules are tested in internal/review, and
// TestUIReviews runs the pages against it in a browser.
type fakeReviews struct {
	mu    sync.Mutex
	camps []*review.Campaign
	items []*review.Item
	calls []string
	// lastQuery is the filter of the last Items, Inbox or DecideBulk call.
	lastQuery review.ItemQuery
	// inboxQueries are the filters of every Inbox call (the navigation's count among them).
	inboxQueries []review.ItemQuery
	created      *review.CampaignInput
	export       *review.Export
	compare      *review.Comparison
	// stubs are the methods that answer as the contract's stubs do ("not built yet").
	stubs map[string]bool
}

var errFakeNotBuilt = errors.New("review: not built yet")

func (f *fakeReviews) record(c *auth.Caller, s string) { f.calls = append(f.calls, s+" by "+c.Email) }

func (f *fakeReviews) stub(name string) bool { return f.stubs[name] }

func (f *fakeReviews) sees(c *auth.Caller, it *review.Item) bool {
	return c.CanAudit() || containsFold(it.Reviewers, c.Email) || strings.EqualFold(it.Reviewer, c.Email)
}

func (f *fakeReviews) campaign(id string) *review.Campaign {
	for _, c := range f.camps {
		if c.ID == id {
			return c
		}
	}
	return nil
}

func (f *fakeReviews) CreateCampaign(_ context.Context, c *auth.Caller, in review.CampaignInput) (*review.Campaign, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stub("CreateCampaign") {
		return nil, errFakeNotBuilt
	}
	f.record(c, "create "+in.Name)
	f.created = &in
	cp := &review.Campaign{ID: "cmp-new", Name: in.Name, State: review.CampaignDraft, Scope: in.Scope, Reviewers: in.Reviewers,
		Due: in.Due, Undecided: in.Undecided, CreatedBy: c.Email, CreatedAt: now()}
	f.camps = append(f.camps, cp)
	out := *cp
	return &out, nil
}

func (f *fakeReviews) Campaign(_ context.Context, c *auth.Caller, id string) (*review.Campaign, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cp := f.campaign(id)
	if cp == nil {
		return nil, review.Errorf(review.CodeNotFound, "there is no campaign %s", id)
	}
	out := *cp
	return &out, nil
}

func (f *fakeReviews) Campaigns(_ context.Context, c *auth.Caller, q review.CampaignQuery) ([]review.Campaign, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []review.Campaign
	for _, cp := range f.camps {
		if q.State != "" && cp.State != q.State {
			continue
		}
		if !c.CanAudit() {
			mine := false
			for _, it := range f.items {
				mine = mine || (it.CampaignID == cp.ID && f.sees(c, it))
			}
			if !mine {
				continue
			}
		}
		out = append(out, *cp)
	}
	return out, "", nil
}

func (f *fakeReviews) setState(c *auth.Caller, id string, s review.CampaignState, what string) (*review.Campaign, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(c, what+" "+id)
	cp := f.campaign(id)
	if cp == nil {
		return nil, review.Errorf(review.CodeNotFound, "there is no campaign %s", id)
	}
	cp.State = s
	t := now()
	if s == review.CampaignActive {
		cp.StartedAt = &t
	} else {
		cp.ClosedAt, cp.ClosedBy = &t, c.Email
	}
	out := *cp
	return &out, nil
}

func (f *fakeReviews) Start(_ context.Context, c *auth.Caller, id string) (*review.Campaign, error) {
	return f.setState(c, id, review.CampaignActive, "start")
}

func (f *fakeReviews) Close(_ context.Context, c *auth.Caller, id string) (*review.Campaign, error) {
	return f.setState(c, id, review.CampaignClosed, "close")
}

// matches applies the parts of q the tests use.
func matches(it *review.Item, q review.ItemQuery) bool {
	if q.State != "" && it.State != q.State {
		return false
	}
	if q.AdminOnly && !it.AdminLevel {
		return false
	}
	if q.Q != "" && !strings.Contains(strings.ToLower(it.Identity+" "+it.EntitlementName+" "+it.AccountName), strings.ToLower(q.Q)) {
		return false
	}
	if q.Reviewer != "" && !strings.EqualFold(it.Reviewer, q.Reviewer) {
		return false
	}
	return true
}

func (f *fakeReviews) Items(_ context.Context, c *auth.Caller, campaignID string, q review.ItemQuery) ([]review.Item, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastQuery = q
	var out []review.Item
	for _, it := range f.items {
		if it.CampaignID == campaignID && f.sees(c, it) && matches(it, q) {
			cp := *it
			cp.Events = nil
			out = append(out, cp)
		}
	}
	return out, "", nil
}

func (f *fakeReviews) find(campaignID, itemID string) (*review.Item, error) {
	for _, it := range f.items {
		if it.CampaignID == campaignID && it.ID == itemID {
			return it, nil
		}
	}
	return nil, review.Errorf(review.CodeNotFound, "there is no item %s in campaign %s", itemID, campaignID)
}

func (f *fakeReviews) Item(_ context.Context, c *auth.Caller, campaignID, itemID string) (*review.Item, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	it, err := f.find(campaignID, itemID)
	if err != nil || !f.sees(c, it) {
		return nil, review.Errorf(review.CodeNotFound, "there is no item %s in campaign %s you may see", itemID, campaignID)
	}
	cp := *it
	return &cp, nil
}

func (f *fakeReviews) Inbox(_ context.Context, c *auth.Caller, q review.ItemQuery) ([]review.Item, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stub("Inbox") {
		return nil, "", errFakeNotBuilt
	}
	f.inboxQueries = append(f.inboxQueries, q)
	var out []review.Item
	for _, it := range f.items {
		cp := f.campaign(it.CampaignID)
		if it.State == review.ItemPending && cp.State == review.CampaignActive && containsFold(it.Reviewers, c.Email) && matches(it, q) {
			out = append(out, *it)
		}
	}
	return out, "", nil
}

func (f *fakeReviews) decide(c *auth.Caller, it *review.Item, in review.DecisionInput) error {
	switch {
	case strings.EqualFold(it.Identity, c.Email):
		return review.Errorf(review.CodeForbidden, "this is your own access: it goes to alice@example.com")
	case !containsFold(it.Reviewers, c.Email):
		return review.Errorf(review.CodeForbidden, "you are not a reviewer of item %s", it.ID)
	case it.State != review.ItemPending:
		return review.Errorf(review.CodeConflict, "item %s is already decided", it.ID)
	case in.Decision == review.DecisionKeep && it.AdminLevel && in.Reason == "":
		return review.Errorf(review.CodeInvalid, "keeping admin-level access needs a reason")
	}
	it.Decision, it.Reason, it.DecidedBy = in.Decision, in.Reason, c.Email
	t := now()
	it.DecidedAt = &t
	if in.Decision == review.DecisionKeep {
		it.State = review.ItemKept
	} else {
		it.State = review.ItemRevocationPending
		it.Remediation = &review.Remediation{Action: review.ActionRemoveSSOMember, Description: it.Plan, State: review.RemediationQueued}
	}
	it.Events = append(it.Events, review.ItemEvent{Kind: "decided", By: c.Email, At: t, Detail: in.Reason, Decision: in.Decision})
	return nil
}

func (f *fakeReviews) Decide(_ context.Context, c *auth.Caller, campaignID, itemID string, in review.DecisionInput) (*review.Item, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(c, "decide "+campaignID+"/"+itemID+" "+in.Decision+" "+in.Reason)
	it, err := f.find(campaignID, itemID)
	if err != nil {
		return nil, err
	}
	if err := f.decide(c, it, in); err != nil {
		return nil, err
	}
	cp := *it
	return &cp, nil
}

func (f *fakeReviews) DecideBulk(_ context.Context, c *auth.Caller, campaignID string, q review.ItemQuery, in review.DecisionInput) (*review.BulkResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(c, "bulk "+campaignID+" "+in.Decision+" "+in.Reason)
	f.lastQuery = q
	res := &review.BulkResult{}
	for _, it := range f.items {
		if it.CampaignID != campaignID || !f.sees(c, it) || !matches(it, q) {
			continue
		}
		if err := f.decide(c, it, in); err != nil {
			res.Skipped = append(res.Skipped, review.BulkSkip{ItemID: it.ID, Why: err.Error()})
			continue
		}
		res.Decided++
	}
	return res, nil
}

func (f *fakeReviews) Delegate(_ context.Context, c *auth.Caller, campaignID, itemID, to, reason string) (*review.Item, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(c, "delegate "+campaignID+"/"+itemID+" to "+to+" "+reason)
	it, err := f.find(campaignID, itemID)
	if err != nil {
		return nil, err
	}
	it.Reviewer, it.Reviewers = to, []string{to}
	cp := *it
	return &cp, nil
}

func (f *fakeReviews) Reassign(_ context.Context, c *auth.Caller, campaignID, itemID, to, reason string) (*review.Item, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(c, "reassign "+campaignID+"/"+itemID+" to "+to+" "+reason)
	it, err := f.find(campaignID, itemID)
	if err != nil {
		return nil, err
	}
	it.Reviewer, it.Reviewers = to, []string{to}
	cp := *it
	return &cp, nil
}

func (f *fakeReviews) Export(_ context.Context, c *auth.Caller, campaignID, format string) (*review.Export, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stub("Export") {
		return nil, errFakeNotBuilt
	}
	f.record(c, "export "+campaignID+" "+format)
	if f.export == nil {
		return nil, review.Errorf(review.CodeConflict, "nothing to export")
	}
	return f.export, nil
}

func (f *fakeReviews) Compare(_ context.Context, c *auth.Caller, campaignID string) (*review.Comparison, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stub("Compare") {
		return nil, errFakeNotBuilt
	}
	if f.compare == nil {
		return nil, review.Errorf(review.CodeNotFound, "campaign %s has no previous campaign", campaignID)
	}
	return f.compare, nil
}

func (f *fakeReviews) CompleteTask(_ context.Context, c *auth.Caller, campaignID, itemID, note string) (*review.Item, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(c, "complete "+campaignID+"/"+itemID+" "+note)
	it, err := f.find(campaignID, itemID)
	if err != nil {
		return nil, err
	}
	t := now()
	it.Remediation.State, it.Remediation.DoneAt = review.RemediationDone, &t
	cp := *it
	return &cp, nil
}

// reviewFixture is one active campaign over prod (due in three days) with an item in each
// state, reviewed by dave (alice's own access goes to her fallback, carol), and a draft.
func reviewFixture() *fakeReviews {
	t := func(h int) *time.Time { x := now().Add(time.Duration(h) * time.Hour); return &x }
	yes, no := true, false
	due := now().Add(72 * time.Hour).Truncate(time.Second)
	camp := &review.Campaign{ID: "cmp-q1", Name: "Quarterly review: production access", State: review.CampaignActive,
		Scope: review.Scope{Accounts: []string{"333333333333"}}, Reviewers: review.Reviewers{People: []string{"dave@example.com"}, Fallback: []string{"carol@example.com"}},
		Due: due, Undecided: "keep", CreatedBy: "aud@example.com", CreatedAt: *t(-48), StartedAt: t(-47),
		Progress:   review.Progress{Total: 6, Pending: 2, Kept: 1, RevocationPending: 1, Remediated: 1, TaskOpen: 1, AccessGone: 1},
		ByReviewer: []review.ReviewerProgress{{Reviewer: "dave@example.com", Total: 5, Decided: 4, Pending: 1}, {Reviewer: "carol@example.com", Total: 1, Decided: 0, Pending: 1}}}
	draft := &review.Campaign{ID: "cmp-draft", Name: "Staging admins", State: review.CampaignDraft, Scope: review.Scope{AdminOnly: true},
		Due: due.Add(24 * time.Hour), Undecided: "escalate", CreatedBy: "ada@example.com", CreatedAt: *t(-1)}
	item := func(id, who, ent, via, viaName string, state review.ItemState) *review.Item {
		return &review.Item{ID: id, CampaignID: camp.ID, ConnectionID: "aws", GrantID: "grant-" + id, EntitlementID: "account:333333333333:ps-" + id,
			EntitlementName: ent + " on prod", AccountID: "333333333333", AccountName: "prod", PrincipalType: "sso_user", PrincipalID: "u-" + id,
			PrincipalName: strings.Split(who, "@")[0], Identity: who, Via: via, ViaName: viaName, Since: now().Add(-400 * 24 * time.Hour).Truncate(time.Minute),
			Reviewer: "dave@example.com", Reviewers: []string{"dave@example.com"}, State: state}
	}
	bobRead := item("it-bobread", "bob@example.com", "ReadOnly", "ent-developers", "group Developers", review.ItemPending)
	bobRead.Plan = "Remove bob@example.com from the Identity Center group Developers (this removes every access bob holds through Developers)"
	bobRead.Context = review.ItemContext{LastUsed: t(-24 * 20), LastUsedSource: "console sign-in", MFA: &no, Active: &yes,
		PreviousCampaign: "cmp-q0", PreviousDecision: "keep", PreviousReason: "on call", PreviousBy: "dave@example.com"}
	erinDev := item("it-erin", "erin@example.com", "Developer", review.ViaDirect, "", review.ItemPending)
	erinDev.AdminLevel = true
	erinDev.Plan = "Delete the account assignment Developer on prod of erin@example.com"
	erinDev.Context = review.ItemContext{LastUsedSource: "Identity Center does not report sign-ins per user", Active: &no, Status: "disabled in Identity Center"}
	aliceAdmin := item("it-alice", "alice@example.com", "AdministratorAccess", "ent-admins", "group Admins", review.ItemPending)
	aliceAdmin.AdminLevel, aliceAdmin.Reviewer, aliceAdmin.Reviewers = true, "carol@example.com", []string{"carol@example.com"}
	kept := item("it-kept", "carol@example.com", "SecurityAudit", "ent-auditors", "group Auditors", review.ItemKept)
	kept.Decision, kept.Reason, kept.DecidedBy, kept.DecidedAt = "keep", "audits prod", "dave@example.com", t(-20)
	kept.AccessGoneAt, kept.AccessGoneSync = t(-2), "sync-7"
	revoking := item("it-frank", "frank@example.com", "ReadOnly", "ent-developers", "group Developers", review.ItemRevocationPending)
	revoking.Decision, revoking.Reason, revoking.DecidedBy, revoking.DecidedAt = "revoke", "left the team", "dave@example.com", t(-10)
	revoking.Remediation = &review.Remediation{Action: review.ActionRemoveSSOMember, Description: "Remove frank@example.com from the Identity Center group Developers",
		State: review.RemediationFailed, Error: "ThrottlingException: rate exceeded", Attempts: 2}
	remediated := item("it-gone", "gina@example.com", "Billing", review.ViaDirect, "", review.ItemRemediated)
	remediated.Decision, remediated.Reason, remediated.DecidedBy, remediated.DecidedAt = "revoke", "not needed", "dave@example.com", t(-30)
	remediated.Remediation = &review.Remediation{Action: review.ActionDeleteAssignment, Description: "Delete the account assignment Billing on prod of gina@example.com",
		State: review.RemediationVerified, Attempts: 1, DoneAt: t(-29), VerifiedSync: "sync-6", VerifiedAt: t(-5)}
	remediated.Events = []review.ItemEvent{
		{Kind: "decided", By: "dave@example.com", At: *t(-30), Detail: "not needed", Decision: "revoke"},
		{Kind: "remediation_done", By: "gatehouse", At: *t(-29), Detail: "AWS deleted the assignment"},
		{Kind: "verified", By: "gatehouse", At: *t(-5), Detail: "sync sync-6 no longer shows the access"},
	}
	task := item("it-task", "deploy-bot", "AmazonS3FullAccess", review.ViaDirect, "", review.ItemTaskOpen)
	task.Identity, task.PrincipalType, task.PrincipalName = "", "iam_user", "deploy-bot"
	task.Decision, task.Reason, task.DecidedBy = "revoke", "unused", "dave@example.com"
	task.Remediation = &review.Remediation{Action: review.ActionOwnerTask, Description: "Gatehouse cannot detach a policy attached directly",
		Owner: "dave@example.com", Task: "Detach AmazonS3FullAccess from the IAM user deploy-bot in 333333333333", State: review.RemediationTaskOpen}
	return &fakeReviews{camps: []*review.Campaign{camp, draft}, items: []*review.Item{bobRead, erinDev, aliceAdmin, kept, revoking, remediated, task}, stubs: map[string]bool{}}
}

// withReviews serves the UI with fake as its review service.
func (u *testUI) withReviews(fake reviewAPI) {
	h := newHandlers(u.app)
	h.reviews = fake
	u.router = auth.NewRouter()
	register(u.router, h)
}
