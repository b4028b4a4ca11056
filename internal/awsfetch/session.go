package awsfetch

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Session is a connection to AWS as the connector, for callers other than Fetch
// (provisioning, doctor): the connector's own identity and, on demand, the member-account
// role in any account, with the same credentials chain, pacing, retries and call counting
// as a fetch.
type Session struct {
	cfg     Config
	rec     *recorder
	pacing  *pacing
	s       *sessions
	started time.Time
}

// Connect loads the AWS configuration, assumes Config.RoleARN when set and asks STS who
// the connector is. Only the connection fields of cfg matter (region, endpoint, role,
// External IDs, member role name, Identity Center region, credentials, retries, quotas).
func Connect(ctx context.Context, cfg Config) (*Session, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	rec := newRecorder(cfg.Live)
	g := newPacing(cfg.Quotas, rec)
	s, err := newSessions(ctx, cfg, g)
	if err != nil {
		return nil, err
	}
	if err := s.identify(ctx); err != nil {
		s.close()
		return nil, err
	}
	return &Session{cfg: cfg, rec: rec, pacing: g, s: s, started: time.Now()}, nil
}

// CallerARN is the connector's identity as STS reports it.
func (c *Session) CallerARN() string { return c.s.callerARN }

// CallerAccountID is the account of the connector's identity.
func (c *Session) CallerAccountID() string { return c.s.callerAccount }

// ConnectorRoleARN is the IAM identity whose policies govern the connector's own calls:
// Config.RoleARN when one is assumed, otherwise the role of an assumed-role caller
// (arn:aws:iam::ACCOUNT:role/NAME; STS does not report the role's path) or the caller
// itself (an IAM user). An AccessDenied is fixed on this identity, not on the session.
func (c *Session) ConnectorRoleARN() string {
	if c.cfg.RoleARN != "" {
		return c.cfg.RoleARN
	}
	return roleOfSession(c.s.callerARN)
}

// roleOfSession turns arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION into
// arn:aws:iam::ACCOUNT:role/NAME; other ARNs are returned unchanged.
func roleOfSession(arn string) string {
	f := strings.SplitN(arn, ":", 6)
	if len(f) != 6 || f[2] != "sts" || !strings.HasPrefix(f[5], "assumed-role/") {
		return arn
	}
	parts := strings.Split(strings.TrimPrefix(f[5], "assumed-role/"), "/")
	return "arn:" + f[1] + ":iam::" + f[4] + ":role/" + parts[0]
}

// Connector returns a configuration acting as the connector in its own account.
func (c *Session) Connector() aws.Config { return c.s.connector.Copy() }

// Account returns a configuration acting in the account: the connector in its own
// account, otherwise the member role (Config.MemberRoleName) assumed from it. The role is
// assumed before Account returns, so an account that cannot be entered fails here.
func (c *Session) Account(ctx context.Context, accountID string) (aws.Config, error) {
	return c.s.account(ctx, accountID)
}

// MemberRoleARN is the role Account assumes in a member account.
func (c *Session) MemberRoleARN(accountID string) string { return c.s.memberRoleARN(accountID) }

// IdentityCenter returns the connector's configuration in the Identity Center region.
func (c *Session) IdentityCenter() aws.Config {
	cfg := c.s.connector.Copy()
	if c.cfg.IdentityCenterRegion != "" {
		cfg.Region = c.cfg.IdentityCenterRegion
	}
	return cfg
}

// Stats returns the calls made through the session so far.
func (c *Session) Stats() *Stats {
	st := &Stats{Started: c.started, Wall: time.Since(c.started)}
	c.rec.fill(st)
	st.Buckets = c.pacing.buckets()
	return st
}

// Close releases the session's idle connections.
func (c *Session) Close() { c.s.close() }
