package connector

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/pagination"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/gatehouse/gatehouse/internal/c1zread"
	"github.com/gatehouse/gatehouse/internal/inventory"
)

// synced is what a test reads back from the .c1z file WriteC1Z wrote, in comparable form.
type synced struct {
	types        []string
	resources    []string // "type id | display name | parent type:id"
	entitlements []string // ids
	grants       []string // "entitlement id -> principal type:id"
	byID         map[string]*v2.Resource
	sum          *Summary
	contents     *c1zread.Contents
}

func syncToFile(t *testing.T, c *Connector, opts ...WriteOption) *synced {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sync.c1z")
	sum, err := WriteC1Z(ctx, c, path, append([]WriteOption{WithStrictChecks()}, opts...)...)
	if err != nil {
		t.Fatalf("WriteC1Z: %v", err)
	}
	contents, err := c1zread.Read(ctx, path, "")
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	s := &synced{sum: sum, contents: contents, byID: map[string]*v2.Resource{}}
	for _, rt := range contents.ResourceTypes {
		s.types = append(s.types, rt.GetId())
	}
	for _, r := range contents.Resources {
		parent := ""
		if p := r.GetParentResourceId(); p != nil {
			parent = p.GetResourceType() + ":" + p.GetResource()
		}
		s.resources = append(s.resources, r.GetId().GetResourceType()+" "+r.GetId().GetResource()+" | "+r.GetDisplayName()+" | "+parent)
		s.byID[r.GetId().GetResourceType()+" "+r.GetId().GetResource()] = r
	}
	for _, e := range contents.Entitlements {
		s.entitlements = append(s.entitlements, e.GetId())
	}
	for _, g := range contents.Grants {
		p := g.GetPrincipal().GetId()
		s.grants = append(s.grants, g.GetEntitlement().GetId()+" -> "+p.GetResourceType()+":"+p.GetResource())
	}
	return s
}

func assertSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	if slices.Equal(got, want) {
		return
	}
	var missing, extra []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			extra = append(extra, g)
		}
	}
	t.Errorf("%s differ (got %d, want %d)\nmissing:\n  %s\nunexpected:\n  %s", what, len(got), len(want),
		strings.Join(missing, "\n  "), strings.Join(extra, "\n  "))
}

func (s *synced) profile(t *testing.T, typ, id string) map[string]any {
	t.Helper()
	r := s.byID[typ+" "+id]
	if r == nil {
		t.Fatalf("no resource %s %s", typ, id)
	}
	return resource.GetProfile(r).AsMap()
}

func (s *synced) status(t *testing.T, typ, id string) v2.Status_ResourceStatus {
	t.Helper()
	return s.byID[typ+" "+id].GetStatus().GetStatus()
}

func TestSingleAccountWithoutOrganizations(t *testing.T) {
	s := syncToFile(t, NewFromSnapshot(singleAccountSnapshot()))

	const (
		alice  = "arn:aws:iam::111111111111:user/alice"
		bob    = "arn:aws:iam::111111111111:user/bob"
		admins = "arn:aws:iam::111111111111:group/admins"
		ci     = "arn:aws:iam::111111111111:role/ci"
		deploy = "arn:aws:iam::111111111111:policy/deploy"
		// Bob's inline policy is a resource of its own, granted to him.
		bobS3Read = bob + "/inline/s3-read"
	)
	assertSet(t, "resource types", s.types, []string{"account", "iam_group", "iam_policy", "iam_role", "iam_user"})
	assertSet(t, "resources", s.resources, []string{
		"account 111111111111 | solo | ",
		"iam_user " + alice + " | alice | account:111111111111",
		"iam_user " + bob + " | bob | account:111111111111",
		"iam_group " + admins + " | admins | account:111111111111",
		"iam_role " + ci + " | ci | account:111111111111",
		"iam_policy " + deploy + " | deploy | account:111111111111",
		"iam_policy " + adminAccessARN + " | AdministratorAccess | ",
		"iam_policy " + bobS3Read + " | s3-read (inline, user bob) | account:111111111111",
	})
	assertSet(t, "entitlements", s.entitlements, []string{
		"iam_group:" + admins + ":member",
		"iam_policy:" + deploy + ":attached",
		"iam_policy:" + adminAccessARN + ":attached",
		"iam_policy:" + bobS3Read + ":attached",
	})
	assertSet(t, "grants", s.grants, []string{
		"iam_group:" + admins + ":member -> iam_user:" + alice,
		"iam_policy:" + deploy + ":attached -> iam_user:" + bob,
		"iam_policy:" + deploy + ":attached -> iam_role:" + ci,
		"iam_policy:" + adminAccessARN + ":attached -> iam_group:" + admins,
		// Expanded by baton's syncer from the group's grant.
		"iam_policy:" + adminAccessARN + ":attached -> iam_user:" + alice,
		"iam_policy:" + bobS3Read + ":attached -> iam_user:" + bob,
	})

	// The summary counts what the file holds.
	if s.sum.Grants != len(s.grants) || s.sum.Entitlements != len(s.entitlements) {
		t.Errorf("summary says %d entitlements and %d grants, the file has %d and %d", s.sum.Entitlements, s.sum.Grants, len(s.entitlements), len(s.grants))
	}
	wantCounts := map[string]int{"account": 1, "iam_user": 2, "iam_group": 1, "iam_role": 1, "iam_policy": 3}
	for typ, n := range wantCounts {
		if s.sum.Resources[typ] != n {
			t.Errorf("summary: %d %s resources, want %d", s.sum.Resources[typ], typ, n)
		}
	}
	if len(s.sum.SkippedAccounts) != 0 {
		t.Errorf("skipped accounts: %v", s.sum.SkippedAccounts)
	}

	// Alice: email from the "Email" tag, console and MFA from the credential report, the MFA
	// device, key age against the snapshot time, last login = her key's last use (1 day
	// ago), later than her password's (2 days ago).
	p := s.profile(t, "iam_user", alice)
	for k, want := range map[string]any{
		"email":              "alice@example.com",
		"console_access":     true,
		"mfa_active":         true,
		"password_last_used": "2025-05-30T12:00:00Z",
		"last_login":         "2025-05-31T12:00:00Z",
		"created":            "2024-04-27T12:00:00Z",
		"status":             "active",
	} {
		if p[k] != want {
			t.Errorf("alice profile %s = %v, want %v", k, p[k], want)
		}
	}
	keys, _ := p["access_keys"].([]any)
	if len(keys) != 1 {
		t.Fatalf("alice access_keys = %v", p["access_keys"])
	}
	key := keys[0].(map[string]any)
	if key["age_days"] != float64(90) || key["last_used_service"] != "s3" || key["active"] != true {
		t.Errorf("alice key = %v", key)
	}
	devices, _ := p["mfa_devices"].([]any)
	if len(devices) != 1 || devices[0].(map[string]any)["type"] != "virtual" {
		t.Errorf("alice mfa_devices = %v", p["mfa_devices"])
	}
	ut, err := resource.GetUserTrait(s.byID["iam_user "+alice])
	if err != nil {
		t.Fatal(err)
	}
	if ut.GetLogin() != "alice" || len(ut.GetEmails()) != 1 || !ut.GetMfaStatus().GetMfaEnabled() || ut.GetLastLogin().AsTime() != fetchedAt.Add(-day) {
		t.Errorf("alice user trait = %v", ut)
	}
	if got := s.status(t, "iam_user", alice); got != v2.Status_RESOURCE_STATUS_ENABLED {
		t.Errorf("alice status %v", got)
	}
	// Bob has neither a password nor an active key: he cannot authenticate.
	if got := s.status(t, "iam_user", bob); got != v2.Status_RESOURCE_STATUS_DISABLED {
		t.Errorf("bob status %v, want disabled", got)
	}
	if inline := s.profile(t, "iam_user", bob)["inline_policies"].([]any); len(inline) != 1 || inline[0] != "s3-read" {
		t.Errorf("bob inline policies = %v", inline)
	}
	if tp := s.profile(t, "iam_role", ci)["trust_policy"]; !strings.Contains(tp.(string), "codebuild.amazonaws.com") {
		t.Errorf("ci trust policy = %v", tp)
	}
	acct := s.profile(t, "account", "111111111111")
	if acct["synced"] != true || acct["root_mfa_active"] != true || acct["root_active_access_keys"] != float64(0) {
		t.Errorf("account profile = %v", acct)
	}
	if pol := s.profile(t, "iam_policy", adminAccessARN); pol["aws_managed"] != true || pol["attachment_count"] != float64(1) {
		t.Errorf("AdministratorAccess profile = %v", pol)
	}
}

func TestOrganizationWithIdentityCenter(t *testing.T) {
	s := syncToFile(t, NewFromSnapshot(orgSnapshot()))

	const (
		breakglass   = "arn:aws:iam::111111111111:user/breakglass"
		deployer     = "arn:aws:iam::222222222222:user/deployer"
		devs         = "arn:aws:iam::222222222222:group/devs"
		auditor      = "arn:aws:iam::111111111111:role/auditor"
		reservedMgmt = "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdminAccess_0123456789abcdef"
		reservedProd = "arn:aws:iam::222222222222:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_ReadOnly_fedcba9876543210"
		unused       = "arn:aws:iam::222222222222:policy/unused"
		psAdmin      = "ps-aaaaaaaaaaaaaaaa"
		psRO         = "ps-bbbbbbbbbbbbbbbb"
	)
	assertSet(t, "resource types", s.types, []string{
		"access_key", "account", "iam_group", "iam_policy", "iam_role", "iam_user",
		"organizational_unit", "permission_set", "sso_group", "sso_user",
	})
	assertSet(t, "resources", s.resources, []string{
		"organizational_unit r-abcd | Root | ",
		"organizational_unit ou-abcd-11111111 | Workloads | organizational_unit:r-abcd",
		"organizational_unit ou-abcd-22222222 | Prod | organizational_unit:ou-abcd-11111111",
		"account 111111111111 | management | organizational_unit:r-abcd",
		"account 222222222222 | prod | organizational_unit:ou-abcd-22222222",
		"account 333333333333 | sandbox | organizational_unit:ou-abcd-11111111",
		"iam_user " + breakglass + " | breakglass | account:111111111111",
		"iam_user " + deployer + " | deployer | account:222222222222",
		"iam_group " + devs + " | devs | account:222222222222",
		"iam_role " + auditor + " | auditor | account:111111111111",
		"iam_role " + reservedMgmt + " | AWSReservedSSO_AdminAccess_0123456789abcdef | account:111111111111",
		"iam_role " + reservedProd + " | AWSReservedSSO_ReadOnly_fedcba9876543210 | account:222222222222",
		"iam_policy " + unused + " | unused | account:222222222222",
		// AWS-managed: one resource for all accounts, no parent.
		"iam_policy " + adminAccessARN + " | AdministratorAccess | ",
		"iam_policy " + readOnlyARN + " | ReadOnlyAccess | ",
		"access_key AKIAPRODDEPLOYER0001 | AKIAPRODDEPLOYER0001 | account:222222222222",
		"sso_user u-1 | Alice | ",
		"sso_user u-2 | Bob | ",
		"sso_group g-1 | Admins | ",
		"permission_set " + psAdminARN + " | AdminAccess | ",
		"permission_set " + psReadOnlyARN + " | ReadOnly | ",
	})
	// Every permission set on every account, skipped or not, held or not.
	assertSet(t, "entitlements", s.entitlements, []string{
		"account:111111111111:" + psAdmin, "account:111111111111:" + psRO,
		"account:222222222222:" + psAdmin, "account:222222222222:" + psRO,
		"account:333333333333:" + psAdmin, "account:333333333333:" + psRO,
		"iam_group:" + devs + ":member",
		"iam_policy:" + unused + ":attached",
		"iam_policy:" + adminAccessARN + ":attached",
		"iam_policy:" + readOnlyARN + ":attached",
		"sso_group:g-1:member",
	})
	assertSet(t, "grants", s.grants, []string{
		"account:111111111111:" + psAdmin + " -> sso_group:g-1",
		"account:111111111111:" + psAdmin + " -> sso_user:u-1", // expanded from g-1
		"account:222222222222:" + psRO + " -> sso_user:u-2",    // u-deleted is dropped
		"account:333333333333:" + psRO + " -> sso_group:g-1",
		"account:333333333333:" + psRO + " -> sso_user:u-1", // expanded from g-1
		"sso_group:g-1:member -> sso_user:u-1",
		"iam_group:" + devs + ":member -> iam_user:" + deployer,
		"iam_policy:" + adminAccessARN + ":attached -> iam_role:" + reservedMgmt,
		"iam_policy:" + readOnlyARN + ":attached -> iam_role:" + auditor,
		"iam_policy:" + readOnlyARN + ":attached -> iam_group:" + devs,
		"iam_policy:" + readOnlyARN + ":attached -> iam_user:" + deployer, // expanded from devs
	})

	// Expanded grants name the group entitlement they came through.
	for _, g := range s.contents.Grants {
		if g.GetId() != "account:333333333333:"+psRO+":sso_user:u-1" {
			continue
		}
		if _, ok := g.GetSources().GetSources()["sso_group:g-1:member"]; !ok {
			t.Errorf("expanded grant sources = %v", g.GetSources())
		}
	}
	var names []string
	for _, e := range s.contents.Entitlements {
		if e.GetId() == "account:333333333333:"+psAdmin {
			names = append(names, e.GetDisplayName(), e.GetSlug())
			if !slices.ContainsFunc(e.GetGrantableTo(), func(rt *v2.ResourceType) bool { return rt.GetId() == TypeSSOGroup }) {
				t.Errorf("account entitlement grantable to %v", e.GetGrantableTo())
			}
		}
	}
	if !slices.Equal(names, []string{"AdminAccess on sandbox", psAdmin}) {
		t.Errorf("account entitlement display name and slug = %v", names)
	}

	if got, want := s.sum.SkippedAccounts, []SkippedAccount{{ID: "333333333333", Name: "sandbox", Reason: "assume role OrganizationAccountAccessRole: AccessDenied"}}; !slices.Equal(got, want) {
		t.Errorf("skipped accounts = %v", got)
	}
	sandbox := s.profile(t, "account", "333333333333")
	if sandbox["synced"] != false || sandbox["skip_reason"] == nil || sandbox["ou_path"] != "Root/Workloads" {
		t.Errorf("sandbox profile = %v", sandbox)
	}
	if s.profile(t, "account", "111111111111")["management_account"] != true {
		t.Error("management account not marked")
	}
	// Reserved roles are linked to their permission set: by the fetcher, or by name.
	for role, ps := range map[string]string{reservedMgmt: psAdminARN, reservedProd: psReadOnlyARN} {
		if got := s.profile(t, "iam_role", role)["permission_set_arn"]; got != ps {
			t.Errorf("%s permission_set_arn = %v, want %s", role, got, ps)
		}
	}
	if got := s.profile(t, "iam_role", auditor)["permission_set_arn"]; got != nil {
		t.Errorf("auditor linked to %v", got)
	}
	ro := s.profile(t, "iam_policy", readOnlyARN)
	if accounts, _ := ro["attached_in_accounts"].([]any); len(accounts) != 2 || ro["attachment_count"] != float64(2) {
		t.Errorf("ReadOnlyAccess profile = %v", ro)
	}
	ps := s.profile(t, "permission_set", psAdminARN)
	if ps["session_duration"] != "PT8H" || ps["description"] != "Full access" {
		t.Errorf("permission set profile = %v", ps)
	}
	// A user whose status AWS did not report is unknown, not "enabled".
	if got := s.status(t, "sso_user", "u-1"); got != v2.Status_RESOURCE_STATUS_UNSPECIFIED {
		t.Errorf("sso_user status without a reported status = %v", got)
	}
	key := s.byID["access_key AKIAPRODDEPLOYER0001"]
	st := &v2.SecretTrait{}
	annos := annotations.Annotations(key.GetAnnotations())
	if ok, err := annos.Pick(st); err != nil || !ok {
		t.Fatalf("access key has no secret trait: %v", err)
	}
	if st.GetIdentityId().GetResourceType() != TypeIAMUser || st.GetIdentityId().GetResource() != deployer {
		t.Errorf("access key owner = %v", st.GetIdentityId())
	}
	if p := s.profile(t, "access_key", "AKIAPRODDEPLOYER0001"); p["last_used_date"] != "2025-05-31" || p["status"] != "Active" {
		t.Errorf("access key profile = %v", p)
	}
	for _, r := range s.contents.Resources {
		if pr := resource.GetProfile(r); pr != nil {
			for k := range pr.GetFields() {
				if strings.Contains(strings.ToLower(k), "secret") {
					t.Errorf("%s has a profile field %q", r.GetId().GetResource(), k)
				}
			}
		}
	}
}

// TestUserStatus checks each user's status and profile: enabled and disabled as AWS
// reported them (Identity Store API or SCIM), and unknown with the reason when it was not
// reported, never "disabled" for a user SCIM did not return.
func TestUserStatus(t *testing.T) {
	snap := orgSnapshot()
	ic := snap.IdentityCenter
	ic.Users = append(ic.Users, &inventory.SSOUser{ID: "u-3", UserName: "carol@example.com", DisplayName: "Carol"})
	ic.Users[0].Status, ic.Users[0].StatusSource = inventory.UserDisabled, inventory.StatusFromIdentityStore // u-2
	ic.Users[1].Status, ic.Users[1].StatusSource = inventory.UserEnabled, inventory.StatusFromSCIM           // u-1
	ic.Users[2].StatusNote = "unknown: the SCIM API did not return this user"
	c := NewFromSnapshot(snap)
	x, err := c.index(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		status        v2.Status_ResourceStatus
		details       string
		profileStatus string
		source        string
	}
	for id, w := range map[string]want{
		"u-1": {v2.Status_RESOURCE_STATUS_ENABLED, "", "enabled", "scim"},
		"u-2": {v2.Status_RESOURCE_STATUS_DISABLED, "disabled in Identity Center", "disabled", "identitystore"},
		"u-3": {v2.Status_RESOURCE_STATUS_UNSPECIFIED, "unknown: the SCIM API did not return this user", "unknown", "none"},
	} {
		r, err := x.ic.ssoUserResource(x.ic.userByID[id])
		if err != nil {
			t.Fatal(err)
		}
		if got := r.GetStatus(); got.GetStatus() != w.status || got.GetDetails() != w.details {
			t.Errorf("%s status = %v %q, want %v %q", id, got.GetStatus(), got.GetDetails(), w.status, w.details)
		}
		ut, _ := resource.GetUserTrait(r)
		if got := v2.Status_ResourceStatus(ut.GetStatus().GetStatus()); got != w.status { //nolint:staticcheck // the deprecated trait status must agree
			t.Errorf("%s trait status = %v, want %v", id, got, w.status)
		}
		p := resource.GetProfile(r).AsMap()
		if p["status"] != w.profileStatus || p["status_source"] != w.source {
			t.Errorf("%s profile status %v from %v, want %s from %s", id, p["status"], p["status_source"], w.profileStatus, w.source)
		}
	}
}

// TestPageSizeOne syncs with every listing paged one item at a time, and with parallel
// syncer workers: the file must be the same as with the defaults.
func TestPageSizeOne(t *testing.T) {
	want := syncToFile(t, NewFromSnapshot(orgSnapshot()))
	c := NewFromSnapshot(orgSnapshot())
	c.pageSize = 1
	got := syncToFile(t, c, WithWorkers(4))
	assertSet(t, "resources", got.resources, want.resources)
	assertSet(t, "entitlements", got.entitlements, want.entitlements)
	assertSet(t, "grants", got.grants, want.grants)
}

// TestEachResourceListedOnce walks the connector the way baton's syncer does (every type
// without a parent, then each ChildResourceType under its parent) and counts listings.
func TestEachResourceListedOnce(t *testing.T) {
	for name, snap := range map[string]*inventory.Snapshot{"single": singleAccountSnapshot(), "org": orgSnapshot()} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := NewFromSnapshot(snap)
			c.pageSize = 2
			syncers := map[string]interface {
				List(context.Context, *v2.ResourceId, resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error)
			}{}
			for _, rs := range c.ResourceSyncers(ctx) {
				syncers[rs.ResourceType(ctx).GetId()] = rs
			}
			seen := map[string]int{}
			type job struct {
				typ    string
				parent *v2.ResourceId
			}
			var queue []job
			for _, typ := range slices.Sorted(func(yield func(string) bool) {
				for k := range syncers {
					if !yield(k) {
						return
					}
				}
			}) {
				queue = append(queue, job{typ: typ})
			}
			for len(queue) > 0 {
				j := queue[0]
				queue = queue[1:]
				token := ""
				for {
					list, res, err := syncers[j.typ].List(ctx, j.parent, resource.SyncOpAttrs{PageToken: pagination.Token{Token: token}})
					if err != nil {
						t.Fatal(err)
					}
					for _, r := range list {
						seen[r.GetId().GetResourceType()+" "+r.GetId().GetResource()]++
						for _, a := range r.GetAnnotations() {
							crt := &v2.ChildResourceType{}
							if a.MessageIs(crt) {
								if err := a.UnmarshalTo(crt); err != nil {
									t.Fatal(err)
								}
								queue = append(queue, job{typ: crt.GetResourceTypeId(), parent: r.GetId()})
							}
						}
					}
					if token = res.NextPageToken; token == "" {
						break
					}
				}
			}
			total := 0
			for id, n := range seen {
				total += n
				if n != 1 {
					t.Errorf("%s listed %d times", id, n)
				}
			}
			want := 0
			for _, n := range syncToFile(t, NewFromSnapshot(snap)).sum.Resources {
				want += n
			}
			if total != want {
				t.Errorf("walk listed %d resources, the sync wrote %d", total, want)
			}
		})
	}
}

// TestProfilesAreStructs guards the profile builder: every value must be one structpb
// accepts, or the whole listing fails.
func TestProfilesAreStructs(t *testing.T) {
	p := profile{}
	p.strs("l", []string{"a"})
	p.tags("t", map[string]string{"k": "v"})
	p.list("m", []map[string]any{{"n": 1}})
	if _, err := structpb.NewStruct(p); err != nil {
		t.Fatal(err)
	}
}
