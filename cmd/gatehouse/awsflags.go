package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/awsperms"
)

// awsFlags are the flags that say how to reach AWS and what to read. sync, connector and
// (later) doctor share them; grant and revoke share the connection flags.
type awsFlags struct {
	profile              string
	region               string
	endpointURL          string
	roleARN              string
	externalID           string
	orgs                 bool
	memberRoleName       string
	memberExternalID     string
	identityCenter       bool
	identityCenterRegion string
	syncSecrets          bool
	scimEndpoint         string
	scimToken            string
	concurrency          int
	// scimTokenFromEnv reads the SCIM token from GATEHOUSE_SCIM_TOKEN when --scim-token
	// is not given: gatehouse's own commands do; the connector takes BATON_SCIM_TOKEN,
	// as baton-sdk names the variable of every connector flag, and nothing else.
	scimTokenFromEnv bool
}

func (f *awsFlags) register(fl *pflag.FlagSet) {
	f.scimTokenFromEnv = true
	fl.StringVar(&f.profile, "profile", "", "AWS shared configuration profile to use, as the AWS CLI's --profile (default: AWS_PROFILE, then the default profile)")
	fl.StringVar(&f.region, "region", "", "AWS region for STS and Organizations (default: AWS_REGION, the profile, then us-east-1)")
	fl.StringVar(&f.endpointURL, "endpoint-url", "", "send every AWS call to this endpoint instead of AWS (for example the URL gatehouse sim prints); AWS_ENDPOINT_URL works too")
	fl.StringVar(&f.roleARN, "role-arn", "", "role to assume from the standard AWS credential chain before reading anything")
	fl.StringVar(&f.externalID, "external-id", "", "External ID to pass when assuming --role-arn")
	fl.BoolVar(&f.orgs, "orgs", false, "read every account of the organization (the role must be in the management account or a delegated administrator)")
	fl.StringVar(&f.memberRoleName, "member-role-name", awsfetch.DefaultMemberRoleName, "role assumed in each member account with --orgs: the read-only role gatehouse setup aws --orgs creates ("+awsperms.OrganizationAccessRole+" works but has administrator access, and warns)")
	fl.StringVar(&f.memberExternalID, "member-external-id", "", "External ID to pass when assuming the member-account role")
	fl.BoolVar(&f.identityCenter, "identity-center", false, "read IAM Identity Center: users, groups, permission sets, account assignments")
	fl.StringVar(&f.identityCenterRegion, "identity-center-region", "", "region of the Identity Center instance (default: --region)")
	fl.BoolVar(&f.syncSecrets, "sync-secrets", false, "also read access key metadata (ids, status, last use); secret values are never read")
	fl.StringVar(&f.scimEndpoint, "scim-endpoint", "", "Identity Center SCIM endpoint, to read each user's active status")
	fl.StringVar(&f.scimToken, "scim-token", "", "bearer token for --scim-endpoint (or set GATEHOUSE_SCIM_TOKEN, which keeps it out of the process list)")
	fl.IntVar(&f.concurrency, "concurrency", awsfetch.DefaultConcurrency, "accounts read in parallel")
}

// scimTokenEnv is the environment variable gatehouse's commands read the SCIM token
// from, which keeps it out of the process list.
const scimTokenEnv = "GATEHOUSE_SCIM_TOKEN"

// config validates the flags and turns them into a fetch configuration.
func (f *awsFlags) config() (awsfetch.Config, error) {
	if f.scimToken == "" && f.scimTokenFromEnv {
		f.scimToken = os.Getenv(scimTokenEnv)
	}
	switch {
	case f.externalID != "" && f.roleARN == "":
		return awsfetch.Config{}, fmt.Errorf("--external-id is passed when assuming --role-arn; set --role-arn too")
	case f.roleARN != "" && !strings.HasPrefix(f.roleARN, "arn:aws"):
		return awsfetch.Config{}, fmt.Errorf("--role-arn must be a role ARN like arn:aws:iam::123456789012:role/GatehouseConnector, got %q", f.roleARN)
	case (f.scimEndpoint == "") != (f.scimToken == ""):
		return awsfetch.Config{}, fmt.Errorf("--scim-endpoint and --scim-token (or GATEHOUSE_SCIM_TOKEN) go together; set both or neither")
	case f.scimEndpoint != "" && !f.identityCenter:
		return awsfetch.Config{}, fmt.Errorf("--scim-endpoint reads Identity Center user status; add --identity-center")
	case f.identityCenterRegion != "" && !f.identityCenter:
		return awsfetch.Config{}, fmt.Errorf("--identity-center-region has no effect without --identity-center; add --identity-center")
	case f.memberExternalID != "" && !f.orgs:
		return awsfetch.Config{}, fmt.Errorf("--member-external-id is used when assuming roles in member accounts; add --orgs")
	case f.concurrency < 1:
		return awsfetch.Config{}, fmt.Errorf("--concurrency must be at least 1, got %d", f.concurrency)
	}
	if f.orgs {
		warnMemberRole(f.memberRoleName)
	}
	return awsfetch.Config{
		Profile:              f.profile,
		Region:               f.region,
		EndpointURL:          f.endpointURL,
		RoleARN:              f.roleARN,
		ExternalID:           f.externalID,
		Orgs:                 f.orgs,
		MemberRoleName:       f.memberRoleName,
		MemberExternalID:     f.memberExternalID,
		IdentityCenter:       f.identityCenter,
		IdentityCenterRegion: f.identityCenterRegion,
		SyncSecrets:          f.syncSecrets,
		SCIMEndpoint:         f.scimEndpoint,
		SCIMToken:            f.scimToken,
		Concurrency:          f.concurrency,
	}, nil
}

// registerConnection registers only the flags that say how to reach AWS (the same names
// and meanings as sync's), for commands that act on one thing rather than read it all.
func (f *awsFlags) registerConnection(fl *pflag.FlagSet) {
	fl.StringVar(&f.profile, "profile", "", "AWS shared configuration profile to use, as the AWS CLI's --profile (default: AWS_PROFILE, then the default profile)")
	fl.StringVar(&f.region, "region", "", "AWS region for STS and Organizations (default: AWS_REGION, the profile, then us-east-1)")
	fl.StringVar(&f.endpointURL, "endpoint-url", "", "send every AWS call to this endpoint instead of AWS (for example the URL gatehouse sim prints); AWS_ENDPOINT_URL works too")
	fl.StringVar(&f.roleARN, "role-arn", "", "role to assume from the standard AWS credential chain first")
	fl.StringVar(&f.externalID, "external-id", "", "External ID to pass when assuming --role-arn")
	fl.StringVar(&f.memberRoleName, "member-role-name", awsfetch.DefaultMemberRoleName, "role assumed in a member account to change its IAM: the member role gatehouse setup aws --orgs --provisioning creates ("+awsperms.OrganizationAccessRole+" works but has administrator access, and warns)")
	fl.StringVar(&f.memberExternalID, "member-external-id", "", "External ID to pass when assuming the member-account role")
	fl.StringVar(&f.identityCenterRegion, "identity-center-region", "", "region of the Identity Center instance (default: --region)")
}

// connectionConfig validates the connection flags and turns them into a configuration
// for awsfetch.Connect.
func (f *awsFlags) connectionConfig() (awsfetch.Config, error) {
	switch {
	case f.externalID != "" && f.roleARN == "":
		return awsfetch.Config{}, fmt.Errorf("--external-id is passed when assuming --role-arn; set --role-arn too")
	case f.roleARN != "" && !strings.HasPrefix(f.roleARN, "arn:aws"):
		return awsfetch.Config{}, fmt.Errorf("--role-arn must be a role ARN like arn:aws:iam::123456789012:role/GatehouseConnector, got %q", f.roleARN)
	}
	warnMemberRole(f.memberRoleName)
	return awsfetch.Config{
		Profile:              f.profile,
		Region:               f.region,
		EndpointURL:          f.endpointURL,
		RoleARN:              f.roleARN,
		ExternalID:           f.externalID,
		MemberRoleName:       f.memberRoleName,
		MemberExternalID:     f.memberExternalID,
		IdentityCenterRegion: f.identityCenterRegion,
	}, nil
}

// warnMemberRole warns on stderr when member accounts are to be entered through
// OrganizationAccountAccessRole, which is administrator in every account: an explicit
// opt-in, never the default.
func warnMemberRole(name string) {
	if strings.TrimPrefix(name, "/") == awsperms.OrganizationAccessRole {
		fmt.Fprintln(os.Stderr, awsperms.OrganizationAccessRoleWarning)
	}
}
