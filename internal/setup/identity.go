package setup

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
)

// Caller is the identity of the credentials at hand, as a principal a trust policy can
// name.
type Caller struct {
	// PrincipalARN is the IAM user or role (not the STS session).
	PrincipalARN string
	// AccountID is the caller's account.
	AccountID string
	// Note says what was changed to get there, when anything was.
	Note string
}

// CurrentCaller asks STS who the credentials of cfg belong to. A role session becomes
// its role; IAM is asked for the role's full ARN, since a role with a path must be named
// with it, and when that is not allowed the note says so.
func CurrentCaller(ctx context.Context, cfg awsfetch.Config) (Caller, error) {
	sess, err := awsfetch.Connect(ctx, cfg)
	if err != nil {
		return Caller{}, err
	}
	defer sess.Close()
	arn, note, err := NormalizePrincipal(sess.CallerARN())
	if err != nil {
		return Caller{}, fmt.Errorf("your identity %s cannot be named in a trust policy; pass --trusted-principal", sess.CallerARN())
	}
	c := Caller{PrincipalARN: arn, AccountID: sess.CallerAccountID(), Note: note}
	if strings.Contains(sess.CallerARN(), ":assumed-role/") {
		name := arn[strings.LastIndex(arn, "/")+1:]
		out, err := iam.NewFromConfig(sess.Connector()).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
		if err == nil && out.Role != nil && aws.ToString(out.Role.Arn) != "" {
			c.PrincipalARN = aws.ToString(out.Role.Arn)
			c.Note = "your role session " + sess.CallerARN() + " was turned into its role"
		}
	}
	return c, nil
}

// CurrentOrganization asks AWS Organizations for the id of the organization the
// credentials of cfg belong to (organizations:DescribeOrganization, which any account of
// the organization may call).
func CurrentOrganization(ctx context.Context, cfg awsfetch.Config) (string, error) {
	sess, err := awsfetch.Connect(ctx, cfg)
	if err != nil {
		return "", err
	}
	defer sess.Close()
	out, err := organizations.NewFromConfig(sess.Connector()).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		return "", err
	}
	if out.Organization == nil || aws.ToString(out.Organization.Id) == "" {
		return "", fmt.Errorf("DescribeOrganization returned no organization id")
	}
	return aws.ToString(out.Organization.Id), nil
}
