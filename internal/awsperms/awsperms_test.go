package awsperms

import (
	"encoding/json"
	"errors"
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

var (
	actionPattern = regexp.MustCompile(`^(iam|sts|organizations|sso|identitystore):[A-Z][A-Za-z]+$`)
	sidPattern    = regexp.MustCompile(`^[A-Za-z0-9]+$`)
)

// The list must be coherent: every entry well formed, one action per operation,
// writes only with provisioning, and each statement on one kind of resource.
func TestListIsConsistent(t *testing.T) {
	opAction := map[string]string{}
	sidResource := map[string]Resource{}
	for _, p := range List {
		if !actionPattern.MatchString(p.Action) {
			t.Errorf("%s: not a service:Action name", p.Action)
		}
		if len(p.Features) == 0 || len(p.Roles) == 0 || p.Why == "" || p.Statement == "" || p.Resource == "" {
			t.Errorf("%s: every entry needs features, roles, a resource, a statement and a reason: %+v", p.Action, p)
		}
		if !sidPattern.MatchString(p.Statement) {
			t.Errorf("%s: statement id %q must be alphanumeric (IAM's rule for Sid)", p.Action, p.Statement)
		}
		if p.Access == Write && !slices.Contains(p.Features, Provisioning) {
			t.Errorf("%s is a write action outside --provisioning", p.Action)
		}
		if r, ok := sidResource[p.Statement]; ok && r != p.Resource {
			t.Errorf("statement %s mixes resources %s and %s (%s)", p.Statement, r, p.Resource, p.Action)
		}
		sidResource[p.Statement] = p.Resource
		for _, op := range p.Operations {
			key := p.Service() + ":" + op
			if a, ok := opAction[key]; ok && a != p.Action {
				t.Errorf("operation %s maps to both %s and %s", key, a, p.Action)
			}
			opAction[key] = p.Action
			// IAM actions are named after their operations for every call Gatehouse makes.
			if op != p.Name() {
				t.Errorf("operation %s has action %s; expected the same name", key, p.Action)
			}
		}
	}
	for _, fi := range Features {
		has := false
		for _, p := range List {
			has = has || slices.Contains(p.Features, fi.Feature)
		}
		switch {
		case fi.Feature == SCIM && (has || fi.NoIAM == ""):
			t.Errorf("SCIM needs no IAM action, and must say so")
		case fi.Feature != SCIM && !has:
			t.Errorf("feature %s has no permission", fi.Feature)
		}
	}
}

// sdkServices maps the aws-sdk-go-v2 service packages to IAM service prefixes.
var sdkServices = map[string]string{
	"github.com/aws/aws-sdk-go-v2/service/iam":           "iam",
	"github.com/aws/aws-sdk-go-v2/service/sts":           "sts",
	"github.com/aws/aws-sdk-go-v2/service/organizations": "organizations",
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin":      "sso",
	"github.com/aws/aws-sdk-go-v2/service/identitystore": "identitystore",
}

// sdkCalls parses the non-test Go files of a package directory and returns every AWS
// operation they call, as "prefix:Operation": each call passes an *OperationInput
// literal, and stscreds' AssumeRole provider stands for sts:AssumeRole.
func sdkCalls(t *testing.T, dir string) map[string][]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string][]string{}
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		aliases := map[string]string{}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			name := p[strings.LastIndex(p, "/")+1:]
			if imp.Name != nil {
				name = imp.Name.Name
			}
			if prefix, ok := sdkServices[p]; ok {
				aliases[name] = prefix
			}
			if p == "github.com/aws/aws-sdk-go-v2/credentials/stscreds" {
				aliases[name] = "stscreds"
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			pkg, ok := sel.X.(*ast.Ident)
			if !ok {
				return true
			}
			prefix := aliases[pkg.Name]
			where := fset.Position(sel.Pos()).String()
			switch {
			case prefix == "stscreds" && sel.Sel.Name == "NewAssumeRoleProvider":
				calls["sts:AssumeRole"] = append(calls["sts:AssumeRole"], where)
			case prefix != "" && prefix != "stscreds" && strings.HasSuffix(sel.Sel.Name, "Input") && sel.Sel.Name != "Input":
				op := strings.TrimSuffix(sel.Sel.Name, "Input")
				calls[prefix+":"+op] = append(calls[prefix+":"+op], where)
			}
			return true
		})
	}
	return calls
}

// noPermission are calls AWS allows whatever the caller's policies say.
var noPermission = map[string]bool{"sts:GetCallerIdentity": true}

// Every operation internal/awsfetch calls is in the list, as a read needed by a sync
// feature in the connector role (and, for IAM, in the member role too).
func TestEveryAWSFetchCallIsListed(t *testing.T) {
	calls := sdkCalls(t, filepath.Join("..", "awsfetch"))
	if len(calls) < 20 {
		t.Fatalf("found only %d operations in internal/awsfetch; the parser is not finding the calls: %v", len(calls), calls)
	}
	syncFeatures := Set{Orgs: true, IdentityCenter: true, SyncSecrets: true, SCIM: true}
	for call, where := range calls {
		if noPermission[call] {
			continue
		}
		prefix, op, _ := strings.Cut(call, ":")
		action, uses, ok := ForOperation(prefix, op)
		if !ok {
			t.Errorf("internal/awsfetch calls %s (%s) but awsperms.List does not have it", call, where[0])
			continue
		}
		if action != call {
			t.Errorf("%s maps to %s", call, action)
		}
		needed := false
		for _, u := range uses {
			needed = needed || (u.NeededFor(syncFeatures, Connector) && u.Access == Read)
		}
		if !needed {
			t.Errorf("%s is called by the sync but is not a read of a sync feature in the connector role", call)
		}
		if prefix == "iam" && !slices.Contains(Actions(syncFeatures, Member), action) {
			t.Errorf("%s is called in every account but is not in the member role's policy", call)
		}
	}
}

// Every operation internal/awsprovision calls is in the list, needed with
// --provisioning. A parser that finds (almost) nothing fails the test: it would
// otherwise pass without checking anything.
func TestEveryAWSProvisionCallIsListed(t *testing.T) {
	dir := filepath.Join("..", "awsprovision")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("internal/awsprovision: %v", err)
	}
	calls := sdkCalls(t, dir)
	// Granting and revoking IAM group memberships, Identity Store group memberships and
	// account assignments (with their checks and waits) takes more than a dozen operations.
	if len(calls) < 12 {
		t.Fatalf("found only %d operations in internal/awsprovision; the parser is not finding the calls: %v", len(calls), calls)
	}
	for call, where := range calls {
		if noPermission[call] {
			continue
		}
		prefix, op, _ := strings.Cut(call, ":")
		_, uses, ok := ForOperation(prefix, op)
		if !ok {
			t.Errorf("internal/awsprovision calls %s (%s) but awsperms.List does not have it", call, where[0])
			continue
		}
		needed := false
		for _, u := range uses {
			needed = needed || u.NeededFor(All, Connector) || u.NeededFor(All, Member)
		}
		if !needed {
			t.Errorf("%s is called by provisioning but no role needs it with every feature on", call)
		}
	}
}

// The generated policies are valid IAM, least privilege and exactly the list.
func TestPolicyFor(t *testing.T) {
	names := Names{ConnectorRole: "GatehouseConnector", MemberRole: "GatehouseMember"}
	for _, tc := range []struct {
		name string
		set  Set
	}{{"base", Set{}}, {"orgs", Set{Orgs: true}}, {"all", All}, {"read-all", Set{Orgs: true, IdentityCenter: true, SyncSecrets: true, SCIM: true}}} {
		for _, role := range []Role{Connector, Member} {
			pol := PolicyFor(tc.set, role, names)
			var back Policy
			if err := json.Unmarshal(pol.JSON(), &back); err != nil {
				t.Fatalf("%s/%s: %v", tc.name, role, err)
			}
			if back.Version != "2012-10-17" {
				t.Errorf("%s/%s: Version %q", tc.name, role, back.Version)
			}
			sids := map[string]bool{}
			var got []string
			for _, st := range back.Statement {
				if sids[st.Sid] || !sidPattern.MatchString(st.Sid) {
					t.Errorf("%s/%s: Sid %q duplicated or not alphanumeric", tc.name, role, st.Sid)
				}
				sids[st.Sid] = true
				if st.Effect != "Allow" || len(st.Resource) != 1 || st.Condition != nil {
					t.Errorf("%s/%s: statement %s: %+v", tc.name, role, st.Sid, st)
				}
				if !slices.IsSorted(st.Action) || len(slices.Compact(slices.Clone(st.Action))) != len(st.Action) {
					t.Errorf("%s/%s: statement %s: actions not sorted and unique: %v", tc.name, role, st.Sid, st.Action)
				}
				for _, a := range st.Action {
					if strings.Contains(a, "*") {
						t.Errorf("%s/%s: wildcard action %s", tc.name, role, a)
					}
					if !tc.set.Provisioning && isWrite(a) {
						t.Errorf("%s/%s: write action %s without --provisioning", tc.name, role, a)
					}
					if role == Member && !strings.HasPrefix(a, "iam:") {
						t.Errorf("%s/member: %s does not belong in a member account", tc.name, a)
					}
				}
				got = append(got, st.Action...)
			}
			slices.Sort(got)
			if want := Actions(tc.set, role); !slices.Equal(slices.Compact(got), want) {
				t.Errorf("%s/%s: policy actions\n%v\nwant\n%v", tc.name, role, got, want)
			}
		}
	}
	// The member role may only be entered by name, never every role of every account.
	pol := PolicyFor(Set{Orgs: true}, Connector, Names{ConnectorRole: "C", MemberRole: "ops/GatehouseMember"})
	for _, st := range pol.Statement {
		if slices.Contains(st.Action, "sts:AssumeRole") && st.Resource[0] != "arn:aws:iam::*:role/ops/GatehouseMember" {
			t.Errorf("sts:AssumeRole on %v", st.Resource)
		}
	}
}

func isWrite(action string) bool {
	for _, p := range List {
		if p.Action == action && p.Access == Write {
			return true
		}
	}
	return false
}

func TestForOperation(t *testing.T) {
	for _, tc := range []struct{ service, op, want string }{
		{"iam", "ListRoles", "iam:ListRoles"},
		{"IAM", "GetAccountAuthorizationDetails", "iam:GetAccountAuthorizationDetails"},
		{"SSO Admin", "ListAccountAssignments", "sso:ListAccountAssignments"},
		{"sso", "CreateAccountAssignment", "sso:CreateAccountAssignment"},
		{"identitystore", "ListGroupMemberships", "identitystore:ListGroupMemberships"},
		{"Organizations", "ListAccountsForParent", "organizations:ListAccountsForParent"},
		{"STS", "AssumeRole", "sts:AssumeRole"},
	} {
		if got, _, ok := ForOperation(tc.service, tc.op); !ok || got != tc.want {
			t.Errorf("ForOperation(%q, %q) = %q, %v; want %q", tc.service, tc.op, got, ok, tc.want)
		}
	}
	if _, _, ok := ForOperation("iam", "DeleteUser"); ok {
		t.Errorf("iam:DeleteUser is not something Gatehouse does")
	}
}

// opError builds the error the SDK returns for an operation that AWS refused.
func opError(service, op, code, msg string) error {
	return &smithy.OperationError{ServiceID: service, OperationName: op, Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 403}},
			Err: &smithy.GenericAPIError{Code: code, Message: msg}}}}
}

func TestExplain(t *testing.T) {
	denied := opError("IAM", "ListRoles", "AccessDenied", "User: arn:aws:sts::1:assumed-role/R/s is not authorized to perform: iam:ListRoles on resource: *")
	want := `Gatehouse needs iam:ListRoles in the policies of the connector role and of the member-account role for the base sync (role descriptions and maximum session durations, which GetAccountAuthorizationDetails leaves out); "gatehouse setup aws" generates the policies and "gatehouse doctor" checks them`
	if got := Explain(denied); got != want {
		t.Errorf("Explain =\n%s\nwant\n%s", got, want)
	}
	assume := opError("STS", "AssumeRole", "AccessDenied", "User: x is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::2:role/M")
	if got := Explain(assume); !strings.Contains(got, "sts:AssumeRole in the connector role's policy for --orgs") || !strings.Contains(got, "trust policy must trust the connector role") {
		t.Errorf("Explain(AssumeRole) = %s", got)
	}
	write := opError("SSO Admin", "CreateAccountAssignment", "AccessDeniedException", "User: x is not authorized to perform: sso:CreateAccountAssignment")
	if got := Explain(write); !strings.Contains(got, "for --provisioning with --identity-center") {
		t.Errorf("Explain(CreateAccountAssignment) = %s", got)
	}
	// Organizations refusing a member account is not a missing permission.
	member := opError("Organizations", "ListRoots", "AccessDeniedException", "You don't have permissions to access this resource.")
	for _, err := range []error{member, opError("IAM", "ListRoles", "Throttling", "Rate exceeded"), errors.New("AccessDenied"), opError("IAM", "DeleteUser", "AccessDenied", "")} {
		if got := Explain(err); got != "" {
			t.Errorf("Explain(%v) = %q, want nothing", err, got)
		}
	}
}

var update = flag.Bool("update", false, "rewrite the permissions table in docs/setup.md")

// docs/setup.md holds the permissions table rendered from the list, between markers;
// go test ./internal/awsperms -update rewrites it.
func TestDocsTableIsCurrent(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "setup.md")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- awsperms table: generated, see TestDocsTableIsCurrent -->\n", "<!-- end of awsperms table -->"
	doc := string(data)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the markers %q and %q around the permissions table", path, begin, end)
	}
	want := MarkdownTable()
	if got := doc[i+len(begin) : j]; got != want {
		if *update {
			if err := os.WriteFile(path, []byte(doc[:i+len(begin)]+want+doc[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("the permissions table in %s is not the list's; run go test ./internal/awsperms -update", path)
	}
}
