package awsfetch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/inventory"
)

// Fetch reads the inventory that cfg describes. The Stats are returned even when the
// fetch fails, so that a caller can say what was spent.
//
// Accounts that are not ACTIVE, whose member role cannot be assumed or that deny a read
// are skipped: they are returned with Synced false and a SkipReason, and listed in
// Stats.Skipped. A skipped ACTIVE account makes the fetch partial, which fails it with a
// *PartialError unless Config.AllowPartial is set. Everything else that fails after
// retries (5xx, throttling, network errors) fails the fetch, with an error naming the
// account and the call: a snapshot with a silently missing part would misreport who has
// access.
func Fetch(ctx context.Context, cfg Config) (*inventory.Snapshot, *Stats, error) {
	started := time.Now()
	stats := &Stats{Started: started}
	caller := ctx
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, stats, err
	}
	rec := newRecorder(cfg.Live)
	g := newPacing(cfg.Quotas, rec)
	done := func(snap *inventory.Snapshot, err error) (*inventory.Snapshot, *Stats, error) {
		if err != nil && caller.Err() != nil {
			// Whatever failed, it failed because the caller gave up.
			err = caller.Err()
		}
		stats.Wall = time.Since(started)
		rec.fill(stats)
		stats.Buckets = g.buckets()
		return snap, stats, err
	}
	log := cfg.Logger

	s, err := newSessions(ctx, cfg, g)
	if err != nil {
		return done(nil, err)
	}
	defer s.close()
	if err := s.identify(ctx); err != nil {
		return done(nil, err)
	}
	log.Info("fetching AWS inventory", zap.String("caller", s.callerARN), zap.Bool("orgs", cfg.Orgs), zap.Bool("identity_center", cfg.IdentityCenter))
	snap := &inventory.Snapshot{FetchedAt: started.UTC().Truncate(time.Second), CallerARN: s.callerARN, CallerAccountID: s.callerAccount}

	// With Organizations, whether the connector may read the organization is settled
	// first: a connector in the wrong account gets that answer, not a side effect of it.
	var org *inventory.Organization
	var roots []orgtypes.Root
	if cfg.Orgs {
		org, roots, err = openOrganization(ctx, s.organizationsClient(), s.callerARN, s.callerAccount)
		if err != nil {
			return done(nil, err)
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Identity Center runs alongside the organization and the accounts: its quota is
	// separate from theirs, and in a large organization it is the longest part.
	var icErr error
	icDone := make(chan struct{})
	if cfg.IdentityCenter {
		management := ""
		if org != nil {
			management = org.ManagementAccountID
		}
		go func() {
			defer close(icDone)
			ic, choice, err := fetchIdentityCenter(ctx, cfg, s, management)
			stats.Assignments = choice
			if err != nil {
				icErr = err
				cancel()
				return
			}
			snap.IdentityCenter = ic
			stats.UserStatus = userStatusStats(ic)
		}()
	} else {
		close(icDone)
	}
	// fail ends the fetch with the error that caused it: Identity Center's failure rather
	// than the cancellation it caused elsewhere (done reports the caller's own).
	fail := func(err error) (*inventory.Snapshot, *Stats, error) {
		cancel()
		<-icDone
		if icErr != nil && (err == nil || errors.Is(err, context.Canceled)) {
			err = icErr
		}
		return done(nil, err)
	}

	var accounts []*inventory.Account
	if cfg.Orgs {
		accs, err := listOrganization(ctx, s.organizationsClient(), org, roots)
		if err != nil {
			return fail(err)
		}
		snap.Org, accounts = org, accs
		log.Info("listed the organization", zap.String("id", org.ID), zap.Int("accounts", len(accs)), zap.Int("units", len(org.Units)))
	} else {
		accounts = []*inventory.Account{{ID: s.callerAccount, Status: "ACTIVE"}}
	}
	snap.Accounts = accounts
	if err := fetchAccounts(ctx, cfg, s, accounts); err != nil {
		return fail(err)
	}
	if !cfg.Orgs && accounts[0].Name == "" && len(accounts[0].Aliases) > 0 {
		// Without Organizations there is no account name; the alias is what people call it.
		accounts[0].Name = accounts[0].Aliases[0]
	}
	<-icDone
	if icErr != nil {
		return fail(nil)
	}
	if snap.IdentityCenter != nil {
		linkReservedRoles(snap.Accounts, snap.IdentityCenter)
	}

	stats.Accounts = len(accounts)
	var partial []SkippedAccount
	for _, a := range accounts {
		if a.Synced {
			stats.Synced++
			stats.CredentialReports.add(a)
			continue
		}
		sk := SkippedAccount{ID: a.ID, Name: a.Name, Status: a.Status, Reason: a.SkipReason, Detail: a.SkipDetail}
		stats.Skipped = append(stats.Skipped, sk)
		if sk.Active() {
			partial = append(partial, sk)
		}
	}
	if len(partial) > 0 && !cfg.AllowPartial {
		return done(nil, &PartialError{Accounts: len(accounts), Skipped: partial})
	}
	return done(snap, nil)
}

// fetchIdentityCenter runs the Identity Center fetch and settles each user's status
// (from the Identity Store API, or SCIM where that says nothing; see settleUserStatus).
// management is the organization's management account ("" without Organizations).
func fetchIdentityCenter(ctx context.Context, cfg Config, s *sessions, management string) (*inventory.IdentityCenter, AssignmentChoice, error) {
	sso, ids := s.identityCenterClients()
	ic, choice, err := fetchInstance(ctx, sso, ids, cfg, s.callerAccount, management)
	if err != nil {
		return ic, choice, err
	}
	var scim *scimClient
	if cfg.scimEnabled() {
		scim = &scimClient{endpoint: cfg.SCIMEndpoint, token: cfg.SCIMToken, http: &http.Client{Transport: s.transport, Timeout: time.Minute},
			pacing: s.pacing, attempts: cfg.MaxAttempts, backoff: cfg.MaxBackoff}
	}
	if err := settleUserStatus(ctx, ic, scim, cfg.Logger); err != nil {
		return nil, choice, err
	}
	return ic, choice, nil
}

// fetchAccounts fetches the IAM of every account, Concurrency at a time. IAM quotas are
// per account, so accounts in parallel do not slow each other down. An account that may
// be skipped (see accounts.go) is marked so; any other failure stops every account and
// is returned.
func fetchAccounts(ctx context.Context, cfg Config, s *sessions, accounts []*inventory.Account) error {
	var mu sync.Mutex
	finished := 0
	return forEach(ctx, accounts, cfg.Concurrency, func(ctx context.Context, a *inventory.Account) error {
		skip, err := fetchAccount(ctx, cfg, s, a)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		if skip != nil {
			a.Synced, a.IAM, a.SkipReason, a.SkipDetail = false, nil, skip.reason, skip.detail
			cfg.Logger.Warn("account not synced", zap.String("account", a.ID), zap.String("name", a.Name),
				zap.String("reason", a.SkipReason), zap.String("aws_error", a.SkipDetail))
		} else {
			cfg.Logger.Debug("account synced", zap.String("account", a.ID))
		}
		mu.Lock()
		finished++
		if cfg.Progress != nil {
			cfg.Progress(finished, len(accounts))
		}
		mu.Unlock()
		return nil
	})
}

// fetchAccount fetches one account's IAM. It returns why the account is skipped when
// the account refuses Gatehouse, and an error, which fails the sync, for anything else.
func fetchAccount(ctx context.Context, cfg Config, s *sessions, a *inventory.Account) (*accountSkip, error) {
	if a.Status != "" && a.Status != "ACTIVE" {
		// Suspended and closed accounts refuse every call, assuming a role included.
		return &accountSkip{reason: "the account is " + a.Status}, nil
	}
	label := a.ID
	if a.Name != "" {
		label += " (" + a.Name + ")"
	}
	acfg, err := s.account(ctx, a.ID)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if cannotAssume(err) {
			return assumeSkip(s.cfg.MemberRoleName, s.connectorRole(), err), nil
		}
		return nil, &describedError{msg: fmt.Sprintf("read account %s: assume %s: %s", label, s.memberRoleARN(a.ID), callFailure(err)), err: err}
	}
	res, err := fetchIAM(ctx, iamClient(acfg), cfg)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if isDenied(err) {
			identity := "role " + s.cfg.MemberRoleName
			if a.ID == s.callerAccount {
				identity = s.connectorRole()
			}
			return deniedSkip(identity, err), nil
		}
		return nil, &describedError{msg: fmt.Sprintf("read account %s: %s", label, callFailure(err)), err: err}
	}
	a.IAM, a.Aliases, a.Synced = res.iam, res.aliases, true
	return nil, nil
}
