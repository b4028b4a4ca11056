package awsfetch

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"golang.org/x/sync/errgroup"

	"github.com/gatehouse/gatehouse/internal/iampolicy"
	"github.com/gatehouse/gatehouse/internal/inventory"
)

// iamPageSize is the largest page IAM's list calls accept.
const iamPageSize = 1000

// perUserWorkers bounds the per-user calls (see credentials.go) in flight in one
// account; the account's IAM pacer sets their rate.
const perUserWorkers = 4

// accountIAM is what fetchIAM reads from one account.
type accountIAM struct {
	iam     *inventory.IAM
	aliases []string
}

// fetchIAM reads one account's IAM in bulk: GetAccountAuthorizationDetails for the
// entities, their attachments and inline policies; ListRoles for what the details lack
// (role descriptions, maximum session durations); the credential report; the virtual MFA
// devices; the count of MFA devices in use and the root user's MFA and keys
// (GetAccountSummary); the password policy; the aliases. The
// credential report is requested first and polled while the rest is read, because IAM
// needs a few seconds to produce it. Then fetchCredentials completes the report with
// per-user calls where it cannot answer (see credentials.go).
//
// An error from any call but the credential report's fails the account: a partial IAM
// would look complete downstream. The credential report's failure is recorded in
// CredentialReportError instead, and its dependants fall back to per-user calls.
func fetchIAM(ctx context.Context, client *iam.Client, cfg Config) (*accountIAM, error) {
	var (
		out         = &accountIAM{iam: &inventory.IAM{}}
		report      []*inventory.CredentialReportRow
		generatedAt time.Time
		reportEr    error
		virtual     []*inventory.MFADevice
		rootVirtual []string
		summary     accountSummary
		roleMeta    map[string]types.Role
	)
	reportCtx, cancelReport := context.WithCancel(ctx)
	defer cancelReport()
	reportDone := make(chan struct{})
	go func() {
		defer close(reportDone)
		report, generatedAt, reportEr = fetchCredentialReport(reportCtx, client, cfg.CredentialReportPoll, cfg.CredentialReportTimeout)
	}()

	// The bulk reads run together; all are waited for, and the first failure in this
	// order is the account's reason, so that the reason does not depend on timing.
	errs := make([]error, 6)
	var wg sync.WaitGroup
	wg.Add(6)
	go func() { defer wg.Done(); errs[0] = authorizationDetails(ctx, client, out.iam) }()
	go func() { defer wg.Done(); roleMeta, errs[1] = listRoles(ctx, client) }()
	go func() { defer wg.Done(); virtual, rootVirtual, errs[2] = virtualMFADevices(ctx, client) }()
	go func() { defer wg.Done(); out.aliases, errs[3] = accountAliases(ctx, client) }()
	go func() { defer wg.Done(); summary, errs[4] = readAccountSummary(ctx, client) }()
	go func() { defer wg.Done(); errs[5] = passwordPolicy(ctx, client, out.iam) }()
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			cancelReport()
			<-reportDone
			return nil, err
		}
	}
	for _, r := range out.iam.Roles {
		if m, ok := roleMeta[r.Name]; ok {
			r.Description = aws.ToString(m.Description)
			r.MaxSessionDuration = aws.ToInt32(m.MaxSessionDuration)
		}
	}
	// Service last accessed details: the entities are known now; collect earlier jobs and
	// start new ones while the credential report is awaited, and look at the new jobs once
	// more at the end of this account's read, in the same role session (see lastaccess.go).
	var lastAccess []*inventory.LastAccessRead
	lastAccessDone := make(chan struct{})
	if cfg.LastAccess != nil {
		go func() {
			defer close(lastAccessDone)
			lastAccess = readLastAccess(ctx, client, cfg.LastAccess, out.iam)
		}()
	} else {
		close(lastAccessDone)
	}
	defer func() { <-lastAccessDone }() // never leave it running past the account's read

	<-reportDone
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if reportEr != nil {
		out.iam.CredentialReportError = reportEr.Error()
		report = nil
	} else {
		out.iam.CredentialReport = report
		out.iam.CredentialReportGeneratedAt = generatedAt
	}

	creds, err := fetchCredentials(ctx, iamCredentials{client: client, users: out.iam.Users, report: report, generatedAt: generatedAt,
		virtual: virtual, rootVirtual: len(rootVirtual), inUse: summary.inUse, syncSecrets: cfg.SyncSecrets})
	if err != nil {
		return nil, err
	}
	out.iam.MFADevices = creds.mfa
	out.iam.AccessKeys = creds.keys
	out.iam.UserCredentials = creds.userCredentials
	out.iam.RootVirtualMFA = rootVirtual
	out.iam.RootSummary = summary.root
	if cfg.LastAccess != nil {
		<-lastAccessDone
		out.iam.LastAccess = collectStartedLastAccess(ctx, client, cfg.LastAccess, lastAccess)
	}
	return out, nil
}

// authorizationDetails pages through GetAccountAuthorizationDetails.
func authorizationDetails(ctx context.Context, client *iam.Client, into *inventory.IAM) error {
	var policies []types.ManagedPolicyDetail
	err := paginate("GetAccountAuthorizationDetails", func(marker *string) (*string, error) {
		page, err := client.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{
			MaxItems: aws.Int32(iamPageSize), Marker: marker})
		if err != nil {
			return nil, wrapf(err, "GetAccountAuthorizationDetails")
		}
		for _, u := range page.UserDetailList {
			into.Users = append(into.Users, userOf(u))
		}
		for _, gr := range page.GroupDetailList {
			into.Groups = append(into.Groups, groupOf(gr))
		}
		for _, r := range page.RoleDetailList {
			into.Roles = append(into.Roles, roleOf(r))
		}
		policies = append(policies, page.Policies...)
		return iamMarker(page.IsTruncated, page.Marker), nil
	})
	if err != nil {
		return err
	}

	// AWS-managed policies are kept when something here is attached to them: those are
	// the ones that matter for this account, and AWS may list more.
	attached := map[string]bool{}
	for _, u := range into.Users {
		for _, p := range u.AttachedPolicies {
			attached[p] = true
		}
	}
	for _, gr := range into.Groups {
		for _, p := range gr.AttachedPolicies {
			attached[p] = true
		}
	}
	for _, r := range into.Roles {
		for _, p := range r.AttachedPolicies {
			attached[p] = true
		}
	}
	for _, p := range policies {
		mp := policyOf(p)
		if mp.AWSManaged && mp.AttachmentCount == 0 && !attached[mp.ARN] {
			continue
		}
		into.Policies = append(into.Policies, mp)
	}
	sort.Slice(into.Users, func(i, j int) bool { return into.Users[i].Name < into.Users[j].Name })
	sort.Slice(into.Groups, func(i, j int) bool { return into.Groups[i].Name < into.Groups[j].Name })
	sort.Slice(into.Roles, func(i, j int) bool { return into.Roles[i].Name < into.Roles[j].Name })
	sort.Slice(into.Policies, func(i, j int) bool { return into.Policies[i].ARN < into.Policies[j].ARN })
	return nil
}

// iamMarker returns the marker of the next page of an IAM list call, or nil.
func iamMarker(truncated bool, marker *string) *string {
	if !truncated {
		return nil
	}
	return marker
}

func userOf(u types.UserDetail) *inventory.User {
	return &inventory.User{
		ARN: aws.ToString(u.Arn), ID: aws.ToString(u.UserId), Name: aws.ToString(u.UserName),
		Path: aws.ToString(u.Path), CreatedAt: aws.ToTime(u.CreateDate).UTC(),
		Tags:                tagsOf(u.Tags),
		Groups:              sortedCopy(u.GroupList),
		AttachedPolicies:    attachedARNs(u.AttachedManagedPolicies),
		InlinePolicies:      inlineOf(u.UserPolicyList),
		PermissionsBoundary: boundaryOf(u.PermissionsBoundary),
	}
}

func groupOf(g types.GroupDetail) *inventory.Group {
	return &inventory.Group{
		ARN: aws.ToString(g.Arn), ID: aws.ToString(g.GroupId), Name: aws.ToString(g.GroupName),
		Path: aws.ToString(g.Path), CreatedAt: aws.ToTime(g.CreateDate).UTC(),
		AttachedPolicies: attachedARNs(g.AttachedManagedPolicies),
		InlinePolicies:   inlineOf(g.GroupPolicyList),
	}
}

func roleOf(r types.RoleDetail) *inventory.Role {
	role := &inventory.Role{
		ARN: aws.ToString(r.Arn), ID: aws.ToString(r.RoleId), Name: aws.ToString(r.RoleName),
		Path: aws.ToString(r.Path), CreatedAt: aws.ToTime(r.CreateDate).UTC(),
		TrustPolicy:         decodePolicy(aws.ToString(r.AssumeRolePolicyDocument)),
		Tags:                tagsOf(r.Tags),
		AttachedPolicies:    attachedARNs(r.AttachedManagedPolicies),
		InlinePolicies:      inlineOf(r.RolePolicyList),
		PermissionsBoundary: boundaryOf(r.PermissionsBoundary),
	}
	if r.RoleLastUsed != nil {
		role.LastUsedAt = aws.ToTime(r.RoleLastUsed.LastUsedDate).UTC()
		role.LastUsedRegion = aws.ToString(r.RoleLastUsed.Region)
	}
	return role
}

func policyOf(p types.ManagedPolicyDetail) *inventory.ManagedPolicy {
	arn := aws.ToString(p.Arn)
	mp := &inventory.ManagedPolicy{
		ARN: arn, ID: aws.ToString(p.PolicyId), Name: aws.ToString(p.PolicyName),
		Path: aws.ToString(p.Path), AWSManaged: isAWSManaged(arn),
		Description:     aws.ToString(p.Description),
		DefaultVersion:  aws.ToString(p.DefaultVersionId),
		AttachmentCount: aws.ToInt32(p.AttachmentCount),
		CreatedAt:       aws.ToTime(p.CreateDate).UTC(),
		UpdatedAt:       aws.ToTime(p.UpdateDate).UTC(),
	}
	for _, v := range p.PolicyVersionList {
		if v.IsDefaultVersion || (mp.DefaultVersion != "" && aws.ToString(v.VersionId) == mp.DefaultVersion) {
			mp.Document = decodePolicy(aws.ToString(v.Document))
			if mp.DefaultVersion == "" {
				mp.DefaultVersion = aws.ToString(v.VersionId)
			}
			break
		}
	}
	return mp
}

// boundaryOf is the ARN of a permissions boundary, "" without one.
func boundaryOf(b *types.AttachedPermissionsBoundary) string {
	if b == nil {
		return ""
	}
	return aws.ToString(b.PermissionsBoundaryArn)
}

// isAWSManaged reports whether a policy ARN is AWS's (arn:PARTITION:iam::aws:policy/...).
func isAWSManaged(arn string) bool {
	f := strings.SplitN(arn, ":", 6)
	return len(f) == 6 && f[4] == "aws"
}

func tagsOf(tags []types.Tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func attachedARNs(list []types.AttachedPolicy) []string {
	if len(list) == 0 {
		return nil
	}
	out := make([]string, 0, len(list))
	for _, p := range list {
		out = append(out, aws.ToString(p.PolicyArn))
	}
	sort.Strings(out)
	return out
}

func inlineOf(list []types.PolicyDetail) []inventory.InlinePolicy {
	if len(list) == 0 {
		return nil
	}
	out := make([]inventory.InlinePolicy, 0, len(list))
	for _, p := range list {
		out = append(out, inventory.InlinePolicy{Name: aws.ToString(p.PolicyName), Document: decodePolicy(aws.ToString(p.PolicyDocument))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// decodePolicy decodes a policy document as IAM returns it, with the one decoder that
// gatehouse doctor uses too (iampolicy.DecodeDocument).
func decodePolicy(doc string) string { return iampolicy.DecodeDocument(doc) }

func sortedCopy(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	out := append([]string(nil), list...)
	sort.Strings(out)
	return out
}

// listRoles returns every role by name, for the fields GetAccountAuthorizationDetails
// does not return.
func listRoles(ctx context.Context, client *iam.Client) (map[string]types.Role, error) {
	roles := map[string]types.Role{}
	err := paginate("ListRoles", func(marker *string) (*string, error) {
		page, err := client.ListRoles(ctx, &iam.ListRolesInput{MaxItems: aws.Int32(iamPageSize), Marker: marker})
		if err != nil {
			return nil, wrapf(err, "ListRoles")
		}
		for _, r := range page.Roles {
			roles[aws.ToString(r.RoleName)] = r
		}
		return iamMarker(page.IsTruncated, page.Marker), nil
	})
	return roles, err
}

// virtualMFADevices lists the virtual MFA devices assigned to IAM users, and the serials
// of those assigned to the root user (which GetAccountSummary counts among the devices
// in use, and which make the root's MFA virtual rather than hardware).
func virtualMFADevices(ctx context.Context, client *iam.Client) ([]*inventory.MFADevice, []string, error) {
	var out []*inventory.MFADevice
	var root []string
	err := paginate("ListVirtualMFADevices", func(marker *string) (*string, error) {
		page, err := client.ListVirtualMFADevices(ctx, &iam.ListVirtualMFADevicesInput{
			AssignmentStatus: types.AssignmentStatusTypeAssigned, MaxItems: aws.Int32(iamPageSize), Marker: marker})
		if err != nil {
			return nil, wrapf(err, "ListVirtualMFADevices")
		}
		for _, d := range page.VirtualMFADevices {
			if d.User == nil {
				continue
			}
			if strings.HasSuffix(aws.ToString(d.User.Arn), ":root") {
				root = append(root, aws.ToString(d.SerialNumber))
				continue
			}
			out = append(out, &inventory.MFADevice{Serial: aws.ToString(d.SerialNumber), Virtual: true,
				UserName: aws.ToString(d.User.UserName), EnabledAt: aws.ToTime(d.EnableDate).UTC()})
		}
		return iamMarker(page.IsTruncated, page.Marker), nil
	})
	return out, root, err
}

func accountAliases(ctx context.Context, client *iam.Client) ([]string, error) {
	var out []string
	err := paginate("ListAccountAliases", func(marker *string) (*string, error) {
		page, err := client.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{MaxItems: aws.Int32(iamPageSize), Marker: marker})
		if err != nil {
			return nil, wrapf(err, "ListAccountAliases")
		}
		out = append(out, page.AccountAliases...)
		return iamMarker(page.IsTruncated, page.Marker), nil
	})
	sort.Strings(out)
	return out, err
}

// forEach runs fn for every item with at most workers at once and returns the first
// error (the others are cancelled).
func forEach[T any](ctx context.Context, items []T, workers int, fn func(context.Context, T) error) error {
	if len(items) == 0 {
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for _, it := range items {
		g.Go(func() error { return fn(gctx, it) })
	}
	return g.Wait()
}
