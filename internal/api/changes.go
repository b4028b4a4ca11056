package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
)

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/api/v1/changes", auth.Auditor, h.cachedInventory(h.listChanges))
	})
}

// Change is a grant that a sync added or removed.
type Change struct {
	SyncID          string `json:"sync_id"`
	At              string `json:"at"`
	Kind            string `json:"kind"`
	GrantID         string `json:"grant_id"`
	EntitlementID   string `json:"entitlement_id"`
	EntitlementName string `json:"entitlement_name"`
	PrincipalType   string `json:"principal_type"`
	PrincipalID     string `json:"principal_id"`
	PrincipalName   string `json:"principal_name"`
	AccountID       string `json:"account_id,omitempty"`
	AccountName     string `json:"account_name,omitempty"`
	Person          string `json:"person,omitempty"`
	// Initial marks an addition by the connection's first sync: access found when
	// Gatehouse first looked, not given at that time.
	Initial bool `json:"initial"`
}

// timeOrSync reads a query parameter that names a point in history: an RFC 3339 time or
// the id of an ingested sync (its time). def is used when it is absent.
func (h *handlers) timeOrSync(w http.ResponseWriter, r *http.Request, name string, def time.Time) (time.Time, bool) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), true
	}
	t, err := h.app.Store.IngestAt(r.Context(), s)
	if errors.Is(err, store.ErrNotFound) {
		badRequest(w, name+" must be an RFC 3339 time such as 2026-01-02T15:04:05Z or the id of a sync that was ingested, got "+strconv.Quote(s))
		return time.Time{}, false
	}
	if err != nil {
		storeError(w, err, "")
		return time.Time{}, false
	}
	return t, true
}

// listChanges lists the grants added and removed between two points in history, newest
// first (at the same time, added before removed).
//
// GET /api/v1/changes[?from=&to=][&account_id=&person=][&page_size=&page_token=]
// (auditor): from and to are RFC 3339 times or sync ids (default: from the beginning to
// now); a change at exactly from is left out, one at to is kept, so from=<sync 1>&to=<sync 2>
// is what sync 2 changed. account_id and person (an email) narrow the list. 200 {"items":
// [{"sync_id", "at", "kind" ("added" or "removed"), "grant_id", "entitlement_id",
// "entitlement_name", "principal_type", "principal_id", "principal_name", "account_id",
// "account_name", "person"}], "next_page_token"}. 400 for a bad from/to or from after to.
func (h *handlers) listChanges(w http.ResponseWriter, r *http.Request) {
	size, token, ok, detail := paging(r)
	if !ok {
		badRequest(w, detail)
		return
	}
	from, ok := h.timeOrSync(w, r, "from", time.UnixMilli(0).UTC())
	if !ok {
		return
	}
	to, ok := h.timeOrSync(w, r, "to", time.Now().UTC())
	if !ok {
		return
	}
	if to.Before(from) {
		badRequest(w, "from ("+rfc3339(from)+") is after to ("+rfc3339(to)+"): swap them")
		return
	}
	q := r.URL.Query()
	cs, next, err := h.app.Store.Changes(r.Context(), store.ChangeFilter{
		From: from, To: to, AccountID: q.Get("account_id"), Person: q.Get("person"),
	}, store.Page{Size: size, Token: token})
	if err != nil {
		storeError(w, err, "")
		return
	}
	out := make([]Change, len(cs))
	for i, c := range cs {
		out[i] = Change{
			SyncID: c.SyncID, At: rfc3339(c.At), Kind: c.Kind, GrantID: c.GrantID, EntitlementID: c.EntitlementID,
			EntitlementName: c.EntitlementName, PrincipalType: c.PrincipalType, PrincipalID: c.PrincipalID,
			PrincipalName: c.PrincipalName, AccountID: c.AccountID, AccountName: c.AccountName, Person: c.Person, Initial: c.Initial,
		}
	}
	writeList(w, out, next)
}
