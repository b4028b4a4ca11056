package connector

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/awsprovision"
)

const (
	testUserID  = "cc9b75fb9b-6e43fa43-597d-4a5c-a00a-800c04a122d4"
	testGroupID = "303d3882da-53e5c14c-9a44-4724-a5ac-4714562047fc"
)

func TestParseEntitlementID(t *testing.T) {
	cases := []struct {
		id   string
		want EntitlementRef
	}{
		{"account:222222222222:ps-0e796abeac4b342c", EntitlementRef{TypeAccount, "222222222222", "ps-0e796abeac4b342c"}},
		{"iam_group:arn:aws:iam::333333333333:group/deployers:member", EntitlementRef{TypeIAMGroup, "arn:aws:iam::333333333333:group/deployers", "member"}},
		{"iam_group:arn:aws:iam::333333333333:group/ci/deploy:ers/admins:member", EntitlementRef{TypeIAMGroup, "arn:aws:iam::333333333333:group/ci/deploy:ers/admins", "member"}},
		{"sso_group:" + testGroupID + ":member", EntitlementRef{TypeSSOGroup, testGroupID, "member"}},
		{"iam_policy:arn:aws:iam::aws:policy/ReadOnlyAccess:attached", EntitlementRef{TypeIAMPolicy, "arn:aws:iam::aws:policy/ReadOnlyAccess", "attached"}},
		{"iam_policy:arn:aws-us-gov:iam::123456789012:policy/team/ci:attached", EntitlementRef{TypeIAMPolicy, "arn:aws-us-gov:iam::123456789012:policy/team/ci", "attached"}},
	}
	for _, c := range cases {
		got, err := ParseEntitlementID(c.id)
		if err != nil || got != c.want {
			t.Errorf("ParseEntitlementID(%q) = %+v, %v; want %+v", c.id, got, err, c.want)
		}
		if got.ID() != c.id {
			t.Errorf("%+v.ID() = %q, want %q", got, got.ID(), c.id)
		}
	}
}

func TestParseEntitlementIDRejects(t *testing.T) {
	cases := map[string]string{
		"":        `"" is not an entitlement id: entitlement ids are <resource type>:<resource id>:<slug>, e.g. account:222222222222:ps-0123456789abcdef (ids are printed by gatehouse inspect --file FILE.c1z entitlements)`,
		"account": `"account" is not an entitlement id: entitlement ids are <resource type>:<resource id>:<slug>, e.g. account:222222222222:ps-0123456789abcdef (ids are printed by gatehouse inspect --file FILE.c1z entitlements)`,
		"iam_user:arn:aws:iam::111111111111:user/alice:member":        `entitlement "iam_user:arn:aws:iam::111111111111:user/alice:member": resource type "iam_user" has no entitlements; those that do are account, iam_group, sso_group and iam_policy (ids are printed by gatehouse inspect --file FILE.c1z entitlements)`,
		"account:prod:ps-0e796abeac4b342c":                            `entitlement "account:prod:ps-0e796abeac4b342c": "prod" is not a 12-digit account id (ids are printed by gatehouse inspect --file FILE.c1z entitlements)`,
		"account:222222222222:ReadOnly":                               `entitlement "account:222222222222:ReadOnly": the account entitlement is a permission set id (ps-...), not "ReadOnly" (ids are printed by gatehouse inspect --file FILE.c1z entitlements)`,
		"iam_group:arn:aws:iam::333333333333:group/deployers:members": `entitlement "iam_group:arn:aws:iam::333333333333:group/deployers:members": the iam_group entitlement is member, not "members" (ids are printed by gatehouse inspect --file FILE.c1z entitlements)`,
		"iam_group:arn:aws:iam::333333333333:user/deployers:member":   `entitlement "iam_group:arn:aws:iam::333333333333:user/deployers:member": "arn:aws:iam::333333333333:user/deployers" is not an IAM group ARN (ids are printed by gatehouse inspect --file FILE.c1z entitlements)`,
	}
	for id, want := range cases {
		_, err := ParseEntitlementID(id)
		if err == nil || err.Error() != want {
			t.Errorf("ParseEntitlementID(%q) error = %v\nwant %s", id, err, want)
		}
	}
}

func TestParseGrantID(t *testing.T) {
	cases := []struct {
		id   string
		want GrantRef
	}{
		{"account:222222222222:ps-0e796abeac4b342c:sso_group:" + testGroupID,
			GrantRef{EntitlementRef{TypeAccount, "222222222222", "ps-0e796abeac4b342c"}, TypeSSOGroup, testGroupID}},
		{"account:222222222222:ps-0e796abeac4b342c:sso_user:" + testUserID,
			GrantRef{EntitlementRef{TypeAccount, "222222222222", "ps-0e796abeac4b342c"}, TypeSSOUser, testUserID}},
		{"sso_group:" + testGroupID + ":member:sso_user:" + testUserID,
			GrantRef{EntitlementRef{TypeSSOGroup, testGroupID, "member"}, TypeSSOUser, testUserID}},
		// Both sides are ARNs, with colons of their own.
		{"iam_group:arn:aws:iam::333333333333:group/deployers:member:iam_user:arn:aws:iam::333333333333:user/service/deploy-bot",
			GrantRef{EntitlementRef{TypeIAMGroup, "arn:aws:iam::333333333333:group/deployers", "member"}, TypeIAMUser, "arn:aws:iam::333333333333:user/service/deploy-bot"}},
		// A path that spells out the separator does not confuse it: only one split has
		// two valid sides.
		{"iam_group:arn:aws:iam::333333333333:group/x:member:iam_user:y/deployers:member:iam_user:arn:aws:iam::333333333333:user/bob",
			GrantRef{EntitlementRef{TypeIAMGroup, "arn:aws:iam::333333333333:group/x:member:iam_user:y/deployers", "member"}, TypeIAMUser, "arn:aws:iam::333333333333:user/bob"}},
		{"iam_policy:arn:aws:iam::aws:policy/ReadOnlyAccess:attached:iam_role:arn:aws:iam::111111111111:role/auditor",
			GrantRef{EntitlementRef{TypeIAMPolicy, "arn:aws:iam::aws:policy/ReadOnlyAccess", "attached"}, TypeIAMRole, "arn:aws:iam::111111111111:role/auditor"}},
	}
	for _, c := range cases {
		got, err := ParseGrantID(c.id)
		if err != nil || got != c.want {
			t.Errorf("ParseGrantID(%q) = %+v, %v\nwant %+v", c.id, got, err, c.want)
			continue
		}
		if got.ID() != c.id {
			t.Errorf("%+v.ID() = %q, want %q", got, got.ID(), c.id)
		}
	}
}

func TestParseGrantIDRejects(t *testing.T) {
	const tail = "; grant ids are <entitlement id>:<principal type>:<principal id>, as gatehouse inspect --file FILE.c1z grants prints them"
	cases := map[string]string{
		"account:222222222222:ps-0e796abeac4b342c": `"account:222222222222:ps-0e796abeac4b342c" is not a grant id: no account entitlement followed by a principal (sso_user, sso_group) and its id` + tail,
		// An IAM user cannot hold an account's permission set.
		"account:222222222222:ps-0e796abeac4b342c:iam_user:arn:aws:iam::222222222222:user/alice": `"account:222222222222:ps-0e796abeac4b342c:iam_user:arn:aws:iam::222222222222:user/alice" is not a grant id: no account entitlement followed by a principal (sso_user, sso_group) and its id` + tail,
		"sso_user:" + testUserID + ":member:sso_user:" + testUserID:                              `"sso_user:` + testUserID + `:member:sso_user:` + testUserID + `" is not a grant id: resource type "sso_user" has no entitlements` + tail,
		"sso_group:" + testGroupID + ":member:sso_user:bob":                                      `"sso_group:` + testGroupID + `:member:sso_user:bob" is not a grant id: no sso_group entitlement followed by a principal (sso_user) and its id` + tail,
	}
	for id, want := range cases {
		_, err := ParseGrantID(id)
		if err == nil || err.Error() != want {
			t.Errorf("ParseGrantID(%q) error = %v\nwant %s", id, err, want)
		}
	}
}

func TestAccessFor(t *testing.T) {
	mustEnt := func(id string) EntitlementRef {
		e, err := ParseEntitlementID(id)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	cases := []struct {
		ent, ptype, pid string
		want            awsprovision.Access
	}{
		{"iam_group:arn:aws:iam::333333333333:group/ci/deployers:member", TypeIAMUser, "arn:aws:iam::333333333333:user/bob",
			awsprovision.IAMGroupMembership{GroupARN: "arn:aws:iam::333333333333:group/ci/deployers", UserARN: "arn:aws:iam::333333333333:user/bob"}},
		{"sso_group:" + testGroupID + ":member", TypeSSOUser, testUserID,
			awsprovision.SSOGroupMembership{GroupID: testGroupID, UserID: testUserID}},
		{"account:222222222222:ps-0e796abeac4b342c", TypeSSOUser, testUserID,
			awsprovision.AccountAssignment{AccountID: "222222222222", PermissionSet: "ps-0e796abeac4b342c", PrincipalType: awsprovision.PrincipalUser, PrincipalID: testUserID}},
		{"account:222222222222:ps-0e796abeac4b342c", TypeSSOGroup, testGroupID,
			awsprovision.AccountAssignment{AccountID: "222222222222", PermissionSet: "ps-0e796abeac4b342c", PrincipalType: awsprovision.PrincipalGroup, PrincipalID: testGroupID}},
	}
	for _, c := range cases {
		got, err := AccessFor(mustEnt(c.ent), c.ptype, c.pid)
		if err != nil || got != c.want {
			t.Errorf("AccessFor(%s, %s, %s) = %#v, %v; want %#v", c.ent, c.ptype, c.pid, got, err, c.want)
		}
	}

	rejects := []struct {
		ent, ptype, pid string
		kind            awsprovision.ErrorKind
		want            string
	}{
		{"iam_group:arn:aws:iam::333333333333:group/deployers:member", TypeSSOUser, testUserID, awsprovision.KindWrongPrincipal,
			"entitlement iam_group:arn:aws:iam::333333333333:group/deployers:member is granted to iam_user, not to sso_user"},
		{"account:222222222222:ps-0e796abeac4b342c", TypeIAMUser, "arn:aws:iam::222222222222:user/bob", awsprovision.KindWrongPrincipal,
			"entitlement account:222222222222:ps-0e796abeac4b342c is granted to sso_user or sso_group, not to iam_user"},
		{"account:222222222222:ps-0e796abeac4b342c", "user", "bob", awsprovision.KindWrongPrincipal,
			`"user" is not a principal type; principals are iam_user, sso_user, sso_group`},
		{"account:222222222222:ps-0e796abeac4b342c", TypeSSOUser, "bob", awsprovision.KindUnknownPrincipal,
			`"bob" is not a sso_user id (ids are printed by gatehouse inspect --file FILE.c1z resources --type sso_user)`},
		{"iam_policy:arn:aws:iam::aws:policy/ReadOnlyAccess:attached", TypeIAMRole, "arn:aws:iam::111111111111:role/auditor", awsprovision.KindOther,
			"entitlement iam_policy:arn:aws:iam::aws:policy/ReadOnlyAccess:attached: not provisionable: Gatehouse reads iam_policy entitlements but does not grant or revoke them"},
	}
	for _, c := range rejects {
		_, err := AccessFor(mustEnt(c.ent), c.ptype, c.pid)
		if err == nil || err.Error() != c.want || awsprovision.KindOf(err) != c.kind {
			t.Errorf("AccessFor(%s, %s, %s) error = %v (kind %d)\nwant %s (kind %d)", c.ent, c.ptype, c.pid, err, awsprovision.KindOf(err), c.want, c.kind)
		}
	}
}
