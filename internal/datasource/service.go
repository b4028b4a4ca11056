// Package datasource reads application access files from customers' S3 buckets (S3 data
// sources). An admin adds a data source (role ARN, bucket, optional prefix and region);
// Gatehouse generates its External ID once, stores it, and never changes it, so the role's
// trust policy (gatehouse setup s3) keeps working across restarts, edits and UI reloads.
//
// A sync assumes the role with the External ID (from the principal Gatehouse runs as,
// Config.BaseAWS), lists the bucket under the prefix, and fetches only the objects whose ETag
// changed since their last read: an unchanged file costs no GetObject. Each new read goes to
// Config.OnObject (the import pipeline, internal/appimport) and is recorded as provenance
// (key, version id, ETag, size, checksum, time). A failed listing fails the sync, recorded on
// the source with what to do: it never looks like an empty bucket. Test checks each permission
// the role needs and says exactly what to fix; `gatehouse doctor --s3` runs the same checks.
package datasource

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
)

// TypeS3 is the only type of data source.
const TypeS3 = "s3"

// DefaultSchedule is how often a data source is read when its schedule is not set.
const DefaultSchedule = time.Hour

// MinSchedule is the shortest schedule accepted.
const MinSchedule = 5 * time.Minute

// Object is one read of an object: what the import pipeline gets with the body, and the
// provenance recorded. ETag is without quotes; Checksum is "ALGORITHM:base64".
type Object struct {
	Key          string    `json:"key"`
	VersionID    string    `json:"version_id"`
	ETag         string    `json:"etag"`
	Size         int64     `json:"size"`
	Checksum     string    `json:"checksum"`
	LastModified time.Time `json:"last_modified"`
	ReadAt       time.Time `json:"read_at"`
	// Note is what was done with the read (for example that no import is attached).
	Note string `json:"note,omitempty"`
}

// ObjectHandler takes a new read of an object of data source datasourceID. The body is
// read once; an error means the read could not be handled: it is reported on the data source
// and the object is read again at the next sync. A file whose content is invalid is not an
// error for the data source (the import records its own problems).
type ObjectHandler func(ctx context.Context, datasourceID string, obj Object, body io.Reader) error

// Config configures a Service.
type Config struct {
	Store *store.Store
	// BaseAWS returns the AWS configuration of the principal Gatehouse runs as (credentials,
	// region, endpoint): the role of each data source is assumed from it.
	BaseAWS func(ctx context.Context) (aws.Config, error)
	// OnObject gets every new read. Nil: reads are recorded (provenance) and the source's
	// summary says that no import is attached.
	OnObject ObjectHandler
	// OnObjectNote, when set, is noted on every read handed to OnObject.
	OnObjectNote string
	// SessionName names the role sessions in the customer's CloudTrail.
	SessionName string
	Log         *zap.Logger
	Now         func() time.Time
}

// Service manages data sources and reads them.
type Service struct {
	cfg   Config
	queue Queue
}

// NewService returns a Service.
func NewService(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.SessionName == "" {
		cfg.SessionName = "gatehouse-datasource"
	}
	return &Service{cfg: cfg}
}

// Source is a data source as the API shows it.
type Source struct {
	ID         string     `json:"id"`
	Type       string     `json:"type"`
	Name       string     `json:"name"`
	RoleARN    string     `json:"role_arn"`
	Bucket     string     `json:"bucket"`
	Prefix     string     `json:"prefix"`
	Region     string     `json:"region"`
	ExternalID string     `json:"external_id"`
	Schedule   string     `json:"schedule"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	LastSyncAt *time.Time `json:"last_sync_at"`
	// LastState is "" (never read), "succeeded" or "failed".
	LastState string `json:"last_state"`
	// LastError says what failed and what to do ("" after a success).
	LastError   string   `json:"last_error"`
	LastSummary *Summary `json:"last_summary,omitempty"`
}

// Summary is what the last sync did.
type Summary struct {
	Listed    int `json:"listed"`
	Fetched   int `json:"fetched"`
	Unchanged int `json:"unchanged"`
	Failed    int `json:"failed"`
	// Missing are keys read before that the listing no longer has (nothing is done with them).
	Missing []string `json:"missing,omitempty"`
	// Notes say what a reader should know (no import attached...).
	Notes []string `json:"notes,omitempty"`
}

// Input is what an admin sets on a data source. Pointer fields of an update left nil keep
// their value.
type Input struct {
	Type     *string `json:"type"`
	Name     *string `json:"name"`
	RoleARN  *string `json:"role_arn"`
	Bucket   *string `json:"bucket"`
	Prefix   *string `json:"prefix"`
	Region   *string `json:"region"`
	Schedule *string `json:"schedule"`
	// ExternalID is refused: Gatehouse generates it once and it never changes.
	ExternalID *string `json:"external_id"`
}

// Errors.
var (
	ErrNotFound = errors.New("data source not found")
	ErrExists   = errors.New("a data source with this name exists")
)

// FieldError is one problem with one field of an Input.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists everything wrong with an Input.
type ValidationError struct{ Fields []FieldError }

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Message
	}
	return strings.Join(parts, "; ")
}

var (
	roleARNPattern    = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)
	bucketPattern     = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	regionPattern     = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$`)
	namePatternLength = 200
)

func validate(d *store.DataSource) error {
	var v ValidationError
	add := func(field, format string, args ...any) {
		v.Fields = append(v.Fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if d.Type != TypeS3 {
		add("type", "type must be \"s3\", got %q", d.Type)
	}
	if strings.TrimSpace(d.Name) == "" || len(d.Name) > namePatternLength {
		add("name", "name is required (1 to %d characters)", namePatternLength)
	}
	if !roleARNPattern.MatchString(d.RoleARN) {
		add("role_arn", "role_arn must be the ARN of the IAM role Gatehouse reads the bucket through (arn:aws:iam::123456789012:role/NAME; gatehouse setup s3 generates it), got %q", d.RoleARN)
	}
	if !bucketPattern.MatchString(d.Bucket) || strings.Contains(d.Bucket, "..") {
		add("bucket", "bucket must be an S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens; the name, not an s3:// URL or ARN), got %q", d.Bucket)
	}
	if strings.HasPrefix(d.Prefix, "/") || strings.ContainsAny(d.Prefix, "*?") {
		add("prefix", "prefix must be the literal start of the keys, without a leading \"/\" or wildcards (for example exports/), got %q", d.Prefix)
	}
	if d.Region != "" && !regionPattern.MatchString(d.Region) {
		add("region", "region must be an AWS region such as eu-west-1 (or empty: Gatehouse asks S3 where the bucket is), got %q", d.Region)
	}
	if sched, err := time.ParseDuration(d.Schedule); err != nil || sched < MinSchedule {
		add("schedule", "schedule must be a duration of at least %s such as \"1h\", got %q", MinSchedule, d.Schedule)
	} else {
		d.Schedule = sched.String()
	}
	if len(v.Fields) > 0 {
		return &v
	}
	return nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return strings.TrimSpace(*p)
}

// newID returns prefix + 20 random base32 characters (lower case).
func newID(prefix string) string {
	var b [13]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))[:20]
}

// newExternalID returns a new External ID: 32 random hex characters (AWS accepts 2 to 1224
// characters of [\w+=,.@:/-]).
func newExternalID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return "gh-" + hex.EncodeToString(b[:])
}

func actorOf(c *auth.Caller) (actor, remote string) {
	if c == nil {
		return "system", ""
	}
	return c.Email, c.RemoteAddr
}

// AuditTarget is the audit target of data source id.
func AuditTarget(id string) string { return "datasource:" + id }

func view(d *store.DataSource) *Source {
	s := &Source{ID: d.ID, Type: d.Type, Name: d.Name, RoleARN: d.RoleARN, Bucket: d.Bucket, Prefix: d.Prefix, Region: d.Region,
		ExternalID: d.ExternalID, Schedule: d.Schedule, CreatedBy: d.CreatedBy, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
		LastSyncAt: d.LastSyncAt, LastState: d.LastState, LastError: d.LastError}
	var sum Summary
	if d.LastSummary != "" && d.LastSummary != "{}" && json.Unmarshal([]byte(d.LastSummary), &sum) == nil {
		s.LastSummary = &sum
	}
	return s
}

func auditDetail(d *store.DataSource) map[string]any {
	return map[string]any{"name": d.Name, "role_arn": d.RoleARN, "bucket": d.Bucket, "prefix": d.Prefix, "region": d.Region,
		"schedule": d.Schedule, "external_id": d.ExternalID}
}

// Create adds a data source and generates its External ID, once.
func (s *Service) Create(ctx context.Context, caller *auth.Caller, in Input) (*Source, error) {
	if in.ExternalID != nil {
		return nil, &ValidationError{Fields: []FieldError{{Field: "external_id", Message: "external_id is generated by Gatehouse when the data source is created (and never changes); leave it out and use the one the answer gives in the role's trust policy"}}}
	}
	now := s.cfg.Now().UTC()
	actor, remote := actorOf(caller)
	d := store.DataSource{ID: newID("ds_"), Type: str(in.Type), Name: str(in.Name), RoleARN: str(in.RoleARN), Bucket: str(in.Bucket),
		Prefix: str(in.Prefix), Region: str(in.Region), Schedule: str(in.Schedule), ExternalID: newExternalID(),
		CreatedBy: actor, CreatedAt: now, UpdatedAt: now}
	if in.Prefix != nil {
		d.Prefix = *in.Prefix // a prefix may end in a space; only validation speaks about it
	}
	if d.Schedule == "" {
		d.Schedule = DefaultSchedule.String()
	}
	if err := validate(&d); err != nil {
		return nil, err
	}
	err := s.cfg.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateDataSource(ctx, d); err != nil {
			return err
		}
		_, err := tx.AppendAudit(ctx, actor, "datasource.create", AuditTarget(d.ID), auditDetail(&d), remote)
		return err
	})
	if errors.Is(err, store.ErrDuplicateName) {
		return nil, fmt.Errorf("%w: %q; choose another name or update that one", ErrExists, d.Name)
	}
	if err != nil {
		return nil, err
	}
	s.cfg.Log.Info("data source created", zap.String("datasource", d.ID), zap.String("by", actor))
	return s.Get(ctx, d.ID)
}

// Get returns data source id (ErrNotFound when there is none).
func (s *Service) Get(ctx context.Context, id string) (*Source, error) {
	d, err := s.cfg.Store.GetDataSource(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	if err != nil {
		return nil, err
	}
	return view(d), nil
}

// List returns every data source, by name.
func (s *Service) List(ctx context.Context) ([]*Source, error) {
	ds, err := s.cfg.Store.ListDataSources(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Source, len(ds))
	for i := range ds {
		out[i] = view(&ds[i])
	}
	return out, nil
}

// Update changes the fields in set; the External ID never changes (asking to is an error).
func (s *Service) Update(ctx context.Context, caller *auth.Caller, id string, in Input) (*Source, error) {
	if in.ExternalID != nil {
		return nil, &ValidationError{Fields: []FieldError{{Field: "external_id", Message: "external_id never changes: it is generated once, so that the role's trust policy keeps working; to use another, create a new data source"}}}
	}
	actor, remote := actorOf(caller)
	err := s.cfg.Store.InTx(ctx, func(tx *store.Tx) error {
		d, err := tx.GetDataSource(ctx, id)
		if err != nil {
			return err
		}
		before := auditDetail(d)
		set := func(dst *string, p *string) {
			if p != nil {
				*dst = strings.TrimSpace(*p)
			}
		}
		set(&d.Type, in.Type)
		set(&d.Name, in.Name)
		set(&d.RoleARN, in.RoleARN)
		set(&d.Bucket, in.Bucket)
		if in.Prefix != nil {
			d.Prefix = *in.Prefix
		}
		set(&d.Region, in.Region)
		set(&d.Schedule, in.Schedule)
		if err := validate(d); err != nil {
			return err
		}
		d.UpdatedAt = s.cfg.Now().UTC()
		if err := tx.UpdateDataSource(ctx, *d); err != nil {
			return err
		}
		_, err = tx.AppendAudit(ctx, actor, "datasource.update", AuditTarget(id), map[string]any{"before": before, "after": auditDetail(d)}, remote)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("%w: %q", ErrNotFound, id)
	case errors.Is(err, store.ErrDuplicateName):
		return nil, fmt.Errorf("%w: %q; choose another name", ErrExists, str(in.Name))
	case err != nil:
		return nil, err
	}
	return s.Get(ctx, id)
}

// Delete removes data source id. The provenance of its reads is kept.
func (s *Service) Delete(ctx context.Context, caller *auth.Caller, id string) error {
	actor, remote := actorOf(caller)
	err := s.cfg.Store.InTx(ctx, func(tx *store.Tx) error {
		d, err := tx.GetDataSource(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteDataSource(ctx, id); err != nil {
			return err
		}
		_, err = tx.AppendAudit(ctx, actor, "datasource.delete", AuditTarget(id), auditDetail(d), remote)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	return err
}

// Reads returns the provenance of every read of data source id, by key then time.
func (s *Service) Reads(ctx context.Context, id string) ([]Object, error) {
	rows, err := s.cfg.Store.DataSourceObjects(ctx, id, false)
	if err != nil {
		return nil, err
	}
	out := make([]Object, len(rows))
	for i, r := range rows {
		out[i] = Object{Key: r.Key, VersionID: r.VersionID, ETag: r.ETag, Size: r.Size, Checksum: r.Checksum,
			LastModified: r.LastModified, ReadAt: r.ReadAt, Note: r.Note}
	}
	return out, nil
}

// Schedule is how often data source id is read.
func (s *Source) ScheduleDuration() time.Duration {
	d, err := time.ParseDuration(s.Schedule)
	if err != nil || d < MinSchedule {
		return DefaultSchedule
	}
	return d
}
