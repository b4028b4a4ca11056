package jit

import (
	"fmt"
	"testing"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// forceState puts request id in state st, as the lease jobs would have.
func forceState(t *testing.T, st *store.Store, id string, to State) {
	t.Helper()
	if err := st.InTx(ctx, func(tx *store.Tx) error {
		r, err := tx.GetAccessRequest(ctx, id)
		if err != nil {
			return err
		}
		from := r.State
		r.State = string(to)
		return tx.UpdateAccessRequest(ctx, *r, from)
	}); err != nil {
		t.Fatal(err)
	}
}

// Every decision a state does not allow is a 409 naming the state, whoever asks (an approver
// who could decide a pending request, the requester, an admin).
func TestEveryIllegalMoveIs409(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, testDoc)
		all := []State{StatePendingApproval, StateApproved, StateProvisioning, StateActive, StateExpiring, StateExpired,
			StateRevoked, StateDenied, StateCancelled, StateFailed}
		for _, s := range all {
			r, err := e.svc.Create(ctx, alice, CreateInput{EntitlementID: entAdmin, Reason: "x"})
			if err != nil {
				t.Fatal(err)
			}
			forceState(t, st, r.ID, s)
			type action struct {
				name    string
				allowed bool
				do      func() (*Request, error)
			}
			for _, a := range []action{
				{"approve", s == StatePendingApproval, func() (*Request, error) { return e.svc.Approve(ctx, bob, r.ID, "") }},
				{"deny", s == StatePendingApproval, func() (*Request, error) { return e.svc.Deny(ctx, carol, r.ID, "") }},
				{"cancel", s == StatePendingApproval || s == StateApproved, func() (*Request, error) { return e.svc.Cancel(ctx, alice, r.ID, "") }},
			} {
				if a.allowed {
					continue
				}
				_, err := a.do()
				if CodeOf(err) != CodeConflict {
					t.Errorf("%s in %s: %v (code %d), want 409", a.name, s, err, CodeOf(err))
					continue
				}
				want := fmt.Sprintf("request %s is %s, so it cannot be", r.ID, map[State]string{StatePendingApproval: "pending approval"}[s])
				if s != StatePendingApproval {
					want = fmt.Sprintf("request %s is %s", r.ID, s)
				}
				if got := err.Error(); len(got) < len(want) || got[:len(want)] != want {
					t.Errorf("%s in %s: %q does not start %q", a.name, s, got, want)
				}
			}
			// Leave nothing open, so that the next request for the same access may be made.
			forceState(t, st, r.ID, StateCancelled)
		}
	})
}

func TestStateMachine(t *testing.T) {
	for _, m := range [][2]State{{StatePendingApproval, StateActive}, {StateCancelled, StateApproved}, {StateExpired, StateExpiring},
		{StateActive, StateRevoked}, {StateDenied, StateApproved}, {StateExpiring, StateActive}} {
		if CanMove(m[0], m[1]) {
			t.Errorf("%s -> %s is allowed", m[0], m[1])
		}
	}
	for _, s := range []State{StateExpired, StateRevoked, StateDenied, StateCancelled, StateFailed} {
		if len(transitions[s]) != 0 || !s.Final() {
			t.Errorf("final state %s has moves %v", s, transitions[s])
		}
	}
}
