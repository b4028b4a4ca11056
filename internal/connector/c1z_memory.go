package connector

import (
	"fmt"
	"os"
	"strconv"
	"math"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// Memory of a .c1z write.
//
// baton's Pebble store does its bulk work in large Go buffers: grant expansion streams
// each layer's new grants into a 128 MiB sort arena, and the seal at the end of the sync
// (EndSync) scans every grant into another 128 MiB arena per index family it rebuilds
// (two with the grant digest index, one without) while a third buffer rewrites the
// grant rows. With Go's default GC pacing the heap may grow to twice what is live, and
// freed arenas stay mapped until the background scavenger returns them, so a sync of a
// few hundred thousand grants peaked at 550-680 MB of RSS although its live data fit in
// a third of that. Pebble's memtables and block cache live in C memory, outside the Go
// heap and out of reach of these settings.
//
// Two settings bring the peak down without changing a resource, entitlement or grant of
// the file:
//
//   - The grant digest index is not built (dotc1z.WithGrantDigestIndex(false)): it is the
//     substrate of cross-file grant diffing, which baton's readers recompute when a file
//     lacks it ("missing, recalculate"), and it costs one of the two arenas of the seal
//     and a third of the file's size.
//   - While the store is open, the Go memory limit is set to the live heap at the start
//     of the write plus writeHeadroom. Over the limit the GC collects more often and the
//     runtime returns freed pages to the OS at once instead of keeping them for reuse,
//     so what stays resident is what is live. The cost is GC time: a few seconds on the
//     large preset, against minutes of fetching.
//
// An operator's own GOMEMLIMIT (any limit already set when the write starts) is left
// alone.

// writeHeadroom is how far above the live heap at the start of a write the Go memory
// limit is set while the store is open.
const writeHeadroom = 96 << 20

// memoryLimit is the process-wide state of the lowered memory limit, shared by
// concurrent writes: the first one lowers the limit, each one adds its headroom, the last
// one to finish restores what was there.
var memoryLimit struct {
	sync.Mutex
	active   int   // writes holding the lowered limit
	saved    int64 // the limit before the first of them
	lowering bool  // whether the active writes lowered it (false: an operator's limit was kept)
}

// lowerMemoryLimit sets the Go memory limit for one write and returns the function that
// undoes it.
func lowerMemoryLimit() (restore func()) {
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
			h := int64(writeHeadroom)
			if v := os.Getenv("GH_TMP_HEADROOM_MB"); v != "" {
				n, _ := strconv.Atoi(v)
				h = int64(n) << 20
			}
			fmt.Fprintf(os.Stderr, "TMP live heap %d MB, limit %d MB\n", liveHeap()>>20, (liveHeap()+h)>>20)
			debug.SetMemoryLimit(liveHeap() + h)
		}
	} else if memoryLimit.lowering {
		debug.SetMemoryLimit(debug.SetMemoryLimit(-1) + writeHeadroom)
	}
	memoryLimit.active++
	var once sync.Once
	return func() {
		once.Do(func() {
			memoryLimit.Lock()
			defer memoryLimit.Unlock()
			memoryLimit.active--
			switch {
			case !memoryLimit.lowering:
			case memoryLimit.active == 0:
				debug.SetMemoryLimit(memoryLimit.saved)
			default:
				debug.SetMemoryLimit(debug.SetMemoryLimit(-1) - writeHeadroom)
			}
		})
	}
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
