package awsperms

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/smithy-go"
)

// serviceNames maps the SDK's service ids (what smithy.OperationError reports) to the
// IAM service prefixes, which are also the SigV4 signing names.
var serviceNames = map[string]string{
	"IAM":           "iam",
	"STS":           "sts",
	"Organizations": "organizations",
	"SSO Admin":     "sso",
	"identitystore": "identitystore",
}

// servicePrefix returns the IAM service prefix for an SDK service id or a prefix.
func servicePrefix(service string) string {
	if p, ok := serviceNames[service]; ok {
		return p
	}
	return strings.ToLower(service)
}

// ForOperation returns the IAM action an SDK operation needs and the uses of it in
// List. service is an IAM service prefix ("iam", "sso", ...; also the SigV4 signing
// name, which the simulator's counters use) or an SDK service id ("IAM", "SSO Admin").
// ok is false for an operation Gatehouse does not use.
func ForOperation(service, operation string) (action string, uses []Permission, ok bool) {
	prefix := servicePrefix(service)
	for _, p := range List {
		if p.Service() == prefix && slices.Contains(p.Operations, operation) {
			uses = append(uses, p)
		}
	}
	if len(uses) == 0 {
		return "", nil, false
	}
	return uses[0].Action, uses, true
}

// Explain returns a sentence that says which permission a failed AWS call lacked,
// what Gatehouse needs it for and which role's policy must hold it, or "" when err is
// not an AccessDenied error of an operation in List.
//
// Organizations answers AccessDeniedException also to a caller outside the management
// account, with a message that names no action; that is not a missing permission, so
// only denials that say "not authorized to perform" (or say nothing) are explained.
func Explain(err error) string {
	var opErr *smithy.OperationError
	var apiErr smithy.APIError
	if !errors.As(err, &opErr) || !errors.As(err, &apiErr) {
		return ""
	}
	switch apiErr.ErrorCode() {
	case "AccessDenied", "AccessDeniedException":
	default:
		return ""
	}
	if msg := apiErr.ErrorMessage(); msg != "" && !strings.Contains(msg, "not authorized to perform") {
		return ""
	}
	action, uses, ok := ForOperation(opErr.ServiceID, opErr.OperationName)
	if !ok {
		return ""
	}
	return explainUses(action, uses)
}

func explainUses(action string, uses []Permission) string {
	p := uses[0]
	var roles []Role
	for _, u := range uses {
		for _, r := range u.Roles {
			if !slices.Contains(roles, r) {
				roles = append(roles, r)
			}
		}
	}
	where := "the connector role's policy"
	switch {
	case len(roles) == 2:
		where = "the policies of the connector role and of the member-account role"
	case roles[0] == Member:
		where = "the member-account role's policy"
	}
	s := fmt.Sprintf("Gatehouse needs %s in %s for %s (%s)", action, where, FeatureNames(p.Features), p.Why)
	if p.Resource == MemberRoles {
		s += ", and the member role's trust policy must trust the connector role"
	}
	return s + `; "gatehouse setup aws" generates the policies and "gatehouse doctor" checks them`
}

// FeatureNames names features for people: "the base sync", "--orgs", "--provisioning
// with --identity-center".
func FeatureNames(fs []Feature) string {
	var flags []string
	for _, f := range fs {
		for _, fi := range Features {
			if fi.Feature == f && fi.Flag != "" {
				flags = append(flags, fi.Flag)
			}
		}
	}
	switch {
	case slices.Contains(fs, Doctor) && len(flags) == 0:
		return "gatehouse doctor"
	case slices.Contains(fs, Doctor):
		return "gatehouse doctor with " + strings.Join(flags, " with ")
	case len(flags) == 0:
		return "the base sync"
	}
	return strings.Join(flags, " with ")
}
