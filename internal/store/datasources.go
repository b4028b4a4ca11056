package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// ErrDuplicateName is returned when a data source with the same name exists.
var ErrDuplicateName = errors.New("name already used")

// DataSource is an S3 data source as stored (internal/datasource owns its meaning).
// ExternalID is set by CreateDataSource and never changed by any other method.
type DataSource struct {
	ID, Type, Name                  string
	RoleARN, Bucket, Prefix, Region string
	ExternalID                      string
	Schedule                        string
	CreatedBy                       string
	CreatedAt, UpdatedAt            time.Time
	LastSyncAt                      *time.Time
	LastState, LastError            string
	// LastSummary is the JSON summary of the last sync.
	LastSummary string
}

// DataSourceObject is one read of one object: the provenance of what was imported.
type DataSourceObject struct {
	ID, DataSourceID, Key string
	VersionID, ETag       string
	Size                  int64
	Checksum              string
	LastModified, ReadAt  time.Time
	Note                  string
}

const dataSourceColumns = "id, type, name, role_arn, bucket, prefix, region, external_id, schedule, created_by, created_at, updated_at, last_sync_at, last_state, last_error, last_summary"

func scanDataSource(r interface{ Scan(...any) error }) (DataSource, error) {
	var d DataSource
	var created, updated int64
	var last sql.NullInt64
	if err := r.Scan(&d.ID, &d.Type, &d.Name, &d.RoleARN, &d.Bucket, &d.Prefix, &d.Region, &d.ExternalID, &d.Schedule,
		&d.CreatedBy, &created, &updated, &last, &d.LastState, &d.LastError, &d.LastSummary); err != nil {
		return DataSource{}, err
	}
	d.CreatedAt, d.UpdatedAt, d.LastSyncAt = fromMS(created), fromMS(updated), msPtr(last)
	return d, nil
}

// CreateDataSource inserts d, External ID included (ErrDuplicateName when the name is taken).
func (s *Store) CreateDataSource(ctx context.Context, d DataSource) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.CreateDataSource(ctx, d) })
}

// CreateDataSource is CreateDataSource inside tx (with its audit entry).
func (t *Tx) CreateDataSource(ctx context.Context, d DataSource) error {
	if d.ID == "" || d.ExternalID == "" {
		return errors.New("data source: empty id or External ID")
	}
	if d.Schedule == "" {
		d.Schedule = "1h"
	}
	if d.LastSummary == "" {
		d.LastSummary = "{}"
	}
	_, err := t.q.exec(ctx, `INSERT INTO datasources (`+dataSourceColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, '', '', ?)`,
		d.ID, d.Type, d.Name, d.RoleARN, d.Bucket, d.Prefix, d.Region, d.ExternalID, d.Schedule, d.CreatedBy,
		ms(d.CreatedAt), ms(d.UpdatedAt), d.LastSummary)
	if isUniqueViolation(err) {
		return fmt.Errorf("data source %q: %w", d.Name, ErrDuplicateName)
	}
	if err != nil {
		return fmt.Errorf("create data source %q: %w", d.Name, err)
	}
	return nil
}

// GetDataSource returns the data source id, or ErrNotFound.
func (s *Store) GetDataSource(ctx context.Context, id string) (*DataSource, error) {
	return getDataSource(ctx, s.read, id)
}

// GetDataSource is GetDataSource inside tx.
func (t *Tx) GetDataSource(ctx context.Context, id string) (*DataSource, error) {
	return getDataSource(ctx, t.q, id)
}

func getDataSource(ctx context.Context, q querier, id string) (*DataSource, error) {
	d, err := scanDataSource(q.queryRow(ctx, "SELECT "+dataSourceColumns+" FROM datasources WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("data source %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("data source %q: %w", id, err)
	}
	return &d, nil
}

// ListDataSources returns every data source, by name.
func (s *Store) ListDataSources(ctx context.Context) ([]DataSource, error) {
	rs, err := s.read.query(ctx, "SELECT "+dataSourceColumns+" FROM datasources ORDER BY name, id")
	if err != nil {
		return nil, fmt.Errorf("list data sources: %w", err)
	}
	defer rs.Close()
	var out []DataSource
	for rs.Next() {
		d, err := scanDataSource(rs)
		if err != nil {
			return nil, fmt.Errorf("list data sources: %w", err)
		}
		out = append(out, d)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("list data sources: %w", err)
	}
	return out, nil
}

// UpdateDataSource saves the editable fields of d (name, role ARN, bucket, prefix, region,
// schedule). The External ID is not among them: it never changes.
func (s *Store) UpdateDataSource(ctx context.Context, d DataSource) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.UpdateDataSource(ctx, d) })
}

// UpdateDataSource is UpdateDataSource inside tx.
func (t *Tx) UpdateDataSource(ctx context.Context, d DataSource) error {
	n, err := t.q.exec(ctx, `UPDATE datasources SET name = ?, role_arn = ?, bucket = ?, prefix = ?, region = ?, schedule = ?, updated_at = ? WHERE id = ?`,
		d.Name, d.RoleARN, d.Bucket, d.Prefix, d.Region, d.Schedule, ms(d.UpdatedAt), d.ID)
	if isUniqueViolation(err) {
		return fmt.Errorf("data source %q: %w", d.Name, ErrDuplicateName)
	}
	if err != nil {
		return fmt.Errorf("update data source %q: %w", d.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("data source %q: %w", d.ID, ErrNotFound)
	}
	return nil
}

// SetDataSourceResult records how a sync ended.
func (s *Store) SetDataSourceResult(ctx context.Context, id string, at time.Time, state, lastError, summary string) error {
	n, err := s.write.exec(ctx, `UPDATE datasources SET last_sync_at = ?, last_state = ?, last_error = ?, last_summary = ? WHERE id = ?`,
		ms(at), state, lastError, summary, id)
	if err != nil {
		return fmt.Errorf("data source %q: record sync: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("data source %q: %w", id, ErrNotFound)
	}
	return nil
}

// DeleteDataSource deletes the data source (ErrNotFound when there is none). The provenance
// of its reads is kept: imported data points at it.
func (s *Store) DeleteDataSource(ctx context.Context, id string) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.DeleteDataSource(ctx, id) })
}

// DeleteDataSource is DeleteDataSource inside tx.
func (t *Tx) DeleteDataSource(ctx context.Context, id string) error {
	n, err := t.q.exec(ctx, "DELETE FROM datasources WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("delete data source %q: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("data source %q: %w", id, ErrNotFound)
	}
	return nil
}

const dataSourceObjectColumns = "id, datasource_id, key, version_id, etag, size, checksum, last_modified, read_at, note"

// AddDataSourceObject records one read.
func (s *Store) AddDataSourceObject(ctx context.Context, o DataSourceObject) error {
	_, err := s.write.exec(ctx, `INSERT INTO datasource_objects (`+dataSourceObjectColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		o.ID, o.DataSourceID, o.Key, o.VersionID, o.ETag, o.Size, o.Checksum, ms(o.LastModified), ms(o.ReadAt), o.Note)
	if err != nil {
		return fmt.Errorf("record read of %q: %w", o.Key, err)
	}
	return nil
}

// DataSourceObjects returns every read of the data source, by key then time (oldest first);
// with latestOnly, only the last read of each key.
func (s *Store) DataSourceObjects(ctx context.Context, dataSourceID string, latestOnly bool) ([]DataSourceObject, error) {
	rs, err := s.read.query(ctx, "SELECT "+dataSourceObjectColumns+" FROM datasource_objects WHERE datasource_id = ? ORDER BY key, read_at, id", dataSourceID)
	if err != nil {
		return nil, fmt.Errorf("reads of data source %q: %w", dataSourceID, err)
	}
	defer rs.Close()
	var out []DataSourceObject
	for rs.Next() {
		var o DataSourceObject
		var modified, read int64
		if err := rs.Scan(&o.ID, &o.DataSourceID, &o.Key, &o.VersionID, &o.ETag, &o.Size, &o.Checksum, &modified, &read, &o.Note); err != nil {
			return nil, fmt.Errorf("reads of data source %q: %w", dataSourceID, err)
		}
		o.LastModified, o.ReadAt = fromMS(modified), fromMS(read)
		if latestOnly && len(out) > 0 && out[len(out)-1].Key == o.Key {
			out[len(out)-1] = o
			continue
		}
		out = append(out, o)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("reads of data source %q: %w", dataSourceID, err)
	}
	return out, nil
}

// RecentDataSourceObjects returns the newest limit reads of the data source, newest first,
// and how many reads it has in all (the data source's page; the API lists them all).
func (s *Store) RecentDataSourceObjects(ctx context.Context, dataSourceID string, limit int) ([]DataSourceObject, int, error) {
	var total int
	if err := s.read.queryRow(ctx, "SELECT COUNT(*) FROM datasource_objects WHERE datasource_id = ?", dataSourceID).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("reads of data source %q: %w", dataSourceID, err)
	}
	rs, err := s.read.query(ctx, "SELECT "+dataSourceObjectColumns+" FROM datasource_objects WHERE datasource_id = ? ORDER BY read_at DESC, key, id LIMIT "+strconv.Itoa(max(limit, 1)), dataSourceID)
	if err != nil {
		return nil, 0, fmt.Errorf("reads of data source %q: %w", dataSourceID, err)
	}
	defer rs.Close()
	var out []DataSourceObject
	for rs.Next() {
		var o DataSourceObject
		var modified, read int64
		if err := rs.Scan(&o.ID, &o.DataSourceID, &o.Key, &o.VersionID, &o.ETag, &o.Size, &o.Checksum, &modified, &read, &o.Note); err != nil {
			return nil, 0, fmt.Errorf("reads of data source %q: %w", dataSourceID, err)
		}
		o.LastModified, o.ReadAt = fromMS(modified), fromMS(read)
		out = append(out, o)
	}
	if err := rs.Err(); err != nil {
		return nil, 0, fmt.Errorf("reads of data source %q: %w", dataSourceID, err)
	}
	return out, total, nil
}
