package audit_test

import (
	"context"
	"io"
	"testing"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// BenchmarkVerify measures a verify of a 50,000-entry log (and an export of it), per
// database: go test -run XXX -bench Verify -benchtime 3x ./internal/audit/
func BenchmarkVerify(b *testing.B) {
	const n = 50000
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			st := storetest.Open(b, d)
			ctx := context.Background()
			for done := 0; done < n; done += 5000 {
				err := st.InTx(ctx, func(tx *store.Tx) error {
					for i := 0; i < 5000; i++ {
						if _, err := tx.AppendAudit(ctx, "ann@example.com", "sync.start", "connection:aws", map[string]any{"trigger": "schedule"}, "192.0.2.1"); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.Run("verify", func(b *testing.B) {
				for b.Loop() {
					r, err := audit.Verify(ctx, st)
					if err != nil || !r.OK() || r.Entries != n {
						b.Fatalf("%v %v", r, err)
					}
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
			})
			b.Run("export", func(b *testing.B) {
				for b.Loop() {
					if got, err := audit.Export(ctx, st, io.Discard, store.AuditFilter{}); err != nil || got != n {
						b.Fatalf("%d %v", got, err)
					}
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
			})
		})
	}
}
