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
	// Finish, when set, runs in the ingestion's transaction once the inventory is
	// written, so that what the caller records about the ingestion (an import run, its
	// audit entry) is committed with it or not at all. An error rolls everything back.
	Finish func(ctx context.Context, tx *store.Tx, res *Result) error
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

// flushRows is how many pending rows an ingestion collects before writing them: the file
// is streamed and compared page by page, so memory holds the open rows' keys and hashes
// and one batch, never the whole file.
const flushRows = 2000

// analyzeAfterRows is how many written rows make the ingestion refresh the database's
// statistics of the inventory (see store.Tx.AnalyzeInventory).
const analyzeAfterRows = 10000

// ErrOutOfOrder is returned for a sync older than the connection's last ingested one:
// history only moves forward.
var ErrOutOfOrder = errors.New("sync is older than the last ingested sync")

// Apply ingests in.C1ZPath into st as the state of connection in.ConnectionID at in.At.
// Everything is written in one transaction: on error nothing is. Ingesting the last
// ingested sync again is allowed (it writes nothing when the file is the same); an
// older sync is refused (ErrOutOfOrder).
func Apply(ctx context.Context, st *store.Store, in Input) (*Result, error) {
	if in.ConnectionID == "" || in.SyncID == "" {
		return nil, errors.New("ingest: a connection id and a sync id are required")
	}
	if in.At.IsZero() {
		return nil, errors.New("ingest: the sync's time (At) is required")
	}
	in.At = in.At.UTC().Truncate(time.Millisecond)
	f, err := c1zread.Open(ctx, in.C1ZPath)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	defer f.Close(ctx)
	var res *Result
	err = st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.LockInventory(ctx, in.ConnectionID); err != nil {
			return err
		}
		last, lastAt, ok, err := tx.LatestIngest(ctx, in.ConnectionID)
		if err != nil {
			return err
		}
		if ok && last != in.SyncID && !lastAt.Before(in.At) {
			return fmt.Errorf("%w: %s (%s) after %s (%s) of connection %s", ErrOutOfOrder, in.SyncID,
				in.At.Format(time.RFC3339), last, lastAt.Format(time.RFC3339), in.ConnectionID)
		}
		open, err := tx.OpenInventory(ctx, in.ConnectionID)
		if err != nil {
			return err
		}
		ing := &ingester{ctx: ctx, tx: tx, in: in, open: open, res: &Result{},
			stale: map[string]SkippedAccount{}, where: map[string]where{}, entWhere: map[string]where{}}
		for _, s := range in.Skipped {
			ing.stale[s.AccountID] = s
		}
		ing.pending = ing.newDiff()
		if err := ing.run(f); err != nil {
			return err
		}
		res = ing.res
		if in.Finish != nil {
			return in.Finish(ctx, tx, res)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ingest sync %s: %w", in.SyncID, err)
	}
	return res, nil
}

// IAM-scoped resource types: read from one account's IAM.
var iamTypes = map[string]bool{"iam_user": true, "iam_group": true, "iam_role": true, "iam_policy": true, "access_key": true}

// iamPrincipals are the principal types whose grants are read from their account's IAM.
var iamPrincipals = map[string]bool{"iam_user": true, "iam_group": true, "iam_role": true}

// where is the account a row concerns and the account whose IAM it was read from.
type where struct{ account, scope string }

// ingester compares a file with the open rows as it streams the file, and writes the
// differences in batches.
type ingester struct {
	ctx  context.Context
	tx   *store.Tx
	in   Input
	open *store.OpenInventory
	res  *Result
	// stale are the accounts not read, with why.
	stale    map[string]SkippedAccount
	accounts []string
	// where of every resource and entitlement of the file, for the grants.
	where    map[string]where
	entWhere map[string]where
	pending  *store.InventoryDiff
	size     int
}

func (g *ingester) newDiff() *store.InventoryDiff {
	return &store.InventoryDiff{ConnectionID: g.in.ConnectionID, Sync: g.in.SyncID, At: g.in.At}
}

// flush writes the pending diff when it is large enough (or always with force).
func (g *ingester) flush(force bool) error {
	if g.size == 0 || (!force && g.size < flushRows) {
		return nil
	}
	n, err := g.tx.ApplyInventoryDiff(g.ctx, g.pending)
	g.res.RowsWritten += n
	g.pending, g.size = g.newDiff(), 0
	return err
}

func interval(o store.OpenRow) store.Interval {
	return store.Interval{FirstSync: o.FirstSync, FirstSeen: time.UnixMilli(o.FirstSeen)}
}

func (g *ingester) run(f *c1zread.File) error {
	ctx, in, d := g.ctx, g.in, &g.pending
	// Resources: new ones inserted; changed ones (profiles change every sync for reasons
	// that are not access: last use, the credential report's time) rewritten in place,
	// the interval being the resource's existence.
	err := f.EachResource(ctx, func(r *v2.Resource) error {
		row, profile, err := resourceRow(r)
		if err != nil {
			return err
		}
		if row.Type == "account" {
			g.accounts = append(g.accounts, row.ID)
			if synced, ok := profile["synced"].(bool); ok && !synced {
				if _, known := g.stale[row.ID]; !known {
					reason, _ := profile["skip_reason"].(string)
					if reason == "" {
						reason = "the sync could not read this account"
					}
					g.stale[row.ID] = SkippedAccount{AccountID: row.ID, Reason: reason}
				}
			}
		}
		k := store.ResourceKey(row.Type, row.ID)
		g.where[k] = where{row.AccountID, row.Scope}
		o, ok := g.open.Resources[k]
		delete(g.open.Resources, k) // what remains at the end was not found
		switch {
		case !ok:
			(*d).InsertResources = append((*d).InsertResources, row)
			g.res.ResourcesAdded++
			g.size++
		case o.Hash != row.Hash:
			(*d).ReplaceResources = append((*d).ReplaceResources, row)
			(*d).ReplaceResourceInterval = append((*d).ReplaceResourceInterval, interval(o))
			g.size += 2
		}
		return g.flush(false)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", in.C1ZPath, err)
	}

	err = f.EachEntitlement(ctx, func(e *v2.Entitlement) error {
		rid := e.GetResource().GetId()
		row := store.EntitlementRow{
			ID: e.GetId(), ResourceType: rid.GetResourceType(), ResourceID: rid.GetResource(),
			Slug: e.GetSlug(), DisplayName: e.GetDisplayName(),
		}
		if row.ResourceType == "account" {
			// Account assignments are Identity Center's, not the account's IAM.
			row.AccountID = row.ResourceID
		} else {
			w := g.where[store.ResourceKey(row.ResourceType, row.ResourceID)]
			row.AccountID, row.Scope = w.account, w.scope
		}
		row.Hash = hash(row.ResourceType, row.ResourceID, row.Slug, row.DisplayName, row.AccountID, row.Scope)
		g.entWhere[row.ID] = where{row.AccountID, row.Scope}
		o, ok := g.open.Entitlements[row.ID]
		delete(g.open.Entitlements, row.ID)
		switch {
		case !ok:
			(*d).InsertEntitlements = append((*d).InsertEntitlements, row)
			g.size++
		case o.Hash != row.Hash:
			// A new display name or account: the same entitlement, rewritten in place.
			(*d).ReplaceEntitlements = append((*d).ReplaceEntitlements, row)
			(*d).ReplaceEntitlementInterval = append((*d).ReplaceEntitlementInterval, interval(o))
			g.size += 2
		}
		return g.flush(false)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", in.C1ZPath, err)
	}

	err = f.EachGrant(ctx, func(gr *v2.Grant) error {
		row := g.grantRow(gr)
		o, ok := g.open.Grants[row.ID]
		delete(g.open.Grants, row.ID)
		switch {
		case !ok:
			(*d).InsertGrants = append((*d).InsertGrants, row)
			g.res.Added++
			g.size++
		case o.Hash == row.Hash:
			g.res.Unchanged++
		case o.Via != strings.Join(row.Via, "\n") || o.Direct != row.Direct:
			// Held through something else now: a new interval, so that "through what"
			// is answered for every date. Within the interval's own sync there is no
			// earlier interval to keep: rewrite it.
			g.res.Changed++
			if o.FirstSync == in.SyncID {
				(*d).ReplaceGrants = append((*d).ReplaceGrants, row)
				(*d).ReplaceGrantInterval = append((*d).ReplaceGrantInterval, interval(o))
			} else {
				(*d).CloseGrants = append((*d).CloseGrants, row.ID)
				(*d).InsertGrants = append((*d).InsertGrants, row)
			}
			g.size += 2
		default:
			g.res.Unchanged++
			(*d).ReplaceGrants = append((*d).ReplaceGrants, row)
			(*d).ReplaceGrantInterval = append((*d).ReplaceGrantInterval, interval(o))
			g.size += 2
		}
		return g.flush(false)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", in.C1ZPath, err)
	}
	g.where, g.entWhere = nil, nil

	// What the file did not have is removed, except what was read from an account the
	// sync could not read: kept open, with what those grants need (their entitlement and
	// both ends, even where those come from elsewhere: an AWS-managed policy attached
	// only in the stale account is not in the file any more).
	kept := func(scope string) bool {
		_, stale := g.stale[scope]
		return scope != "" && stale
	}
	keepEnt, keepRes := map[string]bool{}, map[string]bool{}
	for _, id := range sortedKeys(g.open.Grants) {
		if kept(g.open.Grants[id].Scope) {
			g.res.Kept++
			g.res.Unchanged++
			keepGrantEnds(id, keepEnt, keepRes)
			continue
		}
		(*d).CloseGrants = append((*d).CloseGrants, id)
		g.res.Removed++
		g.size++
	}
	for _, id := range sortedKeys(g.open.Entitlements) {
		if kept(g.open.Entitlements[id].Scope) || keepEnt[id] {
			g.res.Kept++
			continue
		}
		(*d).CloseEntitlements = append((*d).CloseEntitlements, id)
		g.size++
	}
	for _, k := range sortedKeys(g.open.Resources) {
		if kept(g.open.Resources[k].Scope) || keepRes[k] {
			g.res.Kept++
			continue
		}
		(*d).CloseResources = append((*d).CloseResources, k)
		g.res.ResourcesRemoved++
		g.size++
	}
	if err := g.flush(true); err != nil {
		return err
	}
	if g.res.RowsWritten >= analyzeAfterRows {
		if err := g.tx.AnalyzeInventory(ctx); err != nil {
			return err
		}
	}

	// The accounts' read state: read now, or stale since the first sync that could not.
	g.res.StaleAccounts = sortedKeys(g.stale)
	slices.Sort(g.accounts)
	var reads []store.AccountReadUpdate
	for _, a := range g.accounts {
		if s, ok := g.stale[a]; ok {
			reads = append(reads, store.AccountReadUpdate{AccountID: a, Stale: true, Reason: s.Reason, Fix: s.Fix})
		} else {
			reads = append(reads, store.AccountReadUpdate{AccountID: a})
		}
	}
	for _, id := range g.res.StaleAccounts {
		// A skipped account the file does not list is still recorded as not read.
		if _, found := slices.BinarySearch(g.accounts, id); !found {
			s := g.stale[id]
			reads = append(reads, store.AccountReadUpdate{AccountID: id, Stale: true, Reason: s.Reason, Fix: s.Fix})
		}
	}
	if err := g.tx.RecordAccountReads(ctx, in.ConnectionID, in.SyncID, in.At, reads); err != nil {
		return err
	}
	counts, err := g.tx.CountInventory(ctx, in.ConnectionID)
	if err != nil {
		return err
	}
	r := g.res
	return g.tx.RecordIngest(ctx, store.IngestRecord{
		ConnectionID: in.ConnectionID, SyncID: in.SyncID, At: in.At,
		GrantsAdded: r.Added, GrantsRemoved: r.Removed, GrantsChanged: r.Changed,
		ResourcesAdded: r.ResourcesAdded, ResourcesRemoved: r.ResourcesRemoved,
		RowsWritten: r.RowsWritten, StaleAccounts: r.StaleAccounts, Counts: counts,
	})
}

// grantRow derives a grant's row: the account it concerns (its entitlement's, or for an
// AWS-managed policy the account of the user, group or role it is attached to) and its
// scope (” for account assignments, read from Identity Center; the principal's account
// for what IAM holds).
func (g *ingester) grantRow(gr *v2.Grant) store.GrantRow {
	eid := gr.GetEntitlement().GetId()
	rid := gr.GetEntitlement().GetResource().GetId()
	pid := gr.GetPrincipal().GetId()
	row := store.GrantRow{
		ID: gr.GetId(), EntitlementID: eid, ResourceType: rid.GetResourceType(), ResourceID: rid.GetResource(),
		PrincipalType: pid.GetResourceType(), PrincipalID: pid.GetResource(),
	}
	ew := g.entWhere[eid]
	pw := g.where[store.ResourceKey(row.PrincipalType, row.PrincipalID)]
	if pw.account == "" && iamPrincipals[row.PrincipalType] {
		pw.account = arnAccount(row.PrincipalID)
	}
	row.AccountID = ew.account
	if row.AccountID == "" {
		row.AccountID = pw.account
	}
	switch {
	case row.ResourceType == "account":
		row.Scope = ""
	case iamPrincipals[row.PrincipalType]:
		row.Scope = pw.account
	default:
		row.Scope = ew.scope
	}
	row.Via, row.Direct = via(gr, eid)
	row.Hash = hash(row.EntitlementID, row.ResourceType, row.ResourceID, row.PrincipalType, row.PrincipalID,
		row.AccountID, row.Scope, strings.Join(row.Via, "\n"), fmt.Sprint(row.Direct))
	return row
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
	case "sso_user", "app_user":
		// app_user: a user of an application imported from files (internal/appimport).
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
