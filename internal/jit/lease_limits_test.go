package jit

import (
	"sort"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// Two replicas on one store grant 18 leases at once: together they keep within Identity
// Center's 10 creations in flight (AWS never refuses one) and its 20 calls per second (AWS
// never throttles), because both limits are shared in the store. Neither replica paces on
// its own here (the sessions' pacing is off), so only the shared limits keep them within
// AWS's.
func TestReplicasShareIdentityCenterLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		const delay = time.Second
		sim := startSim(t, awssim.Options{AssignmentDelay: delay,
			Quotas: awssim.Quotas{"identitycenter": awssim.DefaultQuotas()["identitycenter"]}})
		a := newSimEnv(t, st, sim)
		newSimEnv(t, st, sim) // the second replica: same store, same AWS
		var reqs []*Request
		for _, user := range []string{"alice", "bob", "erin"} {
			for _, ps := range []string{"Developer", "AdministratorAccess", "ReadOnly"} {
				for _, acct := range []string{simProd, simStaging} {
					reqs = append(reqs, a.approve(user, a.target(user, ps, acct), time.Hour, ""))
				}
			}
		}
		start := time.Now()
		for _, r := range reqs {
			a.waitState(r.ID, StateActive, 60*time.Second)
		}
		elapsed := time.Since(start)
		var starts []time.Time
		sim.Do(func(w *awssim.World) {
			for _, op := range w.SSO.Operations {
				if !op.Delete {
					starts = append(starts, op.DoneAt.Add(-delay))
				}
			}
		})
		if len(starts) != len(reqs) {
			t.Fatalf("%d creations for %d leases", len(starts), len(reqs))
		}
		if calls := sim.Counters().Calls("sso", "CreateAccountAssignment"); calls != int64(len(reqs)) {
			t.Errorf("%d CreateAccountAssignment calls for %d creations: AWS refused some (more than 10 in flight)", calls, len(reqs))
		}
		if n := maxInFlight(starts, delay); n > 10 || n < 2 {
			t.Errorf("%d creations in flight at once, want several at once and never more than the limit (10)", n)
		}
		var ic, throttled int64
		for _, c := range sim.Counters().Snapshot() {
			if c.Service == "sso" || c.Service == "identitystore" {
				ic += c.Calls
				throttled += c.Throttled
			}
		}
		if throttled != 0 {
			t.Errorf("AWS throttled %d of %d Identity Center calls", throttled, ic)
		}
		t.Logf("%d leases granted by two replicas in %s: %d Identity Center calls (%.1f/s), at most %d creations in flight",
			len(reqs), elapsed.Round(time.Millisecond), ic, float64(ic)/elapsed.Seconds(), maxInFlight(starts, delay))
	})
}

// maxInFlight is the most operations in progress at once, each running [start, start+d).
func maxInFlight(starts []time.Time, d time.Duration) int {
	type edge struct {
		at    time.Time
		delta int
	}
	var edges []edge
	for _, s := range starts {
		edges = append(edges, edge{s, 1}, edge{s.Add(d), -1})
	}
	sort.Slice(edges, func(i, j int) bool {
		if !edges[i].at.Equal(edges[j].at) {
			return edges[i].at.Before(edges[j].at)
		}
		return edges[i].delta < edges[j].delta
	})
	cur, best := 0, 0
	for _, e := range edges {
		cur += e.delta
		best = max(best, cur)
	}
	return best
}
