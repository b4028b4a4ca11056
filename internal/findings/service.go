package findings

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/store"
)

// Config configures the Service.
type Config struct {
	Store   *store.Store
	Log     *zap.Logger
	Options Options
}

// Service judges the findings of every ingested sync and stores them with their history.
type Service struct {
	st   *store.Store
	log  *zap.Logger
	opts Options
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("findings: a store is required")
	}
	log := cfg.Log
	if log == nil {
		log = zap.NewNop()
	}
	return &Service{st: cfg.Store, log: log, opts: cfg.Options.withDefaults()}, nil
}

// Options are the thresholds in use.
func (s *Service) Options() Options { return s.opts }

// Result says what one evaluation did.
type Result struct {
	Findings int
	Applied  store.FindingsApplied
	// Took is the whole evaluation: Read (the inventory and leases), Judge (the rules) and
	// Write (store.ApplyFindings).
	Took, Read, Judge, Write time.Duration
	// PerControl counts the findings of each control.
	PerControl map[string]int
}

// AfterIngest judges every control over connectionID's inventory as ingested by syncID
// and stores the findings: their status, the events of those opened, changed and gone,
// and the sync's counts. The server calls it after each ingestion (its errors are
// logged, never a failed sync). A sync older than the connection's latest ingestion is
// not judged again: the inventory is no longer its.
func (s *Service) AfterIngest(ctx context.Context, connectionID, syncID string) error {
	_, err := s.Evaluate(ctx, connectionID, syncID)
	return err
}

// Evaluate is AfterIngest returning what it did.
func (s *Service) Evaluate(ctx context.Context, connectionID, syncID string) (*Result, error) {
	start := time.Now()
	var latest string
	var at time.Time
	var ok bool
	if err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		latest, at, ok, err = tx.LatestIngest(ctx, connectionID)
		return err
	}); err != nil {
		return nil, fmt.Errorf("findings of %s: %w", connectionID, err)
	}
	if !ok || latest != syncID {
		s.log.Info("findings: the sync is not the connection's latest ingestion; not judged", zap.String("connection", connectionID),
			zap.String("sync", syncID), zap.String("latest", latest))
		return &Result{}, nil
	}
	inv, err := s.st.FindingsInventory(ctx, connectionID, InventoryTypes, PrincipalTypes)
	if err != nil {
		return nil, fmt.Errorf("findings of %s: %w", connectionID, err)
	}
	var leases []store.Lease
	p := store.Page{Size: store.MaxPageSize}
	for {
		page, next, err := s.st.ListLeases(ctx, store.LeaseFilter{ConnectionID: connectionID,
			States: []string{store.LeaseActive, store.LeaseEnding}}, p)
		if err != nil {
			return nil, fmt.Errorf("findings of %s: %w", connectionID, err)
		}
		leases = append(leases, page...)
		if next == "" {
			break
		}
		p.Token = next
	}
	lastAccess, err := s.st.LastAccessOf(ctx, connectionID)
	if err != nil {
		return nil, fmt.Errorf("findings of %s: %w", connectionID, err)
	}
	read := time.Since(start)
	fs := Evaluate(Input{ConnectionID: connectionID, SyncID: syncID, At: at, Inventory: inv, Leases: leases, LastAccess: lastAccess}, s.opts)
	judge := time.Since(start) - read
	applied, err := s.st.ApplyFindings(ctx, connectionID, syncID, at, fs)
	if err != nil {
		return nil, fmt.Errorf("findings of %s: %w", connectionID, err)
	}
	res := &Result{Findings: len(fs), Applied: applied, Took: time.Since(start), Read: read, Judge: judge, PerControl: map[string]int{}}
	res.Write = res.Took - read - judge
	for _, f := range fs {
		res.PerControl[f.Control]++
	}
	s.log.Info("findings judged", zap.String("connection", connectionID), zap.String("sync", syncID),
		zap.Int("findings", len(fs)), zap.Int("fail", applied.Statuses[store.FindingFail]),
		zap.Int("unknown", applied.Statuses[store.FindingUnknown]), zap.Int("opened", applied.Opened),
		zap.Int("changed", applied.Changed), zap.Int("gone", applied.Gone), zap.Duration("took", res.Took),
		zap.Duration("read", res.Read), zap.Duration("judge", res.Judge), zap.Duration("write", res.Write))
	return res, nil
}
