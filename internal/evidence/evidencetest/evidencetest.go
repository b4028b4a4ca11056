// Package evidencetest seeds a store with the history an evidence pack is built from, for
// the tests of internal/evidence, the API and the CLI: two syncs with a change between
// (and one after the period that no pack of the period may show), findings that change at
// those syncs, a just-in-time request
// approved and its lease revoked, a review campaign with a verified remediation, and
// audit entries before, in and after the period.
package evidencetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/jit"
	"github.com/gatehouse/gatehouse/internal/review"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Accounts and principals of the fixture.
const (
	Prod     = "111111111111"
	Dev      = "222222222222"
	Conn     = "aws"
	OUProd   = "ou-root-prod0001"
	Root     = "r-root"
	PSAdmin  = "arn:aws:sso:::permissionSet/ssoins-1/ps-admin"
	EntProd  = "account:" + Prod + ":ps-admin"
	EntDev   = "account:" + Dev + ":ps-admin"
	Alice    = "u-alice"
	Bob      = "u-bob"
	GrantAP  = "grant-alice-prod"                      // alice on prod: held at the start, removed by sync 2
	GrantBD  = "grant-bob-dev"                         // bob on dev: held throughout
	GrantBP  = "grant-bob-prod"                        // bob on prod: added by sync 2
	GrantCP  = "grant-carol-prod"                      // added by sync 3, after the period
	DeployID = "arn:aws:iam::111111111111:user/deploy" // an IAM user created by sync 2
	Request  = "req-1"
	Lease    = "lease-1"
	Campaign = "rc-1"
	ItemProd = "it-prod"
	ItemDev  = "it-dev"
)

// Fixture is the seeded history: the period [From, To] and the times of what happened.
type Fixture struct {
	From, To time.Time
	// Sync1 is before From (the start's inventory), Sync2 inside, Sync3 after To.
	Sync1, Sync2, Sync3 time.Time
	// Approved is when carol approved the request; Granted, Ends, Ended and Revoked the
	// lease's grant, scheduled end, end (dave revoked it) and AWS's confirmation.
	Approved, Granted, Ends, Ended, Revoked time.Time
	// Audit are the seqs of the audit entries before, in and after the period.
	AuditBefore, AuditAfter int64
	AuditIn                 []int64
}

func ms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// Seed writes the fixture. The audit log's times are the clock's (entries are appended
// at now), so the period is a short window of now: an entry, then From, two entries and
// every other event of the period, then To, then an entry after it.
func Seed(t testing.TB, st *store.Store) *Fixture {
	t.Helper()
	ctx := context.Background()
	f := &Fixture{}
	f.AuditBefore = appendAudit(t, st, "before@example.com", "test.before")
	time.Sleep(5 * time.Millisecond)
	f.From = ms(time.Now())
	time.Sleep(5 * time.Millisecond)
	f.AuditIn = append(f.AuditIn, appendAudit(t, st, "carol@example.com", "test.in"), appendAudit(t, st, "dave@example.com", "test.in"))
	time.Sleep(40 * time.Millisecond)
	f.To = ms(time.Now())
	time.Sleep(5 * time.Millisecond)
	f.AuditAfter = appendAudit(t, st, "after@example.com", "test.after")

	step := (f.To.Sub(f.From) / 10).Truncate(time.Millisecond) // at least 4 ms
	f.Sync1 = f.From.Add(-time.Hour)
	f.Sync2 = f.From.Add(2 * step)
	f.Approved = f.From.Add(3 * step)
	f.Granted = f.From.Add(4 * step)
	f.Ended = f.From.Add(5 * step)
	f.Revoked = f.Ended.Add(2 * time.Millisecond)
	f.Ends = f.From.Add(time.Hour)
	f.Sync3 = f.To.Add(time.Hour)

	res := func(typ, id, name, account, parentType, parent, email string) store.ResourceRow {
		return store.ResourceRow{Type: typ, ID: id, DisplayName: name, AccountID: account, ParentType: parentType, ParentID: parent,
			Email: email, Profile: `{"k":"` + id + `"}`, Hash: id}
	}
	grant := func(id, ent, account, principal string) store.GrantRow {
		return store.GrantRow{ID: id, EntitlementID: ent, ResourceType: "account", ResourceID: account, PrincipalType: "sso_user",
			PrincipalID: principal, AccountID: account, Direct: true, Hash: id}
	}
	apply := func(d *store.InventoryDiff) {
		t.Helper()
		err := st.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.ApplyInventoryDiff(ctx, d); err != nil {
				return err
			}
			return tx.RecordIngest(ctx, store.IngestRecord{ConnectionID: d.ConnectionID, SyncID: d.Sync, At: d.At,
				GrantsAdded: len(d.InsertGrants), GrantsRemoved: len(d.CloseGrants), ResourcesAdded: len(d.InsertResources)})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	apply(&store.InventoryDiff{ConnectionID: Conn, Sync: "s1", At: f.Sync1,
		InsertResources: []store.ResourceRow{
			res("organizational_unit", Root, "Root", "", "", "", ""),
			res("organizational_unit", OUProd, "Production", "", "organizational_unit", Root, ""),
			res("account", Prod, "prod", Prod, "organizational_unit", OUProd, ""),
			res("account", Dev, "dev", Dev, "organizational_unit", Root, ""),
			res("sso_user", Alice, "Alice", "", "", "", "alice@example.com"),
			res("sso_user", Bob, "Bob", "", "", "", "bob@example.com"),
		},
		InsertEntitlements: []store.EntitlementRow{
			{ID: EntProd, ResourceType: "account", ResourceID: Prod, DisplayName: "AdministratorAccess", AccountID: Prod, Hash: EntProd},
			{ID: EntDev, ResourceType: "account", ResourceID: Dev, DisplayName: "AdministratorAccess", AccountID: Dev, Hash: EntDev},
		},
		InsertGrants: []store.GrantRow{grant(GrantAP, EntProd, Prod, Alice), grant(GrantBD, EntDev, Dev, Bob)},
	})
	apply(&store.InventoryDiff{ConnectionID: Conn, Sync: "s2", At: f.Sync2,
		CloseGrants:     []string{GrantAP},
		InsertResources: []store.ResourceRow{res("iam_user", DeployID, "deploy", Prod, "", "", "")},
		InsertGrants:    []store.GrantRow{grant(GrantBP, EntProd, Prod, Bob)},
	})
	apply(&store.InventoryDiff{ConnectionID: Conn, Sync: "s3", At: f.Sync3,
		InsertResources: []store.ResourceRow{res("sso_user", "u-carol", "Carol", "", "", "", "carol@example.com")},
		InsertGrants:    []store.GrantRow{grant(GrantCP, EntProd, Prod, "u-carol")},
	})

	// Findings: prod's root MFA fails at sync 1 and passes from sync 2, which also opens a
	// failing finding on the IAM user deploy; dev's passes until sync 3 (after the period).
	finding := func(control, account, resource, status string) store.Finding {
		return store.Finding{Control: control, CISv5: "v5-" + control, Title: "control " + control, Account: account, Resource: resource,
			Status: status, Reason: "reason " + status, Evidence: map[string]any{"row": resource}, Fix: "fix " + control}
	}
	for _, sy := range []struct {
		id string
		at time.Time
		fs []store.Finding
	}{
		{"s1", f.Sync1, []store.Finding{finding("1.5", Prod, Prod, store.FindingFail), finding("1.5", Dev, Dev, store.FindingPass)}},
		{"s2", f.Sync2, []store.Finding{finding("1.5", Prod, Prod, store.FindingPass), finding("1.5", Dev, Dev, store.FindingPass),
			finding("1.12", Prod, DeployID, store.FindingFail)}},
		{"s3", f.Sync3, []store.Finding{finding("1.5", Prod, Prod, store.FindingPass), finding("1.5", Dev, Dev, store.FindingFail),
			finding("1.12", Prod, DeployID, store.FindingFail)}},
	} {
		if _, err := st.ApplyFindings(ctx, Conn, sy.id, sy.at, sy.fs); err != nil {
			t.Fatal(err)
		}
	}

	// The request: bob asks for AdministratorAccess on prod, carol approves, the lease is
	// granted, dave revokes it early, AWS confirms 2 ms later.
	target, _ := json.Marshal(jit.Target{ConnectionID: Conn, EntitlementID: EntProd, Kind: jit.KindAccountAssignment,
		DisplayName: "AdministratorAccess on prod (" + Prod + ")", Application: "aws", AccountID: Prod, AccountName: "prod",
		PermissionSetARN: PSAdmin, PermissionSetID: "ps-admin", PermissionSetName: "AdministratorAccess", PrincipalID: Bob})
	steps, _ := json.Marshal([]jit.StepStatus{{Index: 0, Name: "Security", Required: 1, Approvers: []string{"carol@example.com"},
		Approvals: []jit.Decision{{By: "carol@example.com", Approved: true, Reason: "on call", At: f.Approved}}, State: "approved"}})
	policy, _ := json.Marshal(jit.PolicySnapshot{Name: "prod", Doc: json.RawMessage(`{}`)})
	created := f.From.Add(step)
	err := st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.InsertAccessRequest(ctx, store.AccessRequest{ID: Request, Requester: "bob@example.com", ConnectionID: Conn,
			EntitlementID: EntProd, AccessKey: "k1", Target: target, Reason: "incident 42", Duration: time.Hour, State: "revoked",
			Rule: "prod", Policy: policy, Steps: steps, CreatedAt: created, UpdatedAt: f.Revoked}); err != nil {
			return err
		}
		for _, tr := range []store.RequestTransition{
			{From: "", To: "pending_approval", Actor: "bob@example.com", At: created, Reason: "incident 42"},
			{From: "pending_approval", To: "approved", Actor: "carol@example.com", At: f.Approved, Reason: "on call"},
			{From: "approved", To: "provisioning", Actor: "gatehouse", At: f.Approved},
			{From: "provisioning", To: "active", Actor: "gatehouse", At: f.Granted},
			{From: "active", To: "expiring", Actor: "dave@example.com", At: f.Ended, Reason: "incident over"},
			{From: "expiring", To: "revoked", Actor: "gatehouse", At: f.Revoked},
		} {
			tr.RequestID = Request
			if _, err := tx.AppendRequestTransition(ctx, tr); err != nil {
				return err
			}
		}
		// A request that ended before the period: no pack of the period shows it.
		if err := tx.InsertAccessRequest(ctx, store.AccessRequest{ID: "req-old", Requester: "bob@example.com", ConnectionID: Conn,
			EntitlementID: EntDev, AccessKey: "k0", Target: target, State: "denied", CreatedAt: f.Sync1, UpdatedAt: f.Sync1}); err != nil {
			return err
		}
		return tx.InsertLease(ctx, &store.Lease{ID: Lease, RequestID: Request, Requester: "bob@example.com", ConnectionID: Conn,
			AccessKey: "k1", Target: string(target), State: store.LeaseEnded, Duration: time.Hour, CreatedAt: f.Approved,
			UpdatedAt: f.Revoked, StartsAt: &f.Granted, EndsAt: &f.Ends, EndedAt: &f.Revoked, EndReason: jit.EndRevoked,
			EndedBy: "dave@example.com", EndNote: "assignment deleted"})
	})
	if err != nil {
		t.Fatal(err)
	}

	// The campaign: started in the period; alice's prod access revoked and verified by
	// sync 2, bob's dev access kept.
	started := f.From.Add(step)
	decided := f.From.Add(step + step/2)
	verified := f.Sync2
	rem, _ := json.Marshal(review.Remediation{Action: "delete_assignment", Description: "Delete the assignment of AdministratorAccess on prod to Alice",
		State: "done", Attempts: 1, DoneAt: &decided, VerifiedSync: "s2", VerifiedAt: &verified})
	err = st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.InsertReviewCampaign(ctx, &store.ReviewCampaign{ID: Campaign, Name: "Q review", State: "active", Scope: `{"accounts":[]}`,
			Reviewers: `{"people":["erin@example.com"]}`, DueAt: f.Sync3, Undecided: "keep", CreatedBy: "erin@example.com",
			CreatedAt: started, StartedAt: &started, SnapshotSyncs: `{"aws":"s1"}`}); err != nil {
			return err
		}
		return tx.InsertReviewItems(ctx, []store.ReviewItem{
			{CampaignID: Campaign, ID: ItemProd, Seq: 1, ConnectionID: Conn, GrantID: GrantAP, EntitlementID: EntProd,
				EntitlementName: "AdministratorAccess", ResourceType: "account", ResourceID: Prod, AccountID: Prod, AccountName: "prod",
				PrincipalType: "sso_user", PrincipalID: Alice, PrincipalName: "Alice", Identity: "alice@example.com", Via: "direct",
				Since: f.Sync1, AdminLevel: true, Reviewer: "erin@example.com", Decision: review.DecisionRevoke, Reason: "left the team",
				DecidedBy: "erin@example.com", DecidedAt: &decided, State: string(review.ItemRemediated), Remediation: string(rem), UpdatedAt: verified},
			{CampaignID: Campaign, ID: ItemDev, Seq: 2, ConnectionID: Conn, GrantID: GrantBD, EntitlementID: EntDev,
				EntitlementName: "AdministratorAccess", ResourceType: "account", ResourceID: Dev, AccountID: Dev, AccountName: "dev",
				PrincipalType: "sso_user", PrincipalID: Bob, PrincipalName: "Bob", Identity: "bob@example.com", Via: "direct",
				Since: f.Sync1, AdminLevel: true, Reviewer: "erin@example.com", Decision: review.DecisionKeep, Reason: "needed",
				DecidedBy: "erin@example.com", DecidedAt: &decided, State: string(review.ItemKept), UpdatedAt: decided},
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func appendAudit(t testing.TB, st *store.Store, actor, action string) int64 {
	t.Helper()
	var seq int64
	err := st.InTx(context.Background(), func(tx *store.Tx) error {
		e, err := tx.AppendAudit(context.Background(), actor, action, "fixture", map[string]any{"actor": actor}, "")
		seq = e.Seq
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return seq
}
