package awssim

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestS3GetBucketLocation(t *testing.T) {
	s, c := s3Setup(t, Options{})
	out, err := c.GetBucketLocation(ctx(t), &s3.GetBucketLocationInput{Bucket: aws.String("data")})
	if err != nil {
		t.Fatal(err)
	}
	if out.LocationConstraint != "" {
		t.Errorf("us-east-1 bucket: LocationConstraint = %q, want empty (AWS: null for us-east-1)", out.LocationConstraint)
	}
	// A bucket in another region names it.
	cfg := adminConfig(t, s, "111111111111")
	cfg.Region = "eu-west-2"
	west := s3Client(cfg)
	if _, err := west.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String("london"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: "eu-west-2"}}); err != nil {
		t.Fatal(err)
	}
	out, err = c.GetBucketLocation(ctx(t), &s3.GetBucketLocationInput{Bucket: aws.String("london")})
	if err != nil {
		t.Fatal(err)
	}
	if out.LocationConstraint != "eu-west-2" {
		t.Errorf("LocationConstraint = %q, want eu-west-2", out.LocationConstraint)
	}
	_, err = c.GetBucketLocation(ctx(t), &s3.GetBucketLocationInput{Bucket: aws.String("missing")})
	if apiCode(err) != "NoSuchBucket" {
		t.Errorf("missing bucket: err = %v, want NoSuchBucket", err)
	}
}

func TestS3GetObjectAttributes(t *testing.T) {
	_, c := s3Setup(t, Options{})
	body := s3Objects["reports/q1 + q2.csv"]
	out, err := c.GetObjectAttributes(ctx(t), &s3.GetObjectAttributesInput{Bucket: aws.String("data"), Key: aws.String("reports/q1 + q2.csv"),
		ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesEtag, types.ObjectAttributesChecksum,
			types.ObjectAttributesObjectSize, types.ObjectAttributesStorageClass}})
	if err != nil {
		t.Fatal(err)
	}
	// The ETag of GetObjectAttributes has no quotes, unlike every other S3 operation's.
	if got, want := aws.ToString(out.ETag), strings.Trim(s3QuotedMD5([]byte(body)), `"`); got != want {
		t.Errorf("ETag = %s, want %s (unquoted)", got, want)
	}
	if aws.ToInt64(out.ObjectSize) != int64(len(body)) || out.StorageClass != types.StorageClassStandard || out.LastModified == nil {
		t.Errorf("size %d class %q modified %v", aws.ToInt64(out.ObjectSize), out.StorageClass, out.LastModified)
	}
	if out.Checksum == nil || out.Checksum.ChecksumType != types.ChecksumTypeFullObject {
		t.Fatalf("Checksum = %+v, want a full-object checksum", out.Checksum)
	}
	// The SDK sent no checksum over plain HTTP: S3 computed a CRC64NVME (its default).
	if got, want := aws.ToString(out.Checksum.ChecksumCRC64NVME), s3Checksums["x-amz-checksum-crc64nvme"]([]byte(body)); got != want {
		t.Errorf("ChecksumCRC64NVME = %q, want %q (checksum %+v)", got, want, out.Checksum)
	}
	if out.VersionId != nil {
		t.Errorf("unversioned bucket: VersionId = %q, want none", aws.ToString(out.VersionId))
	}

	// Only what was asked.
	only, err := c.GetObjectAttributes(ctx(t), &s3.GetObjectAttributesInput{Bucket: aws.String("data"), Key: aws.String("a.txt"),
		ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesObjectSize}})
	if err != nil {
		t.Fatal(err)
	}
	if only.ETag != nil || only.Checksum != nil || aws.ToInt64(only.ObjectSize) != 5 {
		t.Errorf("ObjectSize only: ETag %v checksum %+v size %d", only.ETag, only.Checksum, aws.ToInt64(only.ObjectSize))
	}

	_, err = c.GetObjectAttributes(ctx(t), &s3.GetObjectAttributesInput{Bucket: aws.String("data"), Key: aws.String("nope"),
		ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesEtag}})
	if apiCode(err) != "NoSuchKey" {
		t.Errorf("missing key: err = %v, want NoSuchKey", err)
	}
}

// An upload that sends a checksum keeps that one.
func TestS3UploadChecksumKept(t *testing.T) {
	_, c := s3Setup(t, Options{})
	if _, err := c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("sha.txt"),
		Body: strings.NewReader("hashed"), ChecksumAlgorithm: types.ChecksumAlgorithmSha256}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetObjectAttributes(ctx(t), &s3.GetObjectAttributesInput{Bucket: aws.String("data"), Key: aws.String("sha.txt"),
		ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesChecksum}})
	if err != nil {
		t.Fatal(err)
	}
	if out.Checksum == nil || aws.ToString(out.Checksum.ChecksumSHA256) != s3Checksums["x-amz-checksum-sha256"]([]byte("hashed")) || out.Checksum.ChecksumCRC64NVME != nil {
		t.Errorf("Checksum = %+v, want the SHA-256 the upload sent", out.Checksum)
	}
}

func TestS3Versioning(t *testing.T) {
	_, c := s3Setup(t, Options{})
	v, err := c.GetBucketVersioning(ctx(t), &s3.GetBucketVersioningInput{Bucket: aws.String("data")})
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != "" {
		t.Errorf("new bucket: versioning status %q, want none", v.Status)
	}
	if _, err := c.PutBucketVersioning(ctx(t), &s3.PutBucketVersioningInput{Bucket: aws.String("data"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	if v, err = c.GetBucketVersioning(ctx(t), &s3.GetBucketVersioningInput{Bucket: aws.String("data")}); err != nil || v.Status != types.BucketVersioningStatusEnabled {
		t.Fatalf("versioning = %q, %v; want Enabled", v.Status, err)
	}
	put := func(body string) string {
		out, err := c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("users.csv"), Body: strings.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.VersionId)
	}
	v1, v2 := put("one"), put("one")
	if len(v1) != 32 || len(v2) != 32 || v1 == v2 {
		t.Errorf("version ids %q, %q: want two distinct 32-character ids (same content, new version)", v1, v2)
	}
	get, err := c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("users.csv")})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, get.Body)
	get.Body.Close()
	attrs, err := c.GetObjectAttributes(ctx(t), &s3.GetObjectAttributesInput{Bucket: aws.String("data"), Key: aws.String("users.csv"),
		ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesEtag}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(get.VersionId) != v2 || aws.ToString(attrs.VersionId) != v2 {
		t.Errorf("GetObject version %q, GetObjectAttributes version %q; want the current %q", aws.ToString(get.VersionId), aws.ToString(attrs.VersionId), v2)
	}
	if _, err := c.PutBucketVersioning(ctx(t), &s3.PutBucketVersioningInput{Bucket: aws.String("data"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusSuspended}}); err != nil {
		t.Fatal(err)
	}
	if got := put("two"); got != "null" {
		t.Errorf("suspended versioning: version id %q, want \"null\"", got)
	}
}

// A role limited to one prefix by the s3:prefix condition lists that prefix only.
func TestS3PrefixCondition(t *testing.T) {
	s, _ := s3Setup(t, Options{})
	cfg := adminConfig(t, s, "111111111111")
	var limited = cfg
	s.Do(func(w *World) {
		a := w.Accounts["111111111111"]
		u := a.AddUser(w, "reader", "/")
		u.InlinePolicies = map[string]string{"read": `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::data","Condition":{"StringLike":{"s3:prefix":"logs/*"}}},
			{"Effect":"Allow","Action":["s3:GetObject","s3:GetObjectAttributes"],"Resource":"arn:aws:s3:::data/logs/*"}]}`}
		k := a.AddAccessKey(w, u)
		limited = testConfig(s.URL(), w.Region, k.ID, k.Secret, "")
	})
	c := s3Client(limited)
	out, err := c.ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: aws.String("data"), Prefix: aws.String("logs/")})
	if err != nil {
		t.Fatalf("listing logs/: %v", err)
	}
	if len(out.Contents) != 4 {
		t.Errorf("listing logs/: %d objects, want 4", len(out.Contents))
	}
	for _, prefix := range []*string{nil, aws.String("reports/")} {
		_, err = c.ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: aws.String("data"), Prefix: prefix})
		if apiCode(err) != "AccessDenied" {
			t.Errorf("listing %q: err = %v, want AccessDenied", aws.ToString(prefix), err)
		}
	}
	if _, err = c.GetObjectAttributes(ctx(t), &s3.GetObjectAttributesInput{Bucket: aws.String("data"), Key: aws.String("a.txt"),
		ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesEtag}}); apiCode(err) != "AccessDenied" {
		t.Errorf("GetObjectAttributes outside the prefix: err = %v, want AccessDenied", err)
	}
}

// The AWS CLI works against the simulator's S3: cp up, get-object-attributes, get-bucket-location.
// GATEHOUSE_REQUIRE_AWS_CLI=1 (set by scripts/test.sh) makes a missing aws command fail the test instead of skipping it.
func TestS3WithAWSCLI(t *testing.T) {
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
	s, _ := s3Setup(t, Options{})
	cfg := adminConfig(t, s, "111111111111")
	creds, _ := cfg.Credentials.Retrieve(ctx(t))
	dir := t.TempDir()
	file := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(file, []byte("User ID,Email Address\nu1,a@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		cmd := exec.Command(awsBin, append([]string{"--endpoint-url", s.URL(), "--region", "us-east-1", "--output", "json"}, args...)...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+creds.SecretAccessKey,
			"AWS_CONFIG_FILE="+filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"), "AWS_PAGER=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	run("s3", "cp", file, "s3://data/exports/users.csv")
	var attrs struct {
		ETag       string
		ObjectSize int
	}
	if err := json.Unmarshal([]byte(run("s3api", "get-object-attributes", "--bucket", "data", "--key", "exports/users.csv",
		"--object-attributes", "ETag", "ObjectSize")), &attrs); err != nil {
		t.Fatal(err)
	}
	if attrs.ObjectSize != 39 || strings.Contains(attrs.ETag, `"`) || len(attrs.ETag) != 32 {
		t.Errorf("aws s3api get-object-attributes = %+v", attrs)
	}
	if out := run("s3api", "get-bucket-location", "--bucket", "data"); !strings.Contains(out, `"LocationConstraint": null`) {
		t.Errorf("aws s3api get-bucket-location = %s, want LocationConstraint null", out)
	}
}
