package web

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// The applications page shows each AWS connection with what its last ingested sync holds
// and its last sync; a person without the auditor role may not see it.
func TestApplicationsPage(t *testing.T) {
	u := newTestUI(t)
	u.withSyncs()
	u.ingestFixture(3)
	u.addSync("s0009", store.SyncSucceeded, t3, 20*time.Second, store.SyncProgress{AccountsDone: 3, AccountsTotal: 3, APICalls: 77}, nil, nil)
	res := u.get(auditor, "/applications")
	if res.Status != 200 {
		t.Fatalf("status %d", res.Status)
	}
	cspSafe(t, res.Body)
	got := text(res.Body)
	mustContain(t, got, "Production organization AWS Last sync succeeded s0009 Resources Current Accounts 3 Organizational units 4 IAM users 3 IAM groups 2 IAM roles 9 IAM policies 7 Identity Center users 2 Identity Center groups 2 Permission sets 2 Grants 22")
	for _, link := range []string{`href="/inventory/account"`, `href="/inventory/sso_user"`, `href="/syncs/s0009"`} {
		mustContain(t, res.Body, link)
	}
	if code := u.get(person, "/applications").Status; code != 403 {
		t.Fatalf("a person without a role got %d", code)
	}
}
