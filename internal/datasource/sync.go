package datasource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/store"
)

// Sync states.
const (
	StateSucceeded = "succeeded"
	StateFailed    = "failed"
)

// NoImportNote is the note on reads when no import pipeline is attached to the server.
const NoImportNote = "no import is attached: the read is recorded (provenance), nothing is imported"

// syncLocks serialises the syncs of one data source in this process (the scheduled job and
// "Sync now" may meet): two at once would both fetch a changed file.
var syncLocks sync.Map

// Sync reads data source id now: it assumes the role with the External ID, lists the bucket
// under the prefix, and fetches each object whose ETag changed since its last read (never an
// unchanged one), hands it to Config.OnObject and records its provenance. The result is
// recorded on the source and returned. A listing that fails fails the sync (nothing is read,
// nothing looks deleted); an object that fails is reported and read again next time.
func (s *Service) Sync(ctx context.Context, id string) (*Source, error) {
	mu, _ := syncLocks.LoadOrStore(id, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()

	src, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	sum, syncErr := s.sync(ctx, src)
	state, msg := StateSucceeded, ""
	if syncErr != nil {
		state, msg = StateFailed, syncErr.Error()
		s.cfg.Log.Warn("data source sync failed", zap.String("datasource", id), zap.String("error", msg))
	}
	b, _ := json.Marshal(sum)
	// The result is recorded even when the caller's context ended: it says what happened.
	if err := s.cfg.Store.SetDataSourceResult(context.WithoutCancel(ctx), id, s.cfg.Now().UTC(), state, msg, string(b)); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("%w: %q (deleted during its sync)", ErrNotFound, id)
		}
		return nil, err
	}
	return s.Get(ctx, id)
}

func (s *Service) sync(ctx context.Context, src *Source) (*Summary, error) {
	sum := &Summary{}
	if s.cfg.OnObject == nil {
		sum.Notes = append(sum.Notes, NoImportNote)
	}
	base, err := s.cfg.BaseAWS(ctx)
	if err != nil {
		return sum, fmt.Errorf("the AWS configuration of the Gatehouse server could not be loaded (%v): give the server AWS credentials", err)
	}
	t := src.target()
	sess, err := open(ctx, base, t, s.cfg.SessionName)
	if err != nil {
		return sum, s.explain(ctx, base, t, err)
	}

	known := map[string]store.DataSourceObject{}
	prev, err := s.cfg.Store.DataSourceObjects(ctx, src.ID, true)
	if err != nil {
		return sum, err
	}
	for _, o := range prev {
		known[o.Key] = o
	}

	// The whole listing first: a listing that fails part-way fails the sync before anything
	// is fetched, so that a partial listing never reads as files gone.
	var listed []types.Object
	in := &s3.ListObjectsV2Input{Bucket: aws.String(src.Bucket)}
	if src.Prefix != "" {
		in.Prefix = aws.String(src.Prefix)
	}
	pages := s3.NewListObjectsV2Paginator(sess.s3, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return sum, s.explain(ctx, base, t, &stepError{step: "list_bucket", err: err})
		}
		for _, o := range page.Contents {
			if !isFolder(aws.ToString(o.Key), aws.ToInt64(o.Size)) {
				listed = append(listed, o)
			}
		}
	}
	sum.Listed = len(listed)

	seen := map[string]bool{}
	var failures []string
	for _, o := range listed {
		key := aws.ToString(o.Key)
		seen[key] = true
		etag := strings.Trim(aws.ToString(o.ETag), `"`)
		if last, ok := known[key]; ok && last.ETag == etag && !(last.Note == NoImportNote && s.cfg.OnObject != nil) {
			// Unchanged, and handed to the import pipeline when it was read (a read from
			// before the pipeline was attached is read again, once).
			sum.Unchanged++
			continue
		}
		if err := s.fetch(ctx, src, sess, key, etag); err != nil {
			sum.Failed++
			detail, fix := describe(stepOf(err), err, t, "")
			if stepOf(err) == "on_object" {
				detail, fix = err.Error(), "the file is read again at the next sync"
			}
			failures = append(failures, fmt.Sprintf("%s: %s (%s)", key, detail, fix))
			continue
		}
		sum.Fetched++
	}
	for _, o := range prev {
		if !seen[o.Key] {
			sum.Missing = append(sum.Missing, o.Key)
		}
	}
	if len(failures) > 0 {
		return sum, fmt.Errorf("%d of %d changed files could not be read: %s", len(failures), len(failures)+sum.Fetched, strings.Join(failures, "; "))
	}
	return sum, nil
}

func stepOf(err error) string {
	var se *stepError
	if errors.As(err, &se) {
		return se.step
	}
	return ""
}

// explain turns a failed step into a message that says what to fix, naming the principal
// Gatehouse runs as where the trust policy is the problem.
func (s *Service) explain(ctx context.Context, base aws.Config, t Target, err error) error {
	step := stepOf(err)
	principal := ""
	if step == "assume_role" {
		principal = callerPrincipal(ctx, base)
	}
	detail, fix := describe(step, err, t, principal)
	return fmt.Errorf("%s: %s", detail, fix)
}

// fetch reads one changed object: its attributes (version id, checksum), then its bytes
// (only if the ETag is still the listed one), hands them to OnObject, and records the read.
func (s *Service) fetch(ctx context.Context, src *Source, sess *session, key, etag string) error {
	attrs, err := sess.s3.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String(src.Bucket), Key: aws.String(key),
		ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesEtag, types.ObjectAttributesChecksum, types.ObjectAttributesObjectSize}})
	if err != nil {
		return &stepError{step: "get_object_attributes", key: key, err: err}
	}
	obj := Object{Key: key, VersionID: aws.ToString(attrs.VersionId), ETag: strings.Trim(aws.ToString(attrs.ETag), `"`),
		Size: aws.ToInt64(attrs.ObjectSize), Checksum: checksumOf(attrs.Checksum)}
	if attrs.LastModified != nil {
		obj.LastModified = attrs.LastModified.UTC()
	}
	in := &s3.GetObjectInput{Bucket: aws.String(src.Bucket), Key: aws.String(key), IfMatch: aws.String(`"` + obj.ETag + `"`),
		ChecksumMode: types.ChecksumModeEnabled}
	out, err := sess.s3.GetObject(ctx, in)
	if err != nil {
		return &stepError{step: "get_object", key: key, err: err}
	}
	defer out.Body.Close()
	if v := aws.ToString(out.VersionId); v != "" {
		obj.VersionID = v
	}
	obj.ReadAt = s.cfg.Now().UTC().Truncate(time.Millisecond)
	body := &countingReader{r: out.Body}
	if s.cfg.OnObject != nil {
		if err := s.cfg.OnObject(ctx, src.ID, obj, body); err != nil {
			return &stepError{step: "on_object", key: key, err: fmt.Errorf("the import of %s failed: %w", key, err)}
		}
		obj.Note = s.cfg.OnObjectNote
	} else {
		obj.Note = NoImportNote
	}
	// Whatever the handler left unread is drained, so that a body cut short is an error
	// here and not a silently recorded read.
	if _, err := io.Copy(io.Discard, body); err != nil {
		return &stepError{step: "get_object", key: key, err: err}
	}
	if body.n != obj.Size {
		return &stepError{step: "get_object", key: key, err: fmt.Errorf("read %d bytes of %d", body.n, obj.Size)}
	}
	return s.cfg.Store.AddDataSourceObject(ctx, store.DataSourceObject{ID: newID("rd_"), DataSourceID: src.ID, Key: obj.Key,
		VersionID: obj.VersionID, ETag: obj.ETag, Size: obj.Size, Checksum: obj.Checksum, LastModified: obj.LastModified,
		ReadAt: obj.ReadAt, Note: obj.Note})
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// checksumOf writes S3's full-object checksum as "ALGORITHM:base64" ("" when none).
func checksumOf(c *types.Checksum) string {
	if c == nil {
		return ""
	}
	for _, v := range []struct {
		name string
		val  *string
	}{{"CRC64NVME", c.ChecksumCRC64NVME}, {"CRC32", c.ChecksumCRC32}, {"CRC32C", c.ChecksumCRC32C}, {"SHA256", c.ChecksumSHA256}, {"SHA1", c.ChecksumSHA1}} {
		if aws.ToString(v.val) != "" {
			return v.name + ":" + aws.ToString(v.val)
		}
	}
	return ""
}

// callerPrincipal is the principal Gatehouse runs as, as a trust policy names it ("" when
// it cannot be found).
func callerPrincipal(ctx context.Context, base aws.Config) string {
	id, err := sts.NewFromConfig(base).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return ""
	}
	return principalOf(aws.ToString(id.Arn))
}

// ReadObject reads one object of data source id now, whether or not it changed, hands it to
// OnObject and records the read: for an import attached to a file that was already read
// (the scheduled syncs read only changed files). The outcome is returned, not recorded on
// the source.
func (s *Service) ReadObject(ctx context.Context, id, key string) (*Object, error) {
	src, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	base, err := s.cfg.BaseAWS(ctx)
	if err != nil {
		return nil, fmt.Errorf("the AWS configuration of the Gatehouse server could not be loaded (%v): give the server AWS credentials", err)
	}
	t := src.target()
	if !strings.HasPrefix(key, src.Prefix) {
		return nil, fmt.Errorf("%q is not under the data source's prefix %q: the role may read only keys under it", key, src.Prefix)
	}
	sess, err := open(ctx, base, t, s.cfg.SessionName)
	if err != nil {
		return nil, s.explain(ctx, base, t, err)
	}
	attrs, err := sess.s3.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String(src.Bucket), Key: aws.String(key),
		ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesEtag}})
	if err != nil {
		detail, fix := describe("get_object_attributes", err, t, "")
		if errorCode(err) == "NoSuchKey" {
			detail, fix = fmt.Sprintf("there is no file %q in s3://%s", key, src.Bucket), "upload it, or check the file name of the import"
		}
		return nil, fmt.Errorf("%s: %s", detail, fix)
	}
	if err := s.fetch(ctx, src, sess, key, strings.Trim(aws.ToString(attrs.ETag), `"`)); err != nil {
		detail, fix := describe(stepOf(err), err, t, "")
		if stepOf(err) == "on_object" || stepOf(err) == "" {
			detail, fix = err.Error(), "read it again"
		}
		return nil, fmt.Errorf("%s: %s", detail, fix)
	}
	rows, err := s.cfg.Store.DataSourceObjects(ctx, id, true)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if r.Key == key {
			return &Object{Key: r.Key, VersionID: r.VersionID, ETag: r.ETag, Size: r.Size, Checksum: r.Checksum,
				LastModified: r.LastModified, ReadAt: r.ReadAt, Note: r.Note}, nil
		}
	}
	return nil, fmt.Errorf("the read of %q was not recorded", key)
}
