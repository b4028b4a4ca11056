package evidence_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/evidence"
	"github.com/gatehouse/gatehouse/internal/evidence/evidencetest"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// pack is a built pack read back: its files by path.
type pack map[string][]byte

func readPack(t *testing.T, path string) pack {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := pack{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		out[f.Name] = b
	}
	return out
}

// rows are the CSV file's records projected on cols, each joined with "|".
func (p pack) rows(t *testing.T, name string, cols ...string) []string {
	t.Helper()
	b, ok := p[name]
	if !ok {
		t.Fatalf("the pack has no %s", name)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	idx := make([]int, len(cols))
	for i, c := range cols {
		idx[i] = slices.Index(recs[0], c)
		if idx[i] < 0 {
			t.Fatalf("%s has no column %s (header %v)", name, c, recs[0])
		}
	}
	out := []string{}
	for _, r := range recs[1:] {
		var cells []string
		for _, i := range idx {
			cells = append(cells, r[i])
		}
		out = append(out, strings.Join(cells, "|"))
	}
	return out
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

func build(t *testing.T, st *store.Store, f *evidencetest.Fixture, accounts, ous, apps []string) (pack, *evidence.Built) {
	t.Helper()
	ctx := context.Background()
	req, err := evidence.NewRequest(f.From.Format(time.RFC3339Nano), f.To.Format(time.RFC3339Nano), accounts, ous, apps)
	if err != nil {
		t.Fatal(err)
	}
	res, err := evidence.Resolve(ctx, st, req)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "pack.zip")
	b, err := evidence.BuildFile(ctx, st, req, res, evidence.Options{ID: "ev-test", By: "auditor@example.com"}, path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("pack file: %v %v, want mode 0600", fi.Mode(), err)
	}
	return readPack(t, path), b
}

func eq(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got  %q\n want %q", what, got, want)
	}
}

// The pack of the fixture's period holds exactly the period's history: the inventory as
// of its start and end, sync 2's changes (not sync 3's, after the period), the request
// with carol's approval and the lease dave revoked, the campaign's decisions with the
// verified remediation, and the audit entries of the period with an intact chain.
func TestPackHoldsExactlyThePeriod(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := evidencetest.Seed(t, st)
		p, built := build(t, st, f, nil, nil, nil)
		F := evidencetest.Prod
		D := evidencetest.Dev

		eq(t, "start grants", p.rows(t, evidence.FileStartGrants, "grant_id", "principal_name", "principal_email", "account_id", "account_name", "entitlement_name"),
			[]string{"grant-alice-prod|Alice|alice@example.com|" + F + "|prod|AdministratorAccess", "grant-bob-dev|Bob|bob@example.com|" + D + "|dev|AdministratorAccess"})
		eq(t, "end grants", p.rows(t, evidence.FileEndGrants, "grant_id", "principal_name", "first_sync"),
			[]string{"grant-bob-dev|Bob|s1", "grant-bob-prod|Bob|s2"})
		eq(t, "start resources", p.rows(t, evidence.FileStartResources, "type", "id", "display_name", "profile"),
			[]string{"account|" + F + "|prod|{\"k\":\"" + F + "\"}", "account|" + D + "|dev|{\"k\":\"" + D + "\"}",
				"organizational_unit|ou-root-prod0001|Production|{\"k\":\"ou-root-prod0001\"}", "organizational_unit|r-root|Root|{\"k\":\"r-root\"}",
				"sso_user|u-alice|Alice|{\"k\":\"u-alice\"}", "sso_user|u-bob|Bob|{\"k\":\"u-bob\"}"})
		eq(t, "end resources", p.rows(t, evidence.FileEndResources, "type", "id"),
			[]string{"account|" + F, "account|" + D, "iam_user|" + evidencetest.DeployID, "organizational_unit|ou-root-prod0001",
				"organizational_unit|r-root", "sso_user|u-alice", "sso_user|u-bob"})
		eq(t, "syncs", p.rows(t, evidence.FileSyncs, "sync_id", "at", "role", "grants_added", "grants_removed"),
			[]string{"s1|" + ts(f.Sync1) + "|start|2|0", "s2|" + ts(f.Sync2) + "|in_period|1|1"})
		eq(t, "grant changes", p.rows(t, evidence.FileGrantChanges, "at", "sync_id", "kind", "grant_id", "principal_name", "person", "account_name"),
			[]string{ts(f.Sync2) + "|s2|added|grant-bob-prod|Bob|bob@example.com|prod", ts(f.Sync2) + "|s2|removed|grant-alice-prod|Alice|alice@example.com|prod"})
		eq(t, "resource changes", p.rows(t, evidence.FileResourceChanges, "at", "sync_id", "kind", "type", "id", "display_name"),
			[]string{ts(f.Sync2) + "|s2|added|iam_user|" + evidencetest.DeployID + "|deploy"})
		eq(t, "approvals", p.rows(t, evidence.FileApprovals, "request_id", "requester", "account_id", "step", "step_name", "approver", "decision", "reason", "at"),
			[]string{"req-1|bob@example.com|" + F + "|1|Security|carol@example.com|approved|on call|" + ts(f.Approved)})
		eq(t, "leases", p.rows(t, evidence.FileLeases, "request_id", "lease_id", "state", "granted_at", "ends_at", "ended_at", "end_reason", "ended_by", "revoked_at", "revoke_seconds"),
			[]string{"req-1|lease-1|ended|" + ts(f.Granted) + "|" + ts(f.Ends) + "|" + ts(f.Ended) + "|revoked|dave@example.com|" + ts(f.Revoked) + "|0.002"})
		eq(t, "decisions", p.rows(t, evidence.FileDecisions, "campaign_id", "item_id", "account_name", "identity", "decision", "reason", "decided_by", "state", "remediation_state", "verified_sync", "verified_at"),
			[]string{"rc-1|it-prod|prod|alice@example.com|revoke|left the team|erin@example.com|remediated|done|s2|" + ts(f.Sync2),
				"rc-1|it-dev|dev|bob@example.com|keep|needed|erin@example.com|kept|||"})

		eq(t, "findings", p.rows(t, evidence.FileFindings, "control", "cis_v5", "account", "resource", "status_at_end", "since_at_end", "status_now", "reason_now", "evidence_now", "fix"),
			[]string{"1.12|v5-1.12|" + F + "|" + evidencetest.DeployID + "|fail|" + ts(f.Sync2) + "|fail|reason fail|{\"row\":\"" + evidencetest.DeployID + "\"}|fix 1.12",
				"1.5|v5-1.5|" + F + "|" + F + "|pass|" + ts(f.Sync2) + "|pass|reason pass|{\"row\":\"" + F + "\"}|fix 1.5",
				"1.5|v5-1.5|" + D + "|" + D + "|pass|" + ts(f.Sync1) + "|fail|reason fail|{\"row\":\"" + D + "\"}|fix 1.5"})
		eq(t, "finding events", p.rows(t, evidence.FileFindingEvents, "at", "sync_id", "control", "account", "resource", "from", "to"),
			[]string{ts(f.Sync2) + "|s2|1.12|" + F + "|" + evidencetest.DeployID + "|(opened)|fail", ts(f.Sync2) + "|s2|1.5|" + F + "|" + F + "|fail|pass"})

		// The request's record: its whole chain and lease.
		var reqs struct {
			Requests []evidence.RequestRecord `json:"requests"`
		}
		if err := json.Unmarshal(p[evidence.FileRequests], &reqs); err != nil {
			t.Fatal(err)
		}
		if len(reqs.Requests) != 1 {
			t.Fatalf("requests: %d, want req-1 only (req-old ended before the period)", len(reqs.Requests))
		}
		r := reqs.Requests[0]
		var moves []string
		for _, tr := range r.Transitions {
			moves = append(moves, tr.To+" by "+tr.By)
		}
		eq(t, "transitions", moves, []string{"pending_approval by bob@example.com", "approved by carol@example.com", "provisioning by gatehouse",
			"active by gatehouse", "expiring by dave@example.com", "revoked by gatehouse"})
		if r.Policy != "prod" || r.Lease == nil || r.Lease.RevokedAt != ts(f.Revoked) || *r.Lease.RevokeSeconds != 0.002 {
			t.Errorf("request record: %+v lease %+v", r, r.Lease)
		}

		// The audit excerpt: exactly the two entries of the period, chained to the one before.
		var seqs []string
		for _, line := range strings.Split(strings.TrimSpace(string(p[evidence.FileAuditLog])), "\n") {
			var rec struct {
				Seq    int64
				Action string
			}
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatal(err)
			}
			seqs = append(seqs, fmt.Sprintf("%d %s", rec.Seq, rec.Action))
		}
		eq(t, "audit excerpt", seqs, []string{fmt.Sprintf("%d test.in", f.AuditIn[0]), fmt.Sprintf("%d test.in", f.AuditIn[1])})
		var chk evidence.ChainCheck
		if err := json.Unmarshal(p[evidence.FileAuditChain], &chk); err != nil {
			t.Fatal(err)
		}
		if !chk.OK || !chk.ExcerptOK || !chk.LogOK || chk.Entries != 2 || chk.FirstSeq != f.AuditIn[0] || chk.PreviousHash == "" {
			t.Errorf("chain check: %+v", chk)
		}

		// The summary: counts, the controls with the files that back them, the chain.
		c := built.Summary.Counts
		if c.StartGrants != 2 || c.EndGrants != 2 || c.GrantsAdded != 1 || c.GrantsRemoved != 1 || c.ResourcesAdded != 1 ||
			c.Requests != 1 || c.Approvals != 1 || c.Leases != 1 || c.LeasesRevoked != 1 || c.Campaigns != 1 || c.ReviewItems != 2 ||
			c.RevokeDecisions != 1 || c.RevokesVerified != 1 || c.AuditEntries != 2 || c.Syncs != 1 || c.Findings != 3 ||
			c.FindingsFailing != 1 || c.FindingsUnknown != 0 || c.FindingEvents != 2 || built.Summary.Findings != "included" {
			t.Errorf("counts: %+v", c)
		}
		if !built.Summary.Chain.OK || !strings.HasPrefix(built.Summary.Chain.Statement, "Intact: the 2 entries of the period") {
			t.Errorf("chain: %+v", built.Summary.Chain)
		}
		ids := []string{}
		for _, ctl := range built.Summary.Controls {
			ids = append(ids, ctl.ID)
			if len(ctl.Files) == 0 {
				t.Errorf("control %s has no file", ctl.ID)
			}
		}
		eq(t, "controls", ids, []string{"CC6.1", "CC6.2", "CC6.3", "A.5.15", "A.5.16", "A.5.17", "A.5.18", "A.8.2"})
		html := string(p[evidence.FileSummaryHTML])
		for _, want := range []string{"<strong>CC6.3</strong>", "<strong>A.8.2</strong>", "jit/leases.csv (1)", "reviews/decisions.csv (2)", "Intact: the 2 entries",
			"1 request, 1 approval or denial, 1 lease (1 with the removal confirmed by AWS)", "1 sync in the period: 1 grant added, 1 removed",
			"3 findings at the end (1 failing, 0 unknown), 2 changes of status", "2 entries in the period", "audit/chain_check.json<br>",
			"every connection and imported application", "every account, and what concerns no account"} {
			if !strings.Contains(html, want) {
				t.Errorf("summary.html lacks %q", want)
			}
		}
		if strings.Contains(html, "style=") || strings.Contains(html, "<script") {
			t.Error("summary.html has a style attribute or a script: it would not render under the server's CSP")
		}

		// The manifest lists every other file with its hash, and they verify.
		rep, err := evidence.VerifyFile(built.Path)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() || rep.Files != len(p)-1 || rep.Checked != rep.Files || rep.PackSHA256 != built.SHA256 {
			t.Errorf("verify: %+v (files in the pack: %d)", rep, len(p))
		}
	})
}

// A scope of accounts (by name), or of an OU (its subtree), keeps the rows of those
// accounts only; an application keeps its connection's.
func TestPackScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := evidencetest.Seed(t, st)
		for name, scope := range map[string][3][]string{
			"account by name": {{"prod"}, nil, nil},
			"OU subtree":      {nil, {evidencetest.OUProd}, {"aws"}},
		} {
			p, built := build(t, st, f, scope[0], scope[1], scope[2])
			eq(t, name+": start grants", p.rows(t, evidence.FileStartGrants, "grant_id"), []string{"grant-alice-prod"})
			eq(t, name+": end grants", p.rows(t, evidence.FileEndGrants, "grant_id"), []string{"grant-bob-prod"})
			eq(t, name+": end resources", p.rows(t, evidence.FileEndResources, "id"), []string{evidencetest.Prod, evidencetest.DeployID})
			eq(t, name+": decisions", p.rows(t, evidence.FileDecisions, "item_id"), []string{"it-prod"})
			eq(t, name+": leases", p.rows(t, evidence.FileLeases, "lease_id"), []string{"lease-1"})
			eq(t, name+": resolved", built.Summary.Resolved.Accounts, []string{evidencetest.Prod})
			eq(t, name+": findings", p.rows(t, evidence.FileFindings, "control", "account"), []string{"1.12|" + evidencetest.Prod, "1.5|" + evidencetest.Prod})
		}
		p, _ := build(t, st, f, []string{evidencetest.Dev}, nil, nil)
		eq(t, "dev: leases", p.rows(t, evidence.FileLeases, "lease_id"), []string{})
		eq(t, "dev: grant changes", p.rows(t, evidence.FileGrantChanges, "grant_id"), []string{})
		eq(t, "dev: findings", p.rows(t, evidence.FileFindings, "control", "account", "status_at_end"), []string{"1.5|" + evidencetest.Dev + "|pass"})
		eq(t, "dev: finding events", p.rows(t, evidence.FileFindingEvents, "finding_id"), []string{})
		p, _ = build(t, st, f, nil, nil, []string{"aws"})
		eq(t, "aws: end grants", p.rows(t, evidence.FileEndGrants, "grant_id"), []string{"grant-bob-dev", "grant-bob-prod"})
	})
}

// Bad input is refused with a message that says what to do.
func TestRequestInputMessages(t *testing.T) {
	for _, c := range []struct{ from, to, want string }{
		{"yesterday", "2026-02-01T00:00:00Z", `from must be an RFC 3339 time such as 2026-01-02T15:04:05Z, got "yesterday"`},
		{"2026-01-01T00:00:00Z", "2026-02-01", `to must be an RFC 3339 time such as 2026-01-02T15:04:05Z, got "2026-02-01"`},
		{"2026-03-01T00:00:00Z", "2026-02-01T00:00:00Z", "from (2026-03-01T00:00:00Z) is after to (2026-02-01T00:00:00Z): swap them"},
		{"", "2026-02-01T00:00:00Z", "from is required: an RFC 3339 time such as 2026-01-02T15:04:05Z"},
		{"2026-02-01T00:00:00Z", "2026-02-01T00:00:00Z", "from and to are both 2026-02-01T00:00:00Z: a period needs to after from"},
	} {
		_, err := evidence.NewRequest(c.from, c.to, nil, nil, nil)
		if err == nil || err.Error() != c.want || !evidence.IsInputError(err) {
			t.Errorf("%q..%q: %v, want %q", c.from, c.to, err, c.want)
		}
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		evidencetest.Seed(t, st)
		for _, c := range []struct {
			accounts, ous, apps []string
			want                string
		}{
			{[]string{"999999999999"}, nil, nil, `unknown account "999999999999": no synced connection has it; give a 12-digit account id or an account's name (GET /api/v1/resources?type=account lists them)`},
			{nil, []string{"ou-nope"}, nil, `unknown organizational unit "ou-nope": no synced connection has it; give an OU id (ou-...), a root id (r-...) or an OU's name (GET /api/v1/resources?type=organizational_unit lists them)`},
			{nil, nil, []string{"payroll"}, `unknown application "payroll": give "aws" (every AWS connection), a connection's id or an imported application's id (app_...)`},
		} {
			req, err := evidence.NewRequest("2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z", c.accounts, c.ous, c.apps)
			if err != nil {
				t.Fatal(err)
			}
			_, err = evidence.Resolve(context.Background(), st, req)
			if err == nil || err.Error() != c.want || !evidence.IsInputError(err) {
				t.Errorf("%v %v %v: %v\nwant %q", c.accounts, c.ous, c.apps, err, c.want)
			}
		}
	})
}
