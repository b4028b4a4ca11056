package oidcdemo

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Lifetimes: a sign-in must be completed within requestTTL, a code used within codeTTL.
const (
	requestTTL     = 10 * time.Minute
	codeTTL        = time.Minute
	accessTokenTTL = 5 * time.Minute
)

// storage is op.Storage in memory: the authorization requests in progress, the issued
// codes and access tokens, the one client and the signing key.
type storage struct {
	people []Person
	key    *rsa.PrivateKey
	keyID  string

	mu       sync.Mutex
	client   *client
	requests map[string]*authRequest // by id
	codes    map[string]string       // code -> request id
	tokens   map[string]*accessToken // by id
}

type accessToken struct {
	subject  string
	clientID string
	scopes   []string
	expires  time.Time
}

func randomID() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func newStorage(people []Person) (*storage, error) {
	k, err := rsaKey()
	if err != nil {
		return nil, err
	}
	return &storage{
		people: people, key: k, keyID: randomID()[:12],
		client:   &client{id: "gatehouse-demo", secret: randomID()},
		requests: map[string]*authRequest{}, codes: map[string]string{}, tokens: map[string]*accessToken{},
	}, nil
}

func (s *storage) person(id string) (Person, bool) {
	i := slices.IndexFunc(s.people, func(p Person) bool { return p.ID == id })
	if i < 0 {
		return Person{}, false
	}
	return s.people[i], true
}

// notFound is an op.StorageNotFoundError.
type notFound struct{ what string }

func (e notFound) Error() string { return e.what + " not found" }
func (notFound) IsNotFound()     {}

// complete marks the request id signed in as the person.
func (s *storage) complete(id, personID string) error {
	p, ok := s.person(personID)
	if !ok {
		return fmt.Errorf("there is no demo person %q", personID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.requests[id]
	if !ok || time.Now().After(r.created.Add(requestTTL)) {
		return errors.New("this sign-in request is unknown, expired or used already: start again from the application")
	}
	r.subject, r.authTime, r.done = p.ID, time.Now().UTC(), true
	return nil
}

// authRequest is an op.AuthRequest.
type authRequest struct {
	id            string
	created       time.Time
	clientID      string
	redirectURI   string
	state         string
	nonce         string
	scopes        []string
	responseType  oidc.ResponseType
	responseMode  oidc.ResponseMode
	codeChallenge *oidc.CodeChallenge
	subject       string
	authTime      time.Time
	done          bool
}

func (a *authRequest) GetID() string                         { return a.id }
func (a *authRequest) GetACR() string                        { return "" }
func (a *authRequest) GetAMR() []string                      { return []string{"demo"} }
func (a *authRequest) GetAudience() []string                 { return []string{a.clientID} }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.codeChallenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.responseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.subject }
func (a *authRequest) Done() bool                            { return a.done }

// CreateAuthRequest records a validated authorization request.
func (s *storage) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	a := &authRequest{
		id: randomID(), created: time.Now(), clientID: req.ClientID, redirectURI: req.RedirectURI, state: req.State,
		nonce: req.Nonce, scopes: req.Scopes, responseType: req.ResponseType, responseMode: req.ResponseMode,
	}
	// PKCE with S256 is required, so that a client that stops sending it is noticed.
	if req.CodeChallenge == "" || req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("the demo provider requires PKCE: send code_challenge with code_challenge_method=S256")
	}
	a.codeChallenge = &oidc.CodeChallenge{Challenge: req.CodeChallenge, Method: req.CodeChallengeMethod}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[a.id] = a
	return a, nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.requests[id]
	if !ok || time.Now().After(r.created.Add(requestTTL)) {
		return nil, notFound{"authorization request"}
	}
	return r, nil
}

// AuthRequestByCode finds the request of a code. A code is good for codeTTL and once:
// DeleteAuthRequest (called when the code is exchanged) removes it.
func (s *storage) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.codes[code]
	if !ok {
		return nil, notFound{"code"}
	}
	r, ok := s.requests[id]
	if !ok || time.Now().After(r.authTime.Add(codeTTL)) {
		return nil, notFound{"code"}
	}
	return r, nil
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.requests[id]; !ok {
		return notFound{"authorization request"}
	}
	s.codes[code] = id
	return nil
}

func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.requests, id)
	for code, rid := range s.codes {
		if rid == id {
			delete(s.codes, code)
		}
	}
	return nil
}

func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	clientID := ""
	if a, ok := req.(*authRequest); ok {
		clientID = a.clientID
	}
	t := &accessToken{subject: req.GetSubject(), clientID: clientID, scopes: req.GetScopes(), expires: time.Now().Add(accessTokenTTL)}
	id := randomID()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[id] = t
	return id, t.expires, nil
}

var errNoRefresh = errors.New("the demo provider issues no refresh tokens")

func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errNoRefresh
}

func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, errNoRefresh
}

func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

func (s *storage) RevokeToken(_ context.Context, tokenOrID, _, _ string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, tokenOrID)
	return nil
}

func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

// signingKey is the RSA key ID tokens are signed with; publicKey its JWKS entry.
type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k signingKey) Key() any                                    { return k.key }
func (k signingKey) ID() string                                  { return k.id }

type publicKey struct{ signingKey }

func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.key.PublicKey }

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) {
	return signingKey{id: s.keyID, key: s.key}, nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{signingKey{id: s.keyID, key: s.key}}}, nil
}

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id != s.client.id {
		return nil, notFound{"client"}
	}
	c := *s.client
	c.redirects = slices.Clone(s.client.redirects)
	return &c, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	if id != s.client.id || subtle.ConstantTimeCompare([]byte(secret), []byte(s.client.secret)) != 1 {
		return errors.New("wrong client id or secret")
	}
	return nil
}

// SetUserinfoFromScopes is deprecated in favour of SetUserinfoFromRequest.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest puts the person's claims in the ID token.
func (s *storage) SetUserinfoFromRequest(_ context.Context, ui *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	return s.userinfo(ui, req.GetSubject(), scopes)
}

func (s *storage) SetUserinfoFromToken(_ context.Context, ui *oidc.UserInfo, tokenID, subject, _ string) error {
	s.mu.Lock()
	t, ok := s.tokens[tokenID]
	s.mu.Unlock()
	if !ok || time.Now().After(t.expires) || t.subject != subject {
		return errors.New("access token expired or unknown")
	}
	return s.userinfo(ui, t.subject, t.scopes)
}

func (s *storage) userinfo(ui *oidc.UserInfo, subject string, scopes []string) error {
	p, ok := s.person(subject)
	if !ok {
		return notFound{"person"}
	}
	ui.Subject = p.ID
	for _, sc := range scopes {
		switch sc {
		case oidc.ScopeEmail:
			ui.Email = p.Email
			ui.EmailVerified = oidc.Bool(!p.Unverified)
			if p.Unverified {
				// The library's email_verified is omitempty: false must be an explicit
				// claim, or it would be left out (and "not said" is not "not verified").
				ui.AppendClaims("email_verified", false)
			}
		case oidc.ScopeProfile:
			ui.Name = p.Name
			ui.PreferredUsername = p.ID
		}
	}
	return nil
}

func (s *storage) SetIntrospectionFromToken(_ context.Context, ir *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	s.mu.Lock()
	t, ok := s.tokens[tokenID]
	s.mu.Unlock()
	if !ok || time.Now().After(t.expires) {
		return errors.New("access token expired or unknown")
	}
	ir.Active, ir.Subject, ir.ClientID, ir.Scope = true, t.subject, t.clientID, t.scopes
	return nil
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("the demo provider accepts no JWT profile keys")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("the demo provider does not support the JWT profile grant")
}

func (s *storage) Health(context.Context) error { return nil }

// client is Gatehouse, a confidential web client using the authorization code flow.
type client struct {
	id, secret string
	redirects  []string
}

func (c *client) GetID() string                       { return c.id }
func (c *client) RedirectURIs() []string              { return c.redirects }
func (c *client) PostLogoutRedirectURIs() []string    { return nil }
func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c *client) AuthMethod() oidc.AuthMethod         { return oidc.AuthMethodBasic }
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType        { return []oidc.GrantType{oidc.GrantTypeCode} }
func (c *client) LoginURL(id string) string           { return loginPath + "?authRequestID=" + id }
func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c *client) IDTokenLifetime() time.Duration      { return 5 * time.Minute }
func (c *client) DevMode() bool                       { return false }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) IsScopeAllowed(string) bool { return false }

// IDTokenUserinfoClaimsAssertion puts email and name in the ID token itself.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }
