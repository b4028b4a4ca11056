package awssim

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestGetCallerIdentityAndAssumeRole(t *testing.T) {
	w := testWorld(t)
	_, cfg := startSim(t, w, Options{})
	c := sts.NewFromConfig(cfg)
	id, err := c.GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(id.Arn), "arn:aws:iam::111111111111:user/gatehouse-operator"; got != want {
		t.Errorf("caller ARN = %s, want %s", got, want)
	}

	roleARN := "arn:aws:iam::111111111111:role/GatehouseConnector"
	_, err = c.AssumeRole(ctx(t), &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("test"), ExternalId: aws.String("wrong")})
	if apiCode(err) != "AccessDenied" {
		t.Fatalf("AssumeRole with wrong external id: err = %v, want AccessDenied", err)
	}
	_, err = c.AssumeRole(ctx(t), &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("test")})
	if apiCode(err) != "AccessDenied" {
		t.Fatalf("AssumeRole without external id: err = %v, want AccessDenied", err)
	}

	assumed := cfg.Copy()
	assumed.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(c, roleARN, func(o *stscreds.AssumeRoleOptions) {
		o.ExternalID = aws.String("ext-123")
		o.RoleSessionName = "gatehouse"
	}))
	id, err = sts.NewFromConfig(assumed).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(id.Arn), "arn:aws:sts::111111111111:assumed-role/GatehouseConnector/gatehouse"; got != want {
		t.Errorf("assumed caller ARN = %s, want %s", got, want)
	}
	users, err := iam.NewFromConfig(assumed).ListUsers(ctx(t), &iam.ListUsersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(users.Users) != 1 || aws.ToString(users.Users[0].UserName) != "gatehouse-operator" {
		t.Errorf("ListUsers = %+v", users.Users)
	}
	// The operator itself may assume the role but not list users.
	_, err = iam.NewFromConfig(cfg).ListUsers(ctx(t), &iam.ListUsersInput{})
	if apiCode(err) != "AccessDenied" {
		t.Fatalf("operator ListUsers: err = %v, want AccessDenied", err)
	}
}

// A world whose clock is far from the wall clock (a fixture dated 2026-01-01) still hands
// out credentials that clients consider valid for the session's duration.
func TestAssumeRoleExpirationIsOnTheWallClock(t *testing.T) {
	long := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	w := NewWorld("111111111111", "us-east-1", func() time.Time { return long })
	w.AddConnectorAccess("ext", "")
	_, cfg := startSim(t, w, Options{})
	out, err := sts.NewFromConfig(cfg).AssumeRole(ctx(t), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::111111111111:role/GatehouseConnector"), RoleSessionName: aws.String("gh"), ExternalId: aws.String("ext")})
	if err != nil {
		t.Fatal(err)
	}
	left := time.Until(aws.ToTime(out.Credentials.Expiration))
	if left < 59*time.Minute || left > 61*time.Minute {
		t.Errorf("credentials expire in %s, want about 1h from now", left)
	}
}
