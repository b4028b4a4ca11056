package appfile

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// csvGen produces a ConductorOne-layout CSV of n data rows on the fly (one
// row per user holding an entitlement: 20,000 users with 5 entitlements
// each over 200 resources), so the benchmark's heap holds no copy of the
// file: what it measures is the parser's own footprint.
type csvGen struct {
	n, i  int
	buf   []byte
	bytes int64
}

func (g *csvGen) Read(p []byte) (int, error) {
	for len(g.buf) == 0 {
		if g.i > g.n {
			return 0, io.EOF
		}
		if g.i == 0 {
			g.buf = []byte("User ID,Email Address,Full Name,User Status,Last Login,Resource Type,Resource Name,Entitlement,Entitlement Description\n")
		} else {
			r := g.i - 1
			u := r / 5
			res := (u*7 + r%5*13) % 200
			g.buf = fmt.Appendf(g.buf[:0], "u%06d,user%06d@example.com,User %d,enabled,2026-03-%02dT10:00:00Z,group,group-%03d,%s,Members of group %d\n",
				u, u, u, 1+u%28, res, [...]string{"member", "admin", "viewer", "editor", "owner"}[r%5], res)
		}
		g.i++
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	g.bytes += int64(n)
	return n, nil
}

// BenchmarkParseCSV100k parses a 100,000-row CSV and reports, besides
// ns/op and B/op, the peak heap in use while parsing (sampled with
// runtime.ReadMemStats every millisecond, the heap before the parse
// subtracted), the heap the result keeps, and the file's size.
func BenchmarkParseCSV100k(b *testing.B) {
	const rows = 100_000
	b.ReportAllocs()
	var peak, kept, size float64
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		var max atomic.Uint64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			var m runtime.MemStats
			t := time.NewTicker(time.Millisecond)
			defer t.Stop()
			for {
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > max.Load() {
					max.Store(m.HeapAlloc)
				}
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		}()
		g := &csvGen{n: rows}
		d, probs, err := Parse(context.Background(), "bench.csv", g, Options{})
		close(stop)
		wg.Wait()
		if err != nil || len(probs) > 0 {
			b.Fatalf("Parse: %v %v", err, probs[:min(3, len(probs))])
		}
		if len(d.Grants) != rows || len(d.Identities) != rows/5 {
			b.Fatalf("got %d grants, %d identities", len(d.Grants), len(d.Identities))
		}
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		peak += float64(max.Load()-before.HeapAlloc) / (1 << 20)
		kept += float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
		size += float64(g.bytes) / (1 << 20)
		runtime.KeepAlive(d)
	}
	b.ReportMetric(peak/float64(b.N), "peak-heap-MB")
	b.ReportMetric(kept/float64(b.N), "kept-heap-MB")
	b.ReportMetric(size/float64(b.N), "file-MB")
}
