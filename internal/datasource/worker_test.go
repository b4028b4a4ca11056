package datasource

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/jobs"
)

type noConnections struct{}

func (noConnections) ListConnections(context.Context) ([]jobs.Connection, error) { return nil, nil }
func (noConnections) FetchConfig(context.Context, string) (awsfetch.Config, error) {
	return awsfetch.Config{}, errors.New("no connections in these tests")
}

// waitSynced waits until data source id has a sync that ended after after.
func (e *env) waitSynced(t *testing.T, id string, after time.Time) *Source {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		src, err := e.svc.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if src.LastSyncAt != nil && src.LastSyncAt.After(after) {
			return src
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("data source %s was not synced after %s", id, after)
	return nil
}

// The River work: the scheduler (run at start) syncs a source that never synced; "Sync now"
// queues a sync that a worker runs; a source synced within its schedule is not due.
func TestScheduledAndRequestedSyncs(t *testing.T) {
	e := newEnv(t)
	src := e.create(t, "apps/")
	e.installRole(t, src.ExternalID, "apps/")
	e.put(t, "apps/users.csv", "v1")
	start := time.Now().Add(-time.Second)

	js, err := jobs.New(jobs.Config{Store: e.store, Connections: noConnections{}, DataDir: t.TempDir(), SchedulerInterval: time.Hour,
		Extensions: []jobs.Extension{e.svc.Extension()}})
	if err != nil {
		t.Fatal(err)
	}
	e.svc.SetQueue(js)
	if err := js.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = js.Stop(ctx)
	})
	got := e.waitSynced(t, src.ID, start)
	if got.LastState != StateSucceeded || got.LastSummary.Fetched != 1 {
		t.Fatalf("scheduled sync: %+v %+v", got, got.LastSummary)
	}
	// Within its schedule: not due.
	if ids, err := e.svc.QueueDue(context.Background()); err != nil || len(ids) != 0 {
		t.Errorf("QueueDue right after a sync: %v, %v", ids, err)
	}
	if !got.Due(got.LastSyncAt.Add(time.Hour)) || got.Due(got.LastSyncAt.Add(59*time.Minute)) {
		t.Errorf("Due with schedule %s is wrong", got.Schedule)
	}

	// Sync now: 202-style, the worker reads the changed file.
	e.put(t, "apps/users.csv", "v2")
	before := *got.LastSyncAt
	now, err := e.svc.SyncNow(context.Background(), src.ID)
	if err != nil {
		t.Fatal(err)
	}
	if now.LastSyncAt == nil || !now.LastSyncAt.Equal(before) {
		t.Errorf("SyncNow returned %+v, want the source as it was (the sync runs in the background)", now)
	}
	got = e.waitSynced(t, src.ID, before)
	if got.LastState != StateSucceeded || got.LastSummary.Fetched != 1 || e.calls("GetObject") != 2 {
		t.Errorf("requested sync: %+v, GetObject %d", got.LastSummary, e.calls("GetObject"))
	}
}
