package awssim

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/document"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/types"
)

// enterpriseDoc renders a user's Extensions as the JSON of each document, by extension
// name, as the real SDK client decoded them ("" when the answer carried none).
func enterpriseDoc(t *testing.T, ext map[string]document.Interface) string {
	t.Helper()
	if len(ext) == 0 {
		return ""
	}
	out := map[string]any{}
	for name, doc := range ext {
		var v any
		if err := doc.UnmarshalSmithyDocument(&v); err != nil {
			t.Fatalf("extension %s: %v", name, err)
		}
		out[name] = v
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The enterprise extension (manager, department...) is returned by ListUsers and
// DescribeUser only when the call names aws:identitystore:enterprise, as AWS does, and
// then only for users that have some of its attributes. Title is a core attribute, always
// returned.
func TestIdentityStoreEnterpriseExtension(t *testing.T) {
	s, c, f := startIdentityStore(t, Options{})
	store := aws.String(f.storeID)
	s.Do(func(w *World) {
		bob := w.SSO.SSOUser(f.bob)
		bob.Title = "Software Engineer"
		bob.Enterprise = Enterprise{ManagerID: f.alice, Department: "Engineering", EmployeeNumber: "E042",
			CostCenter: "CC-ENG", Organization: "Example Corp", Division: "Product"}
	})
	wantBob := `{"aws:identitystore:enterprise":{"costCenter":"CC-ENG","department":"Engineering","division":"Product",` +
		`"employeeNumber":"E042","manager":{"value":"` + f.alice + `"},"organization":"Example Corp"}}`

	lines := func(users []types.User) []string {
		var out []string
		for _, u := range users {
			out = append(out, aws.ToString(u.UserName)+"|"+aws.ToString(u.Title)+"|"+enterpriseDoc(t, u.Extensions))
		}
		return out
	}
	plain, err := c.ListUsers(ctx(t), &identitystore.ListUsersInput{IdentityStoreId: store})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := lines(plain.Users), []string{"alice||", "bob|Software Engineer|"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ListUsers without Extensions =\n%v\nwant\n%v", got, want)
	}
	asked, err := c.ListUsers(ctx(t), &identitystore.ListUsersInput{IdentityStoreId: store, Extensions: []string{"aws:identitystore:enterprise"}})
	if err != nil {
		t.Fatal(err)
	}
	// Alice has no enterprise attribute: no Extensions for her even though they were asked for.
	if got, want := lines(asked.Users), []string{"alice||", "bob|Software Engineer|" + wantBob}; !reflect.DeepEqual(got, want) {
		t.Errorf("ListUsers with the enterprise extension =\n%v\nwant\n%v", got, want)
	}

	d, err := c.DescribeUser(ctx(t), &identitystore.DescribeUserInput{IdentityStoreId: store, UserId: aws.String(f.bob)})
	if err != nil {
		t.Fatal(err)
	}
	if got := enterpriseDoc(t, d.Extensions); got != "" || aws.ToString(d.Title) != "Software Engineer" {
		t.Errorf("DescribeUser without Extensions: extensions %s, title %q", got, aws.ToString(d.Title))
	}
	d, err = c.DescribeUser(ctx(t), &identitystore.DescribeUserInput{IdentityStoreId: store, UserId: aws.String(f.bob),
		Extensions: []string{"aws:identitystore:enterprise"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := enterpriseDoc(t, d.Extensions); got != wantBob {
		t.Errorf("DescribeUser with the enterprise extension = %s\nwant %s", got, wantBob)
	}
}

// Extension names are checked as AWS documents them: 1 to 10 names, each matching
// aws:identitystore:[a-z]{1,20}, and aws:identitystore:enterprise the only one supported.
// Anything else is a ValidationException naming the problem, before the store is read.
func TestIdentityStoreExtensionNamesValidated(t *testing.T) {
	_, c, f := startIdentityStore(t, Options{})
	store := aws.String(f.storeID)
	for _, tc := range []struct {
		names []string
		msg   string
	}{
		{[]string{"aws:identitystore:custom"}, "Extension aws:identitystore:custom is not supported; aws:identitystore:enterprise is the only supported extension name."},
		{[]string{"aws:identitystore:enterprise", "aws:identitystore:hr"}, "Extension aws:identitystore:hr is not supported"},
		{[]string{"enterprise"}, "Value '[enterprise]' at 'extensions' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 50, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: aws:identitystore:[a-z]{1,20}]"},
		{[]string{"aws:identitystore:Enterprise"}, "Member must satisfy regular expression pattern: aws:identitystore:[a-z]{1,20}"},
		{[]string{}, "Value '[]' at 'extensions' failed to satisfy constraint: Member must have length less than or equal to 10, Member must have length greater than or equal to 1"},
	} {
		_, err := c.ListUsers(ctx(t), &identitystore.ListUsersInput{IdentityStoreId: store, Extensions: tc.names})
		ssoWantCode(t, "ListUsers "+strings.Join(tc.names, ","), err, "ValidationException")
		if !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("ListUsers %v: %v\nwant it to say %q", tc.names, err, tc.msg)
		}
		_, err = c.DescribeUser(ctx(t), &identitystore.DescribeUserInput{IdentityStoreId: store, UserId: aws.String(f.alice), Extensions: tc.names})
		ssoWantCode(t, "DescribeUser "+strings.Join(tc.names, ","), err, "ValidationException")
		if !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("DescribeUser %v: %v\nwant it to say %q", tc.names, err, tc.msg)
		}
	}
	// Validation comes first: even for a store that does not exist.
	_, err := c.ListUsers(ctx(t), &identitystore.ListUsersInput{IdentityStoreId: aws.String("d-0000000000"), Extensions: []string{"aws:identitystore:x"}})
	ssoWantCode(t, "ListUsers of another store with a bad extension", err, "ValidationException")
}

// A fixture's users name their manager by user name; the simulator keeps the manager's
// user id, and SCIM returns it in the enterprise extension as {"value": id}. A manager
// who is not a user of the store is a fixture problem that says what to write.
func TestFixtureManagers(t *testing.T) {
	const doc = `
management_account: "111111111111"
accounts:
  - id: "111111111111"
identity_center:
  users:
    - {user_name: bob, email: bob@example.com, manager: dave, department: Engineering, title: Engineer, employee_number: "7"}
    - {user_name: dave, email: dave@example.com}
scim_token: tok
`
	w, err := ParseFixture([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	bob, dave := w.SSO.Users[0], w.SSO.Users[1]
	if want := (Enterprise{ManagerID: dave.ID, Department: "Engineering", EmployeeNumber: "7"}); bob.Enterprise != want || bob.Title != "Engineer" {
		t.Errorf("bob = %+v title %q, want %+v", bob.Enterprise, bob.Title, want)
	}
	if !dave.Enterprise.IsZero() {
		t.Errorf("dave has enterprise attributes %+v", dave.Enterprise)
	}
	s, _ := startSim(t, w, Options{})
	status, body := scimGet(t, s, "GET", "Users/"+bob.ID, "tok")
	if status != 200 {
		t.Fatalf("SCIM GetUser: %d %v", status, body)
	}
	if got, want := scimJSONString(body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]),
		`{"department":"Engineering","employeeNumber":"7","manager":{"value":"`+dave.ID+`"}}`; got != want {
		t.Errorf("SCIM enterprise extension = %s, want %s", got, want)
	}
	if got := scimJSONString(body["schemas"]); !strings.Contains(got, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User") {
		t.Errorf("SCIM schemas = %s", got)
	}

	_, err = ParseFixture([]byte(strings.Replace(doc, "manager: dave", "manager: zed", 1)))
	if err == nil || !strings.Contains(err.Error(), `identity_center.users[0].manager: no Identity Center user "zed"; write the user_name of another user in identity_center.users`) {
		t.Errorf("unknown manager: err = %v", err)
	}
}

// The demo's reporting lines: Bob (the developer whose request the demo tells) reports to
// Dave, the team lead who approves, and Dave to Alice. Generated worlds give every user but
// the first a manager who is a user of the same store.
func TestPresetManagers(t *testing.T) {
	w, err := Preset("demo", 1)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*SSOUser{}
	for _, u := range w.SSO.Users {
		byName[u.UserName] = u
	}
	for user, manager := range map[string]string{"bob": "dave", "frank": "dave", "erin": "dave", "dave": "alice", "alice": "", "carol": ""} {
		want := ""
		if manager != "" {
			want = byName[manager].ID
		}
		if got := byName[user].Enterprise.ManagerID; got != want {
			t.Errorf("demo: %s's manager id %q, want %s's %q", user, got, manager, want)
		}
	}
	if d := byName["bob"].Enterprise.Department; d != "Engineering" {
		t.Errorf("demo: bob's department %q", d)
	}

	small, err := Preset("small", 1)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, u := range small.SSO.Users {
		ids[u.ID] = true
	}
	for i, u := range small.SSO.Users {
		switch m := u.Enterprise.ManagerID; {
		case i == 0 && m != "":
			t.Errorf("small: the first user has a manager %s", m)
		case i > 0 && (!ids[m] || m == u.ID):
			t.Errorf("small: user %s has manager %q, not another user of the store", u.UserName, m)
		}
	}
}
