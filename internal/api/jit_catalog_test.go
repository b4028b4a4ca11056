package api_test

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/store"
)

// The catalog through a real server on the demo organization: bob may request
// AdministratorAccess on prod under the seed rule, with its durations, reason, rule, policy
// and why; the entry says what the permission set grants; an unknown entitlement is 404.
func TestJITAPICatalog(t *testing.T) {
	s := newJITServer(t, store.SQLite, true)
	// The catalog: bob may request AdministratorAccess on prod under the seed rule.
	var catalog struct {
		Items []map[string]any `json:"items"`
	}
	if code, raw := s.call("bob", "GET", "/api/v1/catalog?account_id="+s.prod+"&page_size=1000", "", &catalog); code != 200 {
		t.Fatalf("catalog: %d %s", code, raw)
	}
	var admin, readOnly map[string]any
	for _, it := range catalog.Items {
		switch it["permission_set_name"] {
		case "AdministratorAccess":
			admin = it
		case "ReadOnly":
			readOnly = it
		}
	}
	if admin == nil || readOnly == nil {
		t.Fatalf("bob's catalog on prod lacks AdministratorAccess or ReadOnly: %v", catalog.Items)
	}
	adminID := admin["id"].(string)
	if adminID != s.ent["AdministratorAccess"] {
		t.Errorf("catalog id %s, want %s", adminID, s.ent["AdministratorAccess"])
	}
	if !strings.HasPrefix(adminID, "account:"+s.prod+":ps-") || admin["application"] != "aws" || admin["account_id"] != s.prod ||
		admin["account_name"] != "prod" || admin["resource_type"] != "account" ||
		!strings.HasPrefix(admin["permission_set_arn"].(string), "arn:aws:sso:::permissionSet/") ||
		admin["default_duration"] != "1h0m0s" || admin["max_duration"] != "8h0m0s" || admin["reason_required"] != true ||
		admin["rule"] != "accounts-everyone" || admin["policy"] != "default" || admin["why"] == "" || admin["display_name"] == "" {
		t.Errorf("catalog item = %v", admin)
	}
	var entry map[string]any
	if code, raw := s.call("bob", "GET", "/api/v1/catalog/"+adminID, "", &entry); code != 200 || entry["requestable"] != true || entry["id"] != adminID {
		t.Fatalf("catalog entry: %d %s", code, raw)
	}
	if ps, _ := entry["permission_set"].(map[string]any); ps == nil || ps["name"] != "AdministratorAccess" ||
		!strings.Contains(strings.Join(toStrings(ps["managed_policies"]), " "), "AdministratorAccess") {
		t.Errorf("catalog entry's permission set = %v", entry["permission_set"])
	}
	s.problem("bob", "GET", "/api/v1/catalog/account:"+s.prod+":ps-nope", "", 404)

}
