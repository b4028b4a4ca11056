package audit

import "github.com/gatehouse/gatehouse/internal/store"

// CandidateHash exposes the fast recomputation to the tests.
func CandidateHash(e store.AuditEntry, seq int64) string { return newCandidates(e).hash(seq) }
