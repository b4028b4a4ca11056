package review

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Who reviews an item. Without a sequence, one step: the union of the item's manager (the
// identity's Identity Center manager attribute), its owner (the account's owners, else the
// permission set's, else the application's), the named people, and the members of the
// named groups. With a sequence, one step per entry, in order. The item's own person is
// never a reviewer: a step left with nobody goes to the campaign's fallback reviewers (the
// admins when it names none), and the item's history says why.

// resolver resolves reviewers during a freeze, with caches.
type resolver struct {
	s      *Service
	tx     *store.Tx
	camp   *Campaign
	inv    map[string]*connInventory
	owners map[string][]string
	groups map[string][]string // connection + group -> member emails
	// apps are the imported applications by id; people caches whether an email is a
	// person of the inventory (an application's manager column).
	apps   map[string]*store.App
	people map[string]bool
	admins []string
	loaded bool
}

func newResolver(s *Service, tx *store.Tx, camp *Campaign) *resolver {
	return &resolver{s: s, tx: tx, camp: camp, inv: map[string]*connInventory{}, owners: map[string][]string{}, groups: map[string][]string{},
		apps: map[string]*store.App{}, people: map[string]bool{}}
}

// steps resolves every step of the item; notes say why a step went to the fallback.
func (r *resolver) steps(ctx context.Context, it *store.ReviewItem) ([][]string, []string, error) {
	cfg := r.camp.Reviewers
	var kinds [][]string
	if len(cfg.Sequence) > 0 {
		for _, k := range cfg.Sequence {
			kinds = append(kinds, []string{k})
		}
	} else {
		var one []string
		if cfg.Manager {
			one = append(one, "manager")
		}
		if cfg.Owner {
			one = append(one, "owner")
		}
		if len(cfg.People) > 0 {
			one = append(one, "people")
		}
		if len(cfg.Groups) > 0 {
			one = append(one, "groups")
		}
		kinds = [][]string{one}
	}
	var steps [][]string
	var notes []string
	for _, kind := range kinds {
		var emails, why []string
		for _, k := range kind {
			got, w, err := r.resolve(ctx, it, k)
			if err != nil {
				return nil, nil, err
			}
			emails = append(emails, got...)
			if w != "" {
				why = append(why, w)
			}
		}
		emails = normEmails(emails)
		own := slices.Contains(emails, it.Identity) && it.Identity != ""
		emails = slices.DeleteFunc(emails, func(e string) bool { return e == it.Identity })
		if len(emails) > 0 {
			steps = append(steps, emails)
			continue
		}
		fb, err := r.fallback(ctx, it)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case own:
			why = append(why, fmt.Sprintf("%s would review their own access", it.Identity))
		case len(kind) == 0:
			why = append(why, "the campaign names no reviewers")
		}
		if len(fb) == 0 {
			notes = append(notes, fmt.Sprintf("nobody can review this item (%s) and there is no fallback reviewer other than %s: an admin or auditor must reassign it",
				strings.Join(why, "; "), it.Identity))
		} else {
			notes = append(notes, fmt.Sprintf("goes to the fallback reviewers %s: %s", strings.Join(fb, ", "), strings.Join(why, "; ")))
		}
		steps = append(steps, fb)
	}
	return steps, notes, nil
}

// fallback are the campaign's fallback reviewers (the admins when none), never the item's
// own person.
func (r *resolver) fallback(ctx context.Context, it *store.ReviewItem) ([]string, error) {
	fb := r.camp.Reviewers.Fallback
	if len(fb) == 0 {
		if !r.loaded {
			a, err := r.s.st.UsersWithRole(ctx, auth.RoleAdmin)
			if err != nil {
				return nil, err
			}
			r.admins, r.loaded = normEmails(a), true
		}
		fb = r.admins
	}
	return slices.DeleteFunc(slices.Clone(fb), func(e string) bool { return e == it.Identity }), nil
}

// resolve is one kind of reviewer for the item, or why there is none.
func (r *resolver) resolve(ctx context.Context, it *store.ReviewItem, kind string) ([]string, string, error) {
	switch kind {
	case "manager":
		if it.PrincipalType == appUserType {
			m, why, err := r.appManager(ctx, it)
			if err != nil || m == "" {
				return nil, why, err
			}
			return []string{m}, "", nil
		}
		m := r.manager(it)
		if m == "" {
			if it.Identity == "" {
				return nil, fmt.Sprintf("%s is not a person, so has no manager", it.PrincipalName), nil
			}
			return nil, fmt.Sprintf("Identity Center has no manager for %s", it.Identity), nil
		}
		return []string{m}, "", nil
	case "owner":
		if it.PrincipalType == appUserType {
			o, err := r.appOwner(ctx, it)
			if err != nil {
				return nil, "", err
			}
			if len(o) == 0 {
				return nil, fmt.Sprintf("the application %s has no owner", r.appName(it)), nil
			}
			return o, "", nil
		}
		o, err := r.owner(ctx, it)
		if err != nil {
			return nil, "", err
		}
		if len(o) == 0 {
			return nil, fmt.Sprintf("nobody owns account %s, its permission set or the application", it.AccountID), nil
		}
		return o, "", nil
	case "people":
		if len(r.camp.Reviewers.People) == 0 {
			return nil, "the campaign names no people", nil
		}
		return r.camp.Reviewers.People, "", nil
	case "groups":
		var out []string
		for _, g := range r.camp.Reviewers.Groups {
			m, err := r.groupMembers(ctx, it.ConnectionID, g)
			if err != nil {
				return nil, "", err
			}
			out = append(out, m...)
		}
		if len(out) == 0 {
			return nil, fmt.Sprintf("the groups %s have no members with an email", strings.Join(r.camp.Reviewers.Groups, ", ")), nil
		}
		return out, "", nil
	}
	return nil, "", fmt.Errorf("unknown reviewer kind %q", kind)
}

// manager is the identity's manager from their Identity Center user (manager_email, or
// manager / manager_id naming another user by email or id), as internal/jit reads it.
func (r *resolver) manager(it *store.ReviewItem) string {
	ci := r.inv[it.ConnectionID]
	if ci == nil || it.Identity == "" {
		return ""
	}
	users := ci.ssoByMail[it.Identity]
	if len(users) != 1 {
		return ""
	}
	u := users[0]
	if m := profileString(u.Profile, "manager_email"); m != "" {
		return strings.ToLower(m)
	}
	ref := profileString(u.Profile, "manager")
	if ref == "" {
		ref = profileString(u.Profile, "manager_id")
	}
	if ref == "" {
		return ""
	}
	if strings.Contains(ref, "@") {
		return strings.ToLower(ref)
	}
	if m := ci.get("sso_user", ref); m != nil {
		return strings.ToLower(m.Email)
	}
	return ""
}

// owner is the account's owners, else the permission set's, else the application's.
func (r *resolver) owner(ctx context.Context, it *store.ReviewItem) ([]string, error) {
	var scopes [][2]string
	if it.AccountID != "" {
		scopes = append(scopes, [2]string{store.OwnerAccount, it.AccountID})
	}
	if it.ResourceType == "account" {
		scopes = append(scopes, [2]string{store.OwnerPermissionSet, setOf(it.EntitlementID)})
	}
	scopes = append(scopes, [2]string{store.OwnerApplication, it.ConnectionID}, [2]string{store.OwnerApplication, "aws"})
	for _, sc := range scopes {
		key := sc[0] + "\x00" + sc[1]
		o, ok := r.owners[key]
		if !ok {
			var err error
			if o, err = r.tx.Owners(ctx, sc[0], sc[1]); err != nil {
				return nil, err
			}
			r.owners[key] = o
		}
		if len(o) > 0 {
			return o, nil
		}
	}
	return nil, nil
}

// groupMembers are the emails of the Identity Center group (id or name) in the connection.
func (r *resolver) groupMembers(ctx context.Context, conn, group string) ([]string, error) {
	key := conn + "\x00" + group
	if m, ok := r.groups[key]; ok {
		return m, nil
	}
	id := group
	if ci := r.inv[conn]; ci != nil {
		for _, res := range ci.inv.Resources {
			if res.Type == "sso_group" && (res.ID == group || strings.EqualFold(res.DisplayName, group)) {
				id = res.ID
				break
			}
		}
	}
	m, err := r.tx.GroupMemberEmails(ctx, conn, id)
	if err != nil {
		return nil, err
	}
	r.groups[key] = m
	return m, nil
}
