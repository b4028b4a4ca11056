package datasource

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// Target is what a sync or a check reads: the settings of a data source that AWS sees.
type Target struct {
	RoleARN, ExternalID, Bucket, Prefix, Region string
}

func (s *Source) target() Target {
	return Target{RoleARN: s.RoleARN, ExternalID: s.ExternalID, Bucket: s.Bucket, Prefix: s.Prefix, Region: s.Region}
}

// session is the role of a data source, assumed with its External ID, and the S3 client
// for its bucket.
type session struct {
	role   aws.Config
	s3     *s3.Client
	region string
}

// assume returns the role's configuration (credentials retrieved once, so that a refused
// AssumeRole is reported here).
func assume(ctx context.Context, base aws.Config, t Target, sessionName string) (aws.Config, error) {
	provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), t.RoleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = sessionName
		o.ExternalID = aws.String(t.ExternalID)
	})
	cfg := base.Copy()
	cfg.Credentials = aws.NewCredentialsCache(provider)
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return aws.Config{}, err
	}
	return cfg, nil
}

// s3Client is an S3 client in region. A custom endpoint (the simulator, an S3-compatible
// store) is addressed path-style, which the simulator requires.
func s3Client(cfg aws.Config, region string) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.Region = region
		if cfg.BaseEndpoint != nil {
			o.UsePathStyle = true
		}
	})
}

// bucketRegion turns a LocationConstraint into a region: empty is us-east-1 (AWS answers
// null there) and the legacy "EU" is eu-west-1.
func bucketRegion(constraint string) string {
	switch constraint {
	case "":
		return "us-east-1"
	case "EU":
		return "eu-west-1"
	}
	return constraint
}

// open assumes the role and finds the bucket's region (the configured one, or S3's answer).
func open(ctx context.Context, base aws.Config, t Target, sessionName string) (*session, error) {
	role, err := assume(ctx, base, t, sessionName)
	if err != nil {
		return nil, &stepError{step: "assume_role", err: err}
	}
	region := t.Region
	if region == "" {
		out, err := s3Client(role, base.Region).GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(t.Bucket)})
		if err != nil {
			return nil, &stepError{step: "get_bucket_location", err: err}
		}
		region = bucketRegion(string(out.LocationConstraint))
	}
	return &session{role: role, s3: s3Client(role, region), region: region}, nil
}

// stepError is an AWS call that failed, with the check it belongs to.
type stepError struct {
	step string
	key  string
	err  error
}

func (e *stepError) Error() string { return e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }

// errorCode is the AWS error code of err, or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func errorMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if m := ae.ErrorMessage(); m != "" {
			return ae.ErrorCode() + ": " + m
		}
		return ae.ErrorCode()
	}
	return err.Error()
}

// throttled reports an error that is AWS asking to slow down.
func throttled(err error) bool {
	return retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool()
}

func denied(err error) bool {
	switch errorCode(err) {
	case "AccessDenied", "AccessDeniedException", "Forbidden", "403":
		return true
	}
	var re interface{ HTTPStatusCode() int }
	return errors.As(err, &re) && re.HTTPStatusCode() == 403
}

// setupCommand is the gatehouse setup s3 command that prints the role's policies.
func setupCommand(t Target, principal string) string {
	cmd := "gatehouse setup s3 --bucket " + t.Bucket
	if t.Prefix != "" {
		cmd += " --prefix " + shellWord(t.Prefix)
	}
	cmd += " --external-id " + t.ExternalID
	if principal != "" {
		cmd += " --trusted-principal " + principal
	}
	return cmd
}

func shellWord(s string) string {
	if strings.ContainsAny(s, " '\"$`\\;&|<>*?()") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}

// describe says what an AWS error of one step means and what to do about it.
func describe(step string, err error, t Target, principal string) (detail, fix string) {
	msg := errorMessage(err)
	setup := setupCommand(t, principal)
	roleName := t.RoleARN[strings.LastIndex(t.RoleARN, "/")+1:]
	if throttled(err) {
		return "AWS throttled the call (" + msg + ") after the SDK's retries", "nothing to change: the next sync reads again; if it persists, lower the request rate on the bucket or schedule the source less often"
	}
	switch step {
	case "credentials":
		return "the identity Gatehouse runs as could not be found: " + msg,
			"give the Gatehouse server AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or an instance or container role)"
	case "assume_role":
		who := principal
		if who == "" {
			who = "the identity Gatehouse runs as"
		}
		return fmt.Sprintf("sts:AssumeRole on %s with External ID %s was refused: %s", t.RoleARN, t.ExternalID, msg),
			fmt.Sprintf("the role's trust policy must allow %s to assume it with the condition sts:ExternalId = %q (this data source's External ID, which never changes); print it with: %s --format json, then: aws iam update-assume-role-policy --role-name %s --policy-document \"$(jq .trust_policy ...)\"; also check that %s may call sts:AssumeRole on the role",
				who, t.ExternalID, setup, roleName, who)
	}
	bucketARN := "arn:aws:s3:::" + t.Bucket
	code := errorCode(err)
	if code == "NoSuchBucket" {
		return "the bucket " + t.Bucket + " does not exist (" + msg + ")", "check the data source's bucket name: it is the bucket's name, not a URL or ARN"
	}
	if code == "PermanentRedirect" || code == "AuthorizationHeaderMalformed" || code == "IllegalLocationConstraintException" {
		return "the bucket is not in region " + t.Region + " (" + msg + ")", "set the data source's region to the bucket's region, or leave it empty so that Gatehouse asks S3 (needs s3:GetBucketLocation)"
	}
	if code == "PreconditionFailed" {
		return "the file changed while it was being read (" + msg + ")", "nothing to change: the next sync reads the new version"
	}
	if !denied(err) {
		return msg, "check that the bucket is reachable from the Gatehouse server; the next sync tries again"
	}
	switch step {
	case "get_bucket_location":
		return "s3:GetBucketLocation on " + bucketARN + " was denied: " + msg,
			"allow s3:GetBucketLocation on " + bucketARN + " in the role's permissions policy (statement LocateBucket of: " + setup + "), or set the data source's region"
	case "list_bucket":
		cond := ""
		if t.Prefix != "" {
			cond = " with the condition StringLike s3:prefix = \"" + t.Prefix + "*\""
		}
		return "s3:ListBucket on " + bucketARN + " (prefix " + fmt.Sprintf("%q", t.Prefix) + ") was denied: " + msg,
			"allow s3:ListBucket on " + bucketARN + cond + " in the role's permissions policy (statement ListFiles of: " + setup + ")"
	case "get_object_attributes":
		return "s3:GetObjectAttributes on " + bucketARN + "/" + t.Prefix + "* was denied: " + msg,
			"allow s3:GetObjectAttributes on " + bucketARN + "/" + t.Prefix + "* in the role's permissions policy (statement ReadFiles of: " + setup + ")"
	case "get_object":
		return "s3:GetObject on " + bucketARN + "/" + t.Prefix + "* was denied: " + msg,
			"allow s3:GetObject on " + bucketARN + "/" + t.Prefix + "* in the role's permissions policy (statement ReadFiles of: " + setup + "); objects encrypted with a customer managed KMS key also need kms:Decrypt on that key"
	}
	return msg, ""
}
