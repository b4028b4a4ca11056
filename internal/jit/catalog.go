package jit

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"github.com/gatehouse/gatehouse/internal/access"
	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The catalog: what the caller may request, from the inventory's entitlements and the rules.

// catalogScanBatch is how many entitlements one catalog query reads while looking for a page
// of requestable ones.
const catalogScanBatch = 500

type catalogToken struct {
	C string `json:"c"`
	I string `json:"i"`
}

// requesterGroups caches the caller's Identity Center groups per connection (rules may name
// them as requesters).
type requesterGroups struct {
	s      *Service
	email  string
	groups map[string][]string
}

func (g *requesterGroups) of(ctx context.Context, conn string) ([]string, error) {
	if gs, ok := g.groups[conn]; ok {
		return gs, nil
	}
	var out []string
	if strings.HasPrefix(conn, appIDPrefix) {
		// An imported application has no groups of its own: rules name Identity Center groups.
		gs, err := g.s.personGroups(ctx, g.email)
		if err != nil {
			return nil, err
		}
		g.groups[conn] = gs
		return gs, nil
	}
	user, _, err := g.s.ssoUser(ctx, conn, g.email)
	if err != nil {
		return nil, err
	}
	if user != nil {
		gs, err := g.s.st.UserGroups(ctx, conn, user.ID)
		if err != nil {
			return nil, err
		}
		for _, x := range gs {
			out = append(out, x[0], x[1])
		}
	}
	g.groups[conn] = out
	return out, nil
}

func itemOf(info *entitlementInfo, d access.Decision, pol *access.Policy) CatalogItem {
	t := info.target
	it := CatalogItem{
		EntitlementID: t.EntitlementID, DisplayName: t.DisplayName, Application: t.Application,
		ResourceType: string(info.rules.ResourceType), AccountID: t.AccountID, AccountName: t.AccountName,
		PermissionSetARN: t.PermissionSetARN, PermissionSetName: t.PermissionSetName, GroupName: t.GroupName,
		DefaultDuration: d.DefaultDuration, MaxDuration: d.MaxDuration, ReasonRequired: d.ReasonRequired,
		Policy: d.ApprovalPolicy, Why: d.Why, BreakGlass: d.BreakGlass,
	}
	if d.Rule != nil {
		it.Rule = d.Rule.Name
	}
	if pol != nil {
		var steps []string
		for _, st := range pol.Steps {
			d := st.Approvers.Describe()
			if t.Kind == KindAppGrant {
				// owners: true asks an imported application's owner.
				d = strings.ReplaceAll(d, "the owners of the account or permission set", "the owner of "+t.AppName)
			}
			steps = append(steps, d)
		}
		it.Approvers = strings.Join(steps, ", then ")
	}
	return it
}

// Catalog lists what the caller may request (the rules allow it, and the caller has the AWS
// identity it would be granted to: an Identity Center user, or for an IAM group an IAM user in
// its account), by entitlement id, one page at a time. Q searches display names, account names
// and ids, and permission set and group names. Entry says, for one entitlement, why it is not
// requestable.
func (s *Service) Catalog(ctx context.Context, c *auth.Caller, q CatalogQuery) ([]CatalogItem, string, error) {
	if err := signedIn(c); err != nil {
		return nil, "", err
	}
	cfg, _, err := s.config(ctx)
	if err != nil {
		return nil, "", err
	}
	var tok catalogToken
	if q.Page.Token != "" {
		b, err := base64.RawURLEncoding.DecodeString(q.Page.Token)
		if err != nil || json.Unmarshal(b, &tok) != nil {
			return nil, "", Errorf(CodeInvalid, "the page token is not one this list gave; start from the first page")
		}
	}
	size := q.Page.Size
	if size <= 0 {
		size = store.DefaultPageSize
	}
	size = min(size, store.MaxPageSize)
	email := strings.ToLower(c.Email)
	look := newLookups(s)
	groups := &requesterGroups{s: s, email: email, groups: map[string][]string{}}
	identities := &requesterIdentities{s: s, email: email, known: map[string]bool{}}
	out := []CatalogItem{}
	for {
		ents, err := s.st.RequestableEntitlements(ctx, store.RequestableQuery{Q: q.Q, AccountID: q.AccountID,
			AfterConn: tok.C, AfterID: tok.I, Limit: catalogScanBatch})
		if err != nil {
			return nil, "", err
		}
		for i := range ents {
			e := &ents[i]
			tok = catalogToken{C: e.ConnectionID, I: e.ID}
			info, err := look.info(ctx, e)
			if CodeOf(err) != 0 {
				continue // not requestable as such (a permission set gone since the sync)
			}
			if err != nil {
				return nil, "", err
			}
			gs, err := groups.of(ctx, e.ConnectionID)
			if err != nil {
				return nil, "", err
			}
			d := cfg.Rules.Decide(info.rules, access.Requester{Email: email, Groups: gs})
			if !d.Requestable {
				continue
			}
			if ok, err := identities.has(ctx, info.target); err != nil {
				return nil, "", err
			} else if !ok {
				continue // no AWS identity to grant it to: Entry says why
			}
			out = append(out, itemOf(info, d, cfg.Policy(d.ApprovalPolicy)))
			if len(out) == size {
				if i == len(ents)-1 && len(ents) < catalogScanBatch {
					return out, "", nil
				}
				b, _ := json.Marshal(tok)
				return out, base64.RawURLEncoding.EncodeToString(b), nil
			}
		}
		if len(ents) < catalogScanBatch {
			return out, "", nil
		}
	}
}

// Entry describes one entitlement for the caller: requestable or not and why (no rule, not
// among the rule's requesters, no AWS identity for it, or an approval policy nobody could
// approve), the rule's terms, and what a permission set grants.
func (s *Service) Entry(ctx context.Context, c *auth.Caller, entitlementID string) (*CatalogEntry, error) {
	if err := signedIn(c); err != nil {
		return nil, err
	}
	cfg, _, err := s.config(ctx)
	if err != nil {
		return nil, err
	}
	info, err := s.resolveEntitlement(ctx, entitlementID)
	if err != nil {
		return nil, err
	}
	email := strings.ToLower(c.Email)
	who, err := s.identityFor(ctx, info.target, email)
	if err != nil {
		return nil, err
	}
	d := cfg.Rules.Decide(info.rules, access.Requester{Email: email, Groups: who.Groups})
	pol := cfg.Policy(d.ApprovalPolicy)
	e := &CatalogEntry{Item: itemOf(info, d, pol), Requestable: d.Requestable, NotRequestableWhy: d.NotRequestableWhy}
	if e.Requestable && who.Why != "" {
		e.Requestable, e.NotRequestableWhy = false, who.Why
	}
	if e.Requestable {
		e.Note = who.Note
	}
	if e.Requestable && pol != nil {
		t := info.target
		t.PrincipalID = who.PrincipalID
		if _, err := access.Plan(ctx, pol, email, resolver{s: s, target: t}); err != nil {
			var pe *access.PlanError
			if !errors.As(err, &pe) {
				return nil, err
			}
			e.Requestable, e.NotRequestableWhy = false, pe.Detail
		}
	}
	if ps := info.permissionSet; ps != nil {
		e.PermissionSet = &PermissionSetInfo{
			ARN: ps.ID, Name: ps.DisplayName, SessionDuration: profileString(ps.Profile, "session_duration"),
			ManagedPolicies: append(profileStrings(ps.Profile, "managed_policies"), profileStrings(ps.Profile, "customer_managed_policies")...),
			InlinePolicy:    profileString(ps.Profile, "inline_policy"),
		}
	}
	return e, nil
}

// requesterIdentities remembers whether the caller has the principal a kind of access needs:
// one lookup per connection (Identity Center) or per account (IAM), not one per entitlement.
type requesterIdentities struct {
	s     *Service
	email string
	known map[string]bool
}

func (r *requesterIdentities) has(ctx context.Context, t Target) (bool, error) {
	key := t.ConnectionID + "|" + string(t.Kind)
	if t.Kind == KindIAMGroupMembership {
		key += "|" + t.AccountID
	}
	if t.Kind == KindAppGrant {
		// Anyone signed in may ask for an imported application's access: the owner creates
		// a missing user when granting (Entry's Note says so).
		return true, nil
	}
	if ok, seen := r.known[key]; seen {
		return ok, nil
	}
	who, err := r.s.identityFor(ctx, t, r.email)
	if err != nil {
		return false, err
	}
	r.known[key] = who.Why == ""
	return r.known[key], nil
}
