package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/appimport"
	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/connection"
	"github.com/gatehouse/gatehouse/internal/datasource"
	"github.com/gatehouse/gatehouse/internal/evidence"
	"github.com/gatehouse/gatehouse/internal/findings"
	"github.com/gatehouse/gatehouse/internal/ingest"
	"github.com/gatehouse/gatehouse/internal/jit"
	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/metrics"
	"github.com/gatehouse/gatehouse/internal/notify"
	"github.com/gatehouse/gatehouse/internal/review"
	"github.com/gatehouse/gatehouse/internal/store"
)

// startJobs creates the metrics and the jobs (syncs on demand and on schedule), starts
// the jobs and stops them at shutdown.
func (s *Server) startJobs(ctx context.Context) error {
	st := s.App.Store
	s.Metrics = metrics.New()
	s.Metrics.WatchQueue(st.JobCounts)
	// Notifications of just-in-time events: written with each request change (an outbox),
	// delivered by their own River queue.
	notifier, err := notify.New(notify.Config{Store: st, Log: s.log, Endpoints: s.cfg.Notifications.Endpoints()})
	if err != nil {
		return err
	}
	jitSvc, err := jit.New(jit.Config{
		Store: st, Log: s.log, FetchConfig: s.App.Connections.FetchConfig, BaseURL: s.cfg.PublicURL,
		Notifier: notifier,
	})
	if err != nil {
		return err
	}
	// A new installation starts with the seed rules ("accounts, Everyone, default policy").
	if err := jitSvc.SeedRules(ctx); err != nil {
		return fmt.Errorf("seed the just-in-time rules: %w", err)
	}
	// Access reviews revoke through the leases' provisioners (one per connection, shared
	// limits) and end leases through their own path; their jobs run on the same River client.
	// Exports are written to the data directory (private, like the inventory) when there is
	// one; with PostgreSQL and no data directory, to the system's temporary directory.
	reviews, err := review.New(review.Config{Store: st, Log: s.log, BaseURL: s.cfg.PublicURL,
		Provisioners: jitSvc, Leases: jitSvc, Notifier: notifier, TempDir: s.cfg.DataDir})
	if err != nil {
		return err
	}
	// Applications imported from files: their runs are started by the data sources'
	// reads (OnObject) and decided by admins.
	var dataSources *datasource.Service
	apps, err := appimport.New(appimport.Config{Store: st, Log: s.log, DataDir: s.cfg.DataDir, Parse: appimport.ParseFiles,
		Notifier: notifier,
		// An applied import is verified against like a sync: just-in-time leases in the
		// application close the owner's grant and revoke tasks the import shows done (and
		// alert overdue ones), and access reviews' owner tasks are remediated when the import
		// no longer shows the access. Both run; their errors are joined (and logged).
		AfterApply: func(ctx context.Context, appID, syncID string) error {
			return errors.Join(jitSvc.AfterImport(ctx, appID, syncID), reviews.AfterIngest(ctx, appID, syncID))
		},
		DatasourceExists: func(ctx context.Context, id string) (bool, error) {
			_, err := st.GetDataSource(ctx, id)
			if errors.Is(err, store.ErrNotFound) {
				return false, nil
			}
			return err == nil, err
		},
		// An import attached to a file already read: read it now (scheduled syncs read
		// only changed files).
		ReadNow: func(ctx context.Context, datasourceID, key string) error {
			_, err := dataSources.ReadObject(ctx, datasourceID, key)
			return err
		}})
	if err != nil {
		return err
	}
	s.App.Applications = apps
	// S3 data sources: read on their schedule by their own River queue; every new read of
	// a file goes to the imports that name it.
	dataSources = datasource.NewService(datasource.Config{Store: st, Log: s.log, BaseAWS: s.dataSourceBaseAWS,
		OnObject: apps.ObjectHandler()})
	// Evidence packs: built by their own River queue into the data directory, requested
	// through the API or on the schedule (evidence.schedule).
	evidenceSvc, err := evidence.New(evidence.Config{Store: st, Log: s.log, DataDir: s.cfg.DataDir,
		Schedule: evidence.Schedule{Every: s.cfg.Evidence.Every(), Accounts: s.cfg.Evidence.Accounts, OUs: s.cfg.Evidence.OUs,
			Applications: s.cfg.Evidence.Applications}})
	if err != nil {
		return err
	}
	// Findings are judged after every ingestion, over what the sync read.
	findingsSvc, err := findings.New(findings.Config{Store: st, Log: s.log, Options: findings.Options{
		ReportTolerance: s.cfg.Findings.CredentialReportTolerance, MaxSessionDuration: s.cfg.Findings.MaxSessionDuration,
		RootUseWindow: s.cfg.Findings.RootUseWindow, UnusedAfter: s.cfg.Findings.UnusedAfter, LastAccessTolerance: s.cfg.Findings.LastAccessTolerance,
		UnusedServices: s.cfg.Findings.UnusedAccessBudget >= 0}})
	if err != nil {
		return err
	}
	s.App.Findings = findingsSvc
	syncs, err := jobs.New(jobs.Config{
		Extensions: []jobs.Extension{jitSvc.Extension(), notifier.Extension(), reviews.Extension(), dataSources.Extension(),
			evidenceSvc.Extension()},
		Store: st, Log: s.log, Metrics: s.Metrics,
		Connections: storedConnections{s.App.Connections, st},
		Ingest: func(ctx context.Context, in jobs.IngestInput) (any, error) {
			res, err := ingest.Apply(ctx, st, ingestInput(in))
			if err != nil {
				return nil, err
			}
			// Access reviews verify their revokes against what the sync read. The inventory
			// is in; a failure here is logged and retried by the next sync's verification,
			// never a failed sync.
			if err := reviews.AfterIngest(ctx, in.ConnectionID, in.SyncID); err != nil {
				s.log.Error("access reviews could not verify against the sync", zap.String("connection", in.ConnectionID),
					zap.String("sync", in.SyncID), zap.Error(err))
			}
			// Findings: the same rule, a failure is logged and the next sync judges again.
			if err := findingsSvc.AfterIngest(ctx, in.ConnectionID, in.SyncID); err != nil {
				s.log.Error("findings could not be judged for the sync", zap.String("connection", in.ConnectionID),
					zap.String("sync", in.SyncID), zap.Error(err))
			}
			return ingestSummary(res), nil
		},
		DataDir: s.cfg.DataDir, KeepSyncs: s.cfg.KeepSyncs,
		Workers: s.cfg.Jobs.Workers, SyncTimeout: s.cfg.Jobs.SyncTimeout, RescueAfter: s.cfg.Jobs.RescueAfter,
		DefaultSchedule: s.cfg.SyncSchedule, SchedulerInterval: s.cfg.Jobs.SchedulerInterval,
		LastAccess: lastAccessSettings(s.cfg.Findings),
	})
	if err != nil {
		return err
	}
	// Before Start: a job that runs at once (an expiry reminder) may already notify.
	notifier.SetQueue(syncs)
	reviews.SetQueue(syncs) // the due-date job may revoke (undecided: revoke) at once
	dataSources.SetQueue(syncs)
	evidenceSvc.SetQueue(syncs)
	evidenceSvc.SetRunner(syncs.ID())
	s.App.DataSources = dataSources
	s.App.Evidence = evidenceSvc
	s.App.Notify = notifier
	if err := syncs.Start(ctx); err != nil {
		return err
	}
	s.App.Syncs = syncs
	jitSvc.SetQueue(syncs)
	s.App.JIT = jitSvc
	s.App.Reviews = reviews
	// The lease sweeper runs on every replica; stops run in reverse order, so it stops
	// after the jobs.
	s.stops = append(s.stops, jitSvc.Start(ctx), syncs.Stop)
	return nil
}

// dataSourceBaseAWS is the principal Gatehouse runs as, from which data source roles are
// assumed: when a connection points at another endpoint (the simulator), that connection's
// base credentials, region and endpoint (its own role is not assumed); otherwise the
// server's default AWS configuration (environment, shared config, instance or container role).
func (s *Server) dataSourceBaseAWS(ctx context.Context) (aws.Config, error) {
	views, err := s.App.Connections.List(ctx)
	if err != nil {
		return aws.Config{}, err
	}
	for _, v := range views {
		if v.Settings.EndpointURL == "" {
			continue
		}
		fc, err := s.App.Connections.FetchConfig(ctx, v.ID)
		if err != nil {
			return aws.Config{}, err
		}
		cfg, err := datasource.BaseConfig(ctx, datasource.BaseOptions{Profile: fc.Profile, Region: fc.Region, EndpointURL: fc.EndpointURL})
		if err != nil {
			return aws.Config{}, err
		}
		if fc.Credentials != nil {
			cfg.Credentials = aws.NewCredentialsCache(fc.Credentials)
		}
		return cfg, nil
	}
	return datasource.BaseConfig(ctx, datasource.BaseOptions{})
}

func ingestInput(in jobs.IngestInput) ingest.Input {
	out := ingest.Input{ConnectionID: in.ConnectionID, SyncID: in.SyncID, C1ZPath: in.C1ZPath, At: in.At}
	for _, sk := range in.Skipped {
		out.Skipped = append(out.Skipped, ingest.SkippedAccount{AccountID: sk.AccountID, Reason: sk.Reason, Fix: sk.Fix})
	}
	return out
}

// ingestSummary is what an ingestion changed, as the sync's summary shows it.
func ingestSummary(r *ingest.Result) map[string]any {
	stale := r.StaleAccounts
	if stale == nil {
		stale = []string{}
	}
	return map[string]any{
		"grants_added": r.Added, "grants_removed": r.Removed, "grants_changed": r.Changed, "grants_unchanged": r.Unchanged,
		"resources_added": r.ResourcesAdded, "resources_removed": r.ResourcesRemoved, "stale_accounts": stale,
	}
}

// storedConnections gives the jobs the stored connections (the config file's and those
// admins added), read afresh each time so that a schedule changed in the UI applies.
type storedConnections struct {
	svc *connection.Service
	st  *store.Store
}

func (c storedConnections) ListConnections(ctx context.Context) ([]jobs.Connection, error) {
	list, err := c.svc.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]jobs.Connection, 0, len(list))
	for _, v := range list {
		every, err := c.svc.Schedule(ctx, v.ID)
		if err != nil {
			return nil, fmt.Errorf("schedule of connection %s: %w", v.ID, err)
		}
		out = append(out, jobs.Connection{ID: v.ID, Schedule: every})
	}
	return out, nil
}

func (c storedConnections) FetchConfig(ctx context.Context, id string) (awsfetch.Config, error) {
	cfg, err := c.svc.FetchConfig(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return cfg, fmt.Errorf("%w: %q (it was deleted?)", jobs.ErrUnknownConnection, id)
	}
	return cfg, err
}

// registerMetrics serves /metrics: public (the Prometheus convention) unless
// metrics_token is set, then only with that bearer token.
func (s *Server) registerMetrics() {
	s.Router.Handle("GET", "/metrics", auth.Public, s.Metrics.Handler(s.cfg.MetricsToken))
}

// lastAccessSettings are the syncs' service last accessed reads, or nil when
// findings.unused_access_budget is -1 (off). 0 is awsfetch's default budget.
func lastAccessSettings(f Findings) *jobs.LastAccessSettings {
	if f.UnusedAccessBudget < 0 {
		return nil
	}
	return &jobs.LastAccessSettings{Budget: f.UnusedAccessBudget, Refresh: f.UnusedAccessRefresh}
}
