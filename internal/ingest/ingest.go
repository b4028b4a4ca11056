// Package ingest turns a sync's .c1z file into the store's inventory history: it reads
// the file with baton's reader (internal/c1zread), derives for every resource,
// entitlement and grant the account it concerns and the account whose IAM it was read
// from (its scope), compares the result with the open rows of the connection and writes
// only the differences, in one transaction.
//
// History is intervals (see docs/history.md): a row appears with first_sync/first_seen
// and ends with removed_sync/removed_at. What a sync did not find is removed, except
// what it could not have found: the IAM of an account it could not read stays open and
// the account is marked stale, so that a failed read never looks like removed access.
package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"

	"github.com/gatehouse/gatehouse/internal/c1zread"
	"github.com/gatehouse/gatehouse/internal/store"
)

// SkippedAccount is an account the sync could not read, with why and what to do.
type SkippedAccount struct {
	AccountID string
	Reason    string
	Fix       string
}

// Input is one sync to ingest.
type Input struct {
	ConnectionID string
	SyncID       string
	C1ZPath      string
	// At is when the sync read AWS: the time the rows it adds were first seen and the
	// rows it no longer finds were removed.
	At time.Time
	// Skipped are the accounts the sync could not read. Accounts the file itself marks
	// as not synced count too.
	Skipped []SkippedAccount
}

// Result says what an ingestion changed. The grant counts are of grants; a grant whose
// route changed (held through another group, or now directly) is Changed, not Removed
// and Added.
type Result struct {
	Added, Removed, Changed, Unchanged int
	ResourcesAdded, ResourcesRemoved   int
	// StaleAccounts are the accounts whose IAM was kept as last read, sorted.
	StaleAccounts []string
	// RowsWritten counts every inventory row inserted, closed or rewritten.
	RowsWritten int64
	// Kept counts open rows a sync did not find but that stay open because the account
	// they were read from is stale.
	Kept int
}

// Apply ingests in.C1ZPath into st as the state of connection in.ConnectionID at in.At.
// Everything is written in one transaction: on error nothing is.
func Apply(ctx context.Context, st *store.Store, in Input) (*Result, error) {
	if in.ConnectionID == "" || in.SyncID == "" {
		return nil, errors.New("ingest: a connection id and a sync id are required")
	}
	if in.At.IsZero() {
		return nil, errors.New("ingest: the sync's time (At) is required")
	}
	in.At = in.At.UTC().Truncate(time.Millisecond)
	snap, err := read(ctx, in)
	if err != nil {
		return nil, err
	}
	var res *Result
	err = st.InTx(ctx, func(tx *store.Tx) error {
		open, err := tx.OpenInventory(ctx, in.ConnectionID)
		if err != nil {
			return err
		}
		d, r := diff(in, snap, open)
		if r.RowsWritten, err = tx.ApplyInventoryDiff(ctx, d); err != nil {
			return err
		}
		if err := tx.RecordAccountReads(ctx, in.ConnectionID, in.SyncID, in.At, snap.reads); err != nil {
			return err
		}
		if err := tx.RecordIngest(ctx, store.IngestRecord{
			ConnectionID: in.ConnectionID, SyncID: in.SyncID, At: in.At,
			GrantsAdded: r.Added, GrantsRemoved: r.Removed, GrantsChanged: r.Changed,
			ResourcesAdded: r.ResourcesAdded, ResourcesRemoved: r.ResourcesRemoved,
			RowsWritten: r.RowsWritten, StaleAccounts: r.StaleAccounts,
		}); err != nil {
			return err
		}
		res = r
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ingest sync %s: %w", in.SyncID, err)
	}
	return res, nil
}

// snapshot is the file's content as store rows.
type snapshot struct {
	resources    []store.ResourceRow
	entitlements []store.EntitlementRow
	grants       []store.GrantRow
	// stale are the accounts not read, with why.
	stale map[string]SkippedAccount
	reads []store.AccountReadUpdate
}

// IAM-scoped resource types: read from one account's IAM.
var iamTypes = map[string]bool{"iam_user": true, "iam_group": true, "iam_role": true, "iam_policy": true, "access_key": true}

// iamPrincipals are the principal types whose grants are read from their account's IAM.
var iamPrincipals = map[string]bool{"iam_user": true, "iam_group": true, "iam_role": true}

func read(ctx context.Context, in Input) (*snapshot, error) {
	f, err := c1zread.Open(ctx, in.C1ZPath)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	defer f.Close(ctx)
	snap := &snapshot{stale: map[string]SkippedAccount{}}
	for _, s := range in.Skipped {
		snap.stale[s.AccountID] = s
	}

	resources, err := f.Resources(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("ingest %s: %w", in.C1ZPath, err)
	}
	// account and scope of every resource, for the entitlements and grants.
	type where struct{ account, scope string }
	index := make(map[string]where, len(resources))
	snap.resources = make([]store.ResourceRow, 0, len(resources))
	var accounts []string
	for _, r := range resources {
		row, profile, err := resourceRow(r)
		if err != nil {
			return nil, err
		}
		if row.Type == "account" {
			accounts = append(accounts, row.ID)
			if synced, ok := profile["synced"].(bool); ok && !synced {
				if _, known := snap.stale[row.ID]; !known {
					reason, _ := profile["skip_reason"].(string)
					if reason == "" {
						reason = "the sync could not read this account"
					}
					snap.stale[row.ID] = SkippedAccount{AccountID: row.ID, Reason: reason}
				}
			}
		}
		index[store.ResourceKey(row.Type, row.ID)] = where{row.AccountID, row.Scope}
		snap.resources = append(snap.resources, row)
	}
	resources = nil
	slices.Sort(accounts)
	for _, a := range accounts {
		if s, ok := snap.stale[a]; ok {
			snap.reads = append(snap.reads, store.AccountReadUpdate{AccountID: a, Stale: true, Reason: s.Reason, Fix: s.Fix})
		} else {
			snap.reads = append(snap.reads, store.AccountReadUpdate{AccountID: a})
		}
	}
	// A skipped account the file does not list (it left the organization meanwhile) is
	// still recorded as not read.
	for _, id := range sortedKeys(snap.stale) {
		if !slices.Contains(accounts, id) {
			s := snap.stale[id]
			snap.reads = append(snap.reads, store.AccountReadUpdate{AccountID: id, Stale: true, Reason: s.Reason, Fix: s.Fix})
		}
	}

	ents, err := f.Entitlements(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("ingest %s: %w", in.C1ZPath, err)
	}
	entWhere := make(map[string]where, len(ents))
	snap.entitlements = make([]store.EntitlementRow, 0, len(ents))
	for _, e := range ents {
		rid := e.GetResource().GetId()
		row := store.EntitlementRow{
			ID: e.GetId(), ResourceType: rid.GetResourceType(), ResourceID: rid.GetResource(),
			Slug: e.GetSlug(), DisplayName: e.GetDisplayName(),
		}
		if row.ResourceType == "account" {
			// Account assignments are Identity Center's, not the account's IAM.
			row.AccountID = row.ResourceID
		} else {
			w := index[store.ResourceKey(row.ResourceType, row.ResourceID)]
			row.AccountID, row.Scope = w.account, w.scope
		}
		row.Hash = hash(row.ResourceType, row.ResourceID, row.Slug, row.DisplayName, row.AccountID, row.Scope)
		entWhere[row.ID] = where{row.AccountID, row.Scope}
		snap.entitlements = append(snap.entitlements, row)
	}
	ents = nil

	grants, err := f.Grants(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("ingest %s: %w", in.C1ZPath, err)
	}
	snap.grants = make([]store.GrantRow, 0, len(grants))
	for _, g := range grants {
		eid := g.GetEntitlement().GetId()
		rid := g.GetEntitlement().GetResource().GetId()
		pid := g.GetPrincipal().GetId()
		row := store.GrantRow{
			ID: g.GetId(), EntitlementID: eid, ResourceType: rid.GetResourceType(), ResourceID: rid.GetResource(),
			PrincipalType: pid.GetResourceType(), PrincipalID: pid.GetResource(),
		}
		ew := entWhere[eid]
		pw := index[store.ResourceKey(row.PrincipalType, row.PrincipalID)]
		if pw.account == "" && iamPrincipals[row.PrincipalType] {
			pw.account = arnAccount(row.PrincipalID)
			pw.scope = pw.account
		}
		row.AccountID = ew.account
		if row.AccountID == "" {
			// An AWS-managed policy belongs to no account: the grant concerns the
			// account of the user, group or role it is attached to.
			row.AccountID = pw.account
		}
		switch {
		case row.ResourceType == "account":
			row.Scope = "" // an account assignment, read from Identity Center
		case iamPrincipals[row.PrincipalType]:
			row.Scope = pw.account
		default:
			row.Scope = ew.scope
		}
		row.Via, row.Direct = via(g, eid)
		row.Hash = hash(row.EntitlementID, row.ResourceType, row.ResourceID, row.PrincipalType, row.PrincipalID,
			row.AccountID, row.Scope, strings.Join(row.Via, "\n"), fmt.Sprint(row.Direct))
		snap.grants = append(snap.grants, row)
	}
	return snap, nil
}

// via reads a grant's sources: the group entitlements it comes through (sorted), and
// whether it is also held directly. baton's expansion names the groups in sources; a
// grant that was also listed directly has its own entitlement among them.
func via(g *v2.Grant, entitlementID string) ([]string, bool) {
	sources := g.GetSources().GetSources()
	if len(sources) == 0 {
		return nil, true
	}
	direct := false
	var out []string
	for id := range sources {
		if id == entitlementID {
			direct = true
			continue
		}
		out = append(out, id)
	}
	sort.Strings(out)
	return out, direct || len(out) == 0
}

// resourceRow derives a resource's row: its account (the account itself, the account it
// is listed under, or its ARN's), its scope (that account for IAM; ” for what
// Organizations and Identity Center hold, and for AWS-managed policies) and the email
// that links it to a person.
func resourceRow(r *v2.Resource) (store.ResourceRow, map[string]any, error) {
	id := r.GetId()
	row := store.ResourceRow{
		Type: id.GetResourceType(), ID: id.GetResource(), DisplayName: r.GetDisplayName(),
		ParentType: r.GetParentResourceId().GetResourceType(), ParentID: r.GetParentResourceId().GetResource(),
	}
	var profile map[string]any
	if p := r.GetProfile(); p != nil {
		profile = p.AsMap()
	}
	if profile == nil {
		profile = map[string]any{}
	}
	pj, err := json.Marshal(profile) // map keys sorted: the same content, the same bytes
	if err != nil {
		return row, nil, fmt.Errorf("ingest: profile of %s %s: %w", row.Type, row.ID, err)
	}
	row.Profile = string(pj)
	switch {
	case row.Type == "account":
		row.AccountID = row.ID
	case iamTypes[row.Type]:
		if row.ParentType == "account" {
			row.AccountID = row.ParentID
		} else {
			row.AccountID = arnAccount(row.ID) // '' for AWS-managed policies
		}
		row.Scope = row.AccountID
	}
	switch row.Type {
	case "sso_user":
		row.Email = profileString(profile, "email")
		if row.Email == "" {
			row.Email = traitEmail(r)
		}
	case "iam_user":
		row.Email = profileString(profile, "email")
		if row.Email == "" {
			if tags, ok := profile["tags"].(map[string]any); ok {
				for k, v := range tags {
					if s, ok := v.(string); ok && strings.EqualFold(k, "email") {
						row.Email = s
						break
					}
				}
			}
		}
	}
	row.Email = strings.ToLower(strings.TrimSpace(row.Email))
	row.Hash = hash(row.AccountID, row.Scope, row.ParentType, row.ParentID, row.DisplayName, row.Email, row.Profile)
	return row, profile, nil
}

func profileString(p map[string]any, k string) string {
	s, _ := p[k].(string)
	return s
}

// traitEmail is the primary email of a user trait, for users whose profile has none.
func traitEmail(r *v2.Resource) string {
	for _, a := range r.GetAnnotations() {
		var ut v2.UserTrait
		if a.MessageIs(&ut) && a.UnmarshalTo(&ut) == nil {
			for _, e := range ut.GetEmails() {
				if e.GetIsPrimary() {
					return e.GetAddress()
				}
			}
			if es := ut.GetEmails(); len(es) > 0 {
				return es[0].GetAddress()
			}
		}
	}
	return ""
}

// arnAccount is the account field of an ARN (arn:aws:iam::111111111111:user/x), or ”
// when it has none or it is not an account id (AWS-managed policies: "aws").
func arnAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	a := parts[4]
	if len(a) != 12 || strings.Trim(a, "0123456789") != "" {
		return ""
	}
	return a
}

// hash is the content hash of a row: SHA-256 of its fields, each length-prefixed, cut
// to 128 bits (enough to tell contents apart; stored once per row).
func hash(fields ...string) string {
	h := sha256.New()
	for _, f := range fields {
		fmt.Fprintf(h, "%d:%s\n", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// diff compares the file with the open rows and returns the writes and their counts.
func diff(in Input, snap *snapshot, open *store.OpenInventory) (*store.InventoryDiff, *Result) {
	d := &store.InventoryDiff{ConnectionID: in.ConnectionID, Sync: in.SyncID, At: in.At}
	r := &Result{StaleAccounts: sortedKeys(snap.stale)}
	kept := func(scope string) bool {
		_, stale := snap.stale[scope]
		return scope != "" && stale
	}

	// Grants first: a grant kept open because its account is stale keeps its entitlement
	// and both its ends open too, even where those come from elsewhere (an AWS-managed
	// policy attached only in the stale account is not in the file any more).
	keepEnt := map[string]bool{}
	keepRes := map[string]bool{}
	seen := make(map[string]bool, len(snap.grants))
	for _, g := range snap.grants {
		seen[g.ID] = true
		o, ok := open.Grants[g.ID]
		switch {
		case !ok:
			d.InsertGrants = append(d.InsertGrants, g)
			r.Added++
		case o.Hash == g.Hash:
			r.Unchanged++
		case o.Via != strings.Join(g.Via, "\n") || o.Direct != g.Direct:
			// Held through something else now: a new interval, so that "through what"
			// is answered for every date. Within the interval's own sync there is no
			// earlier interval to keep: rewrite it.
			r.Changed++
			if o.FirstSync == in.SyncID {
				d.ReplaceGrants = append(d.ReplaceGrants, g)
				d.ReplaceGrantInterval = append(d.ReplaceGrantInterval, store.Interval{FirstSync: o.FirstSync, FirstSeen: time.UnixMilli(o.FirstSeen)})
			} else {
				d.CloseGrants = append(d.CloseGrants, g.ID)
				d.InsertGrants = append(d.InsertGrants, g)
			}
		default:
			r.Unchanged++
			d.ReplaceGrants = append(d.ReplaceGrants, g)
			d.ReplaceGrantInterval = append(d.ReplaceGrantInterval, store.Interval{FirstSync: o.FirstSync, FirstSeen: time.UnixMilli(o.FirstSeen)})
		}
	}
	for _, id := range sortedKeys(open.Grants) {
		if seen[id] {
			continue
		}
		if o := open.Grants[id]; kept(o.Scope) {
			r.Kept++
			r.Unchanged++
			keepGrantEnds(id, keepEnt, keepRes)
			continue
		}
		d.CloseGrants = append(d.CloseGrants, id)
		r.Removed++
	}
	seen = nil

	seenEnt := make(map[string]bool, len(snap.entitlements))
	for _, e := range snap.entitlements {
		seenEnt[e.ID] = true
		o, ok := open.Entitlements[e.ID]
		switch {
		case !ok:
			d.InsertEntitlements = append(d.InsertEntitlements, e)
		case o.Hash != e.Hash:
			// A new display name or account: the same entitlement, rewritten in place.
			d.ReplaceEntitlements = append(d.ReplaceEntitlements, e)
			d.ReplaceEntitlementInterval = append(d.ReplaceEntitlementInterval, store.Interval{FirstSync: o.FirstSync, FirstSeen: time.UnixMilli(o.FirstSeen)})
		}
	}
	for _, id := range sortedKeys(open.Entitlements) {
		if seenEnt[id] {
			continue
		}
		if o := open.Entitlements[id]; kept(o.Scope) || keepEnt[id] {
			r.Kept++
			continue
		}
		d.CloseEntitlements = append(d.CloseEntitlements, id)
	}

	seenRes := make(map[string]bool, len(snap.resources))
	for _, x := range snap.resources {
		k := store.ResourceKey(x.Type, x.ID)
		seenRes[k] = true
		o, ok := open.Resources[k]
		switch {
		case !ok:
			d.InsertResources = append(d.InsertResources, x)
			r.ResourcesAdded++
		case o.Hash != x.Hash:
			// Profiles change every sync for reasons that are not access (last use,
			// the credential report's time): rewritten in place, the interval is the
			// resource's existence.
			d.ReplaceResources = append(d.ReplaceResources, x)
			d.ReplaceResourceInterval = append(d.ReplaceResourceInterval, store.Interval{FirstSync: o.FirstSync, FirstSeen: time.UnixMilli(o.FirstSeen)})
		}
	}
	for _, k := range sortedKeys(open.Resources) {
		if seenRes[k] {
			continue
		}
		if o := open.Resources[k]; kept(o.Scope) || keepRes[k] {
			r.Kept++
			continue
		}
		d.CloseResources = append(d.CloseResources, k)
		r.ResourcesRemoved++
	}
	return d, r
}

// keepGrantEnds marks the entitlement, resource and principal of a kept grant. Grant ids
// are "<entitlement id>:<principal type>:<principal id>" and entitlement ids
// "<resource type>:<resource id>:<slug>"; ids contain colons (ARNs), so the known
// principal and resource types anchor the split.
func keepGrantEnds(grantID string, ents, res map[string]bool) {
	for _, pt := range []string{"iam_user", "iam_group", "iam_role", "sso_user", "sso_group"} {
		i := strings.LastIndex(grantID, ":"+pt+":")
		if i < 0 {
			continue
		}
		eid := grantID[:i]
		ents[eid] = true
		res[store.ResourceKey(pt, grantID[i+len(pt)+2:])] = true
		if rt, rest, ok := strings.Cut(eid, ":"); ok {
			if j := strings.LastIndex(rest, ":"); j >= 0 {
				res[store.ResourceKey(rt, rest[:j])] = true
			}
		}
		return
	}
}
