package evidence

import (
	"archive/zip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Errors of the service, for the API's statuses.
var (
	// ErrNotFound: no such pack (404).
	ErrNotFound = errors.New("no such evidence pack")
	// ErrForbidden: the caller is neither an auditor nor an admin (403).
	ErrForbidden = errors.New("evidence packs are for auditors and admins")
	// ErrNotReady: the pack is not built (yet), or failed (409).
	ErrNotReady = errors.New("the evidence pack is not ready")
	// ErrFileGone: the pack's file is not on this replica, or was changed on disk (409).
	ErrFileGone = errors.New("the evidence pack's file is not available")
)

// Every names how often scheduled packs are built.
const (
	EveryMonth = "monthly"
	EveryWeek  = "weekly"
)

// ScheduleActor is who asks for scheduled packs (requested_by, the audit log).
const ScheduleActor = "gatehouse (schedule)"

// Schedule configures scheduled packs (server config key evidence): Every is monthly
// (each calendar month, built once it is over), weekly (Monday to Sunday, UTC), or ""
// for none; the scope is the packs'.
type Schedule struct {
	Every        string
	Accounts     []string
	OUs          []string
	Applications []string
}

// Config configures the service.
type Config struct {
	Store *store.Store
	Log   *zap.Logger
	// DataDir holds the packs (<DataDir>/evidence/<id>.zip, 0600 in a 0700 directory).
	DataDir  string
	Schedule Schedule
	// Runner names this replica (a pack's file is in its data directory).
	Runner string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Queue inserts jobs in a store transaction (jobs.Service).
type Queue interface {
	InsertTx(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Service requests, builds, lists and serves evidence packs.
type Service struct {
	cfg   Config
	log   *zap.Logger
	queue Queue
}

// New makes the service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("evidence: a store is required")
	}
	if cfg.DataDir == "" {
		return nil, errors.New("evidence: a data directory is required (the packs are kept there)")
	}
	switch cfg.Schedule.Every {
	case "", EveryMonth, EveryWeek, "off":
	default:
		return nil, fmt.Errorf("evidence.schedule %q: want monthly, weekly or off", cfg.Schedule.Every)
	}
	if cfg.Schedule.Every == "off" {
		cfg.Schedule.Every = ""
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Runner == "" {
		host, _ := os.Hostname()
		cfg.Runner = fmt.Sprintf("%s_pid%d", host, os.Getpid())
	}
	abs, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("evidence: data directory %s: %w", cfg.DataDir, err)
	}
	cfg.DataDir = abs
	return &Service{cfg: cfg, log: cfg.Log.Named("evidence")}, nil
}

// SetQueue gives the service the River client its builds go to (before jobs start).
// Without one (tools, tests) a request builds at once.
func (s *Service) SetQueue(q Queue) { s.queue = q }

// SetRunner names this replica once the jobs' client is known.
func (s *Service) SetRunner(id string) {
	if id != "" {
		s.cfg.Runner = id
	}
}

// Pack is a pack as the API and UI show it.
type Pack struct {
	ID          string
	State       string
	From, To    time.Time
	Scope       Scope
	RequestedBy string
	RequestedAt time.Time
	StartedAt   *time.Time
	FinishedAt  *time.Time
	Error       string
	SHA256      string
	Size        int64
	Scheduled   bool
	// Summary is the pack's summary once built (nil before).
	Summary *Summary
}

func packOf(p *store.EvidencePack) *Pack {
	out := &Pack{ID: p.ID, State: p.State, From: p.From, To: p.To, RequestedBy: p.RequestedBy, RequestedAt: p.RequestedAt,
		StartedAt: p.StartedAt, FinishedAt: p.FinishedAt, Error: p.Error, SHA256: p.SHA256, Size: p.Size, Scheduled: p.ScheduleKey != ""}
	_ = json.Unmarshal([]byte(p.Scope), &out.Scope)
	out.Scope = Scope{Accounts: nonNil(out.Scope.Accounts), OUs: nonNil(out.Scope.OUs), Applications: nonNil(out.Scope.Applications)}
	if p.State == store.EvidenceReady {
		var sum Summary
		if json.Unmarshal([]byte(p.Summary), &sum) == nil {
			out.Summary = &sum
		}
	}
	return out
}

// NewID makes a pack id: ev- and 16 base32 characters.
func NewID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return "ev-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// Request checks req (an *InputError says what to fix) and queues its build: the pack's
// row, its job and the audit entry (evidence.request) in one transaction. Without a queue
// the pack is built before Request returns.
func (s *Service) Request(ctx context.Context, c *auth.Caller, req Request) (*Pack, error) {
	if !c.CanAudit() {
		return nil, ErrForbidden
	}
	if _, err := Resolve(ctx, s.cfg.Store, req); err != nil {
		return nil, err
	}
	return s.queueBuild(ctx, req, c.Email, c.RemoteAddr, "")
}

func (s *Service) queueBuild(ctx context.Context, req Request, by, remote, scheduleKey string) (*Pack, error) {
	scope, _ := json.Marshal(req.Scope())
	p := &store.EvidencePack{ID: NewID(), State: store.EvidenceQueued, From: req.From, To: req.To, Scope: string(scope),
		RequestedBy: by, RequestedAt: s.cfg.Now().UTC().Truncate(time.Millisecond), ScheduleKey: scheduleKey}
	err := s.cfg.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.InsertEvidencePack(ctx, p); err != nil {
			return err
		}
		if s.queue != nil {
			if _, err := s.queue.InsertTx(ctx, tx, buildArgs{PackID: p.ID}, nil); err != nil {
				return err
			}
		}
		detail := map[string]any{"pack_id": p.ID, "from": rfc3339(req.From), "to": rfc3339(req.To), "scope": req.Scope()}
		if scheduleKey != "" {
			detail["schedule"] = scheduleKey
		}
		_, err := tx.AppendAudit(ctx, by, "evidence.request", "evidence:"+p.ID, detail, remote)
		return err
	})
	if err != nil {
		return nil, err
	}
	if s.queue == nil {
		if err := s.build(ctx, p.ID, true); err != nil {
			return nil, err
		}
	}
	return s.Get(ctx, p.ID)
}

// Get returns the pack id.
func (s *Service) Get(ctx context.Context, id string) (*Pack, error) {
	p, err := s.cfg.Store.GetEvidencePack(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, err
	}
	return packOf(p), nil
}

// List lists packs, newest first.
func (s *Service) List(ctx context.Context, page store.Page) ([]Pack, string, error) {
	rows, next, err := s.cfg.Store.ListEvidencePacks(ctx, page)
	if err != nil {
		return nil, "", err
	}
	out := make([]Pack, len(rows))
	for i := range rows {
		out[i] = *packOf(&rows[i])
	}
	return out, next, nil
}

// path is where the pack id is kept.
func (s *Service) path(id string) string {
	return filepath.Join(s.cfg.DataDir, "evidence", id+".zip")
}

// build builds the pack id (the job's work). It returns nil when there is nothing to do
// (built already, or failed for good). final says that a failure is recorded as the
// pack's final state (the job's last attempt, or an input the pack can never be built
// from); otherwise the error is returned for River to try again.
func (s *Service) build(ctx context.Context, id string, final bool) error {
	now := s.cfg.Now().UTC()
	ok, err := s.cfg.Store.StartEvidencePack(ctx, id, s.cfg.Runner, now)
	if err != nil || !ok {
		return err
	}
	p, err := s.cfg.Store.GetEvidencePack(ctx, id)
	if err != nil {
		return err
	}
	var sc Scope
	_ = json.Unmarshal([]byte(p.Scope), &sc)
	req := Request{From: p.From, To: p.To, Accounts: sc.Accounts, OUs: sc.OUs, Applications: sc.Applications}
	res, err := Resolve(ctx, s.cfg.Store, req)
	var built *Built
	if err == nil {
		built, err = BuildFile(ctx, s.cfg.Store, req, res, Options{ID: id, By: p.RequestedBy, Now: s.cfg.Now}, s.path(id))
	}
	if err != nil {
		if !final && !IsInputError(err) && ctx.Err() == nil {
			s.log.Warn("evidence pack build failed; it will be tried again", zap.String("pack", id), zap.Error(err))
			return err
		}
		s.log.Error("evidence pack build failed", zap.String("pack", id), zap.Error(err))
		ctx := context.WithoutCancel(ctx)
		return s.cfg.Store.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.FinishEvidencePack(ctx, id, store.EvidenceResult{State: store.EvidenceFailed, Error: err.Error(), At: s.cfg.Now().UTC()}); err != nil {
				return err
			}
			_, aerr := tx.AppendAudit(ctx, "system", "evidence.fail", "evidence:"+id, map[string]any{"pack_id": id, "error": err.Error()}, "")
			return aerr
		})
	}
	summary, _ := json.Marshal(built.Summary)
	err = s.cfg.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.FinishEvidencePack(ctx, id, store.EvidenceResult{State: store.EvidenceReady, SHA256: built.SHA256, Size: built.Size,
			Path: built.Path, Summary: string(summary), At: s.cfg.Now().UTC()}); err != nil {
			return err
		}
		_, err := tx.AppendAudit(ctx, "system", "evidence.build", "evidence:"+id, map[string]any{"pack_id": id, "sha256": built.SHA256,
			"size": built.Size, "requested_by": p.RequestedBy, "audit_chain_ok": built.Summary.Chain.OK, "runner": s.cfg.Runner}, "")
		return err
	})
	if err != nil {
		os.Remove(built.Path)
		return err
	}
	s.log.Info("evidence pack built", zap.String("pack", id), zap.Int64("size", built.Size), zap.String("sha256", built.SHA256))
	return nil
}

// Download is a ready pack's file, open for reading; the caller closes it.
type Download struct {
	*os.File
	Name   string
	Size   int64
	SHA256 string
}

// open opens the pack's file after checking that it is the file that was built: same
// size and SHA-256 as recorded (a file changed on disk is never served as the pack).
func (s *Service) open(ctx context.Context, c *auth.Caller, id string) (*store.EvidencePack, *os.File, error) {
	if !c.CanAudit() {
		return nil, nil, ErrForbidden
	}
	p, err := s.cfg.Store.GetEvidencePack(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, nil, err
	}
	if p.State != store.EvidenceReady {
		why := "it is " + p.State + ": wait until its state is ready"
		if p.State == store.EvidenceFailed {
			why = "its build failed (" + p.Error + "): request a new pack"
		}
		return nil, nil, fmt.Errorf("%w: pack %s %s", ErrNotReady, id, why)
	}
	f, err := os.Open(p.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("%w: pack %s was built by %s and its file (%s) is not on this replica; download it there, or request the pack again",
			ErrFileGone, id, p.Runner, p.Path)
	}
	if err != nil {
		return nil, nil, err
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != p.SHA256 || n != p.Size {
		f.Close()
		return nil, nil, fmt.Errorf("%w: the file of pack %s (%s) was changed after it was built: its SHA-256 is %s, the pack's is %s; request the pack again",
			ErrFileGone, id, p.Path, sum, p.SHA256)
	}
	return p, f, nil
}

// Open opens the ready pack id for download and records the download in the audit log
// (evidence.download, with the pack's SHA-256).
func (s *Service) Open(ctx context.Context, c *auth.Caller, id string) (*Download, error) {
	p, f, err := s.open(ctx, c, id)
	if err != nil {
		return nil, err
	}
	err = s.cfg.Store.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.AppendAudit(ctx, c.Email, "evidence.download", "evidence:"+id, map[string]any{"pack_id": id, "sha256": p.SHA256,
			"size": p.Size}, c.RemoteAddr)
		return err
	})
	if err != nil {
		f.Close()
		return nil, err
	}
	return &Download{File: f, Name: FileName(p), Size: p.Size, SHA256: p.SHA256}, nil
}

// FileName is the pack's download name: evidence-<from>-<to>-<id>.zip.
func FileName(p *store.EvidencePack) string {
	return fmt.Sprintf("evidence-%s-%s-%s.zip", p.From.Format("20060102"), p.To.Format("20060102"), p.ID)
}

// SummaryHTML returns the printable summary of the ready pack id (summary.html as the
// pack holds it), recording the download like Open.
func (s *Service) SummaryHTML(ctx context.Context, c *auth.Caller, id string) ([]byte, error) {
	p, f, err := s.open(ctx, c, id)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := zip.NewReader(f, p.Size)
	if err != nil {
		return nil, err
	}
	rc, err := zr.Open(FileSummaryHTML)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, err
	}
	err = s.cfg.Store.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.AppendAudit(ctx, c.Email, "evidence.download", "evidence:"+id, map[string]any{"pack_id": id, "sha256": p.SHA256,
			"file": FileSummaryHTML}, c.RemoteAddr)
		return err
	})
	return b, err
}

// SchedulePeriod is the last complete period of every before now, and its key:
// monthly, the previous calendar month (UTC); weekly, the previous Monday to Sunday.
func SchedulePeriod(every string, now time.Time) (from, to time.Time, key string) {
	now = now.UTC()
	switch every {
	case EveryWeek:
		day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
		monday := day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
		from = monday.AddDate(0, 0, -7)
		y, w := from.ISOWeek()
		return from, monday.Add(-time.Millisecond), fmt.Sprintf("weekly:%04d-W%02d", y, w)
	default:
		first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
		from = first.AddDate(0, -1, 0)
		return from, first.Add(-time.Millisecond), "monthly:" + from.Format("2006-01")
	}
}

// QueueScheduled queues the scheduled pack of the last complete period, unless it was
// queued already (by this replica or another). It returns the pack queued, or nil.
func (s *Service) QueueScheduled(ctx context.Context) (*Pack, error) {
	sch := s.cfg.Schedule
	if sch.Every == "" {
		return nil, nil
	}
	from, to, key := SchedulePeriod(sch.Every, s.cfg.Now())
	req := Request{From: from, To: to, Accounts: norm(sch.Accounts), OUs: norm(sch.OUs), Applications: norm(sch.Applications)}
	p, err := s.queueBuild(ctx, req, ScheduleActor, "", key)
	if errors.Is(err, store.ErrConflict) {
		return nil, nil
	}
	return p, err
}
