package jit

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

const timeoutDoc = `rules:
  - name: prod
    match: {accounts: [prod]}
    requesters: {everyone: true}
    approval_policy: escalating
  - name: dev
    match: {accounts: [dev]}
    requesters: {everyone: true}
    approval_policy: expiring
  - name: readonly
    match: {permission_sets: [ReadOnly]}
    requesters: {everyone: true}
    approval_policy: fallback-expiring
policies:
  - name: escalating
    steps:
      - approvers: {people: [bob@example.com]}
        timeout: 1h
    fallback: {groups: [Security]}
  - name: fallback-expiring
    steps:
      - approvers: {people: [alice@example.com]}
        timeout: 10m
        on_timeout: expire
    fallback: {groups: [Security]}
  - name: expiring
    steps:
      - approvers: {people: [bob@example.com]}
        timeout: 30m
        on_timeout: expire
`

func TestApprovalStepTimeouts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, timeoutDoc)
		esc, err := e.svc.Create(ctx, alice, CreateInput{EntitlementID: entAdmin})
		if err != nil {
			t.Fatal(err)
		}
		exp, err := e.svc.Create(ctx, alice, CreateInput{EntitlementID: entDevAdm})
		if err != nil {
			t.Fatal(err)
		}
		if d := esc.Steps[0].DueAt; d == nil || !d.Equal(e.clock.Now().Add(time.Hour)) {
			t.Fatalf("due %v", d)
		}
		// Alice is the step's only approver: the fallback decides it, and it still expires.
		fb, err := e.svc.Create(ctx, alice, CreateInput{EntitlementID: entRead})
		if err != nil || !fb.Steps[0].UsesFallback || fb.Steps[0].DueAt == nil {
			t.Fatalf("fallback step with a deadline: %v %+v", err, fb.Steps)
		}
		e.clock.Add(11 * time.Minute)
		if n, err := e.svc.TimeoutSteps(ctx); err != nil || n != 1 {
			t.Fatalf("10m: %d %v", n, err)
		}
		if got, _ := e.svc.Get(ctx, alice, fb.ID); got.State != StateExpired {
			t.Fatalf("fallback step past its deadline: %s", got.State)
		}
		e.clock.Add(-11 * time.Minute)
		// Before any deadline nothing happens.
		e.clock.Add(29 * time.Minute)
		if n, err := e.svc.TimeoutSteps(ctx); err != nil || n != 0 {
			t.Fatalf("early: %d %v", n, err)
		}
		e.clock.Add(2 * time.Minute)
		if n, err := e.svc.TimeoutSteps(ctx); err != nil || n != 1 {
			t.Fatalf("30m: %d %v", n, err)
		}
		got, _ := e.svc.Get(ctx, alice, exp.ID)
		if got.State != StateExpired || got.Steps[0].State != "timed_out" ||
			got.Transitions[1].Reason != "approval step 1 was not decided within 30m (the policy expires the request then)" || got.Transitions[1].By != SystemActor {
			t.Fatalf("expired %+v %+v", got, got.Transitions)
		}
		_, err = e.svc.Approve(ctx, bob, exp.ID, "")
		wantCode(t, err, CodeConflict, "is expired, so it cannot be approved")

		e.clock.Add(30 * time.Minute)
		if n, err := e.svc.TimeoutSteps(ctx); err != nil || n != 1 {
			t.Fatalf("1h: %d %v", n, err)
		}
		got, _ = e.svc.Get(ctx, alice, esc.ID)
		s := got.Steps[0]
		if got.State != StatePendingApproval || !s.UsesFallback || s.DueAt != nil || !reflect.DeepEqual(s.Approvers, []string{"dave@example.com"}) ||
			!strings.Contains(s.Note, "not decided within 1h; escalated to the fallback approvers (group Security)") {
			t.Fatalf("escalated %+v", s)
		}
		if ev := e.ev.last("approval_needed"); ev == nil || !reflect.DeepEqual(ev.To, []string{"dave@example.com"}) {
			t.Errorf("escalation event %+v", ev)
		}
		// The fallback decides; bob, the step's own approver, no longer can.
		_, err = e.svc.Approve(ctx, bob, esc.ID, "")
		wantCode(t, err, CodeForbidden, "you are not among the approvers of step 1 (dave@example.com)")
		if got, err := e.svc.Approve(ctx, dave, esc.ID, ""); err != nil || got.State != StateApproved {
			t.Fatalf("fallback approval: %v", err)
		}
		e.clock.Add(24 * time.Hour)
		if n, err := e.svc.TimeoutSteps(ctx); err != nil || n != 0 {
			t.Fatalf("later: %d %v", n, err)
		}
	})
}
