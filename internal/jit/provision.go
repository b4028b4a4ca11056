package jit

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/awsprovision"
)

// provisioners keeps one awsprovision.Provisioner per connection for the service's
// lifetime: it caches the Identity Center instance, permission sets, accounts and member
// roles, and serialises the changes of one piece of access within the process.
type provisioners struct {
	mu sync.Mutex
	by map[string]*awsprovision.Provisioner
}

// provisioner returns the connection's provisioner, connecting on first use with the
// connection's configuration (Config.FetchConfig). A failed connection is not kept, so
// the next job tries again.
func (s *Service) provisioner(ctx context.Context, connectionID string) (*awsprovision.Provisioner, error) {
	s.provs.mu.Lock()
	defer s.provs.mu.Unlock()
	if p := s.provs.by[connectionID]; p != nil {
		return p, nil
	}
	if s.cfg.FetchConfig == nil {
		return nil, fmt.Errorf("jit: no AWS configuration for connection %s (Config.FetchConfig is not set)", connectionID)
	}
	cfg, err := s.cfg.FetchConfig(ctx, connectionID)
	if err != nil {
		return nil, fmt.Errorf("the AWS configuration of connection %s: %w", connectionID, err)
	}
	opts := s.cfg.Provision
	if opts.MaxPollInterval <= 0 {
		// A grant is usable once AWS finished: poll every 2 s at most, not every 10 s.
		opts.MaxPollInterval = 2 * time.Second
	}
	opts.Limiter = &sharedLimiter{s: s, connection: connectionID}
	opts.Logger = s.log.Named("provision")
	opts.RequestedBy = "gatehouse just-in-time access"
	opts.DryRun = false
	p, err := awsprovision.Connect(ctx, cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to AWS for connection %s: %w", connectionID, err)
	}
	if s.provs.by == nil {
		s.provs.by = map[string]*awsprovision.Provisioner{}
	}
	s.provs.by[connectionID] = p
	return p, nil
}

// closeProvisioners closes the provisioners (at shutdown).
func (s *Service) closeProvisioners() {
	s.provs.mu.Lock()
	defer s.provs.mu.Unlock()
	for id, p := range s.provs.by {
		p.Close()
		delete(s.provs.by, id)
	}
}

// accessOf is the provisioner's access of a lease's target.
func accessOf(t Target) (awsprovision.Access, error) {
	switch t.Kind {
	case KindAccountAssignment:
		ps := t.PermissionSetARN
		if ps == "" {
			ps = t.PermissionSetID
		}
		return awsprovision.AccountAssignment{AccountID: t.AccountID, PermissionSet: ps,
			PrincipalType: awsprovision.PrincipalUser, PrincipalID: t.PrincipalID}, nil
	case KindSSOGroupMembership:
		return awsprovision.SSOGroupMembership{GroupID: t.GroupID, UserID: t.PrincipalID}, nil
	case KindIAMGroupMembership:
		return awsprovision.IAMGroupMembership{GroupARN: t.GroupID, UserARN: t.PrincipalID}, nil
	}
	return nil, fmt.Errorf("jit: unknown kind of access %q", t.Kind)
}
