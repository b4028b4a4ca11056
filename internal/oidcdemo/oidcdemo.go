// Package oidcdemo is a real OpenID Connect provider for demos and tests, started in the
// process on a loopback port. It is zitadel/oidc's OpenID Provider (pkg/op: discovery,
// JWKS, authorization code with PKCE, signed ID tokens, userinfo) over a small in-memory
// storage written here, with one confidential client (Gatehouse) and a login page that
// lists the demo people: a click signs in as that person, without a password.
//
// DEMO ONLY. Anyone who can reach it can sign in as anyone it lists; that is why it
// only listens on a loopback address.
package oidcdemo

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// Person is someone the demo provider can sign in.
type Person struct {
	// ID is the person's subject at the provider and names their sign-in button
	// (#signin-<ID>); default: the email's local part, lower case, letters, digits
	// and '-' only.
	ID    string
	Email string
	Name  string
	// Unverified makes the provider say email_verified: false (to show that Gatehouse
	// refuses such a sign-in).
	Unverified bool
}

// Provider is a running demo OpenID provider.
type Provider struct {
	// ClientID and ClientSecret are the one client's credentials (Gatehouse's).
	ClientID     string
	ClientSecret string

	issuer string
	store  *storage
	srv    *http.Server
	ln     net.Listener
}

// Issuer is the issuer URL (http://127.0.0.1:<port>), for oidc.issuer.
func (p *Provider) Issuer() string { return p.issuer }

// People are the people it signs in, in the order of its login page.
func (p *Provider) People() []Person { return slices.Clone(p.store.people) }

// RegisterRedirect allows uri (e.g. http://127.0.0.1:8080/auth/callback) as the client's
// redirect URI. An authorization request with any other redirect URI is refused.
func (p *Provider) RegisterRedirect(uri string) {
	p.store.mu.Lock()
	defer p.store.mu.Unlock()
	if !slices.Contains(p.store.client.redirects, uri) {
		p.store.client.redirects = append(p.store.client.redirects, uri)
	}
}

// Close stops the provider.
func (p *Provider) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return p.srv.Shutdown(ctx)
}

var idChars = regexp.MustCompile(`[^a-z0-9-]+`)

// Start serves a demo provider for people on addr, which must be a loopback address
// ("127.0.0.1:0" picks a free port).
func Start(addr string, people []Person) (*Provider, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("demo OpenID provider address %q: want host:port, e.g. 127.0.0.1:0", addr)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("demo OpenID provider address %q: it signs anyone in without a password, so it only listens on a loopback address (127.0.0.1)", addr)
	}
	if len(people) == 0 {
		return nil, errors.New("demo OpenID provider: give at least one person to sign in as")
	}
	ps := make([]Person, len(people))
	seen := map[string]bool{}
	for i, p := range people {
		if p.Email == "" || !strings.Contains(p.Email, "@") {
			return nil, fmt.Errorf("demo person %d: an email like alice@example.com is required, got %q", i, p.Email)
		}
		if p.ID == "" {
			local, _, _ := strings.Cut(strings.ToLower(p.Email), "@")
			p.ID = strings.Trim(idChars.ReplaceAllString(local, "-"), "-")
		}
		if p.ID == "" || idChars.MatchString(p.ID) || seen[p.ID] {
			return nil, fmt.Errorf("demo person %s: id %q must be unique and only lower-case letters, digits and '-'", p.Email, p.ID)
		}
		seen[p.ID] = true
		if p.Name == "" {
			p.Name = p.Email
		}
		ps[i] = p
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("demo OpenID provider: listen on %s: %w", addr, err)
	}
	issuer := "http://" + ln.Addr().String()
	st, err := newStorage(ps)
	if err != nil {
		ln.Close()
		return nil, err
	}
	var cryptoKey [32]byte
	if _, err := rand.Read(cryptoKey[:]); err != nil {
		ln.Close()
		return nil, err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	provider, err := op.NewProvider(&op.Config{
		CryptoKey:      cryptoKey,
		CryptoKeyId:    "demo",
		CodeMethodS256: true,
		AuthMethodPost: true,
	}, st, op.StaticIssuer(issuer), op.WithAllowInsecure(), op.WithLogger(quiet))
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("demo OpenID provider: %w", err)
	}
	lp := &loginPage{store: st, callback: op.AuthCallbackURL(provider)}
	interceptor := op.NewIssuerInterceptor(provider.IssuerFromRequest)
	mux := http.NewServeMux()
	mux.Handle("GET "+loginPath, interceptor.HandlerFunc(lp.show))
	mux.Handle("POST "+loginPath, interceptor.HandlerFunc(lp.choose))
	mux.Handle("/", provider)
	p := &Provider{
		ClientID: st.client.id, ClientSecret: st.client.secret, issuer: issuer, store: st, ln: ln,
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
	}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

const loginPath = "/demo-login"

// loginPage lists the people; choosing one completes the authorization request as them.
type loginPage struct {
	store    *storage
	callback func(context.Context, string) string
}

var pageTemplate = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo sign-in (DEMO ONLY)</title>
<style>
body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1d2433}
.demo{background:#fff3cd;border:1px solid #e0b000;padding:.75rem 1rem;border-radius:6px}
form{margin:0} button{display:block;width:100%;text-align:left;margin:.5rem 0;padding:.75rem 1rem;border:1px solid #c7cede;border-radius:6px;background:#fff;cursor:pointer;font:inherit}
button:hover{background:#eef3ff} small{color:#5b6478}
</style></head>
<body><main>
<h1>Sign in to Gatehouse</h1>
<p class="demo" id="demo-warning"><strong>DEMO ONLY.</strong> This is Gatehouse's built-in demo sign-in provider. There are no passwords: anyone who reaches this page can sign in as anyone listed. Never use it for real people.</p>
{{if .Error}}<p id="error">{{.Error}}</p>{{end}}
<p>Sign in as:</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="id" value="{{.RequestID}}">
{{range .People}}<button type="submit" name="person" value="{{.ID}}" id="signin-{{.ID}}">{{.Name}} <small>{{.Email}}{{if .Unverified}} (email not verified){{end}}</small></button>
{{end}}</form>
</main></body></html>
`))

func (l *loginPage) render(w http.ResponseWriter, status int, id, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = pageTemplate.Execute(w, map[string]any{"Action": loginPath, "RequestID": id, "People": l.store.people, "Error": msg})
}

func (l *loginPage) show(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequestID")
	if _, err := l.store.AuthRequestByID(r.Context(), id); err != nil {
		l.render(w, http.StatusBadRequest, "", "This sign-in request is unknown or was used already: start again from the application.")
		return
	}
	l.render(w, http.StatusOK, id, "")
}

func (l *loginPage) choose(w http.ResponseWriter, r *http.Request) {
	id, person := r.FormValue("id"), r.FormValue("person")
	if err := l.store.complete(id, person); err != nil {
		l.render(w, http.StatusBadRequest, id, err.Error())
		return
	}
	http.Redirect(w, r, l.callback(r.Context(), id), http.StatusFound)
}

// rsaKey makes the provider's signing key.
func rsaKey() (*rsa.PrivateKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("demo OpenID provider signing key: %w", err)
	}
	return k, nil
}
