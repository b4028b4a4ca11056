// Package evidence builds audit evidence packs: for a period and a scope (accounts, OUs
// and their subtrees, applications), one ZIP of JSON and CSV files that shows the whole
// chain of access governance: what access existed at the period's start and end (from
// the inventory's history), every change between, the findings and their history, every
// just-in-time request with its approval chain and lease, every review campaign with its
// decisions and verified remediation, and the audit log excerpt with its hash-chain
// check. manifest.json lists every other file with its SHA-256 and size, and
// summary.html is a printable summary that maps SOC 2 and ISO 27001 controls to the
// files that support them. Verify checks a pack against its manifest.
//
// Packs are built by a River job (queue "evidence", worker.go), requested through the
// API or scheduled monthly, and stored in the data directory; `gatehouse evidence
// export` builds one from the store directly. See docs/evidence.md.
package evidence

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// Request is what a pack is asked for: the period [From, To] and the scope. An empty
// list means "every": no Accounts and no OUs is every account (and what concerns no
// account, such as Identity Center users), no Applications every connection and
// imported application.
type Request struct {
	From, To     time.Time
	Accounts     []string
	OUs          []string
	Applications []string
}

// Scope is the request's scope as stored with the pack (JSON).
type Scope struct {
	Accounts     []string `json:"accounts"`
	OUs          []string `json:"ous"`
	Applications []string `json:"applications"`
}

// Scope is r's scope.
func (r Request) Scope() Scope {
	return Scope{Accounts: nonNil(r.Accounts), OUs: nonNil(r.OUs), Applications: nonNil(r.Applications)}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// InputError is a request that cannot be built, with what to fix (a 400, or the CLI's
// message).
type InputError struct{ Message string }

func (e *InputError) Error() string { return e.Message }

func inputErrorf(format string, args ...any) error {
	return &InputError{Message: fmt.Sprintf(format, args...)}
}

// IsInputError says whether err is an InputError.
func IsInputError(err error) bool {
	var ie *InputError
	return errors.As(err, &ie)
}

// ParseTime reads the RFC 3339 time of the field name (from or to).
func ParseTime(name, s string) (time.Time, error) {
	if strings.TrimSpace(s) == "" {
		return time.Time{}, inputErrorf("%s is required: an RFC 3339 time such as 2026-01-02T15:04:05Z", name)
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, inputErrorf("%s must be an RFC 3339 time such as 2026-01-02T15:04:05Z, got %s", name, strconv.Quote(s))
	}
	return t.UTC().Truncate(time.Millisecond), nil
}

// NewRequest checks the period and normalises the scope's lists (trimmed, sorted, no
// duplicates); Resolve checks the scope against the inventory.
func NewRequest(from, to string, accounts, ous, applications []string) (Request, error) {
	f, err := ParseTime("from", from)
	if err != nil {
		return Request{}, err
	}
	t, err := ParseTime("to", to)
	if err != nil {
		return Request{}, err
	}
	if f.After(t) {
		return Request{}, inputErrorf("from (%s) is after to (%s): swap them", rfc3339(f), rfc3339(t))
	}
	if f.Equal(t) {
		return Request{}, inputErrorf("from and to are both %s: a period needs to after from", rfc3339(f))
	}
	return Request{From: f, To: t, Accounts: norm(accounts), OUs: norm(ous), Applications: norm(applications)}, nil
}

func norm(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// AppAWS names every AWS connection in Applications.
const AppAWS = "aws"

// Resolved is a request's scope resolved against the inventory: the connections and the
// accounts the pack reads (nil: every one).
type Resolved struct {
	Connections []string
	Accounts    []string
	// AccountNames are the names of the accounts in scope, by id (for the summary).
	AccountNames map[string]string
}

// storeScope is the scope of the store's reads.
func (r *Resolved) storeScope() store.EvidenceScope {
	return store.EvidenceScope{Connections: r.Connections, Accounts: r.Accounts}
}

// hasConnection says whether the connection id is in scope.
func (r *Resolved) hasConnection(id string) bool {
	return r.Connections == nil || slices.Contains(r.Connections, id)
}

// hasAccount says whether the account is in scope; "" (a row that concerns no account)
// is in scope only when every account is.
func (r *Resolved) hasAccount(id string) bool {
	if r.Accounts == nil {
		return true
	}
	return id != "" && slices.Contains(r.Accounts, id)
}

// Resolve checks the request's scope against the inventory and resolves it: every
// account (by id or name) and OU (by id or name) must be one the inventory ever held,
// every application "aws", an AWS connection's id or an imported application's id;
// OUs become the accounts of their whole subtrees.
func Resolve(ctx context.Context, st *store.Store, req Request) (*Resolved, error) {
	out := &Resolved{AccountNames: map[string]string{}}
	if len(req.Applications) > 0 {
		ingested, err := st.IngestedConnectionIDs(ctx)
		if err != nil {
			return nil, err
		}
		apps, err := st.ListApps(ctx)
		if err != nil {
			return nil, err
		}
		conns, err := st.ListConnections(ctx)
		if err != nil {
			return nil, err
		}
		isApp := map[string]bool{}
		for _, a := range apps {
			isApp[a.ID] = true
		}
		known := map[string]bool{}
		for _, c := range conns {
			known[c.ID] = true
		}
		for _, id := range ingested {
			known[id] = true
		}
		set := map[string]bool{}
		for _, a := range req.Applications {
			switch {
			case a == AppAWS:
				for _, id := range ingested {
					if !isApp[id] {
						set[id] = true
					}
				}
			case known[a] || isApp[a]:
				set[a] = true
			default:
				return nil, inputErrorf("unknown application %s: give \"aws\" (every AWS connection), a connection's id or an imported application's id (app_...)", strconv.Quote(a))
			}
		}
		out.Connections = sortedKeys(set)
		if out.Connections == nil {
			out.Connections = []string{} // "aws" with no AWS inventory yet: nothing is in scope
		}
	}
	if len(req.Accounts) == 0 && len(req.OUs) == 0 {
		return out, nil
	}
	nodes, err := st.OrgNodes(ctx)
	if err != nil {
		return nil, err
	}
	accounts := map[string]bool{}
	for _, a := range req.Accounts {
		found := false
		for _, n := range nodes {
			if n.Type == "account" && (n.ID == a || n.DisplayName == a) {
				accounts[n.ID], found = true, true
				out.AccountNames[n.ID] = n.DisplayName
			}
		}
		if !found {
			return nil, inputErrorf("unknown account %s: no synced connection has it; give a 12-digit account id or an account's name (GET /api/v1/resources?type=account lists them)", strconv.Quote(a))
		}
	}
	if len(req.OUs) > 0 {
		ous := map[string]bool{}
		for _, o := range req.OUs {
			found := false
			for _, n := range nodes {
				if n.Type == "organizational_unit" && (n.ID == o || n.DisplayName == o) {
					ous[n.ConnectionID+"\x00"+n.ID], found = true, true
				}
			}
			if !found {
				return nil, inputErrorf("unknown organizational unit %s: no synced connection has it; give an OU id (ou-...), a root id (r-...) or an OU's name (GET /api/v1/resources?type=organizational_unit lists them)", strconv.Quote(o))
			}
		}
		parent := map[string]string{}
		for _, n := range nodes {
			parent[n.ConnectionID+"\x00"+n.ID] = n.ParentID
		}
		for _, n := range nodes {
			if n.Type != "account" {
				continue
			}
			// Walk up from the account: in scope when an ancestor is one of the OUs.
			p := n.ParentID
			for depth := 0; p != "" && depth < 64; depth++ {
				k := n.ConnectionID + "\x00" + p
				if ous[k] {
					accounts[n.ID] = true
					out.AccountNames[n.ID] = n.DisplayName
					break
				}
				p = parent[k]
			}
		}
	}
	out.Accounts = sortedKeys(accounts)
	if out.Accounts == nil {
		out.Accounts = []string{} // the OUs hold no account: nothing account-bound is in scope
	}
	return out, nil
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
