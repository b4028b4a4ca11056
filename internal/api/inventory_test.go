package api_test

import (
	"context"
	"encoding/json"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

func init() {
	// A person of the inventory below, signed in without any role (her email in another
	// case than the inventory's).
	callers["alice"] = &auth.Caller{Email: "Alice@Example.com", RemoteAddr: "192.0.2.4"}
}

var (
	invT1 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	invT2 = invT1.Add(2 * time.Hour)
)

const (
	psAdmin   = "account:333333333333:ps-admin"
	adminsMem = "sso_group:g-admins:member"
	iamAlice  = "arn:aws:iam::333333333333:user/alice"
)

// seedInventory writes two syncs of a small inventory: in s1 alice holds
// AdministratorAccess on prod through the Admins group; in s2 that assignment to the
// group is gone and bob holds it directly.
func seedInventory(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	res := func(typ, id, name, account, scope, email string) store.ResourceRow {
		return store.ResourceRow{Type: typ, ID: id, DisplayName: name, AccountID: account, Scope: scope, Email: email,
			Profile: `{"name":"` + name + `"}`, Hash: "h-" + id}
	}
	groupGrant := store.GrantRow{ID: psAdmin + ":sso_group:g-admins", EntitlementID: psAdmin, ResourceType: "account",
		ResourceID: "333333333333", PrincipalType: "sso_group", PrincipalID: "g-admins", AccountID: "333333333333", Direct: true, Hash: "g1"}
	aliceAdmin := store.GrantRow{ID: psAdmin + ":sso_user:u-alice", EntitlementID: psAdmin, ResourceType: "account",
		ResourceID: "333333333333", PrincipalType: "sso_user", PrincipalID: "u-alice", AccountID: "333333333333",
		Via: []string{adminsMem}, Hash: "g2"}
	aliceMember := store.GrantRow{ID: adminsMem + ":sso_user:u-alice", EntitlementID: adminsMem, ResourceType: "sso_group",
		ResourceID: "g-admins", PrincipalType: "sso_user", PrincipalID: "u-alice", Direct: true, Hash: "g3"}
	bobAdmin := store.GrantRow{ID: psAdmin + ":sso_user:u-bob", EntitlementID: psAdmin, ResourceType: "account",
		ResourceID: "333333333333", PrincipalType: "sso_user", PrincipalID: "u-bob", AccountID: "333333333333", Direct: true, Hash: "g4"}
	err := st.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ApplyInventoryDiff(ctx, &store.InventoryDiff{
			ConnectionID: "aws", Sync: "s1", At: invT1,
			InsertResources: []store.ResourceRow{
				res("organizational_unit", "r-root", "Root", "", "", ""),
				res("account", "111111111111", "management", "111111111111", "", ""),
				res("account", "333333333333", "prod", "333333333333", "", ""),
				res("sso_user", "u-alice", "Alice Nguyen", "", "", "alice@example.com"),
				res("sso_user", "u-bob", "Bob Martinez", "", "", "bob@example.com"),
				res("sso_group", "g-admins", "Admins", "", "", ""),
				res("iam_user", iamAlice, "alice", "333333333333", "333333333333", "alice@example.com"),
			},
			InsertEntitlements: []store.EntitlementRow{
				{ID: psAdmin, ResourceType: "account", ResourceID: "333333333333", Slug: "ps-admin", DisplayName: "AdministratorAccess on prod", AccountID: "333333333333", Hash: "e1"},
				{ID: adminsMem, ResourceType: "sso_group", ResourceID: "g-admins", Slug: "member", DisplayName: "Admins member", Hash: "e2"},
			},
			InsertGrants: []store.GrantRow{groupGrant, aliceAdmin, aliceMember},
		})
		if err != nil {
			return err
		}
		if err := tx.RecordIngest(ctx, store.IngestRecord{ConnectionID: "aws", SyncID: "s1", At: invT1}); err != nil {
			return err
		}
		if _, err := tx.ApplyInventoryDiff(ctx, &store.InventoryDiff{
			ConnectionID: "aws", Sync: "s2", At: invT2,
			CloseGrants:  []string{groupGrant.ID, aliceAdmin.ID},
			InsertGrants: []store.GrantRow{bobAdmin},
		}); err != nil {
			return err
		}
		return tx.RecordIngest(ctx, store.IngestRecord{ConnectionID: "aws", SyncID: "s2", At: invT2})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// sameJSON compares a decoded answer with the JSON text want.
func sameJSON(t *testing.T, what string, got any, want string) {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: bad want: %v", what, err)
	}
	if !reflect.DeepEqual(got, w) {
		g, _ := json.MarshalIndent(got, "", "  ")
		t.Errorf("%s:\ngot  %s\nwant %s", what, g, want)
	}
}

func TestInventoryAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		seedInventory(t, st)
		a := newTestAPI(t, st)
		aliceAccess := "/api/v1/people/alice@example.com/access"

		// Who may call what: the whole inventory is for auditors and admins; a person
		// reads their own access only.
		for path, want := range map[string]map[string]int{
			"/api/v1/resources":                      {"": 401, "person": 403, "alice": 403, "auditor": 200, "admin": 200},
			"/api/v1/resources/account/333333333333": {"": 401, "person": 403, "auditor": 200, "admin": 200},
			"/api/v1/entitlements/" + psAdmin:        {"": 401, "person": 403, "auditor": 200, "admin": 200},
			"/api/v1/people":                         {"": 401, "person": 403, "alice": 403, "auditor": 200, "admin": 200},
			"/api/v1/changes":                        {"": 401, "person": 403, "alice": 403, "auditor": 200, "admin": 200},
			aliceAccess:                              {"": 401, "person": 403, "alice": 200, "auditor": 200, "admin": 200},
			"/api/v1/people/alice@example.com":       {"": 401, "person": 403, "alice": 200, "auditor": 200},
			"/api/v1/people/pat@example.com/access":  {"person": 200, "alice": 403},
		} {
			for who, code := range want {
				if got, body := a.do(who, "GET", path, nil); got != code {
					t.Errorf("GET %s as %q: %d %v, want %d", path, who, got, body, code)
				}
			}
		}

		// Alice's access as of s1: through the Admins group; now: only her membership.
		_, body := a.do("alice", "GET", aliceAccess+"?at="+url.QueryEscape(invT1.Add(time.Minute).Format(time.RFC3339)), nil)
		sameJSON(t, "alice's access as of s1", body, `{"items": [
			{"grant_id": "account:333333333333:ps-admin:sso_user:u-alice", "entitlement_id": "account:333333333333:ps-admin",
			 "entitlement_name": "AdministratorAccess on prod", "resource_type": "account", "resource_id": "333333333333",
			 "resource_name": "prod", "account_id": "333333333333", "account_name": "prod", "principal_type": "sso_user",
			 "principal_id": "u-alice", "principal_name": "Alice Nguyen", "via": "Admins", "via_entitlement_id": "sso_group:g-admins:member",
			 "since": "2026-03-01T09:00:00Z", "until": "2026-03-01T11:00:00Z", "stale": false},
			{"grant_id": "sso_group:g-admins:member:sso_user:u-alice", "entitlement_id": "sso_group:g-admins:member",
			 "entitlement_name": "Admins member", "resource_type": "sso_group", "resource_id": "g-admins", "resource_name": "Admins",
			 "principal_type": "sso_user", "principal_id": "u-alice", "principal_name": "Alice Nguyen", "via": "direct",
			 "since": "2026-03-01T09:00:00Z", "stale": false}]}`)
		_, body = a.do("auditor", "GET", aliceAccess, nil)
		if items := body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["grant_id"] != adminsMem+":sso_user:u-alice" {
			t.Errorf("alice's access now: %v", body)
		}

		// What s2 changed, by sync ids.
		_, body = a.do("auditor", "GET", "/api/v1/changes?from=s1&to=s2", nil)
		sameJSON(t, "changes s1..s2", body, `{"items": [
			{"sync_id": "s2", "at": "2026-03-01T11:00:00Z", "kind": "added", "initial": false, "grant_id": "account:333333333333:ps-admin:sso_user:u-bob",
			 "entitlement_id": "account:333333333333:ps-admin", "entitlement_name": "AdministratorAccess on prod",
			 "principal_type": "sso_user", "principal_id": "u-bob", "principal_name": "Bob Martinez",
			 "account_id": "333333333333", "account_name": "prod", "person": "bob@example.com"},
			{"sync_id": "s2", "at": "2026-03-01T11:00:00Z", "kind": "removed", "initial": false, "grant_id": "account:333333333333:ps-admin:sso_user:u-alice",
			 "entitlement_id": "account:333333333333:ps-admin", "entitlement_name": "AdministratorAccess on prod",
			 "principal_type": "sso_user", "principal_id": "u-alice", "principal_name": "Alice Nguyen",
			 "account_id": "333333333333", "account_name": "prod", "person": "alice@example.com"},
			{"sync_id": "s2", "at": "2026-03-01T11:00:00Z", "kind": "removed", "initial": false, "grant_id": "account:333333333333:ps-admin:sso_group:g-admins",
			 "entitlement_id": "account:333333333333:ps-admin", "entitlement_name": "AdministratorAccess on prod",
			 "principal_type": "sso_group", "principal_id": "g-admins", "principal_name": "Admins",
			 "account_id": "333333333333", "account_name": "prod"}]}`)
		if _, body = a.do("auditor", "GET", "/api/v1/changes?from=s1&to=s2&person=alice@example.com", nil); len(body["items"].([]any)) != 1 {
			t.Errorf("alice's changes: %v", body)
		}
		// The feed pages one change at a time in the same order.
		var paged []any
		for token := ""; ; {
			_, body = a.do("auditor", "GET", "/api/v1/changes?page_size=1&page_token="+url.QueryEscape(token), nil)
			paged = append(paged, body["items"].([]any)...)
			next, _ := body["next_page_token"].(string)
			if next == "" {
				break
			}
			token = next
		}
		_, all := a.do("auditor", "GET", "/api/v1/changes", nil)
		if !reflect.DeepEqual(paged, all["items"]) || len(paged) != 6 { // 3 added in s1, 1 added and 2 removed in s2
			t.Errorf("changes paged one by one: %d items, all at once: %v", len(paged), all["items"])
		}

		// A resource whose id holds slashes and colons, with what it holds.
		code, body := a.do("auditor", "GET", "/api/v1/resources/iam_user/"+iamAlice, nil)
		if code != 200 || body["id"] != iamAlice || body["email"] != "alice@example.com" || body["account_name"] != "prod" ||
			!reflect.DeepEqual(body["profile"], map[string]any{"name": "alice"}) {
			t.Errorf("GET the IAM user alice: %d %v", code, body)
		}
		// The account: its entitlement with its holders then and now.
		_, body = a.do("auditor", "GET", "/api/v1/resources/account/333333333333?at="+url.QueryEscape(invT1.Format(time.RFC3339)), nil)
		ents := body["entitlements"].([]any)
		if len(ents) != 1 || ents[0].(map[string]any)["grant_count"] != 2.0 || len(body["grants"].([]any)) != 2 {
			t.Errorf("prod as of s1: %v", body)
		}
		_, body = a.do("auditor", "GET", "/api/v1/entitlements/"+psAdmin, nil)
		sameJSON(t, "holders of AdministratorAccess on prod", body["grants"], `[
			{"id": "account:333333333333:ps-admin:sso_user:u-bob", "entitlement_id": "account:333333333333:ps-admin",
			 "entitlement_name": "AdministratorAccess on prod", "resource_type": "account", "resource_id": "333333333333",
			 "principal_type": "sso_user", "principal_id": "u-bob", "principal_name": "Bob Martinez", "person": "bob@example.com",
			 "account_id": "333333333333", "account_name": "prod", "direct": true, "via": [], "first_sync": "s2",
			 "first_seen": "2026-03-01T11:00:00Z", "removed_at": null, "stale": false}]`)

		// Lists page with opaque tokens, in a stable order.
		var names []any
		for token := ""; ; {
			_, body = a.do("auditor", "GET", "/api/v1/resources?page_size=2&page_token="+url.QueryEscape(token), nil)
			for _, it := range body["items"].([]any) {
				names = append(names, it.(map[string]any)["display_name"])
			}
			next, _ := body["next_page_token"].(string)
			if next == "" {
				break
			}
			token = next
		}
		sameJSON(t, "every resource, two at a time", names,
			`["management", "prod", "alice", "Root", "Admins", "Alice Nguyen", "Bob Martinez"]`)
		_, body = a.do("auditor", "GET", "/api/v1/resources?type=sso_user&q=NGUY", nil)
		if items := body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != "u-alice" {
			t.Errorf("search for NGUY: %v", body)
		}
		_, body = a.do("auditor", "GET", "/api/v1/people?q=bob", nil)
		sameJSON(t, "people matching bob", body, `{"items": [{"email": "bob@example.com", "name": "Bob Martinez", "identity_count": 1}]}`)

		// Bad input: 400 saying what to fix; unknown things: 404.
		for path, code := range map[string]int{
			"/api/v1/resources?type=ec2_instance":                            400,
			"/api/v1/resources?at=yesterday":                                 400,
			"/api/v1/resources?page_token=garbage":                           400,
			"/api/v1/resources?page_size=0":                                  400,
			"/api/v1/changes?from=no-such-sync":                              400,
			"/api/v1/changes?from=s2&to=s1":                                  400,
			"/api/v1/resources/iam_user/arn:aws:iam::1:user/nobody":          404,
			"/api/v1/resources/account/333333333333?at=2020-01-01T00:00:00Z": 404,
			"/api/v1/entitlements/account:1:ps-nothing":                      404,
			"/api/v1/people/nobody@example.com/access":                       404,
		} {
			got, body := a.do("auditor", "GET", path, nil)
			if got != code || body["detail"] == nil || body["detail"] == "" {
				t.Errorf("GET %s: %d %v, want %d with a detail", path, got, body, code)
			}
		}
	})
}
