package awsfetch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/document"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/inventory"
)

// icPageSize is the largest page SSO Admin and Identity Store list calls accept.
const icPageSize = 100

// icWorkers is how many Identity Center calls are in flight at once. The shared quota
// (about 20 per second) sets the pace; the workers only need to keep it busy while some
// of them sleep in a retry backoff, without queueing so much that an urgent call waits
// behind seconds of filler.
const icWorkers = 16

// identityCenter fetches one Identity Center instance. Everything it calls shares one
// quota per instance, so its cost is its number of calls: the listing is organised to
// make as few as possible and to keep the quota busy from the first call to the last.
type identityCenter struct {
	sso *ssoadmin.Client
	ids *identitystore.Client
	cfg Config
	log *zap.Logger
	q   *workQueue

	ic *inventory.IdentityCenter

	// caller is the account the connector calls from, management the organization's
	// management account ("" without Organizations), owner the instance's owner: together
	// they say whether ListAccountAssignmentsForPrincipal is allowed.
	caller, management, owner string

	mu          sync.Mutex
	memberships map[string][]string // group id -> user ids
	provisioned map[string][]string // account id -> permission set ARNs
	assignments map[inventory.Assignment]bool
	choice      AssignmentChoice
	fellBack    bool // ListAccountAssignmentsForPrincipal was refused; listing per account
}

// fetchInstance reads the instance, its identity store, its permission sets and
// its assignments.
//
// Order of work: the users, groups and permission sets are listed first, with
// permission set provisioning (which accounts have which permission set), because the
// assignment strategy is chosen from their counts. Memberships and permission set
// details fill the quota meanwhile. DescribePermissionSet has a much lower quota of its
// own (about 1 per second), so it runs on its own goroutine rather than tying up the
// workers.
//
// caller is the connector's account and management the organization's management
// account (empty without Organizations).
func fetchInstance(ctx context.Context, sso *ssoadmin.Client, ids *identitystore.Client, cfg Config, caller, management string) (*inventory.IdentityCenter, AssignmentChoice, error) {
	f := &identityCenter{sso: sso, ids: ids, cfg: cfg, log: cfg.Logger, caller: caller, management: management,
		memberships: map[string][]string{}, provisioned: map[string][]string{}, assignments: map[inventory.Assignment]bool{}}
	region := cfg.IdentityCenterRegion
	if region == "" {
		region = sso.Options().Region
	}
	inst, err := f.instance(ctx, region)
	if err != nil {
		return nil, AssignmentChoice{}, err
	}
	f.ic = &inventory.IdentityCenter{InstanceARN: aws.ToString(inst.InstanceArn), IdentityStoreID: aws.ToString(inst.IdentityStoreId), Region: region}
	f.owner = aws.ToString(inst.OwnerAccountId)

	f.q = newWorkQueue(ctx, icWorkers)
	defer f.q.close()

	var listed sync.WaitGroup // users, groups, permission sets and their provisioning
	sets := make(chan []*inventory.PermissionSet, 1)
	describeErr := make(chan error, 1)
	go func() { describeErr <- f.describeAll(f.q.ctx, sets) }()

	listed.Add(3)
	f.q.add(high, func(ctx context.Context) error {
		defer listed.Done()
		return f.listUsers(ctx)
	})
	f.q.add(high, func(ctx context.Context) error {
		defer listed.Done()
		if err := f.listGroups(ctx); err != nil {
			return err
		}
		for _, g := range f.ic.Groups {
			f.q.add(low, func(ctx context.Context) error { return f.listMembers(ctx, g.ID) })
		}
		return nil
	})
	f.q.add(high, func(ctx context.Context) error {
		defer listed.Done()
		err := f.listPermissionSets(ctx)
		if err != nil {
			close(sets)
			return err
		}
		for _, ps := range f.ic.PermissionSets {
			listed.Add(1)
			f.q.add(high, func(ctx context.Context) error {
				defer listed.Done()
				return f.listProvisioned(ctx, ps.ARN)
			})
			f.q.add(low, func(ctx context.Context) error { return f.permissionSetPolicies(ctx, ps) })
		}
		sets <- f.ic.PermissionSets
		return nil
	})

	// The assignment strategy needs the counts; memberships and permission set details
	// keep the quota busy meanwhile.
	if err := waitOrFail(&listed, f.q); err != nil {
		<-describeErr
		return nil, AssignmentChoice{}, err
	}
	f.chooseAndListAssignments()
	err = f.q.wait()
	if derr := <-describeErr; err == nil {
		err = derr
	}
	if err != nil {
		return nil, AssignmentChoice{}, err
	}
	f.finish()
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ic, f.choice, nil
}

// instance finds the Identity Center instance. ListInstances answers with the caller
// account's instances, and an account has at most one, so the first active one is it;
// ARN order only makes the choice stable should AWS ever list more.
func (f *identityCenter) instance(ctx context.Context, region string) (ssotypes.InstanceMetadata, error) {
	var all []ssotypes.InstanceMetadata
	err := paginate("ListInstances", func(token *string) (*string, error) {
		out, err := f.sso.ListInstances(ctx, &ssoadmin.ListInstancesInput{MaxResults: aws.Int32(icPageSize), NextToken: token})
		if err != nil {
			return nil, wrapf(err, "list Identity Center instances in %s", region)
		}
		all = append(all, out.Instances...)
		return out.NextToken, nil
	})
	if err != nil {
		return ssotypes.InstanceMetadata{}, err
	}
	var active []ssotypes.InstanceMetadata
	for _, in := range all {
		if in.Status == "" || in.Status == ssotypes.InstanceStatusActive {
			active = append(active, in)
		}
	}
	if len(active) == 0 {
		return ssotypes.InstanceMetadata{}, fmt.Errorf("no IAM Identity Center instance in %s: enable Identity Center there, or pass the region it is enabled in", region)
	}
	sort.SliceStable(active, func(i, j int) bool { return aws.ToString(active[i].InstanceArn) < aws.ToString(active[j].InstanceArn) })
	return active[0], nil
}

// enterpriseExtension is the Identity Store API's name for SCIM's enterprise extension
// (the user's manager, employee number, cost center, organization, division and
// department), the only extension it supports.
const enterpriseExtension = "aws:identitystore:enterprise"

// listUsers lists the identity store's users with their enterprise extension: ListUsers
// returns it in the same pages when asked for it by name, so the manager costs no call
// of its own (one call per page of 100 users, as without it).
func (f *identityCenter) listUsers(ctx context.Context) error {
	var users []*inventory.SSOUser
	err := paginate("ListUsers", func(token *string) (*string, error) {
		out, err := f.ids.ListUsers(ctx, &identitystore.ListUsersInput{IdentityStoreId: aws.String(f.ic.IdentityStoreID), MaxResults: aws.Int32(icPageSize), NextToken: token,
			Extensions: []string{enterpriseExtension}})
		if err != nil {
			return nil, wrapf(err, "Identity Store ListUsers")
		}
		for _, u := range out.Users {
			su := ssoUserOf(u)
			if err := readEnterprise(su, u.Extensions[enterpriseExtension]); err != nil {
				// Optional data in a shape not understood: the user is kept, without it,
				// and the log says so.
				f.log.Warn("Identity Center user's enterprise attributes (manager, department) not read",
					zap.String("user_id", su.ID), zap.Error(err))
			}
			users = append(users, su)
		}
		return out.NextToken, nil
	})
	if err != nil {
		return err
	}
	sort.Slice(users, func(i, j int) bool {
		if users[i].UserName != users[j].UserName {
			return users[i].UserName < users[j].UserName
		}
		return users[i].ID < users[j].ID
	})
	f.ic.Users = users
	return nil
}

// ssoUserOf reads a user of ListUsers, with its UserStatus (ENABLED or DISABLED) when
// the answer carries it; any other value is left unknown rather than guessed.
func ssoUserOf(u istypes.User) *inventory.SSOUser {
	su := &inventory.SSOUser{ID: aws.ToString(u.UserId), UserName: aws.ToString(u.UserName), DisplayName: aws.ToString(u.DisplayName)}
	switch u.UserStatus {
	case istypes.UserStatusEnabled:
		su.Status = inventory.UserEnabled
	case istypes.UserStatusDisabled:
		su.Status = inventory.UserDisabled
	}
	if u.Name != nil {
		su.GivenName, su.FamilyName = aws.ToString(u.Name.GivenName), aws.ToString(u.Name.FamilyName)
	}
	su.Title = aws.ToString(u.Title)
	for _, e := range u.Emails {
		if su.Email == "" || e.Primary {
			su.Email = aws.ToString(e.Value)
		}
		if e.Primary {
			break
		}
	}
	return su
}

// readEnterprise reads the enterprise extension's document into su: manager
// {"value": the manager's user id}, employeeNumber, costCenter, organization, division
// and department, the attribute names of SCIM's enterprise extension (RFC 7643 section
// 4.3), which the Identity Store API mirrors. AWS documents the extension only as a
// document, so names are matched regardless of case and a manager given as a bare
// string is taken as its id. doc is nil when the user has none.
func readEnterprise(su *inventory.SSOUser, doc document.Interface) error {
	if doc == nil {
		return nil
	}
	// Through its JSON: the SDK's decoded documents and documents built with
	// NewLazyDocument both give it, and numbers stay as written.
	b, err := doc.MarshalSmithyDocument()
	if err != nil {
		return fmt.Errorf("extension %s: %w", enterpriseExtension, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var attrs map[string]any
	if err := dec.Decode(&attrs); err != nil {
		return fmt.Errorf("extension %s is not an object of attributes: %w", enterpriseExtension, err)
	}
	for k, v := range attrs {
		switch strings.ToLower(k) {
		case "manager":
			switch m := v.(type) {
			case map[string]any:
				for mk, mv := range m {
					if strings.EqualFold(mk, "value") {
						su.ManagerID = scalarString(mv)
					}
				}
			default:
				su.ManagerID = scalarString(m)
			}
		case "employeenumber":
			su.EmployeeNumber = scalarString(v)
		case "costcenter":
			su.CostCenter = scalarString(v)
		case "organization":
			su.Organization = scalarString(v)
		case "division":
			su.Division = scalarString(v)
		case "department":
			su.Department = scalarString(v)
		}
	}
	return nil
}

// scalarString is a document scalar as text ("" for null, objects and lists).
func scalarString(v any) string {
	switch x := v.(type) {
	case nil, map[string]any, []any:
		return ""
	case string:
		return strings.TrimSpace(x)
	default:
		return strings.TrimSpace(fmt.Sprint(x))
	}
}

func (f *identityCenter) listGroups(ctx context.Context) error {
	var groups []*inventory.SSOGroup
	err := paginate("ListGroups", func(token *string) (*string, error) {
		out, err := f.ids.ListGroups(ctx, &identitystore.ListGroupsInput{IdentityStoreId: aws.String(f.ic.IdentityStoreID), MaxResults: aws.Int32(icPageSize), NextToken: token})
		if err != nil {
			return nil, wrapf(err, "Identity Store ListGroups")
		}
		for _, g := range out.Groups {
			groups = append(groups, &inventory.SSOGroup{ID: aws.ToString(g.GroupId), DisplayName: aws.ToString(g.DisplayName), Description: aws.ToString(g.Description)})
		}
		return out.NextToken, nil
	})
	if err != nil {
		return err
	}
	sort.Slice(groups, func(i, j int) bool {
		if groups[i].DisplayName != groups[j].DisplayName {
			return groups[i].DisplayName < groups[j].DisplayName
		}
		return groups[i].ID < groups[j].ID
	})
	f.ic.Groups = groups
	return nil
}

// listMembers lists one group's members. Per group rather than per user: organizations
// have far fewer groups than users.
func (f *identityCenter) listMembers(ctx context.Context, groupID string) error {
	members := []string{}
	err := paginate("ListGroupMemberships", func(token *string) (*string, error) {
		out, err := f.ids.ListGroupMemberships(ctx, &identitystore.ListGroupMembershipsInput{
			IdentityStoreId: aws.String(f.ic.IdentityStoreID), GroupId: aws.String(groupID), MaxResults: aws.Int32(icPageSize), NextToken: token})
		if err != nil {
			return nil, wrapf(err, "Identity Store ListGroupMemberships for group %s", groupID)
		}
		for _, m := range out.GroupMemberships {
			if id, ok := m.MemberId.(*istypes.MemberIdMemberUserId); ok {
				members = append(members, id.Value)
			}
		}
		return out.NextToken, nil
	})
	if err != nil {
		return err
	}
	sort.Strings(members)
	members = dedupSorted(members)
	f.mu.Lock()
	f.memberships[groupID] = members
	f.mu.Unlock()
	return nil
}

func (f *identityCenter) listPermissionSets(ctx context.Context) error {
	var sets []*inventory.PermissionSet
	err := paginate("ListPermissionSets", func(token *string) (*string, error) {
		out, err := f.sso.ListPermissionSets(ctx, &ssoadmin.ListPermissionSetsInput{InstanceArn: aws.String(f.ic.InstanceARN), MaxResults: aws.Int32(icPageSize), NextToken: token})
		if err != nil {
			return nil, wrapf(err, "ListPermissionSets")
		}
		for _, arn := range out.PermissionSets {
			sets = append(sets, &inventory.PermissionSet{ARN: arn})
		}
		return out.NextToken, nil
	})
	if err != nil {
		return err
	}
	f.ic.PermissionSets = sets
	return nil
}

// describeAll describes each permission set once, one at a time: the operation's own
// quota (about 1 per second) makes parallel calls pointless, and a worker waiting on it
// would idle the shared quota.
func (f *identityCenter) describeAll(ctx context.Context, lists <-chan []*inventory.PermissionSet) error {
	var sets []*inventory.PermissionSet
	select {
	case list, ok := <-lists:
		if !ok {
			return nil // listing failed; the queue reports why
		}
		sets = list
	case <-ctx.Done():
		return ctx.Err()
	}
	for _, ps := range sets {
		out, err := f.sso.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: aws.String(f.ic.InstanceARN), PermissionSetArn: aws.String(ps.ARN)})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err() // the queue's own error, if any, is reported first
			}
			err = wrapf(err, "DescribePermissionSet %s", ps.ARN)
			f.q.fail(err)
			return err
		}
		if d := out.PermissionSet; d != nil {
			f.mu.Lock()
			ps.Name, ps.Description = aws.ToString(d.Name), aws.ToString(d.Description)
			ps.SessionDuration = aws.ToString(d.SessionDuration)
			ps.CreatedAt = aws.ToTime(d.CreatedDate).UTC()
			f.mu.Unlock()
		}
	}
	return nil
}

// permissionSetPolicies reads a permission set's AWS-managed policies, inline policy
// and customer-managed policy references.
func (f *identityCenter) permissionSetPolicies(ctx context.Context, ps *inventory.PermissionSet) error {
	inst, arn := aws.String(f.ic.InstanceARN), aws.String(ps.ARN)
	var managed, customer []string
	err := paginate("ListManagedPoliciesInPermissionSet", func(token *string) (*string, error) {
		out, err := f.sso.ListManagedPoliciesInPermissionSet(ctx, &ssoadmin.ListManagedPoliciesInPermissionSetInput{InstanceArn: inst, PermissionSetArn: arn, MaxResults: aws.Int32(icPageSize), NextToken: token})
		if err != nil {
			return nil, wrapf(err, "ListManagedPoliciesInPermissionSet %s", ps.ARN)
		}
		for _, p := range out.AttachedManagedPolicies {
			managed = append(managed, aws.ToString(p.Arn))
		}
		return out.NextToken, nil
	})
	if err != nil {
		return err
	}
	err = paginate("ListCustomerManagedPolicyReferencesInPermissionSet", func(token *string) (*string, error) {
		out, err := f.sso.ListCustomerManagedPolicyReferencesInPermissionSet(ctx, &ssoadmin.ListCustomerManagedPolicyReferencesInPermissionSetInput{InstanceArn: inst, PermissionSetArn: arn, MaxResults: aws.Int32(icPageSize), NextToken: token})
		if err != nil {
			return nil, wrapf(err, "ListCustomerManagedPolicyReferencesInPermissionSet %s", ps.ARN)
		}
		for _, r := range out.CustomerManagedPolicyReferences {
			path := aws.ToString(r.Path)
			if path == "" {
				path = "/"
			}
			customer = append(customer, strings.TrimPrefix(path, "/")+aws.ToString(r.Name))
		}
		return out.NextToken, nil
	})
	if err != nil {
		return err
	}
	inline, err := f.sso.GetInlinePolicyForPermissionSet(ctx, &ssoadmin.GetInlinePolicyForPermissionSetInput{InstanceArn: inst, PermissionSetArn: arn})
	if err != nil {
		return wrapf(err, "GetInlinePolicyForPermissionSet %s", ps.ARN)
	}
	sort.Strings(managed)
	sort.Strings(customer)
	f.mu.Lock()
	ps.ManagedPolicies, ps.CustomerManagedPolicies = nilIfEmpty(managed), nilIfEmpty(customer)
	ps.InlinePolicy = decodePolicy(aws.ToString(inline.InlinePolicy))
	f.mu.Unlock()
	return nil
}

// listProvisioned lists the accounts a permission set is provisioned to.
func (f *identityCenter) listProvisioned(ctx context.Context, psARN string) error {
	var accounts []string
	err := paginate("ListAccountsForProvisionedPermissionSet", func(token *string) (*string, error) {
		out, err := f.sso.ListAccountsForProvisionedPermissionSet(ctx, &ssoadmin.ListAccountsForProvisionedPermissionSetInput{
			InstanceArn: aws.String(f.ic.InstanceARN), PermissionSetArn: aws.String(psARN), MaxResults: aws.Int32(icPageSize), NextToken: token})
		if err != nil {
			return nil, wrapf(err, "ListAccountsForProvisionedPermissionSet %s", psARN)
		}
		accounts = append(accounts, out.AccountIds...)
		return out.NextToken, nil
	})
	if err != nil {
		return err
	}
	f.mu.Lock()
	for _, a := range accounts {
		f.provisioned[a] = append(f.provisioned[a], psARN)
	}
	f.mu.Unlock()
	return nil
}

// chooseAndListAssignments picks the strategy that needs fewer calls and queues them.
// Listing per (account, permission set) pair costs at least one call per provisioned
// pair; listing per principal at least one call per user and group. Both give every
// assignment: an assignment implies its permission set is provisioned to its account.
//
// ListAccountAssignmentsForPrincipal is documented for the management account of an
// organization instance only, so it is chosen only where that holds (see
// byPrincipalAllowed); where AWS refuses it anyway, the listing falls back to
// ListAccountAssignments (see fallBack).
func (f *identityCenter) chooseAndListAssignments() {
	f.mu.Lock()
	pairs := 0
	for _, sets := range f.provisioned {
		pairs += len(dedupSorted(sortedCopy(sets)))
	}
	f.mu.Unlock()
	principals := len(f.ic.Users) + len(f.ic.Groups)
	choice := AssignmentChoice{PairCalls: pairs, PrincipalCalls: principals}
	allowed, why := byPrincipalAllowed(f.caller, f.owner, f.management)
	switch {
	case f.cfg.AssignmentStrategy != "":
		choice.Strategy = f.cfg.AssignmentStrategy
	case pairs <= principals:
		choice.Strategy = ByAccount
	case !allowed:
		choice.Strategy, choice.Note = ByAccount, why
	default:
		choice.Strategy = ByPrincipal
	}
	f.mu.Lock()
	f.choice = choice
	f.mu.Unlock()
	f.log.Info("listing Identity Center assignments", zap.String("strategy", string(choice.Strategy)),
		zap.Int("pair_calls", pairs), zap.Int("principal_calls", principals), zap.String("note", choice.Note))

	if choice.Strategy == ByAccount {
		f.queueByAccount()
		return
	}
	for _, u := range f.ic.Users {
		f.q.add(high, func(ctx context.Context) error { return f.assignmentsOf(ctx, ssotypes.PrincipalTypeUser, u.ID) })
	}
	for _, g := range f.ic.Groups {
		f.q.add(high, func(ctx context.Context) error { return f.assignmentsOf(ctx, ssotypes.PrincipalTypeGroup, g.ID) })
	}
}

// byPrincipalAllowed says whether ListAccountAssignmentsForPrincipal may be called: AWS
// documents it as callable only from the management account that owns an organization
// instance, and not for account instances. Without Organizations the management account
// is not known; the call is then tried, and a refusal falls back.
func byPrincipalAllowed(caller, owner, management string) (bool, string) {
	switch {
	case caller != "" && owner != "" && caller != owner:
		return false, fmt.Sprintf("ListAccountAssignmentsForPrincipal is for the management account only, and the caller's account %s is a delegated administrator of the instance of %s", caller, owner)
	case management != "" && owner != "" && owner != management:
		return false, fmt.Sprintf("ListAccountAssignmentsForPrincipal is not valid for account instances, and the instance belongs to %s, not to the management account %s", owner, management)
	}
	return true, ""
}

// queueByAccount queues one listing per provisioned (account, permission set) pair.
func (f *identityCenter) queueByAccount() {
	f.mu.Lock()
	accounts := make([]string, 0, len(f.provisioned))
	for a := range f.provisioned {
		accounts = append(accounts, a)
	}
	sort.Strings(accounts)
	var todo [][2]string
	for _, a := range accounts {
		for _, ps := range dedupSorted(sortedCopy(f.provisioned[a])) {
			todo = append(todo, [2]string{a, ps})
		}
	}
	f.mu.Unlock()
	for _, t := range todo {
		f.q.add(high, func(ctx context.Context) error { return f.assignmentsFor(ctx, t[0], t[1]) })
	}
}

// refusesByPrincipal reports whether err is AWS refusing ListAccountAssignmentsForPrincipal
// itself (a delegated administrator, an account instance, a policy without the action)
// rather than failing to answer: the other listing then gives the same assignments.
func refusesByPrincipal(err error) bool {
	return isDenied(err) || errorCode(err) == "ValidationException"
}

// fallBack switches the listing to ListAccountAssignments, once, after AWS refused
// ListAccountAssignmentsForPrincipal. What the by-principal calls already found is kept
// (it is a subset of what the per-account listing finds), and the per-account listing
// covers every provisioned pair, so nothing is lost.
func (f *identityCenter) fallBack(err error) {
	f.mu.Lock()
	if f.fellBack {
		f.mu.Unlock()
		return
	}
	f.fellBack = true
	f.choice.Strategy = ByAccount
	f.choice.Note = "AWS refused ListAccountAssignmentsForPrincipal (" + describe(err) + "); listed with ListAccountAssignments instead"
	f.mu.Unlock()
	f.log.Warn("ListAccountAssignmentsForPrincipal refused; listing assignments per account and permission set instead", zap.String("error", describe(err)))
	f.queueByAccount()
}

func (f *identityCenter) fallenBack() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fellBack
}

func (f *identityCenter) assignmentsFor(ctx context.Context, account, psARN string) error {
	var found []inventory.Assignment
	err := paginate("ListAccountAssignments", func(token *string) (*string, error) {
		out, err := f.sso.ListAccountAssignments(ctx, &ssoadmin.ListAccountAssignmentsInput{
			InstanceArn: aws.String(f.ic.InstanceARN), AccountId: aws.String(account), PermissionSetArn: aws.String(psARN),
			MaxResults: aws.Int32(icPageSize), NextToken: token})
		if err != nil {
			return nil, wrapf(err, "ListAccountAssignments for %s in %s", psARN, account)
		}
		for _, a := range out.AccountAssignments {
			found = append(found, inventory.Assignment{AccountID: orDefault(aws.ToString(a.AccountId), account),
				PermissionSetARN: orDefault(aws.ToString(a.PermissionSetArn), psARN),
				PrincipalType:    string(a.PrincipalType), PrincipalID: aws.ToString(a.PrincipalId)})
		}
		return out.NextToken, nil
	})
	if err != nil {
		return err
	}
	f.record(found)
	return nil
}

func (f *identityCenter) assignmentsOf(ctx context.Context, kind ssotypes.PrincipalType, id string) error {
	if f.fallenBack() {
		return nil // the per-account listing covers this principal
	}
	var found []inventory.Assignment
	err := paginate("ListAccountAssignmentsForPrincipal", func(token *string) (*string, error) {
		out, err := f.sso.ListAccountAssignmentsForPrincipal(ctx, &ssoadmin.ListAccountAssignmentsForPrincipalInput{
			InstanceArn: aws.String(f.ic.InstanceARN), PrincipalType: kind, PrincipalId: aws.String(id),
			MaxResults: aws.Int32(icPageSize), NextToken: token})
		if err != nil {
			if refusesByPrincipal(err) {
				return nil, err
			}
			return nil, wrapf(err, "ListAccountAssignmentsForPrincipal for %s %s", kind, id)
		}
		for _, a := range out.AccountAssignments {
			// Keep the principal AWS names: should it ever report an assignment a user
			// holds through a group, it is recorded as the group's (and deduplicated).
			found = append(found, inventory.Assignment{AccountID: aws.ToString(a.AccountId), PermissionSetARN: aws.ToString(a.PermissionSetArn),
				PrincipalType: orDefault(string(a.PrincipalType), string(kind)), PrincipalID: orDefault(aws.ToString(a.PrincipalId), id)})
		}
		return out.NextToken, nil
	})
	if err != nil && refusesByPrincipal(err) && ctx.Err() == nil {
		f.fallBack(err)
		return nil
	}
	if err != nil {
		return err
	}
	f.record(found)
	return nil
}

func (f *identityCenter) record(found []inventory.Assignment) {
	f.mu.Lock()
	for _, a := range found {
		f.assignments[a] = true
	}
	f.mu.Unlock()
}

// finish assembles the sorted, plain result.
func (f *identityCenter) finish() {
	f.mu.Lock()
	defer f.mu.Unlock()
	ic := f.ic
	ic.Members = map[string][]string{}
	for _, g := range ic.Groups {
		ic.Members[g.ID] = f.memberships[g.ID]
		if ic.Members[g.ID] == nil {
			ic.Members[g.ID] = []string{}
		}
	}
	ic.Provisioned = map[string][]string{}
	for a, sets := range f.provisioned {
		ic.Provisioned[a] = dedupSorted(sortedCopy(sets))
	}
	sort.Slice(ic.PermissionSets, func(i, j int) bool {
		if ic.PermissionSets[i].Name != ic.PermissionSets[j].Name {
			return ic.PermissionSets[i].Name < ic.PermissionSets[j].Name
		}
		return ic.PermissionSets[i].ARN < ic.PermissionSets[j].ARN
	})
	ic.Assignments = make([]*inventory.Assignment, 0, len(f.assignments))
	for a := range f.assignments {
		ic.Assignments = append(ic.Assignments, &a)
	}
	sortAssignments(ic.Assignments)
}

func sortAssignments(list []*inventory.Assignment) {
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i], list[j]
		switch {
		case a.AccountID != b.AccountID:
			return a.AccountID < b.AccountID
		case a.PermissionSetARN != b.PermissionSetARN:
			return a.PermissionSetARN < b.PermissionSetARN
		case a.PrincipalType != b.PrincipalType:
			return a.PrincipalType < b.PrincipalType
		}
		return a.PrincipalID < b.PrincipalID
	})
}

// linkReservedRoles sets PermissionSetARN on the roles Identity Center creates in each
// account for a permission set: /aws-reserved/sso.amazonaws.com/[REGION/]
// AWSReservedSSO_<permission set name>_<16 hex>. Names are unique within an instance,
// so the name identifies the permission set.
func linkReservedRoles(accounts []*inventory.Account, ic *inventory.IdentityCenter) {
	byName := map[string]string{}
	for _, ps := range ic.PermissionSets {
		byName[ps.Name] = ps.ARN
	}
	for _, a := range accounts {
		if a.IAM == nil {
			continue
		}
		for _, r := range a.IAM.Roles {
			if name, ok := reservedPermissionSetName(r.Path, r.Name); ok {
				r.PermissionSetARN = byName[name]
			}
		}
	}
}

// reservedPermissionSetName extracts the permission set name from a reserved role.
func reservedPermissionSetName(path, roleName string) (string, bool) {
	const prefix = "AWSReservedSSO_"
	if !strings.HasPrefix(path, "/aws-reserved/sso.amazonaws.com/") || !strings.HasPrefix(roleName, prefix) {
		return "", false
	}
	rest := strings.TrimPrefix(roleName, prefix)
	i := strings.LastIndex(rest, "_")
	if i <= 0 {
		return "", false
	}
	return rest[:i], true
}

func dedupSorted(list []string) []string {
	if len(list) < 2 {
		return list
	}
	out := list[:1]
	for _, s := range list[1:] {
		if s != out[len(out)-1] {
			out = append(out, s)
		}
	}
	return out
}

func nilIfEmpty(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	return list
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
