package jit

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/smithy-go"

	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// approveEnding is simEnv.approve for a request of a rule with end_sessions: true.
func (e *simEnv) approveEnding(user string, target Target, d time.Duration) *Request {
	e.t.Helper()
	now := time.Now()
	req := &Request{ID: "req_" + leaseID()[6:], State: StateApproved, Requester: user + "@example.com", Target: target,
		Reason: "test", Duration: d, CreatedAt: now, UpdatedAt: now, Rule: "prod-admin", EndSessions: true,
		Policy: PolicySnapshot{Name: "test", Doc: json.RawMessage(`{"name":"test","extend":"approve_again"}`)}}
	ctx := context.Background()
	err := e.st.InTx(ctx, func(tx *store.Tx) error {
		row, err := toRow(req)
		if err != nil {
			return err
		}
		if err := tx.InsertAccessRequest(ctx, row); err != nil {
			return err
		}
		if _, err := tx.AppendRequestTransition(ctx, store.RequestTransition{RequestID: req.ID, To: string(StateApproved),
			Actor: "bob@example.com", At: now, Reason: "ok"}); err != nil {
			return err
		}
		return e.svc.grantTx(ctx, tx, req)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return req
}

// roleSession signs the user in to the simulator's access portal and gets credentials for
// the permission set in the account with the AWS SDK's portal client.
func (e *simEnv) roleSession(user, account, permissionSet string) *iam.Client {
	e.t.Helper()
	var tok *awssim.PortalToken
	var err error
	e.sim.Do(func(w *awssim.World) { tok, err = w.SignInToPortal(e.users[user]) })
	if err != nil {
		e.t.Fatal(err)
	}
	endpoint := e.sim.Info().Endpoint
	out, err := sso.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(endpoint)}).GetRoleCredentials(context.Background(),
		&sso.GetRoleCredentialsInput{AccessToken: aws.String(tok.Token), AccountId: aws.String(account), RoleName: aws.String(permissionSet)})
	if err != nil {
		e.t.Fatalf("GetRoleCredentials for %s: %v", user, err)
	}
	c := out.RoleCredentials
	return iam.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))})
}

// denial is AWS's error code and message for ListRoles with the client ("" when allowed).
func denial(c *iam.Client) string {
	_, err := c.ListRoles(context.Background(), &iam.ListRolesInput{})
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// waitAudit waits until the audit log of target has the action.
func (e *simEnv) waitAudit(target, action string, timeout time.Duration) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, a := range e.audit(target) {
			if a == action {
				return
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("no %s in the audit of %s after %s: %v", action, target, timeout, e.audit(target))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A revoke of a lease whose rule ends sessions stops the session the user started while
// it was active (AccessDenied from AWS, not merely no new sign-in), audits it, and lifts
// the deny once the session duration has passed, leaving the permission set's inline
// policy as it was; a lease of a rule without end_sessions leaves sessions and policy alone.
func TestRevokeEndsLiveSessions(t *testing.T) {
	skew, margin := sessionSkew, liftMargin
	sessionSkew, liftMargin = 0, 0
	t.Cleanup(func() { sessionSkew, liftMargin = skew, margin })
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		sim := startSim(t, awssim.Options{AssignmentDelay: 300 * time.Millisecond})
		// A session duration of seconds, so that the lift comes within the test (AWS's
		// minimum is an hour).
		var psARN, roleName string
		sim.Do(func(w *awssim.World) {
			for _, ps := range w.SSO.PermissionSets {
				if ps.Name == "AdministratorAccess" {
					ps.SessionDuration, psARN = "PT8S", ps.ARN
					roleName = awssim.ReservedSSORoleName(ps.Name, ps.ARN)
				}
			}
		})
		e := newSimEnv(t, st, sim)
		ctx := context.Background()
		admin := caller("admin@example.com", "admin")
		tb := e.target("bob", "AdministratorAccess", simProd)
		ta := e.target("alice", "AdministratorAccess", simProd)
		rb := e.approveEnding("bob", tb, time.Hour)
		ra := e.approve("alice", ta, time.Hour, "")
		e.waitState(rb.ID, StateActive, 10*time.Second)
		e.waitState(ra.ID, StateActive, 10*time.Second)
		bob, alice := e.roleSession("bob", simProd, "AdministratorAccess"), e.roleSession("alice", simProd, "AdministratorAccess")
		if d := denial(bob); d != "" {
			t.Fatalf("bob's session while the lease is active: %s", d)
		}

		if _, err := e.svc.Revoke(ctx, admin, rb.ID, "left the team"); err != nil {
			t.Fatal(err)
		}
		e.waitState(rb.ID, StateRevoked, 10*time.Second)
		lb := e.leaseRow(rb.ID)
		e.waitAudit("lease:"+lb.ID, "lease.sessions_ended", 10*time.Second)
		want := "AccessDenied: User: arn:aws:sts::" + simProd + ":assumed-role/" + roleName +
			"/bob is not authorized to perform: iam:ListRoles on resource: * with an explicit deny in an identity-based policy"
		if d := denial(bob); d != want {
			t.Errorf("bob's session after the revoke: %q\nwant %q", d, want)
		}
		var inline string
		sim.Do(func(w *awssim.World) { inline = w.SSO.PermissionSet(psARN).InlinePolicy })
		if !strings.Contains(inline, `"identitystore:UserId":"`+e.users["bob"]+`","aws:PrincipalAccount":"`+simProd+`"`) {
			t.Errorf("inline policy after the revoke: %s", inline)
		}

		// alice's lease has no end_sessions: its revoke leaves her session working.
		if _, err := e.svc.Revoke(ctx, admin, ra.ID, "done"); err != nil {
			t.Fatal(err)
		}
		e.waitState(ra.ID, StateRevoked, 10*time.Second)
		if d := denial(alice); d != "" {
			t.Errorf("alice's session after a revoke without end_sessions: %s", d)
		}

		// Once the session duration has passed, the deny goes and the policy (none, in
		// the fixture) is as it was, in the permission set and in the account's role.
		e.waitAudit("lease:"+lb.ID, "lease.session_deny_lifted", 20*time.Second)
		sim.Do(func(w *awssim.World) {
			inline = w.SSO.PermissionSet(psARN).InlinePolicy
			if r := w.Accounts[simProd].Roles[roleName]; r == nil || r.InlinePolicies["AwsSSOInlinePolicy"] != "" {
				t.Errorf("the role in %s still has an inline policy: %+v", simProd, r)
			}
		})
		if inline != "" {
			t.Errorf("inline policy after the lift: %q, want none", inline)
		}
		if got := strings.Join(e.audit("lease:"+lb.ID), ","); !strings.HasSuffix(got, ",lease.revoke,lease.end,lease.sessions_ended,lease.session_deny_lifted") {
			t.Errorf("audit of bob's lease: %s", got)
		}
		// The request's history shows both steps, after its end.
		var notes []string
		for _, tr := range e.request(rb.ID).Transitions {
			if tr.From == StateRevoked && tr.To == StateRevoked && tr.By == SystemActor {
				notes = append(notes, tr.Reason)
			}
		}
		if len(notes) != 2 || !strings.HasPrefix(notes[0], "live AWS sessions in account "+simProd+" issued before ") ||
			!strings.Contains(notes[0], " ended: a deny is in the permission set AdministratorAccess until ") ||
			notes[1] != "the deny that ended live AWS sessions was lifted from the permission set AdministratorAccess: every session it stopped has expired" {
			t.Errorf("request history notes: %q", notes)
		}
		for _, tr := range e.request(ra.ID).Transitions {
			if strings.Contains(tr.Reason, "sessions") {
				t.Errorf("alice's request history mentions sessions: %+v", tr)
			}
		}
		la := e.leaseRow(ra.ID)
		if got := strings.Join(e.audit("lease:"+la.ID), ","); strings.Contains(got, "session") || !strings.HasSuffix(got, ",lease.revoke,lease.end") {
			t.Errorf("audit of alice's lease: %s", got)
		}
	})
}
