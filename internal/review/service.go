package review

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Service runs the access reviews of one server. Its methods check that the caller may do
// what they ask and answer *Error for refusals: admins and auditors create, start, close and
// export campaigns and see every item; a reviewer sees and decides only the items assigned
// to them; nobody decides their own access.
type Service struct {
	cfg   Config
	st    *store.Store
	log   *zap.Logger
	queue Queue
}

// New returns the service. SetQueue must be called before it starts a campaign or decides
// (the River client is built with the service's Extension, so it comes after New).
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("review: a store is required")
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ReminderEvery <= 0 {
		cfg.ReminderEvery = 72 * time.Hour
	}
	if cfg.DueSoon <= 0 {
		cfg.DueSoon = 24 * time.Hour
	}
	return &Service{cfg: cfg, st: cfg.Store, log: cfg.Log.Named("review")}, nil
}

// SetQueue gives the service the River client to insert its jobs with (jobs.Service).
func (s *Service) SetQueue(q Queue) { s.queue = q }

// errNotBuilt marks the contract's stubs; each names the file that replaces it.
var errNotBuilt = errors.New("review: not built yet")

// CampaignQuery filters campaigns.
type CampaignQuery struct {
	State CampaignState // "" for any
	Q     string
	Page  store.Page
}

// The methods below are the contract. Each stub is replaced by the file named.

// CreateCampaign creates a draft campaign (admins and auditors). campaigns.go
func (s *Service) CreateCampaign(ctx context.Context, c *auth.Caller, in CampaignInput) (*Campaign, error) {
	return nil, errNotBuilt
}

// UpdateCampaign edits a draft campaign. campaigns.go
func (s *Service) UpdateCampaign(ctx context.Context, c *auth.Caller, id string, in CampaignInput) (*Campaign, error) {
	return nil, errNotBuilt
}

// Campaign returns a campaign with its progress (admins, auditors, and its reviewers).
// campaigns.go
func (s *Service) Campaign(ctx context.Context, c *auth.Caller, id string) (*Campaign, error) {
	return nil, errNotBuilt
}

// Campaigns lists campaigns, newest first: all of them for admins and auditors, the ones
// with items for the caller otherwise. campaigns.go
func (s *Service) Campaigns(ctx context.Context, c *auth.Caller, q CampaignQuery) ([]Campaign, string, error) {
	return nil, "", errNotBuilt
}

// Start freezes the items from the inventory (one per grant in scope, per way it is held),
// assigns their reviewers and notifies them. campaigns.go
func (s *Service) Start(ctx context.Context, c *auth.Caller, id string) (*Campaign, error) {
	return nil, errNotBuilt
}

// Close closes an active campaign: no more decisions. Items still pending stay pending (the
// report says so); the undecided policy applies at the due date, not at close. campaigns.go
func (s *Service) Close(ctx context.Context, c *auth.Caller, id string) (*Campaign, error) {
	return nil, errNotBuilt
}

// Items lists a campaign's items the caller may see. decisions.go
func (s *Service) Items(ctx context.Context, c *auth.Caller, campaignID string, q ItemQuery) ([]Item, string, error) {
	return nil, "", errNotBuilt
}

// Item returns one item with its history. decisions.go
func (s *Service) Item(ctx context.Context, c *auth.Caller, campaignID, itemID string) (*Item, error) {
	return nil, errNotBuilt
}

// Inbox lists the items waiting for the caller across active campaigns, due first.
// decisions.go
func (s *Service) Inbox(ctx context.Context, c *auth.Caller, q ItemQuery) ([]Item, string, error) {
	return nil, "", errNotBuilt
}

// Decide records the caller's decision on an item (403 when the caller is not its reviewer
// or it is their own access; 409 when it is already decided or the campaign is not active).
// A revoke starts the remediation in the same transaction. decisions.go
func (s *Service) Decide(ctx context.Context, c *auth.Caller, campaignID, itemID string, in DecisionInput) (*Item, error) {
	return nil, errNotBuilt
}

// DecideBulk decides every item matching q that the caller may decide. decisions.go
func (s *Service) DecideBulk(ctx context.Context, c *auth.Caller, campaignID string, q ItemQuery, in DecisionInput) (*BulkResult, error) {
	return nil, errNotBuilt
}

// Delegate hands an item the caller reviews to another person (never the item's identity).
// decisions.go
func (s *Service) Delegate(ctx context.Context, c *auth.Caller, campaignID, itemID, to, reason string) (*Item, error) {
	return nil, errNotBuilt
}

// Reassign gives an item to another reviewer (admins and auditors). decisions.go
func (s *Service) Reassign(ctx context.Context, c *auth.Caller, campaignID, itemID, to, reason string) (*Item, error) {
	return nil, errNotBuilt
}

// Export renders a campaign as csv, json or html, records the export and its SHA-256 in the
// audit log (admins and auditors). export.go
func (s *Service) Export(ctx context.Context, c *auth.Caller, campaignID, format string) (*Export, error) {
	return nil, errNotBuilt
}

// Compare compares a campaign with the previous campaign of the same scope. compare.go
func (s *Service) Compare(ctx context.Context, c *auth.Caller, campaignID string) (*Comparison, error) {
	return nil, errNotBuilt
}

// Roles are the roles reviews give email for /api/v1/me: "reviewer" while they have items to
// decide in an active campaign. decisions.go
func (s *Service) Roles(ctx context.Context, email string) ([]string, error) {
	return nil, errNotBuilt
}
