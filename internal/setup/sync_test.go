package setup

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/awsperms"
	"github.com/gatehouse/gatehouse/internal/awssim"
)

// syncFeatures is everything a sync can read.
var syncFeatures = awsperms.Set{Orgs: true, IdentityCenter: true, SyncSecrets: true, SCIM: true}

// installGenerated replaces the simulated organization's Gatehouse access with what
// setup generated, as an administrator applying the templates would: the connector role
// holds only the generated trust and permissions policies, and every active member
// account gets the member role with only the generated member policies.
func installGenerated(t *testing.T, w *awssim.World, b *Bundle) {
	t.Helper()
	w.AddConnectorAccess(b.ExternalID, string(b.Permissions.JSON()))
	connector := w.ManagementAccount().Roles[awssim.ConnectorRoleName]
	connector.AssumeRolePolicy = string(b.Trust.JSON())
	if connector.ARN != b.ConnectorRoleARN {
		t.Fatalf("the simulator's connector role is %s, setup generated %s", connector.ARN, b.ConnectorRoleARN)
	}
	path, name := b.memberPath()
	for _, id := range w.AccountIDs() {
		a := w.Accounts[id]
		if id == w.ManagementAccountID || a.Status != "ACTIVE" {
			continue
		}
		delete(a.Roles, awssim.DefaultMemberRoleName)
		role := a.AddRole(w, name, path, string(b.MemberTrust.JSON()))
		role.InlinePolicies[MemberPolicyName] = string(b.MemberPermissions.JSON())
	}
}

// policyActions returns the actions of a generated policy, without gatehouse doctor's
// self-check statement (no sync calls it).
func policyActions(t *testing.T, doc []byte) []string {
	t.Helper()
	var p awsperms.Policy
	if err := json.Unmarshal(doc, &p); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, st := range p.Statement {
		if st.Sid == "DoctorSelfCheck" {
			continue
		}
		out = append(out, st.Action...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// The generated permissions are exactly what the sync calls. A simulated organization
// whose connector role holds only the generated policy, and whose member roles hold only
// the generated member policy, passes full syncs (every feature, both ways of listing
// Identity Center assignments) with no account skipped, which the simulator, enforcing
// identity policies on every call, would not allow if an action were missing. Then every
// operation called maps to an action of the right role's policy, and every action of the
// policies was called: nothing is missing and nothing is spare.
func TestGeneratedPolicyIsExactlyWhatTheSyncCalls(t *testing.T) {
	w, err := awssim.LoadFixture(filepath.Join("testdata", "full-org.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	b := generate(t, Options{Features: syncFeatures, MemberRoleName: "GatehouseMember", OrgID: w.Org.ID,
		TrustedPrincipal: "arn:aws:iam::111111111111:user/" + awssim.OperatorUserName, ExternalID: "full-org-external-id"})
	installGenerated(t, w, b)
	now := time.Now().UTC().Truncate(time.Second)
	// A user created after the management account's credential report (IAM reuses a
	// report for four hours), whose credentials the sync reads with per-user calls.
	mgmt := w.Accounts[w.ManagementAccountID]
	mgmt.SetCredentialReport(now.Add(-time.Hour))
	mgmt.AddUser(w, "newer-than-the-report", "/").CreateDate = now
	sim := awssim.New(w, awssim.Options{Now: func() time.Time { return now }})
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	info := sim.Info()

	called := map[string]int64{}
	// The service last accessed jobs the first sync starts, the second collects.
	lastAccess := &awsfetch.LastAccessPlan{Known: map[string]awsfetch.LastAccessKnown{}}
	for _, strategy := range []awsfetch.AssignmentStrategy{awsfetch.ByAccount, awsfetch.ByPrincipal} {
		sim.Counters().Reset()
		cfg := awsfetch.Config{
			Region: info.Region, EndpointURL: url,
			Credentials: credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, ""),
			RoleARN:     b.ConnectorRoleARN, ExternalID: b.ExternalID,
			Orgs: true, MemberRoleName: b.MemberRoleName,
			IdentityCenter: true, IdentityCenterRegion: info.IdentityCenterRegion,
			SyncSecrets:  true,
			SCIMEndpoint: info.SCIMEndpoint, SCIMToken: info.SCIMToken,
			AssignmentStrategy:   strategy,
			CredentialReportPoll: 5 * time.Millisecond,
			MaxBackoff:           50 * time.Millisecond,
			LastAccess:           lastAccess,
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		snap, stats, err := awsfetch.Fetch(ctx, cfg)
		cancel()
		if snap != nil {
			for _, a := range snap.Accounts {
				if a.IAM == nil {
					continue
				}
				for _, r := range a.IAM.LastAccess {
					if r.Error != "" {
						t.Errorf("%s: service last accessed details of %s: %s", strategy, r.EntityARN, r.Error)
					}
					if r.Kind == "started" {
						lastAccess.Known[r.EntityARN] = awsfetch.LastAccessKnown{JobID: r.JobID}
					}
				}
			}
		}
		if err != nil {
			t.Fatalf("%s: a sync with only the generated policies failed: %v", strategy, err)
		}
		if len(stats.Skipped) > 0 || stats.Synced != 3 {
			t.Fatalf("%s: synced %d of 3 accounts, skipped %+v", strategy, stats.Synced, stats.Skipped)
		}
		for _, a := range snap.Accounts {
			if a.IAM == nil || a.IAM.CredentialReportError != "" || len(a.IAM.Users) == 0 && a.ID != "333333333333" {
				t.Errorf("%s: account %s read incompletely: %+v", strategy, a.ID, a.IAM)
			}
		}
		if snap.IdentityCenter == nil || stats.UserStatus.Unknown != 0 || len(snap.IdentityCenter.Assignments) != 3 {
			t.Errorf("%s: Identity Center read incompletely: %+v", strategy, snap.IdentityCenter)
		}
		if got := stats.Assignments.Strategy; got != strategy {
			t.Errorf("assignments listed with %s, want %s", got, strategy)
		}
		for _, oc := range sim.Counters().Snapshot() {
			called[oc.Service+":"+oc.Operation] += oc.Calls
		}
	}

	connector := policyActions(t, b.Permissions.JSON())
	member := policyActions(t, b.MemberPermissions.JSON())
	used := map[string]bool{}
	var ops []string
	for op := range called {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, call := range ops {
		service, op, _ := strings.Cut(call, ":")
		switch {
		case service == "scim":
			continue // a bearer token, no IAM action
		case call == "sts:GetCallerIdentity":
			continue // needs no permission
		}
		action, _, ok := awsperms.ForOperation(service, op)
		if !ok {
			t.Errorf("the sync called %s, which awsperms does not list", call)
			continue
		}
		used[action] = true
		if !slices.Contains(connector, action) {
			t.Errorf("the sync called %s; %s is not in the connector role's policy", call, action)
		}
		// IAM is read in every account, so the member role needs every IAM read; the
		// organization and Identity Center are read once, by the connector only.
		switch {
		case service == "iam" && !slices.Contains(member, action):
			t.Errorf("the sync called %s in member accounts; %s is not in the member role's policy", call, action)
		case service != "iam" && slices.Contains(member, action):
			t.Errorf("%s is in the member role's policy, but only the connector calls it", action)
		}
	}
	for _, a := range connector {
		if !used[a] {
			t.Errorf("the connector policy allows %s, which no sync called", a)
		}
	}
	for _, a := range member {
		if !used[a] {
			t.Errorf("the member policy allows %s, which no sync called", a)
		}
	}
	if t.Failed() {
		t.Logf("calls: %v", called)
	}
}
