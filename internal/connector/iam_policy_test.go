package connector

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/inventory"
)

// policiesSnapshot has inline policies on a user, a group (with a member) and a role, a
// broken inline document, permissions boundaries on the user and the role, and a
// customer-managed policy.
func policiesSnapshot() *inventory.Snapshot {
	const acct = "111111111111"
	return &inventory.Snapshot{
		FetchedAt: fetchedAt, CallerAccountID: acct,
		Accounts: []*inventory.Account{{
			ID: acct, Name: "solo", Status: "ACTIVE", Synced: true,
			IAM: &inventory.IAM{
				Users: []*inventory.User{{
					ARN: "arn:aws:iam::111111111111:user/dev", Name: "dev", Groups: []string{"devs"},
					PermissionsBoundary: "arn:aws:iam::111111111111:policy/boundaries/dev-cap",
					InlinePolicies: []inventory.InlinePolicy{
						{Name: "scratch", Document: `{"Version":"2012-10-17","Statement":{"Sid":"Scratch","Effect":"Allow","Action":["s3:GetObject","S3:PutObject"],"Resource":"arn:aws:s3:::scratch/*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"},"Bool":{"aws:SecureTransport":true}}}}`},
						{Name: "broken", Document: `{"Statement":[`},
					},
				}},
				Groups: []*inventory.Group{{
					ARN: "arn:aws:iam::111111111111:group/devs", Name: "devs",
					InlinePolicies: []inventory.InlinePolicy{{Name: "no-iam", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`}},
				}},
				Roles: []*inventory.Role{{
					ARN: "arn:aws:iam::111111111111:role/app", Name: "app",
					PermissionsBoundary: readOnlyARN,
					InlinePolicies:      []inventory.InlinePolicy{{Name: "all-but-iam", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`}},
				}},
				Policies: []*inventory.ManagedPolicy{{
					ARN: "arn:aws:iam::111111111111:policy/boundaries/dev-cap", Name: "dev-cap", Path: "/boundaries/", DefaultVersion: "v1",
					Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","logs:*"],"Resource":"*"}]}`,
				}},
			},
		}},
	}
}

// Inline policies are iam_policy resources of their owner's account, granted "attached" to
// the owner; a group's grant expands to its members. Their profiles (and managed policies')
// say what they grant; owners list their inline policies by name and carry their
// permissions boundary.
func TestInlinePoliciesAndBoundaries(t *testing.T) {
	s := syncToFile(t, NewFromSnapshot(policiesSnapshot()))
	const (
		dev     = "arn:aws:iam::111111111111:user/dev"
		devs    = "arn:aws:iam::111111111111:group/devs"
		app     = "arn:aws:iam::111111111111:role/app"
		devCap  = "arn:aws:iam::111111111111:policy/boundaries/dev-cap"
		scratch = dev + "/inline/scratch"
		broken  = dev + "/inline/broken"
		noIAM   = devs + "/inline/no-iam"
		allBut  = app + "/inline/all-but-iam"
	)
	assertSet(t, "resources", s.resources, []string{
		"account 111111111111 | solo | ",
		"iam_user " + dev + " | dev | account:111111111111",
		"iam_group " + devs + " | devs | account:111111111111",
		"iam_role " + app + " | app | account:111111111111",
		"iam_policy " + devCap + " | dev-cap | account:111111111111",
		"iam_policy " + scratch + " | scratch (inline, user dev) | account:111111111111",
		"iam_policy " + broken + " | broken (inline, user dev) | account:111111111111",
		"iam_policy " + noIAM + " | no-iam (inline, group devs) | account:111111111111",
		"iam_policy " + allBut + " | all-but-iam (inline, role app) | account:111111111111",
	})
	assertSet(t, "grants", s.grants, []string{
		"iam_group:" + devs + ":member -> iam_user:" + dev,
		"iam_policy:" + scratch + ":attached -> iam_user:" + dev,
		"iam_policy:" + broken + ":attached -> iam_user:" + dev,
		"iam_policy:" + noIAM + ":attached -> iam_group:" + devs,
		// Expanded by baton's syncer: the group's inline policy applies to its members.
		"iam_policy:" + noIAM + ":attached -> iam_user:" + dev,
		"iam_policy:" + allBut + ":attached -> iam_role:" + app,
		// A boundary grants nothing: dev-cap has no grant.
	})

	want := map[string]map[string]any{
		"iam_user " + dev:   {"permissions_boundary": devCap, "inline_policies": []any{"broken", "scratch"}},
		"iam_role " + app:   {"permissions_boundary": readOnlyARN, "inline_policies": []any{"all-but-iam"}},
		"iam_group " + devs: {"inline_policies": []any{"no-iam"}},
		"iam_policy " + scratch: {
			"policy_type": "inline", "policy_name": "scratch", "owner_arn": dev, "owner_type": "user", "owner_name": "dev",
			"account_id": "111111111111", "aws_managed": false,
			"services":   []any{"s3"},
			"statements": []any{"(Scratch) Allow s3:GetObject,S3:PutObject on arn:aws:s3:::scratch/* when Bool aws:SecureTransport=true and StringEquals aws:RequestedRegion=us-east-1"},
		},
		"iam_policy " + noIAM: {
			"owner_type": "group",
			"statements": []any{"Deny iam:* on *"},
		},
		"iam_policy " + allBut: {
			"owner_type": "role", "services": []any{"*"},
			"statements": []any{"Allow all actions except iam:* on *"},
		},
		"iam_policy " + devCap: {
			"policy_type": "customer_managed", "services": []any{"logs", "s3"},
			"statements": []any{"Allow s3:*,logs:* on *"},
		},
	}
	for key, keys := range want {
		r := s.byID[key]
		if r == nil {
			t.Errorf("no resource %s", key)
			continue
		}
		typ, id, _ := strings.Cut(key, " ")
		p := s.profile(t, typ, id)
		for k, v := range keys {
			if !reflect.DeepEqual(p[k], v) {
				t.Errorf("%s profile %s = %#v, want %#v", key, k, p[k], v)
			}
		}
	}
	// A Deny-only policy allows no service; a document that does not parse says so
	// instead of an empty summary.
	if p := s.profile(t, "iam_policy", noIAM); p["services"] != nil {
		t.Errorf("no-iam services = %v, want none", p["services"])
	}
	p := s.profile(t, "iam_policy", broken)
	if p["statements"] != nil || p["document_error"] == nil || p["document"] != `{"Statement":[` {
		t.Errorf("broken policy profile: statements %v, document_error %v, document %v", p["statements"], p["document_error"], p["document"])
	}
	if p := s.profile(t, "iam_user", dev); p["inline_policies"] == nil {
		t.Error("dev has no inline_policies")
	}
}

// Grant and entitlement ids of inline policies parse, so that inspect and revoke can name
// them; their principal must still be a user, group or role.
func TestInlinePolicyIDsParse(t *testing.T) {
	id := "iam_policy:arn:aws:iam::111111111111:group/teams/devs/inline/no-iam:attached:iam_user:arn:aws:iam::111111111111:user/dev"
	g, err := ParseGrantID(id)
	if err != nil {
		t.Fatal(err)
	}
	if g.Entitlement.ResourceID != "arn:aws:iam::111111111111:group/teams/devs/inline/no-iam" || g.PrincipalID != "arn:aws:iam::111111111111:user/dev" {
		t.Errorf("parsed %+v", g)
	}
	if _, err := ParseEntitlementID("iam_policy:arn:aws:iam::111111111111:group/devs/no-iam:attached"); err == nil {
		t.Error("an id that is neither a policy ARN nor <owner ARN>/inline/<name> parsed")
	}
}
