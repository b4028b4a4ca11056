package oidcdemo_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/oidcdemo"
)

func TestStartRefusesWhatItMustNotDo(t *testing.T) {
	for addr, want := range map[string]string{
		"0.0.0.0:0":       "only listens on a loopback address",
		"192.168.1.10:0":  "only listens on a loopback address",
		"127.0.0.1":       "want host:port",
		"example.com:443": "only listens on a loopback address",
	} {
		if _, err := oidcdemo.Start(addr, []oidcdemo.Person{{Email: "a@example.com"}}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Start(%q) = %v, want %q", addr, err, want)
		}
	}
	if _, err := oidcdemo.Start("127.0.0.1:0", nil); err == nil || !strings.Contains(err.Error(), "at least one person") {
		t.Errorf("no people: %v", err)
	}
	if _, err := oidcdemo.Start("127.0.0.1:0", []oidcdemo.Person{{Email: "a@example.com"}, {Email: "a@other.example"}}); err == nil || !strings.Contains(err.Error(), "must be unique") {
		t.Errorf("duplicate ids: %v", err)
	}
}

func TestDiscoveryAndClient(t *testing.T) {
	p, err := oidcdemo.Start("127.0.0.1:0", []oidcdemo.Person{{Email: "Mary.Jane@example.com", Name: "Mary Jane"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if !strings.HasPrefix(p.Issuer(), "http://127.0.0.1:") || p.ClientID == "" || len(p.ClientSecret) < 20 {
		t.Fatalf("issuer %q client %q secret %q", p.Issuer(), p.ClientID, p.ClientSecret)
	}
	if got := p.People(); len(got) != 1 || got[0].ID != "mary-jane" {
		t.Fatalf("people = %+v, want the id mary-jane from the email", got)
	}
	// A standard client discovers it: endpoints, JWKS, S256 PKCE.
	prov, err := oidc.NewProvider(context.Background(), p.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		JWKS    string   `json:"jwks_uri"`
		PKCE    []string `json:"code_challenge_methods_supported"`
		Grants  []string `json:"grant_types_supported"`
		Signing []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := prov.Claims(&meta); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(meta.PKCE, "S256") || !slices.Contains(meta.Signing, "RS256") || meta.JWKS == "" {
		t.Fatalf("discovery = %+v", meta)
	}
	resp, err := http.Get(meta.JWKS)
	if err != nil {
		t.Fatal(err)
	}
	var jwks struct{ Keys []map[string]any }
	_ = json.NewDecoder(resp.Body).Decode(&jwks)
	resp.Body.Close()
	if len(jwks.Keys) != 1 || jwks.Keys[0]["kty"] != "RSA" || jwks.Keys[0]["d"] != nil {
		t.Fatalf("JWKS = %+v, want one public RSA key", jwks)
	}

	// Only a registered redirect URI is accepted, and PKCE (S256) is required.
	const redirect = "http://127.0.0.1:9/auth/callback"
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	cfg := &oauth2.Config{ClientID: p.ClientID, ClientSecret: "wrong", Endpoint: prov.Endpoint(), RedirectURL: redirect, Scopes: []string{"openid", "email", "profile"}}
	verifier := oauth2.GenerateVerifier()
	authorize := func(opts ...oauth2.AuthCodeOption) (int, string) {
		resp, err := noFollow.Get(cfg.AuthCodeURL("state-1", opts...))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if l := resp.Header.Get("Location"); l != "" {
			return resp.StatusCode, l
		}
		return resp.StatusCode, string(b)
	}
	withPKCE := []oauth2.AuthCodeOption{oidc.Nonce("nonce-1"), oauth2.S256ChallengeOption(verifier)}
	if code, body := authorize(withPKCE...); code == http.StatusFound && strings.Contains(body, "/demo-login") {
		t.Fatalf("unregistered redirect accepted: %d %s", code, body)
	}
	p.RegisterRedirect(redirect)
	if code, body := authorize(oidc.Nonce("nonce-1")); !strings.Contains(body, "requires+PKCE") && !strings.Contains(body, "requires PKCE") {
		t.Fatalf("without PKCE: %d %s", code, body)
	}
	code, loc := authorize(withPKCE...)
	if code != http.StatusFound || !strings.HasPrefix(loc, "/demo-login?authRequestID=") {
		t.Fatalf("registered redirect: %d %s", code, loc)
	}
	page, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	// Choosing the person on the login page redirects, through the provider, to the
	// redirect URI with a code.
	resp, err = noFollow.PostForm(p.Issuer()+"/demo-login", url.Values{"id": {page.Query().Get("authRequestID")}, "person": {"mary-jane"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = noFollow.Get(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, _ := url.Parse(resp.Header.Get("Location"))
	if !strings.HasPrefix(back.String(), redirect+"?") || back.Query().Get("state") != "state-1" || back.Query().Get("code") == "" {
		t.Fatalf("back to the client: %s", back)
	}
	ctx := context.Background()
	if _, err := cfg.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier)); err == nil || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("exchange with a wrong secret: %v, want invalid_client", err)
	}
	cfg.ClientSecret = p.ClientSecret
	if _, err := cfg.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil || !strings.Contains(err.Error(), "code_verifier") {
		t.Fatalf("exchange with a wrong verifier: %v", err)
	}
	tok, err := cfg.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	idt, err := prov.Verifier(&oidc.Config{ClientID: p.ClientID}).Verify(ctx, tok.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	var cl struct {
		Email    string `json:"email"`
		Verified bool   `json:"email_verified"`
		Name     string `json:"name"`
	}
	if err := idt.Claims(&cl); err != nil || idt.Nonce != "nonce-1" || idt.Subject != "mary-jane" || cl.Email != "Mary.Jane@example.com" || !cl.Verified || cl.Name != "Mary Jane" {
		t.Fatalf("ID token: nonce %q subject %q claims %+v %v", idt.Nonce, idt.Subject, cl, err)
	}
	ui, err := prov.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil || ui.Email != "Mary.Jane@example.com" || !ui.EmailVerified {
		t.Fatalf("userinfo = %+v %v", ui, err)
	}
	// A code is good once.
	if _, err := cfg.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier)); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("second exchange of the code: %v, want invalid_grant", err)
	}
}
