package main

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/types/resource"

	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/c1zread"
)

// policyProfileLines renders the profile data that says what IAM access amounts to, for
// the golden files: the permissions boundary of users and roles, and for every policy its
// kind, the services it allows and each statement's summary, so that a change in what a
// policy is read to grant shows up in review.
func policyProfileLines(r *v2.Resource) []string {
	id := r.GetId().GetResourceType() + ":" + r.GetId().GetResource()
	p := resource.GetProfile(r).AsMap()
	var out []string
	switch r.GetId().GetResourceType() {
	case "iam_user", "iam_role":
		if b, ok := p["permissions_boundary"].(string); ok {
			out = append(out, "profile "+id+" permissions_boundary="+b)
		}
	case "iam_policy":
		line := fmt.Sprintf("profile %s policy_type=%v", id, p["policy_type"])
		if s, ok := p["services"].([]any); ok {
			line += " services=" + joinAny(s)
		}
		if e, ok := p["document_error"]; ok {
			line += fmt.Sprintf(" document_error=%v", e)
		}
		out = append(out, line)
		statements, _ := p["statements"].([]any)
		for i, st := range statements {
			out = append(out, fmt.Sprintf("profile %s statement %d: %v", id, i+1, st))
		}
	}
	return out
}

func joinAny(l []any) string {
	s := make([]string, len(l))
	for i, v := range l {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, ",")
}

// A sync against the simulator puts users' and roles' permissions boundaries in their
// profiles and makes every inline policy an iam_policy resource granted to its owner (to a
// group's members too), with a summary of what it grants.
func TestSyncInlinePoliciesAndPermissionsBoundaries(t *testing.T) {
	_, info := fixtureSim(t, "single-account.yaml", awssim.Options{})
	file := filepath.Join(t.TempDir(), "acme.c1z")
	if _, stderr, err := runSync(t, info, file); err != nil {
		t.Fatalf("gatehouse sync: %v\n%s", err, stderr)
	}
	ctx := context.Background()
	c, err := c1zread.Read(ctx, file, "")
	if err != nil {
		t.Fatal(err)
	}
	const (
		acct       = "arn:aws:iam::111111111111:"
		powerUser  = "arn:aws:iam::aws:policy/PowerUserAccess"
		readConfig = acct + "role/app-server/inline/read-config"
		denyIAM    = acct + "group/developers/inline/deny-iam-writes"
	)
	profiles := map[string]map[string]any{}
	for _, r := range c.Resources {
		profiles[r.GetId().GetResourceType()+" "+r.GetId().GetResource()] = resource.GetProfile(r).AsMap()
	}
	for key, want := range map[string]any{
		"iam_user " + acct + "user/service/ci-deployer": powerUser,
		"iam_role " + acct + "role/app-server":          powerUser,
		"iam_user " + acct + "user/alice":               nil,
	} {
		p, ok := profiles[key]
		if !ok {
			t.Errorf("no resource %s", key)
			continue
		}
		if p["permissions_boundary"] != want {
			t.Errorf("%s permissions_boundary = %v, want %v", key, p["permissions_boundary"], want)
		}
	}
	rc := profiles["iam_policy "+readConfig]
	if rc == nil {
		t.Fatalf("no iam_policy %s", readConfig)
	}
	want := []any{"(AppParameters) Allow ssm:GetParameter,ssm:GetParametersByPath on arn:aws:ssm:us-east-1:111111111111:parameter/app/* when StringEquals aws:RequestedRegion=us-east-1"}
	if !reflect.DeepEqual(rc["statements"], want) {
		t.Errorf("read-config statements = %#v\nwant %#v", rc["statements"], want)
	}
	if rc["owner_arn"] != acct+"role/app-server" || rc["policy_type"] != "inline" || !strings.Contains(fmt.Sprint(rc["document"]), "ssm:GetParametersByPath") {
		t.Errorf("read-config profile = %v", rc)
	}
	grants := map[string]bool{}
	for _, g := range c.Grants {
		grants[g.GetEntitlement().GetId()+" <- "+g.GetPrincipal().GetId().GetResource()] = true
	}
	for _, g := range []string{
		"iam_policy:" + readConfig + ":attached <- " + acct + "role/app-server",
		"iam_policy:" + denyIAM + ":attached <- " + acct + "group/developers",
		"iam_policy:" + denyIAM + ":attached <- " + acct + "user/bob", // through the group
		"iam_policy:" + acct + "user/service/ci-deployer/inline/deploy:attached <- " + acct + "user/service/ci-deployer",
	} {
		if !grants[g] {
			t.Errorf("missing grant %s", g)
		}
	}
}
