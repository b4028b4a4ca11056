package awsperms

import (
	"encoding/json"
	"fmt"
	"slices"
)

// PolicyVersion is the only IAM policy language version worth writing: the older one
// does not support policy variables and is kept by AWS for compatibility only.
const PolicyVersion = "2012-10-17"

// Policy is an IAM policy document (identity policy or trust policy). It is marshalled
// with encoding/json or yaml.v3, never assembled as text.
type Policy struct {
	Version   string      `json:"Version" yaml:"Version"`
	Statement []Statement `json:"Statement" yaml:"Statement"`
}

// Statement is one statement of a policy.
type Statement struct {
	Sid    string `json:"Sid,omitempty" yaml:"Sid,omitempty"`
	Effect string `json:"Effect" yaml:"Effect"`
	// Principal is for trust policies: {"AWS": ARN}. The value is any so that a
	// CloudFormation template can put an intrinsic function ({"Ref": ...}) there.
	Principal map[string]any `json:"Principal,omitempty" yaml:"Principal,omitempty"`
	Action    Strings        `json:"Action" yaml:"Action"`
	Resource  Strings        `json:"Resource,omitempty" yaml:"Resource,omitempty"`
	Condition Conditions     `json:"Condition,omitempty" yaml:"Condition,omitempty"`
}

// Conditions are a statement's condition block: operator -> key -> values.
type Conditions map[string]map[string]Strings

// Strings is a list written as a single string when it has one element, the way people
// write policies by hand.
type Strings []string

// MarshalJSON writes one element as a string, several as an array.
func (s Strings) MarshalJSON() ([]byte, error) {
	if len(s) == 1 {
		return json.Marshal(s[0])
	}
	return json.Marshal([]string(s))
}

// UnmarshalJSON accepts a string or an array of strings.
func (s *Strings) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = Strings{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// MarshalYAML writes one element as a scalar, several as a sequence.
func (s Strings) MarshalYAML() (any, error) {
	if len(s) == 1 {
		return s[0], nil
	}
	return []string(s), nil
}

// JSON returns the policy as indented JSON with a final newline.
func (p Policy) JSON() []byte {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		// Policy holds only strings, maps and slices: it always marshals.
		panic(fmt.Sprintf("awsperms: marshal policy: %v", err))
	}
	return append(b, '\n')
}

// Names are what a policy's resources are named after.
type Names struct {
	// Partition is the ARN partition ("aws" when empty).
	Partition string
	// ConnectorRole is the name of the connector role.
	ConnectorRole string
	// MemberRole is the name of the member-account role, optionally with a path
	// ("path/Name").
	MemberRole string
	// OrgID is the organization's id (o-...). When set, the connector role may assume
	// the member role only in accounts of that organization: the statement that grants
	// sts:AssumeRole on the member role carries the condition aws:ResourceOrgID (the
	// organization of the account that owns the role), so a role of the same name in an
	// account outside the organization cannot be entered with Gatehouse's credentials.
	OrgID string
}

// ResourceOrgIDKey is the global condition key holding the organization of the account
// that owns the resource of a request; for sts:AssumeRole, the role's account.
const ResourceOrgIDKey = "aws:ResourceOrgID"

func (n Names) partition() string {
	if n.Partition == "" {
		return "aws"
	}
	return n.Partition
}

// roleName is the name of the role whose policy it is.
func (n Names) roleName(r Role) string {
	if r == Member {
		return n.MemberRole
	}
	return n.ConnectorRole
}

// Pattern returns the resource element for the kind in the role's policy. Account ids
// are wildcards: an identity policy acts in its own account (IAM has no cross-account
// access), and the same member policy then fits every account of the organization.
func (n Names) Pattern(kind Resource, r Role) string {
	return n.arn(kind, r, "*")
}

// Example returns a concrete resource of the kind in the account, for checking a
// policy with the IAM policy simulator.
func (n Names) Example(kind Resource, r Role, account string) string {
	return n.arn(kind, r, account)
}

func (n Names) arn(kind Resource, r Role, account string) string {
	iam := "arn:" + n.partition() + ":iam::" + account + ":"
	example := account != "*"
	switch kind {
	case Users:
		if example {
			return iam + "user/gatehouse-doctor-check"
		}
		return iam + "user/*"
	case Groups:
		if example {
			return iam + "group/gatehouse-doctor-check"
		}
		return iam + "group/*"
	case MemberRoles:
		return iam + "role/" + n.MemberRole
	case SelfRole:
		return iam + "role/" + n.roleName(r)
	case ReservedSSORoles:
		if example {
			return iam + "role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_GatehouseDoctorCheck_0000000000000000"
		}
		return iam + "role/aws-reserved/sso.amazonaws.com/*"
	case SSOSAMLProviders:
		if example {
			return iam + "saml-provider/AWSSSO_0000000000000000_DO_NOT_DELETE"
		}
		return iam + "saml-provider/AWSSSO_*"
	}
	return "*"
}

// PolicyFor returns the least-privilege identity policy of the role for the features:
// one statement per Sid of the list, in list order, actions sorted, resources as narrow
// as the list says.
func PolicyFor(f Set, r Role, n Names) Policy {
	type group struct {
		kind    Resource
		actions []string
	}
	var order []string
	groups := map[string]*group{}
	for _, p := range Needed(f, r) {
		g := groups[p.Statement]
		if g == nil {
			g = &group{kind: p.Resource}
			groups[p.Statement] = g
			order = append(order, p.Statement)
		}
		if g.kind != p.Resource {
			// The list is static; TestStatementsShareResources keeps it consistent.
			panic(fmt.Sprintf("awsperms: statement %s mixes resources %s and %s", p.Statement, g.kind, p.Resource))
		}
		g.actions = append(g.actions, p.Action)
	}
	pol := Policy{Version: PolicyVersion}
	for _, sid := range order {
		g := groups[sid]
		actions := slices.Clone(g.actions)
		slices.Sort(actions)
		st := Statement{
			Sid: sid, Effect: "Allow",
			Action:   slices.Compact(actions),
			Resource: Strings{n.Pattern(g.kind, r)},
		}
		if g.kind == MemberRoles && n.OrgID != "" {
			st.Condition = Conditions{"StringEquals": {ResourceOrgIDKey: {n.OrgID}}}
		}
		pol.Statement = append(pol.Statement, st)
	}
	return pol
}
