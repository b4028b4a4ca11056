// Package appimport is applications whose access comes from files: an admin creates an
// application and attaches imports (a data source and a file, internal/datasource);
// every new version of a file the data source reads (OnObject) runs the import:
//
//	file ──parse + validate (internal/appfile)──▶ problems? run "rejected", nothing changes
//	     ──Dataset ──baton connector (connector.go)──▶ .c1z ──removes > threshold? run "held"
//	     ──ingest.Apply (ConnectionID = the application's id)──▶ inventory history, run "applied"
//
// A .c1z file is ingested as it is. The application's inventory is then read like an AWS
// connection's: /api/v1/resources, people (app_user links by email), changes, history.
// Every change (application, import, run, decision) is audited in its transaction.
package appimport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/c1zread"
	"github.com/gatehouse/gatehouse/internal/datasource"
	"github.com/gatehouse/gatehouse/internal/ingest"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Errors the API maps to statuses.
var (
	// ErrInvalid is bad input (400); the message says what to do.
	ErrInvalid = errors.New("invalid")
	// ErrState is a decision the run's state does not allow (409).
	ErrState = errors.New("not allowed in this state")
)

// FormatC1Z is a baton .c1z file, ingested as it is.
const FormatC1Z = "c1z"

// DefaultRemoveThreshold is the share (percent) of an application's grants one import
// may remove before it is held for an admin.
const DefaultRemoveThreshold = 20

// Object is one read of a file by a data source: its provenance.
type Object struct {
	Key       string
	VersionID string
	ETag      string
	Size      int64
	Checksum  string
	ReadAt    time.Time
}

// File is one file of an import as the parser gets it: its key and the local copy of
// its latest read.
type File struct {
	Key  string
	Path string
}

// Parsed is what a ParseFunc found in an import's files: the data, or the problems
// (then Data is nil), and the near-duplicate spellings it noticed (JSON array).
type Parsed struct {
	Data           *Dataset
	Problems       []store.AppProblem
	NearDuplicates json.RawMessage
}

// ParseFunc parses and validates the files of an import (every file, merged). An error
// is a failure to read, not a problem of the file's content.
type ParseFunc func(ctx context.Context, im store.AppImport, files []File) (*Parsed, error)

// Config configures a Service.
type Config struct {
	Store *store.Store
	Log   *zap.Logger
	// DataDir is the server's data directory: the latest read of every imported file
	// and the .c1z of held runs are kept under <DataDir>/apps (the system's temporary
	// directory when empty).
	DataDir string
	// Parse parses the files of every format but .c1z (internal/appfile).
	Parse ParseFunc
	// DatasourceExists says whether a data source exists; nil accepts any id.
	DatasourceExists func(ctx context.Context, id string) (bool, error)
	// ReadNow reads one file of a data source now and hands it to OnObject
	// (datasource.Service.ReadObject); ReadImport calls it for a new import. Nil: files
	// are imported at the data source's next read of a changed file.
	ReadNow func(ctx context.Context, datasourceID, key string) error
	// Notifier alerts about imports that need attention (internal/notify); nil: the
	// audit log and the application's page only.
	Notifier Notifier
	// Now is the clock (tests); time.Now by default.
	Now func() time.Time
	// AfterApply is called after a run is applied (and after an approved held run is
	// applied), with the application's id and the run's id, which is the ingestion's sync
	// id: the server verifies access reviews' revokes and just-in-time leases' owner
	// tasks against the import there (like after an AWS sync). Its error is logged, never the import's: the inventory is in.
	// Nil: nothing is called.
	AfterApply func(ctx context.Context, appID, syncID string) error
}

// Event kinds of imports that need someone's attention.
const (
	EventRejected = "import_rejected" // the file has problems; nothing changed
	EventHeld     = "import_held"     // the import removes too much; an admin decides
)

// Event is an import that needs someone's attention, as notifications tell it.
type Event struct {
	Kind     string
	AppID    string
	AppName  string
	Owner    string
	RunID    string
	ImportID string
	Files    []string
	// Detail is the first problem and how many there are, or why the run is held.
	Detail string
	At     time.Time
}

// Notifier queues an import event in the transaction that records the run.
type Notifier interface {
	NotifyImportTx(ctx context.Context, tx *store.Tx, ev Event) error
}

func (s *Service) notifyTx(ctx context.Context, tx *store.Tx, ev Event) error {
	if s.cfg.Notifier == nil {
		return nil
	}
	return s.cfg.Notifier.NotifyImportTx(ctx, tx, ev)
}

// Service runs applications' imports.
type Service struct {
	cfg Config
	dir string

	mu    sync.Mutex
	locks map[string]*sync.Mutex // per application: its runs one at a time
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("appimport: a store is required")
	}
	if cfg.DataDir == "" {
		// A server on PostgreSQL may run without a data directory: the files then live
		// in the system's temporary directory (a held run survives as long as it does).
		cfg.DataDir = filepath.Join(os.TempDir(), "gatehouse")
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	dir := filepath.Join(cfg.DataDir, "apps")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("appimport: %w", err)
	}
	return &Service{cfg: cfg, dir: dir, locks: map[string]*sync.Mutex{}}, nil
}

func (s *Service) lock(appID string) func() {
	s.mu.Lock()
	l := s.locks[appID]
	if l == nil {
		l = &sync.Mutex{}
		s.locks[appID] = l
	}
	s.mu.Unlock()
	l.Lock()
	return l.Unlock
}

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// AppInput is a new application.
type AppInput struct {
	Name  string
	Owner string // email
	// RemoveThreshold is a percent (0-100); nil is DefaultRemoveThreshold.
	RemoveThreshold *int
}

// CreateApplication creates an application, audited ("application.create").
func (s *Service) CreateApplication(ctx context.Context, actor, remote string, in AppInput) (*store.App, error) {
	in.Name, in.Owner = strings.TrimSpace(in.Name), strings.ToLower(strings.TrimSpace(in.Owner))
	if in.Name == "" {
		return nil, invalid("name is required: the application's name as people know it")
	}
	if a, err := mail.ParseAddress(in.Owner); err != nil || a.Address != in.Owner {
		return nil, invalid("owner must be the email address of the application's owner, got %q", in.Owner)
	}
	th := DefaultRemoveThreshold
	if in.RemoveThreshold != nil {
		th = *in.RemoveThreshold
	}
	if th < 0 || th > 100 {
		return nil, invalid("remove_threshold is a percent of the application's grants, from 0 to 100, got %d", th)
	}
	a := store.App{ID: store.NewAppID(), Name: in.Name, Owner: in.Owner, RemoveThreshold: th, CreatedBy: actor, CreatedAt: s.cfg.Now().UTC().Truncate(time.Millisecond)}
	err := s.cfg.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.InsertApp(ctx, a); err != nil {
			return err
		}
		_, err := tx.AppendAudit(ctx, actor, "application.create", "application:"+a.ID,
			map[string]any{"name": a.Name, "owner": a.Owner, "remove_threshold": a.RemoveThreshold}, remote)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// ImportInput is a new import of an application.
type ImportInput struct {
	DatasourceID string
	// Files are the object keys; one, or several (identities and grants apart).
	Files   []string
	Format  string // "" detects it from the first file's extension
	Mapping map[string]string
	Sheet   string
}

// formatOf detects a file's format from its name.
func formatOf(key string) string {
	switch strings.ToLower(path.Ext(key)) {
	case ".csv":
		return "csv"
	case ".tsv", ".tab":
		return "tsv"
	case ".xlsx":
		return "xlsx"
	case ".json":
		return "json"
	case ".yaml", ".yml":
		return "yaml"
	case ".c1z":
		return FormatC1Z
	}
	return ""
}

// AttachImport attaches an import to the application appID, audited
// ("application.import.create"). The file is imported at the data source's next read of it.
func (s *Service) AttachImport(ctx context.Context, actor, remote, appID string, in ImportInput) (*store.AppImport, error) {
	if _, err := s.cfg.Store.GetApp(ctx, appID); err != nil {
		return nil, err
	}
	in.DatasourceID = strings.TrimSpace(in.DatasourceID)
	if in.DatasourceID == "" {
		return nil, invalid("datasource_id is required: the id POST /api/v1/datasources answered")
	}
	if s.cfg.DatasourceExists != nil {
		ok, err := s.cfg.DatasourceExists(ctx, in.DatasourceID)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, invalid("no data source %q (GET /api/v1/datasources lists them)", in.DatasourceID)
		}
	}
	var files []string
	for _, f := range in.Files {
		if f = strings.TrimSpace(f); f != "" {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		return nil, invalid("file is required: the key of the file in the data source's bucket, e.g. exports/app.csv")
	}
	if in.Format == "" {
		in.Format = formatOf(files[0])
	}
	switch in.Format {
	case "csv", "tsv", "xlsx", "json", "yaml", FormatC1Z:
	case "":
		return nil, invalid("the format of %q cannot be told from its name: give format (csv, tsv, xlsx, json, yaml or c1z)", files[0])
	default:
		return nil, invalid("format must be csv, tsv, xlsx, json, yaml or c1z, got %q", in.Format)
	}
	if in.Format == FormatC1Z && len(files) != 1 {
		return nil, invalid("a .c1z import reads one file, got %d", len(files))
	}
	im := store.AppImport{ID: store.NewAppImportID(), AppID: appID, DatasourceID: in.DatasourceID, Files: files,
		Format: in.Format, Mapping: in.Mapping, Sheet: in.Sheet, CreatedBy: actor, CreatedAt: s.cfg.Now().UTC().Truncate(time.Millisecond)}
	if im.Mapping == nil {
		im.Mapping = map[string]string{}
	}
	err := s.cfg.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.InsertAppImport(ctx, im); err != nil {
			return err
		}
		_, err := tx.AppendAudit(ctx, actor, "application.import.create", "application:"+appID,
			map[string]any{"import": im.ID, "datasource_id": im.DatasourceID, "files": im.Files, "format": im.Format, "mapping": im.Mapping}, remote)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &im, nil
}

// ReadImport reads the files of the import importID now through Config.ReadNow, so that
// an import attached to a file the data source has already read runs at once. It returns
// what went wrong, file by file (the import stays attached and runs at the next change).
func (s *Service) ReadImport(ctx context.Context, im *store.AppImport) error {
	if s.cfg.ReadNow == nil {
		return nil
	}
	var errs []error
	for _, key := range im.Files {
		if err := s.cfg.ReadNow(ctx, im.DatasourceID, key); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
		}
	}
	return errors.Join(errs...)
}

// objectPath is where the latest read of a data source's object is kept.
func (s *Service) objectPath(datasourceID, key string) string {
	h := sha256.Sum256([]byte(key))
	return filepath.Join(s.dir, "objects", datasourceID, hex.EncodeToString(h[:16]))
}

// OnObject takes a new read of an object of a data source (a new version of the file)
// and runs every import that reads it. The body is kept (the latest read of each file),
// so that an import of several files runs with the latest of each. An error means the
// read could not be handled (the data source reports it and reads again); a file with
// problems is not an error: its run is rejected with them.
func (s *Service) OnObject(ctx context.Context, datasourceID string, obj Object, body io.Reader) error {
	imports, err := s.cfg.Store.AppImportsOfObject(ctx, datasourceID, obj.Key)
	if err != nil {
		return err
	}
	if len(imports) == 0 {
		return nil
	}
	if err := s.keep(datasourceID, obj, body); err != nil {
		return err
	}
	var errs []error
	for _, im := range imports {
		if _, err := s.Run(ctx, im.ID); err != nil {
			errs = append(errs, fmt.Errorf("import %s of application %s: %w", im.ID, im.AppID, err))
		}
	}
	return errors.Join(errs...)
}

// keep writes the body and its provenance next to each other, atomically.
func (s *Service) keep(datasourceID string, obj Object, body io.Reader) error {
	p := s.objectPath(datasourceID, obj.Key)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".read-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, body); err != nil {
		tmp.Close()
		return fmt.Errorf("read %s: %w", obj.Key, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if obj.ReadAt.IsZero() {
		obj.ReadAt = s.cfg.Now()
	}
	prov, _ := json.Marshal(store.AppProvenance{Key: obj.Key, VersionID: obj.VersionID, ETag: obj.ETag, Size: obj.Size,
		Checksum: obj.Checksum, ReadAt: obj.ReadAt.UTC().Truncate(time.Millisecond)})
	if err := os.WriteFile(p+".prov.tmp", prov, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return err
	}
	return os.Rename(p+".prov.tmp", p+".json")
}

// Run runs the import importID over the latest read of its files. It returns nil, nil
// while a file of the import has not been read yet.
func (s *Service) Run(ctx context.Context, importID string) (*store.AppRun, error) {
	im, err := s.cfg.Store.GetAppImport(ctx, importID)
	if err != nil {
		return nil, err
	}
	app, err := s.cfg.Store.GetApp(ctx, im.AppID)
	if err != nil {
		return nil, err
	}
	var files []File
	var prov []store.AppProvenance
	for _, key := range im.Files {
		p := s.objectPath(im.DatasourceID, key)
		raw, err := os.ReadFile(p + ".json")
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil // waits for the other files
		}
		if err != nil {
			return nil, err
		}
		var pr store.AppProvenance
		if err := json.Unmarshal(raw, &pr); err != nil {
			return nil, fmt.Errorf("provenance of %s: %w", key, err)
		}
		files = append(files, File{Key: key, Path: p})
		prov = append(prov, pr)
	}
	defer s.lock(app.ID)()

	run := store.AppRun{ID: store.NewAppRunID(), ImportID: im.ID, AppID: app.ID, Provenance: prov}
	run.At, err = s.nextAt(ctx, app.ID)
	if err != nil {
		return nil, err
	}
	c1z := filepath.Join(s.dir, app.ID, run.ID+".c1z")
	if err := os.MkdirAll(filepath.Dir(c1z), 0o700); err != nil {
		return nil, err
	}
	problems, near, err := s.build(ctx, app, im, files, c1z)
	if err != nil {
		return nil, err
	}
	run.NearDuplicates = near
	if len(problems) > 0 {
		run.State, run.Errors = store.RunRejected, problems
		err := s.cfg.Store.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.InsertAppRun(ctx, run); err != nil {
				return err
			}
			if _, err := tx.AppendAudit(ctx, "system", "application.import.rejected", "application:"+app.ID,
				map[string]any{"run": run.ID, "import": im.ID, "files": im.Files, "problems": len(problems), "first": problems[0]}, ""); err != nil {
				return err
			}
			return s.notifyTx(ctx, tx, Event{Kind: EventRejected, AppID: app.ID, AppName: app.Name, Owner: app.Owner, RunID: run.ID,
				ImportID: im.ID, Files: im.Files, Detail: rejectedDetail(problems), At: run.At})
		})
		if err != nil {
			return nil, err
		}
		s.cfg.Log.Warn("application import rejected: the file has problems; the application keeps its data",
			zap.String("application", app.ID), zap.String("run", run.ID), zap.Int("problems", len(problems)))
		return &run, nil
	}
	defer func() {
		if run.State != store.RunHeld {
			_ = os.Remove(c1z)
		}
	}()

	// Removes more than the threshold: held for an admin, nothing applied.
	diff, err := s.preview(ctx, app.ID, c1z)
	if err != nil {
		return nil, err
	}
	if diff.GrantsBefore > 0 && diff.GrantsRemoved*100 > app.RemoveThreshold*diff.GrantsBefore {
		run.State, run.Diff, run.C1ZPath = store.RunHeld, diff, c1z
		run.HeldReason = fmt.Sprintf("the import removes %d of the application's %d grants (%d%%), more than its threshold of %d%%; an admin approves or rejects it",
			diff.GrantsRemoved, diff.GrantsBefore, diff.GrantsRemoved*100/diff.GrantsBefore, app.RemoveThreshold)
		err := s.cfg.Store.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.InsertAppRun(ctx, run); err != nil {
				return err
			}
			if _, err := tx.AppendAudit(ctx, "system", "application.import.held", "application:"+app.ID,
				map[string]any{"run": run.ID, "import": im.ID, "reason": run.HeldReason, "grants_removed": diff.GrantsRemoved, "grants_before": diff.GrantsBefore}, ""); err != nil {
				return err
			}
			return s.notifyTx(ctx, tx, Event{Kind: EventHeld, AppID: app.ID, AppName: app.Name, Owner: app.Owner, RunID: run.ID,
				ImportID: im.ID, Files: im.Files, Detail: run.HeldReason, At: run.At})
		})
		if err != nil {
			return nil, err
		}
		return &run, nil
	}

	run.State, run.SyncID = store.RunApplied, run.ID
	_, err = ingest.Apply(ctx, s.cfg.Store, ingest.Input{ConnectionID: app.ID, SyncID: run.ID, C1ZPath: c1z, At: run.At,
		Finish: func(ctx context.Context, tx *store.Tx, res *ingest.Result) error {
			run.Diff = diffOf(diff.GrantsBefore, res)
			if err := tx.InsertAppRun(ctx, run); err != nil {
				return err
			}
			_, err := tx.AppendAudit(ctx, "system", "application.import.applied", "application:"+app.ID,
				map[string]any{"run": run.ID, "import": im.ID, "diff": run.Diff}, "")
			return err
		}})
	if err != nil {
		return nil, err
	}
	s.afterApply(ctx, app.ID, run.ID)
	return &run, nil
}

// afterApply calls Config.AfterApply for the applied run syncID of appID, logging its
// error: the import is applied whatever it does.
func (s *Service) afterApply(ctx context.Context, appID, syncID string) {
	if s.cfg.AfterApply == nil {
		return
	}
	if err := s.cfg.AfterApply(ctx, appID, syncID); err != nil {
		s.cfg.Log.Error("after the import was applied", zap.String("application", appID), zap.String("run", syncID), zap.Error(err))
	}
}

// rejectedDetail is the first problem of a rejected file and how many there are.
func rejectedDetail(ps []store.AppProblem) string {
	p := ps[0]
	where := p.File
	if p.Part != "" {
		where += " " + p.Part
	}
	if p.Row > 0 {
		where += fmt.Sprintf(", row %d", p.Row)
	}
	if p.Column != "" {
		where += fmt.Sprintf(", column %q", p.Column)
	}
	more := ""
	switch {
	case len(ps) == 2:
		more = " (and 1 more problem)"
	case len(ps) > 2:
		more = fmt.Sprintf(" (and %d more problems)", len(ps)-1)
	}
	return where + ": " + p.Message + more
}

func diffOf(before int, r *ingest.Result) store.AppDiff {
	return store.AppDiff{GrantsBefore: before, GrantsAdded: r.Added, GrantsRemoved: r.Removed, GrantsChanged: r.Changed,
		ResourcesAdded: r.ResourcesAdded, ResourcesRemoved: r.ResourcesRemoved}
}

// nextAt is the time of a new run or decision: now, or just after the application's
// last ingestion when the clock has not moved past it (history only moves forward).
func (s *Service) nextAt(ctx context.Context, appID string) (time.Time, error) {
	at := s.cfg.Now().UTC().Truncate(time.Millisecond)
	last, err := s.cfg.Store.LatestAppRun(ctx, appID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return time.Time{}, err
	default:
		for _, t := range []*time.Time{&last.At, last.DecidedAt} {
			if t != nil && !t.Before(at) {
				at = t.Add(time.Millisecond)
			}
		}
	}
	return at, nil
}

// build writes the import's files as a .c1z at c1z, or returns their problems.
func (s *Service) build(ctx context.Context, app *store.App, im *store.AppImport, files []File, c1z string) ([]store.AppProblem, json.RawMessage, error) {
	if im.Format == FormatC1Z {
		// Ingested as it is, once baton's reader accepts it.
		f, err := c1zread.Open(ctx, files[0].Path)
		if err != nil {
			return []store.AppProblem{{File: files[0].Key, Message: "not a .c1z file baton can read: " + err.Error()}}, nil, nil
		}
		_, err = f.ResourceTypes(ctx)
		f.Close(ctx)
		if err != nil {
			return []store.AppProblem{{File: files[0].Key, Message: "the .c1z file cannot be read: " + err.Error()}}, nil, nil
		}
		in, err := os.Open(files[0].Path)
		if err != nil {
			return nil, nil, err
		}
		defer in.Close()
		out, err := os.OpenFile(c1z, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return nil, nil, err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return nil, nil, err
		}
		return nil, nil, out.Close()
	}
	if s.cfg.Parse == nil {
		return nil, nil, fmt.Errorf("appimport: no parser for %s files", im.Format)
	}
	p, err := s.cfg.Parse(ctx, *im, files)
	if err != nil {
		return nil, nil, err
	}
	if len(p.Problems) > 0 {
		return p.Problems, p.NearDuplicates, nil
	}
	if p.Data == nil {
		return nil, nil, errors.New("appimport: the parser returned neither data nor problems")
	}
	if _, err := WriteC1Z(ctx, app.ID, app.Name, p.Data, c1z); err != nil {
		return nil, nil, err
	}
	return nil, p.NearDuplicates, nil
}

// preview counts the application's current grants and how many of them the file at c1z
// no longer has.
func (s *Service) preview(ctx context.Context, appID, c1z string) (store.AppDiff, error) {
	cur, err := s.cfg.Store.OpenGrantIDs(ctx, appID)
	if err != nil {
		return store.AppDiff{}, err
	}
	d := store.AppDiff{GrantsBefore: len(cur)}
	f, err := c1zread.Open(ctx, c1z)
	if err != nil {
		return d, err
	}
	defer f.Close(ctx)
	kept := 0
	err = f.EachGrant(ctx, func(g *v2.Grant) error {
		if cur[g.GetId()] {
			kept++
		} else {
			d.GrantsAdded++
		}
		return nil
	})
	d.GrantsRemoved = d.GrantsBefore - kept
	return d, err
}

// Approve applies the held run runID, audited ("application.import.approve"). A run that
// is not held, or older than a run applied since, is ErrState.
func (s *Service) Approve(ctx context.Context, actor, remote, runID string) (*store.AppRun, error) {
	run, err := s.cfg.Store.GetAppRun(ctx, runID)
	if err != nil {
		return nil, err
	}
	defer s.lock(run.AppID)()
	if run, err = s.cfg.Store.GetAppRun(ctx, runID); err != nil {
		return nil, err
	}
	if run.State != store.RunHeld {
		return nil, fmt.Errorf("%w: run %s is %s, only a held run can be approved", ErrState, runID, run.State)
	}
	if last, err := s.cfg.Store.LatestAppRun(ctx, run.AppID); err != nil {
		return nil, err
	} else if last.ID != run.ID {
		return nil, fmt.Errorf("%w: run %s is not the application's latest (%s is); reject it, the files were read again since", ErrState, runID, last.ID)
	}
	at, err := s.nextAt(ctx, run.AppID)
	if err != nil {
		return nil, err
	}
	before, err := s.cfg.Store.OpenGrantIDs(ctx, run.AppID)
	if err != nil {
		return nil, err
	}
	_, err = ingest.Apply(ctx, s.cfg.Store, ingest.Input{ConnectionID: run.AppID, SyncID: run.ID, C1ZPath: run.C1ZPath, At: at,
		Finish: func(ctx context.Context, tx *store.Tx, res *ingest.Result) error {
			ok, err := tx.DecideAppRun(ctx, run.ID, store.RunApplied, actor, at, run.ID)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%w: run %s was decided meanwhile", ErrState, run.ID)
			}
			_, err = tx.AppendAudit(ctx, actor, "application.import.approve", "application:"+run.AppID,
				map[string]any{"run": run.ID, "diff": diffOf(len(before), res)}, remote)
			return err
		}})
	if err != nil {
		return nil, err
	}
	_ = os.Remove(run.C1ZPath)
	s.afterApply(ctx, run.AppID, run.ID)
	return s.cfg.Store.GetAppRun(ctx, runID)
}

// Reject rejects the held run runID: nothing is applied, the application keeps its data;
// audited ("application.import.reject").
func (s *Service) Reject(ctx context.Context, actor, remote, runID string) (*store.AppRun, error) {
	run, err := s.cfg.Store.GetAppRun(ctx, runID)
	if err != nil {
		return nil, err
	}
	defer s.lock(run.AppID)()
	at := s.cfg.Now().UTC().Truncate(time.Millisecond)
	err = s.cfg.Store.InTx(ctx, func(tx *store.Tx) error {
		ok, err := tx.DecideAppRun(ctx, runID, store.RunRejected, actor, at, "")
		if err != nil {
			return err
		}
		if !ok {
			cur, err := tx.GetAppRun(ctx, runID)
			if err != nil {
				return err
			}
			return fmt.Errorf("%w: run %s is %s, only a held run can be rejected", ErrState, runID, cur.State)
		}
		_, err = tx.AppendAudit(ctx, actor, "application.import.reject", "application:"+run.AppID, map[string]any{"run": runID}, remote)
		return err
	})
	if err != nil {
		return nil, err
	}
	_ = os.Remove(run.C1ZPath)
	return s.cfg.Store.GetAppRun(ctx, runID)
}

// ObjectHandler is OnObject as a data source's Config.OnObject: every new read of a file
// of the data source runs the imports that name it.
func (s *Service) ObjectHandler() datasource.ObjectHandler {
	return func(ctx context.Context, datasourceID string, obj datasource.Object, body io.Reader) error {
		return s.OnObject(ctx, datasourceID, Object{Key: obj.Key, VersionID: obj.VersionID, ETag: obj.ETag, Size: obj.Size,
			Checksum: obj.Checksum, ReadAt: obj.ReadAt}, body)
	}
}
