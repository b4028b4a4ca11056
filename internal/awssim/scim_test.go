package awssim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

const testSCIMToken = "scim-test-token"

// scimFixture is an Identity Center with three users (one inactive) and two groups.
type scimFixture struct {
	s                   *Sim
	alice, bob, carol   *SSOUser
	admins, engineering *SSOGroup
}

func newSCIMFixture(t *testing.T, opts Options) scimFixture {
	t.Helper()
	w := testWorld(t)
	w.EnableIdentityCenter("")
	w.Connector.SCIMToken = testSCIMToken
	f := scimFixture{}
	f.alice = w.AddSSOUser("alice@example.com", "Alice", "Liddell", "alice@example.com")
	f.alice.ExternalID = "okta-001"
	f.bob = w.AddSSOUser("bob@example.com", "Bob", "Builder", "bob@example.com")
	f.bob.ExternalID = "okta-002"
	f.carol = w.AddSSOUser("carol@example.com", "Carol", "Danvers", "carol@example.com")
	f.carol.Active = false
	f.admins = w.AddSSOGroup("Admins", "administrators")
	f.engineering = w.AddSSOGroup("Engineering", "")
	w.AddMembership(f.admins.ID, f.alice.ID)
	w.AddMembership(f.engineering.ID, f.alice.ID)
	w.AddMembership(f.engineering.ID, f.bob.ID)
	f.s, _ = startSim(t, w, opts)
	return f
}

// scimGet calls the SCIM API and decodes the JSON answer.
func scimGet(t *testing.T, s *Sim, method, path, token string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+"/scim/v2/"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/scim+json" {
		t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp.StatusCode, body
}

// scimResourceField returns one field of every resource of a ListResponse.
func scimResourceField(body map[string]any, field string) []string {
	var out []string
	res, _ := body["Resources"].([]any)
	for _, r := range res {
		out = append(out, scimJSONString(r.(map[string]any)[field]))
	}
	return out
}

func scimJSONString(v any) string {
	b, _ := json.Marshal(v)
	return strings.Trim(string(b), `"`)
}

func TestSCIMUsers(t *testing.T) {
	f := newSCIMFixture(t, Options{})
	status, body := scimGet(t, f.s, "GET", "Users", testSCIMToken)
	if status != 200 {
		t.Fatalf("ListUsers: %d %v", status, body)
	}
	if got, want := scimResourceField(body, "userName"), []string{"alice@example.com", "bob@example.com", "carol@example.com"}; !reflect.DeepEqual(got, want) {
		t.Errorf("userNames = %v, want %v", got, want)
	}
	if got := scimResourceField(body, "active"); !reflect.DeepEqual(got, []string{"true", "true", "false"}) {
		t.Errorf("active = %v", got)
	}
	if body["totalResults"] != 3.0 || body["itemsPerPage"] != 3.0 || body["startIndex"] != 1.0 ||
		scimJSONString(body["schemas"]) != `["urn:ietf:params:scim:api:messages:2.0:ListResponse"]` {
		t.Errorf("ListResponse envelope = %v", body)
	}

	status, user := scimGet(t, f.s, "GET", "Users/"+f.alice.ID, testSCIMToken)
	if status != 200 {
		t.Fatalf("GetUser: %d %v", status, user)
	}
	want := map[string]any{
		"schemas":     []any{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"id":          f.alice.ID,
		"externalId":  "okta-001",
		"meta":        map[string]any{"resourceType": "User"},
		"userName":    "alice@example.com",
		"name":        map[string]any{"formatted": "Alice Liddell", "familyName": "Liddell", "givenName": "Alice"},
		"displayName": "Alice Liddell",
		"active":      true,
		"emails":      []any{map[string]any{"value": "alice@example.com", "type": "work", "primary": true}},
	}
	if !reflect.DeepEqual(user, want) {
		t.Errorf("GetUser =\n %v\nwant\n %v", user, want)
	}

	status, missing := scimGet(t, f.s, "GET", "Users/no-such-user", testSCIMToken)
	if status != 404 || missing["status"] != "404" || scimJSONString(missing["schemas"]) != `["urn:ietf:params:scim:api:messages:2.0:Error"]` {
		t.Errorf("GetUser unknown: %d %v", status, missing)
	}
	if got := f.s.Counters().Calls("scim", "GetUser"); got != 2 {
		t.Errorf("scim GetUser calls = %d, want 2", got)
	}
}

func TestSCIMFilters(t *testing.T) {
	f := newSCIMFixture(t, Options{})
	cases := []struct {
		path, filter, field string
		want                []string
	}{
		{"Users", `userName eq "BOB@example.com"`, "id", []string{f.bob.ID}},
		{"Users", `USERNAME Eq "carol@example.com"`, "id", []string{f.carol.ID}},
		{"Users", `externalId eq "okta-002"`, "userName", []string{"bob@example.com"}},
		{"Users", `externalId eq "OKTA-002"`, "userName", nil}, // externalId is case-exact
		{"Users", `id eq "` + f.alice.ID + `"`, "userName", []string{"alice@example.com"}},
		{"Users", `displayName eq "Carol Danvers"`, "userName", []string{"carol@example.com"}},
		{"Users", `userName eq "nobody@example.com"`, "id", nil},
		{"Users", `groups.value eq "` + f.engineering.ID + `"`, "userName", []string{"alice@example.com", "bob@example.com"}},
		{"Users", `externalId eq "okta-001" and userName eq "alice@example.com"`, "userName", []string{"alice@example.com"}},
		{"Users", `externalId eq "okta-001" and userName eq "bob@example.com"`, "userName", nil},
		{"Groups", `displayName eq "engineering"`, "id", []string{f.engineering.ID}},
		{"Groups", `id eq "` + f.admins.ID + `"`, "displayName", []string{"Admins"}},
		{"Groups", `members.value eq "` + f.alice.ID + `"`, "displayName", []string{"Admins", "Engineering"}},
		{"Groups", `members.value eq "` + f.bob.ID + `"`, "displayName", []string{"Engineering"}},
		{"Groups", `id eq "` + f.admins.ID + `" and members.value eq "` + f.bob.ID + `"`, "displayName", nil},
	}
	for _, tc := range cases {
		status, body := scimGet(t, f.s, "GET", tc.path+"?filter="+url.QueryEscape(tc.filter), testSCIMToken)
		if status != 200 {
			t.Errorf("%s filter %s: %d %v", tc.path, tc.filter, status, body)
			continue
		}
		if got := scimResourceField(body, tc.field); !reflect.DeepEqual(got, tc.want) || body["totalResults"] != float64(len(tc.want)) {
			t.Errorf("%s filter %s: %s = %v (total %v), want %v", tc.path, tc.filter, tc.field, got, body["totalResults"], tc.want)
		}
	}
	for _, bad := range []string{`userName co "a"`, `userName eq alice`, `title eq "x"`, `userName eq "a" or id eq "b"`} {
		status, body := scimGet(t, f.s, "GET", "Users?filter="+url.QueryEscape(bad), testSCIMToken)
		if status != 400 || body["scimType"] != "invalidFilter" || body["status"] != "400" {
			t.Errorf("filter %s: %d %v, want 400 invalidFilter", bad, status, body)
		}
	}
}

func TestSCIMGroups(t *testing.T) {
	f := newSCIMFixture(t, Options{})
	status, body := scimGet(t, f.s, "GET", "Groups", testSCIMToken)
	if status != 200 {
		t.Fatalf("ListGroups: %d %v", status, body)
	}
	if got := scimResourceField(body, "displayName"); !reflect.DeepEqual(got, []string{"Admins", "Engineering"}) {
		t.Errorf("groups = %v", got)
	}
	status, group := scimGet(t, f.s, "GET", "Groups/"+f.engineering.ID, testSCIMToken)
	want := map[string]any{
		"schemas":     []any{"urn:ietf:params:scim:schemas:core:2.0:Group"},
		"id":          f.engineering.ID,
		"meta":        map[string]any{"resourceType": "Group"},
		"displayName": "Engineering",
		"members":     []any{}, // as Identity Center: members are read with a filter
	}
	if status != 200 || !reflect.DeepEqual(group, want) {
		t.Errorf("GetGroup = %d %v, want %v", status, group, want)
	}
	if status, _ := scimGet(t, f.s, "GET", "Groups/nope", testSCIMToken); status != 404 {
		t.Errorf("GetGroup unknown: %d, want 404", status)
	}
	if status, cfg := scimGet(t, f.s, "GET", "ServiceProviderConfig", testSCIMToken); status != 200 || scimJSONString(cfg["filter"]) != `{"maxResults":100,"supported":true}` {
		t.Errorf("ServiceProviderConfig: %d %v", status, cfg)
	}
}

// TestSCIMPaging checks that the SCIM API pages as Identity Center documents: startIndex
// is not supported (ignored: the first page again), a request without cursor gets one
// page that does not say more exist, count is 1 to 100.
func TestSCIMPaging(t *testing.T) {
	f := newSCIMFixture(t, Options{})
	all := []string{f.alice.ID, f.bob.ID, f.carol.ID}
	for _, start := range []string{"1", "2", "3", "4"} {
		status, body := scimGet(t, f.s, "GET", "Users?startIndex="+start+"&count=2", testSCIMToken)
		if status != 200 || body["totalResults"] != 2.0 || body["startIndex"] != 1.0 || body["itemsPerPage"] != 2.0 || body["nextCursor"] != nil ||
			!reflect.DeepEqual(scimResourceField(body, "id"), all[:2]) {
			t.Errorf("startIndex %s: %d %v, want the first page, ignoring startIndex", start, status, body)
		}
	}
	for _, count := range []string{"0", "101", "-1", "x"} {
		if status, body := scimGet(t, f.s, "GET", "Users?cursor=&count="+count, testSCIMToken); status != 400 || body["status"] != "400" {
			t.Errorf("count %s: %d %v, want 400", count, status, body)
		}
	}
	if status, _ := scimGet(t, f.s, "GET", "Users?cursor=not*a*cursor", testSCIMToken); status != 400 {
		t.Errorf("bad cursor: %d, want 400", status)
	}

	// Identity Center's cursor paging.
	var got []string
	path := "Users?cursor&count=2"
	for pages := 0; path != ""; pages++ {
		if pages > 3 {
			t.Fatal("cursor paging does not end")
		}
		status, body := scimGet(t, f.s, "GET", path, testSCIMToken)
		if status != 200 || body["totalResults"] != nil {
			t.Fatalf("%s: %d %v", path, status, body)
		}
		got = append(got, scimResourceField(body, "id")...)
		path = ""
		if next, _ := body["nextCursor"].(string); next != "" {
			path = "Users?count=2&cursor=" + url.QueryEscape(next)
		}
	}
	if !reflect.DeepEqual(got, all) {
		t.Errorf("cursor paging: ids %v, want %v", got, all)
	}

	// The simulator's PageSize caps SCIM pages too.
	capped := newSCIMFixture(t, Options{PageSize: 1})
	if _, body := scimGet(t, capped.s, "GET", "Groups?cursor=", testSCIMToken); body["itemsPerPage"] != 1.0 || body["nextCursor"] == nil {
		t.Errorf("PageSize 1: %v", body)
	}
}

func TestSCIMAuth(t *testing.T) {
	f := newSCIMFixture(t, Options{})
	for _, token := range []string{"", "wrong-token"} {
		status, body := scimGet(t, f.s, "GET", "Users", token)
		if status != 401 || body["status"] != "401" || scimJSONString(body["schemas"]) != `["urn:ietf:params:scim:api:messages:2.0:Error"]` || body["detail"] == "" {
			t.Errorf("token %q: %d %v, want a 401 SCIM error", token, status, body)
		}
	}
	if status, _ := scimGet(t, f.s, "POST", "Users", testSCIMToken); status != 405 {
		t.Errorf("POST /Users: %d, want 405", status)
	}
	if status, _ := scimGet(t, f.s, "GET", "Bulk", testSCIMToken); status != 404 {
		t.Errorf("GET /Bulk: %d, want 404", status)
	}

	// Without a configured token SCIM is off.
	f.s.Do(func(w *World) { w.Connector.SCIMToken = "" })
	if status, _ := scimGet(t, f.s, "GET", "Users", testSCIMToken); status != 404 {
		t.Errorf("SCIM disabled: %d, want 404", status)
	}
}
