package awssim

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand"
	"strings"
	"time"
)

// Sizes are the numbers of things Generate creates. Counts per account apply to every
// account, the management account included; they do not include what the simulator adds
// on its own: the member access role (OrganizationAccountAccessRole), the Identity Center
// AWSReservedSSO_ roles, and the Gatehouse operator user and connector role in the
// management account.
type Sizes struct {
	// Accounts is the total number of accounts, the management account included.
	Accounts int
	// OUs is the number of organizational units, nested up to three levels below the root.
	OUs int

	IAMUsersPerAccount         int
	IAMGroupsPerAccount        int
	IAMRolesPerAccount         int
	CustomerPoliciesPerAccount int
	// AccessKeysPerUser is the number of access keys of every IAM user (AWS allows 2).
	AccessKeysPerUser int
	// KeyedUsersPercent, when positive, gives access keys to only that share (1-100) of
	// each account's users, spread evenly by position: exactly 13 of every 25 users at 52.
	// Zero gives every user AccessKeysPerUser keys.
	KeyedUsersPercent int
	// MFAPerUserPercent is the share (0-100) of human IAM users with an MFA device.
	MFAPerUserPercent int

	SSOUsers  int
	SSOGroups int
	// MembershipsPerUser is the number of Identity Center groups each user belongs to.
	MembershipsPerUser int
	PermissionSets     int
	// Assignments is the total number of account assignments (users and groups).
	Assignments int

	// SuspendedAccounts are member accounts in the SUSPENDED state.
	SuspendedAccounts int
}

// Preset sizes. large is the organization the sync benchmark runs against.
var genPresetSizes = map[string]Sizes{
	"small": {
		Accounts: 10, OUs: 6,
		IAMUsersPerAccount: 4, IAMGroupsPerAccount: 3, IAMRolesPerAccount: 8, CustomerPoliciesPerAccount: 4,
		AccessKeysPerUser: 1, MFAPerUserPercent: 60,
		SSOUsers: 40, SSOGroups: 8, MembershipsPerUser: 2, PermissionSets: 8, Assignments: 60,
		SuspendedAccounts: 1,
	},
	"large": {
		Accounts: 300, OUs: 24,
		IAMUsersPerAccount: 10, IAMGroupsPerAccount: 5, IAMRolesPerAccount: 40, CustomerPoliciesPerAccount: 10,
		AccessKeysPerUser: 1, MFAPerUserPercent: 50,
		SSOUsers: 3000, SSOGroups: 300, MembershipsPerUser: 3, PermissionSets: 50, Assignments: 6000,
		SuspendedAccounts: 3,
	},
	// secrets is the organization of the secrets-sync benchmark: 5,000 IAM users in 10
	// accounts, 2,600 of them with an access key, and a small Identity Center.
	"secrets": {
		Accounts: 10, OUs: 3,
		IAMUsersPerAccount: 500, IAMGroupsPerAccount: 5, IAMRolesPerAccount: 10, CustomerPoliciesPerAccount: 4,
		AccessKeysPerUser: 1, KeyedUsersPercent: 52, MFAPerUserPercent: 50,
		SSOUsers: 100, SSOGroups: 10, MembershipsPerUser: 2, PermissionSets: 5, Assignments: 100,
	},
}

// PresetNames returns the names Preset accepts.
func PresetNames() []string { return []string{"demo", "small", "large", "secrets"} }

// Preset builds a named organization: "demo" (a handful of accounts with readable names,
// a suspended account and one whose member role is missing), "small" (10 accounts),
// "large" (300 accounts, 3,000 Identity Center users, 6,000 assignments) or "secrets" (10
// accounts of 500 IAM users, 2,600 users with an access key in all). Timestamps are
// relative to the wall clock; everything else depends only on the seed.
func Preset(name string, seed int64) (*World, error) { return PresetAt(name, seed, time.Now()) }

// PresetAt is Preset with the given build time, for tests that compare worlds.
func PresetAt(name string, seed int64, now time.Time) (*World, error) {
	if name == "demo" {
		return genDemoWorld(seed, now), nil
	}
	sizes, ok := genPresetSizes[name]
	if !ok {
		return nil, fmt.Errorf("unknown preset %q; valid presets: %s", name, strings.Join(PresetNames(), ", "))
	}
	return Generate(seed, sizes, now), nil
}

// Generate builds an organization from a seed and sizes. The same seed, sizes and now give
// an identical world: every id, key, name and timestamp (timestamps are relative to now).
// The world's clock starts at now and then follows the wall clock, so that asynchronous
// operations complete when the world is served.
//
// Every generated world has, in us-east-1: an organization with nested OUs; Gatehouse's
// operator user and connector role in the management account (External ID and SCIM token
// derived from the seed); the member access role in every ACTIVE member account; IAM users,
// groups, roles and customer policies in every account; Identity Center users, groups,
// permission sets and assignments; and two buckets in the management account, one holding
// an HR export (hr/employees.csv) of the Identity Center users.
func Generate(seed int64, sizes Sizes, now time.Time) *World {
	g := newGenState(seed, sizes, now)
	g.organization()
	for _, a := range g.accounts {
		g.iam(a)
	}
	g.identityCenter()
	g.buckets()
	g.gatehouseMemberRoles()
	g.startClock()
	return g.w
}

// gatehouseMemberRoles gives every ACTIVE member account the read-only member role, as
// `gatehouse setup aws --orgs` creates it. It runs last so that the ids of everything
// else stay what they were before the simulator created this role.
func (g *genState) gatehouseMemberRoles() {
	for _, a := range g.accounts[1:] {
		if a.Status == "ACTIVE" && a.Roles[OrganizationAccessRoleName] != nil {
			g.w.AddGatehouseMemberRole(a, DefaultMemberRoleName)
		}
	}
}

// genState holds the state of one Generate call. Everything random comes from rng and
// everything is created in slice order, so the world's id sequence is deterministic too.
type genState struct {
	w     *World
	rng   *rand.Rand
	now   time.Time
	sizes Sizes

	accounts []*Account // management first, then members in creation order
	ous      []*OU
}

func newGenState(seed int64, sizes Sizes, now time.Time) *genState {
	sizes = sizes.normalized()
	now = now.UTC().Truncate(time.Second)
	rng := rand.New(rand.NewSource(seed))
	mgmt := genAccountID(rng, nil)
	w := NewWorld(mgmt, "us-east-1", func() time.Time { return now })
	g := &genState{w: w, rng: rng, now: now, sizes: sizes}
	// Ids and secrets come from the world's sequence; starting it at a seed-derived point
	// keeps them deterministic yet different between seeds (two generated organizations do
	// not share access keys). The sequence only counts up, so ids stay unique.
	w.seq += int64(genMix(uint64(seed)) >> 24)
	// The connector comes first so that its key and role ids do not depend on the sizes.
	w.AddConnectorAccess(genExternalID(seed), "")
	w.Connector.SCIMToken = genSCIMToken(seed)
	return g
}

// normalized clamps sizes to what the genState (and AWS) can build.
func (s Sizes) normalized() Sizes {
	clamp := func(v, lo, hi int) int { return max(lo, min(v, hi)) }
	s.Accounts = max(s.Accounts, 1)
	s.OUs = max(s.OUs, 0)
	s.IAMUsersPerAccount = max(s.IAMUsersPerAccount, 0)
	s.IAMGroupsPerAccount = max(s.IAMGroupsPerAccount, 0)
	s.IAMRolesPerAccount = max(s.IAMRolesPerAccount, 0)
	s.CustomerPoliciesPerAccount = max(s.CustomerPoliciesPerAccount, 0)
	s.AccessKeysPerUser = clamp(s.AccessKeysPerUser, 0, 2)
	s.KeyedUsersPercent = clamp(s.KeyedUsersPercent, 0, 100)
	s.MFAPerUserPercent = clamp(s.MFAPerUserPercent, 0, 100)
	s.SSOUsers = max(s.SSOUsers, 0)
	s.SSOGroups = max(s.SSOGroups, 0)
	s.MembershipsPerUser = clamp(s.MembershipsPerUser, 0, s.SSOGroups)
	s.PermissionSets = max(s.PermissionSets, 0)
	s.Assignments = max(s.Assignments, 0)
	s.SuspendedAccounts = clamp(s.SuspendedAccounts, 0, s.Accounts-1)
	return s
}

// startClock lets the world's clock run from now on, so that delays (assignment
// operations, credential reports) elapse when the world is served.
func (g *genState) startClock() { genStartClock(g.w, g.now) }

func genStartClock(w *World, now time.Time) {
	start := time.Now()
	w.now = func() time.Time { return now.Add(time.Since(start)) }
}

// accountID returns a 12-digit account id not in taken.
func genAccountID(rng *rand.Rand, taken map[string]bool) string {
	for {
		id := fmt.Sprintf("%012d", 100000000000+rng.Int63n(900000000000))
		if !taken[id] {
			return id
		}
	}
}

// genMix is SplitMix64's finalizer: seed-derived secrets that do not consume rng.
func genMix(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}

func genExternalID(seed int64) string {
	return fmt.Sprintf("gatehouse-%016x", genMix(uint64(seed)^0x6761746568))
}

// genSCIMToken returns a bearer token shaped like Identity Center's (long, base64).
func genSCIMToken(seed int64) string {
	b := make([]byte, 0, 96)
	x := uint64(seed) ^ 0x7363696d
	for len(b) < 96 {
		x = genMix(x)
		b = binary.BigEndian.AppendUint64(b, x)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// ago returns a time between minDays and maxDays days before now, to the second.
func (g *genState) ago(minDays, maxDays int) time.Time {
	span := int64(maxDays-minDays) * 86400
	off := int64(minDays) * 86400
	if span > 0 {
		off += g.rng.Int63n(span)
	}
	return g.now.Add(-time.Duration(off) * time.Second)
}

func (g *genState) chance(percent int) bool { return g.rng.Intn(100) < percent }

func genPick[T any](rng *rand.Rand, list []T) T { return list[rng.Intn(len(list))] }

// Name pools. They are long enough for readable names; beyond them names get a number.
var (
	genGivenNames = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
		"kevin", "laura", "mallory", "nina", "oscar", "peggy", "quinn", "rupert", "sybil", "trent",
		"ursula", "victor", "wendy", "xavier", "yara", "zoe", "aaron", "beth", "chen", "diego",
		"elena", "farah", "gus", "hana", "igor", "jonas", "keiko", "luca", "maya", "noah",
		"olga", "pablo", "rosa", "sam", "tariq", "uma", "vera", "wei", "yusuf", "zara"}
	genFamilyNames = []string{"nguyen", "martinez", "okafor", "kim", "schulz", "rossi", "patel", "garcia", "cohen", "novak",
		"tanaka", "silva", "murphy", "jensen", "dubois", "kowalski", "haddad", "larsen", "moreau", "ivanova",
		"mensah", "fischer", "romero", "sato", "walsh", "yilmaz", "andersen", "costa", "das", "ferreira",
		"horvat", "ito", "kaur", "lopez", "muller", "nakamura", "obrien", "park", "reyes", "singh",
		"berg", "chowdhury", "eriksen", "gallo", "hughes", "jaworski", "lindqvist", "mbeki", "petrov", "zhang"}
	genTeams = []string{"payments", "search", "checkout", "identity", "platform", "data", "ml", "mobile", "web", "billing",
		"growth", "infra", "security", "analytics", "support", "catalog", "orders", "shipping", "inventory", "pricing",
		"risk", "messaging", "media", "reporting", "ads", "maps", "auth", "api", "devex", "sre"}
	genEnvs             = []string{"prod", "staging", "dev", "sandbox", "shared"}
	genServiceUsers     = []string{"ci-deployer", "terraform", "backup-agent", "monitoring", "etl-runner", "legacy-app", "log-shipper", "smtp-relay"}
	genServices         = []string{"s3", "sts", "ec2", "iam", "dynamodb", "lambda", "cloudformation", "logs", "sqs"}
	genRegions          = []string{"us-east-1", "us-east-1", "us-east-1", "us-west-2", "eu-west-1", "eu-central-1"}
	genSessionDurations = []string{"PT1H", "PT2H", "PT4H", "PT8H", "PT12H"}
)

// genVendorAccountID is a third-party monitoring vendor's account, trusted with an External ID
// as vendors document it.
const genVendorAccountID = "464622532012"

func genTitle(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// organization creates the organization, its OUs and the member accounts.
func (g *genState) organization() {
	w, s := g.w, g.sizes
	w.EnableOrganization()
	mgmt := w.ManagementAccount()
	mgmt.Name, mgmt.Email = "management", "aws-management@example.com"
	mgmt.JoinedAt = g.ago(2000, 2500)
	mgmt.Aliases = []string{"example-management"}
	g.accounts = append(g.accounts, mgmt)

	// OUs: the usual top level first, then genTeams under Workloads with Prod and NonProd
	// below them (three levels, as landing zones lay them out).
	top := []string{"Workloads", "Security", "Infrastructure", "Sandbox"}
	var workloads *OU
	var team *OU
	teamChildren, teamN := 2, 0
	for i := 0; i < s.OUs; i++ {
		var ou *OU
		switch {
		case i < len(top):
			ou = w.AddOU(top[i], w.Org.RootID)
			if i == 0 {
				workloads = ou
			}
		case teamChildren == 2:
			ou = w.AddOU(genTitle(genTeams[teamN%len(genTeams)])+genSuffix(teamN/len(genTeams)), workloads.ID)
			team, teamChildren, teamN = ou, 0, teamN+1
		default:
			ou = w.AddOU([]string{"Prod", "NonProd"}[teamChildren], team.ID)
			teamChildren++
		}
		g.ous = append(g.ous, ou)
	}
	var securityOU *OU
	if len(g.ous) > 1 {
		securityOU = g.ous[1]
	}

	taken := map[string]bool{mgmt.ID: true}
	names := map[string]int{}
	for i := 1; i < s.Accounts; i++ {
		id := genAccountID(g.rng, taken)
		taken[id] = true
		var name string
		parent := w.Org.RootID
		switch {
		case i == 1:
			name = "security"
		case i == 2:
			name = "log-archive"
		default:
			name = genPick(g.rng, genTeams) + "-" + genPick(g.rng, genEnvs)
		}
		if i <= 2 && securityOU != nil {
			parent = securityOU.ID
		} else if len(g.ous) > 0 {
			parent = genPick(g.rng, g.ous).ID
		}
		names[name]++
		if n := names[name]; n > 1 {
			name = fmt.Sprintf("%s-%d", name, n)
		}
		a := w.AddAccount(id, name, "aws+"+name+"@example.com", parent)
		a.JoinedAt = g.ago(30, 2000)
		if g.chance(20) {
			a.JoinedMethod = "INVITED"
		}
		a.Aliases = []string{"example-" + name}
		g.accounts = append(g.accounts, a)
	}
	// The last accounts are the suspended ones: they keep their IAM (AWS keeps it for 90
	// days) but have no member role, as nobody can sign in to them anyway.
	for i := 0; i < s.SuspendedAccounts; i++ {
		g.accounts[len(g.accounts)-1-i].Status = "SUSPENDED"
	}
	for _, a := range g.accounts[1:] {
		if a.Status == "ACTIVE" {
			w.AddOrganizationAccessRole(a)
		}
	}
}

func genSuffix(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprint(n + 1)
}

// Policy documents. {account} is replaced with the account id.
type genPolicyTemplate struct {
	name, path, description string
	// versions are the documents of v1, v2, ...; the last is the default.
	versions []string
}

var genCustomerPolicies = []genPolicyTemplate{
	{"app-data-s3-rw", "/", "Read and write the application data bucket", []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::app-data-{account}","arn:aws:s3:::app-data-{account}/*"]}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:ListBucket"],"Resource":["arn:aws:s3:::app-data-{account}","arn:aws:s3:::app-data-{account}/*"]}]}`,
	}},
	{"orders-table-rw", "/app/", "Read and write the orders DynamoDB table", []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:PutItem","dynamodb:UpdateItem","dynamodb:Query"],"Resource":"arn:aws:dynamodb:us-east-1:{account}:table/orders"}]}`,
	}},
	{"kms-decrypt-app", "/", "Decrypt with the application key", []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:us-east-1:{account}:key/*"}]}`,
	}},
	{"ci-deploy-permissions", "/ci/", "What the CI pipeline may change", []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["cloudformation:*","s3:PutObject"],"Resource":"*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["cloudformation:*","s3:PutObject","ecr:PutImage"],"Resource":"*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["cloudformation:*","s3:PutObject","ecr:PutImage","lambda:UpdateFunctionCode"],"Resource":"*"},{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`,
	}},
	{"logs-write", "/", "Write application logs", []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:*:{account}:log-group:/app/*"}]}`,
	}},
	{"secrets-read-app", "/app/", "Read the application's secrets", []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:{account}:secret:app/*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue","secretsmanager:DescribeSecret"],"Resource":"arn:aws:secretsmanager:us-east-1:{account}:secret:app/*"}]}`,
	}},
	{"sqs-jobs-consume", "/", "Consume the jobs queue", []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:ReceiveMessage","sqs:DeleteMessage","sqs:GetQueueAttributes"],"Resource":"arn:aws:sqs:us-east-1:{account}:jobs"}]}`,
	}},
	{"deny-leave-organization", "/guardrails/", "Guardrail: never leave the organization or disable CloudTrail", []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["organizations:LeaveOrganization","cloudtrail:StopLogging","cloudtrail:DeleteTrail"],"Resource":"*"}]}`,
	}},
	{"ssm-parameters-read", "/", "Read SSM parameters of the application", []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ssm:GetParameter","ssm:GetParameters"],"Resource":"arn:aws:ssm:us-east-1:{account}:parameter/app/*"}]}`,
	}},
	{"ecr-push", "/ci/", "Push container images", []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:PutImage","ecr:InitiateLayerUpload","ecr:UploadLayerPart","ecr:CompleteLayerUpload"],"Resource":"*"}]}`,
	}},
}

type genGroupTemplate struct {
	name, path string
	managed    []string
	inline     string
}

var genIAMGroups = []genGroupTemplate{
	{"admins", "/", []string{"AdministratorAccess"}, ""},
	{"developers", "/", []string{"PowerUserAccess"}, genDenyIAMWrites},
	{"readonly", "/", []string{"ReadOnlyAccess"}, ""},
	{"security-auditors", "/security/", []string{"SecurityAudit", "ViewOnlyAccess"}, ""},
	{"billing", "/finance/", []string{"AWSBillingReadOnlyAccess"}, ""},
	{"ops", "/", []string{"AmazonEC2ReadOnlyAccess", "SupportUser"}, ""},
	{"data-engineers", "/", []string{"AmazonS3FullAccess"}, ""},
	{"iam-admins", "/", []string{"IAMFullAccess"}, ""},
}

const genDenyIAMWrites = `{"Version":"2012-10-17","Statement":[{"Sid":"NoIAMWrites","Effect":"Deny","Action":["iam:Create*","iam:Delete*","iam:Put*","iam:Attach*","iam:Detach*","iam:Update*"],"Resource":"*"}]}`

type genTrustKind int

const (
	genTrustService  genTrustKind = iota // an AWS service
	genTrustCentral                      // another account of the organization (CI, tooling)
	genTrustSecurity                     // the security account, for audits
	genTrustSelf                         // the account itself (break-glass)
	genTrustVendor                       // a third party with an External ID
	genTrustOIDC                         // GitHub Actions through OIDC
)

type genRoleTemplate struct {
	name, path, description string
	trust                   genTrustKind
	service                 string
	managed                 []string
	maxSession              int32
}

var genRoles = []genRoleTemplate{
	{"app-ec2-instance", "/", "Instance profile role of the application servers", genTrustService, "ec2.amazonaws.com", []string{"AmazonS3ReadOnlyAccess"}, 3600},
	{"lambda-execution", "/service-role/", "Execution role of the application functions", genTrustService, "lambda.amazonaws.com", nil, 3600},
	{"ci-deploy", "/", "Assumed by the CI runners in the tooling account", genTrustCentral, "", []string{"PowerUserAccess"}, 3600},
	{"security-audit", "/", "Assumed by the security team's tooling", genTrustSecurity, "", []string{"SecurityAudit", "ReadOnlyAccess"}, 14400},
	{"ecs-task-execution", "/service-role/", "ECS task execution role", genTrustService, "ecs-tasks.amazonaws.com", nil, 3600},
	{"break-glass-admin", "/", "Emergency administrator access, alarmed", genTrustSelf, "", []string{"AdministratorAccess"}, 3600},
	{"vendor-monitoring", "/", "Read-only access for the monitoring vendor", genTrustVendor, "", []string{"ViewOnlyAccess"}, 3600},
	{"github-actions-deploy", "/", "Deployments from GitHub Actions", genTrustOIDC, "", []string{"PowerUserAccess"}, 3600},
	{"rds-monitoring", "/service-role/", "Enhanced monitoring for RDS", genTrustService, "monitoring.rds.amazonaws.com", nil, 3600},
	{"glue-etl", "/service-role/", "Glue ETL jobs", genTrustService, "glue.amazonaws.com", []string{"AmazonS3ReadOnlyAccess"}, 3600},
}

func genServiceTrust(service string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":%q},"Action":"sts:AssumeRole"}]}`, service)
}

func genOIDCTrust(accountID, repo string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::%s:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"},"StringLike":{"token.actions.githubusercontent.com:sub":"repo:%s:*"}}}]}`, accountID, repo)
}

func genRootARN(accountID string) string { return "arn:aws:iam::" + accountID + ":root" }

// numbered returns base for the first use and base-N after that.
func genNumbered(base string, i, n int) string {
	if i < n {
		return base
	}
	return fmt.Sprintf("%s-%d", base, i/n+1)
}

// iam fills an account's IAM: customer policies first (groups, users and roles attach
// them), then groups, users and roles.
func (g *genState) iam(a *Account) {
	w, s := g.w, g.sizes
	var custom []*Policy
	for i := 0; i < s.CustomerPoliciesPerAccount; i++ {
		t := genCustomerPolicies[i%len(genCustomerPolicies)]
		custom = append(custom, genVersionedPolicy(w, a, genNumbered(t.name, i, len(genCustomerPolicies)), t.path, t.description, t.versions, g.ago(60, 900), 20))
	}

	groups := make([]*Group, 0, s.IAMGroupsPerAccount)
	for i := 0; i < s.IAMGroupsPerAccount; i++ {
		t := genIAMGroups[i%len(genIAMGroups)]
		grp := a.AddGroup(w, genNumbered(t.name, i, len(genIAMGroups)), t.path)
		grp.CreateDate = g.ago(300, 1500)
		for _, m := range t.managed {
			grp.AttachedPolicies = append(grp.AttachedPolicies, AWSManagedPolicyARN(m))
		}
		if len(custom) > 0 && g.chance(40) {
			grp.AttachedPolicies = append(grp.AttachedPolicies, genPick(g.rng, custom).ARN)
		}
		if t.inline != "" {
			grp.InlinePolicies["deny-iam-writes"] = t.inline
		}
		groups = append(groups, grp)
	}

	humans := g.rng.Perm(len(genGivenNames))
	nh, ns := 0, 0
	for i := 0; i < s.IAMUsersPerAccount; i++ {
		service := i%4 == 3 // about a quarter are service users
		var name, path string
		var tags []Tag
		team := genPick(g.rng, genTeams)
		if service {
			name, path = genNumbered(genServiceUsers[ns%len(genServiceUsers)], ns, len(genServiceUsers)), "/service/"
			ns++
			tags = []Tag{{Key: "owner", Value: team + "-team@example.com"}, {Key: "purpose", Value: "automation"}}
		} else {
			name, path = genNumbered(genGivenNames[humans[nh%len(humans)]], nh, len(genGivenNames)), "/"
			nh++
			tags = []Tag{{Key: "email", Value: name + "@example.com"}, {Key: "team", Value: team}}
		}
		u := a.AddUser(w, name, path)
		u.CreateDate = g.ago(200, 1800)
		u.Tags = tags
		if service {
			// Automation capped by a permissions boundary, as many organizations require.
			u.PermissionsBoundary = AWSManagedPolicyARN("PowerUserAccess")
		}
		if !service && g.chance(85) {
			u.LoginProfile = &LoginProfile{CreateDate: u.CreateDate, PasswordResetRequired: g.chance(5)}
			if g.chance(80) {
				u.PasswordLastUsed = g.ago(0, 120)
			}
		}
		// Position decides, not rng, so that a zero KeyedUsersPercent draws exactly the
		// random numbers it always did and the other presets stay the same worlds.
		keyed := s.KeyedUsersPercent == 0 || (i*s.KeyedUsersPercent)%100 < s.KeyedUsersPercent
		for k := 0; keyed && k < s.AccessKeysPerUser; k++ {
			g.accessKey(a, u)
		}
		if !service && g.chance(s.MFAPerUserPercent) {
			d := a.AddMFADevice(w, u, !g.chance(20))
			d.EnableDate = u.CreateDate.Add(time.Hour)
		}
		switch {
		case len(groups) == 0:
		case i == 0:
			groups[0].AddUserToGroup(u.Name) // every account has an administrator
		case service:
			if g.chance(50) {
				genPick(g.rng, groups).AddUserToGroup(u.Name)
			}
		default:
			for n := 1 + g.rng.Intn(2); n > 0; n-- {
				genPick(g.rng, groups).AddUserToGroup(u.Name)
			}
		}
		// Direct attachments and inline policies on users are hygiene findings real
		// accounts have.
		if g.chance(15) {
			if len(custom) > 0 && g.chance(50) {
				u.AttachedPolicies = append(u.AttachedPolicies, genPick(g.rng, custom).ARN)
			} else {
				u.AttachedPolicies = append(u.AttachedPolicies, AWSManagedPolicyARN(genPick(g.rng, []string{"AmazonS3ReadOnlyAccess", "ReadOnlyAccess", "AdministratorAccess"})))
			}
		}
		if g.chance(10) {
			u.InlinePolicies["s3-scratch-access"] = strings.ReplaceAll(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::scratch-{account}","arn:aws:s3:::scratch-{account}/*"]}]}`, "{account}", a.ID)
		}
	}

	for i := 0; i < s.IAMRolesPerAccount; i++ {
		t := genRoles[i%len(genRoles)]
		name := t.name
		if i >= len(genRoles) {
			name = fmt.Sprintf("%s-%s", genTeams[(i/len(genRoles)-1)%len(genTeams)], t.name)
			if i >= len(genRoles)*(len(genTeams)+1) {
				name = fmt.Sprintf("%s-%d", name, i)
			}
		}
		r := a.AddRole(w, name, t.path, g.trustPolicy(a, t))
		r.CreateDate = g.ago(100, 1500)
		r.Description = t.description
		r.MaxSessionDuration = t.maxSession
		r.Tags = []Tag{{Key: "team", Value: genPick(g.rng, genTeams)}}
		for _, m := range t.managed {
			r.AttachedPolicies = append(r.AttachedPolicies, AWSManagedPolicyARN(m))
		}
		if len(custom) > 0 && g.chance(50) {
			r.AttachedPolicies = append(r.AttachedPolicies, genPick(g.rng, custom).ARN)
		}
		if t.trust == genTrustService && g.chance(40) {
			r.InlinePolicies["logs"] = strings.ReplaceAll(genCustomerPolicies[4].versions[0], "{account}", a.ID)
		}
		if g.chance(70) {
			r.LastUsedDate = g.ago(0, 30)
			r.LastUsedRegion = genPick(g.rng, genRegions)
		}
	}
}

func (g *genState) trustPolicy(a *Account, t genRoleTemplate) string {
	switch t.trust {
	case genTrustService:
		return genServiceTrust(t.service)
	case genTrustCentral:
		// Members trust the management account; the management account trusts the
		// first member (a tooling account), so every world has cross-account trust.
		if a.ID == g.w.ManagementAccountID && len(g.accounts) > 1 {
			return TrustPolicy(genRootARN(g.accounts[1].ID), "")
		}
		return TrustPolicy(genRootARN(g.w.ManagementAccountID), "")
	case genTrustSecurity:
		sec := g.w.ManagementAccountID
		if len(g.accounts) > 1 {
			sec = g.accounts[1].ID
		}
		return TrustPolicy(genRootARN(sec), "")
	case genTrustSelf:
		return TrustPolicy(genRootARN(a.ID), "")
	case genTrustVendor:
		return TrustPolicy(genRootARN(genVendorAccountID), fmt.Sprintf("vendor-%s", a.ID))
	default:
		return genOIDCTrust(a.ID, "example/"+genPick(g.rng, genTeams))
	}
}

// accessKey adds a key with a realistic mix: some inactive, some never used, some stale.
func (g *genState) accessKey(a *Account, u *User) {
	k := a.AddAccessKey(g.w, u)
	k.CreateDate = g.ago(10, 900)
	if k.CreateDate.Before(u.CreateDate) {
		k.CreateDate = u.CreateDate
	}
	switch n := g.rng.Intn(100); {
	case n < 15:
		k.Status = "Inactive"
		g.keyUsed(k, 200, 700)
	case n < 30: // never used
	case n < 40:
		g.keyUsed(k, 120, 700) // stale
	default:
		g.keyUsed(k, 0, 30)
	}
}

func (g *genState) keyUsed(k *AccessKey, minDays, maxDays int) {
	t := g.ago(minDays, maxDays)
	if t.Before(k.CreateDate) {
		t = k.CreateDate.Add(time.Hour)
	}
	k.LastUsedDate, k.LastUsedService, k.LastUsedRegion = t, genPick(g.rng, genServices), genPick(g.rng, genRegions)
}

// genVersionedPolicy creates a customer policy whose versions are spaced days apart,
// ending at created + len(versions)*spacing days; the last version is the default.
func genVersionedPolicy(w *World, a *Account, name, path, description string, versions []string, created time.Time, spacingDays int) *Policy {
	p := a.AddPolicy(w, name, path, strings.ReplaceAll(versions[0], "{account}", a.ID))
	p.Description = description
	p.CreateDate = created
	p.Versions = p.Versions[:0]
	for i, doc := range versions {
		at := created.AddDate(0, 0, i*spacingDays)
		p.Versions = append(p.Versions, &PolicyVersion{ID: fmt.Sprintf("v%d", i+1), Document: strings.ReplaceAll(doc, "{account}", a.ID), CreateDate: at})
		p.UpdateDate, p.DefaultVersion = at, fmt.Sprintf("v%d", i+1)
	}
	return p
}

type genPermissionSetTemplate struct {
	name, description, duration string
	managed                     []string
	inline                      string
}

var genPermissionSets = []genPermissionSetTemplate{
	{"AdministratorAccess", "Full access to the account", "PT1H", []string{"AdministratorAccess"}, ""},
	{"ReadOnlyAccess", "Read-only access to every service", "PT8H", []string{"ReadOnlyAccess"}, ""},
	{"Developer", "Build and run workloads; no IAM changes", "PT8H", []string{"PowerUserAccess"}, genDenyIAMWrites},
	{"PowerUserAccess", "Everything but IAM and Organizations", "PT4H", []string{"PowerUserAccess"}, ""},
	{"SecurityAudit", "Read security configuration", "PT12H", []string{"SecurityAudit", "ViewOnlyAccess"}, ""},
	{"Billing", "Read bills and costs", "PT2H", []string{"AWSBillingReadOnlyAccess"}, ""},
	{"S3ReadOnly", "Read S3 buckets", "PT8H", []string{"AmazonS3ReadOnlyAccess"}, ""},
	{"SupportUser", "Open and manage support cases", "PT4H", []string{"SupportUser"}, ""},
	{"IAMAdministrator", "Manage IAM", "PT1H", []string{"IAMFullAccess"}, ""},
	{"DataEngineer", "Manage data lake buckets and Glue jobs", "PT8H", []string{"AmazonS3FullAccess"},
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["glue:*","athena:*"],"Resource":"*"}]}`},
	{"EC2ReadOnly", "Inspect EC2", "PT4H", []string{"AmazonEC2ReadOnlyAccess"}, ""},
	{"OrganizationsReadOnly", "Read the organization", "PT4H", []string{"AWSOrganizationsReadOnlyAccess"}, ""},
	{"IdentityCenterReadOnly", "Read Identity Center", "PT4H", []string{"AWSSSOReadOnly"}, ""},
}

// identityCenter creates the instance, permission sets, users, groups, memberships and
// assignments.
func (g *genState) identityCenter() {
	w, s, rng := g.w, g.sizes, g.rng
	w.EnableIdentityCenter(w.Region)
	w.SSO.CreatedDate = g.ago(700, 1000)

	for i := 0; i < s.PermissionSets; i++ {
		var ps *PermissionSet
		if i < len(genPermissionSets) {
			t := genPermissionSets[i]
			ps = w.AddPermissionSet(t.name, t.description, t.duration)
			for _, m := range t.managed {
				ps.ManagedPolicies = append(ps.ManagedPolicies, AWSManagedPolicyARN(m))
			}
			ps.InlinePolicy = t.inline
		} else {
			// Team permission sets: a managed baseline and an inline policy for the team's
			// resources, the shape most custom permission sets have.
			k := i - len(genPermissionSets)
			team := genTeams[k%len(genTeams)]
			kind := []string{"Developer", "Operator"}[k/len(genTeams)%2]
			name := genTitle(team) + kind + genSuffix(k/(2*len(genTeams)))
			ps = w.AddPermissionSet(name, fmt.Sprintf("%s access for the %s team", kind, team), genPick(rng, genSessionDurations))
			ps.ManagedPolicies = []string{AWSManagedPolicyARN(genPick(rng, []string{"ReadOnlyAccess", "ViewOnlyAccess", "PowerUserAccess"}))}
			ps.InlinePolicy = fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","dynamodb:*","sqs:*"],"Resource":["arn:aws:s3:::%[1]s-*","arn:aws:dynamodb:*:*:table/%[1]s-*","arn:aws:sqs:*:*:%[1]s-*"]}]}`, team)
		}
		ps.CreatedDate = g.ago(30, 700)
		ps.Tags = []Tag{{Key: "managed-by", Value: "terraform"}}
	}

	combos := rng.Perm(len(genGivenNames) * len(genFamilyNames))
	for i := 0; i < s.SSOUsers; i++ {
		c := combos[i%len(combos)]
		given, family := genGivenNames[c%len(genGivenNames)], genFamilyNames[c/len(genGivenNames)]
		userName := given + "." + family + genSuffix(i/len(combos))
		u := w.AddSSOUser(userName, genTitle(given), genTitle(family), userName+"@example.com")
		u.Active = !g.chance(5) // deactivated in the IdP, visible through SCIM
		u.ExternalID = fmt.Sprintf("00u%017x", rng.Int63())
	}
	genReportingLines(w.SSO.Users)

	roles := []string{"Developers", "Admins", "ReadOnly", "OnCall", "Leads"}
	for i := 0; i < s.SSOGroups; i++ {
		team := genTeams[i%len(genTeams)]
		role := roles[i/len(genTeams)%len(roles)]
		name := genTitle(team) + "-" + role
		if n := i / (len(genTeams) * len(roles)); n > 0 {
			name += fmt.Sprintf("-%d", n+1)
		}
		w.AddSSOGroup(name, fmt.Sprintf("%s of the %s team", role, team))
	}

	// Memberships are unique by construction, so they are appended directly: AddMembership
	// scans every membership for duplicates, which is quadratic at 9,000 memberships.
	for _, u := range w.SSO.Users {
		for _, gi := range rng.Perm(len(w.SSO.Groups))[:s.MembershipsPerUser] {
			w.SSO.Memberships = append(w.SSO.Memberships, &Membership{ID: w.uuid(), GroupID: w.SSO.Groups[gi].ID, UserID: u.ID})
		}
	}
	g.assignments()
}

// assignments spreads the assignments over the ACTIVE accounts. Each account offers a few
// permission sets (always AdministratorAccess and ReadOnlyAccess), as real organizations
// provision a handful per account, not all of them; 70% go to groups.
func (g *genState) assignments() {
	w, s, rng := g.w, g.sizes, g.rng
	var active []*Account
	for _, a := range g.accounts {
		if a.Status == "ACTIVE" {
			active = append(active, a)
		}
	}
	pss := w.SSO.PermissionSets
	if len(active) == 0 || len(pss) == 0 || len(w.SSO.Users)+len(w.SSO.Groups) == 0 || s.Assignments == 0 {
		return
	}
	offered := make([][]*PermissionSet, len(active))
	for i := range active {
		n := min(len(pss), 8)
		core := min(2, n)
		list := append(make([]*PermissionSet, 0, n), pss[:core]...)
		for _, k := range rng.Perm(len(pss) - core)[:n-core] {
			list = append(list, pss[core+k])
		}
		offered[i] = list
	}
	// The tuples are made unique here and appended directly after provisioning:
	// AddAssignment scans all assignments for a duplicate, quadratic at 6,000.
	seen := make(map[Assignment]bool, s.Assignments)
	for made, tries := 0, 0; made < s.Assignments && tries < 50*s.Assignments; tries++ {
		ai := rng.Intn(len(active))
		ps := genPick(rng, offered[ai])
		asg := Assignment{AccountID: active[ai].ID, PermissionSetARN: ps.ARN}
		if len(w.SSO.Groups) > 0 && (len(w.SSO.Users) == 0 || g.chance(70)) {
			asg.PrincipalType, asg.PrincipalID = "GROUP", genPick(rng, w.SSO.Groups).ID
		} else {
			asg.PrincipalType, asg.PrincipalID = "USER", genPick(rng, w.SSO.Users).ID
		}
		if seen[asg] {
			continue
		}
		seen[asg] = true
		w.ProvisionPermissionSet(asg.AccountID, asg.PermissionSetARN)
		w.SSO.Assignments = append(w.SSO.Assignments, &asg)
		made++
	}
}

// buckets creates a CloudTrail bucket and an HR export bucket in the management account;
// the HR export lists the Identity Center users, for import features.
func (g *genState) buckets() {
	w := g.w
	mgmt := w.ManagementAccountID
	genAddBucket(w, "cloudtrail-logs-"+mgmt, mgmt, g.ago(900, 1200))
	hr := genAddBucket(w, "hr-exports-"+mgmt, mgmt, g.ago(300, 600))
	if w.SSO == nil {
		return
	}
	var b strings.Builder
	b.WriteString("email,given_name,family_name,department,employment_status\n")
	for _, u := range w.SSO.Users {
		status := "active"
		if !u.Active {
			status = "terminated"
		}
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s\n", u.Email, u.GivenName, u.FamilyName, genTeams[len(u.UserName)%len(genTeams)], status)
	}
	genPutObject(hr, "hr/employees.csv", "text/csv", []byte(b.String()), g.now.Add(-time.Hour))
}

func genAddBucket(w *World, name, accountID string, created time.Time) *Bucket {
	b := &Bucket{Name: name, AccountID: accountID, Region: w.Region, CreateDate: created, Objects: map[string]*Object{}}
	w.Buckets[name] = b
	return b
}

func genPutObject(b *Bucket, key, contentType string, data []byte, modified time.Time) *Object {
	sum := md5.Sum(data)
	o := &Object{Key: key, Data: data, ETag: `"` + hex.EncodeToString(sum[:]) + `"`, ContentType: contentType, LastModified: modified}
	b.Objects[key] = o
	return o
}

// genDemoWorld is the "demo" preset: a small organization with readable names, built to show
// what a sync finds. It has a suspended account (legacy) and an ACTIVE account whose
// member roles (GatehouseMember and OrganizationAccountAccessRole) were deleted (sandbox),
// which a sync must skip and report.
// The seed changes ids, keys, the External ID and the SCIM token, not the contents.
func genDemoWorld(seed int64, now time.Time) *World {
	g := newGenState(seed, Sizes{}, now)
	w := g.w
	days := func(d float64) time.Time {
		return g.now.Add(-time.Duration(d * float64(24*time.Hour))).Truncate(time.Second)
	}

	org := w.EnableOrganization()
	securityOU := w.AddOU("Security", org.RootID)
	workloadsOU := w.AddOU("Workloads", org.RootID)
	prodOU := w.AddOU("Prod", workloadsOU.ID)
	nonProdOU := w.AddOU("NonProd", workloadsOU.ID)
	sandboxOU := w.AddOU("Sandbox", org.RootID)
	suspendedOU := w.AddOU("Suspended", org.RootID)

	mgmt := w.ManagementAccount()
	mgmt.Name, mgmt.Email, mgmt.JoinedAt, mgmt.Aliases = "management", "aws-management@example.com", days(2100), []string{"example-management"}
	taken := map[string]bool{mgmt.ID: true}
	account := func(name, parent string, joined float64) *Account {
		id := genAccountID(g.rng, taken)
		taken[id] = true
		a := w.AddAccount(id, name, "aws+"+name+"@example.com", parent)
		a.JoinedAt, a.Aliases = days(joined), []string{"example-" + name}
		return a
	}
	security := account("security", securityOU.ID, 2000)
	logArchive := account("log-archive", securityOU.ID, 2000)
	prod := account("prod", prodOU.ID, 1500)
	staging := account("staging", nonProdOU.ID, 1400)
	sandbox := account("sandbox", sandboxOU.ID, 600)
	legacy := account("legacy", suspendedOU.ID, 1900)
	legacy.Status, legacy.JoinedMethod = "SUSPENDED", "INVITED"
	// sandbox gets no member roles: someone deleted them, so the sync cannot assume into it.
	for _, a := range []*Account{security, logArchive, prod, staging} {
		w.AddOrganizationAccessRole(a)
	}

	user := func(a *Account, name, path, team string, created float64) *User {
		u := a.AddUser(w, name, path)
		u.CreateDate = days(created)
		if path == "/service/" {
			u.Tags = []Tag{{Key: "owner", Value: team + "-team@example.com"}, {Key: "purpose", Value: "automation"}}
		} else {
			u.Tags = []Tag{{Key: "email", Value: name + "@example.com"}, {Key: "team", Value: team}}
		}
		return u
	}
	console := func(u *User, lastUsed float64) {
		u.LoginProfile = &LoginProfile{CreateDate: u.CreateDate}
		if lastUsed >= 0 {
			u.PasswordLastUsed = days(lastUsed)
		}
	}
	key := func(a *Account, u *User, status string, created, lastUsed float64, service, region string) {
		k := a.AddAccessKey(w, u)
		k.Status, k.CreateDate = status, days(created)
		if lastUsed >= 0 {
			k.LastUsedDate, k.LastUsedService, k.LastUsedRegion = days(lastUsed), service, region
		}
	}
	mfa := func(a *Account, u *User, virtual bool) {
		a.AddMFADevice(w, u, virtual).EnableDate = u.CreateDate.Add(time.Hour)
	}
	group := func(a *Account, name, path string, managed ...string) *Group {
		grp := a.AddGroup(w, name, path)
		grp.CreateDate = days(1000)
		for _, m := range managed {
			grp.AttachedPolicies = append(grp.AttachedPolicies, AWSManagedPolicyARN(m))
		}
		return grp
	}
	role := func(a *Account, name, path, description, trust string, managed ...string) *Role {
		r := a.AddRole(w, name, path, trust)
		r.CreateDate, r.Description = days(800), description
		for _, m := range managed {
			r.AttachedPolicies = append(r.AttachedPolicies, AWSManagedPolicyARN(m))
		}
		return r
	}
	used := func(r *Role, d float64) { r.LastUsedDate, r.LastUsedRegion = days(d), "us-east-1" }
	policy := func(a *Account, t int, created float64) *Policy {
		pt := genCustomerPolicies[t]
		return genVersionedPolicy(w, a, pt.name, pt.path, pt.description, pt.versions, days(created), 60)
	}

	// Management account: people, a CI user and a break-glass role.
	ciPolicy := policy(mgmt, 3, 700)
	guardrail := policy(mgmt, 7, 900)
	admins := group(mgmt, "admins", "/", "AdministratorAccess")
	developers := group(mgmt, "developers", "/", "PowerUserAccess")
	developers.InlinePolicies["deny-iam-writes"] = genDenyIAMWrites
	developers.AttachedPolicies = append(developers.AttachedPolicies, guardrail.ARN)
	auditors := group(mgmt, "auditors", "/security/", "SecurityAudit", "ReadOnlyAccess")
	group(mgmt, "billing", "/finance/", "AWSBillingReadOnlyAccess")

	alice := user(mgmt, "alice", "/", "platform", 900)
	console(alice, 1)
	mfa(mgmt, alice, true)
	key(mgmt, alice, "Active", 200, 0.125, "s3", "us-east-1")
	admins.AddUserToGroup("alice")

	bob := user(mgmt, "bob", "/", "payments", 600)
	console(bob, 20)
	key(mgmt, bob, "Active", 150, 5, "sts", "us-east-1")
	key(mgmt, bob, "Inactive", 550, 400, "s3", "eu-west-1")
	developers.AddUserToGroup("bob")

	carol := user(mgmt, "carol", "/", "security", 400)
	console(carol, 2)
	mfa(mgmt, carol, false)
	auditors.AddUserToGroup("carol")

	ci := user(mgmt, "ci-deployer", "/service/", "platform", 800)
	key(mgmt, ci, "Active", 790, 1.0/24, "cloudformation", "us-east-1")
	ci.AttachedPolicies = append(ci.AttachedPolicies, ciPolicy.ARN)
	ci.PermissionsBoundary = AWSManagedPolicyARN("PowerUserAccess") // whatever it is given, never IAM

	used(role(mgmt, "break-glass-admin", "/", "Emergency administrator access, alarmed", TrustPolicy(genRootARN(mgmt.ID), ""), "AdministratorAccess"), 90)
	used(role(mgmt, "github-actions-deploy", "/", "Deployments from GitHub Actions", genOIDCTrust(mgmt.ID, "example/infrastructure"), "PowerUserAccess"), 0.5)

	// Security tooling reads every member account through a cross-account role.
	auditTrust := TrustPolicy(genRootARN(security.ID), "")
	responder := role(security, "guardduty-responder", "/service-role/", "Quarantines instances flagged by GuardDuty", genServiceTrust("lambda.amazonaws.com"))
	responder.InlinePolicies["quarantine"] = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:ModifyInstanceAttribute","ec2:CreateSnapshot"],"Resource":"*"}]}`
	for _, a := range []*Account{logArchive, prod, staging, sandbox} {
		used(role(a, "security-audit", "/", "Assumed by the security account's tooling", auditTrust, "SecurityAudit", "ReadOnlyAccess"), 1)
	}
	role(logArchive, "log-delivery", "/service-role/", "Delivers logs to the archive bucket", genServiceTrust("delivery.logs.amazonaws.com")).
		InlinePolicies["write-archive"] = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::log-archive-` + logArchive.ID + `/*"}]}`

	// Production: an application, its CI, a vendor integration, and two users with
	// findings (a stale console user, a service user with an unused key).
	orders := policy(prod, 1, 500)
	secrets := policy(prod, 5, 500)
	prodDevelopers := group(prod, "developers", "/", "ReadOnlyAccess")
	deployers := group(prod, "deployers", "/", "AmazonS3FullAccess")
	deployers.AttachedPolicies = append(deployers.AttachedPolicies, orders.ARN)
	dave := user(prod, "dave", "/", "orders", 700)
	console(dave, 200)
	key(prod, dave, "Active", 400, -1, "", "")
	prodDevelopers.AddUserToGroup("dave")
	bot := user(prod, "deploy-bot", "/service/", "orders", 650)
	key(prod, bot, "Active", 300, 2, "s3", "eu-west-1")
	key(prod, bot, "Inactive", 640, -1, "", "")
	deployers.AddUserToGroup("deploy-bot")
	app := role(prod, "app-server", "/", "Instance profile role of the order service", genServiceTrust("ec2.amazonaws.com"), "AmazonS3ReadOnlyAccess")
	app.AttachedPolicies = append(app.AttachedPolicies, orders.ARN, secrets.ARN)
	used(app, 0.01)
	fn := role(prod, "orders-processor", "/service-role/", "Processes order events", genServiceTrust("lambda.amazonaws.com"))
	fn.InlinePolicies["logs"] = strings.ReplaceAll(genCustomerPolicies[4].versions[0], "{account}", prod.ID)
	used(fn, 0.02)
	used(role(prod, "ci-deploy", "/", "Assumed by the CI user in the management account", TrustPolicy(ci.ARN, ""), "PowerUserAccess"), 1.0/24)
	vendor := role(prod, "datadog-integration", "/", "Read-only access for the monitoring vendor", TrustPolicy(genRootARN(genVendorAccountID), "demo-"+prod.ID), "ViewOnlyAccess")
	used(vendor, 0.1)

	// Staging mirrors production with fewer people.
	stagingDevelopers := group(staging, "developers", "/", "PowerUserAccess")
	erin := user(staging, "erin", "/", "checkout", 300)
	console(erin, 30)
	mfa(staging, erin, true)
	stagingDevelopers.AddUserToGroup("erin")
	used(role(staging, "app-server", "/", "Instance profile role of the order service", genServiceTrust("ec2.amazonaws.com"), "AmazonS3ReadOnlyAccess"), 0.2)
	role(staging, "ci-deploy", "/", "Assumed by the CI user in the management account", TrustPolicy(ci.ARN, ""), "PowerUserAccess")

	// Sandbox: an administrator without MFA, attached directly.
	frank := user(sandbox, "frank", "/", "ml", 200)
	console(frank, 3)
	key(sandbox, frank, "Active", 100, 1, "ec2", "us-west-2")
	frank.AttachedPolicies = append(frank.AttachedPolicies, AWSManagedPolicyARN("AdministratorAccess"))
	role(sandbox, "experiment-admin", "/", "Anything goes in the sandbox", TrustPolicy(genRootARN(sandbox.ID), ""), "AdministratorAccess")

	// Legacy (suspended): what was left behind.
	old := user(legacy, "old-admin", "/", "platform", 1800)
	console(old, 500)
	key(legacy, old, "Active", 1500, 600, "iam", "us-east-1")
	old.AttachedPolicies = append(old.AttachedPolicies, AWSManagedPolicyARN("AdministratorAccess"))

	// Identity Center.
	w.EnableIdentityCenter(w.Region)
	w.SSO.CreatedDate = days(900)
	ps := func(name, description, duration string, managed ...string) *PermissionSet {
		p := w.AddPermissionSet(name, description, duration)
		p.CreatedDate = days(800)
		for _, m := range managed {
			p.ManagedPolicies = append(p.ManagedPolicies, AWSManagedPolicyARN(m))
		}
		return p
	}
	adminPS := ps("AdministratorAccess", "Full access to the account", "PT1H", "AdministratorAccess")
	readPS := ps("ReadOnly", "Read-only access to every service", "PT8H", "ReadOnlyAccess")
	devPS := ps("Developer", "Build and run workloads; no IAM changes", "PT4H", "PowerUserAccess")
	devPS.InlinePolicy = genDenyIAMWrites
	auditPS := ps("SecurityAudit", "Read security configuration", "PT12H", "SecurityAudit", "ViewOnlyAccess")
	billingPS := ps("Billing", "Read bills and costs", "PT2H", "AWSBillingReadOnlyAccess")

	people := map[string]*SSOUser{}
	for _, p := range []struct{ user, given, family string }{
		{"alice", "Alice", "Nguyen"}, {"bob", "Bob", "Martinez"}, {"carol", "Carol", "Okafor"},
		{"dave", "Dave", "Kim"}, {"erin", "Erin", "Schulz"}, {"frank", "Frank", "Rossi"},
	} {
		u := w.AddSSOUser(p.user, p.given, p.family, p.user+"@example.com")
		u.ExternalID = fmt.Sprintf("00u%017x", g.rng.Int63())
		people[p.user] = u
	}
	people["erin"].Active = false // left the company; the IdP deactivated her, the assignment stayed
	// Reporting lines, as the IdP sends them through SCIM's enterprise extension: Dave leads
	// the developers (so a policy step "the requester's manager" sends Bob's requests to
	// him), Alice leads the platform and Dave; Carol reports outside Identity Center.
	for _, p := range []struct{ user, manager, title, department string }{
		{"alice", "", "Head of Platform", "Platform"},
		{"bob", "dave", "Software Engineer", "Engineering"},
		{"carol", "", "Security Auditor", "Security"},
		{"dave", "alice", "Engineering Team Lead", "Engineering"},
		{"erin", "dave", "Software Engineer", "Engineering"},
		{"frank", "dave", "Software Engineer", "Engineering"},
	} {
		u := people[p.user]
		u.Title, u.Enterprise.Department, u.Enterprise.Organization = p.title, p.department, "Example Corp"
		u.Enterprise.CostCenter = "CC-" + strings.ToUpper(p.department[:3])
		if p.manager != "" {
			u.Enterprise.ManagerID = people[p.manager].ID
		}
	}

	teamsOf := map[string]*SSOGroup{}
	for _, grp := range []struct {
		name, description string
		members           []string
	}{
		{"Admins", "Platform administrators", []string{"alice"}},
		{"Developers", "Product engineers", []string{"bob", "dave", "frank"}},
		{"Auditors", "Security and compliance", []string{"carol"}},
		{"OnCall", "This week's on-call rotation", []string{"alice", "bob"}},
	} {
		sg := w.AddSSOGroup(grp.name, grp.description)
		for _, m := range grp.members {
			w.AddMembership(sg.ID, people[m].ID)
		}
		teamsOf[grp.name] = sg
	}
	assignGroup := func(name string, p *PermissionSet, accounts ...*Account) {
		for _, a := range accounts {
			w.AddAssignment(a.ID, p.ARN, "GROUP", teamsOf[name].ID)
		}
	}
	assignGroup("Admins", adminPS, mgmt, security, prod, staging)
	assignGroup("Developers", devPS, staging, sandbox)
	assignGroup("Developers", readPS, prod)
	assignGroup("OnCall", devPS, prod)
	assignGroup("Auditors", auditPS, mgmt, security, logArchive, prod, staging, sandbox)
	w.AddAssignment(sandbox.ID, adminPS.ARN, "USER", people["frank"].ID)
	w.AddAssignment(logArchive.ID, readPS.ARN, "USER", people["carol"].ID)
	w.AddAssignment(staging.ID, devPS.ARN, "USER", people["erin"].ID)
	// Billing is provisioned but held by nobody: it can still be requested.
	w.ProvisionPermissionSet(mgmt.ID, billingPS.ARN)

	g.buckets()
	for _, a := range []*Account{security, logArchive, prod, staging} {
		w.AddGatehouseMemberRole(a, DefaultMemberRoleName)
	}
	// The demo is where people try grant and revoke: its connector role holds the
	// policy gatehouse setup aws generates with --provisioning.
	w.SetConnectorPolicy(GeneratedConnectorPolicy(true))
	g.startClock()
	return w
}

// genReportingLines gives generated users managers and departments without drawing on
// the random source (so that every other part of a generated world stays as it was):
// users form teams of eight in order, each team's first user leads it and reports to the
// first user, who has no manager; a team's department is a team name.
func genReportingLines(users []*SSOUser) {
	const team = 8
	for i, u := range users {
		lead := users[i/team*team]
		u.Enterprise.Department = genTitle(genTeams[i/team%len(genTeams)])
		u.Enterprise.EmployeeNumber = fmt.Sprintf("E%06d", i+1)
		switch {
		case i == 0:
		case u == lead:
			u.Enterprise.ManagerID = users[0].ID
		default:
			u.Enterprise.ManagerID = lead.ID
		}
	}
}
