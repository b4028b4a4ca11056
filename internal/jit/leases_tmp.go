package jit

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// TEMPORARY (helper R): stand-ins for helper L's grantTx and extendTx so that requests.go
// compiles before leases.go lands. L deletes this file when adding leases.go. Until then an
// approved request stays approved (nothing is granted) and extensions are refused.

func (s *Service) grantTx(ctx context.Context, tx *store.Tx, req *Request) error { return nil }

func (s *Service) extendTx(ctx context.Context, tx *store.Tx, req *Request, d time.Duration, actor string) error {
	return Errorf(CodeConflict, "extensions are not built yet")
}
