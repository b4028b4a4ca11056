package awsprovision

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// A dry run reads what the real run reads, so a missing principal, group, permission set
// or account fails it the same way. What it cannot learn by reading, it checks in the
// ways AWS offers without changing anything, so that it does not promise a change the
// real run would not make:
//
//   - the permissions of the planned writes, with the IAM policy simulator
//     (iam:SimulatePrincipalPolicy) on the role that would make them: it evaluates that
//     role's identity policies, its permissions boundary and the organization's SCPs;
//   - the state of the account of an Identity Center assignment: AWS accepts an
//     assignment in an account that is not ACTIVE and then reports it FAILED.
//
// What cannot be checked is said in a note, never passed over.

// dryRunProblem is why a planned change would not succeed.
type dryRunProblem struct {
	denied bool // the call would be refused (else AWS would run it and report FAILED)
	why    string
}

// permissionCheck is an IAM action a planned write needs, and the resource it acts on
// ("*" when the action has no resource type or Gatehouse cannot name it).
type permissionCheck struct {
	action, resource string
}

// checkPermissions asks the IAM policy simulator, through c (an IAM client in the
// account of c.role), whether c.role may perform the checks' actions, and records what it
// would be refused. When the simulator cannot be used, a note says so and why.
func (p *Provisioner) checkPermissions(ctx context.Context, c accountClient, checks []permissionCheck, problems *[]dryRunProblem, res *Result) error {
	byResource := map[string][]string{}
	var resources []string
	for _, pc := range checks {
		if _, ok := byResource[pc.resource]; !ok {
			resources = append(resources, pc.resource)
		}
		byResource[pc.resource] = append(byResource[pc.resource], pc.action)
	}
	for _, resource := range resources {
		actions := byResource[resource]
		in := &iam.SimulatePrincipalPolicyInput{PolicySourceArn: str(c.role), ActionNames: actions}
		if resource != "*" {
			in.ResourceArns = []string{resource}
		}
		var results []iamtypes.EvaluationResult
		for {
			out, err := c.iam.SimulatePrincipalPolicy(ctx, in)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				res.note(fmt.Sprintf("permissions not checked: the IAM policy simulator could not check %s for %s (%s); the role needs iam:SimulatePrincipalPolicy on itself, which gatehouse setup aws includes",
					strings.Join(actions, ", "), c.role, describe(err)))
				return nil
			}
			results = append(results, out.EvaluationResults...)
			if !out.IsTruncated || aws.ToString(out.Marker) == "" {
				break
			}
			in.Marker = out.Marker
		}
		for _, r := range results {
			action := aws.ToString(r.EvalActionName)
			switch {
			case r.EvalDecision == iamtypes.PolicyEvaluationDecisionTypeAllowed:
			case r.OrganizationsDecisionDetail != nil && !r.OrganizationsDecisionDetail.AllowedByOrganizations:
				*problems = append(*problems, dryRunProblem{denied: true, why: fmt.Sprintf(
					"a service control policy of the organization denies %s to %s (the IAM policy simulator says %s): change the SCP for that account", action, c.role, r.EvalDecision)})
			case len(r.MissingContextValues) > 0:
				res.note(fmt.Sprintf("permissions not fully checked: %s for %s depends on condition keys the simulator was not given (%s); it says %s without them",
					action, c.role, strings.Join(r.MissingContextValues, ", "), r.EvalDecision))
			case r.EvalDecision == iamtypes.PolicyEvaluationDecisionTypeExplicitDeny:
				*problems = append(*problems, dryRunProblem{denied: true, why: fmt.Sprintf(
					"%s may not perform %s%s: an explicit Deny applies (the IAM policy simulator says explicitDeny); remove it from the role's policies or permissions boundary",
					c.role, action, onResource(resource))})
			default:
				*problems = append(*problems, dryRunProblem{denied: true, why: fmt.Sprintf(
					"%s may not perform %s%s: no policy of the role allows it (the IAM policy simulator says %s); allow it in the role's permissions policy (gatehouse setup aws --provisioning generates one that does)",
					c.role, action, onResource(resource), r.EvalDecision)})
			}
		}
	}
	return nil
}

func onResource(resource string) string {
	if resource == "*" {
		return ""
	}
	return " on " + resource
}

// accountStateProblem returns why AWS would fail an assignment in the account, or nil
// when its state allows it or is unknown (then a note says it was not checked).
func accountStateProblem(acct accountInfo, accountID string, res *Result) *dryRunProblem {
	switch acct.status {
	case "ACTIVE":
		return nil
	case "":
		res.note("the state of account " + accountID + " was not checked: organizations:DescribeAccount did not answer it; AWS fails assignments in accounts that are not ACTIVE")
		return nil
	}
	return &dryRunProblem{why: fmt.Sprintf("account %s is %s: AWS accepts the request and then reports it FAILED, because it provisions only ACTIVE accounts", acct.label, acct.status)}
}

// settleDryRun sets the outcome of a dry run that planned writes: the planned outcome,
// unless a check found the change would be denied or fail.
func settleDryRun(res *Result, planned Outcome, problems []dryRunProblem) {
	res.Outcome = planned
	for _, pr := range problems {
		res.Problems = append(res.Problems, pr.why)
	}
	for _, pr := range problems {
		if pr.denied {
			res.Outcome = WouldBeDenied
			return
		}
	}
	if len(problems) > 0 {
		res.Outcome = WouldFail
	}
}
