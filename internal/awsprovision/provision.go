// Package awsprovision changes access in AWS: it grants and revokes the three kinds of
// access Gatehouse manages, each in its own file.
//
//   - IAMGroupMembership: an IAM user in an IAM group of the same account
//     (AddUserToGroup / RemoveUserFromGroup, in the group's account).
//   - SSOGroupMembership: an Identity Center user in an Identity Center group
//     (CreateGroupMembership / DeleteGroupMembership).
//   - AccountAssignment: an Identity Center user or group holding a permission set in an
//     account (CreateAccountAssignment / DeleteAccountAssignment, asynchronous in AWS).
//
// Every change reads before it writes, so that granting what exists and revoking what is
// gone succeed without a write and say so, and a retry never makes a second copy. A
// change is reported only once AWS has confirmed its final state. Each Grant and Revoke
// returns a Result with every AWS call made (and its request id) and is logged as one
// structured entry. Errors are *Error values whose Kind says what a person can do about
// them.
//
// It talks to AWS through an awsfetch.Session, so provisioning shares the sync's
// credentials chain, member-account roles, pacing, retries and call counting.
package awsprovision

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
)

// SessionName is the role session name of provisioning, so that CloudTrail tells
// Gatehouse's changes apart from its syncs.
const SessionName = "gatehouse-provision"

const (
	// DefaultAssignmentWait bounds the wait for an account assignment to reach its final
	// state. AWS usually takes seconds; provisioning a permission set into an account for
	// the first time can take a minute or two.
	DefaultAssignmentWait = 5 * time.Minute
	// DefaultPollInterval is the first wait between two status polls; it doubles up to
	// maxPollInterval.
	DefaultPollInterval = time.Second
	maxPollInterval     = 10 * time.Second
)

// Options configure a Provisioner. The zero value makes real changes with the defaults.
type Options struct {
	// DryRun makes the read calls that decide what to do but no change: the Result lists
	// the writes that would be made (Planned) instead.
	DryRun bool
	// AssignmentWait bounds the wait for an account assignment creation or deletion to
	// reach SUCCEEDED or FAILED, queueing for a creation slot included
	// (DefaultAssignmentWait when zero).
	AssignmentWait time.Duration
	// PollInterval is the first wait between status polls (DefaultPollInterval when zero).
	PollInterval time.Duration
	// MaxPollInterval caps the wait between status polls, which doubles from
	// PollInterval (10 s when zero). Just-in-time access keeps it short: a grant is
	// usable when AWS finished, and a poll that waits long adds to the wait.
	MaxPollInterval time.Duration
	// RequestedBy names who asked for the changes, for the log (an operator's login, a
	// ticket); empty when unknown.
	RequestedBy string
	// Logger receives one entry per Grant and Revoke; nil logs nothing.
	Logger *zap.Logger
	// Limiter, when set, shares Identity Center's limits with every other process that
	// provisions through the same instance (the replicas of a server): the creation
	// slots and the call rate. Without it, creations queue on a semaphore of this
	// process and calls are paced by the session alone.
	Limiter Limiter
}

// Limiter shares AWS's Identity Center limits between processes (internal/jit keeps
// them in the database, so that they hold across replicas).
type Limiter interface {
	// AcquireCreation waits until one of the instance's MaxCreationsInProgress account
	// assignment creation slots is free, or until the deadline (then an error), takes
	// it and returns the function that frees it.
	AcquireCreation(ctx context.Context, instanceARN string, deadline time.Time) (release func(), err error)
	// Wait waits for the right to make one Identity Center call (SSO Admin and Identity
	// Store share AWS's quota of about 20 calls per second).
	Wait(ctx context.Context) error
}

// Access is one piece of access Gatehouse can grant and revoke: an IAMGroupMembership, an
// SSOGroupMembership or an AccountAssignment.
type Access interface {
	// Kind names the kind of access: "iam_group_membership", "sso_group_membership" or
	// "account_assignment".
	Kind() string
	// String describes the access by its ids.
	String() string

	logFields() []zap.Field
}

// Action is what is done to an Access.
type Action string

// The actions.
const (
	ActionGrant  Action = "grant"
	ActionRevoke Action = "revoke"
)

// Provisioner grants and revokes access in AWS. It is safe for concurrent use; changes to
// the same access are serialised, and Identity Center lookups (the instance, permission
// sets, account names) and member-account roles are cached for its lifetime.
type Provisioner struct {
	sess *awsfetch.Session
	opts Options
	log  *zap.Logger
	own  bool // Close closes the session

	locks keyedMutex

	icMu sync.Mutex
	ic   *identityCenter // nil until found

	accounts       cache[string, accountClient]
	permissionSets cache[string, permissionSet]
	// permissionSetARNs maps a permission set id (ps-...) to the ARN AWS lists.
	permissionSetARNs cache[string, string]
	accountInfos      cache[string, accountInfo]

	mu      sync.Mutex
	pending map[AccountAssignment]pendingOperation // operations AWS may still be running

	// firstPolls are the waits before the first status poll of a creation ([0]) and of
	// a deletion ([1]), learnt from the operations so far.
	firstPolls [2]firstPoll
}

// New returns a Provisioner acting through the session. The session stays the caller's.
func New(sess *awsfetch.Session, opts Options) *Provisioner {
	if opts.AssignmentWait <= 0 {
		opts.AssignmentWait = DefaultAssignmentWait
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.MaxPollInterval <= 0 {
		opts.MaxPollInterval = maxPollInterval
	}
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	return &Provisioner{sess: sess, opts: opts, log: log, pending: map[AccountAssignment]pendingOperation{}}
}

// Connect connects to AWS as cfg says (only its connection fields matter; the session
// name defaults to SessionName) and returns a Provisioner that owns the session.
func Connect(ctx context.Context, cfg awsfetch.Config, opts Options) (*Provisioner, error) {
	if cfg.SessionName == "" {
		cfg.SessionName = SessionName
	}
	if cfg.Logger == nil {
		// The AWS SDK's own warnings join the provisioning log.
		cfg.Logger = opts.Logger
	}
	sess, err := awsfetch.Connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	p := New(sess, opts)
	p.own = true
	return p, nil
}

// Session is the AWS session the provisioner acts through.
func (p *Provisioner) Session() *awsfetch.Session { return p.sess }

// Close releases the session when the Provisioner owns it (Connect).
func (p *Provisioner) Close() {
	if p.own {
		p.sess.Close()
	}
}

// Grant gives the access. Granting what already exists succeeds with AlreadyExisted.
// On error the Result (possibly partial) says which calls were made.
func (p *Provisioner) Grant(ctx context.Context, a Access) (*Result, error) {
	return p.apply(ctx, ActionGrant, a)
}

// Revoke takes the access away. Revoking what is already gone succeeds with
// AlreadyAbsent, also when the principal or the group, permission set or account no
// longer exists. On error the Result (possibly partial) says which calls were made.
func (p *Provisioner) Revoke(ctx context.Context, a Access) (*Result, error) {
	return p.apply(ctx, ActionRevoke, a)
}

// RevokeOptions tell a revoke what its caller already knows, so that it makes fewer calls.
// They matter for account assignments only (a revoke there looks the principal up, and for
// a user, checks the groups that hold the same permission set); the zero value is Revoke.
type RevokeOptions struct {
	// PrincipalName, when set, is the principal's name as the caller resolved it (a
	// just-in-time lease's grant looked the user up): the revoke does not look the
	// principal up again (DescribeUser, DescribeGroup) and uses this name in its
	// description. A principal deleted since changes nothing: AWS keeps a deleted
	// principal's assignments, and they are deleted all the same.
	PrincipalName string
	// SkipGroupHolders leaves out the note of the groups through which a user keeps the
	// permission set in the account (IsMemberInGroups): for a caller that removes only
	// the user's own direct assignment and does not report what else the user holds.
	SkipGroupHolders bool
}

type revokeOptionsKey struct{}

// revokeOptions are the options RevokeWith passed down (the zero value otherwise).
func revokeOptions(ctx context.Context) RevokeOptions {
	o, _ := ctx.Value(revokeOptionsKey{}).(RevokeOptions)
	return o
}

// RevokeWith is Revoke with what the caller already knows (RevokeOptions). The revoke is
// as safe as Revoke's: it still reads whether the access exists before it deletes, and
// succeeds only when AWS reports the deletion SUCCEEDED.
func (p *Provisioner) RevokeWith(ctx context.Context, a Access, o RevokeOptions) (*Result, error) {
	return p.apply(context.WithValue(ctx, revokeOptionsKey{}, o), ActionRevoke, a)
}

func (p *Provisioner) apply(ctx context.Context, action Action, a Access) (*Result, error) {
	start := time.Now()
	// One change per access at a time: two concurrent grants of the same access would
	// both read "absent" and both write.
	unlock := p.locks.lock(a.Kind() + "|" + a.String())
	defer unlock()

	ctx, j := withJournal(ctx)
	res := &Result{Action: action, Access: a, DryRun: p.opts.DryRun}
	var err error
	switch a := a.(type) {
	case IAMGroupMembership:
		err = p.iamGroupMembership(ctx, j, action, a, res)
	case SSOGroupMembership:
		err = p.ssoGroupMembership(ctx, j, action, a, res)
	case AccountAssignment:
		err = p.accountAssignment(ctx, j, action, a, res)
	default:
		err = fmt.Errorf("awsprovision: unsupported access %T", a)
	}
	res.Calls = j.all()
	res.Duration = time.Since(start)
	if err != nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if !checking(ctx) { // a check (Has) changes nothing worth a log entry
		p.logResult(res, err)
	}
	return res, err
}

// accountClient is an IAM client acting in one account, and who it acts as.
type accountClient struct {
	iam  *iam.Client
	role string
}

// iamIn returns an IAM client acting in the account: the connector itself in its own
// account, otherwise the member role, assumed (once per provisioner) before it returns.
// The role is returned with an error too, so that the log can name it.
func (p *Provisioner) iamIn(ctx context.Context, accountID string) (accountClient, error) {
	role := p.sess.ConnectorRoleARN()
	if accountID != p.sess.CallerAccountID() {
		role = p.sess.MemberRoleARN(accountID)
	}
	c, err := p.accounts.get(accountID, func() (accountClient, error) {
		cfg, err := p.sess.Account(ctx, accountID)
		if err != nil {
			if ctx.Err() != nil {
				return accountClient{}, ctx.Err()
			}
			return accountClient{}, &Error{Kind: KindCannotAssume, Err: err,
				Msg: fmt.Sprintf("cannot act in account %s: %v (the role must exist in that account and trust %s; set --member-role-name and --member-external-id to match it)",
					accountID, err, p.sess.ConnectorRoleARN())}
		}
		return accountClient{iam: iam.NewFromConfig(cfg, func(o *iam.Options) {
			o.APIOptions = append(o.APIOptions, recordCalls(accountID, role))
		}), role: role}, nil
	})
	c.role = role
	return c, err
}

// connectorCall describes a call made as the connector in its own account.
func (p *Provisioner) connectorCall(service, op string, params ...Param) Call {
	return Call{Service: service, Operation: op, Account: p.sess.CallerAccountID(), Role: p.sess.ConnectorRoleARN(), Params: params}
}

// keyedMutex is a mutex per key, created on demand and dropped when unused.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedLock
}

type keyedLock struct {
	mu    sync.Mutex
	users int
}

func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyedLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &keyedLock{}
		k.locks[key] = l
	}
	l.users++
	k.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		if l.users--; l.users == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}

// cache keeps the successful result of a lookup per key; a failure is not kept, so the
// next caller tries again. Concurrent callers of one key wait for the first.
type cache[K comparable, V any] struct {
	mu      sync.Mutex
	entries map[K]*cacheEntry[V]
}

type cacheEntry[V any] struct {
	mu  sync.Mutex
	ok  bool
	val V
}

func (c *cache[K, V]) get(key K, load func() (V, error)) (V, error) {
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[K]*cacheEntry[V]{}
	}
	e := c.entries[key]
	if e == nil {
		e = &cacheEntry[V]{}
		c.entries[key] = e
	}
	c.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ok {
		return e.val, nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	e.val, e.ok = v, true
	return v, nil
}

// str is aws.String, short for building inputs.
func str(s string) *string { return aws.String(s) }
