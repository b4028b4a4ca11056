package connector

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/gatehouse/gatehouse/internal/inventory"
)

// syntheticSnapshot builds an organization of the given shape, for measuring the baton half
// of a sync without AWS or the simulator.
func syntheticSnapshot(accounts, usersPerAccount, ssoUsers, permissionSets int) *inventory.Snapshot {
	s := &inventory.Snapshot{
		FetchedAt: fetchedAt,
		Org: &inventory.Organization{ID: "o-bench", ManagementAccountID: "100000000000", Units: []*inventory.OrgUnit{
			{ID: "r-0000", Name: "Root", IsRoot: true, Path: "Root"},
		}},
		IdentityCenter: &inventory.IdentityCenter{InstanceARN: instanceARN, IdentityStoreID: "d-0", Members: map[string][]string{}},
	}
	for i := range 10 {
		s.Org.Units = append(s.Org.Units, &inventory.OrgUnit{ID: fmt.Sprintf("ou-0000-%08d", i), Name: fmt.Sprintf("ou%d", i), ParentID: "r-0000"})
	}
	ic := s.IdentityCenter
	for i := range permissionSets {
		ic.PermissionSets = append(ic.PermissionSets, &inventory.PermissionSet{
			ARN: fmt.Sprintf("arn:aws:sso:::permissionSet/ssoins-0/ps-%016x", i), Name: fmt.Sprintf("PS%d", i),
		})
	}
	for i := range ssoUsers {
		ic.Users = append(ic.Users, &inventory.SSOUser{ID: fmt.Sprintf("u-%06d", i), UserName: fmt.Sprintf("user%d", i)})
	}
	for g := range ssoUsers / 20 {
		gid := fmt.Sprintf("g-%05d", g)
		ic.Groups = append(ic.Groups, &inventory.SSOGroup{ID: gid, DisplayName: gid})
		for m := range 20 {
			ic.Members[gid] = append(ic.Members[gid], fmt.Sprintf("u-%06d", g*20+m))
		}
	}
	for a := range accounts {
		id := fmt.Sprintf("%012d", 100000000000+a)
		acct := &inventory.Account{ID: id, Name: "acct" + id, Status: "ACTIVE", ParentID: fmt.Sprintf("ou-0000-%08d", a%10), Synced: true, IAM: &inventory.IAM{}}
		in := acct.IAM
		for g := range 5 {
			in.Groups = append(in.Groups, &inventory.Group{ARN: fmt.Sprintf("arn:aws:iam::%s:group/g%d", id, g), Name: fmt.Sprintf("g%d", g), AttachedPolicies: []string{readOnlyARN}})
		}
		for u := range usersPerAccount {
			name := fmt.Sprintf("user%d", u)
			in.Users = append(in.Users, &inventory.User{ARN: fmt.Sprintf("arn:aws:iam::%s:user/%s", id, name), Name: name, Groups: []string{fmt.Sprintf("g%d", u%5)}})
			in.CredentialReport = append(in.CredentialReport, &inventory.CredentialReportRow{User: name, PasswordEnabled: u%2 == 0})
		}
		for r := range 20 {
			in.Roles = append(in.Roles, &inventory.Role{ARN: fmt.Sprintf("arn:aws:iam::%s:role/r%d", id, r), Name: fmt.Sprintf("r%d", r), TrustPolicy: `{"Version":"2012-10-17"}`, AttachedPolicies: []string{adminAccessARN}})
		}
		in.Policies = append(in.Policies, &inventory.ManagedPolicy{ARN: readOnlyARN, Name: "ReadOnlyAccess", AWSManaged: true, AttachmentCount: 5})
		s.Accounts = append(s.Accounts, acct)
		for p := range 3 {
			ic.Assignments = append(ic.Assignments, &inventory.Assignment{
				AccountID: id, PermissionSetARN: ic.PermissionSets[(a+p)%permissionSets].ARN,
				PrincipalType: "GROUP", PrincipalID: ic.Groups[(a+p)%len(ic.Groups)].ID,
			})
		}
	}
	return s
}

// withInlinePolicies adds what the large preset has of inline policies, in proportion (one
// per ten users, one per group of five, about one per two roles: 4,357 in 300 accounts),
// and a permissions boundary on every role, so that the cost of modelling them shows.
func withInlinePolicies(s *inventory.Snapshot) *inventory.Snapshot {
	const doc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:*:111111111111:log-group:/app/*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}]}`
	for _, a := range s.Accounts {
		in := a.IAM
		for i, u := range in.Users {
			if i%10 == 0 {
				u.InlinePolicies = []inventory.InlinePolicy{{Name: "scratch", Document: doc}}
			}
		}
		in.Groups[0].InlinePolicies = []inventory.InlinePolicy{{Name: "deny-iam-writes", Document: doc}}
		for i, r := range in.Roles {
			r.PermissionsBoundary = readOnlyARN
			if i%2 == 0 {
				r.InlinePolicies = []inventory.InlinePolicy{{Name: "logs", Document: doc}}
			}
		}
	}
	return s
}

// BenchmarkWriteC1Z measures the baton half of a sync of a mid-sized organization. Run by
// hand: go test ./internal/connector -run '^$' -bench WriteC1Z -benchmem
// (BenchmarkWriteC1Z/inline: the same organization with inline policies and boundaries).
func BenchmarkWriteC1Z(b *testing.B) {
	b.Run("managed", func(b *testing.B) { benchWriteC1Z(b, syntheticSnapshot(200, 20, 2000, 30)) })
	b.Run("inline", func(b *testing.B) { benchWriteC1Z(b, withInlinePolicies(syntheticSnapshot(200, 20, 2000, 30))) })
}

func benchWriteC1Z(b *testing.B, snap *inventory.Snapshot) {
	dir := b.TempDir()
	for i := 0; b.Loop(); i++ {
		sum, err := WriteC1Z(context.Background(), NewFromSnapshot(snap), filepath.Join(dir, fmt.Sprintf("%d.c1z", i)))
		if err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			total := 0
			for _, n := range sum.Resources {
				total += n
			}
			b.ReportMetric(float64(total), "resources")
			b.ReportMetric(float64(sum.Entitlements), "entitlements")
			b.ReportMetric(float64(sum.Grants), "grants")
		}
	}
}
