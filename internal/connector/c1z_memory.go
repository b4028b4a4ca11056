package connector

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// Memory of a .c1z write.
//
// baton's Pebble store does its bulk work in large Go buffers, whatever the size of the
// organization: grant expansion streams each layer's new grants into a 128 MiB sort
// arena, and the seal at the end of the sync (EndSync) scans every grant into another
// 128 MiB arena per index family it rebuilds (two with the grant digest index, one
// without) while ~40 MiB of batches rewrite the grant rows. Meanwhile expansion and the
// store's reads churn through gigabytes of short-lived objects. Go's default pacing lets
// the heap grow to twice what is live, and the arenas count as live at their full size,
// so the garbage had room to spare: the write of the large preset (171k grants) peaked at
// 530-680 MiB of RSS. Pebble's memtables and block cache are C memory, outside the Go
// heap and out of reach of these settings; the store's public options do not size them.
//
// Three settings bring the peak of that write to 230-260 MiB without changing a
// resource, entitlement or grant of the file (docs/performance.md has the measurements):
//
//   - While the store is open, the Go memory limit is the live heap at the start of the
//     write plus writeHeadroom. The arenas alone exceed that, so the GC runs often and
//     the runtime returns freed pages to the OS at once: what stays resident is what is
//     live. The cost is GC time, about a second on the large preset. Less headroom saves
//     no more memory and costs seconds more; 96 MiB sometimes let the peak jump by 110 MiB.
//   - With WithReleaseSnapshot, the snapshot and the connector's indexes are dropped when
//     grant expansion starts (baton has read all it needs from the connector by then)
//     and the limit is lowered by what that freed, about 30 MiB on the large preset.
//     Without lowering the limit the garbage takes the freed room; with it, the peak
//     drops by 50-80 MiB.
//   - The grant digest index is not built (dotc1z.WithGrantDigestIndex(false)). It is
//     the substrate of cross-file grant diffing, which baton's readers recompute when a
//     file lacks it; without it the seal needs one arena instead of two, and the file is
//     a third smaller. With the limit alone, the index cost 35 MiB more and 2 s.
//
// An operator's own GOMEMLIMIT (any limit already set when the write starts) is left
// alone. For a small organization the arenas are the whole cost, and whether they become
// resident is chance: nearly empty, they stay untouched in fresh memory but are zeroed
// when the runtime reuses freed memory for them. The demo preset peaks at 65-185 MiB
// with these settings and 70-200 MiB without.

// writeHeadroom is how far above the live heap at the start of a write the Go memory
// limit is set while the store is open.
const writeHeadroom = 64 << 20

// memoryLimit is the process-wide state of the lowered memory limit, shared by
// concurrent writes: the first one lowers the limit, each one adds its headroom, the last
// one to finish restores what was there.
var memoryLimit struct {
	sync.Mutex
	active   int   // writes holding the lowered limit
	saved    int64 // the limit before the first of them
	lowering bool  // whether the active writes lowered it (false: an operator's limit was kept)
}

// writeMemoryLimit is one write's share of the lowered memory limit.
type writeMemoryLimit struct {
	once    sync.Once
	lowered int64 // how much lowerBy took off the limit
}

// lowerMemoryLimit sets the Go memory limit for one write. The caller must call restore.
func lowerMemoryLimit() *writeMemoryLimit {
	memoryLimit.Lock()
	defer memoryLimit.Unlock()
	if memoryLimit.active == 0 {
		current := debug.SetMemoryLimit(-1)
		memoryLimit.lowering = current == math.MaxInt64
		if memoryLimit.lowering {
			// Return the garbage of whatever ran before (the fetch) to the OS and
			// measure what is live: the write's budget is counted from there.
			debug.FreeOSMemory()
			memoryLimit.saved = current
			debug.SetMemoryLimit(liveHeap() + writeHeadroom)
		}
	} else if memoryLimit.lowering {
		debug.SetMemoryLimit(debug.SetMemoryLimit(-1) + writeHeadroom)
	}
	memoryLimit.active++
	return &writeMemoryLimit{}
}

// lowerBy runs release, which drops data the write no longer needs, and lowers the limit
// by what that freed: otherwise the GC would let garbage take the freed room. A nil l
// (no lowered limit) just runs release.
func (l *writeMemoryLimit) lowerBy(release func()) {
	memoryLimit.Lock()
	lowering := l != nil && memoryLimit.lowering
	memoryLimit.Unlock()
	if !lowering {
		release()
		return
	}
	// Two collections of a heap the size of a snapshot: a few milliseconds.
	runtime.GC()
	before := liveHeap()
	release()
	runtime.GC()
	freed := before - liveHeap()
	if freed <= 0 {
		return
	}
	memoryLimit.Lock()
	defer memoryLimit.Unlock()
	current := debug.SetMemoryLimit(-1)
	lower := max(current-freed, writeHeadroom)
	l.lowered += current - lower
	debug.SetMemoryLimit(lower)
}

// restore gives back the write's share of the limit; the last write restores the limit
// that was there before the first. A nil l does nothing.
func (l *writeMemoryLimit) restore() {
	if l == nil {
		return
	}
	l.once.Do(func() {
		memoryLimit.Lock()
		defer memoryLimit.Unlock()
		memoryLimit.active--
		switch {
		case !memoryLimit.lowering:
		case memoryLimit.active == 0:
			debug.SetMemoryLimit(memoryLimit.saved)
		default:
			debug.SetMemoryLimit(max(debug.SetMemoryLimit(-1)-writeHeadroom+l.lowered, writeHeadroom))
		}
	})
}

// liveHeap returns the heap the last GC found live.
func liveHeap() int64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}
