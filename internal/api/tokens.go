package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/problem"
	"github.com/gatehouse/gatehouse/internal/store"
)

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/api/v1/tokens", auth.SignedIn, h.listTokens)
		r.HandleFunc("POST", "/api/v1/tokens", auth.SignedIn, h.createToken)
		r.HandleFunc("DELETE", "/api/v1/tokens/{id}", auth.SignedIn, h.revokeToken)
	})
}

// Token is an API token as the API shows it (never its secret, except once at creation).
type Token struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	Email      string  `json:"email"`
	CreatedAt  string  `json:"created_at"`
	CreatedBy  string  `json:"created_by"`
	ExpiresAt  *string `json:"expires_at"`
	RevokedAt  *string `json:"revoked_at"`
	LastUsedAt *string `json:"last_used_at"`
	// Token is the secret, present only in the answer that created it.
	Token string `json:"token,omitempty"`
}

func tokenJSON(t *store.APIToken) Token {
	return Token{ID: t.ID, Name: t.Name, Email: t.Email, CreatedAt: t.CreatedAt.UTC().Format(time.RFC3339), CreatedBy: t.CreatedBy,
		ExpiresAt: timeOrNil(t.ExpiresAt), RevokedAt: timeOrNil(t.RevokedAt), LastUsedAt: timeOrNil(t.LastUsedAt)}
}

// listTokens lists the caller's API tokens, newest first; revoked and expired ones too.
//
// GET /api/v1/tokens[?all=true][&page_size=&page_token=] (signed in; all=true: admins
// only, everyone's tokens): 200 {"items": [{"id", "name", "email", "created_at",
// "created_by", "expires_at", "revoked_at", "last_used_at"}], "next_page_token"}.
func (h *handlers) listTokens(w http.ResponseWriter, r *http.Request) {
	c := auth.FromContext(r.Context())
	size, token, ok, detail := paging(r)
	if !ok {
		badRequest(w, detail)
		return
	}
	email := c.Email
	switch all := r.URL.Query().Get("all"); all {
	case "", "false":
	case "true":
		if !c.IsAdmin() {
			auth.Forbidden(w, r, "listing everyone's tokens (all=true) needs the admin role; without it you see your own")
			return
		}
		email = ""
	default:
		badRequest(w, "all must be true or false, got "+all)
		return
	}
	toks, next, err := h.app.Store.ListAPITokens(r.Context(), email, size, token)
	if errors.Is(err, store.ErrBadPageToken) {
		badRequest(w, err.Error())
		return
	}
	if err != nil {
		problem.Write(w, http.StatusInternalServerError, "cannot list the tokens: "+err.Error())
		return
	}
	out := make([]Token, len(toks))
	for i := range toks {
		out[i] = tokenJSON(&toks[i])
	}
	writeList(w, out, next)
}

// CreateTokenRequest is the body of POST /api/v1/tokens.
type CreateTokenRequest struct {
	// Name says what the token is for.
	Name string `json:"name"`
	// ExpiresIn is a Go duration ("720h"); empty for a token valid until revoked.
	ExpiresIn string `json:"expires_in"`
}

// createToken makes an API token that acts as the caller, with the caller's roles.
// The secret is in this answer only.
//
// POST /api/v1/tokens {"name", "expires_in"} (signed in): 201 with the token and its
// secret in "token"; audited as token.create.
func (h *handlers) createToken(w http.ResponseWriter, r *http.Request) {
	c := auth.FromContext(r.Context())
	var req CreateTokenRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		badRequest(w, `the body must be a JSON object {"name": "what the token is for", "expires_in": "720h"}: `+err.Error())
		return
	}
	var ttl time.Duration
	if s := strings.TrimSpace(req.ExpiresIn); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			badRequest(w, "expires_in must be a positive Go duration such as 720h, or empty for a token valid until revoked; got "+req.ExpiresIn)
			return
		}
		ttl = d
	}
	secret, tok, err := auth.CreateToken(r.Context(), h.app.Store, auth.NewToken{
		Email: c.Email, Name: req.Name, TTL: ttl, Roles: c.Roles, Actor: c.Email, RemoteAddr: c.RemoteAddr,
	})
	if err != nil {
		if bad := (*auth.BadInputError)(nil); errors.As(err, &bad) {
			badRequest(w, err.Error())
			return
		}
		problem.Write(w, http.StatusInternalServerError, "cannot create the token: "+err.Error())
		return
	}
	out := tokenJSON(tok)
	out.Token = secret
	writeJSON(w, http.StatusCreated, out)
}

// revokeToken revokes one of the caller's tokens (admins: anyone's). It stops working
// at once.
//
// DELETE /api/v1/tokens/{id} (signed in): 200 with the revoked token; 404 when there is
// no such token of the caller's; 409 when it was revoked already. Audited as token.revoke.
func (h *handlers) revokeToken(w http.ResponseWriter, r *http.Request) {
	c := auth.FromContext(r.Context())
	owner := c.Email
	if c.IsAdmin() {
		owner = ""
	}
	tok, err := auth.RevokeToken(r.Context(), h.app.Store, r.PathValue("id"), owner, c.Email, c.RemoteAddr)
	switch {
	case errors.Is(err, store.ErrNotFound):
		problem.Write(w, http.StatusNotFound, "you have no API token "+r.PathValue("id")+" (GET /api/v1/tokens lists yours)")
	case errors.Is(err, auth.ErrAlreadyRevoked):
		problem.Write(w, http.StatusConflict, "API token "+tok.ID+" was revoked already, at "+tok.RevokedAt.UTC().Format(time.RFC3339))
	case err != nil:
		problem.Write(w, http.StatusInternalServerError, "cannot revoke the token: "+err.Error())
	default:
		writeJSON(w, http.StatusOK, tokenJSON(tok))
	}
}
