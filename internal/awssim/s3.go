package awssim

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// S3 (REST XML, path-style addressing: /BUCKET and /BUCKET/KEY). Buckets are owned by an
// account; bucket policies are not modelled, so a bucket with an owner (Bucket.AccountID)
// answers only callers of that account (others get AccessDenied, as without a bucket
// policy in AWS) and a bucket without one answers every caller.

// s3Actions maps S3 operations to their IAM actions.
var s3Actions = map[string]string{
	"ListBuckets":   "s3:ListAllMyBuckets",
	"CreateBucket":  "s3:CreateBucket",
	"HeadBucket":    "s3:ListBucket",
	"ListObjectsV2": "s3:ListBucket",
	"GetObject":     "s3:GetObject",
	"HeadObject":    "s3:GetObject",
	"PutObject":     "s3:PutObject",
	"DeleteObject":  "s3:DeleteObject",

	"GetBucketLocation":   "s3:GetBucketLocation",
	"GetBucketVersioning": "s3:GetBucketVersioning",
	"PutBucketVersioning": "s3:PutBucketVersioning",
	"GetObjectAttributes": "s3:GetObjectAttributes",
}

// s3Query lists, per operation, the query parameters the simulator understands. Any other
// parameter names a sub-resource or feature (?acl, ?tagging, ?uploads, versionId, ...)
// that is not simulated, and the request is answered NotImplemented rather than served as
// a different operation.
var s3Query = map[string][]string{
	"ListBuckets":   {"max-buckets", "continuation-token", "prefix", "bucket-region"},
	"CreateBucket":  nil,
	"HeadBucket":    nil,
	"ListObjectsV2": {"list-type", "prefix", "delimiter", "max-keys", "continuation-token", "start-after", "encoding-type", "fetch-owner"},
	"GetObject":     s3ResponseOverrides,
	"HeadObject":    s3ResponseOverrides,
	"PutObject":     nil,
	"DeleteObject":  nil,

	"GetBucketLocation":   {"location"},
	"GetBucketVersioning": {"versioning"},
	"PutBucketVersioning": {"versioning"},
	"GetObjectAttributes": {"attributes"},
}

// s3ResponseOverrides are the GetObject parameters that override response headers.
var s3ResponseOverrides = []string{"response-cache-control", "response-content-disposition", "response-content-encoding",
	"response-content-language", "response-content-type", "response-expires"}

const s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

func init() {
	register("s3", map[string]opHandler{
		"ListBuckets":   s3ListBuckets,
		"CreateBucket":  s3CreateBucket,
		"HeadBucket":    s3HeadBucket,
		"ListObjectsV2": s3ListObjectsV2,
		"GetObject":     s3GetObject,
		"HeadObject":    s3GetObject,
		"PutObject":     s3PutObject,
		"DeleteObject":  s3DeleteObject,

		"GetBucketLocation":   s3GetBucketLocation,
		"GetBucketVersioning": s3GetBucketVersioning,
		"PutBucketVersioning": s3PutBucketVersioning,
		"GetObjectAttributes": s3GetObjectAttributes,
	})
	protocols["s3"] = &protocol{operation: s3Operation, serve: s3Serve, writeErr: s3WriteError}
}

// s3Path splits a path-style request path into the bucket and the key, both unescaped.
// Keys may contain "/" (and "%2F"), so only the first segment is the bucket.
func s3Path(r *http.Request) (bucket, key string, err error) {
	raw := strings.TrimPrefix(r.URL.EscapedPath(), "/")
	rawBucket, rawKey, _ := strings.Cut(raw, "/")
	if bucket, err = url.PathUnescape(rawBucket); err != nil {
		return "", "", err
	}
	if key, err = url.PathUnescape(rawKey); err != nil {
		return "", "", err
	}
	return bucket, key, nil
}

// s3Operation names the operation from the method, the path and the query.
func s3Operation(q *request) (string, *apiError) {
	r := q.http
	bucket, key, err := s3Path(r)
	if err != nil {
		return "", &apiError{Status: 400, Code: "InvalidURI", Message: "Couldn't parse the specified URI."}
	}
	query := r.URL.Query()
	op := ""
	switch {
	case bucket == "" && r.Method == http.MethodGet:
		op = "ListBuckets"
	case bucket == "":
	case key == "" && r.Method == http.MethodGet && query.Has("location"):
		op = "GetBucketLocation"
	case key == "" && r.Method == http.MethodGet && query.Has("versioning"):
		op = "GetBucketVersioning"
	case key == "" && r.Method == http.MethodPut && query.Has("versioning"):
		op = "PutBucketVersioning"
	case key == "" && r.Method == http.MethodPut:
		op = "CreateBucket"
	case key == "" && r.Method == http.MethodHead:
		op = "HeadBucket"
	case key == "" && r.Method == http.MethodGet && query.Get("list-type") == "2":
		op = "ListObjectsV2"
	case key == "":
	case r.Method == http.MethodGet && query.Has("attributes"):
		op = "GetObjectAttributes"
	case r.Method == http.MethodGet:
		op = "GetObject"
	case r.Method == http.MethodHead:
		op = "HeadObject"
	case r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") == "":
		op = "PutObject"
	case r.Method == http.MethodDelete:
		op = "DeleteObject"
	}
	if op == "" {
		return "", s3NotImplemented(r.Method + " " + r.URL.Path + " (" + s3Describe(bucket, key, query) + ")")
	}
	allowed := map[string]bool{"x-id": true}
	for _, p := range s3Query[op] {
		allowed[p] = true
	}
	for p := range query {
		if !allowed[p] {
			return "", s3NotImplemented(fmt.Sprintf("%s with the query parameter %q", op, p))
		}
	}
	return op, nil
}

func s3Describe(bucket, key string, query url.Values) string {
	switch {
	case bucket == "":
		return "service"
	case key == "" && len(query) > 0:
		return "bucket sub-resource or ListObjects version 1"
	case key == "":
		return "bucket"
	}
	return "object"
}

func s3NotImplemented(what string) *apiError {
	return &apiError{Status: 501, Code: "NotImplemented",
		Message: "A header or query you provided implies functionality that is not implemented: the simulator does not serve " + what + "."}
}

// s3Resource is the bucket or object ARN of an S3 call ("" for ListBuckets, whose resource is "*").
func (q *request) s3Resource() string {
	bucket, key, err := s3Path(q.http)
	if err != nil || bucket == "" {
		return ""
	}
	switch q.op {
	case "CreateBucket", "HeadBucket", "ListObjectsV2", "GetBucketLocation", "GetBucketVersioning", "PutBucketVersioning":
		return "arn:aws:s3:::" + bucket
	}
	if key == "" {
		return "arn:aws:s3:::" + bucket
	}
	return "arn:aws:s3:::" + bucket + "/" + key
}

// s3Reply is what an S3 handler answers: a status, headers and a raw body.
type s3Reply struct {
	status int
	header http.Header
	body   []byte
}

func newS3Reply(status int) *s3Reply { return &s3Reply{status: status, header: http.Header{}} }

// s3XMLReply encodes v as an S3 XML document.
func s3XMLReply(v any) (*s3Reply, *apiError) {
	b, err := xml.Marshal(v)
	if err != nil {
		return nil, &apiError{Status: 500, Code: "InternalError", Message: "simulator could not encode the result: " + err.Error()}
	}
	rep := newS3Reply(http.StatusOK)
	rep.header.Set("Content-Type", "application/xml")
	rep.body = append([]byte(xml.Header), b...)
	return rep, nil
}

func s3Serve(q *request, rw http.ResponseWriter) {
	result, err := ops["s3"][q.op](q)
	if err != nil {
		q.writeError(rw, err)
		return
	}
	rep := result.(*s3Reply)
	h := rw.Header()
	for k, v := range rep.header {
		h[k] = v
	}
	s3CommonHeaders(q, h)
	withBody := q.http.Method != http.MethodHead && rep.status != http.StatusNotModified && rep.status != http.StatusNoContent
	if withBody && h.Get("Content-Length") == "" {
		h.Set("Content-Length", strconv.Itoa(len(rep.body)))
	}
	rw.WriteHeader(rep.status)
	if withBody {
		_, _ = rw.Write(rep.body)
	}
}

func s3CommonHeaders(q *request, h http.Header) {
	h.Set("X-Amz-Request-Id", q.requestID)
	sum := sha256.Sum256([]byte(q.requestID))
	h.Set("X-Amz-Id-2", base64.StdEncoding.EncodeToString(sum[:]))
	h.Set("Server", "AmazonS3")
}

// s3WriteError writes an S3 error document; HEAD responses carry only the status, as in S3.
func s3WriteError(q *request, rw http.ResponseWriter, e *apiError) {
	h := rw.Header()
	s3CommonHeaders(q, h)
	if q.http.Method == http.MethodHead {
		rw.WriteHeader(e.Status)
		return
	}
	doc := struct {
		XMLName    xml.Name `xml:"Error"`
		Code       string   `xml:"Code"`
		Message    string   `xml:"Message"`
		BucketName string   `xml:"BucketName,omitempty"`
		Key        string   `xml:"Key,omitempty"`
		RequestID  string   `xml:"RequestId"`
		HostID     string   `xml:"HostId"`
	}{Code: e.Code, Message: e.Message, RequestID: q.requestID, HostID: h.Get("X-Amz-Id-2")}
	bucket, key, _ := s3Path(q.http)
	switch e.Code {
	case "NoSuchBucket", "BucketAlreadyExists", "BucketAlreadyOwnedByYou":
		doc.BucketName = bucket
	case "NoSuchKey":
		doc.Key = key
	}
	b, _ := xml.Marshal(doc)
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(xml.Header)+len(b)))
	rw.WriteHeader(e.Status)
	_, _ = io.WriteString(rw, xml.Header)
	_, _ = rw.Write(b)
}

// Errors.

func s3NoSuchBucket() *apiError {
	return &apiError{Status: 404, Code: "NoSuchBucket", Message: "The specified bucket does not exist"}
}

func s3NoSuchKey() *apiError {
	return &apiError{Status: 404, Code: "NoSuchKey", Message: "The specified key does not exist."}
}

func s3AccessDenied() *apiError {
	return &apiError{Status: 403, Code: "AccessDenied", Message: "Access Denied"}
}

// Buckets.

// ownedBy reports whether the bucket answers callers of the account (see the file comment).
func (b *Bucket) ownedBy(accountID string) bool { return b.AccountID == "" || b.AccountID == accountID }

// s3Bucket returns the request's bucket after checking that it exists and that the caller may use it.
func (q *request) s3Bucket() (*Bucket, *apiError) {
	name, _, _ := s3Path(q.http)
	b := q.w.Buckets[name]
	if b == nil {
		return nil, s3NoSuchBucket()
	}
	if !b.ownedBy(q.caller.AccountID) {
		return nil, s3AccessDenied()
	}
	return b, nil
}

// CanonicalUserID is the S3 canonical user id of an account: 64 hex characters, derived
// from the account id so that it is stable.
func CanonicalUserID(accountID string) string {
	sum := sha256.Sum256([]byte("s3-canonical-user:" + accountID))
	return hex.EncodeToString(sum[:])
}

type s3Owner struct {
	ID string `xml:"ID"`
}

type s3BucketEntry struct {
	Name         string `xml:"Name"`
	CreationDate string `xml:"CreationDate"`
	BucketRegion string `xml:"BucketRegion,omitempty"`
}

// s3Time is the timestamp format of S3 XML documents.
func s3Time(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func s3IntParam(v url.Values, name string) (int, bool, *apiError) {
	s := v.Get(name)
	if s == "" {
		return 0, false, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, false, &apiError{Status: 400, Code: "InvalidArgument", Message: fmt.Sprintf("Provided %s not an integer or within integer range", name)}
	}
	return n, true, nil
}

// s3ListBuckets lists the caller's buckets by name. Without max-buckets or a continuation
// token it answers every bucket in one page, as S3 does for older clients.
func s3ListBuckets(q *request) (any, *apiError) {
	v := q.http.URL.Query()
	prefix, region := v.Get("prefix"), v.Get("bucket-region")
	var buckets []s3BucketEntry
	for _, name := range sortedKeys(q.w.Buckets) {
		b := q.w.Buckets[name]
		if !b.ownedBy(q.caller.AccountID) || !strings.HasPrefix(name, prefix) || (region != "" && b.Region != region) {
			continue
		}
		buckets = append(buckets, s3BucketEntry{Name: name, CreationDate: s3Time(b.CreateDate), BucketRegion: b.Region})
	}
	max, paged, err := s3IntParam(v, "max-buckets")
	if err != nil {
		return nil, err
	}
	token := v.Get("continuation-token")
	next := ""
	if paged || token != "" {
		if buckets, next, err = page(q, buckets, token, max, 10000, 10000); err != nil {
			return nil, err
		}
	}
	return s3XMLReply(struct {
		XMLName           xml.Name        `xml:"ListAllMyBucketsResult"`
		Xmlns             string          `xml:"xmlns,attr"`
		Owner             s3Owner         `xml:"Owner"`
		Buckets           []s3BucketEntry `xml:"Buckets>Bucket"`
		ContinuationToken string          `xml:"ContinuationToken,omitempty"`
		Prefix            string          `xml:"Prefix,omitempty"`
	}{Xmlns: s3Namespace, Owner: s3Owner{ID: CanonicalUserID(q.caller.AccountID)}, Buckets: buckets, ContinuationToken: next, Prefix: prefix})
}

var s3BucketNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// s3CreateBucket creates a bucket in the region of the request's signature. Re-creating
// a bucket the caller owns succeeds in us-east-1 and fails elsewhere, as in S3.
func s3CreateBucket(q *request) (any, *apiError) {
	name, _, _ := s3Path(q.http)
	if !s3BucketNamePattern.MatchString(name) || strings.Contains(name, "..") {
		return nil, &apiError{Status: 400, Code: "InvalidBucketName", Message: "The specified bucket is not valid."}
	}
	var cfg struct {
		LocationConstraint string `xml:"LocationConstraint"`
	}
	if len(bytes.TrimSpace(q.body)) > 0 {
		if err := xml.Unmarshal(q.body, &cfg); err != nil {
			return nil, &apiError{Status: 400, Code: "MalformedXML", Message: "The XML you provided was not well-formed or did not validate against our published schema"}
		}
	}
	region := cfg.LocationConstraint
	if region == "" {
		region = "us-east-1"
	}
	if region != q.region {
		return nil, &apiError{Status: 400, Code: "IllegalLocationConstraintException",
			Message: fmt.Sprintf("The %s location constraint is incompatible for the region specific endpoint this request was sent to.", region)}
	}
	if b := q.w.Buckets[name]; b != nil {
		if !b.ownedBy(q.caller.AccountID) {
			return nil, &apiError{Status: 409, Code: "BucketAlreadyExists",
				Message: "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again."}
		}
		if b.Region != "us-east-1" {
			return nil, &apiError{Status: 409, Code: "BucketAlreadyOwnedByYou",
				Message: "Your previous request to create the named bucket succeeded and you already own it."}
		}
	} else {
		q.w.Buckets[name] = &Bucket{Name: name, AccountID: q.caller.AccountID, Region: region,
			CreateDate: q.w.Now(), Objects: map[string]*Object{}}
	}
	rep := newS3Reply(http.StatusOK)
	rep.header.Set("Location", "/"+name)
	return rep, nil
}

func s3HeadBucket(q *request) (any, *apiError) {
	b, err := q.s3Bucket()
	if err != nil {
		return nil, err
	}
	rep := newS3Reply(http.StatusOK)
	rep.header.Set("X-Amz-Bucket-Region", b.Region)
	rep.header.Set("X-Amz-Access-Point-Alias", "false")
	return rep, nil
}

type s3Contents struct {
	Key          string   `xml:"Key"`
	LastModified string   `xml:"LastModified"`
	ETag         string   `xml:"ETag"`
	Size         int      `xml:"Size"`
	StorageClass string   `xml:"StorageClass"`
	Owner        *s3Owner `xml:"Owner,omitempty"`
}

type s3CommonPrefix struct {
	Prefix string `xml:"Prefix"`
}

// s3Entry is one line of a listing: an object, or a common prefix that rolls up the
// objects under it (each counts once toward max-keys, as in S3).
type s3Entry struct {
	obj    *Object
	prefix string
}

func s3ListObjectsV2(q *request) (any, *apiError) {
	b, err := q.s3Bucket()
	if err != nil {
		return nil, err
	}
	v := q.http.URL.Query()
	prefix, delim, startAfter := v.Get("prefix"), v.Get("delimiter"), v.Get("start-after")
	encoding := v.Get("encoding-type")
	if encoding != "" && encoding != "url" {
		return nil, &apiError{Status: 400, Code: "InvalidArgument", Message: "Invalid Encoding Method specified in Request"}
	}
	maxKeys, given, err := s3IntParam(v, "max-keys")
	if err != nil {
		return nil, err
	}
	if !given {
		maxKeys = 1000
	}

	var entries []s3Entry
	for _, key := range sortedKeys(b.Objects) {
		if !strings.HasPrefix(key, prefix) || key <= startAfter {
			continue
		}
		if delim != "" {
			if i := strings.Index(key[len(prefix):], delim); i >= 0 {
				// Keys under one common prefix are contiguous in sorted order.
				cp := key[:len(prefix)+i+len(delim)]
				if n := len(entries); n == 0 || entries[n-1].prefix != cp {
					entries = append(entries, s3Entry{prefix: cp})
				}
				continue
			}
		}
		entries = append(entries, s3Entry{obj: b.Objects[key]})
	}

	token := v.Get("continuation-token")
	next := ""
	if maxKeys == 0 {
		entries = nil
	} else if entries, next, err = page(q, entries, token, maxKeys, 1000, 1000); err != nil {
		return nil, err
	}

	enc := func(s string) string {
		if encoding != "url" {
			return s
		}
		return strings.ReplaceAll(url.QueryEscape(s), "%2F", "/")
	}
	res := struct {
		XMLName               xml.Name         `xml:"ListBucketResult"`
		Xmlns                 string           `xml:"xmlns,attr"`
		Name                  string           `xml:"Name"`
		Prefix                string           `xml:"Prefix"`
		Delimiter             string           `xml:"Delimiter,omitempty"`
		MaxKeys               int              `xml:"MaxKeys"`
		EncodingType          string           `xml:"EncodingType,omitempty"`
		KeyCount              int              `xml:"KeyCount"`
		IsTruncated           bool             `xml:"IsTruncated"`
		ContinuationToken     string           `xml:"ContinuationToken,omitempty"`
		NextContinuationToken string           `xml:"NextContinuationToken,omitempty"`
		StartAfter            string           `xml:"StartAfter,omitempty"`
		Contents              []s3Contents     `xml:"Contents"`
		CommonPrefixes        []s3CommonPrefix `xml:"CommonPrefixes"`
	}{Xmlns: s3Namespace, Name: b.Name, Prefix: enc(prefix), Delimiter: enc(delim), MaxKeys: maxKeys,
		EncodingType: encoding, KeyCount: len(entries), IsTruncated: next != "",
		ContinuationToken: token, NextContinuationToken: next, StartAfter: enc(startAfter)}
	for _, e := range entries {
		if e.obj == nil {
			res.CommonPrefixes = append(res.CommonPrefixes, s3CommonPrefix{Prefix: enc(e.prefix)})
			continue
		}
		c := s3Contents{Key: enc(e.obj.Key), LastModified: s3Time(e.obj.LastModified), ETag: e.obj.ETag,
			Size: len(e.obj.Data), StorageClass: "STANDARD"}
		if v.Get("fetch-owner") == "true" {
			c.Owner = &s3Owner{ID: CanonicalUserID(b.AccountID)}
		}
		res.Contents = append(res.Contents, c)
	}
	return s3XMLReply(res)
}

// s3GetObject serves GetObject and HeadObject: the same headers, and the bytes for GET.
func s3GetObject(q *request) (any, *apiError) {
	b, err := q.s3Bucket()
	if err != nil {
		return nil, err
	}
	_, key, _ := s3Path(q.http)
	obj := b.Objects[key]
	if obj == nil {
		if q.op == "HeadObject" {
			// S3 answers a bare 404 to HEAD; the SDK reports it as NotFound.
			return nil, &apiError{Status: 404, Code: "NotFound", Message: "Not Found"}
		}
		return nil, s3NoSuchKey()
	}
	h := q.http.Header
	if m := h.Get("If-Match"); m != "" && !s3ETagMatches(m, obj.ETag) {
		return nil, &apiError{Status: 412, Code: "PreconditionFailed", Message: "At least one of the pre-conditions you specified did not hold"}
	}
	rep := newS3Reply(http.StatusOK)
	rep.header.Set("ETag", obj.ETag)
	rep.header.Set("Last-Modified", obj.LastModified.UTC().Format(http.TimeFormat))
	if obj.VersionID != "" {
		rep.header.Set("X-Amz-Version-Id", obj.VersionID)
	}
	if m := h.Get("If-None-Match"); m != "" && s3ETagMatches(m, obj.ETag) {
		rep.status = http.StatusNotModified
		return rep, nil
	}
	contentType := obj.ContentType
	if contentType == "" {
		contentType = "binary/octet-stream"
	}
	rep.header.Set("Content-Type", contentType)
	rep.header.Set("Accept-Ranges", "bytes")
	rep.header.Set("X-Amz-Server-Side-Encryption", "AES256")
	v := q.http.URL.Query()
	for _, p := range s3ResponseOverrides {
		if val := v.Get(p); val != "" {
			rep.header.Set(strings.TrimPrefix(p, "response-"), val)
		}
	}

	data := obj.Data
	if start, end, ok, rerr := s3ParseRange(h.Get("Range"), len(data)); rerr != nil {
		return nil, rerr
	} else if ok {
		rep.status = http.StatusPartialContent
		rep.header.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, len(data)))
		data = data[start : end+1]
	} else if strings.EqualFold(h.Get("X-Amz-Checksum-Mode"), "ENABLED") {
		// The full object's checksum lets the SDK validate what it read.
		rep.header.Set("X-Amz-Checksum-Crc32", s3Checksums["x-amz-checksum-crc32"](obj.Data))
		rep.header.Set("X-Amz-Checksum-Type", "FULL_OBJECT")
	}
	rep.header.Set("Content-Length", strconv.Itoa(len(data)))
	if q.op == "GetObject" {
		rep.body = data
	}
	return rep, nil
}

func s3ETagMatches(header, etag string) bool {
	for _, v := range strings.Split(header, ",") {
		v = strings.TrimSpace(v)
		if v == "*" || v == etag || `"`+v+`"` == etag {
			return true
		}
	}
	return false
}

// s3ParseRange reads a single-range Range header (bytes=a-b, bytes=a-, bytes=-n). A header
// S3 would ignore (malformed, several ranges) gives ok=false: the whole object.
func s3ParseRange(h string, size int) (start, end int, ok bool, err *apiError) {
	spec, found := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false, nil
	}
	first, last, found := strings.Cut(spec, "-")
	if !found {
		return 0, 0, false, nil
	}
	unsatisfiable := &apiError{Status: 416, Code: "InvalidRange", Message: "The requested range is not satisfiable"}
	switch {
	case first == "":
		n, perr := strconv.Atoi(last)
		if perr != nil || n < 0 {
			return 0, 0, false, nil
		}
		if n == 0 || size == 0 {
			return 0, 0, false, unsatisfiable
		}
		start, end = max(size-n, 0), size-1
	default:
		a, perr := strconv.Atoi(first)
		if perr != nil || a < 0 {
			return 0, 0, false, nil
		}
		end = size - 1
		if last != "" {
			b, perr := strconv.Atoi(last)
			if perr != nil || b < a {
				return 0, 0, false, nil
			}
			end = min(b, size-1)
		}
		if a >= size {
			return 0, 0, false, unsatisfiable
		}
		start = a
	}
	return start, end, true, nil
}

// s3Checksums compute the values of the x-amz-checksum-* headers (base64 of the digest).
var s3Checksums = map[string]func([]byte) string{
	"x-amz-checksum-crc32":     func(b []byte) string { return s3Base64Uint32(crc32.ChecksumIEEE(b)) },
	"x-amz-checksum-crc32c":    func(b []byte) string { return s3Base64Uint32(crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))) },
	"x-amz-checksum-crc64nvme": func(b []byte) string { return s3Base64Uint64(crc64.Checksum(b, s3CRC64NVME)) },
	"x-amz-checksum-sha1":      func(b []byte) string { s := sha1.Sum(b); return base64.StdEncoding.EncodeToString(s[:]) },
	"x-amz-checksum-sha256":    func(b []byte) string { s := sha256.Sum256(b); return base64.StdEncoding.EncodeToString(s[:]) },
}

// s3CRC64NVME is CRC-64/NVME (the reflected form of polynomial 0xAD93D23594C93659).
var s3CRC64NVME = crc64.MakeTable(0x9A6C9329AC4BC9B5)

func s3Base64Uint32(v uint32) string {
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, v))
}

func s3Base64Uint64(v uint64) string {
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint64(nil, v))
}

// s3VerifyChecksum checks one x-amz-checksum-* value against the data; a checksum the
// simulator cannot compute is accepted.
func s3VerifyChecksum(name, value string, data []byte) *apiError {
	f := s3Checksums[name]
	if f == nil || f(data) == value {
		return nil
	}
	algo := strings.ToUpper(strings.TrimPrefix(name, "x-amz-checksum-"))
	return &apiError{Status: 400, Code: "BadDigest", Message: "The " + algo + " you specified did not match the calculated checksum."}
}

// s3PutObject stores the body. A body sent with aws-chunked content encoding (the
// STREAMING-* payloads of SDKs over HTTPS, or of other clients) is decoded first; chunk
// signatures are not verified, but the decoded length and every checksum sent, in a header
// or a trailer, are.
func s3PutObject(q *request) (any, *apiError) {
	b, err := q.s3Bucket()
	if err != nil {
		return nil, err
	}
	_, key, _ := s3Path(q.http)
	if len(key) > 1024 {
		return nil, &apiError{Status: 400, Code: "KeyTooLongError", Message: "Your key is too long"}
	}
	h := q.http.Header
	data := q.body
	trailers := map[string]string{}
	if strings.HasPrefix(h.Get("X-Amz-Content-Sha256"), "STREAMING-") || strings.Contains(h.Get("Content-Encoding"), "aws-chunked") {
		var derr error
		if data, trailers, derr = s3DecodeAWSChunked(q.body); derr != nil {
			return nil, &apiError{Status: 400, Code: "IncompleteBody", Message: "The request body is not valid aws-chunked encoding: " + derr.Error()}
		}
		if dl := h.Get("X-Amz-Decoded-Content-Length"); dl != "" && dl != strconv.Itoa(len(data)) {
			return nil, &apiError{Status: 400, Code: "IncompleteBody", Message: "You did not provide the number of bytes specified by the X-Amz-Decoded-Content-Length HTTP header"}
		}
	}
	if md := h.Get("Content-MD5"); md != "" {
		want, derr := base64.StdEncoding.DecodeString(md)
		if derr != nil || len(want) != md5.Size {
			return nil, &apiError{Status: 400, Code: "InvalidDigest", Message: "The Content-MD5 you specified was invalid."}
		}
		if got := md5.Sum(data); !bytes.Equal(got[:], want) {
			return nil, &apiError{Status: 400, Code: "BadDigest", Message: "The Content-MD5 you specified did not match what we received."}
		}
	}
	rep := newS3Reply(http.StatusOK)
	sent := trailers
	for name := range s3Checksums {
		if v := h.Get(name); v != "" {
			sent[name] = v
		}
	}
	for name, val := range sent {
		if err := s3VerifyChecksum(name, val, data); err != nil {
			return nil, err
		}
		rep.header.Set(name, val) // S3 echoes the checksum it verified
	}

	sum := md5.Sum(data)
	obj := &Object{Key: key, Data: bytes.Clone(data), ETag: `"` + hex.EncodeToString(sum[:]) + `"`,
		ContentType: h.Get("Content-Type"), LastModified: q.w.Now(), VersionID: q.w.s3NewVersionID(b)}
	if obj.ContentType == "" {
		obj.ContentType = "binary/octet-stream"
	}
	obj.ChecksumAlgorithm, obj.Checksum = s3StoredChecksum(sent, data)
	b.Objects[key] = obj
	if obj.VersionID != "" {
		rep.header.Set("X-Amz-Version-Id", obj.VersionID)
	}
	rep.header.Set("ETag", obj.ETag)
	rep.header.Set("X-Amz-Server-Side-Encryption", "AES256")
	return rep, nil
}

// s3DecodeAWSChunked decodes an aws-chunked body: chunks of "HEXSIZE[;chunk-signature=SIG]\r\n
// DATA\r\n", a zero-size chunk, then optional trailer lines "name:value\r\n" and "\r\n".
// It returns the data and the trailers other than the trailer signature.
func s3DecodeAWSChunked(body []byte) ([]byte, map[string]string, error) {
	r := bufio.NewReader(bytes.NewReader(body))
	var data bytes.Buffer
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, nil, fmt.Errorf("chunk header: %w", err)
		}
		sizeHex, _, _ := strings.Cut(strings.TrimRight(line, "\r\n"), ";")
		size, err := strconv.ParseInt(strings.TrimSpace(sizeHex), 16, 64)
		if err != nil || size < 0 {
			return nil, nil, fmt.Errorf("chunk size %q", sizeHex)
		}
		if size == 0 {
			break
		}
		if _, err := io.CopyN(&data, r, size); err != nil {
			return nil, nil, fmt.Errorf("chunk of %d bytes: %w", size, err)
		}
		if crlf, err := r.ReadString('\n'); err != nil || strings.TrimRight(crlf, "\r\n") != "" {
			return nil, nil, fmt.Errorf("chunk not followed by CRLF")
		}
	}
	trailers := map[string]string{}
	for {
		line, err := r.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if line != "" {
			name, val, ok := strings.Cut(line, ":")
			if !ok {
				return nil, nil, fmt.Errorf("trailer %q", line)
			}
			if name = strings.ToLower(strings.TrimSpace(name)); name != "x-amz-trailer-signature" {
				trailers[name] = strings.TrimSpace(val)
			}
		}
		if err != nil || line == "" {
			break
		}
	}
	return data.Bytes(), trailers, nil
}

func s3DeleteObject(q *request) (any, *apiError) {
	b, err := q.s3Bucket()
	if err != nil {
		return nil, err
	}
	_, key, _ := s3Path(q.http)
	delete(b.Objects, key) // deleting a missing key succeeds, as in S3
	return newS3Reply(http.StatusNoContent), nil
}
