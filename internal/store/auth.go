package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// User is a person who signed in, or who holds a role from the configuration, or for
// whom an API token was made.
type User struct {
	Email string
	Name  string
	// Issuer and Subject identify the person at the OpenID provider they last signed in
	// with (empty until they sign in).
	Issuer  string
	Subject string
	// Roles are the roles the configuration gives (admin, auditor), sorted.
	Roles       []string
	CreatedAt   time.Time
	LastLoginAt *time.Time
}

// joinRoles and splitRoles keep users.roles a sorted comma-separated list.
func joinRoles(roles []string) string {
	r := slices.Clone(roles)
	slices.Sort(r)
	return strings.Join(slices.Compact(r), ",")
}

func splitRoles(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

func msOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ms(*t)
}

func timeOrNil(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

// UpsertSignIn records that u signed in at at: the user is created or their name,
// issuer, subject, roles and last sign-in are updated.
func (t *Tx) UpsertSignIn(ctx context.Context, u User, at time.Time) error {
	_, err := t.q.exec(ctx, `INSERT INTO users (email, name, oidc_issuer, oidc_subject, roles, created_at, last_login_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (email) DO UPDATE SET name = excluded.name, oidc_issuer = excluded.oidc_issuer,
			oidc_subject = excluded.oidc_subject, roles = excluded.roles, last_login_at = excluded.last_login_at`,
		u.Email, u.Name, u.Issuer, u.Subject, joinRoles(u.Roles), ms(at), ms(at))
	if err != nil {
		return fmt.Errorf("record sign-in of %s: %w", u.Email, err)
	}
	return nil
}

// EnsureUser creates the user with roles when they do not exist yet (an API token made
// for someone who never signed in); an existing user is left as is.
func (t *Tx) EnsureUser(ctx context.Context, email string, roles []string, at time.Time) error {
	_, err := t.q.exec(ctx, `INSERT INTO users (email, roles, created_at) VALUES (?, ?, ?) ON CONFLICT (email) DO NOTHING`,
		email, joinRoles(roles), ms(at))
	if err != nil {
		return fmt.Errorf("create user %s: %w", email, err)
	}
	return nil
}

// SetConfiguredRoles makes users.roles match roles (email -> roles) for everyone: the
// people named get theirs (created when new), everyone else loses admin and auditor.
// The configuration is the only source of these roles, so a person removed from it
// loses them at the next start.
func (s *Store) SetConfiguredRoles(ctx context.Context, roles map[string][]string) error {
	now := time.Now()
	return s.InTx(ctx, func(tx *Tx) error {
		rs, err := tx.q.query(ctx, "SELECT email, roles FROM users WHERE roles <> ''")
		if err != nil {
			return fmt.Errorf("read roles: %w", err)
		}
		current := map[string]string{}
		for rs.Next() {
			var e, r string
			if err := rs.Scan(&e, &r); err != nil {
				rs.Close()
				return err
			}
			current[e] = r
		}
		if err := rs.Close(); err != nil {
			return err
		}
		for e := range current {
			if _, named := roles[e]; !named {
				if _, err := tx.q.exec(ctx, "UPDATE users SET roles = '' WHERE email = ?", e); err != nil {
					return fmt.Errorf("clear roles of %s: %w", e, err)
				}
			}
		}
		for e, r := range roles {
			want := joinRoles(r)
			if cur, ok := current[e]; ok && cur == want {
				continue
			}
			if _, err := tx.q.exec(ctx, `INSERT INTO users (email, roles, created_at) VALUES (?, ?, ?)
				ON CONFLICT (email) DO UPDATE SET roles = excluded.roles`, e, want, ms(now)); err != nil {
				return fmt.Errorf("set roles of %s: %w", e, err)
			}
		}
		return nil
	})
}

const userColumns = "email, name, oidc_issuer, oidc_subject, roles, created_at, last_login_at"

func scanUser(r interface{ Scan(...any) error }, extra ...any) (*User, error) {
	var u User
	var roles string
	var created int64
	var last sql.NullInt64
	if err := r.Scan(append([]any{&u.Email, &u.Name, &u.Issuer, &u.Subject, &roles, &created, &last}, extra...)...); err != nil {
		return nil, err
	}
	u.Roles = splitRoles(roles)
	u.CreatedAt = fromMS(created)
	u.LastLoginAt = timeOrNil(last)
	return &u, nil
}

// GetUser returns the user with email, or ErrNotFound.
func (s *Store) GetUser(ctx context.Context, email string) (*User, error) {
	u, err := scanUser(s.read.queryRow(ctx, "SELECT "+userColumns+" FROM users WHERE email = ?", email))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read user %s: %w", email, err)
	}
	return u, nil
}

// Session is a browser session. Its id is never stored, only its SHA-256 (IDHash).
type Session struct {
	IDHash     string
	Email      string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastSeenAt time.Time
	RemoteAddr string
	UserAgent  string
}

// CreateSession stores a new session.
func (t *Tx) CreateSession(ctx context.Context, s Session) error {
	_, err := t.q.exec(ctx, `INSERT INTO sessions (id_hash, email, created_at, expires_at, last_seen_at, remote_addr, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, s.IDHash, s.Email, ms(s.CreatedAt), ms(s.ExpiresAt), ms(s.CreatedAt), s.RemoteAddr, s.UserAgent)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// SessionUser returns the session with idHash that has not expired at now, and its user;
// ErrNotFound when there is none (unknown, signed out or expired).
func (s *Store) SessionUser(ctx context.Context, idHash string, now time.Time) (*Session, *User, error) {
	var sess Session
	var created, expires, seen int64
	u, err := scanUser(s.read.queryRow(ctx, `SELECT u.email, u.name, u.oidc_issuer, u.oidc_subject, u.roles, u.created_at, u.last_login_at,
			s.created_at, s.expires_at, s.last_seen_at, s.remote_addr, s.user_agent
		FROM sessions s JOIN users u ON u.email = s.email
		WHERE s.id_hash = ? AND s.expires_at > ?`, idHash, ms(now)),
		&created, &expires, &seen, &sess.RemoteAddr, &sess.UserAgent)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read session: %w", err)
	}
	sess.IDHash, sess.Email = idHash, u.Email
	sess.CreatedAt, sess.ExpiresAt, sess.LastSeenAt = fromMS(created), fromMS(expires), fromMS(seen)
	return &sess, u, nil
}

// DeleteSession removes the session with idHash and returns its email ("" when there
// was none).
func (t *Tx) DeleteSession(ctx context.Context, idHash string) (string, error) {
	var email string
	err := t.q.queryRow(ctx, "SELECT email FROM sessions WHERE id_hash = ?", idHash).Scan(&email)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read session: %w", err)
	}
	if _, err := t.q.exec(ctx, "DELETE FROM sessions WHERE id_hash = ?", idHash); err != nil {
		return "", fmt.Errorf("delete session: %w", err)
	}
	return email, nil
}

// SweepExpired deletes the sessions and sign-in attempts that expired before now, and
// says how many of each went.
func (s *Store) SweepExpired(ctx context.Context, now time.Time) (sessions, attempts int64, err error) {
	if sessions, err = s.write.exec(ctx, "DELETE FROM sessions WHERE expires_at <= ?", ms(now)); err != nil {
		return 0, 0, fmt.Errorf("sweep sessions: %w", err)
	}
	if attempts, err = s.write.exec(ctx, "DELETE FROM signin_attempts WHERE expires_at <= ?", ms(now)); err != nil {
		return sessions, 0, fmt.Errorf("sweep sign-in attempts: %w", err)
	}
	return sessions, attempts, nil
}

// SignInAttempt is an OpenID Connect authorization request in progress.
type SignInAttempt struct {
	StateHash string
	Nonce     string
	Verifier  string // the PKCE code verifier
	NextPath  string // where to go after signing in
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CreateSignInAttempt stores a. It is written outside any other transaction.
func (s *Store) CreateSignInAttempt(ctx context.Context, a SignInAttempt) error {
	_, err := s.write.exec(ctx, `INSERT INTO signin_attempts (state_hash, nonce, verifier, next_path, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)`, a.StateHash, a.Nonce, a.Verifier, a.NextPath, ms(a.CreatedAt), ms(a.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store sign-in attempt: %w", err)
	}
	return nil
}

// TakeSignInAttempt returns and deletes the attempt with stateHash, so that it can be
// used once only (by one replica only: the delete decides). ErrNotFound when there is
// none (never started, or already used). An expired attempt is returned as it is; the
// caller checks ExpiresAt to say so.
func (s *Store) TakeSignInAttempt(ctx context.Context, stateHash string) (*SignInAttempt, error) {
	var a SignInAttempt
	err := s.InTx(ctx, func(tx *Tx) error {
		var created, expires int64
		err := tx.q.queryRow(ctx, "SELECT nonce, verifier, next_path, created_at, expires_at FROM signin_attempts WHERE state_hash = ?", stateHash).
			Scan(&a.Nonce, &a.Verifier, &a.NextPath, &created, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("read sign-in attempt: %w", err)
		}
		n, err := tx.q.exec(ctx, "DELETE FROM signin_attempts WHERE state_hash = ?", stateHash)
		if err != nil {
			return fmt.Errorf("delete sign-in attempt: %w", err)
		}
		if n != 1 {
			return ErrNotFound // another replica took it first
		}
		a.StateHash, a.CreatedAt, a.ExpiresAt = stateHash, fromMS(created), fromMS(expires)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// ErrBadPageToken is returned by ListAPITokens for a page token it did not make.
var ErrBadPageToken = errors.New("bad page token")

// APIToken is an API token's record; the token itself is shown once and only its
// SHA-256 is stored.
type APIToken struct {
	ID         string
	Name       string
	Email      string // whose token it is: it acts as this person, with their roles
	CreatedAt  time.Time
	CreatedBy  string // who made it ("cli", or the email of the person)
	ExpiresAt  *time.Time
	RevokedAt  *time.Time
	LastUsedAt *time.Time
}

const tokenColumns = "id, name, email, created_at, created_by, expires_at, revoked_at, last_used_at"

func scanToken(r interface{ Scan(...any) error }) (*APIToken, error) {
	var t APIToken
	var created int64
	var expires, revoked, used sql.NullInt64
	if err := r.Scan(&t.ID, &t.Name, &t.Email, &created, &t.CreatedBy, &expires, &revoked, &used); err != nil {
		return nil, err
	}
	t.CreatedAt = fromMS(created)
	t.ExpiresAt, t.RevokedAt, t.LastUsedAt = timeOrNil(expires), timeOrNil(revoked), timeOrNil(used)
	return &t, nil
}

// CreateAPIToken stores tok with the SHA-256 of its secret.
func (t *Tx) CreateAPIToken(ctx context.Context, tok APIToken, hash string) error {
	_, err := t.q.exec(ctx, `INSERT INTO api_tokens (id, name, email, token_hash, created_at, created_by, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, tok.ID, tok.Name, tok.Email, hash, ms(tok.CreatedAt), tok.CreatedBy, msOrNil(tok.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store API token: %w", err)
	}
	return nil
}

// TokenByHash returns the token whose secret hashes to hash, revoked or expired ones
// included (the caller says which), with its owner; ErrNotFound when there is none.
// An owner with no users row (cannot happen through Gatehouse) comes back without roles.
func (s *Store) TokenByHash(ctx context.Context, hash string) (*APIToken, *User, error) {
	// One query for both: it runs on every API call made with a token.
	var t APIToken
	var created int64
	var expires, revoked, used sql.NullInt64
	var name, roles sql.NullString
	err := s.read.queryRow(ctx, `SELECT t.id, t.name, t.email, t.created_at, t.created_by, t.expires_at, t.revoked_at, t.last_used_at, u.name, u.roles
		FROM api_tokens t LEFT JOIN users u ON u.email = t.email WHERE t.token_hash = ?`, hash).
		Scan(&t.ID, &t.Name, &t.Email, &created, &t.CreatedBy, &expires, &revoked, &used, &name, &roles)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read API token: %w", err)
	}
	t.CreatedAt = fromMS(created)
	t.ExpiresAt, t.RevokedAt, t.LastUsedAt = timeOrNil(expires), timeOrNil(revoked), timeOrNil(used)
	return &t, &User{Email: t.Email, Name: name.String, Roles: splitRoles(roles.String)}, nil
}

// GetAPIToken returns the token with id, or ErrNotFound.
func (s *Store) GetAPIToken(ctx context.Context, id string) (*APIToken, error) {
	return getAPIToken(ctx, s.read, id)
}

func getAPIToken(ctx context.Context, q querier, id string) (*APIToken, error) {
	tok, err := scanToken(q.queryRow(ctx, "SELECT "+tokenColumns+" FROM api_tokens WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read API token %s: %w", id, err)
	}
	return tok, nil
}

// GetAPIToken is Store.GetAPIToken inside tx.
func (t *Tx) GetAPIToken(ctx context.Context, id string) (*APIToken, error) {
	return getAPIToken(ctx, t.q, id)
}

// ListAPITokens lists the tokens of email ("" for everyone's), newest first, size at a
// time (100 when 0) after the token with id after ("" for the first page); it returns the
// id to page on from ("" on the last page).
func (s *Store) ListAPITokens(ctx context.Context, email string, size int, after string) ([]APIToken, string, error) {
	q := "SELECT " + tokenColumns + " FROM api_tokens WHERE 1=1"
	var args []any
	if email != "" {
		q += " AND email = ?"
		args = append(args, email)
	}
	if after != "" {
		last, err := s.GetAPIToken(ctx, after)
		if err != nil {
			return nil, "", fmt.Errorf("%w: page_token %q does not name a token: start again without it", ErrBadPageToken, after)
		}
		q += " AND (created_at < ? OR (created_at = ? AND id < ?))"
		args = append(args, ms(last.CreatedAt), ms(last.CreatedAt), last.ID)
	}
	if size <= 0 {
		size = 100
	}
	q += fmt.Sprintf(" ORDER BY created_at DESC, id DESC LIMIT %d", size+1)
	rs, err := s.read.query(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list API tokens: %w", err)
	}
	defer rs.Close()
	var out []APIToken
	for rs.Next() {
		t, err := scanToken(rs)
		if err != nil {
			return nil, "", err
		}
		out = append(out, *t)
	}
	if err := rs.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > size {
		out = out[:size]
		next = out[size-1].ID
	}
	return out, next, nil
}

// RevokeAPIToken marks the token revoked at at. It reports false when it was revoked
// already (and changes nothing); ErrNotFound when there is no such token.
func (t *Tx) RevokeAPIToken(ctx context.Context, id string, at time.Time) (bool, error) {
	n, err := t.q.exec(ctx, "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", ms(at), id)
	if err != nil {
		return false, fmt.Errorf("revoke API token %s: %w", id, err)
	}
	if n == 1 {
		return true, nil
	}
	if _, err := getAPIToken(ctx, t.q, id); err != nil {
		return false, err
	}
	return false, nil
}

// TouchAPIToken records that the token was used at at, unless it was recorded less than
// a minute before (so that a busy script does not write on every call).
func (s *Store) TouchAPIToken(ctx context.Context, id string, at time.Time) error {
	_, err := s.write.exec(ctx, "UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)",
		ms(at), id, ms(at.Add(-time.Minute)))
	if err != nil {
		return fmt.Errorf("record use of API token %s: %w", id, err)
	}
	return nil
}
