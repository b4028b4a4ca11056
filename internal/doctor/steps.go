package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/iampolicy"
)

// describe turns an SDK error into "Code: message"; other errors keep their text.
func describe(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		if msg := apiErr.ErrorMessage(); msg != "" {
			return apiErr.ErrorCode() + ": " + msg
		}
		return apiErr.ErrorCode()
	}
	return err.Error()
}

func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

func isAccessDenied(err error) bool {
	switch errorCode(err) {
	case "AccessDenied", "AccessDeniedException":
		return true
	}
	return false
}

// isPolicyDenial reports whether an AccessDenied says that the caller's policies do not
// allow the call ("... is not authorized to perform: ACTION ..."), as opposed to a
// service refusing the caller for another reason (Organizations refuses member
// accounts with AccessDeniedException too).
func isPolicyDenial(err error) bool {
	var apiErr smithy.APIError
	return isAccessDenied(err) && errors.As(err, &apiErr) && strings.Contains(apiErr.ErrorMessage(), "not authorized to perform")
}

// sourceName says where credentials came from, in the words of the AWS documentation.
func sourceName(source string) string {
	switch {
	case source == config.CredentialsSourceName:
		return "environment variables (AWS_ACCESS_KEY_ID)"
	case strings.HasPrefix(source, "SharedConfigCredentials"):
		if _, file, ok := strings.Cut(source, ": "); ok && file != "" {
			return "the shared credentials file " + file
		}
		return "the shared credentials file"
	case source == "SSOProvider":
		return "an IAM Identity Center (SSO) profile"
	case source == "AssumeRoleProvider":
		return "a profile's role_arn"
	case source == "WebIdentityCredentials":
		return "a web identity token (AWS_WEB_IDENTITY_TOKEN_FILE)"
	case source == "EC2RoleProvider":
		return "the EC2 instance role"
	case source == "CredentialsEndpointProvider":
		return "the container credentials endpoint (ECS, EKS Pod Identity)"
	case source == "ProcessProvider":
		return "a profile's credential_process"
	case source == "LoginProvider":
		return "an aws login session"
	case source == credentials.StaticCredentialsName:
		return "static credentials"
	case source == "":
		return "an unnamed source"
	}
	return source
}

// roleOfSession turns an assumed-role session ARN into its role's ARN (without path,
// which STS does not report); other ARNs are returned unchanged.
func roleOfSession(arn string) string {
	f := strings.SplitN(arn, ":", 6)
	if len(f) != 6 || f[2] != "sts" || !strings.HasPrefix(f[5], "assumed-role/") {
		return arn
	}
	name, _, _ := strings.Cut(strings.TrimPrefix(f[5], "assumed-role/"), "/")
	return "arn:" + f[1] + ":iam::" + f[4] + ":role/" + name
}

// accountOf returns the account id of an ARN.
func accountOf(arn string) string {
	f := strings.SplitN(arn, ":", 6)
	if len(f) < 5 {
		return ""
	}
	return f[4]
}

// credentials: the standard chain (or the configured provider) must yield credentials
// that STS accepts.
func (r *run) credentials(ctx context.Context) Check {
	c := Check{ID: "credentials", Title: titles["credentials"]}
	cfg := r.opts.Config
	lo := []func(*config.LoadOptions) error{
		// The SDK's warnings go to the log, not raw to stderr, and a connection attempt
		// that gets no answer gives up soon enough to say so.
		config.WithLogger(awsfetch.SDKLogger(cfg.Logger)),
		config.WithHTTPClient(awshttp.NewBuildableClient().WithDialerOptions(func(d *net.Dialer) { d.Timeout = 10 * time.Second })),
	}
	if cfg.Region != "" {
		lo = append(lo, config.WithRegion(cfg.Region))
	}
	if cfg.Profile != "" {
		lo = append(lo, config.WithSharedConfigProfile(cfg.Profile))
	}
	if cfg.EndpointURL != "" {
		lo = append(lo, config.WithBaseEndpoint(cfg.EndpointURL))
	}
	if cfg.Credentials != nil {
		lo = append(lo, config.WithCredentialsProvider(cfg.Credentials))
	}
	base, err := config.LoadDefaultConfig(ctx, lo...)
	var nf *awsfetch.ProfileNotFoundError
	if errors.As(awsfetch.ExplainConfigError(err, cfg.Profile), &nf) {
		c.Status, c.Detail = Fail, nf.Error()
		c.Fix = "pass a profile that exists (aws configure list-profiles lists them), or create it"
		return c
	}
	if err != nil {
		c.Status, c.Detail = Fail, "cannot load the AWS configuration: "+err.Error()
		c.Fix = "check --profile (or AWS_PROFILE), AWS_CONFIG_FILE and the profiles in ~/.aws/config"
		return c
	}
	if base.Region == "" {
		base.Region = "us-east-1"
	}
	r.base = base
	noCreds := "set AWS_PROFILE (after aws sso login for an SSO profile), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an instance or container role is available"
	if base.Credentials == nil {
		c.Status, c.Detail, c.Fix = Fail, "no AWS credentials found", noCreds
		return c
	}
	creds, err := base.Credentials.Retrieve(ctx)
	if err != nil {
		c.Status, c.Detail, c.Fix = Fail, "no AWS credentials found: "+err.Error(), noCreds
		return c
	}
	source := sourceName(creds.Source)
	out, err := sts.NewFromConfig(base).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if why, ok := awsfetch.Unreachable(err); ok {
		c.Status, c.Detail, c.Fix = Fail, "cannot reach AWS STS: "+why, awsfetch.UnreachableFix
		return c
	}
	if err != nil {
		c.Status, c.Detail = Fail, fmt.Sprintf("the credentials from %s were refused: %s", source, describe(err))
		c.Fix = "they may have expired or been deactivated: refresh them (aws sso login, a new access key) and run gatehouse doctor again"
		return c
	}
	r.callerARN = aws.ToString(out.Arn)
	c.Status, c.Detail = Pass, fmt.Sprintf("from %s: %s", source, r.callerARN)
	return c
}

// role: the connector role must be assumable with the External ID given.
func (r *run) role(ctx context.Context) Check {
	c := Check{ID: "role", Title: titles["role"]}
	cfg := r.opts.Config
	if cfg.RoleARN == "" {
		r.connector, r.connARN = r.base.Copy(), r.callerARN
		r.roleARN, r.account = roleOfSession(r.callerARN), accountOf(r.callerARN)
		c.Status = Warn
		c.Detail = "no --role-arn: Gatehouse would act as " + r.callerARN + " with its own permissions"
		c.Fix = "create a dedicated role with gatehouse setup aws and pass --role-arn and --external-id, so that Gatehouse has exactly the permissions it needs"
		return c
	}
	in := &sts.AssumeRoleInput{RoleArn: aws.String(cfg.RoleARN), RoleSessionName: aws.String(r.opts.Config.SessionName)}
	if cfg.ExternalID != "" {
		in.ExternalId = aws.String(cfg.ExternalID)
	}
	out, err := sts.NewFromConfig(r.base).AssumeRole(ctx, in)
	if why, ok := awsfetch.Unreachable(err); ok {
		c.Status, c.Detail, c.Fix = Fail, "cannot reach AWS STS: "+why, awsfetch.UnreachableFix
		return c
	}
	if err != nil {
		c.Status = Fail
		c.Detail = fmt.Sprintf("cannot assume %s: %s", cfg.RoleARN, describe(err))
		extID := "its sts:ExternalId condition equals the External ID passed with --external-id"
		if cfg.ExternalID == "" {
			extID = "the External ID: none was passed; pass --external-id with the one gatehouse setup aws printed (it keeps it in .gatehouse/aws-setup.json)"
		}
		c.Fix = fmt.Sprintf("check that the role exists; that its trust policy names %s (or its account) as Principal; %s; and that %s's own policies allow sts:AssumeRole on the role",
			roleOfSession(r.callerARN), extID, roleOfSession(r.callerARN))
		return c
	}
	creds := out.Credentials
	r.connector = r.base.Copy()
	r.connector.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(
		aws.ToString(creds.AccessKeyId), aws.ToString(creds.SecretAccessKey), aws.ToString(creds.SessionToken)))
	r.connARN = aws.ToString(out.AssumedRoleUser.Arn)
	r.roleARN, r.account = cfg.RoleARN, accountOf(cfg.RoleARN)
	c.Status = Pass
	c.Detail = "assumed " + cfg.RoleARN
	if cfg.ExternalID != "" {
		c.Detail += " with the External ID"
	}
	return c
}

// trustRequiresExternalID reports whether every statement of a trust policy that allows
// sts:AssumeRole requires sts:ExternalId, and names the principals of those that do not.
func trustRequiresExternalID(doc string) (bool, []string, error) {
	p, err := parsePolicy(doc)
	if err != nil {
		return false, nil, err
	}
	var open []string
	for _, st := range p.Statement {
		if st.Effect != "Allow" || !iampolicy.AnyMatch(st.Action, "sts:AssumeRole", true) {
			continue
		}
		required := false
		for op, kv := range st.Condition {
			if !strings.HasPrefix(op, "String") || strings.Contains(op, "Not") || strings.HasSuffix(op, "IfExists") {
				continue
			}
			for key := range kv {
				if strings.EqualFold(key, "sts:ExternalId") {
					required = true
				}
			}
		}
		if !required {
			who := st.Principal.All()
			if len(who) == 0 {
				who = []string{"a principal"}
			}
			open = append(open, who...)
		}
	}
	sort.Strings(open)
	return len(open) == 0, open, nil
}

// externalID: the connector role's trust policy should require an External ID. Read it
// with iam:GetRole when the role may read itself; otherwise infer it by assuming the
// role without one.
func (r *run) externalID(ctx context.Context) Check {
	c := Check{ID: "external-id", Title: titles["external-id"]}
	cfg := r.opts.Config
	switch {
	case cfg.RoleARN == "":
		c.Status, c.Detail = Skip, "no connector role to check"
		return c
	case cfg.ExternalID == "":
		c.Status = Warn
		c.Detail = "the role was assumed without an External ID: its trust policy does not require one"
		c.Fix = externalIDFix(cfg.RoleARN)
		return c
	}
	name := cfg.RoleARN[strings.LastIndex(cfg.RoleARN, "/")+1:]
	out, err := iam.NewFromConfig(r.connector).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if err == nil && out.Role != nil {
		doc, uerr := url.QueryUnescape(aws.ToString(out.Role.AssumeRolePolicyDocument))
		if uerr == nil {
			ok, open, perr := trustRequiresExternalID(doc)
			if perr == nil {
				c.Method = "reading the trust policy (iam:GetRole)"
				if ok {
					c.Status, c.Detail = Pass, "the trust policy requires sts:ExternalId"
					return c
				}
				c.Status = Warn
				c.Detail = "the trust policy lets " + strings.Join(open, ", ") + " assume the role without an External ID"
				c.Fix = externalIDFix(cfg.RoleARN)
				return c
			}
		}
	}
	// The role may not read itself: try the door without the key.
	c.Method = "assuming the role without an External ID (iam:GetRole on the role is not allowed)"
	_, aerr := sts.NewFromConfig(r.base).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(cfg.RoleARN), RoleSessionName: aws.String(r.opts.Config.SessionName)})
	switch {
	case aerr == nil:
		c.Status, c.Detail, c.Fix = Warn, "the role can be assumed without an External ID", externalIDFix(cfg.RoleARN)
	case isAccessDenied(aerr):
		c.Status, c.Detail = Pass, "assuming the role without an External ID is refused"
	default:
		c.Status, c.Detail = Warn, "could not tell whether the trust policy requires an External ID: "+describe(aerr)
		c.Fix = "allow the role iam:GetRole on itself (gatehouse setup aws includes it) so that gatehouse doctor can read its trust policy"
	}
	return c
}

func externalIDFix(roleARN string) string {
	return `add "Condition": {"StringEquals": {"sts:ExternalId": "EXTERNAL_ID"}} to the statements of ` + roleARN +
		`'s trust policy that allow sts:AssumeRole (gatehouse setup aws generates the trust policy), and pass the same value with --external-id`
}

// organization: with --orgs the connector must be in the management account or a
// delegated administrator, since Organizations answers only those.
func (r *run) organization(ctx context.Context) Check {
	c := Check{ID: "organization", Title: titles["organization"]}
	client := organizations.NewFromConfig(r.sess.Connector())
	desc, err := client.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		c.Status = Fail
		switch {
		case errorCode(err) == "AWSOrganizationsNotInUseException":
			c.Detail = "account " + r.account + " is not part of an organization"
			c.Fix = "run without --orgs to read only this account, or create the connector role in your organization's management account"
		case isPolicyDenial(err):
			c.Detail = "organizations:DescribeOrganization is denied: " + describe(err)
			c.Fix = "allow organizations:DescribeOrganization, ListRoots, ListOrganizationalUnitsForParent and ListAccountsForParent in the connector role's policy (gatehouse setup aws --orgs generates it)"
		default:
			c.Detail = "cannot read the organization: " + describe(err)
			c.Fix = "run gatehouse doctor again; if it keeps failing, check that Organizations is reachable from here"
		}
		return c
	}
	o := desc.Organization
	orgID, mgmt := aws.ToString(o.Id), aws.ToString(o.MasterAccountId)
	r.orgID = orgID
	roots, err := client.ListRoots(ctx, &organizations.ListRootsInput{MaxResults: aws.Int32(1)})
	if err == nil && len(roots.Roots) > 0 {
		r.rootID = aws.ToString(roots.Roots[0].Id)
	}
	switch {
	case err == nil && mgmt == r.account:
		c.Status, c.Detail = Pass, fmt.Sprintf("account %s is the management account of organization %s", r.account, orgID)
		r.orgOK = true
	case err == nil:
		c.Status, c.Detail = Pass, fmt.Sprintf("account %s is a delegated administrator of organization %s (management account %s)", r.account, orgID, mgmt)
		r.orgOK = true
	case isPolicyDenial(err):
		c.Status = Fail
		c.Detail = "organizations:ListRoots is denied by the connector role's policies: " + describe(err)
		c.Fix = "allow organizations:ListRoots, ListOrganizationalUnitsForParent and ListAccountsForParent in the connector role's policy (gatehouse setup aws --orgs generates it)"
	case isAccessDenied(err):
		c.Status = Fail
		c.Detail = fmt.Sprintf("the connector role is in member account %s of organization %s, which is neither the management account (%s) nor a delegated administrator: Organizations refuses to list the organization to it", r.account, orgID, mgmt)
		c.Fix = fmt.Sprintf("create the connector role in the management account %s (run gatehouse setup aws --orgs with credentials for it), or make %s a delegated administrator for AWS Organizations", mgmt, r.account)
	default:
		c.Status = Fail
		c.Detail = "cannot list the organization's roots: " + describe(err)
		c.Fix = "run gatehouse doctor again; if it keeps failing, check that Organizations is reachable from here"
	}
	return c
}

// identityCenter: with --identity-center the instance must be visible from the connector
// in the Identity Center region.
func (r *run) identityCenter(ctx context.Context) Check {
	c := Check{ID: "identity-center", Title: titles["identity-center"]}
	cfg := r.sess.IdentityCenter()
	region := cfg.Region
	client := ssoadmin.NewFromConfig(cfg)
	var active []ssotypes.InstanceMetadata
	var token *string
	for {
		out, err := client.ListInstances(ctx, &ssoadmin.ListInstancesInput{MaxResults: aws.Int32(100), NextToken: token})
		if err != nil {
			c.Status = Fail
			if isPolicyDenial(err) {
				c.Detail = "sso:ListInstances is denied: " + describe(err)
				c.Fix = "allow the Identity Center read actions in the connector role's policy (gatehouse setup aws --identity-center generates it)"
			} else {
				c.Detail = "cannot list Identity Center instances in " + region + ": " + describe(err)
				c.Fix = "check --identity-center-region; run gatehouse doctor again if AWS was unavailable"
			}
			return c
		}
		for _, in := range out.Instances {
			if in.Status == "" || in.Status == ssotypes.InstanceStatusActive {
				active = append(active, in)
			}
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		token = out.NextToken
	}
	if len(active) == 0 {
		c.Status = Fail
		c.Detail = "no IAM Identity Center instance is visible in " + region + " from account " + r.account
		c.Fix = "pass --identity-center-region with the region Identity Center is enabled in (the IAM Identity Center console shows it under Settings); the connector role must be in the management account or Identity Center's delegated administrator"
		return c
	}
	sort.Slice(active, func(i, j int) bool { return aws.ToString(active[i].InstanceArn) < aws.ToString(active[j].InstanceArn) })
	r.instance, r.storeID = aws.ToString(active[0].InstanceArn), aws.ToString(active[0].IdentityStoreId)
	c.Status, c.Detail = Pass, fmt.Sprintf("instance %s (identity store %s) in %s", r.instance, r.storeID, region)
	return c
}

// scim: the endpoint must answer a user listing with the token, as the sync asks it.
func (r *run) scim(ctx context.Context) Check {
	c := Check{ID: "scim", Title: titles["scim"]}
	cfg := r.opts.Config
	endpoint := strings.TrimRight(cfg.SCIMEndpoint, "/") + "/"
	client := r.opts.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"Users?count=1", nil)
	if err != nil {
		c.Status, c.Detail = Fail, "--scim-endpoint is not a URL: "+err.Error()
		c.Fix = "pass the SCIM endpoint exactly as IAM Identity Center shows it (https://scim.REGION.amazonaws.com/.../scim/v2/)"
		return c
	}
	req.Header.Set("Authorization", "Bearer "+cfg.SCIMToken)
	req.Header.Set("Accept", "application/scim+json, application/json")
	// SCIM is optional for the sync: whatever keeps it from answering leaves unknown only
	// the status of users the Identity Store API returns without UserStatus, and the sync
	// succeeds. So every SCIM problem is a warning, with the fix.
	const optional = "; SCIM is optional: the sync still succeeds, and users whose status the Identity Store API does not report are left unknown"
	resp, err := client.Do(req)
	if err != nil {
		cause := err.Error()
		if why, ok := awsfetch.Unreachable(err); ok {
			cause = why
		}
		c.Status, c.Detail = Warn, "cannot reach the SCIM endpoint: "+cause+optional
		c.Fix = "check --scim-endpoint (IAM Identity Center > Settings > Automatic provisioning shows it) and the network path to it"
		return c
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	switch {
	case resp.StatusCode == http.StatusOK:
		c.Status, c.Detail = Pass, endpoint+" accepted the token and listed users"
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		c.Status = Warn
		c.Detail = fmt.Sprintf("%s refused the token (HTTP %d)", endpoint, resp.StatusCode) + optional
		c.Fix = "create a new token in Identity Center > Settings > Automatic provisioning (tokens expire after a year) and pass it with --scim-token or GATEHOUSE_SCIM_TOKEN"
	case resp.StatusCode == http.StatusNotFound:
		c.Status = Warn
		c.Detail = fmt.Sprintf("no SCIM API at %s (HTTP 404)", endpoint) + optional
		c.Fix = "pass the SCIM endpoint exactly as IAM Identity Center shows it; it ends in /scim/v2/"
	default:
		c.Status = Warn
		c.Detail = fmt.Sprintf("%s answered HTTP %d: %s", endpoint, resp.StatusCode, oneLine(string(body), 200)) + optional
		c.Fix = "run gatehouse doctor again; if it keeps failing, check the endpoint"
	}
	return c
}

// oneLine returns s on one line, its runs of white space made single spaces, cut to at
// most n bytes (with "..." when cut): an answer's body quoted in a check.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "..."
	}
	return s
}
