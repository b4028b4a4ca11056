package jobs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/store"
)

// schedulerArgs are the arguments of the periodic scheduler job (none).
type schedulerArgs struct{}

// Kind names the scheduler's jobs in River.
func (schedulerArgs) Kind() string { return "sync_scheduler" }

// schedulerQueue is the River queue of the scheduler's jobs.
const schedulerQueue = "scheduler"

// InsertOpts puts the scheduler's jobs in their own queue.
func (schedulerArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: schedulerQueue}
}

// schedulerWorker starts the syncs that are due. River inserts its job periodically on
// the leader only, so with several replicas it runs once per interval, not once per
// replica; schedules live in the store (a connection's own, or the default), so a
// schedule changed in the UI applies at the next run without a restart.
type schedulerWorker struct {
	river.WorkerDefaults[schedulerArgs]
	s *Service
}

func (w *schedulerWorker) Work(ctx context.Context, _ *river.Job[schedulerArgs]) error {
	_, err := w.s.RunScheduler(ctx, time.Now())
	return err
}

// RunScheduler does one round of the scheduler at now: it closes the syncs River gave up
// on, then starts a sync of each connection that never synced or whose last sync was
// queued a schedule or more ago (and none is queued or running). It returns the syncs it
// started.
func (s *Service) RunScheduler(ctx context.Context, now time.Time) ([]*store.Sync, error) {
	var errs []error
	if err := s.closeLostSyncs(ctx); err != nil {
		errs = append(errs, err)
	}
	conns, err := s.cfg.Connections.ListConnections(ctx)
	if err != nil {
		return nil, errors.Join(append(errs, fmt.Errorf("list connections: %w", err))...)
	}
	var started []*store.Sync
	for _, c := range conns {
		every := c.Schedule
		if every <= 0 {
			every = s.cfg.DefaultSchedule
		}
		last, err := s.st.LatestSync(ctx, c.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			errs = append(errs, err)
			continue
		case !last.Final() || now.Sub(last.QueuedAt) < every:
			continue
		}
		sy, err := s.StartSync(ctx, nil, c.ID)
		if errors.Is(err, ErrSyncRunning) {
			continue // started by someone else in the meantime
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		started = append(started, sy)
	}
	return started, errors.Join(errs...)
}

// closeLostSyncs fails the syncs whose River job is over (discarded after its last
// attempt, for example when it was rescued once too often) while the sync row still says
// queued or running: nothing would ever finish them, and they would block the
// connection's next sync.
func (s *Service) closeLostSyncs(ctx context.Context) error {
	lost, err := s.st.LostSyncs(ctx)
	if err != nil {
		return err
	}
	for i := range lost {
		sy := &lost[i]
		msg := fmt.Sprintf("the sync's job stopped after %d attempt(s) without finishing it (its replica stopped or timed out each time); start it again", sy.Attempts)
		if sy.Error != "" {
			msg += "; last error: " + sy.Error
		}
		// No start time: the duration of a sync nobody finished is not measured.
		r := &syncRun{s: s, sy: sy, log: s.log.With(zap.String("sync", sy.ID), zap.String("connection", sy.ConnectionID))}
		// attempt 0: whichever attempt the row is at.
		sy.Attempts = 0
		if err := r.finish(ctx, store.SyncFailed, msg, nil, nil); err != nil {
			return err
		}
	}
	return nil
}

// keepNewest deletes all but the newest KeepSyncs .c1z files of the connection (keep
// names a file just written, never deleted). The files are this replica's: with several
// replicas each keeps the files of the syncs it ran.
func (s *Service) keepNewest(ctx context.Context, connectionID, keep string) {
	dir := s.c1zDir(connectionID)
	entries, err := os.ReadDir(dir)
	if err != nil {
		s.log.Warn("cannot list kept .c1z files", zap.String("dir", dir), zap.Error(err))
		return
	}
	type file struct {
		path string
		mod  time.Time
	}
	var files []file
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".c1z") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		files = append(files, file{filepath.Join(dir, e.Name()), info.ModTime()})
	}
	// Newest first; sync ids sort by creation time, which breaks ties of equal times.
	sort.Slice(files, func(i, j int) bool {
		if !files[i].mod.Equal(files[j].mod) {
			return files[i].mod.After(files[j].mod)
		}
		return files[i].path > files[j].path
	})
	kept := 0
	if keep != "" {
		kept = 1 // the file just written
	}
	for _, f := range files {
		if f.path == keep {
			continue
		}
		if kept < s.cfg.KeepSyncs {
			kept++
			continue
		}
		if err := os.Remove(f.path); err != nil {
			s.log.Warn("cannot delete an old .c1z", zap.String("file", f.path), zap.Error(err))
			continue
		}
		if err := s.st.ForgetC1Z(ctx, f.path); err != nil {
			s.log.Warn("cannot record a deleted .c1z", zap.String("file", f.path), zap.Error(err))
		}
	}
}
