package auth

import (
	"context"
	"slices"
)

// Roles a caller can hold. Everyone signed in holds none of these and may still see their
// own access, the catalog and their requests; approver and reviewer rights come from the
// policies of later features.
const (
	RoleAdmin   = "admin"
	RoleAuditor = "auditor"
)

// Caller is who is making a request.
type Caller struct {
	Email string
	Name  string
	Roles []string
	// Via is "session" for a browser session or "token" for an API token.
	Via string
	// TokenID is the API token's id when Via is "token".
	TokenID string
	// RemoteAddr is the client's address, for the audit log.
	RemoteAddr string
}

// Has says whether the caller holds role.
func (c *Caller) Has(role string) bool { return c != nil && slices.Contains(c.Roles, role) }

// IsAdmin says whether the caller is an admin.
func (c *Caller) IsAdmin() bool { return c.Has(RoleAdmin) }

// CanAudit says whether the caller may read everything (auditors and admins).
func (c *Caller) CanAudit() bool { return c.Has(RoleAuditor) || c.Has(RoleAdmin) }

type callerKey struct{}

// WithCaller returns ctx carrying c.
func WithCaller(ctx context.Context, c *Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// FromContext is the caller of the request, or nil when nobody is signed in.
func FromContext(ctx context.Context) *Caller {
	c, _ := ctx.Value(callerKey{}).(*Caller)
	return c
}
