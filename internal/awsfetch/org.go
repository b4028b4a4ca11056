package awsfetch

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"golang.org/x/sync/errgroup"

	"github.com/gatehouse/gatehouse/internal/inventory"
)

// ErrNotManagementAccount is returned (wrapped, with the details) when Organizations
// support is on but the connector's role cannot read the organization: it lives in a
// member account that is not a delegated administrator, or in an account outside any
// organization.
var ErrNotManagementAccount = errors.New("the connector role must be in the organization's management account or a delegated administrator account")

// orgPageSize is the largest page the Organizations list calls accept.
const orgPageSize = 20

// orgTreeWorkers bounds the parents listed at once; the organization-wide quota, not
// this number, sets the pace.
const orgTreeWorkers = 8

// openOrganization reads the organization and its roots. These are the calls that tell
// whether the connector may read the organization at all, so they come before anything
// else is started.
func openOrganization(ctx context.Context, client *organizations.Client, callerARN, callerAccount string) (*inventory.Organization, []types.Root, error) {
	desc, err := client.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		return nil, nil, orgAccessError(err, callerARN, callerAccount, "")
	}
	o := desc.Organization
	org := &inventory.Organization{
		ID:                  aws.ToString(o.Id),
		ARN:                 aws.ToString(o.Arn),
		ManagementAccountID: aws.ToString(o.MasterAccountId),
	}

	var roots []types.Root
	err = paginate("ListRoots", func(token *string) (*string, error) {
		out, err := client.ListRoots(ctx, &organizations.ListRootsInput{MaxResults: aws.Int32(orgPageSize), NextToken: token})
		if err != nil {
			// A member account may describe its organization but not list it.
			return nil, orgAccessError(err, callerARN, callerAccount, org.ManagementAccountID)
		}
		roots = append(roots, out.Roots...)
		return out.NextToken, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return org, roots, nil
}

// listOrganization lists the tree once: for each parent (roots first) its OUs and its
// accounts. Asking each account for its parent instead costs a call per account and
// throttles at a few hundred accounts.
func listOrganization(ctx context.Context, client *organizations.Client, org *inventory.Organization, roots []types.Root) ([]*inventory.Account, error) {
	var (
		mu       sync.Mutex
		units    []*inventory.OrgUnit
		accounts []*inventory.Account
	)
	for _, r := range roots {
		units = append(units, &inventory.OrgUnit{ID: aws.ToString(r.Id), ARN: aws.ToString(r.Arn), Name: aws.ToString(r.Name), IsRoot: true})
	}
	g, gctx := errgroup.WithContext(ctx)
	sem := make(chan struct{}, orgTreeWorkers)
	var visit func(parentID string)
	visit = func(parentID string) {
		g.Go(func() error {
			select {
			case sem <- struct{}{}:
			case <-gctx.Done():
				return gctx.Err()
			}
			children, err := listChildOUs(gctx, client, parentID)
			if err == nil {
				var accs []*inventory.Account
				accs, err = listChildAccounts(gctx, client, parentID)
				mu.Lock()
				units = append(units, children...)
				accounts = append(accounts, accs...)
				mu.Unlock()
			}
			<-sem
			if err != nil {
				return err
			}
			for _, c := range children {
				visit(c.ID)
			}
			return nil
		})
	}
	for _, r := range roots {
		visit(aws.ToString(r.Id))
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("list the organization tree: %w", err)
	}

	org.Units = orderUnits(units)
	paths := map[string]string{}
	for _, u := range org.Units {
		paths[u.ID] = u.Path
	}
	for _, a := range accounts {
		a.OUPath = paths[a.ParentID]
	}
	sort.Slice(accounts, func(i, j int) bool { return accounts[i].ID < accounts[j].ID })
	return accounts, nil
}

func listChildOUs(ctx context.Context, client *organizations.Client, parentID string) ([]*inventory.OrgUnit, error) {
	var out []*inventory.OrgUnit
	err := paginate("ListOrganizationalUnitsForParent", func(token *string) (*string, error) {
		page, err := client.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{
			ParentId: aws.String(parentID), MaxResults: aws.Int32(orgPageSize), NextToken: token})
		if err != nil {
			return nil, wrapf(err, "OUs under %s", parentID)
		}
		for _, ou := range page.OrganizationalUnits {
			out = append(out, &inventory.OrgUnit{ID: aws.ToString(ou.Id), ARN: aws.ToString(ou.Arn), Name: aws.ToString(ou.Name), ParentID: parentID})
		}
		return page.NextToken, nil
	})
	return out, err
}

func listChildAccounts(ctx context.Context, client *organizations.Client, parentID string) ([]*inventory.Account, error) {
	var out []*inventory.Account
	err := paginate("ListAccountsForParent", func(token *string) (*string, error) {
		page, err := client.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{
			ParentId: aws.String(parentID), MaxResults: aws.Int32(orgPageSize), NextToken: token})
		if err != nil {
			return nil, wrapf(err, "accounts under %s", parentID)
		}
		for _, a := range page.Accounts {
			// State replaces the retiring Status and tells CLOSED from SUSPENDED.
			status := string(a.State)
			if status == "" {
				status = string(a.Status)
			}
			out = append(out, &inventory.Account{
				ID: aws.ToString(a.Id), ARN: aws.ToString(a.Arn), Name: aws.ToString(a.Name),
				Email: aws.ToString(a.Email), Status: status, ParentID: parentID,
				JoinedAt: aws.ToTime(a.JoinedTimestamp).UTC(),
			})
		}
		return page.NextToken, nil
	})
	return out, err
}

// orderUnits returns the units parents before children (breadth first), siblings by
// name then id, with their paths filled in.
func orderUnits(units []*inventory.OrgUnit) []*inventory.OrgUnit {
	children := map[string][]*inventory.OrgUnit{}
	var roots []*inventory.OrgUnit
	for _, u := range units {
		if u.IsRoot {
			roots = append(roots, u)
		} else {
			children[u.ParentID] = append(children[u.ParentID], u)
		}
	}
	byName := func(list []*inventory.OrgUnit) {
		sort.Slice(list, func(i, j int) bool {
			if list[i].Name != list[j].Name {
				return list[i].Name < list[j].Name
			}
			return list[i].ID < list[j].ID
		})
	}
	byName(roots)
	out := make([]*inventory.OrgUnit, 0, len(units))
	queue := roots
	for _, r := range roots {
		r.Path = r.Name
	}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		out = append(out, u)
		kids := children[u.ID]
		byName(kids)
		for _, k := range kids {
			k.Path = u.Path + "/" + k.Name
		}
		queue = append(queue, kids...)
	}
	return out
}

// orgAccessError turns the errors of a connector outside the management account into
// ErrNotManagementAccount with what was found; other errors pass through described.
func orgAccessError(err error, callerARN, callerAccount, managementID string) error {
	switch errorCode(err) {
	case "AWSOrganizationsNotInUseException":
		return fmt.Errorf("%w: %s is in account %s, which is not part of an organization (AWS said %s); run without Organizations support to sync only this account",
			ErrNotManagementAccount, callerARN, callerAccount, describe(err))
	case "AccessDeniedException", "AccessDenied":
		where := "account " + callerAccount
		if managementID != "" && managementID != callerAccount {
			where = fmt.Sprintf("member account %s (the management account is %s)", callerAccount, managementID)
		}
		return fmt.Errorf("%w: %s is in %s and may not read the organization (AWS said %s); use a role in the management account, register this account as a delegated administrator, or give the role organizations:Describe* and organizations:List*",
			ErrNotManagementAccount, callerARN, where, describe(err))
	}
	return fmt.Errorf("read the organization: %w", err)
}

// paginate calls page with each page's token (nil for the first) until it returns no
// next token. A service that answers with the token it was given would loop forever;
// that is an error, never a silent end of the list.
func paginate(what string, page func(token *string) (next *string, err error)) error {
	var token *string
	for {
		next, err := page(token)
		if err != nil {
			return err
		}
		if next == nil || *next == "" {
			return nil
		}
		if token != nil && *next == *token {
			return fmt.Errorf("%s: the service returned the page token it was given; stopping rather than looping", what)
		}
		token = next
	}
}
