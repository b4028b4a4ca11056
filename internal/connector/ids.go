package connector

import (
	"fmt"
	"regexp"
	"strings"
)

// EntitlementRef is an entitlement id taken apart: "<resource type>:<resource id>:<slug>".
type EntitlementRef struct {
	ResourceType string
	ResourceID   string
	Slug         string
}

// ID is the entitlement id.
func (e EntitlementRef) ID() string { return entitlementID(e.ResourceType, e.ResourceID, e.Slug) }

// GrantRef is a grant id taken apart: "<entitlement id>:<principal type>:<principal id>".
type GrantRef struct {
	Entitlement   EntitlementRef
	PrincipalType string
	PrincipalID   string
}

// ID is the grant id.
func (g GrantRef) ID() string {
	return g.Entitlement.ID() + ":" + g.PrincipalType + ":" + g.PrincipalID
}

// Shapes of the ids that appear in entitlement and grant ids. ARNs contain colons, so ids
// are taken apart by matching these shapes rather than by splitting at colons.
var (
	accountIDShape       = regexp.MustCompile(`^\d{12}$`)
	permissionSetIDShape = regexp.MustCompile(`^ps-[a-zA-Z0-9-.]{16}$`)
	identityStoreIDShape = regexp.MustCompile(`^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$`)
	iamUserARNShape      = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:user/(.*/)?[\w+=,.@-]+$`)
	iamGroupARNShape     = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:group/(.*/)?[\w+=,.@-]+$`)
	iamRoleARNShape      = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/(.*/)?[\w+=,.@-]+$`)
	// iamPolicyIDShape is a managed policy's ARN or an inline policy's id, <owner ARN>/inline/<name>.
	iamPolicyIDShape = regexp.MustCompile(`^arn:aws[a-z-]*:iam::((\d{12}|aws):policy/(.*/)?[\w+=,.@-]+|\d{12}:(user|group|role)/(.*/)?[\w+=,.@-]+/inline/[\w+=,.@-]+)$`)
)

// entitlementShape is what the entitlements of one resource type look like.
type entitlementShape struct {
	resource  *regexp.Regexp // the resource id
	resWhat   string         // the resource id, for people
	slug      func(string) bool
	slugWhat  string
	grantable []string // principal types
}

var entitlementShapes = map[string]entitlementShape{
	TypeAccount: {accountIDShape, "a 12-digit account id", permissionSetIDShape.MatchString, "a permission set id (ps-...)",
		[]string{TypeSSOUser, TypeSSOGroup}},
	TypeIAMGroup: {iamGroupARNShape, "an IAM group ARN", isSlug(EntitlementMember), EntitlementMember,
		[]string{TypeIAMUser}},
	TypeSSOGroup: {identityStoreIDShape, "an identity store group id", isSlug(EntitlementMember), EntitlementMember,
		[]string{TypeSSOUser}},
	TypeIAMPolicy: {iamPolicyIDShape, "an IAM policy ARN or an inline policy id (<owner ARN>/inline/<policy name>)", isSlug(EntitlementAttached), EntitlementAttached,
		[]string{TypeIAMUser, TypeIAMGroup, TypeIAMRole}},
}

func isSlug(want string) func(string) bool { return func(s string) bool { return s == want } }

// principalShapes are the ids of the principal types.
var principalShapes = map[string]*regexp.Regexp{
	TypeIAMUser:  iamUserARNShape,
	TypeIAMGroup: iamGroupARNShape,
	TypeIAMRole:  iamRoleARNShape,
	TypeSSOUser:  identityStoreIDShape,
	TypeSSOGroup: identityStoreIDShape,
}

// entitlementHelp says where ids come from.
const entitlementHelp = "ids are printed by gatehouse inspect --file FILE.c1z entitlements"

// ParseEntitlementID takes an entitlement id apart and checks it has the shape of one
// of the connector's entitlements. The slug never contains a colon, so it is what
// follows the last one; the resource id (an ARN may have colons) is what lies between.
func ParseEntitlementID(id string) (EntitlementRef, error) {
	typ, rest, ok := strings.Cut(id, ":")
	i := strings.LastIndex(rest, ":")
	if !ok || i < 0 {
		return EntitlementRef{}, invalidID("%q is not an entitlement id: entitlement ids are <resource type>:<resource id>:<slug>, e.g. account:222222222222:ps-0123456789abcdef (%s)", id, entitlementHelp)
	}
	ref := EntitlementRef{ResourceType: typ, ResourceID: rest[:i], Slug: rest[i+1:]}
	return ref, ref.validate()
}

// validate checks the reference against the shapes of the connector's entitlements.
func (e EntitlementRef) validate() error {
	shape, ok := entitlementShapes[e.ResourceType]
	if !ok {
		return invalidID("entitlement %q: resource type %q has no entitlements; those that do are account, iam_group, sso_group and iam_policy (%s)", e.ID(), e.ResourceType, entitlementHelp)
	}
	if !shape.resource.MatchString(e.ResourceID) {
		return invalidID("entitlement %q: %q is not %s (%s)", e.ID(), e.ResourceID, shape.resWhat, entitlementHelp)
	}
	if !shape.slug(e.Slug) {
		return invalidID("entitlement %q: the %s entitlement is %s, not %q (%s)", e.ID(), e.ResourceType, shape.slugWhat, e.Slug, entitlementHelp)
	}
	return nil
}

// ParseGrantID takes a grant id apart. Entitlement and principal ids may both contain
// colons (IAM ARNs), so every place where a principal type the entitlement is grantable
// to is spelled out between colons is tried, and the one split whose two sides both have
// their shapes wins.
func ParseGrantID(id string) (GrantRef, error) {
	bad := func(why string) (GrantRef, error) {
		return GrantRef{}, invalidID("%q is not a grant id: %s; grant ids are <entitlement id>:<principal type>:<principal id>, as gatehouse inspect --file FILE.c1z grants prints them", id, why)
	}
	typ, _, _ := strings.Cut(id, ":")
	shape, ok := entitlementShapes[typ]
	if !ok {
		return bad(fmt.Sprintf("resource type %q has no entitlements", typ))
	}
	var found []GrantRef
	for _, pt := range shape.grantable {
		sep := ":" + pt + ":"
		for from := 0; ; {
			i := strings.Index(id[from:], sep)
			if i < 0 {
				break
			}
			i += from
			from = i + 1
			ent, err := ParseEntitlementID(id[:i])
			pid := id[i+len(sep):]
			if err == nil && principalShapes[pt].MatchString(pid) {
				found = append(found, GrantRef{Entitlement: ent, PrincipalType: pt, PrincipalID: pid})
			}
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return bad(fmt.Sprintf("no %s entitlement followed by a principal (%s) and its id", typ, strings.Join(shape.grantable, ", ")))
	}
	return bad("it can be read in more than one way")
}

// IDError is an entitlement or grant id that does not have the shape of one.
type IDError struct{ msg string }

func (e *IDError) Error() string { return e.msg }

func invalidID(format string, args ...any) error {
	return &IDError{msg: fmt.Sprintf(format, args...)}
}
