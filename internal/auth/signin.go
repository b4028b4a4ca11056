package auth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"go.uber.org/zap"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/store"
)

// oidcClient is the discovered provider: its endpoints and the ID token verifier.
type oidcClient struct {
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
}

// Register adds the sign-in routes: GET /login, GET /auth/callback and POST /logout.
func (s *Service) Register(r *Router) {
	r.HandleFunc("GET", "/login", Public, s.login)
	r.HandleFunc("GET", "/auth/callback", Public, s.callback)
	r.HandleFunc("POST", "/logout", Public, s.logout)
}

// client discovers the issuer on first use (and again after a failure), so that
// Gatehouse starts, and API tokens work, while the provider is unreachable.
func (s *Service) client(ctx context.Context) (*oidcClient, error) {
	s.oidcMu.Lock()
	defer s.oidcMu.Unlock()
	if s.oidc != nil {
		return s.oidc, nil
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, s.cfg.HTTPClient), 15*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(ctx, s.cfg.Issuer)
	if err != nil {
		return nil, err
	}
	s.oidc = &oidcClient{provider: p, verifier: p.Verifier(&oidc.Config{ClientID: s.cfg.ClientID})}
	return s.oidc, nil
}

// oauthConfig is the OAuth 2 client for a request (the redirect URL may come from it).
func (s *Service) oauthConfig(c *oidcClient, r *http.Request) *oauth2.Config {
	scopes := s.cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{"profile", "email"}
	}
	return &oauth2.Config{
		ClientID:     s.cfg.ClientID,
		ClientSecret: s.cfg.ClientSecret,
		Endpoint:     c.provider.Endpoint(),
		RedirectURL:  s.baseURL(r) + "/auth/callback",
		Scopes:       append([]string{oidc.ScopeOpenID}, slices.DeleteFunc(slices.Clone(scopes), func(s string) bool { return s == oidc.ScopeOpenID })...),
	}
}

// baseURL is the public URL, or the request's scheme and host when none is configured.
func (s *Service) baseURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// SafeNext returns next when it is a path on this site that is fine to go to after
// signing in, and "/" otherwise: no scheme, no host, no "//" or backslash (which
// browsers read as another host), no control characters, not the sign-in routes.
func SafeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\") {
		return "/"
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	for _, p := range []string{"/login", "/logout", "/auth/"} {
		if u.Path == p || strings.HasPrefix(u.Path, p+"/") || (strings.HasSuffix(p, "/") && strings.HasPrefix(u.Path, p)) {
			return "/"
		}
	}
	return next
}

// login starts a sign-in: it records the state, nonce and PKCE verifier on the server,
// gives the browser the state in a short-lived cookie, and sends it to the provider.
//
// GET /login?next=<path>: 302 to the provider; 503 with a page saying so when sign-in
// is not configured or the provider does not answer.
func (s *Service) login(w http.ResponseWriter, r *http.Request) {
	if !s.SignInEnabled() {
		s.Render(w, r, http.StatusServiceUnavailable, Message{
			Title: "Sign-in is not configured",
			Text: "This Gatehouse has no OpenID Connect provider to sign in with. An admin sets oidc.issuer, oidc.client_id and " +
				"oidc.client_secret in the configuration (or GATEHOUSE_OIDC_ISSUER, GATEHOUSE_OIDC_CLIENT_ID, GATEHOUSE_OIDC_CLIENT_SECRET) " +
				"and restarts it. API tokens still work: gatehouse token create --email you@example.com --name what-for.",
		})
		return
	}
	c, err := s.client(r.Context())
	if err != nil {
		s.log.Warn("OpenID provider discovery", zap.String("issuer", s.cfg.Issuer), zap.Error(err))
		s.Render(w, r, http.StatusServiceUnavailable, Message{
			Title:    "The sign-in provider does not answer",
			Text:     fmt.Sprintf("Gatehouse could not reach the OpenID Connect provider at %s (%v). Try again in a minute; if it persists, an admin checks oidc.issuer.", s.cfg.Issuer, err),
			LinkText: "Try again", LinkURL: "/login?next=" + url.QueryEscape(SafeNext(r.URL.Query().Get("next"))),
		})
		return
	}
	state, err1 := randomString(32)
	nonce, err2 := randomString(32)
	if err := errors.Join(err1, err2); err != nil {
		http.Error(w, "Cannot start sign-in: "+err.Error(), http.StatusInternalServerError)
		return
	}
	verifier := oauth2.GenerateVerifier()
	now := s.now()
	a := store.SignInAttempt{StateHash: hashSecret(state), Nonce: nonce, Verifier: verifier,
		NextPath: SafeNext(r.URL.Query().Get("next")), CreatedAt: now, ExpiresAt: now.Add(signInTTL)}
	if err := s.st.CreateSignInAttempt(r.Context(), a); err != nil {
		s.log.Error("store sign-in attempt", zap.Error(err))
		http.Error(w, "Cannot start sign-in: the database does not answer. Try again.", http.StatusServiceUnavailable)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: signInCookie, Value: state, Path: "/auth/callback", MaxAge: int(signInTTL / time.Second),
		HttpOnly: true, Secure: s.cookieSecure(r), SameSite: http.SameSiteLaxMode})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, s.oauthConfig(c, r).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusFound)
}

// idClaims are the ID token's (or userinfo's) claims Gatehouse uses.
type idClaims struct {
	Email         string    `json:"email"`
	EmailVerified *flexBool `json:"email_verified"`
	Name          string    `json:"name"`
}

// flexBool accepts true and "true" (some providers send the claim as a string).
type flexBool bool

func (b *flexBool) UnmarshalJSON(d []byte) error {
	var v any
	if err := json.Unmarshal(d, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case bool:
		*b = flexBool(x)
	case string:
		*b = flexBool(strings.EqualFold(x, "true"))
	default:
		return fmt.Errorf("email_verified: want a boolean, got %s", d)
	}
	return nil
}

// refusal is a sign-in that did not go through: the page to show and what to audit.
type refusal struct {
	status int
	title  string
	text   string
	reason string // for the audit log and the server log
	email  string // when known
}

// callback completes a sign-in: it checks the state against the browser's cookie, takes
// the attempt (once), exchanges the code with the PKCE verifier, verifies the ID token
// (signature, issuer, audience, expiry, nonce), requires a verified email, then records
// the person and the session and audits signin, all in one transaction.
//
// GET /auth/callback?code=&state=: 303 to the page the sign-in started from, with the
// session cookie; 400 with a page saying why when refused (audited as signin.failed).
func (s *Service) callback(w http.ResponseWriter, r *http.Request) {
	s.clearCookie(w, r, signInCookie, "/auth/callback")
	u, rf := s.completeSignIn(r)
	if rf != nil {
		s.log.Info("sign-in refused", zap.String("reason", rf.reason), zap.String("email", rf.email), zap.String("remote", remoteHost(r)))
		actor := rf.email
		if actor == "" {
			actor = "anonymous"
		}
		if err := s.st.InTx(r.Context(), func(tx *store.Tx) error {
			_, err := tx.AppendAudit(r.Context(), actor, "signin.failed", "", map[string]string{"reason": rf.reason}, remoteHost(r))
			return err
		}); err != nil {
			s.log.Error("audit refused sign-in", zap.Error(err))
		}
		s.Render(w, r, rf.status, Message{Title: rf.title, Text: rf.text, LinkText: "Sign in again", LinkURL: "/login"})
		return
	}
	sessionID, err := randomString(32)
	if err != nil {
		http.Error(w, "Cannot create the session: "+err.Error(), http.StatusInternalServerError)
		return
	}
	now := time.UnixMilli(s.now().UnixMilli()).UTC()
	sess := store.Session{IDHash: hashSecret(sessionID), Email: u.user.Email, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL),
		RemoteAddr: remoteHost(r), UserAgent: truncate(r.UserAgent(), 300)}
	err = s.st.InTx(r.Context(), func(tx *store.Tx) error {
		// Signing in again in the same browser replaces its session: the old one ends.
		if old, err := r.Cookie(SessionCookie); err == nil && old.Value != "" {
			if _, err := tx.DeleteSession(r.Context(), hashSecret(old.Value)); err != nil {
				return err
			}
		}
		if err := tx.UpsertSignIn(r.Context(), u.user, now); err != nil {
			return err
		}
		if err := tx.CreateSession(r.Context(), sess); err != nil {
			return err
		}
		_, err := tx.AppendAudit(r.Context(), u.user.Email, "signin", "user:"+u.user.Email,
			map[string]any{"issuer": u.user.Issuer, "subject": u.user.Subject, "roles": u.user.Roles}, remoteHost(r))
		return err
	})
	if err != nil {
		s.log.Error("record sign-in", zap.Error(err))
		http.Error(w, "Cannot record the sign-in: the database does not answer. Sign in again.", http.StatusServiceUnavailable)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: sessionID, Path: "/", MaxAge: int(s.cfg.SessionTTL / time.Second),
		HttpOnly: true, Secure: s.cookieSecure(r), SameSite: http.SameSiteLaxMode})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.next, http.StatusSeeOther)
}

type signedIn struct {
	user store.User
	next string
}

func (s *Service) completeSignIn(r *http.Request) (*signedIn, *refusal) {
	ctx := r.Context()
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		return nil, &refusal{status: http.StatusBadRequest, title: "The sign-in provider did not sign you in",
			text:   fmt.Sprintf("It answered %q: %s.", e, q.Get("error_description")),
			reason: "provider error: " + e + ": " + q.Get("error_description")}
	}
	state, code := q.Get("state"), q.Get("code")
	if state == "" || code == "" {
		return nil, &refusal{status: http.StatusBadRequest, title: "This is not a sign-in answer",
			text: "The address has no code and state from the sign-in provider. Start at the sign-in page.", reason: "callback without code or state"}
	}
	ck, err := r.Cookie(signInCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(state)) != 1 {
		return nil, &refusal{status: http.StatusBadRequest, title: "This sign-in was not started by this browser",
			text: "The state in the answer does not match the sign-in this browser started (it may have been tampered with, " +
				"started in another browser, or taken longer than 10 minutes). Nothing was signed in. Start again.",
			reason: "state does not match the browser's sign-in cookie"}
	}
	a, err := s.st.TakeSignInAttempt(ctx, hashSecret(state))
	if errors.Is(err, store.ErrNotFound) {
		return nil, &refusal{status: http.StatusBadRequest, title: "This sign-in answer was used already",
			text:   "Each answer from the sign-in provider can be used once, and this one was (or it expired and was cleared). Start again.",
			reason: "sign-in state unknown or already used (replay)"}
	}
	if err != nil {
		return nil, &refusal{status: http.StatusServiceUnavailable, title: "Sign-in failed", text: "The database does not answer. Try again.", reason: err.Error()}
	}
	if !s.now().Before(a.ExpiresAt) {
		return nil, &refusal{status: http.StatusBadRequest, title: "This sign-in took too long",
			text: "More than 10 minutes passed at the sign-in provider. Start again.", reason: "sign-in attempt expired"}
	}
	c, err := s.client(ctx)
	if err != nil {
		return nil, &refusal{status: http.StatusServiceUnavailable, title: "The sign-in provider does not answer",
			text: fmt.Sprintf("Gatehouse could not reach %s: %v. Try again.", s.cfg.Issuer, err), reason: "provider discovery: " + err.Error()}
	}
	octx := oidc.ClientContext(ctx, s.cfg.HTTPClient)
	tok, err := s.oauthConfig(c, r).Exchange(octx, code, oauth2.VerifierOption(a.Verifier))
	if err != nil {
		return nil, &refusal{status: http.StatusBadRequest, title: "The sign-in provider refused the sign-in code",
			text:   "Exchanging the code failed (" + oauthError(err) + "). A code can be used once and only by the browser that asked for it. Start again.",
			reason: "code exchange: " + oauthError(err)}
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, &refusal{status: http.StatusBadGateway, title: "The sign-in provider sent no ID token",
			text: "Its answer has no id_token: check that the client is an OpenID Connect client with the openid scope.", reason: "no id_token in the token response"}
	}
	idt, err := c.verifier.Verify(octx, raw)
	if err != nil {
		return nil, &refusal{status: http.StatusBadRequest, title: "The ID token is not valid",
			text: "Gatehouse could not verify the provider's ID token (" + err.Error() + "). Start again.", reason: "ID token: " + err.Error()}
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(a.Nonce)) != 1 {
		return nil, &refusal{status: http.StatusBadRequest, title: "The ID token belongs to another sign-in",
			text:   "Its nonce does not match the one this sign-in sent (a replayed or injected answer). Nothing was signed in. Start again.",
			reason: "ID token nonce does not match"}
	}
	var cl idClaims
	if err := idt.Claims(&cl); err != nil {
		return nil, &refusal{status: http.StatusBadRequest, title: "The ID token is not valid", text: err.Error(), reason: "ID token claims: " + err.Error()}
	}
	if cl.Email == "" || cl.EmailVerified == nil {
		// Some providers put the email only in userinfo.
		// Userinfo speaks for the same person only when its subject is the ID token's.
		if ui, err := c.provider.UserInfo(octx, oauth2.StaticTokenSource(tok)); err == nil && ui.Subject == idt.Subject {
			var more idClaims
			if err := ui.Claims(&more); err == nil {
				if cl.Email == "" {
					cl.Email = more.Email
				}
				if cl.EmailVerified == nil {
					cl.EmailVerified = more.EmailVerified
				}
				if cl.Name == "" {
					cl.Name = more.Name
				}
			}
		}
	}
	email := NormalizeEmail(cl.Email)
	if email == "" {
		return nil, &refusal{status: http.StatusForbidden, title: "The sign-in provider did not say who you are",
			text:   "Gatehouse needs your email address (the email scope and claim); the provider sent none. An admin checks the client's scopes at the provider.",
			reason: "no email claim"}
	}
	if cl.EmailVerified != nil && !bool(*cl.EmailVerified) {
		return nil, &refusal{status: http.StatusForbidden, title: "Your email address is not verified",
			text:   fmt.Sprintf("The sign-in provider says %s is not verified. Verify it with the provider, then sign in again.", email),
			reason: "email not verified", email: email}
	}
	roles := s.roles[email]
	if roles == nil {
		roles = []string{}
	}
	return &signedIn{user: store.User{Email: email, Name: cl.Name, Issuer: idt.Issuer, Subject: idt.Subject, Roles: roles}, next: a.NextPath}, nil
}

// oauthError is the provider's error code and description, without the response body.
func oauthError(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.ErrorCode != "" {
		if re.ErrorDescription != "" {
			return re.ErrorCode + ": " + re.ErrorDescription
		}
		return re.ErrorCode
	}
	return err.Error()
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// logout ends the session: the row is deleted (the cookie is worthless from now on, on
// every replica), the cookie cleared, and signout audited.
//
// POST /logout: 200 with a "signed out" page.
func (s *Service) logout(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(SessionCookie); err == nil && ck.Value != "" {
		err := s.st.InTx(r.Context(), func(tx *store.Tx) error {
			email, err := tx.DeleteSession(r.Context(), hashSecret(ck.Value))
			if err != nil || email == "" {
				return err
			}
			_, err = tx.AppendAudit(r.Context(), email, "signout", "user:"+email, nil, remoteHost(r))
			return err
		})
		if err != nil {
			s.log.Error("sign out", zap.Error(err))
			http.Error(w, "Cannot sign out: the database does not answer. Try again.", http.StatusServiceUnavailable)
			return
		}
	}
	s.clearCookie(w, r, SessionCookie, "/")
	w.Header().Set("Cache-Control", "no-store")
	s.Render(w, r, http.StatusOK, Message{Title: "Signed out", Text: "You are signed out of Gatehouse.", LinkText: "Sign in again", LinkURL: "/login"})
}

var messageTemplate = template.Must(template.New("message").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · Gatehouse</title></head>
<body><main><h1>{{.Title}}</h1><p id="message">{{.Text}}</p>{{if .LinkURL}}<p><a href="{{.LinkURL}}">{{.LinkText}}</a></p>{{end}}</main></body></html>
`))

// renderMessage is the plain page the sign-in routes show unless the web UI sets Render.
func renderMessage(w http.ResponseWriter, r *http.Request, status int, m Message) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = messageTemplate.Execute(w, m)
}
