package review

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// The due date is applied by the periodic job on River, not only when called: a replica
// that starts after a campaign's due date passed decides its undecided items at once (the
// job runs on start), with the campaign's policy.
func TestDueJobRunsOnTheWorker(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		c := e.startDue(UndecidedKeep, Reviewers{People: []string{"dave@example.com"}})
		e.clock.Add(15 * 24 * time.Hour)
		j, err := jobs.New(jobs.Config{Store: st, Connections: noConnections{}, Extensions: []jobs.Extension{e.svc.Extension()},
			DataDir: t.TempDir(), RetryBackoff: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		e.svc.SetQueue(j)
		if err := j.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = j.Stop(ctx)
		})
		deadline := time.Now().Add(20 * time.Second)
		for len(e.items(admin, c.ID, ItemQuery{State: ItemPending})) > 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%d items still pending 20 s after the due date passed", len(e.items(admin, c.ID, ItemQuery{State: ItemPending})))
			}
			time.Sleep(50 * time.Millisecond)
		}
		for _, it := range e.items(admin, c.ID, ItemQuery{}) {
			if it.State != ItemKept || it.DecidedBy != "gatehouse" {
				t.Errorf("%s: %s by %q, want kept by gatehouse", it.ID, it.State, it.DecidedBy)
			}
		}
	})
}
