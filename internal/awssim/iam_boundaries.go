package awssim

import "strings"

// Permissions boundaries of IAM users and roles: a managed policy that caps what the
// entity's own policies can allow. AWS reports a boundary in GetUser, GetRole and
// GetAccountAuthorizationDetails, and (as documented) leaves it out of ListUsers and
// ListRoles. The simulator's policy evaluation applies them (policy.go, boundaryOf).

func init() {
	register("iam", map[string]opHandler{
		"PutUserPermissionsBoundary":    iamPutUserPermissionsBoundary,
		"DeleteUserPermissionsBoundary": iamDeleteUserPermissionsBoundary,
		"PutRolePermissionsBoundary":    iamPutRolePermissionsBoundary,
		"DeleteRolePermissionsBoundary": iamDeleteRolePermissionsBoundary,
	})
}

// boundaryPolicyType is the only PermissionsBoundaryType AWS has.
const boundaryPolicyType = "PermissionsBoundaryPolicy"

// xmlAttachedBoundary is AWS's AttachedPermissionsBoundary.
type xmlAttachedBoundary struct {
	PermissionsBoundaryType string `xml:"PermissionsBoundaryType"`
	PermissionsBoundaryArn  string `xml:"PermissionsBoundaryArn"`
}

// optBoundary is the boundary element of an entity, left out when it has none.
func optBoundary(arn string) *xmlAttachedBoundary {
	if arn == "" {
		return nil
	}
	return &xmlAttachedBoundary{PermissionsBoundaryType: boundaryPolicyType, PermissionsBoundaryArn: arn}
}

// boundaryParam checks the PermissionsBoundary parameter of CreateUser, CreateRole and the
// Put calls: an ARN of a managed policy that exists for the account (customer-managed in it,
// or AWS-managed). "" when the parameter is absent and not required.
func (q *request) boundaryParam(required bool) (string, *apiError) {
	arn := q.param("PermissionsBoundary")
	if arn == "" {
		if required {
			_, err := q.required("PermissionsBoundary")
			return "", err
		}
		return "", nil
	}
	if len(arn) < 20 || len(arn) > 2048 || !strings.HasPrefix(arn, "arn:") {
		return "", &apiError{Status: 400, Code: "InvalidInput", Message: "ARN " + arn + " is not valid."}
	}
	if q.w.Policy(q.account(), arn) == nil {
		return "", &apiError{Status: 404, Code: "NoSuchEntity", Message: "Scope ARN: " + arn + " does not exist or is not attachable."}
	}
	return arn, nil
}

func iamPutUserPermissionsBoundary(q *request) (any, *apiError) {
	u, err := q.userParam()
	if err != nil {
		return nil, err
	}
	arn, err := q.boundaryParam(true)
	if err != nil {
		return nil, err
	}
	u.PermissionsBoundary = arn
	return nil, nil
}

func iamDeleteUserPermissionsBoundary(q *request) (any, *apiError) {
	u, err := q.userParam()
	if err != nil {
		return nil, err
	}
	u.PermissionsBoundary = ""
	return nil, nil
}

func iamPutRolePermissionsBoundary(q *request) (any, *apiError) {
	r, err := q.roleParam()
	if err != nil {
		return nil, err
	}
	arn, err := q.boundaryParam(true)
	if err != nil {
		return nil, err
	}
	r.PermissionsBoundary = arn
	return nil, nil
}

func iamDeleteRolePermissionsBoundary(q *request) (any, *apiError) {
	r, err := q.roleParam()
	if err != nil {
		return nil, err
	}
	r.PermissionsBoundary = ""
	return nil, nil
}
