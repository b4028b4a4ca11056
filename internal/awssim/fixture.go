package awssim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// A fixture is a YAML file that declares an exact small organization for a test: accounts,
// their IAM, the organization tree, Identity Center, the Gatehouse connector and buckets.
// Principals are referred to by name, never by generated id; ids come from the world's
// sequence in declaration order, so the same file always gives the same world.
// docs/fixtures.md is the reference of the format.

// DefaultFixtureNow is the clock of a fixture without a now: field.
const DefaultFixtureNow = "2026-01-01T00:00:00Z"

// LoadFixture reads and builds the fixture at path.
func LoadFixture(path string) (*World, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read fixture: %w", err)
	}
	w, err := ParseFixture(data)
	if err != nil {
		return nil, fmt.Errorf("fixture %s: %w", path, err)
	}
	return w, nil
}

// ParseFixture builds the world a fixture declares. Its errors name the YAML path of each
// problem and what to do about it.
func ParseFixture(data []byte) (*World, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f fixtureFile
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the fixture is empty; declare at least management_account (see docs/fixtures.md)")
		}
		return nil, fixtureYAMLError(data, err)
	}
	b := &fixtureBuilder{f: &f}
	w := b.build()
	if len(b.problems) > 0 {
		return nil, fixtureProblems(b.problems)
	}
	return w, nil
}

func fixtureProblems(problems []string) error {
	if len(problems) == 1 {
		return errors.New(problems[0])
	}
	return fmt.Errorf("%d problems:\n  %s", len(problems), strings.Join(problems, "\n  "))
}

// The file's schema. Every type here is decoded with KnownFields, so a misspelt key is
// an error rather than silently ignored.

type fixtureFile struct {
	Now               string                 `yaml:"now"`
	Region            string                 `yaml:"region"`
	ManagementAccount string                 `yaml:"management_account"`
	MemberRole        string                 `yaml:"member_role"`
	Organization      *fixtureOrg            `yaml:"organization"`
	Accounts          []fixtureAccount       `yaml:"accounts"`
	IdentityCenter    *fixtureIdentityCenter `yaml:"identity_center"`
	Connector         *fixtureConnector      `yaml:"connector"`
	SCIMToken         string                 `yaml:"scim_token"`
	Buckets           []fixtureBucket        `yaml:"buckets"`
}

type fixtureOrg struct {
	OUs             []fixtureOU `yaml:"ous"`
	DelegatedAdmins []string    `yaml:"delegated_admins"`
}

type fixtureOU struct {
	Name string      `yaml:"name"`
	OUs  []fixtureOU `yaml:"ous"`
}

type fixtureAccount struct {
	ID                   string     `yaml:"id"`
	Name                 string     `yaml:"name"`
	Email                string     `yaml:"email"`
	Status               string     `yaml:"status"`
	OU                   string     `yaml:"ou"`
	Joined               string     `yaml:"joined"`
	JoinedMethod         string     `yaml:"joined_method"`
	Aliases              []string   `yaml:"aliases"`
	MemberRole           string     `yaml:"member_role"`
	MemberRoleExternalID string     `yaml:"member_role_external_id"`
	DenyAll              bool       `yaml:"deny_all"`
	IAM                  fixtureIAM `yaml:"iam"`
}

type fixtureIAM struct {
	// CredentialReportGenerated, when set, gives the account a credential report
	// generated then (at most four hours before now, or IAM regenerates it on request).
	CredentialReportGenerated string          `yaml:"credential_report_generated"`
	Users                     []fixtureUser   `yaml:"users"`
	Groups                    []fixtureGroup  `yaml:"groups"`
	Roles                     []fixtureRole   `yaml:"roles"`
	Policies                  []fixturePolicy `yaml:"policies"`
	// PasswordPolicy is the account's password policy (none when left out).
	PasswordPolicy *fixturePasswordPolicy `yaml:"password_policy"`
	// Root is the root user's credentials (none when left out).
	Root *fixtureRoot `yaml:"root"`
}

type fixturePasswordPolicy struct {
	MinimumPasswordLength      int  `yaml:"minimum_password_length"`
	PasswordReusePrevention    int  `yaml:"password_reuse_prevention"`
	MaxPasswordAge             int  `yaml:"max_password_age"`
	RequireSymbols             bool `yaml:"require_symbols"`
	RequireNumbers             bool `yaml:"require_numbers"`
	RequireUppercaseCharacters bool `yaml:"require_uppercase_characters"`
	RequireLowercaseCharacters bool `yaml:"require_lowercase_characters"`
	AllowUsersToChangePassword bool `yaml:"allow_users_to_change_password"`
	HardExpiry                 bool `yaml:"hard_expiry"`
}

type fixtureRoot struct {
	// MFA is virtual or hardware (none when left out); MFAEnabled when (default: joined).
	MFA              string             `yaml:"mfa"`
	MFAEnabled       string             `yaml:"mfa_enabled"`
	PasswordLastUsed string             `yaml:"password_last_used"`
	AccessKeys       []fixtureAccessKey `yaml:"access_keys"`
}

type fixtureUser struct {
	Name                  string      `yaml:"name"`
	Path                  string      `yaml:"path"`
	Created               string      `yaml:"created"`
	Tags                  fixtureTags `yaml:"tags"`
	ConsolePassword       bool        `yaml:"console_password"`
	PasswordResetRequired bool        `yaml:"password_reset_required"`
	PasswordLastUsed      string      `yaml:"password_last_used"`
	// PasswordChanged is when the console password was set (default: created).
	PasswordChanged     string                `yaml:"password_changed"`
	AccessKeys          []fixtureAccessKey    `yaml:"access_keys"`
	MFA                 []string              `yaml:"mfa"`
	Groups              []string              `yaml:"groups"`
	AttachedPolicies    []string              `yaml:"attached_policies"`
	InlinePolicies      map[string]fixtureDoc `yaml:"inline_policies"`
	PermissionsBoundary string                `yaml:"permissions_boundary"`
	// ServicesLastAccessed: when the user last used each service (namespace: time),
	// for GetServiceLastAccessedDetails.
	ServicesLastAccessed map[string]string `yaml:"services_last_accessed"`
}

type fixtureAccessKey struct {
	ID              string `yaml:"id"`
	Secret          string `yaml:"secret"`
	Status          string `yaml:"status"`
	Created         string `yaml:"created"`
	LastUsed        string `yaml:"last_used"`
	LastUsedService string `yaml:"last_used_service"`
	LastUsedRegion  string `yaml:"last_used_region"`
}

type fixtureGroup struct {
	Name             string                `yaml:"name"`
	Path             string                `yaml:"path"`
	Created          string                `yaml:"created"`
	AttachedPolicies []string              `yaml:"attached_policies"`
	InlinePolicies   map[string]fixtureDoc `yaml:"inline_policies"`
}

type fixtureRole struct {
	Name                string                `yaml:"name"`
	Path                string                `yaml:"path"`
	Description         string                `yaml:"description"`
	Created             string                `yaml:"created"`
	Trust               *fixtureTrust         `yaml:"trust"`
	TrustPolicy         fixtureDoc            `yaml:"trust_policy"`
	MaxSessionDuration  int32                 `yaml:"max_session_duration"`
	Tags                fixtureTags           `yaml:"tags"`
	AttachedPolicies    []string              `yaml:"attached_policies"`
	InlinePolicies      map[string]fixtureDoc `yaml:"inline_policies"`
	PermissionsBoundary string                `yaml:"permissions_boundary"`
	LastUsed            string                `yaml:"last_used"`
	LastUsedRegion      string                `yaml:"last_used_region"`
	// ServicesLastAccessed: when the role last used each service (namespace: time).
	ServicesLastAccessed map[string]string `yaml:"services_last_accessed"`
}

type fixtureTrust struct {
	AWS        fixtureStrings `yaml:"aws"`
	Service    fixtureStrings `yaml:"service"`
	Federated  fixtureStrings `yaml:"federated"`
	ExternalID string         `yaml:"external_id"`
}

type fixturePolicy struct {
	Name           string       `yaml:"name"`
	Path           string       `yaml:"path"`
	Description    string       `yaml:"description"`
	Created        string       `yaml:"created"`
	Document       fixtureDoc   `yaml:"document"`
	Versions       []fixtureDoc `yaml:"versions"`
	DefaultVersion string       `yaml:"default_version"`
}

type fixtureIdentityCenter struct {
	Region          string                 `yaml:"region"`
	Users           []fixtureSSOUser       `yaml:"users"`
	Groups          []fixtureSSOGroup      `yaml:"groups"`
	PermissionSets  []fixturePermissionSet `yaml:"permission_sets"`
	Assignments     []fixtureAssignment    `yaml:"assignments"`
	FailAssignments map[string]string      `yaml:"fail_assignments"`
}

type fixtureSSOUser struct {
	UserName    string `yaml:"user_name"`
	DisplayName string `yaml:"display_name"`
	GivenName   string `yaml:"given_name"`
	FamilyName  string `yaml:"family_name"`
	Email       string `yaml:"email"`
	Active      *bool  `yaml:"active"`
	ExternalID  string `yaml:"external_id"`
	Title       string `yaml:"title"`
	// Manager is the user name of another user of the identity store; it and the
	// attributes below are the enterprise extension (aws:identitystore:enterprise).
	Manager        string `yaml:"manager"`
	EmployeeNumber string `yaml:"employee_number"`
	CostCenter     string `yaml:"cost_center"`
	Organization   string `yaml:"organization"`
	Division       string `yaml:"division"`
	Department     string `yaml:"department"`
}

type fixtureSSOGroup struct {
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	Members     []string `yaml:"members"`
}

type fixturePermissionSet struct {
	Name             string                  `yaml:"name"`
	Description      string                  `yaml:"description"`
	SessionDuration  string                  `yaml:"session_duration"`
	RelayState       string                  `yaml:"relay_state"`
	ManagedPolicies  []string                `yaml:"managed_policies"`
	InlinePolicy     fixtureDoc              `yaml:"inline_policy"`
	CustomerPolicies []fixtureCustomerPolicy `yaml:"customer_policies"`
	Tags             fixtureTags             `yaml:"tags"`
	ProvisionedTo    []string                `yaml:"provisioned_to"`
}

type fixtureCustomerPolicy struct {
	Name string `yaml:"name"`
	Path string `yaml:"path"`
}

type fixtureAssignment struct {
	Account       string `yaml:"account"`
	PermissionSet string `yaml:"permission_set"`
	User          string `yaml:"user"`
	Group         string `yaml:"group"`
}

type fixtureConnector struct {
	ExternalID  string     `yaml:"external_id"`
	Permissions fixtureDoc `yaml:"permissions"`
}

type fixtureBucket struct {
	Name    string          `yaml:"name"`
	Account string          `yaml:"account"`
	Region  string          `yaml:"region"`
	Created string          `yaml:"created"`
	Objects []fixtureObject `yaml:"objects"`
}

type fixtureObject struct {
	Key         string `yaml:"key"`
	Content     string `yaml:"content"`
	ContentType string `yaml:"content_type"`
	Modified    string `yaml:"modified"`
}

// fixtureSchema lists the decoded types so that an unknown key can be answered with the
// keys that are valid in its place.
var fixtureSchema = func() map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for _, v := range []any{fixtureFile{}, fixtureOrg{}, fixtureOU{}, fixtureAccount{}, fixtureIAM{}, fixtureUser{},
		fixtureAccessKey{}, fixtureGroup{}, fixtureRole{}, fixtureTrust{}, fixturePolicy{}, fixtureIdentityCenter{},
		fixtureSSOUser{}, fixtureSSOGroup{}, fixturePermissionSet{}, fixtureCustomerPolicy{}, fixtureAssignment{},
		fixtureConnector{}, fixtureBucket{}, fixtureObject{}} {
		t := reflect.TypeOf(v)
		m[t.String()] = t
	}
	return m
}()

// fixtureDoc is a JSON document written either as a YAML mapping (converted to JSON with
// its key order kept) or as a string holding JSON.
type fixtureDoc struct {
	text   string
	set    bool
	scalar bool // written as a string (JSON text, or a keyword such as read/admin)
}

func (d *fixtureDoc) UnmarshalYAML(n *yaml.Node) error {
	d.set = true
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		d.text, d.scalar = strings.TrimSpace(n.Value), true
		return nil
	}
	var buf bytes.Buffer
	if err := fixtureNodeJSON(n, &buf); err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	d.text = buf.String()
	return nil
}

// fixtureNodeJSON writes a YAML node as JSON, keeping mapping order (IAM documents read best
// with Version before Statement).
func fixtureNodeJSON(n *yaml.Node, buf *bytes.Buffer) error {
	switch n.Kind {
	case yaml.DocumentNode:
		return fixtureNodeJSON(n.Content[0], buf)
	case yaml.AliasNode:
		return fixtureNodeJSON(n.Alias, buf)
	case yaml.MappingNode:
		buf.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				buf.WriteByte(',')
			}
			k, _ := json.Marshal(n.Content[i].Value)
			buf.Write(k)
			buf.WriteByte(':')
			if err := fixtureNodeJSON(n.Content[i+1], buf); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := fixtureNodeJSON(c, buf); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			buf.WriteString("null")
			return nil
		case "!!bool":
			if v := strings.ToLower(n.Value); v == "true" || v == "false" {
				buf.WriteString(v)
				return nil
			}
		case "!!int", "!!float":
			if json.Valid([]byte(n.Value)) {
				buf.WriteString(n.Value)
				return nil
			}
		}
		s, _ := json.Marshal(n.Value)
		buf.Write(s)
	default:
		return fmt.Errorf("unsupported YAML node in a policy document")
	}
	return nil
}

// fixtureStrings accepts one string or a list of strings.
type fixtureStrings []string

func (s *fixtureStrings) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*s = fixtureStrings{n.Value}
		return nil
	}
	var list []string
	if err := n.Decode(&list); err != nil {
		return err
	}
	*s = list
	return nil
}

// fixtureTags is a mapping of tag keys to values, kept in the order written.
type fixtureTags []Tag

func (t *fixtureTags) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: tags must be a mapping of keys to values, e.g. {email: alice@example.com}", n.Line)}}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: the value of tag %q must be a single value", v.Line, k.Value)}}
		}
		*t = append(*t, Tag{Key: k.Value, Value: v.Value})
	}
	return nil
}

// fixtureBuilder turns a decoded fixture into a World, collecting every problem it finds.
type fixtureBuilder struct {
	f        *fixtureFile
	w        *World
	now      time.Time
	problems []string

	accountByID   map[string]*Account
	accountByName map[string]*Account
	accountPath   map[string]string // account id -> "accounts[i]"
	ous           map[string]*OU    // by path of names, e.g. "Workloads/Prod"
	ouPaths       []string          // in declaration order, for messages
	ssoUsers      map[string]*SSOUser
	ssoGroups     map[string]*SSOGroup
	// late are the last things to create (see memberRoles).
	late     []func()
	permSets map[string]*PermissionSet
}

func (b *fixtureBuilder) problem(path, format string, args ...any) {
	b.problems = append(b.problems, path+": "+fmt.Sprintf(format, args...))
}

var (
	fixtureAccountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)
	fixtureRegionPattern    = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)
	fixtureNamePattern      = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]+$`)
	fixtureAccessKeyPattern = regexp.MustCompile(`^AKIA[A-Z0-9]{16}$`)
	fixtureDurationPattern  = regexp.MustCompile(`^PT([0-9]+H)?([0-9]+M)?$`)
)

func (b *fixtureBuilder) build() *World {
	f := b.f
	now, err := parseFixtureTime(fixtureOr(f.Now, DefaultFixtureNow))
	if err != nil {
		b.problem("now", "%v", err)
		return nil
	}
	b.now = now
	region := fixtureOr(f.Region, "us-east-1")
	if !fixtureRegionPattern.MatchString(region) {
		b.problem("region", "%q is not an AWS region name; write one such as us-east-1", region)
	}
	mgmtID := fixtureOr(f.ManagementAccount, "111111111111")
	if !fixtureAccountIDPattern.MatchString(mgmtID) {
		b.problem("management_account", "%s; write the management account's 12-digit id in quotes, e.g. \"111111111111\"", fixtureNotAccountID(mgmtID))
		return nil
	}
	if !b.checkAccounts(mgmtID) {
		return nil
	}
	b.w = NewWorld(mgmtID, region, func() time.Time { return now })
	w := b.w

	if f.Organization != nil {
		w.EnableOrganization()
		b.ous = map[string]*OU{}
		b.addOUs("organization.ous", f.Organization.OUs, w.Org.RootID, "")
	}
	b.accounts()
	b.memberRoles()
	for i := range f.Accounts {
		if a := b.accountByID[f.Accounts[i].ID]; a != nil {
			b.iam(fmt.Sprintf("accounts[%d].iam", i), a, &f.Accounts[i].IAM)
		}
	}
	if f.Organization != nil {
		for i, ref := range f.Organization.DelegatedAdmins {
			if a := b.accountRef(fmt.Sprintf("organization.delegated_admins[%d]", i), ref); a != nil {
				w.Org.DelegatedAdmins[a.ID] = true
			}
		}
	}
	if f.IdentityCenter != nil {
		b.identityCenter(f.IdentityCenter)
	}
	b.connector()
	b.buckets()
	for _, fn := range b.late {
		fn()
	}
	genStartClock(w, now)
	return w
}

func fixtureOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func fixtureNotAccountID(id string) string {
	return fmt.Sprintf("%q is not an AWS account id (account ids are exactly 12 digits)", id)
}

func parseFixtureTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time; write it in RFC 3339, e.g. 2025-12-31T09:30:00Z, or as a date, e.g. 2025-12-31", s)
}

// time parses an optional time field, defaulting to the fixture's now.
func (b *fixtureBuilder) time(path, s string) time.Time {
	if s == "" {
		return b.now
	}
	t, err := parseFixtureTime(s)
	if err != nil {
		b.problem(path, "%v", err)
		return b.now
	}
	return t
}

// checkAccounts validates ids and names before anything is built: everything else refers
// to accounts.
func (b *fixtureBuilder) checkAccounts(mgmtID string) bool {
	ok := true
	ids, names := map[string]int{}, map[string]int{}
	for i, a := range b.f.Accounts {
		path := fmt.Sprintf("accounts[%d]", i)
		switch {
		case a.ID == "":
			b.problem(path+".id", "missing; every account needs its 12-digit id, e.g. id: \"222222222222\"")
			ok = false
		case !fixtureAccountIDPattern.MatchString(a.ID):
			b.problem(path+".id", "%s; write it as 12 digits in quotes, e.g. id: \"222222222222\"", fixtureNotAccountID(a.ID))
			ok = false
		default:
			if j, dup := ids[a.ID]; dup {
				b.problem(path+".id", "account %s is declared twice (also accounts[%d]); give each account its own id", a.ID, j)
				ok = false
			}
			ids[a.ID] = i
		}
		if a.Name != "" {
			if j, dup := names[a.Name]; dup {
				b.problem(path+".name", "account name %q is also used by accounts[%d]; account names must be unique because assignments and buckets refer to accounts by name", a.Name, j)
				ok = false
			}
			names[a.Name] = i
		}
	}
	return ok
}

// addOUs creates the OU tree depth first, in declaration order.
func (b *fixtureBuilder) addOUs(path string, ous []fixtureOU, parentID, parentPath string) {
	seen := map[string]bool{}
	for i, o := range ous {
		p := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case o.Name == "":
			b.problem(p+".name", "missing; every organizational unit needs a name")
			continue
		case strings.Contains(o.Name, "/"):
			b.problem(p+".name", "%q contains \"/\", which separates OU names in accounts[].ou; rename it", o.Name)
			continue
		case seen[o.Name]:
			b.problem(p+".name", "organizational unit %q is declared twice under the same parent; sibling OUs need distinct names", o.Name)
			continue
		}
		seen[o.Name] = true
		ou := b.w.AddOU(o.Name, parentID)
		full := o.Name
		if parentPath != "" {
			full = parentPath + "/" + o.Name
		}
		b.ous[full] = ou
		b.ouPaths = append(b.ouPaths, full)
		b.addOUs(p+".ous", o.OUs, ou.ID, full)
	}
}

func (b *fixtureBuilder) accounts() {
	w, f := b.w, b.f
	b.accountByID, b.accountByName, b.accountPath = map[string]*Account{}, map[string]*Account{}, map[string]string{}
	mgmt := w.ManagementAccount()
	b.accountByID[mgmt.ID] = mgmt
	for i, fa := range f.Accounts {
		path := fmt.Sprintf("accounts[%d]", i)
		parent := ""
		if fa.OU != "" {
			if w.Org == nil {
				b.problem(path+".ou", "the fixture declares no organization; add an organization: section with this OU, or remove ou")
			} else if ou := b.ous[strings.Trim(fa.OU, "/")]; ou == nil {
				b.problem(path+".ou", "organizational unit %q is not declared; declare it under organization.ous (declared: %s)", fa.OU, fixtureList(b.ouPaths))
			} else {
				parent = ou.ID
			}
		}
		var a *Account
		if fa.ID == w.ManagementAccountID {
			a = mgmt
			a.Name, a.Email = fixtureOr(fa.Name, a.Name), fixtureOr(fa.Email, a.Email)
			if parent != "" {
				a.ParentID = parent
			}
			if fa.MemberRole != "" || fa.MemberRoleExternalID != "" {
				b.problem(path+".member_role", "the management account has no member access role (it is where Gatehouse starts); remove member_role here")
			}
		} else {
			name := fixtureOr(fa.Name, "account-"+fa.ID)
			a = w.AddAccount(fa.ID, name, fixtureOr(fa.Email, "aws+"+name+"@example.com"), parent)
		}
		switch fa.Status {
		case "", "ACTIVE":
		case "SUSPENDED", "PENDING_CLOSURE":
			if a == mgmt {
				b.problem(path+".status", "the management account cannot be %s; suspend a member account instead", fa.Status)
			}
			a.Status = fa.Status
		default:
			b.problem(path+".status", "%q is not an account status; use ACTIVE (the default), SUSPENDED or PENDING_CLOSURE", fa.Status)
		}
		switch fa.JoinedMethod {
		case "", "CREATED", "INVITED":
			a.JoinedMethod = fixtureOr(fa.JoinedMethod, "CREATED")
		default:
			b.problem(path+".joined_method", "%q is not a way to join an organization; use CREATED (the default) or INVITED", fa.JoinedMethod)
		}
		a.JoinedAt = b.time(path+".joined", fa.Joined)
		a.Aliases = append([]string(nil), fa.Aliases...)
		a.DenyAll = fa.DenyAll
		b.accountByID[a.ID] = a
		b.accountPath[a.ID] = path
	}
	for _, id := range w.AccountIDs() {
		b.accountByName[w.Accounts[id].Name] = w.Accounts[id]
	}
}

// memberRoles creates the member roles in every ACTIVE member account of an
// organization, unless the account (or the file) says member_role: none: the member role
// Gatehouse assumes (member_role, by default GatehouseMember as `gatehouse setup aws`
// creates it: trusted by the connector role, holding the generated member policy) and
// OrganizationAccountAccessRole as AWS Organizations creates it (administrator, trusted
// by the management account). member_role: OrganizationAccountAccessRole creates only
// that one. Outside an organization only an explicit member_role creates one, alone.
// member_role_external_id makes the member role's trust require that External ID.
func (b *fixtureBuilder) memberRoles() {
	w, f := b.w, b.f
	for i, fa := range f.Accounts {
		a := b.accountByID[fa.ID]
		if a == nil || a.ID == w.ManagementAccountID || a.Status != "ACTIVE" {
			continue
		}
		name := fa.MemberRole
		if name == "" && w.Org != nil {
			name = fixtureOr(f.MemberRole, DefaultMemberRoleName)
		}
		path := fmt.Sprintf("accounts[%d].member_role", i)
		if name == "" || name == "none" {
			if fa.MemberRoleExternalID != "" {
				b.problem(fmt.Sprintf("accounts[%d].member_role_external_id", i), "the account has no member role; remove member_role_external_id or name a member_role")
			}
			continue
		}
		if !fixtureNamePattern.MatchString(name) || len(name) > 64 {
			b.problem(path, "%q is not a valid role name (up to 64 letters, digits and +=,.@_-), or none for no member role", name)
			continue
		}
		created := []string{name}
		if w.Org != nil && name != OrganizationAccessRoleName {
			created = append(created, OrganizationAccessRoleName)
		}
		for j, r := range fa.IAM.Roles {
			for _, c := range created {
				if r.Name == c {
					b.problem(fmt.Sprintf("accounts[%d].iam.roles[%d].name", i, j), "role %q is also one of the account's member roles, which the fixture creates; remove this role, or set member_role: none (or another name) on the account", c)
				}
			}
		}
		externalID := fa.MemberRoleExternalID
		if name == OrganizationAccessRoleName {
			r := w.AddOrganizationAccessRole(a)
			if externalID != "" {
				r.AssumeRolePolicy = TrustPolicy(genRootARN(w.ManagementAccountID), externalID)
			}
			continue
		}
		add := func() {
			r := w.AddGatehouseMemberRole(a, name)
			if externalID != "" {
				r.AssumeRolePolicy = TrustPolicy("arn:aws:iam::"+w.ManagementAccountID+":role/"+ConnectorRoleName, externalID)
			}
		}
		if len(created) == 1 {
			add()
			continue
		}
		// With both roles, the Gatehouse member role is created after everything else
		// (see build), so that the ids of the rest stay what they were when fixtures
		// created OrganizationAccountAccessRole alone.
		w.AddOrganizationAccessRole(a)
		b.late = append(b.late, add)
	}
}

// iam builds one account's IAM: customer policies first (the others attach them), then
// groups, users (who join groups) and roles.
func (b *fixtureBuilder) iam(path string, a *Account, d *fixtureIAM) {
	w := b.w
	declared := map[string]string{}
	for i, fp := range d.Policies {
		p := fmt.Sprintf("%s.policies[%d]", path, i)
		if !b.checkName(p, "policy", fp.Name, 128, declared) {
			continue
		}
		var docs []fixtureDoc
		switch {
		case fp.Document.set && len(fp.Versions) > 0:
			b.problem(p, "policy %q has both document and versions; use document for one version or versions for several", fp.Name)
			continue
		case fp.Document.set:
			docs = []fixtureDoc{fp.Document}
		case len(fp.Versions) > 0:
			docs = fp.Versions
		default:
			b.problem(p, "policy %q has no document; add document: {Version: \"2012-10-17\", Statement: [...]}", fp.Name)
			continue
		}
		texts := make([]string, len(docs))
		for j, doc := range docs {
			dp := p + ".document"
			if len(fp.Versions) > 0 {
				dp = fmt.Sprintf("%s.versions[%d]", p, j)
			}
			texts[j] = b.policyDoc(dp, doc)
		}
		created := b.time(p+".created", fp.Created)
		pol := a.AddPolicy(w, fp.Name, fp.Path, texts[0])
		pol.Description, pol.CreateDate, pol.UpdateDate = fp.Description, created, created
		pol.Versions = pol.Versions[:0]
		for j, t := range texts {
			pol.Versions = append(pol.Versions, &PolicyVersion{ID: fmt.Sprintf("v%d", j+1), Document: t, CreateDate: created})
		}
		pol.DefaultVersion = fmt.Sprintf("v%d", len(texts))
		if fp.DefaultVersion != "" {
			if n, err := strconv.Atoi(strings.TrimPrefix(fp.DefaultVersion, "v")); err != nil || n < 1 || n > len(texts) || !strings.HasPrefix(fp.DefaultVersion, "v") {
				b.problem(p+".default_version", "%q is not one of the policy's versions; use v1 to v%d (the default is the last)", fp.DefaultVersion, len(texts))
			} else {
				pol.DefaultVersion = fp.DefaultVersion
			}
		}
	}

	declared = map[string]string{}
	for i, fg := range d.Groups {
		p := fmt.Sprintf("%s.groups[%d]", path, i)
		if !b.checkName(p, "group", fg.Name, 128, declared) {
			continue
		}
		g := a.AddGroup(w, fg.Name, fg.Path)
		g.CreateDate = b.time(p+".created", fg.Created)
		g.AttachedPolicies = b.attachments(p+".attached_policies", path, a, fg.AttachedPolicies)
		g.InlinePolicies = b.inline(p+".inline_policies", fg.InlinePolicies)
	}

	declared = map[string]string{}
	for i, fu := range d.Users {
		p := fmt.Sprintf("%s.users[%d]", path, i)
		if !b.checkName(p, "user", fu.Name, 64, declared) {
			continue
		}
		u := a.AddUser(w, fu.Name, fu.Path)
		u.CreateDate = b.time(p+".created", fu.Created)
		u.Tags = []Tag(fu.Tags)
		if fu.ConsolePassword {
			u.LoginProfile = &LoginProfile{CreateDate: u.CreateDate, PasswordResetRequired: fu.PasswordResetRequired}
			if fu.PasswordChanged != "" {
				u.LoginProfile.CreateDate = b.time(p+".password_changed", fu.PasswordChanged)
			}
			if fu.PasswordLastUsed != "" {
				u.PasswordLastUsed = b.time(p+".password_last_used", fu.PasswordLastUsed)
			}
		} else if fu.PasswordLastUsed != "" || fu.PasswordResetRequired || fu.PasswordChanged != "" {
			b.problem(p, "user %q has password_last_used, password_changed or password_reset_required but no console password; add console_password: true", fu.Name)
		}
		if len(fu.AccessKeys) > 2 {
			b.problem(p+".access_keys", "user %q has %d access keys; IAM allows at most 2 per user", fu.Name, len(fu.AccessKeys))
		}
		for j, fk := range fu.AccessKeys {
			b.accessKey(fmt.Sprintf("%s.access_keys[%d]", p, j), a, u, fk)
		}
		for j, kind := range fu.MFA {
			switch kind {
			case "virtual", "hardware":
				a.AddMFADevice(w, u, kind == "virtual").EnableDate = u.CreateDate
			case "fido":
				a.AddFIDODevice(w, u).EnableDate = u.CreateDate
			default:
				b.problem(fmt.Sprintf("%s.mfa[%d]", p, j), "%q is not an MFA device type; use virtual, hardware or fido", kind)
			}
		}
		for j, gn := range fu.Groups {
			g := a.Groups[gn]
			if g == nil {
				b.problem(fmt.Sprintf("%s.groups[%d]", p, j), "group %q is not declared in account %s; declare it under %s.groups", gn, a.ID, path)
				continue
			}
			g.AddUserToGroup(u.Name)
		}
		u.AttachedPolicies = b.attachments(p+".attached_policies", path, a, fu.AttachedPolicies)
		u.InlinePolicies = b.inline(p+".inline_policies", fu.InlinePolicies)
		u.PermissionsBoundary = b.boundary(p+".permissions_boundary", path, a, fu.PermissionsBoundary)
		u.ServiceLastAccessed = b.lastAccessed(p+".services_last_accessed", fu.ServicesLastAccessed)
	}

	declared = map[string]string{}
	for i, fr := range d.Roles {
		p := fmt.Sprintf("%s.roles[%d]", path, i)
		if !b.checkName(p, "role", fr.Name, 64, declared) {
			continue
		}
		if a.ID == w.ManagementAccountID && fr.Name == ConnectorRoleName {
			b.problem(p+".name", "role %q is the Gatehouse connector role, which the fixture creates from the connector: section; configure it there instead", fr.Name)
			continue
		}
		if a.Roles[fr.Name] != nil {
			continue // the member access role; memberRoles reported it
		}
		trust := b.trust(p, fr)
		r := a.AddRole(w, fr.Name, fr.Path, trust)
		r.Description = fr.Description
		r.CreateDate = b.time(p+".created", fr.Created)
		r.Tags = []Tag(fr.Tags)
		if fr.MaxSessionDuration != 0 {
			if fr.MaxSessionDuration < 3600 || fr.MaxSessionDuration > 43200 {
				b.problem(p+".max_session_duration", "%d is out of range; IAM allows 3600 to 43200 seconds", fr.MaxSessionDuration)
			}
			r.MaxSessionDuration = fr.MaxSessionDuration
		}
		r.AttachedPolicies = b.attachments(p+".attached_policies", path, a, fr.AttachedPolicies)
		r.InlinePolicies = b.inline(p+".inline_policies", fr.InlinePolicies)
		r.PermissionsBoundary = b.boundary(p+".permissions_boundary", path, a, fr.PermissionsBoundary)
		r.ServiceLastAccessed = b.lastAccessed(p+".services_last_accessed", fr.ServicesLastAccessed)
		if fr.LastUsed != "" {
			r.LastUsedDate = b.time(p+".last_used", fr.LastUsed)
			r.LastUsedRegion = fixtureOr(fr.LastUsedRegion, w.Region)
		}
	}

	if pp := d.PasswordPolicy; pp != nil {
		p := path + ".password_policy"
		if pp.MinimumPasswordLength == 0 {
			pp.MinimumPasswordLength = 6
		}
		if pp.MinimumPasswordLength < 6 || pp.MinimumPasswordLength > 128 {
			b.problem(p+".minimum_password_length", "%d is out of range; IAM allows 6 to 128", pp.MinimumPasswordLength)
		}
		if pp.PasswordReusePrevention < 0 || pp.PasswordReusePrevention > 24 {
			b.problem(p+".password_reuse_prevention", "%d is out of range; IAM allows 1 to 24 (0 or left out: not set)", pp.PasswordReusePrevention)
		}
		if pp.MaxPasswordAge < 0 || pp.MaxPasswordAge > 1095 {
			b.problem(p+".max_password_age", "%d is out of range; IAM allows 1 to 1095 days (0 or left out: passwords do not expire)", pp.MaxPasswordAge)
		}
		a.PasswordPolicy = &PasswordPolicy{MinimumPasswordLength: pp.MinimumPasswordLength, RequireSymbols: pp.RequireSymbols,
			RequireNumbers: pp.RequireNumbers, RequireUppercaseCharacters: pp.RequireUppercaseCharacters,
			RequireLowercaseCharacters: pp.RequireLowercaseCharacters, AllowUsersToChangePassword: pp.AllowUsersToChangePassword,
			MaxPasswordAge: pp.MaxPasswordAge, PasswordReusePrevention: pp.PasswordReusePrevention, HardExpiry: pp.HardExpiry}
	}
	if r := d.Root; r != nil {
		p := path + ".root"
		switch r.MFA {
		case "", "virtual", "hardware":
			at := a.JoinedAt
			if r.MFAEnabled != "" {
				at = b.time(p+".mfa_enabled", r.MFAEnabled)
			}
			a.SetRootMFA(w, r.MFA, at)
		default:
			b.problem(p+".mfa", "%q is not a root MFA device type; use virtual or hardware", r.MFA)
		}
		if r.PasswordLastUsed != "" {
			a.Root.PasswordLastUsed = b.time(p+".password_last_used", r.PasswordLastUsed)
		}
		if len(r.AccessKeys) > 2 {
			b.problem(p+".access_keys", "the root user has %d access keys; IAM allows at most 2", len(r.AccessKeys))
		}
		for j, fk := range r.AccessKeys {
			kp := fmt.Sprintf("%s.access_keys[%d]", p, j)
			k := &AccessKey{ID: fk.ID, Status: "Active", CreateDate: b.time(kp+".created", fk.Created)}
			if k.ID == "" {
				k.ID = "AKIA" + strings.ToUpper(w.hexID(16))
			}
			switch fk.Status {
			case "", "Active":
			case "Inactive":
				k.Status = "Inactive"
			default:
				b.problem(kp+".status", "%q is not an access key status; use Active (the default) or Inactive", fk.Status)
			}
			if fk.LastUsed != "" {
				k.LastUsedDate = b.time(kp+".last_used", fk.LastUsed)
				k.LastUsedService = fixtureOr(fk.LastUsedService, "sts")
				k.LastUsedRegion = fixtureOr(fk.LastUsedRegion, w.Region)
			}
			a.Root.AccessKeys = append(a.Root.AccessKeys, k)
		}
	}

	if d.CredentialReportGenerated != "" {
		p := path + ".credential_report_generated"
		at := b.time(p, d.CredentialReportGenerated)
		if at.After(b.now) {
			b.problem(p, "%s is after the fixture's now (%s); a report can only describe the past", at.Format(time.RFC3339), b.now.Format(time.RFC3339))
		}
		a.SetCredentialReport(at)
	}
}

// checkName validates an IAM entity name and records it; false means skip the entity.
func (b *fixtureBuilder) checkName(path, kind, name string, maxLen int, declared map[string]string) bool {
	switch {
	case name == "":
		b.problem(path+".name", "missing; every %s needs a name", kind)
		return false
	case len(name) > maxLen || !fixtureNamePattern.MatchString(name):
		b.problem(path+".name", "%q is not a valid %s name (up to %d letters, digits and +=,.@_-)", name, kind, maxLen)
		return false
	}
	if prev, dup := declared[name]; dup {
		b.problem(path+".name", "%s %q is declared twice in the account (also %s)", kind, name, prev)
		return false
	}
	declared[name] = path
	return true
}

func (b *fixtureBuilder) accessKey(path string, a *Account, u *User, fk fixtureAccessKey) {
	k := a.AddAccessKey(b.w, u)
	if fk.ID != "" {
		if !fixtureAccessKeyPattern.MatchString(fk.ID) {
			b.problem(path+".id", "%q is not an access key id; write AKIA and 16 upper-case letters or digits, or leave it out for a generated one", fk.ID)
		} else if _, other, _ := b.w.UserByAccessKey(fk.ID); other != nil && other != u {
			b.problem(path+".id", "access key %s is also declared for user %q; access key ids are unique", fk.ID, other.Name)
		} else {
			k.ID = fk.ID
		}
	}
	if fk.Secret != "" {
		k.Secret = fk.Secret
	}
	switch fk.Status {
	case "", "Active":
	case "Inactive":
		k.Status = "Inactive"
	default:
		b.problem(path+".status", "%q is not an access key status; use Active (the default) or Inactive", fk.Status)
	}
	k.CreateDate = b.time(path+".created", fk.Created)
	if fk.LastUsed != "" {
		k.LastUsedDate = b.time(path+".last_used", fk.LastUsed)
		k.LastUsedService = fixtureOr(fk.LastUsedService, "sts")
		k.LastUsedRegion = fixtureOr(fk.LastUsedRegion, b.w.Region)
	} else if fk.LastUsedService != "" || fk.LastUsedRegion != "" {
		b.problem(path, "last_used_service and last_used_region need last_used (the time the key was last used)")
	}
}

// attachments resolves attached policies given by name or ARN: a customer policy of the
// account first, then an AWS-managed policy.
func (b *fixtureBuilder) attachments(path, iamPath string, a *Account, refs []string) []string {
	var out []string
	for i, ref := range refs {
		if arn := b.policyRef(fmt.Sprintf("%s[%d]", path, i), iamPath, a, ref); arn != "" {
			out = append(out, arn)
		}
	}
	return out
}

// boundary resolves a permissions boundary given by name or ARN the way attached policies
// are resolved; "" when none is declared.
func (b *fixtureBuilder) boundary(path, iamPath string, a *Account, ref string) string {
	if ref == "" {
		return ""
	}
	return b.policyRef(path, iamPath, a, ref)
}

// policyRef resolves one managed policy given by name or ARN: a customer policy of the
// account first, then an AWS-managed policy. "" (and a problem) when there is none.
func (b *fixtureBuilder) policyRef(p, iamPath string, a *Account, ref string) string {
	if strings.HasPrefix(ref, "arn:") {
		if b.w.Policy(a, ref) == nil {
			b.problem(p, "policy %s is neither a customer policy of account %s nor an AWS-managed policy the simulator knows; declare it under %s.policies, or use one of: %s", ref, a.ID, iamPath, strings.Join(fixtureManagedPolicyNames(), ", "))
			return ""
		}
		return ref
	}
	arn := ""
	for _, k := range sortedKeys(a.Policies) {
		if a.Policies[k].Name == ref {
			arn = k
		}
	}
	if arn == "" {
		arn = AWSManagedPolicyARN(ref)
	}
	if arn == "" {
		b.problem(p, "policy %q is neither a customer policy of account %s nor an AWS-managed policy the simulator knows; declare it under %s.policies, or use one of: %s", ref, a.ID, iamPath, strings.Join(fixtureManagedPolicyNames(), ", "))
	}
	return arn
}

func fixtureManagedPolicyNames() []string {
	names := make([]string, len(awsManagedPolicies))
	for i, p := range awsManagedPolicies {
		names[i] = p.name
	}
	return names
}

func (b *fixtureBuilder) inline(path string, docs map[string]fixtureDoc) map[string]string {
	out := map[string]string{}
	for _, name := range sortedKeys(docs) {
		out[name] = b.policyDoc(path+"."+name, docs[name])
	}
	return out
}

// policyDoc validates a policy document the way IAM would on upload.
func (b *fixtureBuilder) policyDoc(path string, d fixtureDoc) string {
	if !json.Valid([]byte(d.text)) {
		b.problem(path, "not valid JSON; write the document as a YAML mapping, or as a string holding JSON")
		return d.text
	}
	if _, err := parsePolicy(d.text); err != nil {
		b.problem(path, "not a valid policy document: %s", err.Message)
	}
	return d.text
}

// trust returns a role's trust policy from trust_policy or the trust shorthand.
func (b *fixtureBuilder) trust(path string, fr fixtureRole) string {
	switch {
	case fr.TrustPolicy.set && fr.Trust != nil:
		b.problem(path, "role %q has both trust and trust_policy; use one", fr.Name)
		return ""
	case fr.TrustPolicy.set:
		return b.policyDoc(path+".trust_policy", fr.TrustPolicy)
	case fr.Trust == nil:
		b.problem(path, "role %q has no trust policy; add trust: {aws: [ARN or account id], external_id: ...}, trust: {service: ec2.amazonaws.com} or trust_policy: {...}", fr.Name)
		return ""
	}
	t := fr.Trust
	type stmt struct {
		Effect    string         `json:"Effect"`
		Principal map[string]any `json:"Principal"`
		Action    string         `json:"Action"`
		Condition map[string]any `json:"Condition,omitempty"`
	}
	one := func(list []string) any {
		if len(list) == 1 {
			return list[0]
		}
		return list
	}
	var stmts []stmt
	if len(t.AWS) > 0 {
		var principals []string
		for i, p := range t.AWS {
			switch {
			case fixtureAccountIDPattern.MatchString(p):
				principals = append(principals, genRootARN(p))
			case p == "*" || strings.HasPrefix(p, "arn:"):
				principals = append(principals, p)
			default:
				b.problem(fmt.Sprintf("%s.trust.aws[%d]", path, i), "%q is neither an account id nor an ARN; write a 12-digit account id or an ARN such as arn:aws:iam::111111111111:user/alice", p)
			}
		}
		s := stmt{Effect: "Allow", Principal: map[string]any{"AWS": one(principals)}, Action: "sts:AssumeRole"}
		if t.ExternalID != "" {
			s.Condition = map[string]any{"StringEquals": map[string]string{"sts:ExternalId": t.ExternalID}}
		}
		stmts = append(stmts, s)
	} else if t.ExternalID != "" {
		b.problem(path+".trust.external_id", "an External ID only applies to AWS principals; add trust.aws with the account or ARN that must send it")
	}
	if len(t.Service) > 0 {
		stmts = append(stmts, stmt{Effect: "Allow", Principal: map[string]any{"Service": one(t.Service)}, Action: "sts:AssumeRole"})
	}
	if len(t.Federated) > 0 {
		stmts = append(stmts, stmt{Effect: "Allow", Principal: map[string]any{"Federated": one(t.Federated)}, Action: "sts:AssumeRoleWithWebIdentity"})
	}
	if len(stmts) == 0 {
		b.problem(path+".trust", "names no principal; add aws, service or federated")
		return ""
	}
	doc, _ := json.Marshal(struct {
		Version   string `json:"Version"`
		Statement []stmt `json:"Statement"`
	}{"2012-10-17", stmts})
	return string(doc)
}

// accountRef resolves an account given by id or by name.
func (b *fixtureBuilder) accountRef(path, ref string) *Account {
	if a := b.accountByID[ref]; a != nil {
		return a
	}
	if a := b.accountByName[ref]; a != nil {
		return a
	}
	var known []string
	for _, id := range b.w.AccountIDs() {
		known = append(known, fmt.Sprintf("%s (%s)", b.w.Accounts[id].Name, id))
	}
	b.problem(path, "account %q is not declared; use the id or name of an account under accounts (declared: %s)", ref, strings.Join(known, ", "))
	return nil
}

func (b *fixtureBuilder) identityCenter(ic *fixtureIdentityCenter) {
	w := b.w
	region := fixtureOr(ic.Region, w.Region)
	if !fixtureRegionPattern.MatchString(region) {
		b.problem("identity_center.region", "%q is not an AWS region name; write one such as us-east-1", region)
	}
	w.EnableIdentityCenter(region)
	w.SSO.CreatedDate = b.now
	b.ssoUsers, b.ssoGroups, b.permSets = map[string]*SSOUser{}, map[string]*SSOGroup{}, map[string]*PermissionSet{}

	for i, fu := range ic.Users {
		p := fmt.Sprintf("identity_center.users[%d]", i)
		if fu.UserName == "" {
			b.problem(p+".user_name", "missing; every Identity Center user needs a user_name")
			continue
		}
		if b.ssoUsers[fu.UserName] != nil {
			b.problem(p+".user_name", "user %q is declared twice; user names are unique in an identity store", fu.UserName)
			continue
		}
		u := w.AddSSOUser(fu.UserName, fu.GivenName, fu.FamilyName, fu.Email)
		if fu.DisplayName != "" {
			u.DisplayName = fu.DisplayName
		} else if u.DisplayName == "" {
			u.DisplayName = fu.UserName
		}
		if fu.Active != nil {
			u.Active = *fu.Active
		}
		u.ExternalID = fu.ExternalID
		u.Title = fu.Title
		u.Enterprise = Enterprise{EmployeeNumber: fu.EmployeeNumber, CostCenter: fu.CostCenter,
			Organization: fu.Organization, Division: fu.Division, Department: fu.Department}
		b.ssoUsers[fu.UserName] = u
	}
	// Managers name other users, declared before or after: resolved once all exist.
	for i, fu := range ic.Users {
		u := b.ssoUsers[fu.UserName]
		if fu.Manager == "" || u == nil {
			continue
		}
		m := b.ssoUsers[fu.Manager]
		switch {
		case m == nil:
			b.problem(fmt.Sprintf("identity_center.users[%d].manager", i), "no Identity Center user %q; write the user_name of another user in identity_center.users", fu.Manager)
		case m == u:
			b.problem(fmt.Sprintf("identity_center.users[%d].manager", i), "user %q cannot be their own manager", fu.Manager)
		default:
			u.Enterprise.ManagerID = m.ID
		}
	}

	for i, fg := range ic.Groups {
		p := fmt.Sprintf("identity_center.groups[%d]", i)
		if fg.Name == "" {
			b.problem(p+".name", "missing; every Identity Center group needs a name")
			continue
		}
		if b.ssoGroups[fg.Name] != nil {
			b.problem(p+".name", "group %q is declared twice; group names are unique in an identity store", fg.Name)
			continue
		}
		g := w.AddSSOGroup(fg.Name, fg.Description)
		b.ssoGroups[fg.Name] = g
		for j, m := range fg.Members {
			u := b.ssoUsers[m]
			if u == nil {
				b.problem(fmt.Sprintf("%s.members[%d]", p, j), "user %q is not declared; declare it under identity_center.users (by user_name)", m)
				continue
			}
			w.AddMembership(g.ID, u.ID)
		}
	}

	for i, fp := range ic.PermissionSets {
		p := fmt.Sprintf("identity_center.permission_sets[%d]", i)
		switch {
		case fp.Name == "":
			b.problem(p+".name", "missing; every permission set needs a name")
			continue
		case len(fp.Name) > 32 || !fixtureNamePattern.MatchString(fp.Name):
			b.problem(p+".name", "%q is not a valid permission set name (up to 32 letters, digits and +=,.@_-)", fp.Name)
			continue
		case b.permSets[fp.Name] != nil:
			b.problem(p+".name", "permission set %q is declared twice", fp.Name)
			continue
		}
		if d := fp.SessionDuration; d != "" {
			if secs := isoDurationSeconds(d); !fixtureDurationPattern.MatchString(d) || d == "PT" || secs < 3600 || secs > 43200 {
				b.problem(p+".session_duration", "%q is not a session duration Identity Center accepts; write an ISO 8601 duration from PT1H to PT12H, e.g. PT4H", d)
			}
		}
		ps := w.AddPermissionSet(fp.Name, fp.Description, fp.SessionDuration)
		ps.RelayState = fp.RelayState
		ps.Tags = []Tag(fp.Tags)
		for j, ref := range fp.ManagedPolicies {
			arn := ref
			if !strings.HasPrefix(ref, "arn:") {
				arn = AWSManagedPolicyARN(ref)
			}
			if w.AWSManagedPolicies[arn] == nil {
				b.problem(fmt.Sprintf("%s.managed_policies[%d]", p, j), "%q is not an AWS-managed policy the simulator knows; use one of: %s (customer policies go under customer_policies)", ref, strings.Join(fixtureManagedPolicyNames(), ", "))
				continue
			}
			ps.ManagedPolicies = append(ps.ManagedPolicies, arn)
		}
		if fp.InlinePolicy.set {
			ps.InlinePolicy = b.policyDoc(p+".inline_policy", fp.InlinePolicy)
		}
		for j, cp := range fp.CustomerPolicies {
			if cp.Name == "" {
				b.problem(fmt.Sprintf("%s.customer_policies[%d].name", p, j), "missing; name the customer policy each account must have")
				continue
			}
			ps.CustomerPolicies = append(ps.CustomerPolicies, CustomerPolicyRef{Name: cp.Name, Path: normPath(cp.Path)})
		}
		b.permSets[fp.Name] = ps
	}

	// Provisioning comes after all permission sets are complete: the reserved role copies
	// the permission set's policies.
	for i, fp := range ic.PermissionSets {
		ps := b.permSets[fp.Name]
		if ps == nil {
			continue
		}
		for j, ref := range fp.ProvisionedTo {
			if a := b.accountRef(fmt.Sprintf("identity_center.permission_sets[%d].provisioned_to[%d]", i, j), ref); a != nil {
				w.ProvisionPermissionSet(a.ID, ps.ARN)
			}
		}
	}

	seen := map[Assignment]int{}
	for i, fa := range ic.Assignments {
		p := fmt.Sprintf("identity_center.assignments[%d]", i)
		a := b.accountRef(p+".account", fa.Account)
		ps := b.permSets[fa.PermissionSet]
		if ps == nil {
			b.problem(p+".permission_set", "permission set %q is not declared; declare it under identity_center.permission_sets (declared: %s)", fa.PermissionSet, fixtureList(sortedKeys(b.permSets)))
		}
		asg := Assignment{}
		switch {
		case fa.User != "" && fa.Group != "":
			b.problem(p, "names both user and group; an assignment is for one principal, so split it in two")
			continue
		case fa.User != "":
			if u := b.ssoUsers[fa.User]; u != nil {
				asg.PrincipalType, asg.PrincipalID = "USER", u.ID
			} else {
				b.problem(p+".user", "user %q is not declared; declare it under identity_center.users (by user_name)", fa.User)
			}
		case fa.Group != "":
			if g := b.ssoGroups[fa.Group]; g != nil {
				asg.PrincipalType, asg.PrincipalID = "GROUP", g.ID
			} else {
				b.problem(p+".group", "group %q is not declared; declare it under identity_center.groups", fa.Group)
			}
		default:
			b.problem(p, "names no principal; add user: USER_NAME or group: GROUP_NAME")
			continue
		}
		if a == nil || ps == nil || asg.PrincipalID == "" {
			continue
		}
		asg.AccountID, asg.PermissionSetARN = a.ID, ps.ARN
		if j, dup := seen[asg]; dup {
			b.problem(p, "the same assignment as identity_center.assignments[%d]; remove one", j)
			continue
		}
		seen[asg] = i
		w.AddAssignment(asg.AccountID, asg.PermissionSetARN, asg.PrincipalType, asg.PrincipalID)
	}

	for _, ref := range sortedKeys(ic.FailAssignments) {
		if a := b.accountRef("identity_center.fail_assignments."+ref, ref); a != nil {
			w.SSO.FailAssignments[a.ID] = ic.FailAssignments[ref]
		}
	}
}

// fixtureAdminPolicy lets the connector do anything, for tests of provisioning.
const fixtureAdminPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

func (b *fixtureBuilder) connector() {
	c := b.f.Connector
	if c == nil {
		c = &fixtureConnector{}
	}
	perms := ConnectorReadPolicy
	switch {
	case !c.Permissions.set, c.Permissions.scalar && c.Permissions.text == "read":
	case c.Permissions.scalar && c.Permissions.text == "admin":
		perms = fixtureAdminPolicy
	case c.Permissions.scalar && !strings.HasPrefix(c.Permissions.text, "{"):
		b.problem("connector.permissions", "%q is not a permission level; use read (the default), admin, or a policy document", c.Permissions.text)
	default:
		perms = b.policyDoc("connector.permissions", c.Permissions)
	}
	b.w.AddConnectorAccess(c.ExternalID, perms)
	b.w.Connector.SCIMToken = b.f.SCIMToken
}

func (b *fixtureBuilder) buckets() {
	w := b.w
	for i, fb := range b.f.Buckets {
		p := fmt.Sprintf("buckets[%d]", i)
		if fb.Name == "" {
			b.problem(p+".name", "missing; every bucket needs a name")
			continue
		}
		if w.Buckets[fb.Name] != nil {
			b.problem(p+".name", "bucket %q is declared twice; bucket names are global", fb.Name)
			continue
		}
		owner := w.ManagementAccount()
		if fb.Account != "" {
			if owner = b.accountRef(p+".account", fb.Account); owner == nil {
				continue
			}
		}
		bk := genAddBucket(w, fb.Name, owner.ID, b.time(p+".created", fb.Created))
		bk.Region = fixtureOr(fb.Region, w.Region)
		for j, o := range fb.Objects {
			op := fmt.Sprintf("%s.objects[%d]", p, j)
			if o.Key == "" {
				b.problem(op+".key", "missing; every object needs a key")
				continue
			}
			genPutObject(bk, o.Key, fixtureOr(o.ContentType, "application/octet-stream"), []byte(o.Content), b.time(op+".modified", o.Modified))
		}
	}
}

func fixtureList(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

// YAML decoding errors, translated to the YAML path of the problem.

var (
	fixtureLinePattern       = regexp.MustCompile(`^line (\d+): (.*)$`)
	fixtureUnknownKeyPattern = regexp.MustCompile(`^field (\S+) not found in type (\S+)$`)
	fixtureTypePattern       = regexp.MustCompile("^cannot unmarshal !!(\\w+) (?:`(.*)` )?into (\\S+)$")
)

func fixtureYAMLError(data []byte, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return fmt.Errorf("not valid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root)
	var problems []string
	for _, e := range te.Errors {
		m := fixtureLinePattern.FindStringSubmatch(e)
		if m == nil {
			problems = append(problems, e)
			continue
		}
		line, _ := strconv.Atoi(m[1])
		msg := m[2]
		if k := fixtureUnknownKeyPattern.FindStringSubmatch(msg); k != nil {
			path := fixtureKeyPath(&root, line, k[1])
			problems = append(problems, fmt.Sprintf("%s: unknown key %q (line %d); valid keys here: %s", path, k[1], line, fixtureValidKeys(k[2])))
			continue
		}
		kind := yaml.Kind(0)
		if c := fixtureTypePattern.FindStringSubmatch(msg); c != nil {
			switch c[1] {
			case "seq":
				kind = yaml.SequenceNode
			case "map":
				kind = yaml.MappingNode
			default:
				kind = yaml.ScalarNode
			}
			msg = "expected " + fixtureDescribeType(c[3]) + ", got " + fixtureDescribeYAML(c[1], c[2])
		}
		problems = append(problems, fmt.Sprintf("%s: %s (line %d)", fixtureValuePath(&root, line, kind), msg, line))
	}
	return fixtureProblems(problems)
}

func fixtureValidKeys(typeName string) string {
	t, ok := fixtureSchema[typeName]
	if !ok {
		return "see docs/fixtures.md"
	}
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if tag := t.Field(i).Tag.Get("yaml"); tag != "" {
			keys = append(keys, strings.Split(tag, ",")[0])
		}
	}
	return strings.Join(keys, ", ")
}

func fixtureDescribeType(t string) string {
	switch {
	case t == "string":
		return "a single value"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "a whole number"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["), strings.HasPrefix(t, "awssim."):
		return "a mapping of keys to values"
	}
	return t
}

func fixtureDescribeYAML(tag, value string) string {
	switch tag {
	case "seq":
		return "a list"
	case "map":
		return "a mapping"
	}
	return strconv.Quote(value)
}

// fixtureKeyPath finds the mapping key at the line and returns its path, e.g.
// accounts[0].iam.users[1].gropus.
func fixtureKeyPath(root *yaml.Node, line int, key string) string {
	found := ""
	fixtureWalk(root, "", func(path string, n *yaml.Node, keyNode *yaml.Node) bool {
		if keyNode != nil && keyNode.Line == line && keyNode.Value == key {
			found = path
			return false
		}
		return true
	})
	return fixtureOr(found, key)
}

// fixtureValuePath finds the deepest value at the line: of the kind when the error names
// it, else the deepest value of a key (the errors of the custom decoders are about a key's
// whole value).
func fixtureValuePath(root *yaml.Node, line int, kind yaml.Kind) string {
	found, depth := "", -1
	fixtureWalk(root, "", func(path string, n *yaml.Node, key *yaml.Node) bool {
		d := strings.Count(path, ".") + strings.Count(path, "[")
		if n.Line == line && d > depth && (kind == n.Kind || kind == 0 && key != nil) {
			found, depth = path, d
		}
		return true
	})
	return fixtureOr(found, fmt.Sprintf("line %d", line))
}

// fixtureWalk visits every value node with its path; keyNode is set for mapping values.
func fixtureWalk(n *yaml.Node, path string, visit func(path string, n, keyNode *yaml.Node) bool) bool {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if !fixtureWalk(c, path, visit) {
				return false
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			if !visit(p, v, k) || !fixtureWalk(v, p, visit) {
				return false
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			if !visit(p, c, nil) || !fixtureWalk(c, p, visit) {
				return false
			}
		}
	}
	return true
}

// lastAccessed reads services_last_accessed: a service namespace (lower case, such as
// "s3") to the time the entity last used it.
func (b *fixtureBuilder) lastAccessed(path string, m map[string]string) map[string]time.Time {
	if len(m) == 0 {
		return nil
	}
	out := map[string]time.Time{}
	for ns, t := range m {
		if ns == "" || ns != strings.ToLower(ns) || strings.ContainsAny(ns, ":* ") {
			b.problem(path, "%q is not a service namespace; use IAM's lower-case prefix, such as s3 or ec2", ns)
			continue
		}
		out[ns] = b.time(path+"."+ns, t)
	}
	return out
}
