package appimport

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/connectorbuilder"
	"github.com/conductorone/baton-sdk/pkg/pagination"
	"github.com/conductorone/baton-sdk/pkg/types/entitlement"
	"github.com/conductorone/baton-sdk/pkg/types/grant"
	"github.com/conductorone/baton-sdk/pkg/types/resource"

	"github.com/gatehouse/gatehouse/internal/appfile"
	"github.com/gatehouse/gatehouse/internal/connector"
)

// Resource types of an imported application. They are part of the .c1z contract (ids
// embed them), so they never change spelling.
const (
	TypeAppUser     = "app_user"
	TypeAppResource = "app_resource"
)

// Dataset is an application's access as its files state it: who exists and who holds
// which entitlement of which resource. It is what internal/appfile parses, reduced to
// what the connector presents.
type Dataset struct {
	Users  []User
	Grants []Grant
}

// User is one identity of the application.
type User struct {
	ID, Email, Name, Status, Manager, Type string
	LastLogin                              *time.Time
}

// Grant is one user holding one entitlement of one resource.
type Grant struct {
	ResourceType, ResourceName, ResourceDescription string
	Entitlement, EntitlementDescription             string
	UserID                                          string
}

// Normalize is how names become ids: lowercased, trimmed, inner whitespace collapsed to
// one space. "Eng  Leads" and "eng leads" are one entitlement; "eng-leads" is another
// (internal/appfile reports such near-duplicates rather than merging them).
func Normalize(s string) string { return appfile.Normalise(s) }

// UserID is the baton id of the application's user: "<app id>:<user id>".
func UserID(appID, userID string) string { return appID + ":" + strings.TrimSpace(userID) }

// ResourceID is the baton id of a resource: "<app id>:<normalised type>:<normalised name>".
func ResourceID(appID, typ, name string) string {
	return appID + ":" + Normalize(typ) + ":" + Normalize(name)
}

// EntitlementID is the id of an entitlement: "app_resource:<resource id>:<normalised
// entitlement>", baton's "<type>:<resource id>:<slug>".
func EntitlementID(appID, typ, name, ent string) string {
	return TypeAppResource + ":" + ResourceID(appID, typ, name) + ":" + Normalize(ent)
}

// GrantID is the id of a grant: "<entitlement id>:app_user:<app user id>".
func GrantID(appID, typ, name, ent, userID string) string {
	return EntitlementID(appID, typ, name, ent) + ":" + TypeAppUser + ":" + UserID(appID, userID)
}

var (
	appUserResourceType = v2.ResourceType_builder{
		Id:          TypeAppUser,
		DisplayName: "Application user",
		Description: "A user of an application imported from files; linked to a person by email.",
		Traits:      []v2.ResourceType_Trait{v2.ResourceType_TRAIT_USER},
		Annotations: annotations.New(&v2.SkipEntitlementsAndGrants{}),
	}.Build()
	appResourceResourceType = v2.ResourceType_builder{
		Id:          TypeAppResource,
		DisplayName: "Application resource",
		Description: "A resource of an application imported from files (its kind is the file's resource type); its entitlements are the file's.",
	}.Build()
)

// pageSize is the page size of every listing (baton's own default ceiling).
const pageSize = 250

// appConnector is a baton connector over one application's Dataset.
type appConnector struct {
	appID, appName string
	users          []User // sorted by id
	userByID       map[string]bool
	resources      []*appResource // sorted by id
}

type appResource struct {
	id, typ, name, description string
	ents                       []*appEntitlement // sorted by slug
}

type appEntitlement struct {
	slug, name, description string
	users                   []string // sorted user ids
}

// newAppConnector indexes d. A grant to a user the dataset does not list is an error
// (internal/appfile reports it with its row before this point).
func newAppConnector(appID, appName string, d *Dataset) (*appConnector, error) {
	c := &appConnector{appID: appID, appName: appName, userByID: map[string]bool{}}
	for _, u := range d.Users {
		u.ID = strings.TrimSpace(u.ID)
		if u.ID == "" {
			return nil, fmt.Errorf("appimport: a user without an id")
		}
		if c.userByID[u.ID] {
			return nil, fmt.Errorf("appimport: user %q twice", u.ID)
		}
		c.userByID[u.ID] = true
		c.users = append(c.users, u)
	}
	sort.Slice(c.users, func(i, j int) bool { return c.users[i].ID < c.users[j].ID })
	byID := map[string]*appResource{}
	seen := map[string]bool{}
	for _, g := range d.Grants {
		uid := strings.TrimSpace(g.UserID)
		if !c.userByID[uid] {
			return nil, fmt.Errorf("appimport: a grant of %s %q to the unknown user %q", g.ResourceType, g.ResourceName, g.UserID)
		}
		if Normalize(g.ResourceType) == "" || Normalize(g.ResourceName) == "" || Normalize(g.Entitlement) == "" {
			return nil, fmt.Errorf("appimport: a grant to %q without a resource type, resource name or entitlement", g.UserID)
		}
		rid := ResourceID(appID, g.ResourceType, g.ResourceName)
		r := byID[rid]
		if r == nil {
			r = &appResource{id: rid, typ: strings.TrimSpace(g.ResourceType), name: strings.TrimSpace(g.ResourceName)}
			byID[rid] = r
			c.resources = append(c.resources, r)
		}
		if r.description == "" {
			r.description = strings.TrimSpace(g.ResourceDescription)
		}
		slug := Normalize(g.Entitlement)
		var e *appEntitlement
		for _, x := range r.ents {
			if x.slug == slug {
				e = x
			}
		}
		if e == nil {
			e = &appEntitlement{slug: slug, name: strings.TrimSpace(g.Entitlement)}
			r.ents = append(r.ents, e)
		}
		if e.description == "" {
			e.description = strings.TrimSpace(g.EntitlementDescription)
		}
		// The same grant on two rows is one grant.
		if k := rid + "\x00" + slug + "\x00" + uid; !seen[k] {
			seen[k] = true
			e.users = append(e.users, uid)
		}
	}
	sort.Slice(c.resources, func(i, j int) bool { return c.resources[i].id < c.resources[j].id })
	for _, r := range c.resources {
		sort.Slice(r.ents, func(i, j int) bool { return r.ents[i].slug < r.ents[j].slug })
		for _, e := range r.ents {
			sort.Strings(e.users)
		}
	}
	return c, nil
}

// WriteC1Z writes d as application appID's .c1z file at path, through baton's syncer
// (connector.WriteBuilderC1Z), so that it is ingested like any sync's file.
func WriteC1Z(ctx context.Context, appID, appName string, d *Dataset, path string) (*connector.Summary, error) {
	c, err := newAppConnector(appID, appName, d)
	if err != nil {
		return nil, err
	}
	return connector.WriteBuilderC1Z(ctx, c, path, connector.WithStrictChecks())
}

func (c *appConnector) Metadata(context.Context) (*v2.ConnectorMetadata, error) {
	return v2.ConnectorMetadata_builder{
		DisplayName: "Gatehouse application " + c.appName,
		Description: "The users, resources, entitlements and grants of an application, imported from its files.",
	}.Build(), nil
}

func (c *appConnector) Validate(context.Context) (annotations.Annotations, error) { return nil, nil }

func (c *appConnector) ResourceSyncers(context.Context) []connectorbuilder.ResourceSyncerV2 {
	return []connectorbuilder.ResourceSyncerV2{&appUserSyncer{c}, &appResourceSyncer{c}}
}

var _ connectorbuilder.ConnectorBuilderV2 = (*appConnector)(nil)

// window is the page [start, end) of n items that tok asks for, and the next token.
func window(tok pagination.Token, n int) (int, int, string, error) {
	start := 0
	if tok.Token != "" {
		var err error
		if start, err = strconv.Atoi(tok.Token); err != nil || start < 0 {
			return 0, 0, "", fmt.Errorf("appimport: invalid page token %q", tok.Token)
		}
	}
	size := tok.Size
	if size <= 0 || size > pageSize {
		size = pageSize
	}
	start = min(start, n)
	end := min(start+size, n)
	next := ""
	if end < n {
		next = strconv.Itoa(end)
	}
	return start, end, next, nil
}

type appUserSyncer struct{ c *appConnector }

func (s *appUserSyncer) ResourceType(context.Context) *v2.ResourceType { return appUserResourceType }

func (s *appUserSyncer) List(ctx context.Context, parent *v2.ResourceId, opts resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	if parent != nil {
		return nil, &resource.SyncOpResults{}, nil
	}
	start, end, next, err := window(opts.PageToken, len(s.c.users))
	if err != nil {
		return nil, nil, err
	}
	out := make([]*v2.Resource, 0, end-start)
	for _, u := range s.c.users[start:end] {
		r, err := s.c.userResource(u)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, r)
	}
	return out, &resource.SyncOpResults{NextPageToken: next}, nil
}

// userStatus maps the file's status to baton's: what it does not recognise is
// unspecified, never guessed.
func userStatus(s string) v2.UserTrait_Status_Status {
	switch Normalize(s) {
	case "active", "enabled":
		return v2.UserTrait_Status_STATUS_ENABLED
	case "inactive", "disabled", "suspended", "deprovisioned":
		return v2.UserTrait_Status_STATUS_DISABLED
	case "deleted":
		return v2.UserTrait_Status_STATUS_DELETED
	}
	return v2.UserTrait_Status_STATUS_UNSPECIFIED
}

func (c *appConnector) userResource(u User) (*v2.Resource, error) {
	email := strings.ToLower(strings.TrimSpace(u.Email))
	p := map[string]any{"user_id": u.ID, "application_id": c.appID}
	for k, v := range map[string]string{"email": email, "name": u.Name, "status": u.Status, "manager": u.Manager, "user_type": u.Type} {
		if v = strings.TrimSpace(v); v != "" {
			p[k] = v
		}
	}
	if u.LastLogin != nil {
		p["last_login"] = u.LastLogin.UTC().Format(time.RFC3339)
	}
	traits := []resource.UserTraitOption{
		resource.WithUserLogin(u.ID),
		resource.WithStatus(userStatus(u.Status)),
		resource.WithUserProfile(p),
	}
	if email != "" {
		traits = append(traits, resource.WithEmail(email, true))
	}
	if u.LastLogin != nil {
		traits = append(traits, resource.WithLastLogin(*u.LastLogin))
	}
	name := strings.TrimSpace(u.Name)
	if name == "" {
		name = u.ID
	}
	return resource.NewUserResource(name, appUserResourceType, UserID(c.appID, u.ID), traits, resource.WithResourceProfile(p))
}

func (s *appUserSyncer) Entitlements(context.Context, *v2.Resource, resource.SyncOpAttrs) ([]*v2.Entitlement, *resource.SyncOpResults, error) {
	return nil, &resource.SyncOpResults{}, nil
}

func (s *appUserSyncer) Grants(context.Context, *v2.Resource, resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	return nil, &resource.SyncOpResults{}, nil
}

type appResourceSyncer struct{ c *appConnector }

func (s *appResourceSyncer) ResourceType(context.Context) *v2.ResourceType {
	return appResourceResourceType
}

func (s *appResourceSyncer) List(ctx context.Context, parent *v2.ResourceId, opts resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	if parent != nil {
		return nil, &resource.SyncOpResults{}, nil
	}
	start, end, next, err := window(opts.PageToken, len(s.c.resources))
	if err != nil {
		return nil, nil, err
	}
	out := make([]*v2.Resource, 0, end-start)
	for _, r := range s.c.resources[start:end] {
		p := map[string]any{"kind": r.typ, "name": r.name, "application_id": s.c.appID}
		opts := []resource.ResourceOption{}
		if r.description != "" {
			p["description"] = r.description
			opts = append(opts, resource.WithDescription(r.description))
		}
		opts = append(opts, resource.WithResourceProfile(p))
		res, err := resource.NewResource(r.name, appResourceResourceType, r.id, opts...)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, res)
	}
	return out, &resource.SyncOpResults{NextPageToken: next}, nil
}

func (s *appResourceSyncer) find(r *v2.Resource) *appResource {
	id := r.GetId().GetResource()
	i := sort.Search(len(s.c.resources), func(i int) bool { return s.c.resources[i].id >= id })
	if i < len(s.c.resources) && s.c.resources[i].id == id {
		return s.c.resources[i]
	}
	return nil
}

func (s *appResourceSyncer) Entitlements(ctx context.Context, r *v2.Resource, opts resource.SyncOpAttrs) ([]*v2.Entitlement, *resource.SyncOpResults, error) {
	ar := s.find(r)
	if ar == nil {
		return nil, &resource.SyncOpResults{}, nil
	}
	start, end, next, err := window(opts.PageToken, len(ar.ents))
	if err != nil {
		return nil, nil, err
	}
	out := make([]*v2.Entitlement, 0, end-start)
	for _, e := range ar.ents[start:end] {
		eo := []entitlement.EntitlementOption{
			entitlement.WithDisplayName(e.name),
			entitlement.WithGrantableTo(appUserResourceType),
		}
		if e.description != "" {
			eo = append(eo, entitlement.WithDescription(e.description))
		}
		out = append(out, entitlement.NewPermissionEntitlement(r, e.slug, eo...))
	}
	return out, &resource.SyncOpResults{NextPageToken: next}, nil
}

func (s *appResourceSyncer) Grants(ctx context.Context, r *v2.Resource, opts resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	ar := s.find(r)
	if ar == nil {
		return nil, &resource.SyncOpResults{}, nil
	}
	// One flat list of (entitlement, user) over the resource's entitlements, paged.
	type pair struct{ slug, user string }
	var all []pair
	for _, e := range ar.ents {
		for _, u := range e.users {
			all = append(all, pair{e.slug, u})
		}
	}
	start, end, next, err := window(opts.PageToken, len(all))
	if err != nil {
		return nil, nil, err
	}
	ref := v2.Resource_builder{Id: r.GetId()}.Build()
	out := make([]*v2.Grant, 0, end-start)
	for _, p := range all[start:end] {
		principal := v2.ResourceId_builder{ResourceType: TypeAppUser, Resource: UserID(s.c.appID, p.user)}.Build()
		out = append(out, grant.NewGrant(ref, p.slug, principal))
	}
	return out, &resource.SyncOpResults{NextPageToken: next}, nil
}
