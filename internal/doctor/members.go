package doctor

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"golang.org/x/sync/errgroup"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/awsperms"
	"github.com/gatehouse/gatehouse/internal/inventory"
)

// memberResult is what was found in one member account.
type memberResult struct {
	account *inventory.Account
	err     string // the role could not be assumed
	missing []string
	open    []string
}

// memberAccounts: the member role must be assumable in every active member account and
// allow what the sync (and provisioning) does there. Accounts are checked in parallel,
// as a sync enters them.
func (r *run) memberAccounts(ctx context.Context) Check {
	c := Check{ID: "member-accounts", Title: titles["member-accounts"]}
	_, accounts, err := r.sess.Organization(ctx)
	if err != nil {
		c.Status, c.Detail = Fail, "cannot list the organization's accounts: "+err.Error()
		c.Fix = "fix the Organization access check first"
		return c
	}
	var active, inactive []*inventory.Account
	for _, a := range accounts {
		switch {
		case a.ID == r.account:
			// The connector reads its own account itself.
		case a.Status != "" && a.Status != "ACTIVE":
			inactive = append(inactive, a)
		default:
			active = append(active, a)
		}
	}
	roleName := r.names().MemberRole
	needs := needsOf(r.features, awsperms.Member)
	results := make([]memberResult, len(active))
	var mu sync.Mutex
	workers := r.opts.Config.Concurrency
	if workers <= 0 {
		workers = awsfetch.DefaultConcurrency
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i, a := range active {
		g.Go(func() error {
			res := r.memberAccount(gctx, a, needs)
			mu.Lock()
			results[i] = res
			if res.err == "" {
				r.assumeSeen = true
			}
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()

	var bad []string
	for _, res := range results {
		a := res.account
		name := a.ID
		if a.Name != "" {
			name += " " + a.Name
		}
		it := Item{Name: name, Status: Pass, Detail: "entered; allows every action the member role needs"}
		switch {
		case res.err != "":
			it.Status, it.Detail = Fail, res.err
		case len(res.missing) > 0:
			it.Status, it.Detail = Fail, "the member role lacks "+strings.Join(res.missing, ", ")
		case len(res.open) > 0:
			it.Status, it.Detail = Warn, "could not check "+strings.Join(res.open, ", ")+": allow the member role iam:SimulatePrincipalPolicy on itself"
		}
		if it.Status == Fail {
			bad = append(bad, a.ID)
		}
		c.Items = append(c.Items, it)
	}
	c.Method = methodProbe + " per read action"
	for _, n := range needs {
		if n.use.Access == awsperms.Write {
			c.Method += ", " + methodSimulate + " per write action"
			break
		}
	}
	suffix := ""
	if len(inactive) > 0 {
		var ids []string
		for _, a := range inactive {
			ids = append(ids, a.ID+" ("+strings.ToLower(a.Status)+")")
		}
		sort.Strings(ids)
		suffix = fmt.Sprintf("; %d not active, skipped as the sync skips them: %s", len(inactive), strings.Join(ids, ", "))
	}
	warned := 0
	for _, it := range c.Items {
		if it.Status == Warn {
			warned++
		}
	}
	switch {
	case len(active) == 0:
		c.Status, c.Detail = Pass, "the organization has no active member account besides "+r.account+suffix
	case len(bad) > 0 && roleName == awsperms.OrganizationAccessRole:
		c.Status = Fail
		c.Detail = fmt.Sprintf("%d of %d member accounts cannot be synced with %s: %s%s", len(bad), len(active), roleName, strings.Join(bad, ", "), suffix)
		c.Fix = fmt.Sprintf("accounts invited into the organization have no %s unless someone created it, and it is administrator where it exists: create the read-only member role instead (%s generates a StackSet that creates %s in every account) and leave --member-role-name out",
			roleName, r.setupCommand(), awsperms.DefaultMemberRoleName)
	case len(bad) > 0:
		c.Status = Fail
		c.Detail = fmt.Sprintf("%d of %d member accounts cannot be synced with %s: %s%s", len(bad), len(active), roleName, strings.Join(bad, ", "), suffix)
		c.Fix = fmt.Sprintf("give each of these accounts the role %s, trusting the connector role %s, with the member policy (member-permissions-policy.json); %s generates a StackSet that creates it in every account, so look there for failed stack instances",
			roleName, r.roleARN, r.setupCommand())
	case warned > 0:
		c.Status = Warn
		c.Detail = fmt.Sprintf("entered all %d member accounts with %s; %d could not be fully checked%s", len(active), roleName, warned, suffix)
		c.Fix = "allow the member role iam:SimulatePrincipalPolicy on itself (the generated member policy includes it)"
	case roleName == awsperms.OrganizationAccessRole:
		// It works, and that is the problem: a read-only sync holding administrator
		// access in every account is not least privilege.
		c.Status = Warn
		c.Detail = fmt.Sprintf("entered all %d member accounts with %s, which has AdministratorAccess in each%s", len(active), roleName, suffix)
		c.Fix = fmt.Sprintf("create the read-only member role (%s generates a StackSet that creates %s in every account) and leave --member-role-name out", r.setupCommand(), awsperms.DefaultMemberRoleName)
	default:
		c.Status = Pass
		c.Detail = fmt.Sprintf("entered all %d member accounts with %s; each allows the %d actions the member role needs%s", len(active), roleName, len(needs), suffix)
	}
	return c
}

// memberAccount enters one account and checks the member role's needs there.
func (r *run) memberAccount(ctx context.Context, a *inventory.Account, needs []need) memberResult {
	res := memberResult{account: a}
	cfg, err := r.sess.Account(ctx, a.ID)
	if err != nil {
		res.err = err.Error()
		return res
	}
	env := &probeEnv{iam: iam.NewFromConfig(cfg), account: a.ID}
	ck := &checker{env: env, sourceARN: r.sess.MemberRoleARN(a.ID), names: r.names(), role: awsperms.Member}
	for _, x := range ck.check(ctx, needs, nil) {
		switch x.verdict {
		case denied:
			res.missing = append(res.missing, x.action)
		case unknown:
			res.open = append(res.open, x.action)
		}
	}
	return res
}
