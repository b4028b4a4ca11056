package jit

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// A review's revoke of a lease ends it through the lease's own path: the assignment is
// removed in AWS, the lease ends "revoked" by the reviewer, the audit names the campaign,
// and asking again (a review job retried) changes nothing.
func TestRevokeLeaseForReview(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newSimEnv(t, st, nil)
		ctx := context.Background()
		tg := e.target("alice", "Developer", simProd)
		keep := e.target("bob", "Developer", simProd)
		req := e.approve("alice", tg, time.Hour, "")
		other := e.approve("bob", keep, time.Hour, "")
		e.waitState(req.ID, StateActive, 10*time.Second)
		e.waitState(other.ID, StateActive, 10*time.Second)
		l := e.leaseRow(req.ID)

		if err := e.svc.RevokeLeaseForReview(ctx, l.ID, "Quarterly review", "dave@example.com", "no longer on the team"); err != nil {
			t.Fatal(err)
		}
		r := e.waitState(req.ID, StateRevoked, 10*time.Second)
		if e.has(tg) {
			t.Fatal("revoked, but AWS still has alice's assignment")
		}
		if !e.has(keep) {
			t.Fatal("bob's lease lost its assignment too")
		}
		l = e.leaseRow(req.ID)
		if l.State != store.LeaseEnded || l.EndReason != EndRevoked || l.EndedBy != "dave@example.com" {
			t.Errorf("lease %+v, want ended, revoked by dave", l)
		}
		if got := history(r); !strings.Contains(got, "active>expiring by dave@example.com") {
			t.Errorf("transitions %s", got)
		}
		entries, err := st.ListAudit(ctx, store.AuditFilter{Target: "lease:" + l.ID, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var revoke *store.AuditEntry
		for i := range entries {
			if entries[i].Action == "lease.revoke" {
				revoke = &entries[i]
			}
		}
		if revoke == nil || revoke.Actor != "dave@example.com" || !strings.Contains(string(revoke.Detail), `"campaign":"Quarterly review"`) ||
			!strings.Contains(string(revoke.Detail), "no longer on the team") {
			t.Fatalf("audit of lease %s: %+v, want lease.revoke by dave naming the campaign", l.ID, entries)
		}

		// Again (a retried review job): nothing changes, no second audit entry.
		if err := e.svc.RevokeLeaseForReview(ctx, l.ID, "Quarterly review", "dave@example.com", "again"); err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(strings.Join(e.audit("lease:"+l.ID), ","), "lease.revoke"); got != 1 {
			t.Errorf("%d lease.revoke entries after asking twice, want 1", got)
		}
		if err := e.svc.RevokeLeaseForReview(ctx, "lease_nosuchlease0000000", "c", "dave@example.com", "x"); CodeOf(err) != CodeNotFound {
			t.Errorf("unknown lease: %v, want a 404", err)
		}

		// The provisioner is the one the leases use.
		p1, err := e.svc.Provisioner(ctx, simConn)
		if err != nil {
			t.Fatal(err)
		}
		p2, _ := e.svc.provisioner(ctx, simConn)
		if p1 != p2 {
			t.Error("Provisioner is not the shared provisioner")
		}
	})
}
