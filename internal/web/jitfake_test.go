package web

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/access"
	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/jit"
)

// fakeJIT answers the pages' calls from fixed data, so that the handler tests can assert
// the exact content of each page whatever state a request is in. It records every call;
// the real service (its rules, authorization and state machine) is tested in internal/jit,
// and the browser test (jit_browser_test.go) runs the pages against it.
type fakeJIT struct {
	mu      sync.Mutex
	entries map[string]*jit.CatalogEntry // by entitlement id; Requestable ones are in the catalog
	reqs    []*jit.Request
	leases  []jit.Lease
	doc     string
	version int64
	// extendNeedsApproval makes Extend leave a pending extension (policy extend: approve_again).
	extendNeedsApproval bool
	// refuse, when set, is returned by the next action (approve, deny, ...).
	refuse error
	calls  []string
	// lastList and lastLeases are the filters of the last List and Leases calls.
	lastList   jit.ListFilter
	lastLeases jit.LeaseFilter
}

func (f *fakeJIT) record(format string, c *auth.Caller, args ...string) {
	f.calls = append(f.calls, format+" by "+c.Email+" "+strings.Join(args, " "))
}

func (f *fakeJIT) Catalog(_ context.Context, c *auth.Caller, q jit.CatalogQuery) ([]jit.CatalogItem, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []jit.CatalogItem
	for _, e := range f.entries {
		if !e.Requestable {
			continue
		}
		if q.AccountID != "" && e.Item.AccountID != q.AccountID {
			continue
		}
		low := strings.ToLower(q.Q)
		if q.Q != "" && !strings.Contains(strings.ToLower(e.Item.DisplayName), low) && !strings.Contains(strings.ToLower(e.Item.AccountName), low) {
			continue
		}
		out = append(out, e.Item)
	}
	slices.SortFunc(out, func(a, b jit.CatalogItem) int { return strings.Compare(a.DisplayName, b.DisplayName) })
	return out, "", nil
}

func (f *fakeJIT) Entry(_ context.Context, c *auth.Caller, id string) (*jit.CatalogEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.entries[id]
	if !ok {
		return nil, jit.Errorf(jit.CodeNotFound, "there is no entitlement %s", id)
	}
	cp := *e
	return &cp, nil
}

func (f *fakeJIT) Create(_ context.Context, c *auth.Caller, in jit.CreateInput) (*jit.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	args := []string{in.Duration.String(), in.Reason}
	if in.BreakGlass {
		args = append(args, "break-glass")
	}
	f.record("create "+in.EntitlementID, c, args...)
	if f.refuse != nil {
		err := f.refuse
		f.refuse = nil
		return nil, err
	}
	e := f.entries[in.EntitlementID]
	r := &jit.Request{ID: "req_" + itoa(len(f.reqs)+1), State: jit.StatePendingApproval, Requester: c.Email,
		Target: jit.Target{EntitlementID: in.EntitlementID, DisplayName: e.Item.DisplayName}, Reason: in.Reason, Duration: in.Duration,
		CreatedAt: now(), Rule: e.Item.Rule, Policy: jit.PolicySnapshot{Name: e.Item.Policy}}
	f.reqs = append(f.reqs, r)
	return r, nil
}

func (f *fakeJIT) find(id string) (*jit.Request, error) {
	for _, r := range f.reqs {
		if r.ID == id {
			return r, nil
		}
	}
	return nil, jit.Errorf(jit.CodeNotFound, "there is no request %s you may see", id)
}

func (f *fakeJIT) Get(_ context.Context, c *auth.Caller, id string) (*jit.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.find(id)
	if err != nil {
		return nil, err
	}
	cp := *r
	return &cp, nil
}

func (f *fakeJIT) List(_ context.Context, c *auth.Caller, fl jit.ListFilter) ([]jit.Request, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastList = fl
	var out []jit.Request
	for _, r := range f.reqs {
		switch fl.Scope {
		case "", "mine":
			if r.Requester != c.Email {
				continue
			}
		case "to_approve":
			v := requestView{Request: r, viewer: c}
			if !v.CanDecide() {
				continue
			}
		case "all":
			if !c.CanAudit() {
				return nil, "", jit.Errorf(jit.CodeForbidden, "only admins and auditors see every request")
			}
		}
		if len(fl.States) > 0 && !slices.Contains(fl.States, r.State) {
			continue
		}
		out = append(out, *r)
	}
	return out, "", nil
}

func (f *fakeJIT) act(name string, c *auth.Caller, id, reason string) (*jit.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(name+" "+id, c, reason)
	if f.refuse != nil {
		err := f.refuse
		f.refuse = nil
		return nil, err
	}
	return f.find(id)
}

func (f *fakeJIT) Approve(_ context.Context, c *auth.Caller, id, reason string) (*jit.Request, error) {
	return f.act("approve", c, id, reason)
}
func (f *fakeJIT) Deny(_ context.Context, c *auth.Caller, id, reason string) (*jit.Request, error) {
	return f.act("deny", c, id, reason)
}
func (f *fakeJIT) Cancel(_ context.Context, c *auth.Caller, id, reason string) (*jit.Request, error) {
	return f.act("cancel", c, id, reason)
}
func (f *fakeJIT) Release(_ context.Context, c *auth.Caller, id, reason string) (*jit.Request, error) {
	return f.act("release", c, id, reason)
}
func (f *fakeJIT) Revoke(_ context.Context, c *auth.Caller, id, reason string) (*jit.Request, error) {
	return f.act("revoke", c, id, reason)
}
func (f *fakeJIT) MarkTaskDone(_ context.Context, c *auth.Caller, id, note string) (*jit.Request, error) {
	return f.act("task_done", c, id, note)
}
func (f *fakeJIT) Extend(_ context.Context, c *auth.Caller, id string, d time.Duration, reason string) (*jit.Request, error) {
	r, err := f.act("extend "+d.String(), c, id, reason)
	if err != nil || !f.extendNeedsApproval {
		return r, err
	}
	cp := *r
	cp.PendingExtension = &jit.Extension{Duration: d, Reason: reason, RequestedAt: now()}
	return &cp, nil
}

func (f *fakeJIT) Leases(_ context.Context, c *auth.Caller, fl jit.LeaseFilter) ([]jit.Lease, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastLeases = fl
	var out []jit.Lease
	for _, l := range f.leases {
		if fl.Scope != "all" && l.Requester != c.Email {
			continue
		}
		if len(fl.States) > 0 && !slices.Contains(fl.States, l.State) {
			continue
		}
		out = append(out, l)
	}
	return out, "", nil
}

func (f *fakeJIT) Rules(context.Context) ([]byte, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return []byte(f.doc), f.version, nil
}

// ApplyRules checks the document with access.ParseRules, as the service does (with its
// policies beside), and changes nothing when it has problems.
func (f *fakeJIT) ApplyRules(_ context.Context, c *auth.Caller, doc []byte) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("apply rules", c)
	if _, err := access.ParseRules(doc); err != nil {
		return 0, err
	}
	f.doc = string(doc)
	f.version++
	return f.version, nil
}

// newJITUI is the test UI with fake as its just-in-time access service.
func newJITUI(t *testing.T, fake *fakeJIT) *testUI {
	t.Helper()
	u := newTestUI(t)
	h := newHandlers(u.app)
	h.jit = fake
	u.router = auth.NewRouter()
	register(u.router, h)
	return u
}
