package jit

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/ingest"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
	"github.com/gatehouse/gatehouse/internal/syncrun"
)

// managerDoc sends every account request to the requester's manager, with no fallback:
// a request can only be made when the sync knows the manager.
const managerDoc = `rules:
  - name: accounts
    requesters: {everyone: true}
    duration: {default: 1h, max: 4h}
    approval_policy: manager
policies:
  - name: manager
    steps:
      - name: Manager
        approvers: {manager: true}
`

// A policy step "the requester's manager" is decided by the manager Identity Center
// reports, end to end: the simulator's organization (internal/awssim/testdata/
// org-identity-center.yaml, where bob and erin report to alice) is synced through the
// real SDK clients, the file is ingested into the store, and bob's request waits for
// alice, whom nobody configured in Gatehouse. Alice's approval moves it on; an admin or an
// auditor who is not his manager is refused (403), as is bob himself; alice, who has no
// manager, cannot make such a request.
func TestManagerStepResolvedFromSyncedData(t *testing.T) {
	w, err := awssim.LoadFixture(filepath.Join("..", "awssim", "testdata", "org-identity-center.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	file, ids, _ := syncWorld(t, w)
	prod, psAdmin, psRead := ids["account:prod"], ids["ps:AdministratorAccess"], ids["ps:ReadOnly"]
	if prod == "" || psAdmin == "" || psRead == "" {
		t.Fatal("the fixture has no prod account, AdministratorAccess or ReadOnly")
	}
	ent := "account:" + prod + ":" + psAdmin

	storetest.Each(t, func(t *testing.T, st *store.Store) {
		svc := ingestedService(t, st, file, nil)

		r, err := svc.Create(ctx, bob, CreateInput{EntitlementID: ent, Reason: "deploy"})
		if err != nil {
			t.Fatal(err)
		}
		if s := r.Steps[0]; r.State != StatePendingApproval || s.UsesFallback || !reflect.DeepEqual(s.Approvers, []string{"alice@example.com"}) {
			t.Fatalf("bob's request: state %s, step %+v; want pending on alice (his manager in Identity Center)", r.State, s)
		}
		if inbox, _, err := svc.List(ctx, alice, ListFilter{Scope: "to_approve"}); err != nil || len(inbox) != 1 || inbox[0].ID != r.ID {
			t.Errorf("alice's approvals %v, %v; want bob's request", inbox, err)
		}
		_, err = svc.Approve(ctx, admin, r.ID, "")
		wantCode(t, err, CodeForbidden, "you cannot decide request "+r.ID)
		_, err = svc.Approve(ctx, audr, r.ID, "")
		wantCode(t, err, CodeForbidden, "you cannot decide request "+r.ID)
		_, err = svc.Approve(ctx, bob, r.ID, "")
		wantCode(t, err, CodeForbidden, "")
		if got := svc.mustGet(t, r.ID); got.State != StatePendingApproval {
			t.Fatalf("after refused approvals the request is %s", got.State)
		}
		got, err := svc.Approve(ctx, alice, r.ID, "ok")
		if err != nil || got.State != StateApproved || got.Steps[0].State != "approved" {
			t.Fatalf("alice's approval: %v, state %v", err, got)
		}

		// Alice has no manager in Identity Center and the policy no fallback: her request
		// (ReadOnly on prod, which she does not hold) cannot be made, and the message says why.
		_, err = svc.Create(ctx, alice, CreateInput{EntitlementID: "account:" + prod + ":" + psRead, Reason: "x"})
		wantCode(t, err, CodeInvalid, "no manager is known for alice@example.com")
	})
}

// mustGet reads a request as an admin.
func (s *Service) mustGet(t *testing.T, id string) *Request {
	t.Helper()
	r, err := s.Get(ctx, admin, id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The demo organization (gatehouse demo, gatehouse sim --preset demo): Bob reports to Dave,
// the team lead, so under a policy whose step is the requester's manager his request waits
// for Dave, and Dave's approval decides it.
func TestManagerStepDemoBobToDave(t *testing.T) {
	w, err := awssim.Preset("demo", 1)
	if err != nil {
		t.Fatal(err)
	}
	file, ids, skipped := syncWorld(t, w)
	ent := "account:" + ids["account:management"] + ":" + ids["ps:Billing"]
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		svc := ingestedService(t, st, file, skipped)
		r, err := svc.Create(ctx, bob, CreateInput{EntitlementID: ent, Reason: "invoices"})
		if err != nil {
			t.Fatal(err)
		}
		if s := r.Steps[0]; s.UsesFallback || !reflect.DeepEqual(s.Approvers, []string{"dave@example.com"}) {
			t.Fatalf("bob's request waits for %v (fallback %v), want dave", s.Approvers, s.UsesFallback)
		}
		if got, err := svc.Approve(ctx, dave, r.ID, "ok"); err != nil || got.State != StateApproved {
			t.Fatalf("dave's approval: %v, %v", err, got)
		}
	})
}

// syncWorld serves w and syncs it (Organizations and Identity Center, accounts that cannot
// be read skipped) through the real SDK clients into a .c1z. ids names what the tests need:
// "account:NAME" (id) and "ps:NAME" (ps-... id).
func syncWorld(t *testing.T, w *awssim.World) (string, map[string]string, []ingest.SkippedAccount) {
	t.Helper()
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	sim := awssim.New(w, awssim.Options{})
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	var cfg awsfetch.Config
	ids := map[string]string{}
	sim.Do(func(w *awssim.World) {
		cfg = awsfetch.Config{Region: w.Region, EndpointURL: url, RoleARN: w.Connector.RoleARN, ExternalID: w.Connector.ExternalID,
			Credentials: credentials.NewStaticCredentialsProvider(w.Connector.AccessKeyID, w.Connector.SecretAccessKey, ""),
			Orgs:        true, IdentityCenter: true, IdentityCenterRegion: w.SSO.Region, AllowPartial: true,
			Quotas: awsfetch.Quotas{"iam": {}, "sts": {}, "organizations": {}, "identitycenter": {}, "sso:DescribePermissionSet": {}},
		}
		for id, a := range w.Accounts {
			ids["account:"+a.Name] = id
		}
		for _, p := range w.SSO.PermissionSets {
			ids["ps:"+p.Name] = p.ARN[strings.LastIndex(p.ARN, "/")+1:]
		}
	})
	file := filepath.Join(t.TempDir(), "org.c1z")
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	res, err := syncrun.Run(sctx, cfg, file)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	var skipped []ingest.SkippedAccount
	for _, a := range res.Fetch.Skipped {
		skipped = append(skipped, ingest.SkippedAccount{AccountID: a.ID, Reason: a.Reason})
	}
	return file, ids, skipped
}

// ingestedService ingests the sync into st as connection conn and returns a just-in-time
// service on it with managerDoc applied, an admin and an auditor configured.
func ingestedService(t *testing.T, st *store.Store, file string, skipped []ingest.SkippedAccount) *Service {
	t.Helper()
	if _, err := ingest.Apply(ctx, st, ingest.Input{ConnectionID: conn, SyncID: "s1", C1ZPath: file, At: time.Now(), Skipped: skipped}); err != nil {
		t.Fatalf("ingest: %v", err)
	}
	if err := st.SetConfiguredRoles(ctx, map[string][]string{"admin@example.com": {auth.RoleAdmin}, "audrey@example.com": {auth.RoleAuditor}}); err != nil {
		t.Fatal(err)
	}
	svc, err := New(Config{Store: st, Notifier: &events{}, BaseURL: "https://gh.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	svc.SetQueue(&fakeQueue{})
	if _, err := svc.ApplyRules(ctx, admin, []byte(managerDoc)); err != nil {
		t.Fatalf("apply rules: %v", err)
	}
	return svc
}
