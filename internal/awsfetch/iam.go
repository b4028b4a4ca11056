package awsfetch

import (
	"context"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"golang.org/x/sync/errgroup"

	"github.com/gatehouse/gatehouse/internal/inventory"
)

// iamPageSize is the largest page IAM's list calls accept.
const iamPageSize = 1000

// perUserWorkers bounds the per-user calls (hardware MFA, access keys) in flight in one
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
// devices; the aliases. The credential report is requested first and polled while the
// rest is read, because IAM needs a few seconds to produce it.
//
// An error from any call but the credential report's fails the account: a partial IAM
// would look complete downstream. The credential report's failure is recorded in
// CredentialReportError instead, and its dependants fall back to per-user calls.
func fetchIAM(ctx context.Context, client *iam.Client, cfg Config) (*accountIAM, error) {
	var (
		out      = &accountIAM{iam: &inventory.IAM{}}
		report   []*inventory.CredentialReportRow
		reportEr error
		virtual  []*inventory.MFADevice
		roleMeta map[string]types.Role
	)
	reportCtx, cancelReport := context.WithCancel(ctx)
	defer cancelReport()
	reportDone := make(chan struct{})
	go func() {
		defer close(reportDone)
		report, reportEr = fetchCredentialReport(reportCtx, client, cfg.CredentialReportPoll, cfg.CredentialReportTimeout)
	}()

	// The four reads run together; all are waited for, and the first failure in this
	// order is the account's reason, so that the reason does not depend on timing.
	errs := make([]error, 4)
	var wg sync.WaitGroup
	wg.Add(4)
	go func() { defer wg.Done(); errs[0] = authorizationDetails(ctx, client, out.iam) }()
	go func() { defer wg.Done(); roleMeta, errs[1] = listRoles(ctx, client) }()
	go func() { defer wg.Done(); virtual, errs[2] = virtualMFADevices(ctx, client) }()
	go func() { defer wg.Done(); out.aliases, errs[3] = accountAliases(ctx, client) }()
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

	<-reportDone
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if reportEr != nil {
		out.iam.CredentialReportError = reportEr.Error()
	} else {
		out.iam.CredentialReport = report
	}

	mfa, err := mfaDevices(ctx, client, out.iam.Users, report, reportEr == nil, virtual)
	if err != nil {
		return nil, err
	}
	out.iam.MFADevices = mfa

	if cfg.SyncSecrets {
		keys, err := accessKeys(ctx, client, out.iam.Users)
		if err != nil {
			return nil, err
		}
		out.iam.AccessKeys = keys
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
		Tags:             tagsOf(u.Tags),
		Groups:           sortedCopy(u.GroupList),
		AttachedPolicies: attachedARNs(u.AttachedManagedPolicies),
		InlinePolicies:   inlineOf(u.UserPolicyList),
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
		TrustPolicy:      decodePolicy(aws.ToString(r.AssumeRolePolicyDocument)),
		Tags:             tagsOf(r.Tags),
		AttachedPolicies: attachedARNs(r.AttachedManagedPolicies),
		InlinePolicies:   inlineOf(r.RolePolicyList),
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

// decodePolicy decodes a policy document as IAM returns it: URL-encoded (RFC 3986).
// Path unescaping keeps a literal "+" (query unescaping would turn it into a space). A
// document that is already plain JSON is returned as it is.
func decodePolicy(doc string) string {
	if doc == "" || strings.HasPrefix(strings.TrimSpace(doc), "{") {
		return doc
	}
	if s, err := url.PathUnescape(doc); err == nil {
		return s
	}
	return doc
}

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

// virtualMFADevices lists the virtual MFA devices assigned to users.
func virtualMFADevices(ctx context.Context, client *iam.Client) ([]*inventory.MFADevice, error) {
	var out []*inventory.MFADevice
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
			out = append(out, &inventory.MFADevice{Serial: aws.ToString(d.SerialNumber), Virtual: true,
				UserName: aws.ToString(d.User.UserName), EnabledAt: aws.ToTime(d.EnableDate).UTC()})
		}
		return iamMarker(page.IsTruncated, page.Marker), nil
	})
	return out, err
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

// mfaDevices completes the virtual devices with the others (hardware and FIDO), which
// only ListMFADevices per user shows. It is called only for the users the credential
// report marks mfa_active without a virtual device; without a report, for every user,
// since nothing else says who has one.
func mfaDevices(ctx context.Context, client *iam.Client, users []*inventory.User, report []*inventory.CredentialReportRow, haveReport bool, virtual []*inventory.MFADevice) ([]*inventory.MFADevice, error) {
	hasVirtual := map[string]bool{}
	for _, d := range virtual {
		hasVirtual[d.UserName] = true
	}
	var ask []string
	if haveReport {
		for _, row := range report {
			if row.MFAActive && row.User != "<root_account>" && !hasVirtual[row.User] {
				ask = append(ask, row.User)
			}
		}
	} else {
		for _, u := range users {
			ask = append(ask, u.Name)
		}
	}
	var mu sync.Mutex
	out := append([]*inventory.MFADevice(nil), virtual...)
	seen := map[string]bool{}
	for _, d := range virtual {
		seen[d.Serial] = true
	}
	err := forEach(ctx, ask, perUserWorkers, func(ctx context.Context, user string) error {
		return paginate("ListMFADevices", func(marker *string) (*string, error) {
			page, err := client.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String(user), MaxItems: aws.Int32(iamPageSize), Marker: marker})
			if err != nil {
				return nil, wrapf(err, "ListMFADevices for %s", user)
			}
			mu.Lock()
			for _, d := range page.MFADevices {
				serial := aws.ToString(d.SerialNumber)
				if seen[serial] {
					continue
				}
				seen[serial] = true
				out = append(out, &inventory.MFADevice{Serial: serial, UserName: user, EnabledAt: aws.ToTime(d.EnableDate).UTC()})
			}
			mu.Unlock()
			return iamMarker(page.IsTruncated, page.Marker), nil
		})
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].UserName != out[j].UserName {
			return out[i].UserName < out[j].UserName
		}
		return out[i].Serial < out[j].Serial
	})
	return out, nil
}

// accessKeys lists every user's access keys and when each was last used. IAM has no bulk
// call for key ids, so this costs a call per user and per key; it runs only with secrets
// sync.
func accessKeys(ctx context.Context, client *iam.Client, users []*inventory.User) ([]*inventory.AccessKey, error) {
	var mu sync.Mutex
	out := []*inventory.AccessKey{}
	err := forEach(ctx, users, perUserWorkers, func(ctx context.Context, u *inventory.User) error {
		var keys []*inventory.AccessKey
		err := paginate("ListAccessKeys", func(marker *string) (*string, error) {
			page, err := client.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(u.Name), MaxItems: aws.Int32(iamPageSize), Marker: marker})
			if err != nil {
				return nil, wrapf(err, "ListAccessKeys for %s", u.Name)
			}
			for _, k := range page.AccessKeyMetadata {
				keys = append(keys, &inventory.AccessKey{ID: aws.ToString(k.AccessKeyId), UserName: u.Name, UserARN: u.ARN,
					Status: string(k.Status), CreatedAt: aws.ToTime(k.CreateDate).UTC()})
			}
			return iamMarker(page.IsTruncated, page.Marker), nil
		})
		if err != nil {
			return err
		}
		for _, k := range keys {
			used, err := client.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(k.ID)})
			if err != nil {
				return wrapf(err, "GetAccessKeyLastUsed for %s", k.ID)
			}
			if lu := used.AccessKeyLastUsed; lu != nil {
				k.LastUsedAt = aws.ToTime(lu.LastUsedDate).UTC()
				k.LastUsedService = reportText(aws.ToString(lu.ServiceName))
				k.LastUsedRegion = reportText(aws.ToString(lu.Region))
			}
		}
		mu.Lock()
		out = append(out, keys...)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].UserName != out[j].UserName {
			return out[i].UserName < out[j].UserName
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
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
