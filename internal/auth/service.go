package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/problem"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Cookie names.
const (
	// SessionCookie carries the browser session's id (random, 32 bytes; only its
	// SHA-256 is stored).
	SessionCookie = "gatehouse_session"
	// signInCookie carries the state of a sign-in in progress, back to /auth/callback.
	signInCookie = "gatehouse_signin"
)

// Defaults.
const (
	DefaultSessionTTL = 12 * time.Hour
	// signInTTL is how long a person has at the provider before the callback is refused.
	signInTTL = 10 * time.Minute
	// sweepEvery is how often expired sessions and sign-in attempts are deleted.
	sweepEvery = 10 * time.Minute
)

// Config configures the Service.
type Config struct {
	// Issuer is the OpenID Connect issuer URL; empty turns browser sign-in off (API
	// tokens still work).
	Issuer       string
	ClientID     string
	ClientSecret string
	// Scopes are requested in addition to openid (default: profile, email).
	Scopes []string
	// PublicURL is where browsers reach Gatehouse (the redirect URL is PublicURL +
	// /auth/callback, and its origin is trusted for CSRF checks); empty means the
	// request's own scheme and host.
	PublicURL string
	// SessionTTL is how long a session lasts (DefaultSessionTTL when 0).
	SessionTTL time.Duration
	// Admins and Auditors are the emails that hold those roles.
	Admins   []string
	Auditors []string
	// BearerExempt are paths whose Authorization header is their own handler's business
	// (/metrics checks its own metrics token): Identify leaves it alone there.
	BearerExempt []string
	// HTTPClient talks to the issuer (default http.DefaultClient).
	HTTPClient *http.Client
}

// Service signs people in and out and says who is calling: the session cookie or the
// API token of a request becomes its Caller (Identify).
type Service struct {
	st     *store.Store
	cfg    Config
	log    *zap.Logger
	csrf   *http.CrossOriginProtection
	secure bool // cookies are Secure: PublicURL is https
	roles  map[string][]string
	now    func() time.Time
	oidcMu sync.Mutex
	oidc   *oidcClient // discovered lazily, on the first sign-in
	// Render shows a Message page; the web UI may replace it with one in its layout.
	Render func(w http.ResponseWriter, r *http.Request, status int, m Message)
}

// Message is a page the sign-in routes show (a refusal, "signed out", "not configured").
type Message struct {
	Title    string
	Text     string
	LinkText string
	LinkURL  string
}

// New returns the service and applies the configured roles to the store (a person no
// longer named loses the role now, not at their next sign-in).
func New(ctx context.Context, st *store.Store, cfg Config, log *zap.Logger) (*Service, error) {
	if log == nil {
		log = zap.NewNop()
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.Issuer != "" {
		if u, err := url.Parse(cfg.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("oidc.issuer %q: want the issuer's URL, like https://accounts.example.com", cfg.Issuer)
		}
		if cfg.ClientID == "" {
			return nil, errors.New("oidc.client_id is required with oidc.issuer: register Gatehouse as a client at the provider (redirect URL <public_url>/auth/callback) and set its client id (GATEHOUSE_OIDC_CLIENT_ID)")
		}
	}
	s := &Service{st: st, cfg: cfg, log: log, csrf: http.NewCrossOriginProtection(), now: time.Now}
	s.Render = renderMessage
	if cfg.PublicURL != "" {
		u, err := url.Parse(cfg.PublicURL)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("public_url %q: want an absolute URL like https://gatehouse.example.com", cfg.PublicURL)
		}
		s.secure = u.Scheme == "https"
		if err := s.csrf.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
			return nil, fmt.Errorf("public_url %q: %w", cfg.PublicURL, err)
		}
	}
	s.roles = RolesFromConfig(cfg.Admins, cfg.Auditors)
	if err := st.SetConfiguredRoles(ctx, s.roles); err != nil {
		return nil, fmt.Errorf("apply the configured admins and auditors: %w", err)
	}
	return s, nil
}

// RolesFromConfig maps each configured email (lower-cased) to its roles.
func RolesFromConfig(admins, auditors []string) map[string][]string {
	out := map[string][]string{}
	for _, e := range admins {
		if e = NormalizeEmail(e); e != "" {
			out[e] = append(out[e], RoleAdmin)
		}
	}
	for _, e := range auditors {
		if e = NormalizeEmail(e); e != "" && !slices.Contains(out[e], RoleAuditor) {
			out[e] = append(out[e], RoleAuditor)
		}
	}
	return out
}

// NormalizeEmail is how emails are compared and stored: trimmed, lower case.
func NormalizeEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// SignInEnabled says whether browser sign-in is configured.
func (s *Service) SignInEnabled() bool { return s.cfg.Issuer != "" }

// Run deletes expired sessions and sign-in attempts now and every few minutes until ctx
// is done. (Expired ones are refused anyway; this keeps the tables small.)
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		if n, m, err := s.st.SweepExpired(ctx, s.now()); err != nil {
			if ctx.Err() == nil {
				s.log.Warn("sweep expired sessions", zap.Error(err))
			}
		} else if n+m > 0 {
			s.log.Info("swept expired sessions", zap.Int64("sessions", n), zap.Int64("sign_in_attempts", m))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Identify puts the request's Caller in its context: from an API token
// (Authorization: Bearer) or from the session cookie. A request with a token that is
// not valid is refused with 401 (never served as anonymous). Requests that rely on the
// cookie get the CSRF check (http.CrossOriginProtection) on unsafe methods; token
// requests do not need it, a browser never adds the header on its own.
func (s *Service) Identify(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		remote := remoteHost(r)
		if authz := r.Header.Get("Authorization"); authz != "" && !slices.Contains(s.cfg.BearerExempt, r.URL.Path) {
			c, status, detail := s.tokenCaller(r.Context(), authz, remote)
			if c == nil {
				if status == http.StatusUnauthorized {
					w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse", error="invalid_token"`)
				}
				problem.Write(w, status, detail)
				return
			}
			next.ServeHTTP(w, r.WithContext(WithCaller(r.Context(), c)))
			return
		}
		if err := s.csrf.Check(r); err != nil {
			Forbidden(w, r, "this request comes from another site (cross-origin request refused, CSRF protection); submit the form from Gatehouse's own pages, or call the API with an API token")
			return
		}
		if ck, err := r.Cookie(SessionCookie); err == nil && ck.Value != "" {
			_, u, err := s.st.SessionUser(r.Context(), hashSecret(ck.Value), s.now())
			switch {
			case err == nil:
				c := &Caller{Email: u.Email, Name: u.Name, Roles: u.Roles, Via: "session", RemoteAddr: remote}
				r = r.WithContext(WithCaller(r.Context(), c))
			case errors.Is(err, store.ErrNotFound):
				// Signed out, expired or unknown: the browser is anonymous, and forgets it.
				s.clearCookie(w, r, SessionCookie, "/")
			default:
				s.log.Error("read session", zap.Error(err))
				if IsAPI(r) {
					problem.Write(w, http.StatusServiceUnavailable, "cannot check the session: the database does not answer; try again")
				} else {
					http.Error(w, "Cannot check your session: the database does not answer. Try again.", http.StatusServiceUnavailable)
				}
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// tokenCaller checks an Authorization header. It returns the caller, or nil with the
// status and detail to answer.
func (s *Service) tokenCaller(ctx context.Context, authz, remote string) (*Caller, int, string) {
	scheme, secret, ok := strings.Cut(authz, " ")
	secret = strings.TrimSpace(secret)
	if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" {
		return nil, http.StatusUnauthorized, "the Authorization header must be \"Bearer <token>\" with an API token (gatehouse token create)"
	}
	tok, u, err := s.st.TokenByHash(ctx, hashSecret(secret))
	if errors.Is(err, store.ErrNotFound) {
		return nil, http.StatusUnauthorized, "this API token is not known: check that it was copied whole, or create a new one (gatehouse token create)"
	}
	if err != nil {
		s.log.Error("read API token", zap.Error(err))
		return nil, http.StatusServiceUnavailable, "cannot check the API token: the database does not answer; try again"
	}
	now := s.now()
	if tok.RevokedAt != nil {
		return nil, http.StatusUnauthorized, fmt.Sprintf("API token %s (%q) was revoked at %s: create a new one (gatehouse token create)", tok.ID, tok.Name, tok.RevokedAt.Format(time.RFC3339))
	}
	if tok.ExpiresAt != nil && !now.Before(*tok.ExpiresAt) {
		return nil, http.StatusUnauthorized, fmt.Sprintf("API token %s (%q) expired at %s: create a new one (gatehouse token create --expires ...)", tok.ID, tok.Name, tok.ExpiresAt.Format(time.RFC3339))
	}
	if tok.LastUsedAt == nil || now.Sub(*tok.LastUsedAt) >= time.Minute {
		if err := s.st.TouchAPIToken(ctx, tok.ID, now); err != nil {
			// Not worth refusing the call for: the next one records it.
			s.log.Warn("record API token use", zap.String("token", tok.ID), zap.Error(err))
		}
	}
	return &Caller{Email: u.Email, Name: u.Name, Roles: u.Roles, Via: "token", TokenID: tok.ID, RemoteAddr: remote}, 0, ""
}

// hashSecret is how session ids and API tokens are stored: hex SHA-256.
func hashSecret(v string) string {
	h := sha256.Sum256([]byte(v))
	return hex.EncodeToString(h[:])
}

// remoteHost is the client's address without its port.
func remoteHost(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

// cookieSecure says whether cookies must be Secure: Gatehouse is served over TLS, or its
// public URL is https (TLS ends at a proxy in front).
func (s *Service) cookieSecure(r *http.Request) bool { return s.secure || r.TLS != nil }

func (s *Service) clearCookie(w http.ResponseWriter, r *http.Request, name, path string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: path, MaxAge: -1, HttpOnly: true,
		Secure: s.cookieSecure(r), SameSite: http.SameSiteLaxMode})
}
