package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Applications imported from files (internal/appimport): the application, its imports
// and the runs of each import. The application's inventory is in the inv_* tables with
// the application's id as the connection id, like an AWS connection's.

// Run states of an import.
const (
	RunApplied  = "applied"
	RunRejected = "rejected"
	RunHeld     = "held"
)

// App is an application whose access comes from files.
type App struct {
	ID    string
	Name  string
	Owner string // the owner's email
	// RemoveThreshold is the share of the application's grants (percent) that one import
	// may remove before it is held for an admin.
	RemoveThreshold int
	CreatedBy       string
	CreatedAt       time.Time
}

// AppImport is one import of an application: which files of which data source it reads,
// and how.
type AppImport struct {
	ID           string
	AppID        string
	DatasourceID string
	// Files are the object keys read: one, or several when identities and grants are in
	// separate files.
	Files   []string
	Format  string
	Mapping map[string]string
	Sheet   string

	CreatedBy string
	CreatedAt time.Time
}

// AppProblem is one problem of an import's files, where people look for it.
type AppProblem struct {
	File    string `json:"file"`
	Row     int    `json:"row"`
	Column  string `json:"column"`
	Message string `json:"message"`
	// Part is the sheet (XLSX) or list (JSON, YAML) of the row; empty for CSV.
	Part string `json:"part,omitempty"`
}

// AppProvenance is one read of a file an import run used.
type AppProvenance struct {
	Key       string    `json:"key"`
	VersionID string    `json:"version_id"`
	ETag      string    `json:"etag"`
	Size      int64     `json:"size"`
	Checksum  string    `json:"checksum"`
	ReadAt    time.Time `json:"read_at"`
}

// AppDiff is what a run changed (applied) or would change (held): grants and resources.
type AppDiff struct {
	GrantsBefore     int `json:"grants_before"`
	GrantsAdded      int `json:"grants_added"`
	GrantsRemoved    int `json:"grants_removed"`
	GrantsChanged    int `json:"grants_changed"`
	ResourcesAdded   int `json:"resources_added"`
	ResourcesRemoved int `json:"resources_removed"`
}

// AppRun is one run of an import.
type AppRun struct {
	ID       string
	ImportID string
	AppID    string
	State    string // RunApplied, RunRejected or RunHeld
	Errors   []AppProblem
	// Provenance are the reads of the files the run used.
	Provenance []AppProvenance
	Diff       AppDiff
	// NearDuplicates are the near-duplicate spellings the files had (JSON array).
	NearDuplicates json.RawMessage
	HeldReason     string
	DecidedBy      string
	DecidedAt      *time.Time
	// SyncID is the id the run's ingestion has in the history (the run's id once applied).
	SyncID string
	// C1ZPath is the file a held run applies when approved.
	C1ZPath string
	At      time.Time
}

// NewAppID returns a new application id: "app_" then the time in hex and random hex.
func NewAppID() string { return newPrefixedID("app_") }

// NewAppImportID returns a new import id ("imp_...").
func NewAppImportID() string { return newPrefixedID("imp_") }

// NewAppRunID returns a new run id ("run_..."); ids sort by creation.
func NewAppRunID() string { return newPrefixedID("run_") }

func newPrefixedID(prefix string) string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s%011x%s", prefix, time.Now().UnixMilli(), hex.EncodeToString(b[:]))
}

// InsertApp creates the application a.
func (t *Tx) InsertApp(ctx context.Context, a App) error {
	if a.ID == "" || a.Name == "" {
		return errors.New("app: an id and a name are required")
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = time.Now()
	}
	_, err := t.q.exec(ctx, `INSERT INTO apps (id, name, owner, remove_threshold, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		a.ID, a.Name, a.Owner, int64(a.RemoveThreshold), a.CreatedBy, ms(a.CreatedAt))
	if err != nil {
		return fmt.Errorf("save application %q: %w", a.ID, err)
	}
	return nil
}

const appColumns = "id, name, owner, remove_threshold, created_by, created_at"

func scanApp(r row) (App, error) {
	var a App
	var th, created int64
	if err := r.Scan(&a.ID, &a.Name, &a.Owner, &th, &a.CreatedBy, &created); err != nil {
		return App{}, err
	}
	a.RemoveThreshold, a.CreatedAt = int(th), fromMS(created)
	return a, nil
}

// GetApp returns the application id, or ErrNotFound.
func (s *Store) GetApp(ctx context.Context, id string) (*App, error) {
	a, err := scanApp(s.read.queryRow(ctx, "SELECT "+appColumns+" FROM apps WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("application %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("application %q: %w", id, err)
	}
	return &a, nil
}

// ListApps returns every application, by id.
func (s *Store) ListApps(ctx context.Context) ([]App, error) {
	rs, err := s.read.query(ctx, "SELECT "+appColumns+" FROM apps ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list applications: %w", err)
	}
	var out []App
	for rs.Next() {
		a, err := scanApp(rs)
		if err != nil {
			rs.Close()
			return nil, fmt.Errorf("list applications: %w", err)
		}
		out = append(out, a)
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("list applications: %w", err)
	}
	return out, nil
}

// InsertAppImport creates the import im.
func (t *Tx) InsertAppImport(ctx context.Context, im AppImport) error {
	if im.ID == "" || im.AppID == "" || len(im.Files) == 0 {
		return errors.New("app import: an id, an application and at least one file are required")
	}
	if im.CreatedAt.IsZero() {
		im.CreatedAt = time.Now()
	}
	files, _ := json.Marshal(im.Files)
	if im.Mapping == nil {
		im.Mapping = map[string]string{}
	}
	mapping, _ := json.Marshal(im.Mapping)
	_, err := t.q.exec(ctx, `INSERT INTO app_imports (id, app_id, datasource_id, files, format, mapping, sheet, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		im.ID, im.AppID, im.DatasourceID, string(files), im.Format, string(mapping), im.Sheet, im.CreatedBy, ms(im.CreatedAt))
	if err != nil {
		return fmt.Errorf("save import %q: %w", im.ID, err)
	}
	return nil
}

const appImportColumns = "id, app_id, datasource_id, files, format, mapping, sheet, created_by, created_at"

func scanAppImport(r row) (AppImport, error) {
	var im AppImport
	var files, mapping string
	var created int64
	if err := r.Scan(&im.ID, &im.AppID, &im.DatasourceID, &files, &im.Format, &mapping, &im.Sheet, &im.CreatedBy, &created); err != nil {
		return AppImport{}, err
	}
	im.CreatedAt = fromMS(created)
	if err := json.Unmarshal([]byte(files), &im.Files); err != nil {
		return AppImport{}, fmt.Errorf("files of import %s: %w", im.ID, err)
	}
	if err := json.Unmarshal([]byte(mapping), &im.Mapping); err != nil {
		return AppImport{}, fmt.Errorf("mapping of import %s: %w", im.ID, err)
	}
	return im, nil
}

func (s *Store) queryAppImports(ctx context.Context, where string, arg any) ([]AppImport, error) {
	rs, err := s.read.query(ctx, "SELECT "+appImportColumns+" FROM app_imports WHERE "+where+" ORDER BY id", arg)
	if err != nil {
		return nil, fmt.Errorf("list imports: %w", err)
	}
	var out []AppImport
	for rs.Next() {
		im, err := scanAppImport(rs)
		if err != nil {
			rs.Close()
			return nil, fmt.Errorf("list imports: %w", err)
		}
		out = append(out, im)
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("list imports: %w", err)
	}
	return out, nil
}

// ListAppImports returns the imports of the application appID, by id.
func (s *Store) ListAppImports(ctx context.Context, appID string) ([]AppImport, error) {
	return s.queryAppImports(ctx, "app_id = ?", appID)
}

// GetAppImport returns the import id, or ErrNotFound.
func (s *Store) GetAppImport(ctx context.Context, id string) (*AppImport, error) {
	list, err := s.queryAppImports(ctx, "id = ?", id)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("import %q: %w", id, ErrNotFound)
	}
	return &list[0], nil
}

// AppImportsOfObject returns the imports that read the object key of the data source
// datasourceID, by id.
func (s *Store) AppImportsOfObject(ctx context.Context, datasourceID, key string) ([]AppImport, error) {
	list, err := s.queryAppImports(ctx, "datasource_id = ?", datasourceID)
	if err != nil {
		return nil, err
	}
	out := list[:0]
	for _, im := range list {
		if slices.Contains(im.Files, key) {
			out = append(out, im)
		}
	}
	return out, nil
}

const appRunColumns = `id, import_id, app_id, state, errors, provenance, diff, near_duplicates, held_reason,
	decided_by, decided_at, sync_id, c1z_path, at`

func scanAppRun(r row) (*AppRun, error) {
	var x AppRun
	var errs, prov, diff, near string
	var decided sql.NullInt64
	var at int64
	if err := r.Scan(&x.ID, &x.ImportID, &x.AppID, &x.State, &errs, &prov, &diff, &near, &x.HeldReason,
		&x.DecidedBy, &decided, &x.SyncID, &x.C1ZPath, &at); err != nil {
		return nil, err
	}
	x.At = fromMS(at)
	if decided.Valid {
		d := fromMS(decided.Int64)
		x.DecidedAt = &d
	}
	for _, f := range []struct {
		raw string
		dst any
	}{{errs, &x.Errors}, {prov, &x.Provenance}, {diff, &x.Diff}} {
		if err := json.Unmarshal([]byte(f.raw), f.dst); err != nil {
			return nil, fmt.Errorf("run %s: %w", x.ID, err)
		}
	}
	x.NearDuplicates = json.RawMessage(near)
	if x.Errors == nil {
		x.Errors = []AppProblem{}
	}
	if x.Provenance == nil {
		x.Provenance = []AppProvenance{}
	}
	return &x, nil
}

// InsertAppRun records the run x.
func (t *Tx) InsertAppRun(ctx context.Context, x AppRun) error {
	if x.ID == "" || x.AppID == "" || x.State == "" {
		return errors.New("app run: an id, an application and a state are required")
	}
	if x.At.IsZero() {
		x.At = time.Now()
	}
	if x.Errors == nil {
		x.Errors = []AppProblem{}
	}
	if x.Provenance == nil {
		x.Provenance = []AppProvenance{}
	}
	if len(x.NearDuplicates) == 0 {
		x.NearDuplicates = json.RawMessage("[]")
	}
	errs, _ := json.Marshal(x.Errors)
	prov, _ := json.Marshal(x.Provenance)
	diff, _ := json.Marshal(x.Diff)
	var decided any
	if x.DecidedAt != nil {
		decided = ms(*x.DecidedAt)
	}
	_, err := t.q.exec(ctx, `INSERT INTO app_import_runs (`+appRunColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		x.ID, x.ImportID, x.AppID, x.State, string(errs), string(prov), string(diff), string(x.NearDuplicates), x.HeldReason,
		x.DecidedBy, decided, x.SyncID, x.C1ZPath, ms(x.At))
	if err != nil {
		return fmt.Errorf("save run %q: %w", x.ID, err)
	}
	return nil
}

// GetAppRun returns the run id, or ErrNotFound.
func (s *Store) GetAppRun(ctx context.Context, id string) (*AppRun, error) {
	return getAppRun(ctx, s.read, id)
}

// GetAppRun is GetAppRun inside tx.
func (t *Tx) GetAppRun(ctx context.Context, id string) (*AppRun, error) {
	return getAppRun(ctx, t.q, id)
}

func getAppRun(ctx context.Context, q querier, id string) (*AppRun, error) {
	x, err := scanAppRun(q.queryRow(ctx, "SELECT "+appRunColumns+" FROM app_import_runs WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("run %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("run %q: %w", id, err)
	}
	return x, nil
}

// DecideAppRun moves the held run id to state (RunApplied or RunRejected), decided by
// who at at, with the sync id of its ingestion when applied. It reports false, changing
// nothing, when the run is not held (any more).
func (t *Tx) DecideAppRun(ctx context.Context, id, state, by string, at time.Time, syncID string) (bool, error) {
	if state != RunApplied && state != RunRejected {
		return false, fmt.Errorf("run %q: a held run becomes applied or rejected, not %q", id, state)
	}
	n, err := t.q.exec(ctx, `UPDATE app_import_runs SET state = ?, decided_by = ?, decided_at = ?, sync_id = ?
		WHERE id = ? AND state = ?`, state, by, ms(at), syncID, id, RunHeld)
	if err != nil {
		return false, fmt.Errorf("decide run %q: %w", id, err)
	}
	return n == 1, nil
}

// ListAppRuns lists the runs of the application appID, newest first.
func (s *Store) ListAppRuns(ctx context.Context, appID string, p Page) ([]AppRun, string, error) {
	var key struct {
		At int64  `json:"a"`
		ID string `json:"i"`
	}
	q := "SELECT " + appRunColumns + " FROM app_import_runs WHERE app_id = ?"
	args := []any{appID}
	if p.Token != "" {
		if err := decodeToken(p.Token, &key); err != nil {
			return nil, "", err
		}
		q += " AND (at < ? OR (at = ? AND id < ?))"
		args = append(args, key.At, key.At, key.ID)
	}
	n := p.size()
	q += fmt.Sprintf(" ORDER BY at DESC, id DESC LIMIT %d", n+1)
	rs, err := s.read.query(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list runs: %w", err)
	}
	var out []AppRun
	for rs.Next() {
		x, err := scanAppRun(rs)
		if err != nil {
			rs.Close()
			return nil, "", fmt.Errorf("list runs: %w", err)
		}
		out = append(out, *x)
	}
	if err := closeRows(rs); err != nil {
		return nil, "", fmt.Errorf("list runs: %w", err)
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		last := out[n-1]
		key.At, key.ID = ms(last.At), last.ID
		next = encodeToken(key)
	}
	return out, next, nil
}

// LatestAppRun returns the newest run of the application appID, or ErrNotFound.
func (s *Store) LatestAppRun(ctx context.Context, appID string) (*AppRun, error) {
	list, _, err := s.ListAppRuns(ctx, appID, Page{Size: 1})
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("runs of application %q: %w", appID, ErrNotFound)
	}
	return &list[0], nil
}

// OpenGrantIDs returns the ids of the current grants of connectionID (an application's
// id for an imported application).
func (s *Store) OpenGrantIDs(ctx context.Context, connectionID string) (map[string]bool, error) {
	rs, err := s.read.query(ctx, "SELECT id FROM inv_grants WHERE connection_id = ? AND removed_at IS NULL", connectionID)
	if err != nil {
		return nil, fmt.Errorf("current grants of %s: %w", connectionID, err)
	}
	out := map[string]bool{}
	for rs.Next() {
		var id string
		if err := rs.Scan(&id); err != nil {
			rs.Close()
			return nil, err
		}
		out[id] = true
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("current grants of %s: %w", connectionID, err)
	}
	return out, nil
}
