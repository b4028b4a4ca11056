package jit

import (
	"context"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/internal/access"
	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
)

// RoleApprover is the role the approval policies give: /api/v1/me lists it, and the UI shows
// the approvals inbox first to those who hold it.
const RoleApprover = "approver"

// Roles are the roles the rules and policies in force give the caller: "approver" when a
// policy's step or fallback names them (by email, through an Identity Center group of any
// connection, or as a Gatehouse admin when it says admins), or when a request waits for their
// decision now (owners and managers become approvers that way). Roles from the server's
// configuration (admin, auditor) are the caller's own and not repeated here.
func (s *Service) Roles(ctx context.Context, c *auth.Caller) ([]string, error) {
	if c == nil || c.Email == "" {
		return nil, nil
	}
	named, err := s.namedApprover(ctx, c)
	if err != nil {
		return nil, err
	}
	if named {
		return []string{RoleApprover}, nil
	}
	waiting, _, err := s.List(ctx, c, ListFilter{Scope: "to_approve", Page: store.Page{Size: 1}})
	if err != nil {
		return nil, err
	}
	if len(waiting) > 0 {
		return []string{RoleApprover}, nil
	}
	return nil, nil
}

// namedApprover says whether a policy in force names the caller among its approvers.
func (s *Service) namedApprover(ctx context.Context, c *auth.Caller) (bool, error) {
	cfg, _, err := s.config(ctx)
	if err != nil {
		return false, err
	}
	email := strings.ToLower(c.Email)
	var groups []string
	for _, p := range cfg.Policies {
		sources := []access.Approvers{p.Fallback}
		for _, st := range p.Steps {
			sources = append(sources, st.Approvers)
		}
		for _, a := range sources {
			if a.Admins && c.IsAdmin() {
				return true, nil
			}
			if slices.ContainsFunc(a.People, func(p string) bool { return strings.ToLower(p) == email }) {
				return true, nil
			}
			groups = append(groups, a.Groups...)
		}
	}
	if len(groups) == 0 {
		return false, nil
	}
	for _, g := range slices.Compact(slices.Sorted(slices.Values(groups))) {
		members, err := s.st.GroupMemberEmails(ctx, "", g) // in every connection
		if err != nil {
			return false, err
		}
		if slices.ContainsFunc(members, func(m string) bool { return strings.ToLower(m) == email }) {
			return true, nil
		}
	}
	return false, nil
}
