// Package c1zread reads a baton .c1z file back with baton-sdk's own reader: its resource
// types, resources, entitlements and grants, optionally filtered by resource type, in a
// stable order. `gatehouse inspect` and the tests that check what a sync wrote use it.
package c1zread

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/dotc1z"
	"github.com/conductorone/baton-sdk/pkg/dotc1z/c1zstore"
)

// File is an open .c1z file. Close it when done: baton unpacks the file into a temporary
// directory, which Close removes.
type File struct {
	store c1zstore.Store
}

// Option configures Open.
type Option func(*options)

type options struct{ tmpDir string }

// WithTempDir sets where baton unpacks the file (default: the system temporary directory).
func WithTempDir(dir string) Option {
	return func(o *options) { o.tmpDir = dir }
}

// Open opens the .c1z file at path read-only.
func Open(ctx context.Context, path string, opts ...Option) (*File, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("open %s: is a directory, not a .c1z file", path)
	}
	if st.Size() == 0 {
		// baton would treat an empty file as a new store to create.
		return nil, fmt.Errorf("open %s: the file is empty, not a .c1z file", path)
	}
	storeOpts := []dotc1z.C1ZOption{dotc1z.WithReadOnly(true)}
	if o.tmpDir != "" {
		storeOpts = append(storeOpts, dotc1z.WithTmpDir(o.tmpDir))
	}
	store, err := dotc1z.NewStore(ctx, path, storeOpts...)
	if err != nil {
		if errors.Is(err, dotc1z.ErrInvalidFile) {
			return nil, fmt.Errorf("open %s: not a .c1z file", path)
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return &File{store: store}, nil
}

// Close releases the file.
func (f *File) Close(ctx context.Context) error {
	return f.store.Close(ctx)
}

// ResourceTypes returns the file's resource types, by id.
func (f *File) ResourceTypes(ctx context.Context) ([]*v2.ResourceType, error) {
	var out []*v2.ResourceType
	token := ""
	for {
		resp, err := f.store.ListResourceTypes(ctx, v2.ResourceTypesServiceListResourceTypesRequest_builder{PageToken: token}.Build())
		if err != nil {
			return nil, fmt.Errorf("list resource types: %w", err)
		}
		out = append(out, resp.GetList()...)
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	slices.SortFunc(out, func(a, b *v2.ResourceType) int { return cmp.Compare(a.GetId(), b.GetId()) })
	return out, nil
}

// Resources returns the resources of the given type ("" for all), by type and id.
func (f *File) Resources(ctx context.Context, resourceType string) ([]*v2.Resource, error) {
	var out []*v2.Resource
	token := ""
	for {
		resp, err := f.store.ListResources(ctx, v2.ResourcesServiceListResourcesRequest_builder{
			ResourceTypeId: resourceType,
			PageToken:      token,
		}.Build())
		if err != nil {
			return nil, fmt.Errorf("list resources: %w", err)
		}
		for _, r := range resp.GetList() {
			if resourceType == "" || r.GetId().GetResourceType() == resourceType {
				out = append(out, r)
			}
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	slices.SortFunc(out, func(a, b *v2.Resource) int {
		return cmp.Or(
			cmp.Compare(a.GetId().GetResourceType(), b.GetId().GetResourceType()),
			cmp.Compare(a.GetId().GetResource(), b.GetId().GetResource()),
		)
	})
	return out, nil
}

// Entitlements returns the entitlements on resources of the given type ("" for all), by id.
func (f *File) Entitlements(ctx context.Context, resourceType string) ([]*v2.Entitlement, error) {
	var out []*v2.Entitlement
	token := ""
	for {
		resp, err := f.store.ListEntitlements(ctx, v2.EntitlementsServiceListEntitlementsRequest_builder{PageToken: token}.Build())
		if err != nil {
			return nil, fmt.Errorf("list entitlements: %w", err)
		}
		for _, e := range resp.GetList() {
			if resourceType == "" || e.GetResource().GetId().GetResourceType() == resourceType {
				out = append(out, e)
			}
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	slices.SortFunc(out, func(a, b *v2.Entitlement) int { return cmp.Compare(a.GetId(), b.GetId()) })
	return out, nil
}

// Grants returns the grants of entitlements on resources of the given type ("" for all),
// including the grants baton expanded from group grants, by id.
func (f *File) Grants(ctx context.Context, resourceType string) ([]*v2.Grant, error) {
	var out []*v2.Grant
	token := ""
	for {
		resp, err := f.store.ListGrants(ctx, v2.GrantsServiceListGrantsRequest_builder{PageToken: token}.Build())
		if err != nil {
			return nil, fmt.Errorf("list grants: %w", err)
		}
		for _, g := range resp.GetList() {
			if resourceType == "" || g.GetEntitlement().GetResource().GetId().GetResourceType() == resourceType {
				out = append(out, g)
			}
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	slices.SortFunc(out, func(a, b *v2.Grant) int { return cmp.Compare(a.GetId(), b.GetId()) })
	return out, nil
}

// Contents is everything of one resource type (or all) in a file.
type Contents struct {
	ResourceTypes []*v2.ResourceType
	Resources     []*v2.Resource
	Entitlements  []*v2.Entitlement
	Grants        []*v2.Grant
}

// Read opens the file at path, reads its resource types and the resources, entitlements and
// grants of the given resource type ("" for all), and closes it.
func Read(ctx context.Context, path, resourceType string, opts ...Option) (_ *Contents, err error) {
	f, err := Open(ctx, path, opts...)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, f.Close(ctx)) }()
	var c Contents
	if c.ResourceTypes, err = f.ResourceTypes(ctx); err != nil {
		return nil, err
	}
	if c.Resources, err = f.Resources(ctx, resourceType); err != nil {
		return nil, err
	}
	if c.Entitlements, err = f.Entitlements(ctx, resourceType); err != nil {
		return nil, err
	}
	if c.Grants, err = f.Grants(ctx, resourceType); err != nil {
		return nil, err
	}
	return &c, nil
}

// EachResource calls fn for every resource of the file, a page at a time in the file's
// order, so that a reader of a large file never holds all of it (internal/ingest).
func (f *File) EachResource(ctx context.Context, fn func(*v2.Resource) error) error {
	token := ""
	for {
		resp, err := f.store.ListResources(ctx, v2.ResourcesServiceListResourcesRequest_builder{PageToken: token}.Build())
		if err != nil {
			return fmt.Errorf("list resources: %w", err)
		}
		for _, r := range resp.GetList() {
			if err := fn(r); err != nil {
				return err
			}
		}
		if token = resp.GetNextPageToken(); token == "" {
			return nil
		}
	}
}

// EachEntitlement calls fn for every entitlement of the file, a page at a time.
func (f *File) EachEntitlement(ctx context.Context, fn func(*v2.Entitlement) error) error {
	token := ""
	for {
		resp, err := f.store.ListEntitlements(ctx, v2.EntitlementsServiceListEntitlementsRequest_builder{PageToken: token}.Build())
		if err != nil {
			return fmt.Errorf("list entitlements: %w", err)
		}
		for _, e := range resp.GetList() {
			if err := fn(e); err != nil {
				return err
			}
		}
		if token = resp.GetNextPageToken(); token == "" {
			return nil
		}
	}
}

// EachGrant calls fn for every grant of the file (expanded grants included), a page at a
// time.
func (f *File) EachGrant(ctx context.Context, fn func(*v2.Grant) error) error {
	token := ""
	for {
		resp, err := f.store.ListGrants(ctx, v2.GrantsServiceListGrantsRequest_builder{PageToken: token}.Build())
		if err != nil {
			return fmt.Errorf("list grants: %w", err)
		}
		for _, g := range resp.GetList() {
			if err := fn(g); err != nil {
				return err
			}
		}
		if token = resp.GetNextPageToken(); token == "" {
			return nil
		}
	}
}
