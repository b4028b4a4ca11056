package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

func TestJitConfigVersions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if _, err := s.JITConfig(ctx); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("empty store: %v", err)
		}
		at := time.UnixMilli(1_700_000_000_000).UTC()
		put := func(base int64, doc string) (int64, error) {
			var v int64
			err := s.InTx(ctx, func(tx *store.Tx) error {
				var err error
				v, err = tx.PutJITConfig(ctx, base, doc, "admin@example.com", at)
				return err
			})
			return v, err
		}
		if v, err := put(0, "rules: []\n"); err != nil || v != 1 {
			t.Fatalf("first: %d %v", v, err)
		}
		if v, err := put(1, "# two\n"); err != nil || v != 2 {
			t.Fatalf("second: %d %v", v, err)
		}
		// A writer that read version 1 loses: nothing is overwritten.
		if _, err := put(1, "# lost\n"); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("stale base: %v", err)
		}
		c, err := s.JITConfig(ctx)
		if err != nil || c.Version != 2 || c.Doc != "# two\n" || c.UpdatedBy != "admin@example.com" || !c.UpdatedAt.Equal(at) {
			t.Fatalf("current: %+v %v", c, err)
		}
	})
}

func TestJitOwners(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		set := func(emails ...string) {
			if err := s.InTx(ctx, func(tx *store.Tx) error {
				return tx.SetOwners(ctx, store.OwnerAccount, "111111111111", emails, "admin@example.com", time.Now())
			}); err != nil {
				t.Fatal(err)
			}
		}
		set("B@example.com", "a@example.com", "b@example.com")
		if o, err := s.Owners(ctx, store.OwnerAccount, "111111111111"); err != nil || !reflect.DeepEqual(o, []string{"a@example.com", "b@example.com"}) {
			t.Fatalf("owners %v %v", o, err)
		}
		set("c@example.com")
		if o, _ := s.Owners(ctx, store.OwnerAccount, "111111111111"); !reflect.DeepEqual(o, []string{"c@example.com"}) {
			t.Fatalf("replaced owners %v", o)
		}
		if o, _ := s.Owners(ctx, store.OwnerPermissionSet, "111111111111"); len(o) != 0 {
			t.Fatalf("other scope %v", o)
		}
	})
}

func TestJitRequestsStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		base := time.UnixMilli(1_700_000_000_000).UTC()
		due := base.Add(time.Hour)
		for i := range 5 {
			r := store.AccessRequest{ID: fmt.Sprintf("req_%d", i), Requester: "alice@example.com", ConnectionID: "aws",
				EntitlementID: "account:1:ps-1", AccessKey: "k", Target: []byte(`{"a":1}`), Reason: "r", Duration: 90 * time.Minute,
				State: "pending_approval", Rule: "rule", Policy: []byte(`{"name":"p"}`), Steps: []byte(`[]`),
				CreatedAt: base.Add(time.Duration(i) * time.Minute), UpdatedAt: base}
			if i == 0 {
				r.Requester, r.StepDueAt = "bob@example.com", &due
			}
			if err := s.InTx(ctx, func(tx *store.Tx) error {
				if err := tx.InsertAccessRequest(ctx, r); err != nil {
					return err
				}
				_, err := tx.AppendRequestTransition(ctx, store.RequestTransition{RequestID: r.ID, To: r.State, Actor: r.Requester, At: base})
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.GetAccessRequest(ctx, "req_0")
		if err != nil || got.Duration != 90*time.Minute || string(got.Target) != `{"a":1}` || got.StepDueAt == nil || !got.StepDueAt.Equal(due) || got.PendingExtension != nil {
			t.Fatalf("get: %+v %v", got, err)
		}
		// An update from a state the row is no longer in changes nothing.
		err = s.InTx(ctx, func(tx *store.Tx) error {
			r, err := tx.GetAccessRequest(ctx, "req_1")
			if err != nil {
				return err
			}
			r.State, r.PendingExtension = "approved", []byte(`{"duration":1}`)
			if err := tx.UpdateAccessRequest(ctx, *r, "pending_approval"); err != nil {
				return err
			}
			if _, err := tx.AppendRequestTransition(ctx, store.RequestTransition{RequestID: r.ID, From: "pending_approval", To: "approved", Actor: "bob@example.com", At: base}); err != nil {
				return err
			}
			return tx.UpdateAccessRequest(ctx, *r, "pending_approval")
		})
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("stale update: %v", err)
		}
		if r, _ := s.GetAccessRequest(ctx, "req_1"); r.State != "pending_approval" {
			t.Fatalf("rolled back update left state %s", r.State)
		}
		// Transitions in order; the inbox by current approver; lists newest first, paged.
		if err := s.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.AppendRequestTransition(ctx, store.RequestTransition{RequestID: "req_1", From: "pending_approval", To: "denied", Actor: "carol@example.com", At: base, Reason: "no"}); err != nil {
				return err
			}
			if err := tx.SetRequestApprovers(ctx, "req_1", []string{"bob@example.com", "carol@example.com"}, []string{"carol@example.com"}); err != nil {
				return err
			}
			return tx.SetRequestApprovers(ctx, "req_2", []string{"bob@example.com"}, []string{"bob@example.com"})
		}); err != nil {
			t.Fatal(err)
		}
		trs, err := s.RequestTransitions(ctx, "req_1", "req_2")
		if err != nil || len(trs["req_1"]) != 2 || trs["req_1"][1].To != "denied" || trs["req_1"][1].Seq != 2 || trs["req_1"][1].Reason != "no" || len(trs["req_2"]) != 1 {
			t.Fatalf("transitions %+v %v", trs, err)
		}
		ids := func(f store.AccessRequestFilter, p store.Page) ([]string, string) {
			rs, next, err := s.ListAccessRequests(ctx, f, p)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, r := range rs {
				out = append(out, r.ID)
			}
			return out, next
		}
		if got, _ := ids(store.AccessRequestFilter{Approver: "bob@example.com", Current: true}, store.Page{}); !reflect.DeepEqual(got, []string{"req_2"}) {
			t.Errorf("bob's inbox %v", got)
		}
		if got, _ := ids(store.AccessRequestFilter{Approver: "bob@example.com"}, store.Page{}); !reflect.DeepEqual(got, []string{"req_2", "req_1"}) {
			t.Errorf("bob's requests %v", got)
		}
		page1, next := ids(store.AccessRequestFilter{Requester: "alice@example.com"}, store.Page{Size: 3})
		page2, last := ids(store.AccessRequestFilter{Requester: "alice@example.com"}, store.Page{Size: 3, Token: next})
		if !reflect.DeepEqual(page1, []string{"req_4", "req_3", "req_2"}) || !reflect.DeepEqual(page2, []string{"req_1"}) || last != "" {
			t.Errorf("pages %v %v %q", page1, page2, last)
		}
		if ok, _ := s.IsRequestApprover(ctx, "req_1", "carol@example.com"); !ok {
			t.Error("carol is an approver of req_1")
		}
		if due, err := s.DueAccessRequests(ctx, "pending_approval", base.Add(2*time.Hour), 10); err != nil || !reflect.DeepEqual(due, []string{"req_0"}) {
			t.Errorf("due %v %v", due, err)
		}
		if due, _ := s.DueAccessRequests(ctx, "pending_approval", base, 10); len(due) != 0 {
			t.Errorf("due before the deadline %v", due)
		}
	})
}
