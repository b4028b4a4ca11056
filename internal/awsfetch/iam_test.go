package awsfetch

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/inventory"
)

// singleAccountFixture is one account without an organization: users with and without
// console passwords, keys, virtual and hardware MFA, groups, roles, a versioned customer
// policy and inline policies (one with characters that URL encoding must round-trip).
const singleAccountFixture = `
now: 2026-01-01T00:00:00Z
region: us-east-1
management_account: "111111111111"
accounts:
  - id: "111111111111"
    name: acme
    aliases: [acme]
    iam:
      policies:
        - name: app-data-rw
          path: /app/
          description: Read and write the application bucket
          created: 2025-06-01T00:00:00Z
          versions:
            - '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}'
            - '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"*"}]}'
      groups:
        - name: admins
          attached_policies: [AdministratorAccess]
        - name: developers
          attached_policies: [PowerUserAccess, app-data-rw]
          inline_policies:
            deny-iam-writes: '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["iam:Create*","iam:Delete*"],"Resource":"*"}]}'
      users:
        - name: alice
          tags: {email: alice@acme.example, team: platform}
          created: 2024-03-01T00:00:00Z
          console_password: true
          password_last_used: 2025-12-31T09:30:00Z
          mfa: [virtual]
          access_keys:
            - id: AKIAALICE00000000001
              created: 2025-07-01T00:00:00Z
              last_used: 2025-12-31T10:00:00Z
              last_used_service: s3
              last_used_region: eu-west-1
          groups: [admins]
        - name: bob
          console_password: true
          access_keys:
            - id: AKIABOB0000000000001
              created: 2024-01-15T00:00:00Z
          groups: [developers]
          attached_policies: [arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess]
        - name: ci-deployer
          path: /service/
          mfa: [hardware]
          inline_policies:
            deploy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringLike":{"s3:prefix":["a+b c/%41*"]}}}]}'
      password_policy:
        minimum_password_length: 14
        password_reuse_prevention: 24
        max_password_age: 90
        require_symbols: true
      root:
        mfa: virtual
        password_last_used: 2025-12-30T08:00:00Z
        access_keys:
          - id: AKIAROOT000000000001
            created: 2020-01-01T00:00:00Z
            last_used: 2025-12-01T00:00:00Z
            last_used_service: iam
      roles:
        - name: app-server
          description: Instance profile role of the application servers
          trust: {service: ec2.amazonaws.com}
          attached_policies: [app-data-rw]
          last_used: 2025-12-31T23:00:00Z
          last_used_region: us-west-2
        - name: vendor-audit
          path: /vendors/
          trust: {aws: ["464622532012"], external_id: acme-vendor-7}
          attached_policies: [SecurityAudit]
          max_session_duration: 7200
          tags: {vendor: datadog}
connector:
  external_id: acme-gatehouse-1
`

// TestFetchSingleAccount fetches one account without Organizations and checks every
// part of its IAM: the entities with their attachments and decoded policies, the parsed
// credential report, access keys, virtual and hardware MFA and the aliases.
func TestFetchSingleAccount(t *testing.T) {
	env := startSim(t, fixture(t, singleAccountFixture), awssim.Options{})
	cfg := env.cfg
	cfg.Orgs = false
	cfg.SyncSecrets = true
	snap, stats := fetch(t, cfg)

	const acct = "111111111111"
	now := env.now
	day := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	created := day("2026-01-01T00:00:00Z") // the fixture's clock: every default time
	var (
		w                                   *awssim.World
		operatorKey, hardwareSerial         string
		uid, gid, rid                       = map[string]string{}, map[string]string{}, map[string]string{}
		appPolicyID                         string
		adminP, powerP, s3roP, auditP       *awssim.Policy
		connectorPermissions, operatorTrust string
	)
	env.sim.Do(func(world *awssim.World) {
		w = world
		a := w.Accounts[acct]
		for n, u := range a.Users {
			uid[n] = u.ID
		}
		for n, g := range a.Groups {
			gid[n] = g.ID
		}
		for n, r := range a.Roles {
			rid[n] = r.ID
		}
		operatorKey = a.Users[awssim.OperatorUserName].AccessKeys[0].ID
		for serial, d := range a.MFADevices {
			if !d.Virtual {
				hardwareSerial = serial
			}
		}
		appPolicyID = a.Policies["arn:aws:iam::111111111111:policy/app/app-data-rw"].ID
		adminP = worldPolicy(w, acct, "arn:aws:iam::aws:policy/AdministratorAccess")
		powerP = worldPolicy(w, acct, "arn:aws:iam::aws:policy/PowerUserAccess")
		s3roP = worldPolicy(w, acct, "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
		auditP = worldPolicy(w, acct, "arn:aws:iam::aws:policy/SecurityAudit")
		connectorPermissions = a.Roles[awssim.ConnectorRoleName].InlinePolicies["GatehouseConnectorAccess"]
		operatorTrust = a.Roles[awssim.ConnectorRoleName].AssumeRolePolicy
	})
	awsManaged := func(p *awssim.Policy, attachments int32) *inventory.ManagedPolicy {
		return &inventory.ManagedPolicy{ARN: p.ARN, ID: p.ID, Name: p.Name, Path: p.Path, AWSManaged: true,
			Description: p.Description, DefaultVersion: p.DefaultVersion, Document: p.Document(),
			AttachmentCount: attachments, CreatedAt: p.CreateDate, UpdatedAt: p.UpdateDate}
	}
	noKeys := [2]inventory.CredentialReportKey{}
	operatorARN := "arn:aws:iam::111111111111:user/gatehouse-operator"

	want := &inventory.Snapshot{
		CallerARN:       "arn:aws:sts::111111111111:assumed-role/GatehouseConnector/gatehouse-sync",
		CallerAccountID: acct,
		Accounts: []*inventory.Account{{
			ID: acct, Name: "acme", Status: "ACTIVE", Synced: true, Aliases: []string{"acme"},
			IAM: &inventory.IAM{
				Users: []*inventory.User{
					{ARN: "arn:aws:iam::111111111111:user/alice", ID: uid["alice"], Name: "alice", Path: "/", CreatedAt: day("2024-03-01T00:00:00Z"),
						Tags: map[string]string{"email": "alice@acme.example", "team": "platform"}, Groups: []string{"admins"}},
					{ARN: "arn:aws:iam::111111111111:user/bob", ID: uid["bob"], Name: "bob", Path: "/", CreatedAt: created,
						Groups: []string{"developers"}, AttachedPolicies: []string{"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}},
					{ARN: "arn:aws:iam::111111111111:user/service/ci-deployer", ID: uid["ci-deployer"], Name: "ci-deployer", Path: "/service/", CreatedAt: created,
						InlinePolicies: []inventory.InlinePolicy{{Name: "deploy", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringLike":{"s3:prefix":["a+b c/%41*"]}}}]}`}}},
					{ARN: operatorARN, ID: uid[awssim.OperatorUserName], Name: awssim.OperatorUserName, Path: "/", CreatedAt: created,
						InlinePolicies: []inventory.InlinePolicy{{Name: "AssumeGatehouseConnector", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::111111111111:role/GatehouseConnector"}]}`}}},
				},
				Groups: []*inventory.Group{
					{ARN: "arn:aws:iam::111111111111:group/admins", ID: gid["admins"], Name: "admins", Path: "/", CreatedAt: created,
						AttachedPolicies: []string{"arn:aws:iam::aws:policy/AdministratorAccess"}},
					{ARN: "arn:aws:iam::111111111111:group/developers", ID: gid["developers"], Name: "developers", Path: "/", CreatedAt: created,
						AttachedPolicies: []string{"arn:aws:iam::111111111111:policy/app/app-data-rw", "arn:aws:iam::aws:policy/PowerUserAccess"},
						InlinePolicies:   []inventory.InlinePolicy{{Name: "deny-iam-writes", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["iam:Create*","iam:Delete*"],"Resource":"*"}]}`}}},
				},
				Roles: []*inventory.Role{
					{ARN: "arn:aws:iam::111111111111:role/GatehouseConnector", ID: rid[awssim.ConnectorRoleName], Name: awssim.ConnectorRoleName, Path: "/", CreatedAt: created,
						Description: "Assumed by Gatehouse to read (and, when enabled, change) access", TrustPolicy: operatorTrust, MaxSessionDuration: 3600,
						InlinePolicies: []inventory.InlinePolicy{{Name: "GatehouseConnectorAccess", Document: connectorPermissions}},
						LastUsedAt:     now, LastUsedRegion: "us-east-1"},
					{ARN: "arn:aws:iam::111111111111:role/app-server", ID: rid["app-server"], Name: "app-server", Path: "/", CreatedAt: created,
						Description: "Instance profile role of the application servers", MaxSessionDuration: 3600,
						TrustPolicy:      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
						AttachedPolicies: []string{"arn:aws:iam::111111111111:policy/app/app-data-rw"},
						LastUsedAt:       day("2025-12-31T23:00:00Z"), LastUsedRegion: "us-west-2"},
					{ARN: "arn:aws:iam::111111111111:role/vendors/vendor-audit", ID: rid["vendor-audit"], Name: "vendor-audit", Path: "/vendors/", CreatedAt: created,
						MaxSessionDuration: 7200, Tags: map[string]string{"vendor": "datadog"},
						TrustPolicy:      awssim.TrustPolicy("arn:aws:iam::464622532012:root", "acme-vendor-7"),
						AttachedPolicies: []string{"arn:aws:iam::aws:policy/SecurityAudit"}},
				},
				Policies: []*inventory.ManagedPolicy{
					{ARN: "arn:aws:iam::111111111111:policy/app/app-data-rw", ID: appPolicyID, Name: "app-data-rw", Path: "/app/",
						Description: "Read and write the application bucket", DefaultVersion: "v2",
						Document:        `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"*"}]}`,
						AttachmentCount: 2, CreatedAt: day("2025-06-01T00:00:00Z"), UpdatedAt: day("2025-06-01T00:00:00Z")},
					awsManaged(adminP, 1),
					awsManaged(s3roP, 1),
					awsManaged(powerP, 1),
					awsManaged(auditP, 1),
				},
				CredentialReport: []*inventory.CredentialReportRow{
					{User: "<root_account>", ARN: "arn:aws:iam::111111111111:root", CreatedAt: created, MFAActive: true,
						PasswordLastUsed: day("2025-12-30T08:00:00Z"),
						AccessKeys: [2]inventory.CredentialReportKey{{Active: true, LastRotated: day("2020-01-01T00:00:00Z"),
							LastUsed: day("2025-12-01T00:00:00Z"), LastUsedRegion: "us-east-1", LastUsedService: "iam"}}},
					{User: "alice", ARN: "arn:aws:iam::111111111111:user/alice", CreatedAt: day("2024-03-01T00:00:00Z"),
						PasswordEnabled: true, PasswordLastUsed: day("2025-12-31T09:30:00Z"), PasswordLastChanged: day("2024-03-01T00:00:00Z"), MFAActive: true,
						AccessKeys: [2]inventory.CredentialReportKey{{Active: true, LastRotated: day("2025-07-01T00:00:00Z"), LastUsed: day("2025-12-31T10:00:00Z"), LastUsedRegion: "eu-west-1", LastUsedService: "s3"}}},
					{User: "bob", ARN: "arn:aws:iam::111111111111:user/bob", CreatedAt: created, PasswordEnabled: true, PasswordLastChanged: created,
						AccessKeys: [2]inventory.CredentialReportKey{{Active: true, LastRotated: day("2024-01-15T00:00:00Z")}}},
					{User: "ci-deployer", ARN: "arn:aws:iam::111111111111:user/service/ci-deployer", CreatedAt: created, MFAActive: true, AccessKeys: noKeys},
					{User: awssim.OperatorUserName, ARN: operatorARN, CreatedAt: created,
						AccessKeys: [2]inventory.CredentialReportKey{{Active: true, LastRotated: created, LastUsed: now, LastUsedRegion: "us-east-1", LastUsedService: "sts"}}},
				},
				AccessKeys: []*inventory.AccessKey{
					{ID: "AKIAALICE00000000001", UserName: "alice", UserARN: "arn:aws:iam::111111111111:user/alice", Status: "Active",
						CreatedAt: day("2025-07-01T00:00:00Z"), LastUsedAt: day("2025-12-31T10:00:00Z"), LastUsedService: "s3", LastUsedRegion: "eu-west-1"},
					{ID: "AKIABOB0000000000001", UserName: "bob", UserARN: "arn:aws:iam::111111111111:user/bob", Status: "Active", CreatedAt: day("2024-01-15T00:00:00Z")},
					{ID: operatorKey, UserName: awssim.OperatorUserName, UserARN: operatorARN, Status: "Active", CreatedAt: created,
						LastUsedAt: now, LastUsedService: "sts", LastUsedRegion: "us-east-1"},
				},
				MFADevices: []*inventory.MFADevice{
					{Serial: "arn:aws:iam::111111111111:mfa/alice", Virtual: true, UserName: "alice", EnabledAt: day("2024-03-01T00:00:00Z")},
					{Serial: hardwareSerial, UserName: "ci-deployer", EnabledAt: created},
				},
				CredentialReportGeneratedAt: now,
				RootVirtualMFA:              []string{"arn:aws:iam::111111111111:mfa/root-account-mfa-device"},
				RootSummary:                 &inventory.RootSummary{MFAEnabled: true, AccessKeysPresent: true},
				PasswordPolicy: &inventory.PasswordPolicy{MinimumPasswordLength: 14, PasswordReusePrevention: 24, MaxPasswordAge: 90,
					RequireSymbols: true, ExpirePasswords: true},
				PasswordPolicyState: inventory.PasswordPolicySet,
			},
		}},
	}
	assertEqual(t, "snapshot", want, comparable(snap))
	if got := snap.FetchedAt; got.IsZero() || got.Location() != time.UTC {
		t.Errorf("FetchedAt = %v, want a UTC time", got)
	}

	// Bulk calls only: one of each, plus the credential report's polls, one
	// ListMFADevices for the one user with MFA and no virtual device (GetAccountSummary's
	// two devices in use are then explained), and one ListAccessKeys per user. The report
	// covers every key, so no GetAccessKeyLastUsed.
	ops := map[string]int64{}
	for _, o := range stats.Operations {
		ops[o.Service+":"+o.Operation] = o.Calls
	}
	for op, n := range map[string]int64{
		"iam:GetAccountAuthorizationDetails": 1, "iam:ListRoles": 1, "iam:ListVirtualMFADevices": 1,
		"iam:ListAccountAliases": 1, "iam:GetCredentialReport": 1, "iam:ListMFADevices": 1,
		"iam:ListAccessKeys": 4, "iam:GetAccessKeyLastUsed": 0, "iam:GetAccountSummary": 1, "iam:GetLoginProfile": 0, "iam:GetUser": 0,
		"iam:GetAccountPasswordPolicy": 1,
		"sts:GetCallerIdentity":        1, "sts:AssumeRole": 1,
	} {
		if ops[op] != n {
			t.Errorf("%s calls = %d, want %d", op, ops[op], n)
		}
	}
	if stats.Accounts != 1 || stats.Synced != 1 || len(stats.Skipped) != 0 {
		t.Errorf("accounts %d, synced %d, skipped %v; want 1, 1, none", stats.Accounts, stats.Synced, stats.Skipped)
	}
	assertEqual(t, "calls per service (fetch vs simulator)", simCalls(env.sim), statsCalls(stats))
}

// TestFetchWithoutSecrets checks that access keys are read only when asked for.
func TestFetchWithoutSecrets(t *testing.T) {
	env := startSim(t, fixture(t, singleAccountFixture), awssim.Options{})
	snap, stats := fetch(t, env.cfg)
	if keys := snap.Accounts[0].IAM.AccessKeys; keys != nil {
		t.Errorf("AccessKeys = %v, want nil without SyncSecrets", keys)
	}
	for _, o := range stats.Operations {
		if o.Operation == "ListAccessKeys" || o.Operation == "GetAccessKeyLastUsed" {
			t.Errorf("%s called %d times without SyncSecrets", o.Operation, o.Calls)
		}
	}
}

// TestFetchCredentialReportUnavailable checks that an account whose credential report
// never becomes ready is still synced, says why the report is missing, and falls back
// to asking every user for MFA devices so that hardware devices are not lost.
func TestFetchCredentialReportUnavailable(t *testing.T) {
	env := startSim(t, fixture(t, singleAccountFixture), awssim.Options{CredentialReportDelay: time.Hour})
	cfg := env.cfg
	cfg.CredentialReportTimeout = 50 * time.Millisecond
	snap, stats := fetch(t, cfg)
	a := snap.Accounts[0]
	if !a.Synced || a.IAM == nil {
		t.Fatalf("account not synced: %q", a.SkipReason)
	}
	if a.IAM.CredentialReport != nil || !strings.Contains(a.IAM.CredentialReportError, "not ready") {
		t.Errorf("CredentialReport = %v, CredentialReportError = %q; want nil and a reason", a.IAM.CredentialReport, a.IAM.CredentialReportError)
	}
	serials := names(a.IAM.MFADevices, func(d *inventory.MFADevice) string { return d.UserName })
	assertEqual(t, "MFA device owners", []string{"alice", "ci-deployer"}, serials)
	for _, o := range stats.Operations {
		if o.Operation == "ListMFADevices" && o.Calls != 4 {
			t.Errorf("ListMFADevices calls = %d, want 4 (every user)", o.Calls)
		}
	}
}

// TestFetchCredentialReportAsync checks the wait for a report that takes a while.
func TestFetchCredentialReportAsync(t *testing.T) {
	// A running clock, so that the report completes.
	env := startSim(t, fixture(t, singleAccountFixture), awssim.Options{CredentialReportDelay: 150 * time.Millisecond, Now: time.Now})
	cfg := env.cfg
	cfg.CredentialReportPoll = 20 * time.Millisecond
	snap, stats := fetch(t, cfg)
	if got := len(snap.Accounts[0].IAM.CredentialReport); got != 5 {
		t.Errorf("credential report rows = %d, want 5 (error %q)", got, snap.Accounts[0].IAM.CredentialReportError)
	}
	for _, o := range stats.Operations {
		if o.Operation == "GenerateCredentialReport" && o.Calls < 2 {
			t.Errorf("GenerateCredentialReport calls = %d, want polling (at least 2)", o.Calls)
		}
	}
}

func TestDecodePolicy(t *testing.T) {
	for in, want := range map[string]string{
		"%7B%22a%22%3A%22x%2By%20z%22%7D": `{"a":"x+y z"}`,
		`{"a":"already plain"}`:           `{"a":"already plain"}`,
		"":                                "",
		"%7B%22a%22%3A%22b+c%22%7D":       `{"a":"b+c"}`, // a raw + is a plus, not a space
	} {
		if got := decodePolicy(in); got != want {
			t.Errorf("decodePolicy(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReservedPermissionSetName(t *testing.T) {
	for _, c := range []struct {
		path, name, want string
		ok               bool
	}{
		{"/aws-reserved/sso.amazonaws.com/", "AWSReservedSSO_AdministratorAccess_0123456789abcdef", "AdministratorAccess", true},
		{"/aws-reserved/sso.amazonaws.com/eu-west-1/", "AWSReservedSSO_Read_Only_fedcba9876543210", "Read_Only", true},
		{"/", "AWSReservedSSO_AdministratorAccess_0123456789abcdef", "", false},
		{"/aws-reserved/sso.amazonaws.com/", "OrganizationAccountAccessRole", "", false},
	} {
		got, ok := reservedPermissionSetName(c.path, c.name)
		if got != c.want || ok != c.ok {
			t.Errorf("reservedPermissionSetName(%q, %q) = %q, %v; want %q, %v", c.path, c.name, got, ok, c.want, c.ok)
		}
	}
}

// TestFetchPasswordPolicyStates: an account without a password policy (IAM's
// NoSuchEntity) reads as "none", an answer and not a failed call; one whose
// GetAccountPasswordPolicy keeps failing after the retries, or is denied, reads as
// "unread" with the error, and its IAM is still synced (the findings then say unknown).
func TestFetchPasswordPolicyStates(t *testing.T) {
	cases := []struct {
		name      string
		arrange   func(a *awssim.Account)
		state     string
		wantError string
	}{
		{"none", func(a *awssim.Account) {}, inventory.PasswordPolicyNone, ""},
		{"set", func(a *awssim.Account) {
			a.PasswordPolicy = &awssim.PasswordPolicy{MinimumPasswordLength: 8, RequireNumbers: true}
		}, inventory.PasswordPolicySet, ""},
		{"throttled", func(a *awssim.Account) {
			a.Faults = map[string]awssim.Fault{"GetAccountPasswordPolicy": awssim.FaultThrottle}
		}, inventory.PasswordPolicyUnread, "IAM GetAccountPasswordPolicy failed 3 times: Throttling: Rate exceeded"},
		{"server error", func(a *awssim.Account) {
			a.Faults = map[string]awssim.Fault{"GetAccountPasswordPolicy": awssim.FaultServerError}
		}, inventory.PasswordPolicyUnread, "IAM GetAccountPasswordPolicy failed 3 times: ServiceFailure"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := startSim(t, fixture(t, singleAccountFixture), awssim.Options{})
			env.sim.Do(func(w *awssim.World) {
				a := w.Accounts["111111111111"]
				a.PasswordPolicy = nil
				c.arrange(a)
			})
			cfg := env.cfg
			cfg.Orgs = false
			cfg.MaxAttempts = 3
			snap, stats := fetch(t, cfg)
			a := snap.Accounts[0]
			if !a.Synced || a.IAM == nil || len(a.IAM.Users) == 0 {
				t.Fatalf("account not synced: %+v", a)
			}
			if a.IAM.PasswordPolicyState != c.state || !strings.HasPrefix(a.IAM.PasswordPolicyError, c.wantError) ||
				(c.wantError == "") != (a.IAM.PasswordPolicyError == "") {
				t.Fatalf("state %q error %q; want %q %q", a.IAM.PasswordPolicyState, a.IAM.PasswordPolicyError, c.state, c.wantError)
			}
			if c.name == "set" && (a.IAM.PasswordPolicy == nil || a.IAM.PasswordPolicy.MinimumPasswordLength != 8 ||
				!a.IAM.PasswordPolicy.RequireNumbers || a.IAM.PasswordPolicy.PasswordReusePrevention != 0) {
				t.Fatalf("policy %+v", a.IAM.PasswordPolicy)
			}
			for _, o := range stats.Operations {
				if o.Operation == "GetAccountPasswordPolicy" && c.name == "none" && (o.Calls != 1 || o.Errors != 0) {
					t.Errorf("NoSuchEntity: %d calls, %d errors; want 1 call and no error", o.Calls, o.Errors)
				}
			}
		})
	}
	t.Run("denied", func(t *testing.T) {
		env := startSim(t, fixture(t, singleAccountFixture), awssim.Options{})
		cfg := callerIn(t, env, "111111111111")
		env.sim.Do(func(w *awssim.World) {
			u := w.Accounts["111111111111"].Users["gatehouse-111111111111"]
			u.InlinePolicies["deny-password-policy"] = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:GetAccountPasswordPolicy","Resource":"*"}]}`
		})
		snap, _ := fetch(t, cfg)
		a := snap.Accounts[0]
		if !a.Synced || a.IAM.PasswordPolicyState != inventory.PasswordPolicyUnread ||
			!strings.HasPrefix(a.IAM.PasswordPolicyError, "iam:GetAccountPasswordPolicy denied: AccessDenied") {
			t.Fatalf("denied: synced %v state %q error %q", a.Synced, a.IAM.PasswordPolicyState, a.IAM.PasswordPolicyError)
		}
	})
}
