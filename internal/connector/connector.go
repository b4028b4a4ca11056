// Package connector is Gatehouse's baton connector: it presents an inventory.Snapshot of an
// AWS organization as baton resources, entitlements and grants, and, with a provisioner,
// grants and revokes iam_group, sso_group and account entitlements.
//
// The connector never calls AWS itself. It is given a SnapshotSource, calls it once
// (lazily, on the first request that needs data; with WithSnapshotPerSync once per sync)
// and pages over the cached snapshot, so
// the expensive part of a sync (the bulk fetch in internal/awsfetch) stays separate from
// baton's request-by-request protocol. Grant and Revoke translate entitlement and grant
// ids into internal/awsprovision accesses (provisioning.go, ids.go) and need no snapshot.
// There is one file per resource type; docs/model.md describes the model and why it is
// shaped so. WriteC1Z runs baton's syncer over a Connector into a .c1z file.
package connector

import (
	"context"
	"errors"
	"sync"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/connectorbuilder"

	"github.com/gatehouse/gatehouse/internal/inventory"
)

// SnapshotSource produces the snapshot a Connector presents.
type SnapshotSource func(ctx context.Context) (*inventory.Snapshot, error)

// Features says which optional parts of the model a Connector registers. They decide the
// resource types baton sees, which must be known before any data is fetched (baton asks
// for the resource types when the connector is constructed).
type Features struct {
	// Organizations registers organizational_unit (roots and OUs as parents of accounts).
	Organizations bool
	// IdentityCenter registers sso_user, sso_group and permission_set, and gives accounts
	// their permission-set entitlements and assignment grants.
	IdentityCenter bool
	// AccessKeys registers access_key (secret sync).
	AccessKeys bool
}

// AllFeatures registers every resource type; types the snapshot has no data for are empty.
func AllFeatures() Features {
	return Features{Organizations: true, IdentityCenter: true, AccessKeys: true}
}

// SnapshotFeatures returns the features a snapshot has data for.
func SnapshotFeatures(s *inventory.Snapshot) Features {
	f := Features{
		Organizations:  s.Org != nil,
		IdentityCenter: s.IdentityCenter != nil,
	}
	for _, a := range s.Accounts {
		if a.IAM != nil && a.IAM.AccessKeys != nil {
			f.AccessKeys = true
			break
		}
	}
	return f
}

// Connector is a baton connector (connectorbuilder.ConnectorBuilderV2) over one snapshot.
// The zero value is not usable; use New or NewFromSnapshot. It is safe for concurrent use.
type Connector struct {
	source   SnapshotSource
	features Features
	// pageSize overrides the page size of every listing; tests set it to exercise paging.
	pageSize int
	// prov changes access in AWS; nil keeps provisioning off.
	prov Provisioner

	// perSync makes every sync (every Validate, which baton's syncer calls first) use a
	// snapshot no earlier sync has used; see WithSnapshotPerSync.
	perSync bool

	mu  sync.Mutex
	idx *index // nil until the source has succeeded once
	// served is true once a sync has started on idx.
	served bool
}

// New returns a connector over the snapshot source produces. source is called when the
// data is first needed; a successful result is kept for the life of the connector (or,
// with WithSnapshotPerSync, until the next sync starts), and a failure is returned to
// that request and retried by the next one. Grant and Revoke do
// not need the snapshot: they go to the provisioner (WithProvisioner), which reads what
// it needs from AWS.
func New(source SnapshotSource, features Features, opts ...Option) *Connector {
	c := &Connector{source: source, features: features}
	for _, o := range opts {
		o(c)
	}
	return c
}

// NewFromSnapshot returns a connector over a snapshot already in memory, with the features
// that snapshot has data for.
func NewFromSnapshot(s *inventory.Snapshot) *Connector {
	return New(func(context.Context) (*inventory.Snapshot, error) { return s, nil }, SnapshotFeatures(s))
}

// Snapshot returns the connector's snapshot, fetching it on first use.
func (c *Connector) Snapshot(ctx context.Context) (*inventory.Snapshot, error) {
	idx, err := c.index(ctx)
	if err != nil {
		return nil, err
	}
	return idx.snap, nil
}

// index returns the lookups over the snapshot, calling the source the first time. The
// mutex is held during the fetch on purpose: concurrent syncer workers must wait for the
// one fetch rather than start their own.
func (c *Connector) index(ctx context.Context) (*index, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.indexLocked(ctx)
}

func (c *Connector) indexLocked(ctx context.Context) (*index, error) {
	if c.idx != nil {
		return c.idx, nil
	}
	if c.source == nil {
		return nil, errors.New("connector: no snapshot source")
	}
	snap, err := c.source(ctx)
	if err != nil {
		return nil, err
	}
	if snap == nil {
		return nil, errors.New("connector: snapshot source returned no snapshot")
	}
	c.idx = newIndex(snap, c.features)
	return c.idx, nil
}

// Metadata describes the connector to baton.
func (c *Connector) Metadata(ctx context.Context) (*v2.ConnectorMetadata, error) {
	return v2.ConnectorMetadata_builder{
		DisplayName: "Gatehouse AWS",
		Description: "AWS Organizations, every account's IAM and IAM Identity Center, fetched in bulk.",
	}.Build(), nil
}

// Validate fetches the snapshot, so that a source that cannot produce one fails the sync
// before anything is written. baton's syncer calls it at the start of every sync; with
// WithSnapshotPerSync a sync after the first fetches a new snapshot here.
func (c *Connector) Validate(ctx context.Context) (annotations.Annotations, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.perSync && c.served {
		// Drop the previous sync's snapshot first: a failed fetch must fail this sync,
		// not serve the old data as if it were new.
		c.idx, c.served = nil, false
	}
	if _, err := c.indexLocked(ctx); err != nil {
		return nil, err
	}
	c.served = true
	return nil, nil
}

// ResourceSyncers returns one syncer per registered resource type. It does not fetch.
func (c *Connector) ResourceSyncers(ctx context.Context) []connectorbuilder.ResourceSyncerV2 {
	syncers := []connectorbuilder.ResourceSyncerV2{
		&accountSyncer{c: c},
		&iamUserSyncer{c: c},
		&iamGroupSyncer{c: c},
		&iamRoleSyncer{c: c},
		&iamPolicySyncer{c: c},
	}
	if c.features.Organizations {
		syncers = append(syncers, &organizationalUnitSyncer{c: c})
	}
	if c.features.AccessKeys {
		syncers = append(syncers, &accessKeySyncer{c: c})
	}
	if c.features.IdentityCenter {
		syncers = append(syncers, &ssoUserSyncer{c: c}, &ssoGroupSyncer{c: c}, &permissionSetSyncer{c: c})
	}
	return syncers
}

var _ connectorbuilder.ConnectorBuilderV2 = (*Connector)(nil)
