package doctor

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/awssim"
)

// AWS documentation pages the cases below cite (IAM User Guide).
const (
	docEvalLogic    = "reference_policies_evaluation-logic.html: requests are implicitly denied by default; an explicit deny in any policy overrides any allow"
	docAction       = "reference_policies_elements_action.html: the prefix and the action name are case insensitive (iam:ListAccessKeys is IAM:listaccesskeys); * and ? may stand for part of a name"
	docNotAction    = "reference_policies_elements_notaction.html: NotAction matches every action except those listed; with Allow it does not grant the listed ones, with Deny it denies all others"
	docResource     = "reference_policies_elements_resource.html: wildcards * and ? may be used within any ARN segment, * matching across the slashes of a resource path"
	docARNCase      = "reference-arns.html / reference_policies_elements_resource.html: ARNs, and so Resource elements, are case sensitive"
	docNotResource  = "reference_policies_elements_notresource.html: NotResource matches every resource except those listed"
	docPrefix       = "reference_policies_elements_action.html: an action is service-prefix:name; iam:* covers IAM only"
	docGrammar      = "reference_policies_grammar.html: Statement may be one statement object or a list; Action and Resource a string or a list"
	docCondition    = "reference_policies_elements_condition_operators.html: StringEquals is an exact, case-sensitive match; StringLike uses * and ?; a key missing from the request makes the condition false unless the operator ends in IfExists"
	docCondLogic    = "reference_policies_condition-logic-multiple-context-keys-or-values.html: several values for one key are ORed, several keys (and operators) are ANDed"
	docResourceOrg  = "reference_policies_condition-keys.html#condition-keys-resourceorgid: aws:ResourceOrgID is the organization of the account that owns the resource, absent when that account is in no organization"
	docNegatedMatch = "reference_policies_elements_condition_operators.html: StringNotEquals is negated matching; a Deny with StringNotEquals aws:ResourceOrgID keeps principals inside the organization (data perimeter)"
)

// evalCase is one documented rule of IAM policy evaluation, with the decision AWS
// documents for it. doctor, when set, is what gatehouse doctor's own evaluator decides
// instead, because it does not know the request's condition keys: it never counts on a
// conditional Allow and reports a conditional Deny as "allowed, unless" (see evaluate.go).
type evalCase struct {
	name     string
	cite     string
	docs     []string
	action   string
	resource string
	context  map[string][]string
	want     string
	doctor   string
}

const orgCtx = "o-abcdefghij"

func evalCases() []evalCase {
	allow := func(action, resource string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":` + action + `,"Resource":` + resource + `}]}`
	}
	inOrg := map[string][]string{"aws:ResourceOrgID": {orgCtx}, "aws:ResourceAccount": {"222222222222"}}
	otherOrg := map[string][]string{"aws:ResourceOrgID": {"o-zzzzzzzzzz"}, "aws:ResourceAccount": {"999999999999"}}
	noOrg := map[string][]string{"aws:ResourceAccount": {"999999999999"}}
	assumeInOrg := `{"Version":"2012-10-17","Statement":[{"Sid":"AssumeMemberRole","Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::*:role/GatehouseMember","Condition":{"StringEquals":{"aws:ResourceOrgID":"` + orgCtx + `"}}}]}`
	role := "arn:aws:iam::222222222222:role/GatehouseMember"
	return []evalCase{
		{name: "no statement applies", cite: docEvalLogic, docs: []string{allow(`"s3:GetObject"`, `"*"`)},
			action: "iam:ListUsers", resource: "*", want: "implicitDeny"},
		{name: "no policy at all", cite: docEvalLogic, action: "iam:ListUsers", resource: "*", want: "implicitDeny"},
		{name: "an Allow that matches", cite: docEvalLogic, docs: []string{allow(`"iam:ListUsers"`, `"*"`)},
			action: "iam:ListUsers", resource: "*", want: "allowed"},
		{name: "explicit deny beats allow in the same policy", cite: docEvalLogic,
			docs:   []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"},{"Effect":"Deny","Action":"iam:DeleteUser","Resource":"*"}]}`},
			action: "iam:DeleteUser", resource: "arn:aws:iam::111111111111:user/bob", want: "explicitDeny"},
		{name: "explicit deny in another policy beats allow", cite: docEvalLogic,
			docs:   []string{allow(`"*"`, `"*"`), `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:CreateAccessKey","Resource":"*"}]}`},
			action: "iam:CreateAccessKey", resource: "arn:aws:iam::111111111111:user/bob", want: "explicitDeny"},
		{name: "action wildcard * within a name", cite: docAction, docs: []string{allow(`"iam:List*"`, `"*"`)},
			action: "iam:ListUsers", resource: "*", want: "allowed"},
		{name: "action wildcard does not reach other names", cite: docAction, docs: []string{allow(`"iam:List*"`, `"*"`)},
			action: "iam:GetUser", resource: "*", want: "implicitDeny"},
		{name: "action wildcard ? is exactly one character", cite: docAction, docs: []string{allow(`"iam:ListUser?"`, `"*"`)},
			action: "iam:ListUsers", resource: "*", want: "allowed"},
		{name: "action wildcard ? is not zero characters", cite: docAction, docs: []string{allow(`"iam:ListUsers?"`, `"*"`)},
			action: "iam:ListUsers", resource: "*", want: "implicitDeny"},
		{name: "actions are case-insensitive", cite: docAction, docs: []string{allow(`"IAM:listusers"`, `"*"`)},
			action: "iam:ListUsers", resource: "*", want: "allowed"},
		{name: "a service's * does not cover another service", cite: docPrefix, docs: []string{allow(`"iam:*"`, `"*"`)},
			action: "sts:AssumeRole", resource: role, want: "implicitDeny"},
		{name: "resource wildcard * spans the path", cite: docResource, docs: []string{allow(`"iam:GetUser"`, `"arn:aws:iam::*:user/*"`)},
			action: "iam:GetUser", resource: "arn:aws:iam::111111111111:user/service/deploy-bot", want: "allowed"},
		{name: "resource wildcard ? is one character", cite: docResource, docs: []string{allow(`"s3:ListBucket"`, `"arn:aws:s3:::logs-?"`)},
			action: "s3:ListBucket", resource: "arn:aws:s3:::logs-ab", want: "implicitDeny"},
		{name: "resource in another account", cite: docResource, docs: []string{allow(`"iam:GetUser"`, `"arn:aws:iam::111111111111:user/*"`)},
			action: "iam:GetUser", resource: "arn:aws:iam::222222222222:user/alice", want: "implicitDeny"},
		{name: "resources are case-sensitive", cite: docARNCase, docs: []string{allow(`"iam:GetUser"`, `"arn:aws:iam::111111111111:user/Alice"`)},
			action: "iam:GetUser", resource: "arn:aws:iam::111111111111:user/alice", want: "implicitDeny"},
		{name: "the role name of the member role statement", cite: docResource, docs: []string{allow(`"sts:AssumeRole"`, `"arn:aws:iam::*:role/GatehouseMember"`)},
			action: "sts:AssumeRole", resource: "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole", want: "implicitDeny"},
		{name: "Allow with NotAction grants the other actions", cite: docNotAction,
			docs:   []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`},
			action: "s3:GetObject", resource: "arn:aws:s3:::reports/q1.csv", want: "allowed"},
		{name: "Allow with NotAction does not grant the listed ones", cite: docNotAction,
			docs:   []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`},
			action: "iam:CreateUser", resource: "arn:aws:iam::111111111111:user/eve", want: "implicitDeny"},
		{name: "Deny with NotAction denies every other action", cite: docNotAction,
			docs:   []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","NotAction":["iam:Get*","iam:List*"],"Resource":"*"}]}`},
			action: "iam:DeleteUser", resource: "arn:aws:iam::111111111111:user/bob", want: "explicitDeny"},
		{name: "Deny with NotAction spares the listed ones", cite: docNotAction,
			docs:   []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","NotAction":["iam:Get*","iam:List*"],"Resource":"*"}]}`},
			action: "iam:GetUser", resource: "arn:aws:iam::111111111111:user/bob", want: "allowed"},
		{name: "NotResource excludes the listed resources", cite: docNotResource,
			docs:   []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","NotResource":"arn:aws:iam::*:user/admin-*"}]}`},
			action: "iam:GetUser", resource: "arn:aws:iam::111111111111:user/admin-bob", want: "implicitDeny"},
		{name: "NotResource covers the others", cite: docNotResource,
			docs:   []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","NotResource":"arn:aws:iam::*:user/admin-*"}]}`},
			action: "iam:GetUser", resource: "arn:aws:iam::111111111111:user/alice", want: "allowed"},
		{name: "a single statement object and string elements", cite: docGrammar,
			docs:   []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::111111111111:user/alice"}}`},
			action: "iam:GetUser", resource: "arn:aws:iam::111111111111:user/alice", want: "allowed"},
		{name: "condition on aws:ResourceOrgID holds", cite: docResourceOrg + "; " + docCondition, docs: []string{assumeInOrg},
			action: "sts:AssumeRole", resource: role, context: inOrg, want: "allowed", doctor: "implicitDeny"},
		{name: "condition on aws:ResourceOrgID: a role of another organization", cite: docResourceOrg, docs: []string{assumeInOrg},
			action: "sts:AssumeRole", resource: "arn:aws:iam::999999999999:role/GatehouseMember", context: otherOrg, want: "implicitDeny"},
		{name: "condition on aws:ResourceOrgID: an account in no organization lacks the key", cite: docResourceOrg + "; " + docCondition, docs: []string{assumeInOrg},
			action: "sts:AssumeRole", resource: "arn:aws:iam::999999999999:role/GatehouseMember", context: noOrg, want: "implicitDeny"},
		{name: "IfExists holds when the key is missing", cite: docCondition,
			docs:   []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*","Condition":{"StringEqualsIfExists":{"aws:ResourceOrgID":"` + orgCtx + `"}}}]}`},
			action: "sts:AssumeRole", resource: role, context: noOrg, want: "allowed", doctor: "implicitDeny"},
		{name: "StringEquals is case-sensitive", cite: docCondition,
			docs:   []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*","Condition":{"StringEquals":{"aws:ResourceOrgID":"O-ABCDEFGHIJ"}}}]}`},
			action: "sts:AssumeRole", resource: role, context: inOrg, want: "implicitDeny"},
		{name: "StringLike with wildcards", cite: docCondition,
			docs:   []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*","Condition":{"StringLike":{"aws:ResourceOrgID":"o-abc*"}}}]}`},
			action: "sts:AssumeRole", resource: role, context: inOrg, want: "allowed", doctor: "implicitDeny"},
		{name: "several values of one key are ORed", cite: docCondLogic,
			docs:   []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*","Condition":{"StringEquals":{"aws:ResourceOrgID":["o-zzzzzzzzzz","` + orgCtx + `"]}}}]}`},
			action: "sts:AssumeRole", resource: role, context: inOrg, want: "allowed", doctor: "implicitDeny"},
		{name: "several keys are ANDed", cite: docCondLogic,
			docs:   []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*","Condition":{"StringEquals":{"aws:ResourceOrgID":"` + orgCtx + `","aws:ResourceAccount":"333333333333"}}}]}`},
			action: "sts:AssumeRole", resource: role, context: inOrg, want: "implicitDeny"},
		{name: "a conditional Deny that holds", cite: docEvalLogic + "; " + docNegatedMatch,
			docs:   []string{allow(`"*"`, `"*"`), `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:ResourceOrgID":"` + orgCtx + `"}}}]}`},
			action: "s3:GetObject", resource: "arn:aws:s3:::outside/x", context: otherOrg, want: "explicitDeny", doctor: "allowed"},
		{name: "a conditional Deny that does not hold", cite: docNegatedMatch,
			docs:   []string{allow(`"*"`, `"*"`), `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:ResourceOrgID":"` + orgCtx + `"}}}]}`},
			action: "s3:GetObject", resource: "arn:aws:s3:::inside/x", context: inOrg, want: "allowed"},
	}
}

// TestEvaluationFollowsAWSDocumentation runs every documented case against both policy
// evaluators: the simulator's (which plays AWS in every test) and gatehouse doctor's
// (which checks a role's policies when the IAM policy simulator may not be called). They
// share no code, so a mistake in one is not hidden by the other agreeing with itself.
func TestEvaluationFollowsAWSDocumentation(t *testing.T) {
	for _, c := range evalCases() {
		t.Run(c.name, func(t *testing.T) {
			if c.cite == "" {
				t.Fatal("every case cites the AWS rule it checks")
			}
			if got := awssim.EvaluateIdentityPolicies(c.docs, c.action, c.resource, c.context); got != c.want {
				t.Errorf("simulator: %s on %s = %s, want %s (%s)", c.action, c.resource, got, c.want, c.cite)
			}
			want := c.want
			if c.doctor != "" {
				want = c.doctor
			}
			ev := evaluatePolicies(c.docs, c.action, c.resource)
			got := "implicitDeny"
			switch {
			case ev.allowed:
				got = "allowed"
			case strings.HasPrefix(ev.why, "an explicit Deny"):
				got = "explicitDeny"
			}
			if got != want {
				t.Errorf("doctor: %s on %s = %s (%s), want %s (%s)", c.action, c.resource, got, ev.why, want, c.cite)
			}
			if c.doctor == "allowed" && !strings.Contains(ev.why, "unless the conditions of a Deny hold") {
				t.Errorf("doctor allows %s despite a conditional Deny without saying so: %q", c.action, ev.why)
			}
		})
	}
}
