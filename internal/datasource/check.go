package datasource

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Check statuses.
const (
	Pass = "pass"
	Fail = "fail"
	Skip = "skip"
)

// Check is one permission of a data source checked against AWS.
type Check struct {
	ID     string `json:"id"`
	Action string `json:"action"`
	Status string `json:"status"`
	Detail string `json:"detail"`
	// Fix says exactly what to change when Status is fail.
	Fix string `json:"fix,omitempty"`
}

// checkActions are the checks in order, with the IAM action each one exercises.
var checkActions = []struct{ id, action string }{
	{"credentials", "sts:GetCallerIdentity"},
	{"assume_role", "sts:AssumeRole"},
	{"get_bucket_location", "s3:GetBucketLocation"},
	{"list_bucket", "s3:ListBucket"},
	{"get_object_attributes", "s3:GetObjectAttributes"},
	{"get_object", "s3:GetObject"},
}

// Passed reports whether every check passed or was skipped for a reason other than an
// earlier failure.
func Passed(checks []Check) bool {
	for _, c := range checks {
		if c.Status == Fail {
			return false
		}
	}
	return true
}

// RunChecks checks, in order, each permission a data source needs, from the principal of
// base: who Gatehouse runs as, sts:AssumeRole with the External ID, s3:GetBucketLocation (and
// that the bucket is in the configured region), s3:ListBucket under the prefix, and
// s3:GetObjectAttributes and s3:GetObject on the first object under the prefix (GetObject
// reads one byte). A check after a failed one that it depends on is skipped.
func RunChecks(ctx context.Context, base aws.Config, t Target, sessionName string) []Check {
	out := make([]Check, len(checkActions))
	for i, c := range checkActions {
		out[i] = Check{ID: c.id, Action: c.action, Status: Skip}
	}
	at := map[string]*Check{}
	for i := range out {
		at[out[i].ID] = &out[i]
	}
	fail := func(id string, err error, principal string) {
		c := at[id]
		c.Status = Fail
		c.Detail, c.Fix = describe(id, err, t, principal)
	}
	skipRest := func(from int, why string) []Check {
		for i := from; i < len(out); i++ {
			if out[i].Status == Skip && out[i].Detail == "" {
				out[i].Detail = why
			}
		}
		return out
	}

	id, err := sts.NewFromConfig(base).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		fail("credentials", err, "")
		return skipRest(1, "skipped: Gatehouse's own AWS identity is not usable")
	}
	principal := principalOf(aws.ToString(id.Arn))
	at["credentials"].Status, at["credentials"].Detail = Pass, "Gatehouse runs as "+aws.ToString(id.Arn)

	role, err := assume(ctx, base, t, sessionName)
	if err != nil {
		fail("assume_role", err, principal)
		return skipRest(2, "skipped: the role could not be assumed")
	}
	at["assume_role"].Status, at["assume_role"].Detail = Pass, fmt.Sprintf("assumed %s with External ID %s", t.RoleARN, t.ExternalID)

	region := t.Region
	loc, err := s3Client(role, base.Region).GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(t.Bucket)})
	switch {
	case err != nil:
		fail("get_bucket_location", err, principal)
		if region == "" {
			return skipRest(3, "skipped: the bucket's region is unknown (set the data source's region, or allow s3:GetBucketLocation)")
		}
	case region != "" && bucketRegion(string(loc.LocationConstraint)) != region:
		c := at["get_bucket_location"]
		c.Status = Fail
		c.Detail = fmt.Sprintf("the bucket %s is in %s, the data source says %s", t.Bucket, bucketRegion(string(loc.LocationConstraint)), region)
		c.Fix = "set the data source's region to " + bucketRegion(string(loc.LocationConstraint)) + " (or leave it empty)"
		region = bucketRegion(string(loc.LocationConstraint))
	default:
		region = bucketRegion(string(loc.LocationConstraint))
		at["get_bucket_location"].Status, at["get_bucket_location"].Detail = Pass, "the bucket "+t.Bucket+" is in "+region
	}
	client := s3Client(role, region)

	in := &s3.ListObjectsV2Input{Bucket: aws.String(t.Bucket), MaxKeys: aws.Int32(10)}
	if t.Prefix != "" {
		in.Prefix = aws.String(t.Prefix)
	}
	list, err := client.ListObjectsV2(ctx, in)
	if err != nil {
		fail("list_bucket", err, principal)
		return skipRest(4, "skipped: no object could be listed to check it with")
	}
	var first string
	for _, o := range list.Contents {
		if k := aws.ToString(o.Key); !isFolder(k, aws.ToInt64(o.Size)) {
			first = k
			break
		}
	}
	at["list_bucket"].Status = Pass
	if first == "" {
		at["list_bucket"].Detail = fmt.Sprintf("listed s3://%s/%s: no file there yet", t.Bucket, t.Prefix)
		return skipRest(4, fmt.Sprintf("skipped: no file under s3://%s/%s to check it with; upload one and test again", t.Bucket, t.Prefix))
	}
	at["list_bucket"].Detail = fmt.Sprintf("listed s3://%s/%s (first file %s)", t.Bucket, t.Prefix, first)

	if _, err := client.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String(t.Bucket), Key: aws.String(first),
		ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesEtag, types.ObjectAttributesChecksum, types.ObjectAttributesObjectSize}}); err != nil {
		fail("get_object_attributes", err, principal)
	} else {
		at["get_object_attributes"].Status, at["get_object_attributes"].Detail = Pass, "read the attributes of "+first
	}
	obj, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(t.Bucket), Key: aws.String(first), Range: aws.String("bytes=0-0")})
	if err != nil {
		fail("get_object", err, principal)
	} else {
		_, _ = io.Copy(io.Discard, obj.Body)
		obj.Body.Close()
		at["get_object"].Status, at["get_object"].Detail = Pass, "read the first byte of "+first
	}
	return out
}

// principalOf turns a caller ARN into what a trust policy names: an assumed-role session
// (arn:aws:sts::123456789012:assumed-role/NAME/SESSION) becomes its role.
func principalOf(arn string) string {
	f := strings.SplitN(arn, ":", 6)
	if len(f) != 6 || f[2] != "sts" || !strings.HasPrefix(f[5], "assumed-role/") {
		return arn
	}
	name, _, _ := strings.Cut(strings.TrimPrefix(f[5], "assumed-role/"), "/")
	return "arn:" + f[1] + ":iam::" + f[4] + ":role/" + name
}

// isFolder reports a zero-byte key ending in "/": the console's folder marker, not a file.
func isFolder(key string, size int64) bool {
	return size == 0 && len(key) > 0 && key[len(key)-1] == '/'
}

// Test runs the checks of data source id.
func (s *Service) Test(ctx context.Context, id string) ([]Check, error) {
	src, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	base, err := s.cfg.BaseAWS(ctx)
	if err != nil {
		return []Check{{ID: "credentials", Action: "sts:GetCallerIdentity", Status: Fail,
			Detail: "the AWS configuration of the Gatehouse server could not be loaded: " + err.Error(),
			Fix:    "give the Gatehouse server AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or an instance or container role)"}}, nil
	}
	return RunChecks(ctx, base, src.target(), s.cfg.SessionName), nil
}

// Principal is the principal Gatehouse runs as, as a role's trust policy names it (an
// assumed-role session becomes its role): the one `gatehouse setup s3 --trusted-principal`
// takes. The web UI shows it in the data source's setup command.
func (s *Service) Principal(ctx context.Context) (string, error) {
	base, err := s.cfg.BaseAWS(ctx)
	if err != nil {
		return "", fmt.Errorf("the AWS configuration of the Gatehouse server could not be loaded (%v): give the server AWS credentials", err)
	}
	id, err := sts.NewFromConfig(base).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("sts:GetCallerIdentity failed (%v): give the Gatehouse server AWS credentials, or pass --trusted-principal with the ARN of the role it runs as", err)
	}
	return principalOf(aws.ToString(id.Arn)), nil
}
