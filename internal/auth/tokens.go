package auth

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// TokenPrefix starts every API token, so that secret scanners and people recognise one.
const TokenPrefix = "ght_"

// ErrAlreadyRevoked is returned by RevokeToken for a token revoked before.
var ErrAlreadyRevoked = errors.New("the token is revoked already")

// BadInputError is a CreateToken input that is not acceptable; its message says what to
// give instead.
type BadInputError struct{ Msg string }

func (e *BadInputError) Error() string { return e.Msg }

// NewToken is what CreateToken makes a token from.
type NewToken struct {
	// Email is the person the token acts as (with their roles).
	Email string
	// Name says what the token is for ("terraform", "nightly export").
	Name string
	// TTL is how long it is valid; 0 means until revoked.
	TTL time.Duration
	// Roles are given to Email when they are not known yet (RolesFromConfig); an
	// existing person keeps theirs.
	Roles []string
	// Actor is who creates it, for the audit log: "cli" or the person's email.
	Actor      string
	RemoteAddr string
}

// CreateToken makes an API token, stores its hash, and audits token.create in the same
// transaction. The secret it returns is shown once and never stored.
func CreateToken(ctx context.Context, st *store.Store, nt NewToken) (string, *store.APIToken, error) {
	email := NormalizeEmail(nt.Email)
	if !strings.Contains(email, "@") || strings.ContainsAny(email, " ,;<>") {
		return "", nil, &BadInputError{fmt.Sprintf("email %q: give the email of the person the token acts as, like alice@example.com", nt.Email)}
	}
	name := strings.TrimSpace(nt.Name)
	if name == "" || len(name) > 100 {
		return "", nil, &BadInputError{`name: say in at most 100 characters what the token is for (for example "terraform" or "nightly export")`}
	}
	if nt.TTL < 0 {
		return "", nil, &BadInputError{fmt.Sprintf("expiry %s: give a positive duration such as 720h, or none for a token valid until revoked", nt.TTL)}
	}
	secret, err := randomString(32)
	if err != nil {
		return "", nil, err
	}
	secret = TokenPrefix + secret
	id, err := newID("tok_")
	if err != nil {
		return "", nil, err
	}
	now := time.UnixMilli(time.Now().UnixMilli()).UTC()
	tok := store.APIToken{ID: id, Name: name, Email: email, CreatedAt: now, CreatedBy: nt.Actor}
	if nt.TTL > 0 {
		exp := now.Add(nt.TTL)
		tok.ExpiresAt = &exp
	}
	err = st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.EnsureUser(ctx, email, nt.Roles, now); err != nil {
			return err
		}
		if err := tx.CreateAPIToken(ctx, tok, hashSecret(secret)); err != nil {
			return err
		}
		detail := map[string]any{"name": name, "email": email}
		if tok.ExpiresAt != nil {
			detail["expires_at"] = tok.ExpiresAt.Format(time.RFC3339)
		}
		_, err := tx.AppendAudit(ctx, nt.Actor, "token.create", "token:"+id, detail, nt.RemoteAddr)
		return err
	})
	if err != nil {
		return "", nil, err
	}
	return secret, &tok, nil
}

// RevokeToken revokes the token with id and audits token.revoke in the same transaction.
// With owner set, only that person's token may be revoked: another's is ErrNotFound, as
// if it did not exist. A token revoked before is ErrAlreadyRevoked.
func RevokeToken(ctx context.Context, st *store.Store, id, owner, actor, remoteAddr string) (*store.APIToken, error) {
	var tok *store.APIToken
	err := st.InTx(ctx, func(tx *store.Tx) error {
		t, err := tx.GetAPIToken(ctx, id)
		if err != nil {
			return err
		}
		if owner != "" && t.Email != NormalizeEmail(owner) {
			return store.ErrNotFound
		}
		if t.RevokedAt != nil {
			tok = t
			return ErrAlreadyRevoked
		}
		now := time.UnixMilli(time.Now().UnixMilli()).UTC()
		if _, err := tx.RevokeAPIToken(ctx, id, now); err != nil {
			return err
		}
		t.RevokedAt = &now
		tok = t
		_, err = tx.AppendAudit(ctx, actor, "token.revoke", "token:"+id, map[string]any{"name": t.Name, "email": t.Email}, remoteAddr)
		return err
	})
	return tok, err
}

// randomString is n random bytes, base64url without padding.
func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// newID is prefix and 10 random bytes in lower-case base32.
func newID(prefix string) (string, error) {
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)), nil
}
