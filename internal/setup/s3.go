package setup

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/gatehouse/gatehouse/internal/awsperms"
)

// `gatehouse setup s3`: the role a customer creates so that Gatehouse can read access files
// from one bucket (an S3 data source). The role trusts the principal Gatehouse runs as, with
// the data source's External ID, and allows exactly what a data source's sync and test call:
// s3:GetBucketLocation on the bucket, s3:ListBucket on the bucket under the prefix only
// (condition s3:prefix), and s3:GetObject and s3:GetObjectAttributes on the objects under the
// prefix. internal/datasource checks each of these with the same names (Test).

// DefaultS3RoleName is the data source role's name.
const DefaultS3RoleName = "GatehouseS3Reader"

// S3PolicyName is the name of the data source role's inline policy.
const S3PolicyName = "GatehouseS3Read"

// The actions of the data source role, as internal/datasource's checks name them.
const (
	S3ActionGetBucketLocation   = "s3:GetBucketLocation"
	S3ActionListBucket          = "s3:ListBucket"
	S3ActionGetObject           = "s3:GetObject"
	S3ActionGetObjectAttributes = "s3:GetObjectAttributes"
)

// S3Options say what `gatehouse setup s3` generates.
type S3Options struct {
	// Bucket is the bucket's name; Prefix, when set, limits the role to keys under it.
	Bucket, Prefix string
	// ExternalID is the data source's External ID (Gatehouse generated it once when the
	// data source was added; it never changes).
	ExternalID string
	// TrustedPrincipal is the IAM user or role Gatehouse runs as.
	TrustedPrincipal string
	// RoleName is the role's name (DefaultS3RoleName when empty); AccountID, when set,
	// is the account the role is created in (for the printed role ARN).
	RoleName, AccountID string
}

// S3Bundle is the generated role: its trust policy and its permissions policy.
type S3Bundle struct {
	S3Options
	Partition   string
	Trust       awsperms.Policy
	Permissions awsperms.Policy
}

// bucketNamePattern is S3's rule for (general purpose) bucket names.
var bucketNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// ValidateS3 checks the options; its errors name the flags of `gatehouse setup s3`.
func (o *S3Options) ValidateS3() error {
	if o.Bucket == "" {
		return fmt.Errorf("--bucket is required: the name of the bucket the access files are in")
	}
	if !bucketNamePattern.MatchString(o.Bucket) || strings.Contains(o.Bucket, "..") {
		return fmt.Errorf("--bucket %q is not an S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens; pass the name, not an s3:// URL or ARN)", o.Bucket)
	}
	if strings.HasPrefix(o.Prefix, "/") {
		return fmt.Errorf("--prefix %q starts with \"/\": S3 keys have no leading slash; pass it as the keys start (for example exports/)", o.Prefix)
	}
	if strings.ContainsAny(o.Prefix, "*?") {
		return fmt.Errorf("--prefix %q contains a wildcard: pass the literal start of the keys (for example exports/)", o.Prefix)
	}
	if o.ExternalID == "" {
		return fmt.Errorf("--external-id is required: the External ID Gatehouse showed when the data source was added (GET /api/v1/datasources/{id} shows it; it never changes)")
	}
	if !externalIDPattern.MatchString(o.ExternalID) || len(o.ExternalID) < 2 || len(o.ExternalID) > 1224 {
		return fmt.Errorf("--external-id %q is not a valid External ID (2 to 1224 characters of letters, digits and +=,.@:/-)", o.ExternalID)
	}
	if o.RoleName == "" {
		o.RoleName = DefaultS3RoleName
	}
	if !roleNamePattern.MatchString(o.RoleName) {
		return fmt.Errorf("--role-name %q is not a valid IAM role name (1 to 64 letters, digits and +=,.@_-)", o.RoleName)
	}
	if o.AccountID != "" && !accountIDPattern.MatchString(o.AccountID) {
		return fmt.Errorf("--account-id %q is not a 12-digit AWS account id", o.AccountID)
	}
	return nil
}

// GenerateS3 returns the data source role's policies.
func GenerateS3(o S3Options) (*S3Bundle, error) {
	if err := o.ValidateS3(); err != nil {
		return nil, err
	}
	if o.TrustedPrincipal == "" {
		return nil, fmt.Errorf("--trusted-principal is required: the ARN of the IAM user or role Gatehouse runs as")
	}
	principal, _, err := NormalizePrincipal(o.TrustedPrincipal)
	if err != nil {
		return nil, err
	}
	o.TrustedPrincipal = principal
	partition := strings.SplitN(principal, ":", 3)[1]
	if o.AccountID == "" {
		o.AccountID = strings.SplitN(principal, ":", 6)[4]
	}
	b := &S3Bundle{S3Options: o, Partition: partition}
	b.Trust = awsperms.Policy{Version: "2012-10-17", Statement: []awsperms.Statement{{
		Sid: "TrustGatehouse", Effect: "Allow",
		Principal: map[string]any{"AWS": principal},
		Action:    awsperms.Strings{"sts:AssumeRole"},
		Condition: awsperms.Conditions{"StringEquals": {"sts:ExternalId": {o.ExternalID}}},
	}}}
	bucketARN := "arn:" + partition + ":s3:::" + o.Bucket
	list := awsperms.Statement{Sid: "ListFiles", Effect: "Allow", Action: awsperms.Strings{S3ActionListBucket},
		Resource: awsperms.Strings{bucketARN}}
	if o.Prefix != "" {
		// ListObjectsV2 under the prefix only: Gatehouse always lists with Prefix set to it.
		list.Condition = awsperms.Conditions{"StringLike": {"s3:prefix": {o.Prefix + "*"}}}
	}
	b.Permissions = awsperms.Policy{Version: "2012-10-17", Statement: []awsperms.Statement{
		{Sid: "LocateBucket", Effect: "Allow", Action: awsperms.Strings{S3ActionGetBucketLocation}, Resource: awsperms.Strings{bucketARN}},
		list,
		{Sid: "ReadFiles", Effect: "Allow", Action: awsperms.Strings{S3ActionGetObject, S3ActionGetObjectAttributes},
			Resource: awsperms.Strings{bucketARN + "/" + o.Prefix + "*"}},
	}}
	return b, nil
}

// RoleARN is the ARN the role will have.
func (b *S3Bundle) RoleARN() string {
	return "arn:" + b.Partition + ":iam::" + b.AccountID + ":role/" + b.RoleName
}

// S3Document is the JSON output of `gatehouse setup s3 --format json`: trust_policy and
// permissions_policy are the documents as IAM takes them (aws iam create-role
// --assume-role-policy-document, aws iam put-role-policy --policy-document).
type S3Document struct {
	RoleName          string          `json:"role_name"`
	RoleARN           string          `json:"role_arn"`
	ExternalID        string          `json:"external_id"`
	Bucket            string          `json:"bucket"`
	Prefix            string          `json:"prefix"`
	TrustPolicy       awsperms.Policy `json:"trust_policy"`
	PermissionsPolicy awsperms.Policy `json:"permissions_policy"`
	PolicyName        string          `json:"policy_name"`
}

// JSONDocument returns the S3Document, indented, with a final newline.
func (b *S3Bundle) JSONDocument() []byte {
	out, err := json.MarshalIndent(S3Document{RoleName: b.RoleName, RoleARN: b.RoleARN(), ExternalID: b.ExternalID,
		Bucket: b.Bucket, Prefix: b.Prefix, TrustPolicy: b.Trust, PermissionsPolicy: b.Permissions, PolicyName: S3PolicyName}, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("setup: marshal S3 document: %v", err))
	}
	return append(out, '\n')
}

func (b *S3Bundle) where() string {
	if b.Prefix == "" {
		return "s3://" + b.Bucket
	}
	return "s3://" + b.Bucket + "/" + b.Prefix
}

// Terraform returns a Terraform configuration that creates the role and its inline policy.
func (b *S3Bundle) Terraform() []byte {
	var t strings.Builder
	t.WriteString("# Gatehouse S3 data source role " + b.RoleName + ", generated by gatehouse setup s3.\n")
	t.WriteString("# Reads " + b.where() + " only. Apply with credentials for account " + b.AccountID + ".\n")
	t.WriteString(`
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0"
    }
  }
}

resource "aws_iam_role" "gatehouse_s3" {
`)
	fmt.Fprintf(&t, "  name                 = %s\n", hclString(b.RoleName))
	fmt.Fprintf(&t, "  description          = %s\n", hclString("Gatehouse reads access files from "+b.where()))
	t.WriteString("  max_session_duration = 3600\n")
	t.WriteString("  assume_role_policy   = ")
	heredoc(&t, "  ", string(b.Trust.JSON()))
	t.WriteString("}\n\nresource \"aws_iam_role_policy\" \"gatehouse_s3\" {\n")
	fmt.Fprintf(&t, "  name   = %s\n", hclString(S3PolicyName))
	t.WriteString("  role   = aws_iam_role.gatehouse_s3.id\n")
	t.WriteString("  policy = ")
	heredoc(&t, "  ", string(b.Permissions.JSON()))
	t.WriteString("}\n\noutput \"role_arn\" {\n")
	t.WriteString("  description = \"The data source's role_arn in Gatehouse\"\n")
	t.WriteString("  value       = aws_iam_role.gatehouse_s3.arn\n}\n")
	return []byte(t.String())
}

// CloudFormation returns a CloudFormation template that creates the role and its policy.
func (b *S3Bundle) CloudFormation() []byte {
	return marshalYAML(cfnTemplate{
		AWSTemplateFormatVersion: "2010-09-09",
		Description:              "Gatehouse S3 data source role " + b.RoleName + ", generated by gatehouse setup s3. Reads " + b.where() + " only.",
		Resources: map[string]cfnResource{
			"DataSourceRole": {Type: "AWS::IAM::Role", Properties: cfnRoleProperties{
				RoleName:                 b.RoleName,
				Path:                     "/",
				Description:              "Gatehouse reads access files from " + b.where(),
				MaxSessionDuration:       3600,
				AssumeRolePolicyDocument: b.Trust,
				Policies:                 []cfnPolicy{{PolicyName: S3PolicyName, PolicyDocument: b.Permissions}},
			}},
		},
		Outputs: map[string]cfnOutput{
			"RoleArn": {Description: "The data source's role_arn in Gatehouse", Value: getAtt("DataSourceRole", "Arn")},
		},
	})
}
