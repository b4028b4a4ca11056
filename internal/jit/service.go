package jit

import (
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/store"
)

// Service is just-in-time access for one server. Its methods check that the caller may do what
// they ask and answer *Error for refusals.
type Service struct {
	cfg   Config
	st    *store.Store
	log   *zap.Logger
	queue Queue
	cache configCache

	provs provisioners  // provision.go
	wake  chan struct{} // wakes the sweeper (expiry.go)
}

// New returns the service. SetQueue must be called before it changes anything (the River
// client is built with the service's Extension, so it comes after New).
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("jit: a store is required")
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg, st: cfg.Store, log: cfg.Log.Named("jit"), wake: make(chan struct{}, 1)}, nil
}

// SetQueue gives the service the River client to insert its jobs with (jobs.Service).
func (s *Service) SetQueue(q Queue) { s.queue = q }

// CatalogQuery filters the catalog.
type CatalogQuery struct {
	// Q searches display names, account names and ids, permission set names.
	Q         string
	AccountID string
	Page      store.Page
}

// CatalogItem is one requestable entitlement for the caller.
type CatalogItem struct {
	EntitlementID     string
	DisplayName       string
	Application       string
	ResourceType      string // account, sso_group, iam_group, app_resource
	AccountID         string
	AccountName       string
	PermissionSetARN  string
	PermissionSetName string
	GroupName         string
	DefaultDuration   time.Duration
	MaxDuration       time.Duration
	ReasonRequired    bool
	Rule              string
	Policy            string
	// Why says which rule applies and why (access.Decision.Why).
	Why string
	// BreakGlass says the rule allows self-approved emergency access.
	BreakGlass bool
	// Approvers describes who approves, step by step ("group Approvers, then the requester's
	// manager").
	Approvers string
}

// CatalogEntry is one entitlement as the caller sees it, requestable or not, with why.
type CatalogEntry struct {
	Item        CatalogItem
	Requestable bool
	// NotRequestableWhy says why not and what to do (no rule, not among the requesters, no
	// Identity Center user with the caller's email, ...).
	NotRequestableWhy string
	// Grants is what the permission set grants (managed and inline policies, session duration).
	PermissionSet *PermissionSetInfo
	// Note is what the requester should know about a requestable entitlement: an imported
	// application with no user of their email yet (its owner creates it when granting).
	Note string
}

// PermissionSetInfo is what a permission set grants.
type PermissionSetInfo struct {
	ARN             string
	Name            string
	SessionDuration string
	ManagedPolicies []string
	InlinePolicy    string
}

// CreateInput is a new request.
type CreateInput struct {
	EntitlementID string
	Duration      time.Duration // 0: the rule's default
	Reason        string
	// BreakGlass asks for self-approved emergency access (only where the rule allows it).
	BreakGlass bool
}

// ListFilter filters requests.
type ListFilter struct {
	// Scope: "mine" (the caller's own), "to_approve" (waiting for the caller's decision or review),
	// "decided" (the caller may decide or decided them),
	// "all" (admins and auditors only). Empty means "mine".
	Scope     string
	States    []State
	Requester string
	Page      store.Page
}

// LeaseFilter filters leases.
type LeaseFilter struct {
	// Scope: "mine" or "all" (admins and auditors).
	Scope  string
	States []LeaseState
	Page   store.Page
}
