package awsfetch

import (
	"reflect"
	"testing"

	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/inventory"
)

// boundaryFixture has users and roles with and without permissions boundaries (a
// customer-managed and an AWS-managed one) and inline policies on a user, a group and a role.
const boundaryFixture = `
now: 2026-01-01T00:00:00Z
management_account: "111111111111"
accounts:
  - id: "111111111111"
    iam:
      policies:
        - name: dev-cap
          path: /boundaries/
          document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: ["s3:*", "logs:*"], Resource: "*"}]}
      groups:
        - name: devs
          inline_policies:
            no-iam: {Version: "2012-10-17", Statement: [{Effect: Deny, Action: "iam:*", Resource: "*"}]}
      users:
        - name: dev
          groups: [devs]
          permissions_boundary: dev-cap
          inline_policies:
            scratch: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "s3:*", Resource: "arn:aws:s3:::scratch/*"}]}
        - name: ops
      roles:
        - name: app
          trust: {service: ec2.amazonaws.com}
          permissions_boundary: ReadOnlyAccess
          inline_policies:
            queue: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: ["sqs:SendMessage"], Resource: "arn:aws:sqs:us-east-1:111111111111:jobs"}]}
        - name: plain
          trust: {service: ec2.amazonaws.com}
`

// The fetch reads users' and roles' permissions boundaries from
// GetAccountAuthorizationDetails into the inventory, and every inline policy with its
// decoded document.
func TestFetchPermissionsBoundariesAndInlinePolicies(t *testing.T) {
	env := startSim(t, fixture(t, boundaryFixture), awssim.Options{})
	cfg := env.cfg
	cfg.Orgs = false
	snap, _ := fetch(t, cfg)
	in := snap.Accounts[0].IAM

	boundaries := map[string]string{}
	inline := map[string][]inventory.InlinePolicy{}
	for _, u := range in.Users {
		boundaries[u.ARN] = u.PermissionsBoundary
		inline[u.ARN] = u.InlinePolicies
	}
	for _, r := range in.Roles {
		boundaries[r.ARN] = r.PermissionsBoundary
		inline[r.ARN] = r.InlinePolicies
	}
	for _, g := range in.Groups {
		inline[g.ARN] = g.InlinePolicies
	}
	for arn, want := range map[string]string{
		"arn:aws:iam::111111111111:user/dev":   "arn:aws:iam::111111111111:policy/boundaries/dev-cap",
		"arn:aws:iam::111111111111:user/ops":   "",
		"arn:aws:iam::111111111111:role/app":   "arn:aws:iam::aws:policy/ReadOnlyAccess",
		"arn:aws:iam::111111111111:role/plain": "",
	} {
		if got, ok := boundaries[arn]; !ok || got != want {
			t.Errorf("%s: boundary %q (fetched %v), want %q", arn, got, ok, want)
		}
	}
	for arn, want := range map[string][]inventory.InlinePolicy{
		"arn:aws:iam::111111111111:user/dev":   {{Name: "scratch", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::scratch/*"}]}`}},
		"arn:aws:iam::111111111111:group/devs": {{Name: "no-iam", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`}},
		"arn:aws:iam::111111111111:role/app":   {{Name: "queue", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:SendMessage"],"Resource":"arn:aws:sqs:us-east-1:111111111111:jobs"}]}`}},
	} {
		if got := inline[arn]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: inline policies %+v, want %+v", arn, got, want)
		}
	}
}
