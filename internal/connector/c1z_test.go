package connector

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse/internal/c1zread"
	"github.com/gatehouse/gatehouse/internal/inventory"
)

func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

var errFetch = errors.New("fetch failed: AccessDenied")

func failingConnector() *Connector {
	return New(func(context.Context) (*inventory.Snapshot, error) { return nil, errFetch }, AllFeatures())
}

func TestWriteC1ZSourceFailsLeavesNothing(t *testing.T) {
	dir, work := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "inventory.c1z")
	_, err := WriteC1Z(context.Background(), failingConnector(), path, WithTempDir(work))
	if !errors.Is(err, errFetch) {
		t.Fatalf("err = %v, want the source's error", err)
	}
	if got := dirEntries(t, dir); len(got) != 0 {
		t.Errorf("target directory holds %v after a failed sync", got)
	}
	if got := dirEntries(t, work); len(got) != 0 {
		t.Errorf("work directory holds %v after a failed sync", got)
	}
}

func TestWriteC1ZReplacesTargetOnlyOnSuccess(t *testing.T) {
	ctx := context.Background()
	dir, work := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "inventory.c1z")
	const old = "the previous sync"
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	unchanged := func(when string) {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil || string(b) != old {
			t.Errorf("%s: target = %q, %v; want it untouched", when, b, err)
		}
		if got := dirEntries(t, dir); !slices.Equal(got, []string{"inventory.c1z"}) {
			t.Errorf("%s: target directory holds %v", when, got)
		}
		if got := dirEntries(t, work); len(got) != 0 {
			t.Errorf("%s: work directory holds %v", when, got)
		}
	}

	if _, err := WriteC1Z(ctx, failingConnector(), path, WithTempDir(work)); err == nil {
		t.Fatal("WriteC1Z succeeded with a failing source")
	}
	unchanged("source failed")

	// Interrupted: the snapshot is in hand and the temporary file exists when the sync
	// is cancelled.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := WriteC1Z(cancelled, NewFromSnapshot(singleAccountSnapshot()), path, WithTempDir(work)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	unchanged("sync cancelled")

	sum, err := WriteC1Z(ctx, NewFromSnapshot(singleAccountSnapshot()), path, WithTempDir(work))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Path != path || sum.Resources[TypeAccount] != 1 {
		t.Errorf("summary = %+v", sum)
	}
	if got := dirEntries(t, dir); !slices.Equal(got, []string{"inventory.c1z"}) {
		t.Errorf("target directory holds %v", got)
	}
	accounts, err := c1zread.Read(ctx, path, TypeAccount)
	if err != nil {
		t.Fatalf("read the new file: %v", err)
	}
	if len(accounts.Resources) != 1 || accounts.Resources[0].GetDisplayName() != "solo" {
		t.Errorf("new file accounts = %v", accounts.Resources)
	}
}

func TestSourceCalledOnceAndRetriedAfterFailure(t *testing.T) {
	calls := 0
	c := New(func(context.Context) (*inventory.Snapshot, error) {
		calls++
		if calls == 1 {
			return nil, errFetch
		}
		return singleAccountSnapshot(), nil
	}, AllFeatures())
	ctx := context.Background()
	if _, err := c.Validate(ctx); !errors.Is(err, errFetch) {
		t.Fatalf("first Validate: %v", err)
	}
	for range 3 {
		if _, err := c.Snapshot(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 2 {
		t.Errorf("source called %d times, want 2 (a failure, then one success kept)", calls)
	}
	// ResourceSyncers must not fetch: `gatehouse connector` builds the connector first.
	lazy := New(func(context.Context) (*inventory.Snapshot, error) {
		t.Error("ResourceSyncers called the source")
		return nil, errFetch
	}, AllFeatures())
	if n := len(lazy.ResourceSyncers(ctx)); n != 10 {
		t.Errorf("%d syncers with all features, want 10", n)
	}
}

// The .c1z holds the inventory: it and every file written while it is being written are
// readable by the owner only. The directory next to the file is watched during the write:
// each entry that appears must be a 0700 directory (what baton creates inside it, with
// its own modes, is then private) or a 0600 file; the finished file is 0600, also when it
// replaces a file that was 0644.
func TestWriteC1ZFileModes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "inventory.c1z")
	if err := os.WriteFile(path, []byte("an older, world-readable file"), 0o644); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	seen := make(chan []string)
	go func() {
		var bad []string
		for {
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				fi, err := e.Info()
				if err != nil || e.Name() == "inventory.c1z" {
					continue
				}
				if want := map[bool]os.FileMode{true: 0o700, false: 0o600}[fi.IsDir()]; fi.Mode().Perm() != want {
					bad = append(bad, e.Name()+" "+fi.Mode().String())
				}
			}
			select {
			case <-stop:
				seen <- bad
				return
			default:
			}
		}
	}()
	_, err := WriteC1Z(context.Background(), NewFromSnapshot(orgSnapshot()), path)
	close(stop)
	bad := <-seen
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Errorf("entries readable by others while writing: %v", slices.Compact(bad))
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want -rw-------", path, fi.Mode())
	}
	if got := dirEntries(t, dir); !slices.Equal(got, []string{"inventory.c1z"}) {
		t.Errorf("the directory holds %v after the write, want the file only", got)
	}
}

// With WithSnapshotPerSync each sync (each Validate) after the first fetches anew, and a
// failed fetch fails that sync instead of serving the previous snapshot.
func TestSnapshotPerSync(t *testing.T) {
	ctx := context.Background()
	calls := 0
	var fail bool
	c := New(func(context.Context) (*inventory.Snapshot, error) {
		calls++
		if fail {
			return nil, errFetch
		}
		return singleAccountSnapshot(), nil
	}, AllFeatures(), WithSnapshotPerSync())
	// The first sync uses the snapshot fetched before it (WriteC1Z fetches first).
	if _, err := c.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Validate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Fatalf("first sync: source called %d times, want 1", calls)
	}
	if _, err := c.Validate(ctx); err != nil || calls != 2 {
		t.Fatalf("second sync: err %v, source called %d times in all, want 2", err, calls)
	}
	fail = true
	if _, err := c.Validate(ctx); !errors.Is(err, errFetch) {
		t.Fatalf("third sync with a failing source: %v, want the source's error", err)
	}
	if _, err := c.Snapshot(ctx); !errors.Is(err, errFetch) {
		t.Errorf("after a failed fetch the previous snapshot is still served (err %v)", err)
	}
}
