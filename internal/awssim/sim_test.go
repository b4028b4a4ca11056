package awssim

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestSigV4Failures(t *testing.T) {
	w := testWorld(t)
	s, _ := startSim(t, w, Options{})

	bad := testConfig(s.URL(), "us-east-1", mustKey(t, s), "not-the-secret", "")
	_, err := sts.NewFromConfig(bad).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	if apiCode(err) != "SignatureDoesNotMatch" {
		t.Errorf("wrong secret: err = %v, want SignatureDoesNotMatch", err)
	}

	unknown := testConfig(s.URL(), "us-east-1", "AKIAUNKNOWNUNKNOWN00", "secret", "")
	_, err = iam.NewFromConfig(unknown).ListUsers(ctx(t), &iam.ListUsersInput{})
	if apiCode(err) != "InvalidClientTokenId" {
		t.Errorf("unknown key (IAM): err = %v, want InvalidClientTokenId", err)
	}
	_, err = organizations.NewFromConfig(unknown).ListAccounts(ctx(t), &organizations.ListAccountsInput{})
	if apiCode(err) != "UnrecognizedClientException" {
		t.Errorf("unknown key (Organizations): err = %v, want UnrecognizedClientException", err)
	}

	resp, err := http.Post(s.URL()+"/", "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("unsigned request: status %d, want 403", resp.StatusCode)
	}
}

func mustKey(t *testing.T, s *Sim) string {
	var id string
	s.Do(func(w *World) { id = w.Connector.AccessKeyID })
	return id
}

func TestExpiredSessionAndRoleChaining(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	w := NewWorld("111111111111", "us-east-1", clock)
	w.EnableOrganization()
	member := w.AddAccount("222222222222", "member", "member@example.com", "")
	w.AddMemberAccessRole(member, OrganizationAccessRoleName)
	w.AddConnectorAccess("ext", "")
	s, cfg := startSim(t, w, Options{Now: clock})

	c := sts.NewFromConfig(cfg)
	out, err := c.AssumeRole(ctx(t), &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::111111111111:role/GatehouseConnector"), RoleSessionName: aws.String("gh"), ExternalId: aws.String("ext")})
	if err != nil {
		t.Fatal(err)
	}
	cr := out.Credentials
	conn := testConfig(s.URL(), "us-east-1", *cr.AccessKeyId, *cr.SecretAccessKey, *cr.SessionToken)
	// Role chaining: from the connector role into the member account's access role.
	out2, err := sts.NewFromConfig(conn).AssumeRole(ctx(t), &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("gh")})
	if err != nil {
		t.Fatal(err)
	}
	memberCfg := testConfig(s.URL(), "us-east-1", *out2.Credentials.AccessKeyId, *out2.Credentials.SecretAccessKey, *out2.Credentials.SessionToken)
	id, err := sts.NewFromConfig(memberCfg).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(id.Arn); got != "arn:aws:sts::222222222222:assumed-role/OrganizationAccountAccessRole/gh" {
		t.Errorf("chained caller = %s", got)
	}
	// The operator user is not trusted by the member role (it trusts the management
	// account, and the operator's own policy allows only the connector role).
	_, err = c.AssumeRole(ctx(t), &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("gh")})
	if apiCode(err) != "AccessDenied" {
		t.Errorf("operator into member role: err = %v, want AccessDenied", err)
	}

	now = now.Add(2 * time.Hour)
	_, err = sts.NewFromConfig(conn).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	if apiCode(err) != "ExpiredToken" {
		t.Errorf("after expiry: err = %v, want ExpiredToken", err)
	}
}

func TestThrottlingUsesTheServiceErrorAndCounts(t *testing.T) {
	w := testWorld(t)
	s, cfg := startSim(t, w, Options{Quotas: Quotas{"sts": {Rate: 0.001, Burst: 2}}})
	cfg.RetryMaxAttempts = 1
	c := sts.NewFromConfig(cfg)
	var codes []string
	for i := 0; i < 3; i++ {
		_, err := c.GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
		codes = append(codes, apiCode(err))
	}
	if codes[0] != "" || codes[1] != "" || codes[2] != "Throttling" {
		t.Errorf("error codes = %q, want two successes then Throttling", codes)
	}
	snap := s.Counters().Snapshot()
	if len(snap) != 1 || snap[0].Calls != 3 || snap[0].Throttled != 1 || snap[0].Operation != "GetCallerIdentity" {
		t.Errorf("counters = %+v", snap)
	}
}

func TestFaultsAreRetriedByTheSDK(t *testing.T) {
	w := testWorld(t)
	s, cfg := startSim(t, w, Options{FaultRate: 0.3, Seed: 7})
	cfg.RetryMaxAttempts = 10
	c := sts.NewFromConfig(cfg)
	for i := 0; i < 30; i++ {
		if _, err := c.GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatalf("call %d failed despite retries: %v", i, err)
		}
	}
	snap := s.Counters().Snapshot()
	if snap[0].Faults == 0 || snap[0].Calls != 30+snap[0].Faults {
		t.Errorf("counters = %+v: want faults > 0 and calls = 30 + faults", snap)
	}
}

func TestEveryCallFaultsAtRateOne(t *testing.T) {
	w := testWorld(t)
	_, cfg := startSim(t, w, Options{FaultRate: 1})
	cfg.RetryMaxAttempts = 2
	_, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	if err == nil {
		t.Fatal("want an error when every call faults")
	}
}

func TestAdminCounters(t *testing.T) {
	w := testWorld(t)
	s, cfg := startSim(t, w, Options{})
	for i := 0; i < 2; i++ {
		if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/_sim/counters", nil)
	req.Header.Set("Authorization", "Bearer "+s.AdminToken())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Total      int64     `json:"total"`
		Operations []OpCount `json:"operations"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body.Total != 2 || len(body.Operations) != 1 || body.Operations[0] != (OpCount{Service: "sts", Operation: "GetCallerIdentity", Calls: 2}) {
		t.Errorf("counters = %+v", body)
	}
}

func TestDenyAllAccountAndMissingPermission(t *testing.T) {
	w := testWorld(t)
	s, cfg := startSim(t, w, Options{})
	conn := cfg.Copy()
	conn.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), "arn:aws:iam::111111111111:role/GatehouseConnector", func(o *stscreds.AssumeRoleOptions) {
		o.ExternalID = aws.String("ext-123")
	}))
	// The read-only connector policy has no iam:CreateUser.
	_, err := iam.NewFromConfig(conn).CreateUser(ctx(t), &iam.CreateUserInput{UserName: aws.String("mallory")})
	if apiCode(err) != "AccessDenied" {
		t.Fatalf("CreateUser: err = %v, want AccessDenied", err)
	}
	var ae interface{ ErrorMessage() string }
	if errors.As(err, &ae) && !containsAll(ae.ErrorMessage(), "iam:CreateUser", "assumed-role/GatehouseConnector") {
		t.Errorf("AccessDenied message %q should name the action and the caller", ae.ErrorMessage())
	}
	s.Do(func(w *World) { w.ManagementAccount().DenyAll = true })
	_, err = iam.NewFromConfig(conn).ListUsers(ctx(t), &iam.ListUsersInput{})
	if apiCode(err) != "AccessDenied" {
		t.Errorf("ListUsers in a deny-all account: err = %v, want AccessDenied", err)
	}
	if errors.As(err, &ae) && !containsAll(ae.ErrorMessage(), "is not authorized to perform: iam:ListUsers", "with an explicit deny in a service control policy") {
		t.Errorf("deny-all message %q should name the action and the SCP", ae.ErrorMessage())
	}
	// STS calls too: the action is named although identity policies do not decide it here.
	op := cfg
	_, err = sts.NewFromConfig(op).AssumeRole(ctx(t), &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::111111111111:role/GatehouseConnector"),
		RoleSessionName: aws.String("s"), ExternalId: aws.String("ext-123")})
	if errors.As(err, &ae) && !contains(ae.ErrorMessage(), "is not authorized to perform: sts:AssumeRole on resource") {
		t.Errorf("deny-all AssumeRole message %q should name sts:AssumeRole", ae.ErrorMessage())
	} else if err == nil {
		t.Error("AssumeRole in a deny-all account succeeded")
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !contains(s, sub) {
			return false
		}
	}
	return true
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// The admin endpoints hand out the operator's secret key and the SCIM token: without the
// admin token they answer 401 and nothing else, whatever the endpoint.
func TestAdminEndpointsNeedTheToken(t *testing.T) {
	w := testWorld(t)
	s, _ := startSim(t, w, Options{})
	if len(s.AdminToken()) != 64 {
		t.Fatalf("admin token %q, want 64 hex characters", s.AdminToken())
	}
	if other := New(testWorld(t), Options{}); other.AdminToken() == s.AdminToken() {
		t.Errorf("two simulators share the admin token %s", s.AdminToken())
	}
	call := func(method, path, auth string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, s.URL()+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	var key, secret string
	s.Do(func(w *World) { key, secret = w.Connector.AccessKeyID, w.Connector.SecretAccessKey })
	for _, tc := range []struct{ method, path, auth string }{
		{"GET", "/_sim/info", ""},
		{"GET", "/_sim/counters", ""},
		{"POST", "/_sim/counters/reset", ""},
		{"GET", "/_sim/nothing", ""},
		{"GET", "/_sim/info", "Bearer wrong-token"},
		{"GET", "/_sim/info", "Bearer " + s.AdminToken()[:63]},
		{"GET", "/_sim/info", s.AdminToken()},
		{"GET", "/_sim/info", "Basic " + s.AdminToken()},
	} {
		status, body := call(tc.method, tc.path, tc.auth)
		if status != http.StatusUnauthorized || strings.Contains(body, secret) || strings.Contains(body, key) ||
			!strings.Contains(body, "admin_token") {
			t.Errorf("%s %s with %q: %d %s; want 401 naming admin_token and no secret", tc.method, tc.path, tc.auth, status, body)
		}
	}
	status, body := call("GET", "/_sim/info", "Bearer "+s.AdminToken())
	var info Info
	if err := json.Unmarshal([]byte(body), &info); status != 200 || err != nil || info.SecretAccessKey != secret || info.AdminToken != s.AdminToken() {
		t.Errorf("GET /_sim/info with the token: %d %s", status, body)
	}
}

// A request that names a real access key but is not signed with its secret must not
// count as a use of the key: IAM records last use only for authenticated requests.
func TestForgedRequestDoesNotUpdateKeyLastUsed(t *testing.T) {
	w := testWorld(t)
	s, cfg := startSim(t, w, Options{})
	var key string
	var before time.Time
	s.Do(func(w *World) {
		_, _, k := w.UserByAccessKey(w.Connector.AccessKeyID)
		key, before = k.ID, k.LastUsedDate
	})
	forged := testConfig(s.URL(), "us-east-1", key, "not-the-secret", "")
	if _, err := sts.NewFromConfig(forged).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{}); apiCode(err) != "SignatureDoesNotMatch" {
		t.Fatalf("forged request: err = %v, want SignatureDoesNotMatch", err)
	}
	if _, err := organizations.NewFromConfig(forged).ListAccounts(ctx(t), &organizations.ListAccountsInput{}); apiCode(err) != "InvalidSignatureException" {
		t.Fatalf("forged Organizations request: err = %v, want InvalidSignatureException", err)
	}
	s.Do(func(w *World) {
		_, _, k := w.UserByAccessKey(key)
		if !k.LastUsedDate.Equal(before) || k.LastUsedService != "" {
			t.Errorf("after forged requests the key was last used %v with %q; want unchanged %v", k.LastUsedDate, k.LastUsedService, before)
		}
	})
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	s.Do(func(w *World) {
		_, _, k := w.UserByAccessKey(key)
		if k.LastUsedDate.IsZero() || k.LastUsedService != "sts" || k.LastUsedRegion != "us-east-1" {
			t.Errorf("after a signed request the key was last used %v with %q in %q; want now, sts, us-east-1", k.LastUsedDate, k.LastUsedService, k.LastUsedRegion)
		}
	})
}

// The credential scope's region is checked as AWS checks it: IAM and Organizations are
// global services whose endpoints sign in us-east-1 only ("Credential should be scoped to
// a valid region, not 'eu-west-1'."); regional services take any region of the
// partition, and no service takes a region that does not exist.
func TestCredentialScopeRegion(t *testing.T) {
	w := testWorld(t)
	s, _ := startSim(t, w, Options{})
	var key, secret string
	s.Do(func(w *World) { key, secret = w.Connector.AccessKeyID, w.Connector.SecretAccessKey })
	in := func(region string) aws.Config { return testConfig(s.URL(), region, key, secret, "") }

	_, err := iam.NewFromConfig(in("eu-west-1")).ListUsers(ctx(t), &iam.ListUsersInput{})
	if apiCode(err) != "SignatureDoesNotMatch" || !strings.Contains(err.Error(), "Credential should be scoped to a valid region, not 'eu-west-1'") {
		t.Errorf("IAM signed for eu-west-1: err = %v, want SignatureDoesNotMatch: Credential should be scoped to a valid region", err)
	}
	_, err = organizations.NewFromConfig(in("eu-west-1")).DescribeOrganization(ctx(t), &organizations.DescribeOrganizationInput{})
	if apiCode(err) != "InvalidSignatureException" || !strings.Contains(err.Error(), "Credential should be scoped to a valid region, not 'eu-west-1'") {
		t.Errorf("Organizations signed for eu-west-1: err = %v, want InvalidSignatureException: Credential should be scoped to a valid region", err)
	}
	_, err = sts.NewFromConfig(in("eu-nowhere-1")).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	if apiCode(err) != "SignatureDoesNotMatch" || !strings.Contains(err.Error(), "not 'eu-nowhere-1'") {
		t.Errorf("STS signed for a region that does not exist: err = %v, want SignatureDoesNotMatch", err)
	}
	if _, err := sts.NewFromConfig(in("eu-west-1")).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("STS is regional, eu-west-1 must be accepted: %v", err)
	}
	if _, err := iam.NewFromConfig(in("us-east-1")).GetUser(ctx(t), &iam.GetUserInput{}); err != nil && apiCode(err) != "AccessDenied" {
		t.Errorf("IAM signed for us-east-1: %v", err)
	}
}
