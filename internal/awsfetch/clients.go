package awsfetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/awsperms"
)

// sessions builds the clients of a fetch: the connector's identity and, per member
// account, the role assumed into it.
type sessions struct {
	cfg    Config
	pacing *pacing

	// base is the loaded configuration, without instrumentation.
	base aws.Config
	// source is the standard chain's identity (or Config.Credentials), before RoleARN.
	source aws.Config
	// transport carries every call of the fetch; its idle connections are closed when
	// the fetch ends.
	transport *http.Transport
	// connector is the identity everything runs as: source, or RoleARN assumed from it.
	connector aws.Config
	// connectorSTS assumes member roles; its calls are charged to the caller's account.
	connectorSTS *sts.Client

	callerARN, callerAccount, partition string
}

// newSessions loads the standard AWS configuration and sets up the connector identity.
// It makes no call yet.
func newSessions(ctx context.Context, cfg Config, g *pacing) (*sessions, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(newRetryer(cfg.MaxAttempts, cfg.MaxBackoff, g.reach)),
		// The SDK's own warnings go to the fetch's log, not raw to stderr.
		config.WithLogger(SDKLogger(cfg.Logger)),
		// Temporary credentials of the standard chain (SSO, a profile's role, a container
		// or instance role) are renewed early, as the assumed roles' are.
		config.WithCredentialsCacheOptions(func(o *aws.CredentialsCacheOptions) { cacheOptions(cfg)(o) }),
	}
	if cfg.Logger.Core().Enabled(zap.DebugLevel) {
		opts = append(opts, config.WithClientLogMode(aws.LogRetries))
	}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(cfg.Profile))
	}
	if cfg.EndpointURL != "" {
		opts = append(opts, config.WithBaseEndpoint(cfg.EndpointURL))
	}
	if cfg.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(cfg.Credentials))
	}
	base, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		var nf *ProfileNotFoundError
		if err := ExplainConfigError(err, cfg.Profile); errors.As(err, &nf) {
			return nil, err
		}
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	// Every account's clients share one transport, built by the SDK (timeouts, proxy,
	// AWS_CA_BUNDLE) with room for more idle connections: the default of 10 per host
	// would churn connections when dozens of accounts call IAM at once. The fetch owns
	// it, so it can close its connections when done.
	transport := awshttp.NewBuildableClient().GetTransport()
	if b, ok := base.HTTPClient.(*awshttp.BuildableClient); ok {
		transport = b.GetTransport()
	}
	transport.MaxIdleConns = 512
	transport.MaxIdleConnsPerHost = 256
	transport.DialContext = (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext
	base.HTTPClient = &http.Client{
		Transport: transport,
		// AWS APIs do not redirect; a redirect is returned as the response, as the SDK's
		// own client does.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if base.Region == "" {
		// IAM, STS and Organizations answer in us-east-1 whatever the caller's region.
		base.Region = "us-east-1"
	}
	if base.Credentials != nil {
		// A failure of the standard chain is reported as such, and not retried by the
		// call that needed the credentials (the chain's providers retry their own calls).
		base.Credentials = aws.NewCredentialsCache(markedProvider{p: base.Credentials}, cacheOptions(cfg))
	}
	s := &sessions{cfg: cfg, pacing: g, base: base, transport: transport}
	s.source = s.instrumented(base.Credentials, func() string { return "source" })
	// The connector's calls are charged to its account, known once identify has run.
	s.connector = s.instrumented(base.Credentials, func() string {
		if s.callerAccount == "" {
			return "caller"
		}
		return s.callerAccount
	})
	if cfg.RoleARN != "" {
		provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(s.source), cfg.RoleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = cfg.SessionName
			if cfg.ExternalID != "" {
				o.ExternalID = aws.String(cfg.ExternalID)
			}
		})
		s.connector.Credentials = aws.NewCredentialsCache(markedProvider{role: cfg.RoleARN, p: provider}, cacheOptions(cfg))
	}
	return s, nil
}

// cacheOptions renews credentials CredentialExpiryWindow (less a random part of it)
// before they expire.
func cacheOptions(cfg Config) func(*aws.CredentialsCacheOptions) {
	return func(o *aws.CredentialsCacheOptions) {
		o.ExpiryWindow = cfg.CredentialExpiryWindow
		o.ExpiryWindowJitterFrac = credentialExpiryJitter
	}
}

// close releases the connections kept for reuse.
func (s *sessions) close() { s.transport.CloseIdleConnections() }

// identify asks STS who the connector is; it is the first call, so a connection or
// credential problem surfaces here with a message that says what it is and what to check.
func (s *sessions) identify(ctx context.Context) error {
	out, err := sts.NewFromConfig(s.connector).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return s.identifyError(ctx, err)
	}
	s.callerARN = aws.ToString(out.Arn)
	s.callerAccount = aws.ToString(out.Account)
	s.partition = "aws"
	if f := strings.SplitN(s.callerARN, ":", 3); len(f) == 3 && f[0] == "arn" {
		s.partition = f[1]
	}
	s.connectorSTS = sts.NewFromConfig(s.connector)
	return nil
}

// connectorRole is the IAM identity a member role must trust: Config.RoleARN when one
// is assumed, otherwise the caller's role (or user).
func (s *sessions) connectorRole() string {
	if s.cfg.RoleARN != "" {
		return s.cfg.RoleARN
	}
	return roleOfSession(s.callerARN)
}

// identifyError says why the first call failed, in this order: the endpoint cannot be
// reached (whichever call found out: the role's AssumeRole or GetCallerIdentity); no
// credentials could be found; the connector role could not be assumed; AWS refused the
// credentials.
func (s *sessions) identifyError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if why, ok := Unreachable(err); ok {
		return &describedError{err: err, msg: "cannot reach AWS STS: " + why +
			"; " + UnreachableFix}
	}
	var ce *credentialsError
	switch {
	case errors.As(err, &ce) && ce.role == "":
		return &describedError{err: err, msg: "no usable AWS credentials (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run where an instance or container role is available): " + describe(ce.err)}
	case errors.As(err, &ce):
		return wrapf(ce.err, "cannot assume the connector role %s (check the role's trust policy and External ID, and the credentials it is assumed from)", ce.role)
	}
	return wrapf(err, "AWS refused the credentials (check that the access key is active and current, and that the session token, if any, belongs to it)")
}

// memberRoleARN is the ARN of the role assumed in a member account.
func (s *sessions) memberRoleARN(accountID string) string {
	return "arn:" + s.partition + ":iam::" + accountID + ":role/" + s.cfg.MemberRoleName
}

// account returns a configuration acting in the account: the connector itself in its
// own account, otherwise the member role assumed from the connector. The role is
// assumed here, once, so that an account that cannot be entered is known before any
// other call, with the reason.
func (s *sessions) account(ctx context.Context, accountID string) (aws.Config, error) {
	if accountID == s.callerAccount {
		return s.connector.Copy(), nil
	}
	roleARN := s.memberRoleARN(accountID)
	provider := stscreds.NewAssumeRoleProvider(s.connectorSTS, roleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = s.cfg.SessionName
		// Role chaining caps sessions at one hour; the cache renews them before expiry.
		o.Duration = time.Hour
		if s.cfg.MemberExternalID != "" {
			o.ExternalID = aws.String(s.cfg.MemberExternalID)
		}
	})
	creds := aws.NewCredentialsCache(markedProvider{role: roleARN, p: provider}, cacheOptions(s.cfg))
	if _, err := creds.Retrieve(ctx); err != nil {
		if ctx.Err() != nil {
			return aws.Config{}, ctx.Err()
		}
		return aws.Config{}, wrapf(err, "cannot assume %s", roleARN)
	}
	return s.instrumented(creds, func() string { return accountID }), nil
}

// instrumented returns a copy of the loaded configuration with the credentials, whose
// calls are paced and counted against the scope's buckets.
func (s *sessions) instrumented(creds aws.CredentialsProvider, scope func() string) aws.Config {
	cfg := s.base.Copy()
	cfg.Credentials = creds
	cfg.APIOptions = append(append([]func(*middleware.Stack) error(nil), s.base.APIOptions...), s.pacing.instrument(scope))
	return cfg
}

// iamClient returns an IAM client for a configuration from account.
func iamClient(cfg aws.Config) *iam.Client { return iam.NewFromConfig(cfg) }

// organizationsClient returns the Organizations client of the connector.
func (s *sessions) organizationsClient() *organizations.Client {
	return organizations.NewFromConfig(s.connector)
}

// identityCenterClients returns the SSO Admin and Identity Store clients of the
// connector in the Identity Center region.
func (s *sessions) identityCenterClients() (*ssoadmin.Client, *identitystore.Client) {
	cfg := s.connector.Copy()
	if s.cfg.IdentityCenterRegion != "" {
		cfg.Region = s.cfg.IdentityCenterRegion
	}
	return ssoadmin.NewFromConfig(cfg), identitystore.NewFromConfig(cfg)
}

// describe turns an SDK error into "Code: message", which is what a person needs; other
// errors keep their text. An AccessDenied also says what Gatehouse needs the action for
// and in which role's policy, from the list the setup policies are generated from.
func describe(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		msg := apiErr.ErrorCode()
		if m := apiErr.ErrorMessage(); m != "" {
			msg += ": " + m
		}
		if hint := awsperms.Explain(err); hint != "" {
			msg = strings.TrimSuffix(msg, ".") + ". " + hint
		}
		return msg
	}
	return err.Error()
}

// wrapf returns an error that reads "<what>: Code: message" and unwraps to err, so that
// a cancellation or an SDK error type can still be recognised.
func wrapf(err error, format string, args ...any) error {
	return &describedError{msg: fmt.Sprintf(format, args...) + ": " + describe(err), err: err}
}

type describedError struct {
	msg string
	err error
}

func (e *describedError) Error() string { return e.msg }
func (e *describedError) Unwrap() error { return e.err }

// errorCode returns the AWS error code of err, or "".
func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}
