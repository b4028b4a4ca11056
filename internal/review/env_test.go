package review

import (
	"context"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// events records the notifications.
type events struct {
	mu  sync.Mutex
	evs []Event
}

func (n *events) NotifyReviewTx(_ context.Context, _ *store.Tx, ev Event) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.evs = append(n.evs, ev)
	return nil
}

func (n *events) of(kind string) []Event {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []Event
	for _, e := range n.evs {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

type env struct {
	t     *testing.T
	svc   *Service
	st    *store.Store
	clock *clock
	ev    *events
	ids   map[string]string
	queue *fakeQueue
}

// newEnv is a review service on st with the fixture's first sync ingested, admin@ an
// admin and audrey@ an auditor; the clock is an hour after the sync.
func newEnv(t *testing.T, st *store.Store) *env {
	t.Helper()
	ingestFixture(t, st, 1)
	if err := st.SetConfiguredRoles(context.Background(), map[string][]string{"admin@example.com": {auth.RoleAdmin}, "audrey@example.com": {auth.RoleAuditor}}); err != nil {
		t.Fatal(err)
	}
	ck := &clock{t: t1.Add(time.Hour)}
	ev := &events{}
	svc, err := New(Config{Store: st, Now: ck.Now, Notifier: ev, BaseURL: "https://gh.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	q := &fakeQueue{}
	svc.SetQueue(q)
	return &env{t: t, svc: svc, st: st, clock: ck, ev: ev, ids: fixtureIDs(t), queue: q}
}

// fakeQueue stands in for River where no job runs: it records the jobs inserted.
type fakeQueue struct {
	mu   sync.Mutex
	jobs []river.JobArgs
}

func (q *fakeQueue) InsertTx(_ context.Context, _ *store.Tx, args river.JobArgs, _ *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.jobs = append(q.jobs, args)
	return &rivertype.JobInsertResult{Job: &rivertype.JobRow{ID: int64(len(q.jobs)), Kind: args.Kind()}}, nil
}

func (q *fakeQueue) kinds() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []string
	for _, j := range q.jobs {
		out = append(out, j.Kind())
	}
	return out
}

// start creates and starts a campaign as admin.
func (e *env) start(name string, sc Scope, r Reviewers) *Campaign {
	e.t.Helper()
	ctx := context.Background()
	c, err := e.svc.CreateCampaign(ctx, admin, CampaignInput{Name: name, Scope: sc, Reviewers: r, Due: e.clock.Now().Add(14 * 24 * time.Hour)})
	if err != nil {
		e.t.Fatalf("create %s: %v", name, err)
	}
	c, err = e.svc.Start(ctx, admin, c.ID)
	if err != nil {
		e.t.Fatalf("start %s: %v", name, err)
	}
	return c
}

// items lists every item of a campaign the caller sees.
func (e *env) items(c *auth.Caller, campaignID string, q ItemQuery) []Item {
	e.t.Helper()
	var out []Item
	for {
		page, next, err := e.svc.Items(context.Background(), c, campaignID, q)
		if err != nil {
			e.t.Fatalf("items of %s as %s: %v", campaignID, c.Email, err)
		}
		out = append(out, page...)
		if next == "" {
			return out
		}
		q.Page.Token = next
	}
}

// find is the item of the grant held through via (fails when there is none).
func (e *env) find(items []Item, grantID, via string) Item {
	e.t.Helper()
	for _, it := range items {
		if it.GrantID == grantID && it.Via == via {
			return it
		}
	}
	e.t.Fatalf("no item of %s via %s among %s", grantID, via, keys(items))
	return Item{}
}

// keys are "grant | identity | via" of the items, sorted.
func keys(items []Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.GrantID + " | " + it.Identity + " | " + it.Via
	}
	sort.Strings(out)
	return out
}

// diff says what differs between two sorted lists.
func diff(got, want []string) string {
	var b strings.Builder
	g, w := map[string]bool{}, map[string]bool{}
	for _, x := range got {
		g[x] = true
	}
	for _, x := range want {
		w[x] = true
	}
	for _, x := range got {
		if !w[x] {
			b.WriteString("\n  unexpected: " + x)
		}
	}
	for _, x := range want {
		if !g[x] {
			b.WriteString("\n  missing:    " + x)
		}
	}
	return b.String()
}

// grant ids of the fixture.
func (e *env) assignment(account, ps, principalType, principal string) string {
	return "account:" + account + ":" + e.ids["ps:"+ps] + ":" + principalType + ":" + principal
}

func iamGroup(account, name string) string { return "arn:aws:iam::" + account + ":group/" + name }
func iamUser(account, name string) string  { return "arn:aws:iam::" + account + ":user/" + name }
func member(groupARN string) string        { return "iam_group:" + groupARN + ":member" }
func ssoMember(groupID string) string      { return "sso_group:" + groupID + ":member" }
func policy(name string) string            { return "arn:aws:iam::aws:policy/" + name }
