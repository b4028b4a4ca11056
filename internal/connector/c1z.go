package connector

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/conductorone/baton-sdk/pkg/connectorbuilder"
	"github.com/conductorone/baton-sdk/pkg/connectorclient"
	"github.com/conductorone/baton-sdk/pkg/connectorstore"
	"github.com/conductorone/baton-sdk/pkg/dotc1z"
	sdksync "github.com/conductorone/baton-sdk/pkg/sync"

	"github.com/gatehouse/gatehouse/internal/inventory"
)

// Summary is what WriteC1Z wrote.
type Summary struct {
	Path   string
	SyncID string
	// Resources counts resources per resource type id.
	Resources map[string]int
	// Entitlements and Grants are totals; Grants includes the grants baton's syncer
	// expanded from group grants (a group's assignment, once per member).
	Entitlements int
	Grants       int
	// EntitlementsByType and GrantsByType count by the resource type of the entitlement.
	EntitlementsByType map[string]int
	GrantsByType       map[string]int
	// SkippedAccounts are the accounts whose IAM could not be synced, with the reason.
	SkippedAccounts []SkippedAccount
	Duration        time.Duration
}

// SkippedAccount is an account present in the .c1z without its IAM: why (one line) and
// what AWS answered.
type SkippedAccount struct {
	ID     string
	Name   string
	Reason string
	Detail string
}

// WriteOption configures WriteC1Z.
type WriteOption func(*writeConfig)

type writeConfig struct {
	tmpDir          string
	workers         int
	strict          bool
	batonDefaults   bool
	releaseSnapshot bool
}

// WithTempDir sets where baton keeps its working copy of the store during the sync (it
// unpacks the .c1z there). The default is WriteC1Z's private temporary directory next to
// the file.
func WithTempDir(dir string) WriteOption {
	return func(c *writeConfig) { c.tmpDir = dir }
}

// WithWorkers sets the number of baton syncer workers (default 1). The connector serves
// from memory, so more workers mostly overlap the store's writes.
func WithWorkers(n int) WriteOption {
	return func(c *writeConfig) { c.workers = n }
}

// WithStrictChecks makes baton's post-sync integrity checks fatal: a grant or entitlement
// that refers to a resource the sync did not produce fails the sync instead of being
// logged. Tests use it; the connector never produces such references on purpose.
func WithStrictChecks() WriteOption {
	return func(c *writeConfig) { c.strict = true }
}

// WithBatonMemoryDefaults writes the file as baton and Go would by default: the grant
// digest index is built, the memory limit is left alone and the snapshot is kept
// (WithReleaseSnapshot is ignored); see c1z_memory.go. The resources, entitlements and
// grants are the same either way; the benchmark uses it to show what the settings save.
func WithBatonMemoryDefaults() WriteOption {
	return func(c *writeConfig) { c.batonDefaults = true }
}

// WithReleaseSnapshot makes the write the connector's last use: once baton has read
// everything from the connector (grant expansion starts, which needs the store alone),
// WriteC1Z drops the connector's snapshot and indexes, so that a caller holding no other
// reference to the snapshot gets its memory back for the most memory-hungry part of the
// write (see c1z_memory.go). The connector fails every later call.
func WithReleaseSnapshot() WriteOption {
	return func(c *writeConfig) { c.releaseSnapshot = true }
}

// WriteC1Z syncs c into a .c1z file at path with baton's syncer. The file is written in a
// temporary directory next to path and renamed over path only once the sync has finished
// and the file is complete, so path always holds either its previous content or a
// complete new file; on failure the temporary directory is removed. (A process killed
// outright can leave a ".<name>.*.tmp" directory next to path, never a torn file at path.)
//
// The file holds the inventory (who can reach what, and with access keys their ids), so
// it is readable by its owner only: the temporary directory is 0700, which covers the
// files baton creates in it with its own modes, and the finished file is 0600.
func WriteC1Z(ctx context.Context, c *Connector, path string, opts ...WriteOption) (*Summary, error) {
	cfg := writeConfig{workers: 1}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.batonDefaults {
		cfg.releaseSnapshot = false
	}
	start := time.Now()

	// Fetch first: a source that fails must not leave even an empty file behind.
	skipped, err := skippedAccounts(ctx, c)
	if err != nil {
		return nil, err
	}
	sum, err := writeFile(ctx, path, cfg, func(tmpPath string, cfg writeConfig) (syncStats, string, error) {
		var release func()
		if cfg.releaseSnapshot {
			release = c.releaseSnapshot
		}
		return runSync(ctx, c, release, tmpPath, cfg)
	})
	if err != nil {
		return nil, err
	}
	sum.Duration = time.Since(start)
	sum.SkippedAccounts = skipped
	return sum, nil
}

// WriteBuilderC1Z syncs any baton connector into a .c1z file at path, with the same
// guarantees as WriteC1Z (complete file or the previous content, readable by its owner
// only, the same memory settings). Gatehouse's other connectors (applications imported
// from files, internal/appimport) write their files with it. WithReleaseSnapshot does
// not apply.
func WriteBuilderC1Z(ctx context.Context, b connectorbuilder.ConnectorBuilderV2, path string, opts ...WriteOption) (*Summary, error) {
	cfg := writeConfig{workers: 1}
	for _, o := range opts {
		o(&cfg)
	}
	start := time.Now()
	sum, err := writeFile(ctx, path, cfg, func(tmpPath string, cfg writeConfig) (syncStats, string, error) {
		return runSync(ctx, b, nil, tmpPath, cfg)
	})
	if err != nil {
		return nil, err
	}
	sum.Duration = time.Since(start)
	return sum, nil
}

// writeFile runs run into a temporary file next to path and renames it over path once
// complete; see WriteC1Z.
func writeFile(ctx context.Context, path string, cfg writeConfig, run func(tmpPath string, cfg writeConfig) (syncStats, string, error)) (*Summary, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmpDir, err := os.MkdirTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("create a temporary directory next to %s: %w", path, err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = os.RemoveAll(tmpDir)
		}
	}()
	tmpPath := filepath.Join(tmpDir, base)
	// An empty file makes baton pick its default storage engine for the new store.
	if err := os.WriteFile(tmpPath, nil, 0o600); err != nil {
		return nil, fmt.Errorf("create the .c1z file next to %s: %w", path, err)
	}
	if cfg.tmpDir == "" {
		// baton's working copy of the store (the unpacked database) stays private too.
		cfg.tmpDir = tmpDir
	}

	stats, syncID, err := run(tmpPath, cfg)
	if err != nil {
		return nil, err
	}
	// baton saves the store with mode 0644 (see dotc1z's save).
	if err := os.Chmod(tmpPath, 0o600); err != nil {
		return nil, fmt.Errorf("restrict the .c1z to its owner: %w", err)
	}
	if err := os.Rename(tmpPath, path); err != nil {
		return nil, fmt.Errorf("move the finished .c1z to %s: %w", path, err)
	}
	committed = true
	_ = os.RemoveAll(tmpDir)

	sum := &Summary{
		Path:               path,
		SyncID:             syncID,
		Resources:          map[string]int{},
		EntitlementsByType: map[string]int{},
		GrantsByType:       map[string]int{},
	}
	for t, n := range stats.GetResourcesByResourceType() {
		sum.Resources[t] = int(n)
	}
	for t, n := range stats.GetEntitlementsByResourceType() {
		sum.EntitlementsByType[t] = int(n)
	}
	for t, n := range stats.GetGrantsByResourceType() {
		sum.GrantsByType[t] = int(n)
	}
	sum.Entitlements = int(stats.GetEntitlements())
	sum.Grants = int(stats.GetGrants())
	return sum, nil
}

// skippedAccounts fetches c's snapshot and returns the accounts whose IAM it lacks. Only
// the connector keeps the snapshot (see WithReleaseSnapshot).
func skippedAccounts(ctx context.Context, c *Connector) ([]SkippedAccount, error) {
	snap, err := c.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	var out []SkippedAccount
	for _, a := range snap.Accounts {
		if !a.Synced {
			out = append(out, SkippedAccount{ID: a.ID, Name: a.Name, Reason: a.SkipReason, Detail: a.SkipDetail})
		}
	}
	return out, nil
}

// errSnapshotReleased is what a connector answers after WithReleaseSnapshot released it.
var errSnapshotReleased = errors.New("connector: the snapshot was released by the .c1z write that used it")

// releaseSnapshot drops the connector's snapshot and indexes; later calls fail.
func (c *Connector) releaseSnapshot() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.idx = nil
	c.source = func(context.Context) (*inventory.Snapshot, error) { return nil, errSnapshotReleased }
}

// syncStats is the part of baton's sync statistics the summary reports.
type syncStats interface {
	GetResourcesByResourceType() map[string]int64
	GetEntitlementsByResourceType() map[string]int64
	GetGrantsByResourceType() map[string]int64
	GetEntitlements() int64
	GetGrants() int64
}

// runSync runs one full baton sync of c into the (empty) file at path and closes it.
// release, when not nil, is called once baton has read everything from the connector
// (see WithReleaseSnapshot).
func runSync(ctx context.Context, c connectorbuilder.ConnectorBuilderV2, release func(), path string, cfg writeConfig) (syncStats, string, error) {
	server, err := connectorbuilder.NewConnector(ctx, c)
	if err != nil {
		return nil, "", fmt.Errorf("build the baton connector: %w", err)
	}
	client := connectorclient.NewConnectorClient(ctx, newInProcessConn(ctx, server))

	storeOpts := []dotc1z.C1ZOption{}
	var limit *writeMemoryLimit
	if !cfg.batonDefaults {
		// See c1z_memory.go: these settings (and WithReleaseSnapshot) bound the peak
		// memory of the write.
		storeOpts = append(storeOpts, dotc1z.WithGrantDigestIndex(false))
		limit = lowerMemoryLimit()
		defer limit.restore()
	}
	if cfg.tmpDir != "" {
		storeOpts = append(storeOpts, dotc1z.WithTmpDir(cfg.tmpDir))
	}
	store, err := dotc1z.NewStore(ctx, path, storeOpts...)
	if err != nil {
		return nil, "", fmt.Errorf("open the .c1z store: %w", err)
	}

	syncOpts := []sdksync.SyncOpt{
		sdksync.WithConnectorStore(store),
		sdksync.WithTmpDir(cfg.tmpDir),
		sdksync.WithWorkerCount(cfg.workers),
	}
	if cfg.strict {
		syncOpts = append(syncOpts, sdksync.WithFailFastInvariants())
	}
	if release != nil {
		var once sync.Once
		syncOpts = append(syncOpts, sdksync.WithTransitionHandler(func(a sdksync.Action) {
			// Expansion is the last step baton schedules: it starts once every
			// resource, entitlement and grant has been listed, and reads only the store.
			if a.Op == sdksync.SyncGrantExpansionOp {
				once.Do(func() { limit.lowerBy(release) })
			}
		}))
	}
	syncer, err := sdksync.NewSyncer(ctx, client, syncOpts...)
	if err != nil {
		return nil, "", errors.Join(fmt.Errorf("start the baton syncer: %w", err), store.Close(ctx))
	}
	if err := syncer.Sync(ctx); err != nil {
		// Close still flushes the store (baton does this on a detached context); the
		// caller then discards the file.
		return nil, "", errors.Join(fmt.Errorf("baton sync: %w", err), syncer.Close(ctx))
	}

	// Read the statistics before Close: they come from the open store, and reading
	// them back from the finished file would cost a second pass over it.
	run, err := store.SyncMeta().LatestFullSync(ctx)
	if err != nil || run == nil {
		return nil, "", errors.Join(fmt.Errorf("find the finished sync: %w", errOrMissing(err)), syncer.Close(ctx))
	}
	stats, err := store.SyncMeta().StatsV2(ctx, connectorstore.SyncTypeFull, run.ID)
	if err != nil {
		return nil, "", errors.Join(fmt.Errorf("read sync statistics: %w", err), syncer.Close(ctx))
	}
	if err := syncer.Close(ctx); err != nil {
		return nil, "", fmt.Errorf("write the .c1z: %w", err)
	}
	return stats, run.ID, nil
}

func errOrMissing(err error) error {
	if err != nil {
		return err
	}
	return errors.New("the store has no finished full sync")
}
