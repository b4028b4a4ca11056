package awssim

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// The S3 operations a data source needs besides listing and reading: GetBucketLocation,
// GetObjectAttributes, bucket versioning (PutBucketVersioning, GetBucketVersioning, version
// ids on PutObject, GetObject and HeadObject), and the s3:prefix condition key of
// ListBucket. What AWS documents and the simulator follows:
//   - GetBucketLocation answers <LocationConstraint> with the bucket's region, and an empty
//     one for us-east-1 ("Buckets in Region us-east-1 have a LocationConstraint of null").
//   - GetObjectAttributes (GET /bucket/key?attributes, the attributes named in the
//     x-amz-object-attributes header) answers ETag WITHOUT the quotes that ListObjectsV2,
//     GetObject and HeadObject put around it, Checksum, ObjectSize and StorageClass; the
//     version id and Last-Modified travel in headers.
//   - every object has a full-object checksum: the one its upload sent, or the CRC64NVME
//     that S3 computes for uploads that send none (S3's default integrity protection).
//   - in a bucket whose versioning is Enabled each PutObject makes a new version id; while
//     Suspended the version id is "null"; before versioning was ever enabled there is none.
//     Only the current version is kept (no ListObjectVersions, no reads of older versions,
//     DeleteObject removes the key without a delete marker): see docs/simulator.md.

// serviceContext returns the condition keys a call adds to its request context beyond the
// ones every call has (World.requestContext).
func (q *request) serviceContext() map[string][]string {
	if q.service != "s3" || q.op != "ListObjectsV2" {
		return nil
	}
	v := q.http.URL.Query()
	if !v.Has("prefix") {
		return nil
	}
	// s3:prefix is the prefix the request lists under, for policies that limit a
	// principal to part of a bucket ("StringLike": {"s3:prefix": "exports/*"}).
	return map[string][]string{"s3:prefix": {v.Get("prefix")}}
}

// s3GetBucketLocation answers the bucket's region as a location constraint.
func s3GetBucketLocation(q *request) (any, *apiError) {
	b, err := q.s3Bucket()
	if err != nil {
		return nil, err
	}
	constraint := b.Region
	if constraint == "us-east-1" {
		constraint = ""
	}
	return s3XMLReply(struct {
		XMLName xml.Name `xml:"LocationConstraint"`
		Xmlns   string   `xml:"xmlns,attr"`
		Value   string   `xml:",chardata"`
	}{Xmlns: s3Namespace, Value: constraint})
}

type s3VersioningConfiguration struct {
	XMLName xml.Name `xml:"VersioningConfiguration"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	Status  string   `xml:"Status,omitempty"`
}

func s3GetBucketVersioning(q *request) (any, *apiError) {
	b, err := q.s3Bucket()
	if err != nil {
		return nil, err
	}
	return s3XMLReply(s3VersioningConfiguration{Xmlns: s3Namespace, Status: b.Versioning})
}

func s3PutBucketVersioning(q *request) (any, *apiError) {
	b, err := q.s3Bucket()
	if err != nil {
		return nil, err
	}
	var cfg s3VersioningConfiguration
	if xerr := xml.Unmarshal(bytes.TrimSpace(q.body), &cfg); xerr != nil {
		return nil, &apiError{Status: 400, Code: "MalformedXML", Message: "The XML you provided was not well-formed or did not validate against our published schema"}
	}
	switch cfg.Status {
	case "Enabled", "Suspended":
		b.Versioning = cfg.Status
	default:
		return nil, &apiError{Status: 400, Code: "IllegalVersioningConfigurationException",
			Message: "The Versioning element must be specified"}
	}
	return newS3Reply(http.StatusOK), nil
}

// s3NewVersionID is the version id a new object gets in the bucket (see the file comment).
func (w *World) s3NewVersionID(b *Bucket) string {
	switch b.Versioning {
	case "Enabled":
		// S3's version ids are opaque URL-safe strings of 32 characters.
		return strings.ToUpper(w.hexID(8)) + w.hexID(24)
	case "Suspended":
		return "null"
	}
	return ""
}

// s3ChecksumAlgorithms name the x-amz-checksum-* headers as S3's ChecksumAlgorithm values.
var s3ChecksumAlgorithms = map[string]string{
	"x-amz-checksum-crc32": "CRC32", "x-amz-checksum-crc32c": "CRC32C", "x-amz-checksum-crc64nvme": "CRC64NVME",
	"x-amz-checksum-sha1": "SHA1", "x-amz-checksum-sha256": "SHA256",
}

// s3StoredChecksum picks the checksum S3 keeps for an upload: the one sent (verified before),
// else a CRC64NVME of the data.
func s3StoredChecksum(sent map[string]string, data []byte) (algorithm, value string) {
	names := make([]string, 0, len(sent))
	for name := range sent {
		if s3ChecksumAlgorithms[name] != "" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if len(names) > 0 {
		return s3ChecksumAlgorithms[names[0]], sent[names[0]]
	}
	return "CRC64NVME", s3Checksums["x-amz-checksum-crc64nvme"](data)
}

// s3ObjectAttributeNames are the values x-amz-object-attributes accepts.
var s3ObjectAttributeNames = map[string]bool{"ETag": true, "Checksum": true, "ObjectParts": true, "StorageClass": true, "ObjectSize": true}

type s3AttributesChecksum struct {
	ChecksumCRC32     string `xml:"ChecksumCRC32,omitempty"`
	ChecksumCRC32C    string `xml:"ChecksumCRC32C,omitempty"`
	ChecksumCRC64NVME string `xml:"ChecksumCRC64NVME,omitempty"`
	ChecksumSHA1      string `xml:"ChecksumSHA1,omitempty"`
	ChecksumSHA256    string `xml:"ChecksumSHA256,omitempty"`
	ChecksumType      string `xml:"ChecksumType,omitempty"`
}

// s3GetObjectAttributes answers the attributes the x-amz-object-attributes header asks for.
func s3GetObjectAttributes(q *request) (any, *apiError) {
	b, err := q.s3Bucket()
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, h := range q.http.Header.Values("X-Amz-Object-Attributes") {
		for _, name := range strings.Split(h, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			if !s3ObjectAttributeNames[name] {
				return nil, &apiError{Status: 400, Code: "InvalidArgument", Message: "Invalid attribute name specified."}
			}
			want[name] = true
		}
	}
	if len(want) == 0 {
		return nil, &apiError{Status: 400, Code: "InvalidRequest", Message: "The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty"}
	}
	_, key, _ := s3Path(q.http)
	obj := b.Objects[key]
	if obj == nil {
		return nil, s3NoSuchKey()
	}
	res := struct {
		XMLName      xml.Name              `xml:"GetObjectAttributesResponse"`
		Xmlns        string                `xml:"xmlns,attr"`
		ETag         string                `xml:"ETag,omitempty"`
		Checksum     *s3AttributesChecksum `xml:"Checksum,omitempty"`
		StorageClass string                `xml:"StorageClass,omitempty"`
		ObjectSize   *int                  `xml:"ObjectSize,omitempty"`
	}{Xmlns: s3Namespace}
	if want["ETag"] {
		res.ETag = strings.Trim(obj.ETag, `"`)
	}
	if want["Checksum"] && obj.Checksum != "" {
		c := &s3AttributesChecksum{ChecksumType: "FULL_OBJECT"}
		switch obj.ChecksumAlgorithm {
		case "CRC32":
			c.ChecksumCRC32 = obj.Checksum
		case "CRC32C":
			c.ChecksumCRC32C = obj.Checksum
		case "CRC64NVME":
			c.ChecksumCRC64NVME = obj.Checksum
		case "SHA1":
			c.ChecksumSHA1 = obj.Checksum
		case "SHA256":
			c.ChecksumSHA256 = obj.Checksum
		}
		res.Checksum = c
	}
	if want["ObjectSize"] {
		n := len(obj.Data)
		res.ObjectSize = &n
	}
	if want["StorageClass"] {
		res.StorageClass = "STANDARD" // every simulated object
	}
	// ObjectParts only describes multipart uploads, which the simulator does not take.
	rep, err := s3XMLReply(res)
	if err != nil {
		return nil, err
	}
	rep.header.Set("Last-Modified", obj.LastModified.UTC().Format(http.TimeFormat))
	if obj.VersionID != "" {
		rep.header.Set("X-Amz-Version-Id", obj.VersionID)
	}
	rep.header.Set("Content-Length", strconv.Itoa(len(rep.body)))
	return rep, nil
}
