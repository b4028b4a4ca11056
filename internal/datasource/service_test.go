package datasource

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/setup"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

const (
	account    = "111111111111"
	runtimeARN = "arn:aws:iam::111111111111:user/gatehouse-runtime"
	roleName   = "GatehouseS3Reader"
	roleARN    = "arn:aws:iam::111111111111:role/GatehouseS3Reader"
	bucket     = "acme-access-exports"
)

var admin = &auth.Caller{Email: "admin@example.com", Roles: []string{"admin"}}

// env is a simulator with the customer's bucket, the principal Gatehouse runs as, and a
// data source service on a store.
type env struct {
	sim     *awssim.Sim
	base    aws.Config // Gatehouse's own identity
	admin   *s3.Client // the customer's administrator
	store   *store.Store
	svc     *Service
	mu      sync.Mutex
	handled []string // key@etag: body, of every OnObject call
}

func ctxT(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func fastRetries() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.MaxBackoff = 10 * time.Millisecond
		o.RateLimiter = ratelimit.None
	})
}

func newEnv(t *testing.T) *env {
	t.Helper()
	sim := awssim.New(awssim.NewWorld(account, "us-east-1", nil), awssim.Options{})
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	e := &env{sim: sim}
	sim.Do(func(w *awssim.World) {
		a := w.Accounts[account]
		runtime := a.AddUser(w, "gatehouse-runtime", "/")
		k := a.AddAccessKey(w, runtime)
		e.base = aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url), Retryer: fastRetries,
			Credentials: credentials.NewStaticCredentialsProvider(k.ID, k.Secret, "")}
		adm := a.AddUser(w, "customer-admin", "/")
		adm.AttachedPolicies = append(adm.AttachedPolicies, awssim.AWSManagedPolicyARN("AdministratorAccess"))
		ak := a.AddAccessKey(w, adm)
		cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url), Retryer: fastRetries,
			Credentials: credentials.NewStaticCredentialsProvider(ak.ID, ak.Secret, "")}
		e.admin = s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	})
	if _, err := e.admin.CreateBucket(ctxT(t), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	e.store = storetest.Open(t, store.SQLite)
	e.svc = e.newService(e.store)
	return e
}

func (e *env) newService(st *store.Store) *Service {
	return NewService(Config{Store: st, BaseAWS: func(context.Context) (aws.Config, error) { return e.base.Copy(), nil },
		OnObject: func(_ context.Context, _ string, obj Object, body io.Reader) error {
			b, err := io.ReadAll(body)
			if err != nil {
				return err
			}
			e.mu.Lock()
			e.handled = append(e.handled, obj.Key+"@"+obj.ETag+": "+string(b))
			e.mu.Unlock()
			return nil
		}})
}

func (e *env) put(t *testing.T, key, body string) {
	t.Helper()
	if _, err := e.admin.PutObject(ctxT(t), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
}

// installRole creates the role as the customer would from gatehouse setup s3's output.
func (e *env) installRole(t *testing.T, externalID, prefix string) *setup.S3Bundle {
	t.Helper()
	b, err := setup.GenerateS3(setup.S3Options{Bucket: bucket, Prefix: prefix, ExternalID: externalID, TrustedPrincipal: runtimeARN})
	if err != nil {
		t.Fatal(err)
	}
	e.sim.Do(func(w *awssim.World) {
		a := w.Accounts[account]
		delete(a.Roles, roleName)
		r := a.AddRole(w, roleName, "/", string(b.Trust.JSON()))
		r.InlinePolicies[setup.S3PolicyName] = string(b.Permissions.JSON())
	})
	return b
}

func (e *env) create(t *testing.T, prefix string) *Source {
	t.Helper()
	src, err := e.svc.Create(ctxT(t), admin, Input{Type: aws.String("s3"), Name: aws.String("HR exports"), RoleARN: aws.String(roleARN),
		Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func (e *env) calls(op string) int64 { return e.sim.Counters().Calls("s3", op) }

func TestExternalIDNeverChanges(t *testing.T) {
	cfg := storetest.Config(t, store.SQLite)
	st, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	svc := NewService(Config{Store: st})
	src, err := svc.Create(ctxT(t), admin, Input{Type: aws.String("s3"), Name: aws.String("HR"), RoleARN: aws.String(roleARN), Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	ext := src.ExternalID
	if !strings.HasPrefix(ext, "gh-") || len(ext) != 35 || src.Schedule != "1h0m0s" || src.CreatedBy != "admin@example.com" {
		t.Fatalf("created %+v", src)
	}
	// Asking to set it is refused, at creation and later.
	if _, err := svc.Create(ctxT(t), admin, Input{Type: aws.String("s3"), Name: aws.String("X"), RoleARN: aws.String(roleARN), Bucket: aws.String(bucket), ExternalID: aws.String("mine")}); err == nil ||
		!strings.Contains(err.Error(), "external_id is generated by Gatehouse") {
		t.Errorf("create with external_id: %v", err)
	}
	if _, err := svc.Update(ctxT(t), admin, src.ID, Input{ExternalID: aws.String("other")}); err == nil || err.Error() != "external_id never changes: it is generated once, so that the role's trust policy keeps working; to use another, create a new data source" {
		t.Errorf("update of external_id: %v", err)
	}
	// An update of everything else keeps it.
	up, err := svc.Update(ctxT(t), admin, src.ID, Input{Name: aws.String("HR files"), Bucket: aws.String("other-bucket"), Prefix: aws.String("hr/"), Region: aws.String("eu-west-1"), Schedule: aws.String("30m")})
	if err != nil {
		t.Fatal(err)
	}
	if up.ExternalID != ext || up.Name != "HR files" || up.Bucket != "other-bucket" || up.Prefix != "hr/" || up.Region != "eu-west-1" || up.Schedule != "30m0s" {
		t.Errorf("after update: %+v", up)
	}
	// A restart: the store closed and opened again, a new service.
	st.Close()
	st2, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	again, err := NewService(Config{Store: st2}).Get(ctxT(t), src.ID)
	if err != nil {
		t.Fatal(err)
	}
	if again.ExternalID != ext {
		t.Errorf("after a restart the External ID is %q, was %q", again.ExternalID, ext)
	}
}

func TestValidation(t *testing.T) {
	svc := NewService(Config{Store: storetest.Open(t, store.SQLite)})
	_, err := svc.Create(ctxT(t), admin, Input{Type: aws.String("ftp"), Name: aws.String(""), RoleARN: aws.String("GatehouseS3Reader"),
		Bucket: aws.String("s3://b"), Prefix: aws.String("/x"), Region: aws.String("europe"), Schedule: aws.String("1m")})
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	want := map[string]string{
		"type":     `type must be "s3", got "ftp"`,
		"name":     "name is required (1 to 200 characters)",
		"role_arn": `role_arn must be the ARN of the IAM role Gatehouse reads the bucket through (arn:aws:iam::123456789012:role/NAME; gatehouse setup s3 generates it), got "GatehouseS3Reader"`,
		"bucket":   `bucket must be an S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens; the name, not an s3:// URL or ARN), got "s3://b"`,
		"prefix":   `prefix must be the literal start of the keys, without a leading "/" or wildcards (for example exports/), got "/x"`,
		"region":   `region must be an AWS region such as eu-west-1 (or empty: Gatehouse asks S3 where the bucket is), got "europe"`,
		"schedule": `schedule must be a duration of at least 5m0s such as "1h", got "1m"`,
	}
	if len(ve.Fields) != len(want) {
		t.Errorf("fields = %+v", ve.Fields)
	}
	for _, f := range ve.Fields {
		if want[f.Field] != f.Message {
			t.Errorf("%s: %q, want %q", f.Field, f.Message, want[f.Field])
		}
	}
	if _, err := svc.Create(ctxT(t), admin, Input{Type: aws.String("s3"), Name: aws.String("A"), RoleARN: aws.String(roleARN), Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Create(ctxT(t), admin, Input{Type: aws.String("s3"), Name: aws.String("A"), RoleARN: aws.String(roleARN), Bucket: aws.String(bucket)}); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate name: %v", err)
	}
}

// Through the real SDK against the simulator: the role from gatehouse setup s3, assumed with
// the External ID; only changed files are fetched, and each read is recorded.
func TestSyncReadsChangedObjectsOnly(t *testing.T) {
	e := newEnv(t)
	if _, err := e.admin.PutBucketVersioning(ctxT(t), &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	src := e.create(t, "apps/")
	e.installRole(t, src.ExternalID, "apps/")
	e.put(t, "apps/users.csv", "User ID,Email Address\nu1,a@example.com\n")
	e.put(t, "apps/grants.csv", "User ID,Entitlement\nu1,admin\n")
	e.put(t, "apps/", "") // a console folder marker: not a file
	e.put(t, "other/secret.csv", "not ours")

	got, err := e.svc.Sync(ctxT(t), src.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.LastState != StateSucceeded || got.LastError != "" || got.LastSummary == nil || got.LastSummary.Listed != 2 || got.LastSummary.Fetched != 2 || got.LastSummary.Unchanged != 0 {
		t.Fatalf("first sync: state %q error %q summary %+v", got.LastState, got.LastError, got.LastSummary)
	}
	if n := e.calls("GetObject"); n != 2 {
		t.Errorf("first sync: %d GetObject calls, want 2", n)
	}
	if len(e.handled) != 2 || !strings.HasPrefix(e.handled[0], "apps/grants.csv@") || !strings.HasSuffix(e.handled[1], ": User ID,Email Address\nu1,a@example.com\n") {
		t.Errorf("handled %q", e.handled)
	}

	// Nothing changed: no GetObject, no GetObjectAttributes.
	attrs := e.calls("GetObjectAttributes")
	got, err = e.svc.Sync(ctxT(t), src.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.LastSummary.Fetched != 0 || got.LastSummary.Unchanged != 2 || e.calls("GetObject") != 2 || e.calls("GetObjectAttributes") != attrs || len(e.handled) != 2 {
		t.Errorf("unchanged sync: summary %+v, GetObject %d, GetObjectAttributes %d (was %d), handled %d", got.LastSummary, e.calls("GetObject"), e.calls("GetObjectAttributes"), attrs, len(e.handled))
	}

	// One file changes: fetched once, with its new version.
	e.put(t, "apps/users.csv", "User ID,Email Address\nu1,a@example.com\nu2,b@example.com\n")
	got, err = e.svc.Sync(ctxT(t), src.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.LastSummary.Fetched != 1 || got.LastSummary.Unchanged != 1 || e.calls("GetObject") != 3 {
		t.Errorf("after a change: summary %+v, GetObject %d, want 3", got.LastSummary, e.calls("GetObject"))
	}
	reads, err := e.svc.Reads(ctxT(t), src.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(reads) != 3 {
		t.Fatalf("reads = %+v", reads)
	}
	var stored *awssim.Object
	e.sim.Do(func(w *awssim.World) { stored = w.Buckets[bucket].Objects["apps/users.csv"] })
	last := reads[2]
	if last.Key != "apps/users.csv" || last.ETag != strings.Trim(stored.ETag, `"`) || last.VersionID != stored.VersionID || len(last.VersionID) != 32 ||
		last.Size != int64(len(stored.Data)) || last.Checksum != stored.ChecksumAlgorithm+":"+stored.Checksum || last.ReadAt.IsZero() || last.LastModified.IsZero() {
		t.Errorf("provenance %+v, object etag %s version %s checksum %s:%s", last, stored.ETag, stored.VersionID, stored.ChecksumAlgorithm, stored.Checksum)
	}
	if reads[1].Key != "apps/users.csv" || reads[1].ETag == last.ETag || reads[1].VersionID == last.VersionID {
		t.Errorf("the first read of users.csv is not kept apart: %+v", reads[1])
	}

	// A file deleted from the bucket is reported, not acted on.
	if _, err := e.admin.DeleteObject(ctxT(t), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("apps/grants.csv")}); err != nil {
		t.Fatal(err)
	}
	got, _ = e.svc.Sync(ctxT(t), src.ID)
	if got.LastState != StateSucceeded || strings.Join(got.LastSummary.Missing, ",") != "apps/grants.csv" {
		t.Errorf("after a delete: %+v", got.LastSummary)
	}
}

// Without an import pipeline the reads are recorded and the source says so.
func TestSyncWithoutImport(t *testing.T) {
	e := newEnv(t)
	e.svc = NewService(Config{Store: e.store, BaseAWS: func(context.Context) (aws.Config, error) { return e.base.Copy(), nil }})
	src := e.create(t, "")
	e.installRole(t, src.ExternalID, "")
	e.put(t, "users.csv", "x")
	got, err := e.svc.Sync(ctxT(t), src.ID)
	if err != nil {
		t.Fatal(err)
	}
	reads, _ := e.svc.Reads(ctxT(t), src.ID)
	if got.LastState != StateSucceeded || strings.Join(got.LastSummary.Notes, "") != NoImportNote || len(reads) != 1 || reads[0].Note != NoImportNote {
		t.Errorf("summary %+v reads %+v", got.LastSummary, reads)
	}
}

// A role that trusts another External ID: Test says exactly what to fix, and so does the
// failed sync.
func TestWrongExternalID(t *testing.T) {
	e := newEnv(t)
	src := e.create(t, "apps/")
	e.installRole(t, "gh-some-other-external-id", "apps/")
	e.put(t, "apps/users.csv", "x")
	checks, err := e.svc.Test(ctxT(t), src.ID)
	if err != nil {
		t.Fatal(err)
	}
	if checks[0].Status != Pass || checks[0].Detail != "Gatehouse runs as "+runtimeARN {
		t.Errorf("credentials check: %+v", checks[0])
	}
	c := checks[1]
	wantFix := `the role's trust policy must allow ` + runtimeARN + ` to assume it with the condition sts:ExternalId = "` + src.ExternalID +
		`" (this data source's External ID, which never changes); print it with: gatehouse setup s3 --bucket ` + bucket + ` --prefix apps/ --external-id ` + src.ExternalID +
		` --trusted-principal ` + runtimeARN + ` --format json, then: aws iam update-assume-role-policy --role-name GatehouseS3Reader --policy-document "$(jq .trust_policy ...)"; also check that ` +
		runtimeARN + ` may call sts:AssumeRole on the role`
	if c.ID != "assume_role" || c.Status != Fail || c.Fix != wantFix ||
		!strings.HasPrefix(c.Detail, "sts:AssumeRole on "+roleARN+" with External ID "+src.ExternalID+" was refused: AccessDenied: ") {
		t.Errorf("assume_role check:\n%+v\nwant fix %s", c, wantFix)
	}
	for _, c := range checks[2:] {
		if c.Status != Skip || c.Detail != "skipped: the role could not be assumed" {
			t.Errorf("%s after a failed AssumeRole: %+v", c.ID, c)
		}
	}
	got, err := e.svc.Sync(ctxT(t), src.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.LastState != StateFailed || !strings.HasSuffix(got.LastError, ": "+wantFix) || e.calls("ListObjectsV2") != 0 {
		t.Errorf("sync: state %q error %q", got.LastState, got.LastError)
	}
}

// The role from gatehouse setup s3 passes every check; a role without one statement fails
// exactly that check, with the statement to add.
func TestChecksLeastPrivilege(t *testing.T) {
	e := newEnv(t)
	src := e.create(t, "apps/")
	b := e.installRole(t, src.ExternalID, "apps/")
	e.put(t, "apps/users.csv", "x")
	checks, err := e.svc.Test(ctxT(t), src.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		if c.Status != Pass {
			t.Errorf("%s: %+v", c.ID, c)
		}
	}
	if checks[2].Detail != "the bucket "+bucket+" is in us-east-1" || checks[5].Detail != "read the first byte of apps/users.csv" {
		t.Errorf("details: %+v", checks)
	}
	// Without the ListFiles statement.
	b.Permissions.Statement = append(b.Permissions.Statement[:1], b.Permissions.Statement[2:]...)
	e.sim.Do(func(w *awssim.World) {
		w.Accounts[account].Roles[roleName].InlinePolicies[setup.S3PolicyName] = string(b.Permissions.JSON())
	})
	checks, _ = e.svc.Test(ctxT(t), src.ID)
	c := checks[3]
	if c.ID != "list_bucket" || c.Status != Fail ||
		c.Fix != `allow s3:ListBucket on arn:aws:s3:::`+bucket+` with the condition StringLike s3:prefix = "apps/*" in the role's permissions policy (statement ListFiles of: gatehouse setup s3 --bucket `+bucket+` --prefix apps/ --external-id `+src.ExternalID+` --trusted-principal `+runtimeARN+`)` ||
		!strings.HasPrefix(c.Detail, `s3:ListBucket on arn:aws:s3:::`+bucket+` (prefix "apps/") was denied: AccessDenied`) {
		t.Errorf("list_bucket without ListFiles: %+v", c)
	}
	// A region that is not the bucket's.
	if _, err := e.svc.Update(ctxT(t), admin, src.ID, Input{Region: aws.String("eu-west-1")}); err != nil {
		t.Fatal(err)
	}
	checks, _ = e.svc.Test(ctxT(t), src.ID)
	if c := checks[2]; c.Status != Fail || c.Detail != "the bucket "+bucket+" is in us-east-1, the data source says eu-west-1" || c.Fix != "set the data source's region to us-east-1 (or leave it empty)" {
		t.Errorf("region check: %+v", c)
	}
}

// A throttled listing fails the sync: nothing is read, nothing looks deleted, the last reads
// stay. A throttled GetObject fails that file only, which is read at the next sync.
func TestFailedReadsAreReported(t *testing.T) {
	e := newEnv(t)
	src := e.create(t, "")
	e.installRole(t, src.ExternalID, "")
	e.put(t, "users.csv", "v1")
	if _, err := e.svc.Sync(ctxT(t), src.ID); err != nil {
		t.Fatal(err)
	}
	e.put(t, "users.csv", "v2")
	e.sim.Do(func(w *awssim.World) {
		w.Accounts[account].Faults = map[string]awssim.Fault{"ListObjectsV2": awssim.FaultThrottle}
	})
	got, err := e.svc.Sync(ctxT(t), src.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.LastState != StateFailed || !strings.Contains(got.LastError, "AWS throttled the call (SlowDown") ||
		!strings.Contains(got.LastError, "the next sync reads again") || len(got.LastSummary.Missing) != 0 || got.LastSummary.Listed != 0 {
		t.Errorf("throttled listing: state %q error %q summary %+v", got.LastState, got.LastError, got.LastSummary)
	}
	if reads, _ := e.svc.Reads(ctxT(t), src.ID); len(reads) != 1 {
		t.Errorf("reads after a failed listing: %+v", reads)
	}

	e.sim.Do(func(w *awssim.World) {
		w.Accounts[account].Faults = map[string]awssim.Fault{"GetObject": awssim.FaultThrottle}
	})
	got, _ = e.svc.Sync(ctxT(t), src.ID)
	if got.LastState != StateFailed || got.LastSummary.Failed != 1 || got.LastSummary.Fetched != 0 ||
		!strings.HasPrefix(got.LastError, "1 of 1 changed files could not be read: users.csv: AWS throttled the call (SlowDown") {
		t.Errorf("throttled GetObject: state %q error %q summary %+v", got.LastState, got.LastError, got.LastSummary)
	}
	e.sim.Do(func(w *awssim.World) { w.Accounts[account].Faults = nil })
	got, _ = e.svc.Sync(ctxT(t), src.ID)
	reads, _ := e.svc.Reads(ctxT(t), src.ID)
	if got.LastState != StateSucceeded || got.LastError != "" || got.LastSummary.Fetched != 1 || len(reads) != 2 || !bytes.Contains([]byte(strings.Join(e.handled, "|")), []byte("users.csv@")) {
		t.Errorf("after the fault: state %q error %q summary %+v reads %d", got.LastState, got.LastError, got.LastSummary, len(reads))
	}
	if last := e.handled[len(e.handled)-1]; !strings.HasSuffix(last, ": v2") {
		t.Errorf("last handled %q, want v2", last)
	}

	// An import that fails: the file is read again next time.
	calls := 0
	e.svc.cfg.OnObject = func(context.Context, string, Object, io.Reader) error {
		calls++
		if calls == 1 {
			return errors.New("database unavailable")
		}
		return nil
	}
	e.put(t, "users.csv", "v3")
	got, _ = e.svc.Sync(ctxT(t), src.ID)
	if got.LastState != StateFailed || got.LastError != "1 of 1 changed files could not be read: users.csv: the import of users.csv failed: database unavailable (the file is read again at the next sync)" {
		t.Errorf("failed import: %q", got.LastError)
	}
	got, _ = e.svc.Sync(ctxT(t), src.ID)
	if got.LastState != StateSucceeded || got.LastSummary.Fetched != 1 || calls != 2 {
		t.Errorf("after a failed import: %+v, %d calls", got.LastSummary, calls)
	}
}

// Reads from before an import pipeline was attached are read again once it is; ReadObject
// reads one file now even though it did not change (an import attached to it later).
func TestReadAgainForImports(t *testing.T) {
	e := newEnv(t)
	withImport := e.svc
	e.svc = NewService(Config{Store: e.store, BaseAWS: func(context.Context) (aws.Config, error) { return e.base.Copy(), nil }})
	src := e.create(t, "apps/")
	e.installRole(t, src.ExternalID, "apps/")
	e.put(t, "apps/users.csv", "v1")
	if got, _ := e.svc.Sync(ctxT(t), src.ID); got.LastSummary.Fetched != 1 {
		t.Fatalf("without import: %+v", got.LastSummary)
	}
	e.svc = withImport // the server restarted with the import pipeline
	if got, _ := e.svc.Sync(ctxT(t), src.ID); got.LastSummary.Fetched != 1 || len(e.handled) != 1 {
		t.Errorf("first sync with the import: %+v, handled %q", got.LastSummary, e.handled)
	}
	if got, _ := e.svc.Sync(ctxT(t), src.ID); got.LastSummary.Fetched != 0 || got.LastSummary.Unchanged != 1 || e.calls("GetObject") != 2 {
		t.Errorf("second sync with the import: %+v, GetObject %d", got.LastSummary, e.calls("GetObject"))
	}

	obj, err := e.svc.ReadObject(ctxT(t), src.ID, "apps/users.csv")
	if err != nil {
		t.Fatal(err)
	}
	if obj.Key != "apps/users.csv" || obj.Size != 2 || e.calls("GetObject") != 3 || len(e.handled) != 2 || !strings.HasSuffix(e.handled[1], ": v1") {
		t.Errorf("ReadObject = %+v, GetObject %d, handled %q", obj, e.calls("GetObject"), e.handled)
	}
	if _, err := e.svc.ReadObject(ctxT(t), src.ID, "other/x.csv"); err == nil || err.Error() != `"other/x.csv" is not under the data source's prefix "apps/": the role may read only keys under it` {
		t.Errorf("outside the prefix: %v", err)
	}
	if _, err := e.svc.ReadObject(ctxT(t), src.ID, "apps/none.csv"); err == nil || err.Error() != `there is no file "apps/none.csv" in s3://acme-access-exports: upload it, or check the file name of the import` {
		t.Errorf("missing file: %v", err)
	}
}

// 1,500 files: the first sync reads each once; a second sync lists two pages and reads
// nothing. The durations are logged (go test -run TestSyncManyFiles -v).
func TestSyncManyFiles(t *testing.T) {
	e := newEnv(t)
	src := e.create(t, "")
	e.installRole(t, src.ExternalID, "")
	e.sim.Do(func(w *awssim.World) {
		b := w.Buckets[bucket]
		for i := range 1500 {
			key := "apps/app-" + strconv.Itoa(i) + ".csv"
			data := []byte("User ID\nu" + strconv.Itoa(i) + "\n")
			sum := md5.Sum(data)
			b.Objects[key] = &awssim.Object{Key: key, Data: data, ETag: `"` + hex.EncodeToString(sum[:]) + `"`, LastModified: time.Now()}
		}
	})
	start := time.Now()
	got, err := e.svc.Sync(ctxT(t), src.ID)
	if err != nil {
		t.Fatal(err)
	}
	first := time.Since(start)
	if got.LastSummary.Fetched != 1500 || e.calls("GetObject") != 1500 || e.calls("ListObjectsV2") != 2 {
		t.Fatalf("first sync: %+v, GetObject %d, ListObjectsV2 %d", got.LastSummary, e.calls("GetObject"), e.calls("ListObjectsV2"))
	}
	start = time.Now()
	got, _ = e.svc.Sync(ctxT(t), src.ID)
	second := time.Since(start)
	if got.LastSummary.Unchanged != 1500 || e.calls("GetObject") != 1500 || e.calls("GetObjectAttributes") != 1500 || e.calls("ListObjectsV2") != 4 {
		t.Errorf("second sync: %+v, GetObject %d", got.LastSummary, e.calls("GetObject"))
	}
	t.Logf("1,500 files: first sync %s (1,500 GetObject), unchanged sync %s (2 ListObjectsV2 pages, 0 GetObject)", first.Round(time.Millisecond), second.Round(time.Millisecond))
}

// A file uploaded with the AWS CLI (its own checksum and chunked encoding) is read with its
// provenance. GATEHOUSE_REQUIRE_AWS_CLI=1 (set by scripts/test.sh) makes a missing aws command fail the test.
func TestSyncFileUploadedWithAWSCLI(t *testing.T) {
	// GATEHOUSE_AWS_CLI names the binary scripts/test.sh installed; else PATH's aws.
	awsBin, err := os.Getenv("GATEHOUSE_AWS_CLI"), error(nil)
	if awsBin == "" {
		awsBin, err = exec.LookPath("aws")
	} else if _, err = os.Stat(awsBin); err != nil {
		err = fmt.Errorf("GATEHOUSE_AWS_CLI=%s: %w", awsBin, err)
	}
	if err != nil {
		if os.Getenv("GATEHOUSE_REQUIRE_AWS_CLI") == "1" {
			t.Fatalf("GATEHOUSE_REQUIRE_AWS_CLI=1 but the aws command is not available: %v", err)
		}
		t.Skip("aws CLI not installed (set GATEHOUSE_REQUIRE_AWS_CLI=1 to require it)")
	}
	e := newEnv(t)
	src := e.create(t, "apps/")
	e.installRole(t, src.ExternalID, "apps/")
	var keyID, secret string
	e.sim.Do(func(w *awssim.World) {
		a := w.Accounts[account]
		k := a.AddAccessKey(w, a.Users["customer-admin"])
		keyID, secret = k.ID, k.Secret
	})
	dir := t.TempDir()
	file := filepath.Join(dir, "users.csv")
	body := "User ID,Email Address\nu1,a@example.com\n"
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(awsBin, "--endpoint-url", aws.ToString(e.base.BaseEndpoint), "--region", "us-east-1", "s3", "cp", file, "s3://"+bucket+"/apps/users.csv")
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+keyID, "AWS_SECRET_ACCESS_KEY="+secret,
		"AWS_CONFIG_FILE="+filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("aws s3 cp: %v\n%s", err, out)
	}
	got, err := e.svc.Sync(ctxT(t), src.ID)
	if err != nil {
		t.Fatal(err)
	}
	reads, _ := e.svc.Reads(ctxT(t), src.ID)
	var stored *awssim.Object
	e.sim.Do(func(w *awssim.World) { stored = w.Buckets[bucket].Objects["apps/users.csv"] })
	if got.LastSummary.Fetched != 1 || len(reads) != 1 || reads[0].Size != int64(len(body)) || reads[0].Checksum != stored.ChecksumAlgorithm+":"+stored.Checksum ||
		len(e.handled) != 1 || !strings.HasSuffix(e.handled[0], ": "+body) {
		t.Errorf("summary %+v reads %+v stored checksum %s:%s handled %q", got.LastSummary, reads, stored.ChecksumAlgorithm, stored.Checksum, e.handled)
	}
	t.Logf("aws s3 cp stored checksum %s", reads[0].Checksum)
}
