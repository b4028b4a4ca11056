package main

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/jit"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The demo's just-in-time access: its rules and policies, and one request that it makes and
// follows from request to revoke, told on stderr as it happens, so that a newcomer sees the
// whole lifecycle in two minutes without clicking anything (and can then do it themself).

//go:embed demo_rules.yaml
var demoRules []byte

// The story's request: Bob asks for Billing on the management account (a permission set that
// nobody holds, so what he gets is visibly new), Dave approves it, and it ends after
// demoStoryLease.
const (
	demoStoryLease         = 2 * time.Minute
	demoStoryPermissionSet = "Billing"
	demoStoryAccount       = "management"
)

func demoCaller(id string) *auth.Caller {
	for _, p := range demoPeople {
		if p.ID == id {
			return &auth.Caller{Email: p.Email, Name: p.Name, Roles: p.Roles, Via: "demo"}
		}
	}
	panic("demo: no demo person " + id)
}

// applyDemoRules puts the demo's rules in force unless they already are (a --data-dir kept
// from an earlier run).
func applyDemoRules(ctx context.Context, srv *server.Server) error {
	cur, _, err := srv.App.JIT.Rules(ctx)
	if err != nil {
		return err
	}
	if bytes.Equal(cur, demoRules) {
		return nil
	}
	if _, err := srv.App.JIT.ApplyRules(ctx, demoCaller("alice"), demoRules); err != nil {
		return fmt.Errorf("apply the demo's rules: %w", err)
	}
	return nil
}

// demoStory makes the story's request as Bob, approves it as Dave and waits until AWS has the
// access; it prints one line then, and another (from a goroutine) when the lease has ended
// and AWS confirmed the revoke. It returns the request's id.
func demoStory(ctx context.Context, srv *server.Server, stderr io.Writer, url string) (string, error) {
	svc := srv.App.JIT
	bob, dave := demoCaller("bob"), demoCaller("dave")
	items, _, err := svc.Catalog(ctx, bob, jit.CatalogQuery{Q: demoStoryPermissionSet})
	if err != nil {
		return "", fmt.Errorf("demo story: catalog: %w", err)
	}
	var item *jit.CatalogItem
	for i := range items {
		if items[i].PermissionSetName == demoStoryPermissionSet && items[i].AccountName == demoStoryAccount {
			item = &items[i]
		}
	}
	if item == nil {
		return "", fmt.Errorf("demo story: %s on %s is not in Bob's catalog (%d items matched %q)", demoStoryPermissionSet, demoStoryAccount, len(items), demoStoryPermissionSet)
	}
	// A --data-dir kept from a run less than a lease ago still has the story's request open
	// (Bob may have one open request per access): that run's story goes on.
	open, _, err := svc.List(ctx, bob, jit.ListFilter{Scope: "mine", Page: store.Page{Size: 1000},
		States: []jit.State{jit.StatePendingApproval, jit.StateApproved, jit.StateProvisioning, jit.StateActive}})
	if err != nil {
		return "", fmt.Errorf("demo story: Bob's requests: %w", err)
	}
	for _, r := range open {
		if r.Target.EntitlementID == item.EntitlementID {
			fmt.Fprintf(stderr, "\nStory: %s's request %s for %s, made by an earlier run on this data directory, is still %s (%s/requests/%s); the next run after it ends makes a new one\n",
				r.Requester, r.ID, r.Target.DisplayName, r.State, url, r.ID)
			return r.ID, nil
		}
	}
	req, err := svc.Create(ctx, bob, jit.CreateInput{EntitlementID: item.EntitlementID, Duration: demoStoryLease,
		Reason: "Demo: check last month's bill"})
	if err != nil {
		return "", fmt.Errorf("demo story: request: %w", err)
	}
	if _, err := svc.Approve(ctx, dave, req.ID, "Demo: fine for two minutes"); err != nil {
		return "", fmt.Errorf("demo story: approve: %w", err)
	}
	req, err = demoWaitFor(ctx, svc, bob, req.ID, 2*time.Minute, func(r *jit.Request) bool { return r.State == jit.StateActive || r.State.Final() })
	if err != nil {
		return "", err
	}
	if req.State != jit.StateActive {
		return "", fmt.Errorf("demo story: request %s ended %s before it was granted: %s", req.ID, req.State, req.Error)
	}
	approvedAt, activeAt := transitionAt(req, jit.StateApproved), transitionAt(req, jit.StateActive)
	fmt.Fprintf(stderr, "\nStory: %s requested %s for %s · approved by %s · provisioned in AWS in %.1f s · expires at %s (%s/requests/%s)\n",
		req.Requester, req.Target.DisplayName, demoStoryLease, dave.Email, activeAt.Sub(approvedAt).Seconds(),
		req.EndsAt.UTC().Format("15:04:05 MST"), url, req.ID)

	go func() {
		end, err := demoWaitFor(ctx, svc, bob, req.ID, demoStoryLease+5*time.Minute, func(r *jit.Request) bool { return r.State.Final() })
		if err != nil {
			if ctx.Err() == nil {
				fmt.Fprintf(stderr, "Story: %v\n", err)
			}
			return
		}
		if end.Lease != nil && end.Lease.EndedAt != nil && end.EndsAt != nil {
			fmt.Fprintf(stderr, "Story: request %s %s · the access was removed from AWS %.1f s after the lease's end (%s)\n",
				end.ID, end.State, end.Lease.EndedAt.Sub(*end.EndsAt).Seconds(), end.Lease.EndedAt.UTC().Format("15:04:05 MST"))
			return
		}
		fmt.Fprintf(stderr, "Story: request %s %s\n", end.ID, end.State)
	}()
	return req.ID, nil
}

// demoWaitFor polls the request until done says so or within passes.
func demoWaitFor(ctx context.Context, svc *jit.Service, c *auth.Caller, id string, within time.Duration, done func(*jit.Request) bool) (*jit.Request, error) {
	deadline := time.Now().Add(within)
	for {
		r, err := svc.Get(ctx, c, id)
		if err != nil {
			return nil, fmt.Errorf("demo story: request %s: %w", id, err)
		}
		if done(r) {
			return r, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("demo story: request %s is still %s after %s", id, r.State, within)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// transitionAt is when the request last moved to state (the zero time if it never did).
func transitionAt(r *jit.Request, state jit.State) time.Time {
	var at time.Time
	for _, t := range r.Transitions {
		if t.To == state {
			at = t.At
		}
	}
	return at
}
