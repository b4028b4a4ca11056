package awssim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Options configure a simulator. The zero value is a fast simulator without quotas,
// latency or faults; DefaultOptions is the realistic one.
type Options struct {
	// Latency is added to every AWS call; Jitter is a uniform random extra of up to Jitter.
	Latency time.Duration
	Jitter  time.Duration
	// FaultRate is the fraction of calls (0..1) answered with an injected fault: half of
	// them a 5xx error, half a dropped connection. Faults happen before the call changes
	// any state.
	FaultRate float64
	// Seed makes latency jitter and faults deterministic.
	Seed int64
	// PageSize, when positive, caps the size of every page of every paginated call.
	PageSize int
	// Quotas per service; nil means no throttling. See DefaultQuotas.
	Quotas Quotas
	// AssignmentDelay is how long account assignment operations stay IN_PROGRESS.
	AssignmentDelay time.Duration
	// AssignmentJitter, when positive, adds to each assignment operation a deterministic
	// pseudo-random extra of up to AssignmentJitter, so that operations do not all take
	// exactly AssignmentDelay: for grant-latency measurements (a p99 apart from the p50),
	// as AWS's operations vary.
	AssignmentJitter time.Duration
	// CredentialReportDelay is how long GenerateCredentialReport stays STARTED.
	CredentialReportDelay time.Duration
	// AccessJobDelay is how long a GenerateServiceLastAccessedDetails job stays
	// IN_PROGRESS.
	AccessJobDelay time.Duration
	// Now overrides the clock (tests).
	Now func() time.Time
	// NoUserStatus leaves UserStatus out of the Identity Store's users, as identity
	// stores and emulators that predate it do: user status is then only in SCIM.
	NoUserStatus bool
	// SessionDuration, when positive, is how long the credentials AssumeRole issues last,
	// whatever DurationSeconds asked for (AWS's minimum is 15 minutes): for tests of
	// credentials that expire during a sync.
	SessionDuration time.Duration
	// ClockSkew is how far the simulator's clock runs ahead of the Expiration it reports
	// for credentials, as AWS's clock may run ahead of a client's: credentials expire for
	// the simulator ClockSkew before the client's clock says they do.
	ClockSkew time.Duration
}

// DefaultOptions are the options `gatehouse sim` and the benchmarks use: AWS's quotas and a
// latency in the range of a real AWS API call from inside the same region.
func DefaultOptions() Options {
	return Options{
		Latency:               20 * time.Millisecond,
		Jitter:                10 * time.Millisecond,
		Quotas:                DefaultQuotas(),
		AssignmentDelay:       2 * time.Second,
		CredentialReportDelay: 2 * time.Second,
		AccessJobDelay:        5 * time.Second,
	}
}

// Sim is a running simulated AWS. Create it with New; serve it with Handler, Start or
// ListenAndServe.
type Sim struct {
	opts Options

	mu    sync.Mutex // guards world and every field of it
	world *World

	rngMu sync.Mutex
	rng   *rand.Rand

	quotas   *quotaState
	counters *Counters
	// adminToken guards the admin endpoints (see admin.go).
	adminToken string
	// adminKey signs requests as the management account's root user: the credentials
	// of the customer's own administrator, for scripts and tests that arrange or check
	// AWS state (see rootCredentials in admin.go).
	adminKey rootKey

	srv      *http.Server
	listener net.Listener
}

// New returns a simulator holding the world. A nil world gets an empty single-account
// world (see NewWorld).
func New(w *World, opts Options) *Sim {
	if w == nil {
		w = NewWorld("111111111111", "us-east-1", nil)
	}
	if opts.Now != nil {
		w.now = opts.Now
	}
	if w.SSO != nil && opts.AssignmentDelay > 0 {
		w.SSO.AssignmentDelay = opts.AssignmentDelay
	}
	if w.SSO != nil && opts.AssignmentJitter > 0 {
		w.SSO.AssignmentJitter = opts.AssignmentJitter
	}
	return &Sim{
		opts:     opts,
		world:    w,
		rng:      rand.New(rand.NewSource(opts.Seed)),
		quotas:   newQuotaState(opts.Quotas),
		counters: newCounters(),

		adminToken: newAdminToken(),
		adminKey:   newRootKey(),
	}
}

// NewWorld returns a world with one (management) account and the AWS-managed policies.
// now may be nil for the wall clock.
func NewWorld(managementAccountID, region string, now func() time.Time) *World {
	if now == nil {
		now = time.Now
	}
	w := &World{
		Region:              region,
		ManagementAccountID: managementAccountID,
		Accounts:            map[string]*Account{},
		AWSManagedPolicies:  map[string]*Policy{},
		Buckets:             map[string]*Bucket{},
		Sessions:            map[string]*Session{},
		now:                 now,
	}
	addAWSManagedPolicies(w)
	w.AddAccount(managementAccountID, "management", "aws-management@example.com", "")
	return w
}

// Do runs fn with the world locked. It is the Go API for tests and tools to read or change
// the simulated state directly.
func (s *Sim) Do(fn func(w *World)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.world.advance()
	fn(s.world)
}

// Counters returns the per-operation call counters.
func (s *Sim) Counters() *Counters { return s.counters }

// Options returns the options the simulator runs with.
func (s *Sim) Options() Options { return s.opts }

// Start serves the simulator on addr (for example "127.0.0.1:0") in the background and
// returns the base URL.
func (s *Sim) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listen on %s: %w", addr, err)
	}
	s.listener = ln
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s.URL(), nil
}

// URL is the base URL of a started simulator.
func (s *Sim) URL() string {
	if s.listener == nil {
		return ""
	}
	return "http://" + s.listener.Addr().String()
}

// Close stops a started simulator.
func (s *Sim) Close() error {
	if s.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}

// Handler returns the HTTP handler that serves every simulated service.
func (s *Sim) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// request is one AWS call being served.
type request struct {
	sim       *Sim
	w         *World
	http      *http.Request
	body      []byte
	form      url.Values // query-protocol parameters
	service   string     // signing name: iam, sts, organizations, sso, identitystore, s3
	region    string
	op        string
	caller    *Principal
	requestID string
}

func (s *Sim) serveHTTP(rw http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/_sim/"):
		s.serveAdmin(rw, r)
		return
	case strings.HasPrefix(r.URL.Path, "/scim/v2/") && !isSigV4(r):
		s.serveSCIM(rw, r)
		return
	case isPortalRequest(r):
		s.servePortal(rw, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(rw, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	q := &request{sim: s, http: r, body: body}
	q.requestID = s.newRequestID()
	auth, aerr := parseAuthorization(r)
	if aerr != nil {
		// Without a credential scope the service is unknown; answer in the query protocol,
		// which is what IAM and STS (the first services a client usually calls) speak.
		q.service = guessService(r)
		q.writeError(rw, aerr)
		return
	}
	q.service, q.region = auth.service, auth.region
	proto := protocolOf(q.service)
	if proto == nil {
		q.writeError(rw, &apiError{Status: 400, Code: "UnknownService", Message: "the simulator does not serve service " + q.service})
		return
	}
	// As in AWS, authentication comes first: an unknown key or a bad signature is reported
	// whatever the operation.
	s.mu.Lock()
	q.w = s.world
	q.caller, aerr = s.authenticate(q, auth)
	s.mu.Unlock()
	if aerr != nil {
		q.writeError(rw, aerr)
		return
	}
	q.op, aerr = proto.operation(q)
	if aerr != nil {
		q.writeError(rw, aerr)
		return
	}
	s.counters.count(q.service, q.op)

	s.sleepLatency()
	if f := s.fault(); f != "" {
		s.injectFault(rw, q, f)
		return
	}
	if !s.quotas.allow(q.service, q.op, q.quotaScope()) {
		s.injectFault(rw, q, FaultThrottle)
		return
	}

	s.mu.Lock()
	fault := q.accountFault()
	s.mu.Unlock()
	if fault != "" {
		s.injectFault(rw, q, fault)
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	q.w.advance()
	if a := q.w.Accounts[q.caller.AccountID]; a != nil && a.DenyAll && q.op != "GetCallerIdentity" {
		// DenyAll stands for a deny-all SCP, which AWS names as the reason, with the action
		// (STS actions included, which identity policies do not decide here).
		action := actionOf(q.service, q.op)
		if action == "" {
			action = q.service + ":" + q.op
		}
		q.writeError(rw, accessDeniedWhy(q.caller, action, q.resource(), "with an explicit deny in a service control policy"))
		return
	}
	if err := q.authorize(actionOf(q.service, q.op), q.resource()); err != nil {
		q.writeError(rw, err)
		return
	}
	proto.serve(q, rw)
}

// accountFault returns the fault Account.Faults sets for this call, or "". The world
// must be locked.
func (q *request) accountFault() Fault {
	id := q.caller.AccountID
	if q.service == "sts" && q.op == "AssumeRole" {
		// The account entered, not the one entering.
		if f := strings.SplitN(q.form.Get("RoleArn"), ":", 6); len(f) == 6 {
			id = f[4]
		}
	}
	a := q.w.Accounts[id]
	if a == nil || len(a.Faults) == 0 {
		return ""
	}
	if f, ok := a.Faults[q.op]; ok {
		return f
	}
	return a.Faults["*"]
}

// quotaScope is the bucket key for the call's quota: the caller's account, or the
// organization / Identity Center instance for services whose quota is shared there.
func (q *request) quotaScope() string {
	switch q.service {
	case "sso", "identitystore":
		return "identitycenter"
	case "organizations":
		return "organizations"
	}
	return q.caller.AccountID
}

// apiError is an AWS error response.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

// protocol is one wire protocol: how to find the operation and how to serve it.
type protocol struct {
	operation func(q *request) (string, *apiError)
	serve     func(q *request, rw http.ResponseWriter)
	writeErr  func(q *request, rw http.ResponseWriter, e *apiError)
}

var protocols = map[string]*protocol{}

func protocolOf(service string) *protocol { return protocols[service] }

func (q *request) writeError(rw http.ResponseWriter, e *apiError) {
	if p := protocolOf(q.service); p != nil {
		p.writeErr(q, rw, e)
		return
	}
	protocols["iam"].writeErr(q, rw, e)
}

func isSigV4(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256")
}

// guessService picks the protocol for an unsigned request from its shape.
func guessService(r *http.Request) string {
	switch {
	case strings.HasPrefix(r.Header.Get("X-Amz-Target"), "AWSOrganizations"):
		return "organizations"
	case strings.HasPrefix(r.Header.Get("X-Amz-Target"), "SWBExternalService"):
		return "sso"
	case strings.HasPrefix(r.Header.Get("X-Amz-Target"), "AWSIdentityStore"):
		return "identitystore"
	case r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		return "iam"
	case r.Method == http.MethodPost:
		return "iam"
	}
	return "s3"
}

func (s *Sim) newRequestID() string {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	b := make([]byte, 16)
	_, _ = s.rng.Read(b)
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (s *Sim) sleepLatency() {
	d := s.opts.Latency
	if s.opts.Jitter > 0 {
		s.rngMu.Lock()
		d += time.Duration(s.rng.Int63n(int64(s.opts.Jitter)))
		s.rngMu.Unlock()
	}
	if d > 0 {
		time.Sleep(d)
	}
}

// fault draws the random fault of Options.FaultRate for one request: "" for none, else
// FaultServerError or FaultDrop.
func (s *Sim) fault() Fault {
	if s.opts.FaultRate <= 0 {
		return ""
	}
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	if s.rng.Float64() >= s.opts.FaultRate {
		return ""
	}
	if s.rng.Intn(2) == 0 {
		return FaultServerError
	}
	return FaultDrop
}

// injectFault answers an AWS API request with the fault f and counts it: a throttle as
// throttled, the others as faults.
func (s *Sim) injectFault(rw http.ResponseWriter, q *request, f Fault) {
	switch f {
	case FaultDrop:
		s.counters.fault(q.service, q.op)
		dropConnection(rw)
	case FaultThrottle:
		s.counters.throttle(q.service, q.op)
		q.writeError(rw, throttlingError(q.service))
	default:
		s.counters.fault(q.service, q.op)
		q.writeError(rw, internalError(q.service))
	}
}

// dropConnection closes the connection without a response, as a network failure would.
func dropConnection(rw http.ResponseWriter) {
	if hj, ok := rw.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func internalError(service string) *apiError {
	switch service {
	case "iam", "sts":
		return &apiError{Status: 500, Code: "ServiceFailure", Message: "The request processing has failed because of an unknown error, exception or failure."}
	case "s3":
		return &apiError{Status: 500, Code: "InternalError", Message: "We encountered an internal error. Please try again."}
	case "organizations":
		return &apiError{Status: 500, Code: "ServiceException", Message: "AWS Organizations can't complete your request because of an internal service error. Try again later."}
	}
	return &apiError{Status: 500, Code: "InternalServerException", Message: "The request processing has failed because of an unknown error, exception or failure."}
}

func throttlingError(service string) *apiError {
	switch service {
	case "iam", "sts":
		return &apiError{Status: 400, Code: "Throttling", Message: "Rate exceeded"}
	case "s3":
		return &apiError{Status: 503, Code: "SlowDown", Message: "Please reduce your request rate."}
	case "organizations":
		return &apiError{Status: 400, Code: "TooManyRequestsException", Message: "AWS Organizations can't complete your request because another request is already in progress or the request rate is too high. Try again later."}
	}
	return &apiError{Status: 400, Code: "ThrottlingException", Message: "Rate exceeded"}
}

// readAllLimited is used by protocols that decode bodies.
func readAllLimited(r io.Reader) ([]byte, error) {
	var buf bytes.Buffer
	_, err := io.Copy(&buf, io.LimitReader(r, 64<<20))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf.Bytes(), nil
}

// advance completes asynchronous work whose time has come (assignment operations,
// credential reports).
func (w *World) advance() {
	if w.SSO != nil {
		w.advanceAssignments()
	}
	w.advanceCredentialReports()
}
