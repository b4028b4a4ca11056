package awsfetch

import (
	"context"

	"github.com/gatehouse/gatehouse/internal/inventory"
)

// Organization reads the organization and lists its accounts with the calls a sync
// makes (so with the same permissions): the organization, its roots, then each
// parent's OUs and accounts. A connector that may not read the organization gets an
// error wrapping ErrNotManagementAccount.
func (c *Session) Organization(ctx context.Context) (*inventory.Organization, []*inventory.Account, error) {
	client := c.s.organizationsClient()
	org, roots, err := openOrganization(ctx, client, c.s.callerARN, c.s.callerAccount)
	if err != nil {
		return nil, nil, err
	}
	accounts, err := listOrganization(ctx, client, org, roots)
	if err != nil {
		return nil, nil, err
	}
	return org, accounts, nil
}
