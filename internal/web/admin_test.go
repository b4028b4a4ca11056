package web

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/connection"
	"github.com/gatehouse/gatehouse/internal/secrets"
	"github.com/gatehouse/gatehouse/internal/store"
)

// withConnections gives the test UI a connections service.
func (u *testUI) withConnections() *connection.Service {
	u.t.Helper()
	keys, err := secrets.NewKeyring(bytes.Repeat([]byte{3}, secrets.KeySize))
	if err != nil {
		u.t.Fatal(err)
	}
	u.app.Connections = connection.NewService(u.store, keys, nil, time.Hour)
	return u.app.Connections
}

func (u *testUI) postForm(caller any, target string, form url.Values) response {
	u.t.Helper()
	return u.do(callerOf(caller), "POST", target, strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded")
}

func TestConnectionsAddEditMasked(t *testing.T) {
	u := newTestUI(t)
	svc := u.withConnections()
	const token = "scim-token-abcdefghijklmnop-WXYZ"
	res := u.postForm(admin, "/admin/connections", url.Values{
		"id": {"prod-org"}, "name": {"Production"}, "schedule": {"30m"},
		"role_arn": {"arn:aws:iam::111111111111:role/GatehouseConnector"}, "external_id": {"ext-0123456789abcdef-QRST"},
		"orgs": {"on"}, "identity_center": {"on"},
		"scim_endpoint": {"https://scim.us-east-1.amazonaws.com/x/scim/v2"}, "scim_token": {token},
	})
	if res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/admin/connections?created=prod-org" {
		t.Fatalf("create: status %d location %q\n%s", res.Status, res.Header.Get("Location"), text(res.Body))
	}
	list := u.get(admin, "/admin/connections?created=prod-org")
	cspSafe(t, list.Body)
	got := text(list.Body)
	mustContain(t, got, "Connection prod-org added.", "Production", "prod-org", "added in the UI", "Organization · Identity Center · SCIM",
		"arn:aws:iam::111111111111:role/GatehouseConnector", "every 30 min", "external_id: •••• QRST", "scim_token: •••• WXYZ")
	mustNotContain(t, list.Body, token, "ext-0123456789abcdef")

	// The edit form shows masks as placeholders, never the values.
	edit := u.get(admin, "/admin/connections/prod-org")
	cspSafe(t, edit.Body)
	if !strings.Contains(edit.Body, `placeholder="•••• WXYZ (leave empty to keep)"`) {
		t.Fatalf("edit form does not show the SCIM token's mask:\n%s", edit.Body)
	}
	mustNotContain(t, edit.Body, token, "ext-0123456789abcdef")

	// Saving with the secrets left empty keeps them; a changed name is saved.
	res = u.postForm(admin, "/admin/connections/prod-org", url.Values{
		"name": {"Production org"}, "schedule": {"1h"}, "role_arn": {"arn:aws:iam::111111111111:role/GatehouseConnector"},
		"orgs": {"on"}, "identity_center": {"on"}, "scim_endpoint": {"https://scim.us-east-1.amazonaws.com/x/scim/v2"},
	})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("update: status %d\n%s", res.Status, text(res.Body))
	}
	v, err := svc.Get(context.Background(), "prod-org")
	if err != nil {
		t.Fatal(err)
	}
	if v.Name != "Production org" || v.Secrets["scim_token"] != "•••• WXYZ" || v.Secrets["external_id"] != "•••• QRST" {
		t.Fatalf("after update: name %q, secrets %v", v.Name, v.Secrets)
	}

	// Bad input: the form again, saying what to fix, without echoing a secret typed in.
	res = u.postForm(admin, "/admin/connections", url.Values{"id": {"Bad Id"}, "scim_token": {"typed-secret-value-0000"}})
	if res.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad input: status %d", res.Status)
	}
	mustContain(t, text(res.Body), "Fix these and save again", `id must be a short name of lowercase letters, digits, '-' and '_'`,
		"scim_endpoint and scim_token go together")
	mustNotContain(t, res.Body, "typed-secret-value-0000")

	// Delete.
	res = u.postForm(admin, "/admin/connections/prod-org/delete", nil)
	if res.Status != http.StatusSeeOther {
		t.Fatalf("delete: status %d", res.Status)
	}
	if _, err := u.store.GetConnection(context.Background(), "prod-org"); err != store.ErrNotFound && !strings.Contains(err.Error(), "not found") {
		t.Fatalf("after delete: %v", err)
	}
}

func TestConnectionsAreForAdmins(t *testing.T) {
	u := newTestUI(t)
	u.withConnections()
	for _, c := range []any{auditor, person} {
		if res := u.get(callerOf(c), "/admin/connections"); res.Status != http.StatusForbidden {
			t.Fatalf("%v sees connections: %d", c, res.Status)
		}
		if res := u.postForm(c, "/admin/connections", url.Values{"id": {"x"}}); res.Status != http.StatusForbidden {
			t.Fatalf("%v creates a connection: %d", c, res.Status)
		}
	}
}
