package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/oidcdemo"
	"github.com/gatehouse/gatehouse/internal/server"
)

// TestServeSignsInThroughOIDC runs the whole server configured with an OpenID provider
// (the demo one, real, over HTTP), and signs in with a browser-like client: /login, the
// provider's page, the callback, then the API with the session cookie; logout ends it.
func TestServeSignsInThroughOIDC(t *testing.T) {
	idp, err := oidcdemo.Start("127.0.0.1:0", []oidcdemo.Person{{Email: "ann@example.com", Name: "Ann"}, {Email: "al@example.com", Name: "Al"}})
	if err != nil {
		t.Fatal(err)
	}
	defer idp.Close()
	cfg, err := server.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.OIDC = server.OIDC{Issuer: idp.Issuer(), ClientID: idp.ClientID, ClientSecret: idp.ClientSecret}
	cfg.Auditors = []string{"ANN@example.com"}
	srv, err := server.New(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	base, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	idp.RegisterRedirect(base + "/auth/callback")

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(base + "/login?next=" + url.QueryEscape("/api/v1/me"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	reqID := resp.Request.URL.Query().Get("authRequestID")
	if resp.StatusCode != 200 || reqID == "" {
		t.Fatalf("/login led to %s (%d)", resp.Request.URL, resp.StatusCode)
	}
	resp, err = c.PostForm(idp.Issuer()+"/demo-login", url.Values{"id": {reqID}, "person": {"ann"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var me struct {
		Email string   `json:"email"`
		Name  string   `json:"name"`
		Roles []string `json:"roles"`
	}
	if err := json.Unmarshal(body, &me); err != nil || me.Email != "ann@example.com" || me.Name != "Ann" || len(me.Roles) != 1 || me.Roles[0] != "auditor" {
		t.Fatalf("after sign-in %s: %d %s", resp.Request.URL, resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Fatalf("security headers missing behind Identify: %q", csp)
	}
	// Logout (same origin, as the browser's form sends it), then the API says 401.
	req, _ := http.NewRequest("POST", base+"/logout", nil)
	req.Header.Set("Origin", base)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	resp, err = c.Get(base + "/api/v1/me")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("after logout: %d", resp.StatusCode)
	}
}
