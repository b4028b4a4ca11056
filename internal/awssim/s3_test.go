package awssim

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func s3Client(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

func s3QuotedMD5(b []byte) string {
	sum := md5.Sum(b)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// s3Objects are the keys of the listing tests, with slashes, a space and a plus.
var s3Objects = map[string]string{
	"a.txt":                 "alpha",
	"logs/2024/01.json":     `{"month":1}`,
	"logs/2024/02.json":     `{"month":2}`,
	"logs/2025/01.json":     `{"month":13}`,
	"logs/readme":           "read me",
	"reports/q1 + q2.csv":   "quarter,total\n1,10\n2,20\n",
	"zeta/deep/er/key.bin":  "\x00\x01\x02",
	"zeta/deep/er/key2.bin": "",
}

// s3Setup creates bucket "data" through the API and uploads s3Objects.
func s3Setup(t *testing.T, opts Options) (*Sim, *s3.Client) {
	t.Helper()
	s, _ := startSim(t, testWorld(t), opts)
	c := s3Client(adminConfig(t, s, "111111111111"))
	if _, err := c.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String("data")}); err != nil {
		t.Fatal(err)
	}
	for key, body := range s3Objects {
		out, err := c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String(key),
			Body: strings.NewReader(body), ContentType: aws.String("text/plain")})
		if err != nil {
			t.Fatalf("PutObject %q: %v", key, err)
		}
		if got, want := aws.ToString(out.ETag), s3QuotedMD5([]byte(body)); got != want {
			t.Errorf("PutObject %q ETag = %s, want %s", key, got, want)
		}
	}
	return s, c
}

func TestS3BucketsAndObjects(t *testing.T) {
	s, c := s3Setup(t, Options{})
	if _, err := c.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String("archive")}); err != nil {
		t.Fatal(err)
	}
	buckets, err := c.ListBuckets(ctx(t), &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range buckets.Buckets {
		names = append(names, aws.ToString(b.Name)+"@"+aws.ToString(b.BucketRegion))
	}
	if want := []string{"archive@us-east-1", "data@us-east-1"}; !reflect.DeepEqual(names, want) {
		t.Errorf("ListBuckets = %v, want %v", names, want)
	}
	if buckets.Owner == nil || len(aws.ToString(buckets.Owner.ID)) != 64 {
		t.Errorf("ListBuckets owner = %+v", buckets.Owner)
	}
	if _, err := c.HeadBucket(ctx(t), &s3.HeadBucketInput{Bucket: aws.String("data")}); err != nil {
		t.Errorf("HeadBucket: %v", err)
	}

	for key, body := range s3Objects {
		out, err := c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("GetObject %q: %v", key, err)
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if string(got) != body || aws.ToString(out.ETag) != s3QuotedMD5([]byte(body)) ||
			aws.ToInt64(out.ContentLength) != int64(len(body)) || aws.ToString(out.ContentType) != "text/plain" || out.LastModified == nil {
			t.Errorf("GetObject %q = %q ETag %s length %d type %s modified %v", key, got, aws.ToString(out.ETag),
				aws.ToInt64(out.ContentLength), aws.ToString(out.ContentType), out.LastModified)
		}
	}

	head, err := c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String("data"), Key: aws.String("reports/q1 + q2.csv")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt64(head.ContentLength) != int64(len(s3Objects["reports/q1 + q2.csv"])) || aws.ToString(head.ETag) != s3QuotedMD5([]byte(s3Objects["reports/q1 + q2.csv"])) {
		t.Errorf("HeadObject = length %d ETag %s", aws.ToInt64(head.ContentLength), aws.ToString(head.ETag))
	}

	rng, err := c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("a.txt"), Range: aws.String("bytes=1-3")})
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(rng.Body)
	rng.Body.Close()
	if string(part) != "lph" || aws.ToString(rng.ContentRange) != "bytes 1-3/5" {
		t.Errorf("ranged GetObject = %q, Content-Range %s", part, aws.ToString(rng.ContentRange))
	}

	// Overwrite, then delete.
	if _, err := c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("a.txt"), Body: strings.NewReader("beta")}); err != nil {
		t.Fatal(err)
	}
	var stored *Object
	s.Do(func(w *World) { stored = w.Buckets["data"].Objects["a.txt"] })
	if string(stored.Data) != "beta" || stored.ETag != s3QuotedMD5([]byte("beta")) {
		t.Errorf("stored object = %q %s", stored.Data, stored.ETag)
	}
	if _, err := c.DeleteObject(ctx(t), &s3.DeleteObjectInput{Bucket: aws.String("data"), Key: aws.String("a.txt")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("a.txt")})
	if apiCode(err) != "NoSuchKey" {
		t.Errorf("GetObject after delete: err = %v, want NoSuchKey", err)
	}
}

// s3ListAll lists with the paginator and returns the keys and common prefixes in order.
func s3ListAll(t *testing.T, c *s3.Client, in *s3.ListObjectsV2Input) (keys, prefixes []string, pages int) {
	t.Helper()
	p := s3.NewListObjectsV2Paginator(c, in)
	for p.HasMorePages() {
		pg, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if int(aws.ToInt32(pg.KeyCount)) != len(pg.Contents)+len(pg.CommonPrefixes) {
			t.Errorf("KeyCount %d, with %d keys and %d prefixes", aws.ToInt32(pg.KeyCount), len(pg.Contents), len(pg.CommonPrefixes))
		}
		for _, o := range pg.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		for _, cp := range pg.CommonPrefixes {
			prefixes = append(prefixes, aws.ToString(cp.Prefix))
		}
	}
	return keys, prefixes, pages
}

func TestS3ListObjectsV2(t *testing.T) {
	allKeys := []string{"a.txt", "logs/2024/01.json", "logs/2024/02.json", "logs/2025/01.json", "logs/readme",
		"reports/q1 + q2.csv", "zeta/deep/er/key.bin", "zeta/deep/er/key2.bin"}
	cases := []struct {
		name           string
		in             s3.ListObjectsV2Input
		keys, prefixes []string
	}{
		{"all", s3.ListObjectsV2Input{}, allKeys, nil},
		{"prefix", s3.ListObjectsV2Input{Prefix: aws.String("logs/2024/")}, []string{"logs/2024/01.json", "logs/2024/02.json"}, nil},
		{"delimiter", s3.ListObjectsV2Input{Delimiter: aws.String("/")}, []string{"a.txt"}, []string{"logs/", "reports/", "zeta/"}},
		{"prefix and delimiter", s3.ListObjectsV2Input{Prefix: aws.String("logs/"), Delimiter: aws.String("/")},
			[]string{"logs/readme"}, []string{"logs/2024/", "logs/2025/"}},
		{"start-after", s3.ListObjectsV2Input{StartAfter: aws.String("logs/readme")}, allKeys[5:], nil},
		{"no match", s3.ListObjectsV2Input{Prefix: aws.String("nothing/")}, nil, nil},
	}
	for _, pageSize := range []int{0, 1, 3} {
		_, c := s3Setup(t, Options{PageSize: pageSize})
		for _, tc := range cases {
			in := tc.in
			in.Bucket = aws.String("data")
			keys, prefixes, pages := s3ListAll(t, c, &in)
			if !reflect.DeepEqual(keys, tc.keys) || !reflect.DeepEqual(prefixes, tc.prefixes) {
				t.Errorf("PageSize %d, %s: keys %q prefixes %q, want %q %q", pageSize, tc.name, keys, prefixes, tc.keys, tc.prefixes)
			}
			if n := len(tc.keys) + len(tc.prefixes); pageSize > 0 && n > 0 && pages != (n+pageSize-1)/pageSize {
				t.Errorf("PageSize %d, %s: %d pages for %d entries", pageSize, tc.name, pages, n)
			}
		}
	}

	_, c := s3Setup(t, Options{})
	first, err := c.ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: aws.String("data"), MaxKeys: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(first.IsTruncated) || aws.ToInt32(first.KeyCount) != 2 || aws.ToString(first.NextContinuationToken) == "" ||
		aws.ToString(first.Contents[1].Key) != "logs/2024/01.json" || aws.ToInt64(first.Contents[1].Size) != int64(len(`{"month":1}`)) ||
		aws.ToString(first.Contents[1].ETag) != s3QuotedMD5([]byte(`{"month":1}`)) || first.Contents[1].StorageClass != types.ObjectStorageClassStandard {
		t.Errorf("ListObjectsV2 MaxKeys=2 = truncated %v count %d next %q contents %+v", aws.ToBool(first.IsTruncated),
			aws.ToInt32(first.KeyCount), aws.ToString(first.NextContinuationToken), first.Contents)
	}
	_, err = c.ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: aws.String("data"), ContinuationToken: aws.String("not-a-token")})
	if apiCode(err) != "InvalidArgument" {
		t.Errorf("bad continuation token: err = %v, want InvalidArgument", err)
	}
}

func TestS3Errors(t *testing.T) {
	s, c := s3Setup(t, Options{})
	_, err := c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("missing")})
	if apiCode(err) != "NoSuchKey" {
		t.Errorf("GetObject missing key: err = %v, want NoSuchKey", err)
	}
	_, err = c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String("nope"), Key: aws.String("a.txt")})
	if apiCode(err) != "NoSuchBucket" {
		t.Errorf("GetObject missing bucket: err = %v, want NoSuchBucket", err)
	}
	_, err = c.ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: aws.String("nope")})
	if apiCode(err) != "NoSuchBucket" {
		t.Errorf("ListObjectsV2 missing bucket: err = %v, want NoSuchBucket", err)
	}
	_, err = c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String("data"), Key: aws.String("missing")})
	if apiCode(err) != "NotFound" {
		t.Errorf("HeadObject missing key: err = %v, want NotFound", err)
	}
	_, err = c.HeadBucket(ctx(t), &s3.HeadBucketInput{Bucket: aws.String("nope")})
	if apiCode(err) != "NotFound" {
		t.Errorf("HeadBucket missing bucket: err = %v, want NotFound", err)
	}
	_, err = c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("a.txt"), Range: aws.String("bytes=10-")})
	if apiCode(err) != "InvalidRange" {
		t.Errorf("GetObject beyond the end: err = %v, want InvalidRange", err)
	}
	_, err = c.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String("Bad_Name")})
	if apiCode(err) != "InvalidBucketName" {
		t.Errorf("CreateBucket Bad_Name: err = %v, want InvalidBucketName", err)
	}
	// Operations the simulator does not serve are refused, not mistaken for others.
	_, err = c.GetBucketTagging(ctx(t), &s3.GetBucketTaggingInput{Bucket: aws.String("data")})
	if apiCode(err) != "NotImplemented" {
		t.Errorf("GetBucketTagging: err = %v, want NotImplemented", err)
	}
	_, err = c.ListObjects(ctx(t), &s3.ListObjectsInput{Bucket: aws.String("data")})
	if apiCode(err) != "NotImplemented" {
		t.Errorf("ListObjects (v1): err = %v, want NotImplemented", err)
	}

	// Another account's bucket: the name is taken, and its objects are not readable.
	s.Do(func(w *World) {
		w.AddAccount("222222222222", "other", "other@example.com", "")
	})
	otherClient := s3Client(adminConfig(t, s, "222222222222"))
	_, err = otherClient.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String("data")})
	if apiCode(err) != "BucketAlreadyExists" {
		t.Errorf("CreateBucket of another account's bucket: err = %v, want BucketAlreadyExists", err)
	}
	_, err = otherClient.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("a.txt")})
	if apiCode(err) != "AccessDenied" {
		t.Errorf("GetObject of another account's bucket: err = %v, want AccessDenied", err)
	}
	if out, err := otherClient.ListBuckets(ctx(t), &s3.ListBucketsInput{}); err != nil || len(out.Buckets) != 0 {
		t.Errorf("other account ListBuckets = %v, %v; want none", out, err)
	}
	// Re-creating one's own bucket succeeds in us-east-1 (legacy behaviour).
	if _, err := c.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String("data")}); err != nil {
		t.Errorf("re-creating own bucket in us-east-1: %v", err)
	}

	// The connector operator has no S3 permission: the caller's identity policy is enforced.
	var operator aws.Config
	s.Do(func(w *World) {
		operator = testConfig(s.URL(), w.Region, w.Connector.AccessKeyID, w.Connector.SecretAccessKey, "")
	})
	_, err = s3Client(operator).GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("logs/readme")})
	if apiCode(err) != "AccessDenied" || !strings.Contains(err.Error(), "s3:GetObject on resource: arn:aws:s3:::data/logs/readme") {
		t.Errorf("operator GetObject: err = %v, want AccessDenied naming the object", err)
	}
}

func TestS3RegionalBuckets(t *testing.T) {
	s, _ := startSim(t, testWorld(t), Options{})
	cfg := adminConfig(t, s, "111111111111")
	cfg.Region = "eu-west-1"
	c := s3Client(cfg)
	_, err := c.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String("eu-data")})
	if apiCode(err) != "IllegalLocationConstraintException" {
		t.Errorf("CreateBucket in eu-west-1 without a location constraint: err = %v", err)
	}
	in := &s3.CreateBucketInput{Bucket: aws.String("eu-data"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraintEuWest1}}
	if _, err := c.CreateBucket(ctx(t), in); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateBucket(ctx(t), in); apiCode(err) != "BucketAlreadyOwnedByYou" {
		t.Errorf("CreateBucket twice in eu-west-1: err = %v, want BucketAlreadyOwnedByYou", err)
	}
	out, err := c.HeadBucket(ctx(t), &s3.HeadBucketInput{Bucket: aws.String("eu-data")})
	if err != nil || aws.ToString(out.BucketRegion) != "eu-west-1" {
		t.Errorf("HeadBucket = %+v, %v", out, err)
	}
}

// TestS3Checksums uploads with the SDK's checksum algorithms (the simulator verifies
// each) and with a wrong Content-MD5.
func TestS3Checksums(t *testing.T) {
	_, c := s3Setup(t, Options{})
	body := []byte("checksummed body\n")
	for _, algo := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c,
		types.ChecksumAlgorithmCrc64nvme, types.ChecksumAlgorithmSha1, types.ChecksumAlgorithmSha256} {
		_, err := c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("sum/" + string(algo)),
			Body: bytes.NewReader(body), ChecksumAlgorithm: algo})
		if err != nil {
			t.Errorf("PutObject with %s: %v", algo, err)
		}
	}
	_, err := c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("bad-md5"),
		Body: bytes.NewReader(body), ContentMD5: aws.String("1B2M2Y8AsgTpgAmY7PhCfg==")})
	if apiCode(err) != "BadDigest" {
		t.Errorf("PutObject with a wrong Content-MD5: err = %v, want BadDigest", err)
	}
	// The SDK validates the CRC32 the simulator returns with the object.
	out, err := c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("sum/CRC64NVME"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || !bytes.Equal(got, body) || aws.ToString(out.ChecksumCRC32) == "" {
		t.Errorf("GetObject with checksum = %q, %v, CRC32 %q", got, err, aws.ToString(out.ChecksumCRC32))
	}
}

// TestS3AWSChunkedOverTLS serves the simulator over HTTPS, where the SDK uploads with
// aws-chunked encoding and a trailing checksum (STREAMING-UNSIGNED-PAYLOAD-TRAILER).
func TestS3AWSChunkedOverTLS(t *testing.T) {
	s := New(testWorld(t), Options{})
	var putPayloadHash, putEncoding string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "big.bin") {
			putPayloadHash, putEncoding = r.Header.Get("X-Amz-Content-Sha256"), r.Header.Get("Content-Encoding")
		}
		s.Handler().ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	var cfg aws.Config
	s.Do(func(w *World) {
		a := w.ManagementAccount()
		u := a.AddUser(w, "tls-admin", "/")
		u.AttachedPolicies = append(u.AttachedPolicies, AWSManagedPolicyARN("AdministratorAccess"))
		k := a.AddAccessKey(w, u)
		cfg = testConfig(srv.URL, w.Region, k.ID, k.Secret, "")
	})
	cfg.HTTPClient = srv.Client()
	// What config.LoadDefaultConfig sets; a bare aws.Config leaves checksums off.
	cfg.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenSupported
	cfg.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenSupported
	c := s3Client(cfg)
	if _, err := c.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String("tls")}); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("0123456789abcdef"), 5000) // 80,000 bytes
	// An io.Reader without Seek or Len makes the SDK stream it in chunks.
	_, err := c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("tls"), Key: aws.String("big.bin"),
		Body: io.MultiReader(bytes.NewReader(body)), ContentLength: aws.Int64(int64(len(body)))})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(putPayloadHash, "STREAMING-") || !strings.Contains(putEncoding, "aws-chunked") {
		t.Errorf("the SDK sent payload hash %q, Content-Encoding %q; the test means to exercise aws-chunked", putPayloadHash, putEncoding)
	}
	var stored *Object
	s.Do(func(w *World) { stored = w.Buckets["tls"].Objects["big.bin"] })
	if stored == nil || !bytes.Equal(stored.Data, body) || stored.ETag != s3QuotedMD5(body) {
		t.Fatalf("stored object differs from the upload (%v)", stored != nil)
	}
}

// TestS3SignedChunks sends the signed-chunk form (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) that
// other clients use over plain HTTP, with a trailing checksum.
func TestS3SignedChunks(t *testing.T) {
	s, _ := s3Setup(t, Options{})
	cfg := adminConfig(t, s, "111111111111")
	chunks := []string{"hello, ", "chunked ", "world"}
	var encoded strings.Builder
	for _, c := range chunks {
		fmt.Fprintf(&encoded, "%x;chunk-signature=%064d\r\n%s\r\n", len(c), 0, c)
	}
	data := strings.Join(chunks, "")
	fmt.Fprintf(&encoded, "0;chunk-signature=%064d\r\nx-amz-checksum-crc32:%s\r\nx-amz-trailer-signature:%064d\r\n\r\n",
		0, s3Checksums["x-amz-checksum-crc32"]([]byte(data)), 0)

	put := func(payload string, decodedLength int) *http.Response {
		req, _ := http.NewRequest(http.MethodPut, s.URL()+"/data/chunked/hello.txt", strings.NewReader(payload))
		req.Header.Set("Content-Encoding", "aws-chunked")
		req.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(decodedLength))
		req.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
		req.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER")
		creds, _ := cfg.Credentials.Retrieve(context.Background())
		if err := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }).SignHTTP(context.Background(), creds, req,
			"STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", "s3", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := put(encoded.String(), len(data)); resp.StatusCode != 200 || resp.Header.Get("ETag") != s3QuotedMD5([]byte(data)) {
		t.Fatalf("signed-chunk PutObject: %s ETag %s", resp.Status, resp.Header.Get("ETag"))
	}
	var stored string
	s.Do(func(w *World) { stored = string(w.Buckets["data"].Objects["chunked/hello.txt"].Data) })
	if stored != data {
		t.Errorf("stored %q, want %q", stored, data)
	}
	if resp := put(encoded.String(), len(data)+1); resp.StatusCode != 400 {
		t.Errorf("wrong decoded length: %s, want 400", resp.Status)
	}
	bad := strings.Replace(encoded.String(), "x-amz-checksum-crc32:", "x-amz-checksum-crc32:AAAA", 1)
	if resp := put(bad, len(data)); resp.StatusCode != 400 {
		t.Errorf("wrong trailing checksum: %s, want 400", resp.Status)
	}
}

func TestS3ErrorDocument(t *testing.T) {
	s, _ := s3Setup(t, Options{})
	cfg := adminConfig(t, s, "111111111111")
	send := func(method, path string) (*http.Response, string) {
		req, _ := http.NewRequest(method, s.URL()+path, nil)
		creds, _ := cfg.Credentials.Retrieve(context.Background())
		empty := sha256.Sum256(nil)
		req.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(empty[:]))
		if err := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }).SignHTTP(context.Background(), creds, req,
			hex.EncodeToString(empty[:]), "s3", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	resp, body := send(http.MethodGet, "/data/no/such%20key")
	if resp.StatusCode != 404 || !strings.Contains(body, "<Code>NoSuchKey</Code>") || !strings.Contains(body, "<Key>no/such key</Key>") ||
		!strings.Contains(body, "<RequestId>"+resp.Header.Get("X-Amz-Request-Id")+"</RequestId>") {
		t.Errorf("GET missing key: %s\n%s", resp.Status, body)
	}
	resp, body = send(http.MethodHead, "/data/no/such%20key")
	if resp.StatusCode != 404 || body != "" {
		t.Errorf("HEAD missing key: %s with body %q, want 404 without body", resp.Status, body)
	}
	resp, body = send(http.MethodGet, "/missing-bucket?list-type=2")
	if resp.StatusCode != 404 || !strings.Contains(body, "<BucketName>missing-bucket</BucketName>") {
		t.Errorf("list missing bucket: %s\n%s", resp.Status, body)
	}
}
