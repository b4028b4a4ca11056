package connector

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"runtime/debug"
	"sync"
	"testing"
)

// The memory settings and the release of the snapshot change nothing in the file.
func TestWriteC1ZMemorySettingsKeepTheContent(t *testing.T) {
	want := syncToFile(t, NewFromSnapshot(orgSnapshot()), WithBatonMemoryDefaults())
	c := NewFromSnapshot(orgSnapshot())
	got := syncToFile(t, c, WithReleaseSnapshot())
	assertSet(t, "resources", got.resources, want.resources)
	assertSet(t, "entitlements", got.entitlements, want.entitlements)
	assertSet(t, "grants", got.grants, want.grants)
	if len(got.grants) == 0 || got.sum.Grants != want.sum.Grants {
		t.Errorf("grants: %d, with baton's defaults %d", got.sum.Grants, want.sum.Grants)
	}
	// The connector was released once baton had read it.
	if _, err := c.Snapshot(context.Background()); !errors.Is(err, errSnapshotReleased) {
		t.Errorf("Snapshot after a releasing write: %v, want %v", err, errSnapshotReleased)
	}
}

// The lowered memory limit is the write's alone: it is restored afterwards, also after
// concurrent writes, and an operator's limit is left as it was.
func TestWriteC1ZRestoresTheMemoryLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetMemoryLimit(prev)
	write := func(opts ...WriteOption) {
		path := filepath.Join(t.TempDir(), "sync.c1z")
		if _, err := WriteC1Z(context.Background(), NewFromSnapshot(orgSnapshot()), path, opts...); err != nil {
			t.Error(err)
		}
	}

	write(WithReleaseSnapshot())
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("memory limit after a write: %d, want none", got)
	}

	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				write(WithReleaseSnapshot())
			} else {
				write()
			}
		}()
	}
	wg.Wait()
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("memory limit after concurrent writes: %d, want none", got)
	}

	const operator = 3 << 30
	debug.SetMemoryLimit(operator)
	write(WithReleaseSnapshot())
	if got := debug.SetMemoryLimit(-1); got != operator {
		t.Errorf("memory limit after a write under GOMEMLIMIT: %d, want %d", got, int64(operator))
	}
}

// While the write runs, the limit is the live heap plus the headroom.
func TestLowerMemoryLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetMemoryLimit(prev)

	l := lowerMemoryLimit()
	first := debug.SetMemoryLimit(-1)
	if first < writeHeadroom || first > liveHeap()+2*writeHeadroom {
		t.Errorf("limit %d MiB with a live heap of %d MiB", first>>20, liveHeap()>>20)
	}
	l2 := lowerMemoryLimit()
	if got := debug.SetMemoryLimit(-1); got != first+writeHeadroom {
		t.Errorf("a second write set the limit to %d, want %d", got, first+writeHeadroom)
	}
	released := false
	var keep [][]byte
	for range 64 {
		keep = append(keep, make([]byte, 1<<20))
	}
	l2.lowerBy(func() { keep, released = nil, true })
	if !released {
		t.Fatal("lowerBy did not run release")
	}
	if got := debug.SetMemoryLimit(-1); got > first+writeHeadroom-32<<20 {
		t.Errorf("releasing 64 MiB left the limit at %d MiB, from %d MiB", got>>20, (first+writeHeadroom)>>20)
	}
	l2.restore()
	l2.restore() // idempotent
	if got := debug.SetMemoryLimit(-1); got < writeHeadroom || got > first+64<<20 {
		t.Errorf("after the second write the limit is %d MiB, the first's was %d MiB", got>>20, first>>20)
	}
	l.restore()
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("limit after both writes: %d, want none", got)
	}
	var none *writeMemoryLimit
	ran := false
	none.lowerBy(func() { ran = true })
	none.restore()
	if !ran {
		t.Error("lowerBy on no limit did not run release")
	}
}
