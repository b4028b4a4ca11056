package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"

	"github.com/gatehouse/gatehouse/internal/c1zread"
)

// The access view answers the core question of an access review from a .c1z: who can
// reach which AWS account, with which permission set, and through what (an assignment
// of their own, or a group). gatehouse demo and gatehouse inspect access print it with
// the same code.

// accessRow is one way a principal reaches an account with a permission set.
type accessRow struct {
	AccountID     string `json:"account_id"`
	AccountName   string `json:"account_name,omitempty"`
	PermissionSet string `json:"permission_set"`
	EntitlementID string `json:"entitlement_id"`
	PrincipalType string `json:"principal_type"`
	PrincipalID   string `json:"principal_id"`
	PrincipalName string `json:"principal_name"`
	Email         string `json:"email,omitempty"`
	// ViaGroupID and ViaGroup name the group the access comes through; empty for an
	// assignment of the principal's own.
	ViaGroupID string `json:"via_group_id,omitempty"`
	ViaGroup   string `json:"via_group,omitempty"`
}

func (r accessRow) account() string {
	if r.AccountName == "" {
		return r.AccountID
	}
	return r.AccountName + " (" + r.AccountID + ")"
}

func (r accessRow) who() string {
	if r.PrincipalType == "sso_group" {
		return "group " + r.PrincipalName
	}
	if r.Email != "" {
		return r.PrincipalName + " <" + r.Email + ">"
	}
	return r.PrincipalName
}

func (r accessRow) through() string {
	if r.ViaGroup != "" {
		return "group " + r.ViaGroup
	}
	return "direct assignment"
}

// principalInfo is what the view shows of a resource.
type principalInfo struct {
	name, email string
}

// readAccess reads the account assignments of the .c1z (grants on account entitlements,
// expanded through groups by the sync) as rows, sorted by account, permission set and
// principal.
func readAccess(ctx context.Context, f *c1zread.File) ([]accessRow, error) {
	resources, err := f.Resources(ctx, "")
	if err != nil {
		return nil, err
	}
	info := map[string]principalInfo{}
	psNames := map[string]string{} // permission set id (ps-...) and ARN -> name
	for _, r := range resources {
		id := r.GetId()
		pi := principalInfo{name: r.GetDisplayName(), email: r.GetProfile().GetFields()["email"].GetStringValue()}
		info[id.GetResourceType()+":"+id.GetResource()] = pi
		if id.GetResourceType() == "permission_set" {
			arn := id.GetResource()
			psNames[arn] = r.GetDisplayName()
			psNames[arn[strings.LastIndex(arn, "/")+1:]] = r.GetDisplayName()
		}
	}
	ents, err := f.Entitlements(ctx, "account")
	if err != nil {
		return nil, err
	}
	entByID := map[string]*v2.Entitlement{}
	for _, e := range ents {
		entByID[e.GetId()] = e
	}
	grants, err := f.Grants(ctx, "account")
	if err != nil {
		return nil, err
	}
	var rows []accessRow
	for _, g := range grants {
		e := g.GetEntitlement()
		accountID := e.GetResource().GetId().GetResource()
		account := info["account:"+accountID]
		ps := permissionSetName(entByID[e.GetId()], account.name, psNames)
		p := g.GetPrincipal().GetId()
		who := info[p.GetResourceType()+":"+p.GetResource()]
		base := accessRow{AccountID: accountID, AccountName: account.name, PermissionSet: ps, EntitlementID: e.GetId(),
			PrincipalType: p.GetResourceType(), PrincipalID: p.GetResource(), PrincipalName: who.name, Email: who.email}
		if base.PrincipalName == "" {
			base.PrincipalName = p.GetResource()
		}
		direct := len(g.GetSources().GetSources()) == 0
		for src := range g.GetSources().GetSources() {
			// A source is the entitlement the grant comes from: the group's membership
			// entitlement (sso_group:<id>:member), or the grant's own for an assignment
			// the principal also holds itself.
			groupID, ok := strings.CutPrefix(src, "sso_group:")
			groupID, _, ok2 := strings.Cut(groupID, ":")
			if !ok || !ok2 {
				direct = true
				continue
			}
			row := base
			row.ViaGroupID = groupID
			row.ViaGroup = info["sso_group:"+groupID].name
			if row.ViaGroup == "" {
				row.ViaGroup = groupID
			}
			rows = append(rows, row)
		}
		if direct {
			rows = append(rows, base)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		switch {
		case a.account() != b.account():
			return a.account() < b.account()
		case a.PermissionSet != b.PermissionSet:
			return a.PermissionSet < b.PermissionSet
		case (a.PrincipalType == "sso_group") != (b.PrincipalType == "sso_group"):
			return a.PrincipalType == "sso_group" // groups first: they explain the rows below
		case a.who() != b.who():
			return a.who() < b.who()
		}
		return a.through() < b.through()
	})
	return rows, nil
}

// permissionSetName is the name of the permission set of an account entitlement: from
// the permission set resources when the entitlement's slug names one, else its display
// name ("NAME on ACCOUNT") without the account.
func permissionSetName(e *v2.Entitlement, accountName string, psNames map[string]string) string {
	if e == nil {
		return ""
	}
	if n, ok := psNames[e.GetSlug()]; ok {
		return n
	}
	if n, ok := strings.CutSuffix(e.GetDisplayName(), " on "+accountName); ok {
		return n
	}
	return e.GetDisplayName()
}

// accessFilter keeps the rows of one account and of one person.
type accessFilter struct {
	account string // account id or name
	person  string // email, user name, display name or identity store id of a user
}

// apply returns the rows the filter keeps, or an error naming a filter that matches no
// account or person in the file at all (a typo, not an answer).
func (af accessFilter) apply(ctx context.Context, f *c1zread.File, path string, rows []accessRow) ([]accessRow, error) {
	if af.account != "" {
		accounts, err := f.Resources(ctx, "account")
		if err != nil {
			return nil, err
		}
		found := false
		for _, a := range accounts {
			found = found || a.GetId().GetResource() == af.account || strings.EqualFold(a.GetDisplayName(), af.account)
		}
		if !found {
			return nil, fmt.Errorf("no account %q in %s: give an account id or name as gatehouse inspect -f %s resources --type account prints it", af.account, path, path)
		}
	}
	var userIDs map[string]bool
	if af.person != "" {
		users, err := f.Resources(ctx, "sso_user")
		if err != nil {
			return nil, err
		}
		userIDs = map[string]bool{}
		for _, u := range users {
			fields := u.GetProfile().GetFields()
			for _, v := range []string{u.GetId().GetResource(), u.GetDisplayName(), fields["email"].GetStringValue(), fields["user_name"].GetStringValue()} {
				if v != "" && strings.EqualFold(v, af.person) {
					userIDs[u.GetId().GetResource()] = true
				}
			}
		}
		if len(userIDs) == 0 {
			return nil, fmt.Errorf("no Identity Center user %q in %s: give an email, user name, display name or user id", af.person, path)
		}
	}
	var out []accessRow
	for _, r := range rows {
		if af.account != "" && r.AccountID != af.account && !strings.EqualFold(r.AccountName, af.account) {
			continue
		}
		if userIDs != nil && (r.PrincipalType != "sso_user" || !userIDs[r.PrincipalID]) {
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// describe says what the filter asked for, for an empty answer.
func (af accessFilter) describe() string {
	var parts []string
	if af.person != "" {
		parts = append(parts, "for "+af.person)
	}
	if af.account != "" {
		parts = append(parts, "in account "+af.account)
	}
	return strings.Join(parts, " ")
}

// writeAccessTable prints the rows as a table that fits width (0: no limit).
func writeAccessTable(w io.Writer, rows []accessRow, width int) error {
	t := table{header: []string{"ACCOUNT", "PERMISSION SET", "WHO", "THROUGH"}}
	for _, r := range rows {
		t.add(r.account(), r.PermissionSet, r.who(), r.through())
	}
	return writeTable(w, &t, width)
}

// writeAccessJSON prints one JSON object per row.
func writeAccessJSON(w io.Writer, rows []accessRow) error {
	enc := json.NewEncoder(w)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}
