package awsprovision

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/smithy-go"

	"github.com/gatehouse/gatehouse/internal/awssim"
)

// The statement is spliced into the inline policy and taken out again so that the rest
// of the document stays byte for byte what it was, whatever its layout.
func TestSessionDenyEditsLeaveThePolicyByteForByte(t *testing.T) {
	a := AccountAssignment{AccountID: "333333333333", PermissionSet: "ps-0123456789abcdef", PrincipalType: PrincipalUser,
		PrincipalID: "9067729b3d-94f1e2a4-2b47-4d43-9d5c-c4a1b0e2f001"}
	revoked := time.Date(2026, 12, 3, 11, 0, 0, 250e6, time.UTC)
	d := newSessionDeny(a, revoked)
	other := newSessionDeny(a, revoked.Add(time.Hour))
	stmt := d.statement(false)
	want := `{"Sid":"` + d.sid() + `","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"identitystore:UserId":"9067729b3d-94f1e2a4-2b47-4d43-9d5c-c4a1b0e2f001","aws:PrincipalAccount":"333333333333"},"DateLessThan":{"aws:TokenIssueTime":"2026-12-03T11:00:01Z"}}}`
	if stmt != want {
		t.Errorf("statement:\n%s\nwant\n%s", stmt, want)
	}
	if !strings.HasPrefix(d.sid(), "GatehouseEndSessions") || len(d.sid()) != len("GatehouseEndSessions")+16 || d.sid() == other.sid() {
		t.Errorf("sids %s and %s: want GatehouseEndSessions and 16 hex digits, different per revoke", d.sid(), other.sid())
	}

	for _, tc := range []struct{ name, doc, added string }{
		{"empty", "", `{"Version":"2012-10-17","Statement":[` + stmt + `]}`},
		{"compact list", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}`,
			`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"},` + stmt + `]}`},
		{"pretty list", "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Deny\",\n      \"Action\": \"iam:*\",\n      \"Resource\": \"*\"\n    }\n  ]\n}\n",
			"{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Deny\",\n      \"Action\": \"iam:*\",\n      \"Resource\": \"*\"\n    }," + stmt + "\n  ]\n}\n"},
		{"single object", "{\"Statement\" : {\"Effect\":\"Allow\",\"Action\":\"s3:Get*\",\"Resource\":\"*\"}, \"Version\":\"2012-10-17\"}",
			"{\"Statement\" : [{\"Effect\":\"Allow\",\"Action\":\"s3:Get*\",\"Resource\":\"*\"}," + d.statement(true) + "], \"Version\":\"2012-10-17\"}"},
	} {
		added, changed, err := d.addTo(tc.doc)
		if err != nil || !changed || added != tc.added {
			t.Errorf("%s: add = %v %v\n%s\nwant\n%s", tc.name, changed, err, added, tc.added)
			continue
		}
		if again, changed, err := d.addTo(added); err != nil || changed || again != added {
			t.Errorf("%s: adding twice changed the policy (%v %v)", tc.name, changed, err)
		}
		// Another revoke's statement added after, and removed first or last.
		both, _, _ := other.addTo(added)
		for _, order := range [][]sessionDeny{{d, other}, {other, d}} {
			doc := both
			for _, x := range order {
				var err error
				if doc, changed, err = x.removeFrom(doc); err != nil || !changed {
					t.Fatalf("%s: remove: %v %v", tc.name, changed, err)
				}
			}
			if doc != tc.doc {
				t.Errorf("%s: after both lifts:\n%q\nwant the original\n%q", tc.name, doc, tc.doc)
			}
		}
		removed, changed, err := d.removeFrom(added)
		if err != nil || !changed || removed != tc.doc {
			t.Errorf("%s: remove = %v %v\n%q\nwant the original\n%q", tc.name, changed, err, removed, tc.doc)
		}
		if _, changed, _ := d.removeFrom(removed); changed {
			t.Errorf("%s: removing an absent statement changed the policy", tc.name)
		}
	}
	for _, bad := range []string{`not json`, `{"Version":"2012-10-17"}`, `{"Statement":"x"}`} {
		if _, _, err := d.addTo(bad); err == nil {
			t.Errorf("add to %q: no error", bad)
		}
	}
}

// sessionClock is the simulator's clock for the sessions test: the fixture's date, moving
// with the wall clock, plus what the test skips ahead.
type sessionClock struct {
	mu     sync.Mutex
	base   time.Time
	start  time.Time
	offset time.Duration
}

func (c *sessionClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.base.Add(time.Since(c.start) + c.offset)
}

func (c *sessionClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// portalSession signs the user in to the simulator's access portal and gets credentials
// for the permission set in the account with the SDK's portal client, as the AWS CLI's
// `aws sso login` and credential process do; it returns an IAM client signed with them.
func (w *world) portalSession(t *testing.T, userID, account, permissionSet string) *iam.Client {
	t.Helper()
	var tok *awssim.PortalToken
	var err error
	w.sim.Do(func(sw *awssim.World) { tok, err = sw.SignInToPortal(userID) })
	if err != nil {
		t.Fatal(err)
	}
	out, err := sso.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(w.info.Endpoint)}).GetRoleCredentials(context.Background(),
		&sso.GetRoleCredentialsInput{AccessToken: aws.String(tok.Token), AccountId: aws.String(account), RoleName: aws.String(permissionSet)})
	if err != nil {
		t.Fatalf("GetRoleCredentials(%s, %s): %v", account, permissionSet, err)
	}
	c := out.RoleCredentials
	return iam.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(w.info.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))})
}

// listRoles makes a call the permission set allows and returns AWS's error code and
// message ("" when allowed).
func listRoles(c *iam.Client) (string, string) {
	_, err := c.ListRoles(context.Background(), &iam.ListRolesInput{})
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode(), ae.ErrorMessage()
	}
	if err != nil {
		return "error", err.Error()
	}
	return "", ""
}

// The whole method against the simulator over HTTP, with the SDK's own clients: a
// session issued before the revoke is denied once EndSessions returns, while the same
// user's session issued after it, another user's session and the same user's session in
// another account keep working; the lift removes exactly the added statement and leaves
// the rest of the inline policy byte for byte.
func TestEndSessionsDeniesOnlySessionsIssuedBeforeTheRevoke(t *testing.T) {
	fixtureNow, _ := time.Parse(time.RFC3339, awssim.DefaultFixtureNow)
	clock := &sessionClock{base: fixtureNow, start: time.Now()}
	// The connector's own credentials outlast the hour the test skips ahead.
	w := serve(t, awssim.Options{AssignmentDelay: 20 * time.Millisecond, Now: clock.Now, SessionDuration: 12 * time.Hour})
	original := "{\n\t\"Version\": \"2012-10-17\",\n\t\"Statement\": [\n\t\t{\"Sid\": \"NoBucketDeletes\", \"Effect\": \"Deny\", \"Action\": \"s3:DeleteBucket\", \"Resource\": \"*\"}\n\t]\n}\n"
	var psARN, roleName string
	w.sim.Do(func(sw *awssim.World) {
		for _, ps := range sw.SSO.PermissionSets {
			if ps.Name == "AdministratorAccess" {
				ps.InlinePolicy, psARN = original, ps.ARN
				roleName = awssim.ReservedSSORoleName(ps.Name, ps.ARN)
			}
		}
	})
	p := w.provisioner(t, Options{})
	ctx := context.Background()
	bob, alice := w.users["bob"], w.users["alice"]
	bobStaging := AccountAssignment{AccountID: "333333333333", PermissionSet: w.ps["AdministratorAccess"], PrincipalType: PrincipalUser, PrincipalID: bob}
	for _, a := range []AccountAssignment{bobStaging,
		{AccountID: "333333333333", PermissionSet: w.ps["AdministratorAccess"], PrincipalType: PrincipalUser, PrincipalID: alice},
		{AccountID: "222222222222", PermissionSet: w.ps["AdministratorAccess"], PrincipalType: PrincipalUser, PrincipalID: bob}} {
		if _, err := p.Grant(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	bobOld := w.portalSession(t, bob, "333333333333", "AdministratorAccess")
	aliceOld := w.portalSession(t, alice, "333333333333", "AdministratorAccess")
	bobProd := w.portalSession(t, bob, "222222222222", "AdministratorAccess")
	if code, msg := listRoles(bobOld); code != "" {
		t.Fatalf("bob's session before the revoke: %s %s", code, msg)
	}

	revokedAt := clock.Now()
	if _, err := p.Revoke(ctx, bobStaging); err != nil {
		t.Fatal(err)
	}
	// Deleting the assignment alone leaves the session working: this is what EndSessions is for.
	if code, msg := listRoles(bobOld); code != "" {
		t.Fatalf("bob's session right after the assignment was deleted: %s %s", code, msg)
	}
	res, err := p.EndSessions(ctx, bobStaging, revokedAt)
	if err != nil {
		t.Fatalf("EndSessions: %v", err)
	}
	if res.Outcome != Created || res.SessionDuration != time.Hour || res.Action != ActionEndSessions {
		t.Errorf("EndSessions: outcome %q, session duration %s, action %s; want created, 1h", res.Outcome, res.SessionDuration, res.Action)
	}
	var ops []string
	for _, c := range res.Calls {
		if c.ErrorCode != "" || c.RequestID == "" {
			t.Errorf("call %s: error %q, request id %q", c.Action(), c.ErrorCode, c.RequestID)
		}
		ops = append(ops, c.Operation)
	}
	if got, want := strings.Join(ops, " "), "DescribePermissionSet GetInlinePolicyForPermissionSet ListAccountsForProvisionedPermissionSet PutInlinePolicyToPermissionSet ProvisionPermissionSet DescribePermissionSetProvisioningStatus GetInlinePolicyForPermissionSet GetInlinePolicyForPermissionSet ListAccountsForProvisionedPermissionSet"; got != want {
		t.Errorf("calls: %s\nwant %s", got, want)
	}

	wantDenied := "User: arn:aws:sts::333333333333:assumed-role/" + roleName + "/bob is not authorized to perform: iam:ListRoles on resource: * with an explicit deny in an identity-based policy"
	if code, msg := listRoles(bobOld); code != "AccessDenied" || msg != wantDenied {
		t.Errorf("bob's session issued before the revoke: %s %s\nwant AccessDenied %s", code, msg, wantDenied)
	}
	if code, msg := listRoles(aliceOld); code != "" {
		t.Errorf("alice's session of the same permission set and account: %s %s", code, msg)
	}
	if code, msg := listRoles(bobProd); code != "" {
		t.Errorf("bob's session of the same permission set in another account: %s %s", code, msg)
	}

	// A new grant later: the session bob starts then works, the deny still in place.
	clock.Advance(2 * time.Second)
	if _, err := p.Grant(ctx, bobStaging); err != nil {
		t.Fatal(err)
	}
	bobNew := w.portalSession(t, bob, "333333333333", "AdministratorAccess")
	if code, msg := listRoles(bobNew); code != "" {
		t.Errorf("bob's session issued after the revoke: %s %s", code, msg)
	}

	// Idempotent: the same call again writes nothing.
	again, err := p.EndSessions(ctx, bobStaging, revokedAt)
	if err != nil || again.Outcome != AlreadyExisted {
		t.Errorf("EndSessions again: %v %v, want already existed", again.Outcome, err)
	}
	for _, c := range again.Calls {
		if c.Operation == "PutInlinePolicyToPermissionSet" || c.Operation == "ProvisionPermissionSet" {
			t.Errorf("EndSessions again called %s", c.Operation)
		}
	}
	var inline, roleInline string
	w.sim.Do(func(sw *awssim.World) {
		inline = sw.SSO.PermissionSet(psARN).InlinePolicy
		roleInline = sw.Accounts["333333333333"].Roles[roleName].InlinePolicies["AwsSSOInlinePolicy"]
	})
	d := newSessionDeny(bobStaging, revokedAt)
	if want, _, _ := d.addTo(original); inline != want || roleInline != want {
		t.Errorf("inline policy with the deny:\n%s\nrole's:\n%s\nwant\n%s", inline, roleInline, want)
	}

	// After the session duration, the lift gives back the original policy, byte for byte,
	// in the permission set and in every account's role; the old session has expired.
	clock.Advance(time.Hour + time.Second)
	if code, _ := listRoles(bobOld); code != "ExpiredToken" {
		t.Errorf("bob's old session after the session duration: %s, want ExpiredToken", code)
	}
	lift, err := p.LiftSessionDeny(ctx, bobStaging, revokedAt)
	if err != nil || lift.Outcome != Removed {
		t.Fatalf("LiftSessionDeny: %v %v", lift, err)
	}
	w.sim.Do(func(sw *awssim.World) {
		inline = sw.SSO.PermissionSet(psARN).InlinePolicy
		for _, acct := range []string{"222222222222", "333333333333"} {
			if got := sw.Accounts[acct].Roles[roleName].InlinePolicies["AwsSSOInlinePolicy"]; got != original {
				t.Errorf("role's inline policy in %s after the lift:\n%q\nwant\n%q", acct, got, original)
			}
		}
	})
	if inline != original {
		t.Errorf("inline policy after the lift:\n%q\nwant the original\n%q", inline, original)
	}
	if res, err := p.LiftSessionDeny(ctx, bobStaging, revokedAt); err != nil || res.Outcome != AlreadyAbsent {
		t.Errorf("LiftSessionDeny again: %v %v, want already absent", res, err)
	}
}

// A deny that would not fit writes nothing and says what to do; a group's sessions
// cannot be ended by AWS's method.
func TestEndSessionsRefusals(t *testing.T) {
	w := serve(t, awssim.Options{AssignmentDelay: 20 * time.Millisecond})
	var stmts []string
	for len(strings.Join(stmts, ",")) < 10100 {
		stmts = append(stmts, `{"Effect":"Deny","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::a-bucket-with-a-long-name-`+strings.Repeat("x", 30)+`/*"}`)
	}
	full := `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
	var psARN string
	w.sim.Do(func(sw *awssim.World) {
		for _, ps := range sw.SSO.PermissionSets {
			if ps.Name == "Developer" {
				ps.InlinePolicy, psARN = full, ps.ARN
			}
		}
	})
	p := w.provisioner(t, Options{})
	a := AccountAssignment{AccountID: "333333333333", PermissionSet: w.ps["Developer"], PrincipalType: PrincipalUser, PrincipalID: w.users["bob"]}
	if n := policySize(full); n > maxRolePolicySize || n+len(newSessionDeny(a, time.Now()).statement(false)) <= maxRolePolicySize {
		t.Fatalf("the test policy has %d characters; it must fit and leave no room for the deny", n)
	}
	res, err := p.EndSessions(context.Background(), a, time.Now())
	if KindOf(err) != KindFailed || !strings.Contains(err.Error(), "the deny does not fit in the inline policy of permission set Developer") ||
		!strings.Contains(err.Error(), "Nothing was changed: those sessions stay valid until they expire, at most 4h after they were issued") {
		t.Errorf("EndSessions with a full inline policy: %v", err)
	}
	for _, c := range res.Calls {
		if c.Operation == "PutInlinePolicyToPermissionSet" || c.Operation == "ProvisionPermissionSet" {
			t.Errorf("a deny that does not fit still called %s", c.Operation)
		}
	}
	w.sim.Do(func(sw *awssim.World) {
		if got := sw.SSO.PermissionSet(psARN).InlinePolicy; got != full {
			t.Errorf("the inline policy changed (%d bytes)", len(got))
		}
	})

	group := AccountAssignment{AccountID: "222222222222", PermissionSet: w.ps["ReadOnly"], PrincipalType: PrincipalGroup, PrincipalID: w.group["Developers"]}
	if _, err := p.EndSessions(context.Background(), group, time.Now()); KindOf(err) != KindWrongPrincipal || !strings.Contains(err.Error(), "end the sessions of each member instead") {
		t.Errorf("EndSessions of a group: %v, want KindWrongPrincipal", err)
	}
}

// Another writer of the inline policy (another replica, a person in the console) may
// overwrite it between Gatehouse's write and its provisioning: AWS has no conditional
// write. The check after provisioning finds the statement gone and makes the change again.
func TestEndSessionsWritesAgainWhenAnotherWriterOverwrote(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	fw, err := awssim.LoadFixture(filepath.Join("..", "awssim", "testdata", "provisioning.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sim := awssim.New(fw, awssim.Options{AssignmentDelay: 20 * time.Millisecond})
	const other = `{"Version":"2012-10-17","Statement":[{"Sid":"SomeoneElse","Effect":"Deny","Action":"s3:*","Resource":"*"}]}`
	var psARN string
	sim.Do(func(sw *awssim.World) {
		for _, ps := range sw.SSO.PermissionSets {
			if ps.Name == "Developer" {
				psARN = ps.ARN
			}
		}
	})
	// The other writer puts its own policy just before Gatehouse's first provisioning.
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".ProvisionPermissionSet") {
			once.Do(func() { sim.Do(func(sw *awssim.World) { sw.SSO.PermissionSet(psARN).InlinePolicy = other }) })
		}
		sim.Handler().ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	w := &world{sim: sim, info: sim.Info(), users: map[string]string{}, ps: map[string]string{}}
	w.info.Endpoint = srv.URL
	sim.Do(func(sw *awssim.World) {
		for _, u := range sw.SSO.Users {
			w.users[u.UserName] = u.ID
		}
	})
	p := w.provisioner(t, Options{})
	a := AccountAssignment{AccountID: "333333333333", PermissionSet: psARN, PrincipalType: PrincipalUser, PrincipalID: w.users["bob"]}
	revokedAt := time.Now()
	res, err := p.EndSessions(context.Background(), a, revokedAt)
	if err != nil || res.Outcome != Created {
		t.Fatalf("EndSessions: %v %v", res, err)
	}
	if !slices.Contains(res.Notes, "the inline policy was changed by another writer after Gatehouse wrote it: written again") {
		t.Errorf("notes %q: want the rewrite noted", res.Notes)
	}
	puts := 0
	for _, c := range res.Calls {
		if c.Operation == "PutInlinePolicyToPermissionSet" {
			puts++
		}
	}
	var inline string
	sim.Do(func(sw *awssim.World) { inline = sw.SSO.PermissionSet(psARN).InlinePolicy })
	want, _, _ := newSessionDeny(a, revokedAt).addTo(other)
	if puts != 2 || inline != want {
		t.Errorf("%d puts; inline policy:\n%s\nwant the other writer's with the deny:\n%s", puts, inline, want)
	}
}
