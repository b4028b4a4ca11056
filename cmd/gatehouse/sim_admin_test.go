package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestSimPrintsMemberRoleAndAdmin checks the rest of the machine-readable line that
// scripts rely on (shared/api-conventions.md): the member role the preset's member
// accounts hold for the connector, and an administrator's key that can change what the
// read-only connector cannot, without appearing in the organization's IAM.
func TestSimPrintsMemberRoleAndAdmin(t *testing.T) {
	info := startSimCommand(t, "--preset", "demo", "--latency", "0", "--jitter", "0")
	if info.MemberRoleName != "GatehouseMember" {
		t.Errorf("member_role_name = %q, want GatehouseMember", info.MemberRoleName)
	}
	if !strings.HasPrefix(info.Admin.AccessKeyID, "AKIA") || len(info.Admin.SecretAccessKey) != 40 {
		t.Fatalf("admin credentials = %+v, want an AKIA key id and a 40-character secret", info.Admin)
	}
	ctx := context.Background()
	cfg := aws.Config{Region: info.Region, BaseEndpoint: aws.String(info.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(info.Admin.AccessKeyID, info.Admin.SecretAccessKey, "")}
	who, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "arn:aws:iam::" + info.ManagementAccountID + ":root"; aws.ToString(who.Arn) != want {
		t.Errorf("the admin key is %s, want %s", aws.ToString(who.Arn), want)
	}
	client := iam.NewFromConfig(cfg)
	before, err := client.ListUsers(ctx, &iam.ListUsersInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range before.Users {
		for _, k := range []string{info.Admin.AccessKeyID} {
			keys, err := client.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: u.UserName})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range keys.AccessKeyMetadata {
				if aws.ToString(m.AccessKeyId) == k {
					t.Errorf("the admin key belongs to IAM user %s; it must not show in the organization's IAM", aws.ToString(u.UserName))
				}
			}
		}
	}
	if _, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("made-by-admin")}); err != nil {
		t.Fatalf("the admin could not create a user: %v", err)
	}
	// The connector role is read-only for IAM users: the same write with the connector's
	// own key is refused, so the admin key is what scripts need to change AWS state.
	op := cfg
	op.Credentials = credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, "")
	if _, err := iam.NewFromConfig(op).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("made-by-operator")}); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("the operator created a user (%v); want AccessDenied", err)
	}
}
