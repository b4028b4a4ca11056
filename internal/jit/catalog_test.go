package jit

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

const securityOnly = `  - name: prod-admin
    match: {accounts: [prod], permission_sets: [AdministratorAccess]}
    requesters: {groups: [Security]}
    duration: {default: 15m, max: 1h}
    approval_policy: approvers
`

func catalogIDs(t *testing.T, items []CatalogItem) []string {
	t.Helper()
	var ids []string
	for _, it := range items {
		ids = append(ids, it.EntitlementID)
	}
	return ids
}

func TestCatalog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, strings.Replace(testDoc, "policies:\n", securityOnly+"policies:\n", 1))
		// Not IAM group ops: dave has no IAM user in prod to add to it.
		all := []string{entAdmin, entRead, entDevAdm, entAppr, "sso_group:g-security:member"}
		items, next, err := e.svc.Catalog(ctx, dave, CatalogQuery{})
		if err != nil || next != "" {
			t.Fatal(err, next)
		}
		if got := catalogIDs(t, items); !reflect.DeepEqual(got, all) {
			t.Fatalf("dave's catalog %v (want %v)", got, all)
		}
		adm := items[0]
		if adm.DisplayName != "AdministratorAccess on prod (111111111111)" || adm.Rule != "prod-admin" || adm.MaxDuration != time.Hour ||
			adm.DefaultDuration != 15*time.Minute || adm.PermissionSetARN != adminARN || adm.Approvers != "group Approvers" ||
			!strings.Contains(adm.Why, "you are in group Security, which it allows") {
			t.Errorf("item %+v", adm)
		}
		// Alice is not in Security: the admin set on prod is not hers to request.
		items, _, err = e.svc.Catalog(ctx, alice, CatalogQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if got := catalogIDs(t, items); reflect.DeepEqual(got, all) || got[0] != entRead || !slices.Contains(got, entOps) {
			t.Errorf("alice's catalog %v (her IAM user alice-iam can join ops)", got)
		}
		// Frank has no Identity Center user (and no IAM user): nothing is his to request, and
		// Entry says why.
		items, _, err = e.svc.Catalog(ctx, frank, CatalogQuery{})
		if err != nil || len(items) != 0 {
			t.Errorf("frank's catalog %v %v", catalogIDs(t, items), err)
		}
		// Pages and search.
		p1, tok, err := e.svc.Catalog(ctx, dave, CatalogQuery{Page: store.Page{Size: 4}})
		if err != nil || len(p1) != 4 || tok == "" {
			t.Fatalf("page 1: %d %q %v", len(p1), tok, err)
		}
		p2, tok2, err := e.svc.Catalog(ctx, dave, CatalogQuery{Page: store.Page{Size: 4, Token: tok}})
		if err != nil || tok2 != "" || !reflect.DeepEqual(append(catalogIDs(t, p1), catalogIDs(t, p2)...), all) {
			t.Fatalf("page 2: %v %q %v", catalogIDs(t, p2), tok2, err)
		}
		found, _, err := e.svc.Catalog(ctx, dave, CatalogQuery{Q: "readonly"})
		if err != nil || !reflect.DeepEqual(catalogIDs(t, found), []string{entRead}) {
			t.Errorf("search: %v %v", catalogIDs(t, found), err)
		}
		found, _, _ = e.svc.Catalog(ctx, dave, CatalogQuery{AccountID: devID})
		if !reflect.DeepEqual(catalogIDs(t, found), []string{entDevAdm}) {
			t.Errorf("account filter: %v", catalogIDs(t, found))
		}
		_, _, err = e.svc.Catalog(ctx, dave, CatalogQuery{Page: store.Page{Token: "junk"}})
		wantCode(t, err, CodeInvalid, "page token")
	})
}

func TestEntry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, strings.Replace(testDoc, "policies:\n", securityOnly+"policies:\n", 1))
		en, err := e.svc.Entry(ctx, dave, entAdmin)
		if err != nil || !en.Requestable {
			t.Fatalf("dave: %+v %v", en, err)
		}
		want := &PermissionSetInfo{ARN: adminARN, Name: "AdministratorAccess", SessionDuration: "PT1H",
			ManagedPolicies: []string{"arn:aws:iam::aws:policy/AdministratorAccess"}, InlinePolicy: `{"Version":"2012-10-17","Statement":[]}`}
		if !reflect.DeepEqual(en.PermissionSet, want) {
			t.Errorf("grants %+v", en.PermissionSet)
		}
		en, _ = e.svc.Entry(ctx, alice, entAdmin)
		if en.Requestable || en.NotRequestableWhy != "You cannot request permission set AdministratorAccess on account prod: rule 'prod-admin' allows only group Security, and you are not among them; ask to be added, or ask an admin to change the rule." {
			t.Errorf("alice: %+v", en)
		}
		en, _ = e.svc.Entry(ctx, frank, entRead)
		if en.Requestable || !strings.HasPrefix(en.NotRequestableWhy, "You have no Identity Center user with the email or user name frank@example.com") {
			t.Errorf("frank: %+v", en)
		}
		// Dave's manager is unknown and he is the whole fallback: the entry says so before he tries.
		en, _ = e.svc.Entry(ctx, dave, entAppr)
		if en.Requestable || !strings.Contains(en.NotRequestableWhy, "This request cannot be made: step 1") {
			t.Errorf("dave, group: %+v", en)
		}
		_, err = e.svc.Entry(ctx, dave, "iam_policy:arn:aws:iam::aws:policy/ReadOnlyAccess:attached")
		wantCode(t, err, CodeNotFound, "no entitlement")
	})
}
