package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/api"
	"github.com/gatehouse/gatehouse/internal/app"
	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// apiServer serves the API behind Identify, with ann an admin and bob a person.
func apiServer(t *testing.T, st *store.Store) *httptest.Server {
	t.Helper()
	svc, err := auth.New(context.Background(), st, auth.Config{Admins: []string{"ann@example.com"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := auth.NewRouter()
	api.Register(r, &app.App{Store: st, Auth: svc})
	srv := httptest.NewServer(svc.Identify(r))
	t.Cleanup(srv.Close)
	return srv
}

func token(t *testing.T, st *store.Store, email string, roles ...string) string {
	t.Helper()
	secret, _, err := auth.CreateToken(context.Background(), st, auth.NewToken{Email: email, Name: "setup", Roles: roles, Actor: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

func do(t *testing.T, method, url, bearer, body string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, url, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

func TestMe(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	srv := apiServer(t, st)
	var me map[string]any
	if code := do(t, "GET", srv.URL+"/api/v1/me", token(t, st, "ann@example.com", auth.RoleAdmin), "", &me); code != 200 {
		t.Fatalf("me: %d", code)
	}
	if me["email"] != "ann@example.com" || me["name"] != "" || len(me["roles"].([]any)) != 1 || me["roles"].([]any)[0] != "admin" || me["via"] != "token" {
		t.Fatalf("me = %v", me)
	}
	if code := do(t, "GET", srv.URL+"/api/v1/me", token(t, st, "bob@example.com"), "", &me); code != 200 || me["roles"] == nil || len(me["roles"].([]any)) != 0 {
		t.Fatalf("bob's me = %d %v, want roles []", code, me)
	}
}

func TestTokensAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		srv := apiServer(t, st)
		ann, bob := token(t, st, "ann@example.com", auth.RoleAdmin), token(t, st, "bob@example.com")

		var created api.Token
		if code := do(t, "POST", srv.URL+"/api/v1/tokens", bob, `{"name":"ci","expires_in":"720h"}`, &created); code != 201 {
			t.Fatalf("create: %d %+v", code, created)
		}
		if created.Email != "bob@example.com" || created.Name != "ci" || created.ExpiresAt == nil || created.CreatedBy != "bob@example.com" || !strings.HasPrefix(created.Token, auth.TokenPrefix) {
			t.Fatalf("created = %+v", created)
		}
		// The new token works, as bob.
		var me api.Me
		if code := do(t, "GET", srv.URL+"/api/v1/me", created.Token, "", &me); code != 200 || me.Email != "bob@example.com" {
			t.Fatalf("new token: %d %+v", code, me)
		}
		var p struct{ Detail string }
		for body, want := range map[string]string{
			`{"name":""}`:                      "name: say",
			`{"name":"x","expires_in":"soon"}`: "expires_in must be a positive Go duration",
			`{"nom":"x"}`:                      "must be a JSON object",
		} {
			if code := do(t, "POST", srv.URL+"/api/v1/tokens", bob, body, &p); code != 400 || !strings.Contains(p.Detail, want) {
				t.Fatalf("create %s: %d %q, want 400 %q", body, code, p.Detail, want)
			}
		}

		// Bob lists his own (two, never a secret); all=true is for admins.
		var list api.List[api.Token]
		if code := do(t, "GET", srv.URL+"/api/v1/tokens", bob, "", &list); code != 200 || len(list.Items) != 2 {
			t.Fatalf("bob's list: %d %+v", code, list)
		}
		names := map[string]string{}
		for _, it := range list.Items {
			if it.Token != "" || it.Email != "bob@example.com" {
				t.Fatalf("list item %+v", it)
			}
			names[it.Name] = it.ID
		}
		if names["ci"] != created.ID || names["setup"] == "" {
			t.Fatalf("bob's tokens = %v", names)
		}
		if code := do(t, "GET", srv.URL+"/api/v1/tokens?all=true", bob, "", &p); code != 403 || !strings.Contains(p.Detail, "needs the admin role") {
			t.Fatalf("bob all=true: %d %q", code, p.Detail)
		}
		if code := do(t, "GET", srv.URL+"/api/v1/tokens?all=true&page_size=2", ann, "", &list); code != 200 || len(list.Items) != 2 || list.NextPageToken == "" {
			t.Fatalf("ann all=true page 1: %d %+v", code, list)
		}
		var page2 api.List[api.Token]
		if code := do(t, "GET", srv.URL+"/api/v1/tokens?all=true&page_size=2&page_token="+list.NextPageToken, ann, "", &page2); code != 200 || len(page2.Items) != 1 || page2.NextPageToken != "" {
			t.Fatalf("ann all=true page 2: %d %+v", code, page2)
		}

		// Ann's own token is not bob's to revoke: 404, as if it did not exist.
		var annList api.List[api.Token]
		do(t, "GET", srv.URL+"/api/v1/tokens", ann, "", &annList)
		if code := do(t, "DELETE", srv.URL+"/api/v1/tokens/"+annList.Items[0].ID, bob, "", &p); code != 404 {
			t.Fatalf("bob revokes ann's: %d %q", code, p.Detail)
		}
		var revoked api.Token
		if code := do(t, "DELETE", srv.URL+"/api/v1/tokens/"+created.ID, bob, "", &revoked); code != 200 || revoked.RevokedAt == nil {
			t.Fatalf("bob revokes his own: %d %+v", code, revoked)
		}
		if code := do(t, "GET", srv.URL+"/api/v1/me", created.Token, "", &p); code != 401 || !strings.Contains(p.Detail, "revoked") {
			t.Fatalf("revoked token: %d %q", code, p.Detail)
		}
		if code := do(t, "DELETE", srv.URL+"/api/v1/tokens/"+created.ID, bob, "", &p); code != 409 || !strings.Contains(p.Detail, "revoked already") {
			t.Fatalf("revoke twice: %d %q", code, p.Detail)
		}
		// An admin may revoke anyone's: bob's setup token stops working.
		if code := do(t, "DELETE", srv.URL+"/api/v1/tokens/"+names["setup"], ann, "", &revoked); code != 200 {
			t.Fatalf("ann revokes bob's: %d", code)
		}
		if code := do(t, "GET", srv.URL+"/api/v1/me", bob, "", nil); code != 401 {
			t.Fatalf("bob's token after ann revoked it: %d", code)
		}
		entries, _ := st.ListAudit(context.Background(), store.AuditFilter{Action: "token.revoke"})
		if len(entries) != 2 || entries[0].Actor != "bob@example.com" || entries[0].Target != "token:"+created.ID || entries[1].Actor != "ann@example.com" || entries[1].RemoteAddr != "127.0.0.1" {
			t.Fatalf("revoke audit = %+v", entries)
		}
	})
}
