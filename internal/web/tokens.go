package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
)

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/tokens", auth.SignedIn, h.tokens)
		r.HandleFunc("POST", "/tokens", auth.SignedIn, h.createToken)
		r.HandleFunc("POST", "/tokens/{id}/revoke", auth.SignedIn, h.revokeToken)
	})
}

// tokenExpiries are the choices of the create form: label and lifetime (0: until revoked).
var tokenExpiries = []struct {
	Value, Label string
	TTL          time.Duration
}{
	{"30d", "30 days", 30 * 24 * time.Hour},
	{"90d", "90 days", 90 * 24 * time.Hour},
	{"365d", "1 year", 365 * 24 * time.Hour},
	{"never", "Never (until revoked)", 0},
}

// tokensData is the API tokens page: the caller's own tokens only.
type tokensData struct {
	Tokens   []store.APIToken
	Expiries any
	// Secret is the token just created, shown this once.
	Secret, SecretName string
	Revoked            string
	Name, Error        string
}

// tokens lists the caller's own API tokens, with a form to create one.
func (h *handlers) tokens(w http.ResponseWriter, r *http.Request) {
	h.renderTokens(w, r, http.StatusOK, tokensData{Revoked: r.URL.Query().Get("revoked")})
}

func (h *handlers) renderTokens(w http.ResponseWriter, r *http.Request, status int, d tokensData) {
	c := auth.FromContext(r.Context())
	toks, _, err := h.app.Store.ListAPITokens(r.Context(), c.Email, 200, "")
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	d.Tokens, d.Expiries = toks, tokenExpiries
	h.render(w, r, status, "tokens", page{Title: "API tokens", Section: "tokens", Data: d})
}

// createToken makes a token that acts as the caller and shows it once: the answer to the
// POST is the page itself, so the secret is in no URL, history entry or redirect.
func (h *handlers) createToken(w http.ResponseWriter, r *http.Request) {
	c := auth.FromContext(r.Context())
	name := r.PostFormValue("name")
	var ttl time.Duration
	found := false
	for _, e := range tokenExpiries {
		if e.Value == r.PostFormValue("expires") {
			ttl, found = e.TTL, true
		}
	}
	if !found {
		h.renderTokens(w, r, http.StatusBadRequest, tokensData{Name: name, Error: "Choose when the token expires."})
		return
	}
	secret, tok, err := auth.CreateToken(r.Context(), h.app.Store, auth.NewToken{
		Email: c.Email, Name: name, TTL: ttl, Actor: c.Email, RemoteAddr: c.RemoteAddr,
	})
	var bad *auth.BadInputError
	if errors.As(err, &bad) {
		h.renderTokens(w, r, http.StatusBadRequest, tokensData{Name: name, Error: bad.Msg})
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	h.renderTokens(w, r, http.StatusOK, tokensData{Secret: secret, SecretName: tok.Name})
}

// revokeToken revokes one of the caller's own tokens (another's is not found).
func (h *handlers) revokeToken(w http.ResponseWriter, r *http.Request) {
	c := auth.FromContext(r.Context())
	tok, err := auth.RevokeToken(r.Context(), h.app.Store, r.PathValue("id"), c.Email, c.Email, c.RemoteAddr)
	switch {
	case errors.Is(err, store.ErrNotFound):
		h.errorPage(w, r, http.StatusNotFound, "No such token", "You have no API token "+r.PathValue("id")+".")
		return
	case errors.Is(err, auth.ErrAlreadyRevoked):
	case err != nil:
		h.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, withQuery("/tokens", "revoked", tok.Name), http.StatusSeeOther)
}
