package awssim

import (
	"regexp"
	"strconv"
)

// Account-level IAM: the account alias, the account summary and the password policy.

func init() {
	register("iam", map[string]opHandler{
		"ListAccountAliases": iamListAccountAliases,
		"CreateAccountAlias": iamCreateAccountAlias,
		"DeleteAccountAlias": iamDeleteAccountAlias,
		"GetAccountSummary":  iamGetAccountSummary,

		"GetAccountPasswordPolicy":    iamGetAccountPasswordPolicy,
		"UpdateAccountPasswordPolicy": iamUpdateAccountPasswordPolicy,
		"DeleteAccountPasswordPolicy": iamDeleteAccountPasswordPolicy,
	})
}

var accountAliasPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9]|-[a-z0-9])*$`)

type listAccountAliasesResult struct {
	AccountAliases xmlList[string] `xml:"AccountAliases"`
	IsTruncated    bool            `xml:"IsTruncated"`
	Marker         string          `xml:"Marker,omitempty"`
}

func iamListAccountAliases(q *request) (any, *apiError) {
	pg, next, err := iamPage(q, q.account().Aliases)
	if err != nil {
		return nil, err
	}
	return listAccountAliasesResult{AccountAliases: xmlListOf(pg), IsTruncated: next != "", Marker: next}, nil
}

// iamCreateAccountAlias sets the account's alias. An account has at most one alias and a
// new one replaces it; aliases are unique across AWS, so another account's alias is taken.
func iamCreateAccountAlias(q *request) (any, *apiError) {
	alias, err := q.required("AccountAlias")
	if err != nil {
		return nil, err
	}
	if len(alias) < 3 || len(alias) > 63 || !accountAliasPattern.MatchString(alias) {
		return nil, iamValidation("1 validation error detected: Value '%s' at 'accountAlias' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$", alias)
	}
	for _, a := range q.w.Accounts {
		if a.ID != q.caller.AccountID && countOf(a.Aliases, alias) > 0 {
			return nil, entityExists("The account alias " + alias + " already exists.")
		}
	}
	q.account().Aliases = []string{alias}
	return nil, nil
}

func iamDeleteAccountAlias(q *request) (any, *apiError) {
	alias, err := q.required("AccountAlias")
	if err != nil {
		return nil, err
	}
	a := q.account()
	if countOf(a.Aliases, alias) == 0 {
		return nil, &apiError{Status: 404, Code: "NoSuchEntity", Message: "The account alias " + alias + " cannot be found."}
	}
	a.Aliases = nil // an account has at most one alias
	return nil, nil
}

type summaryEntry struct {
	Key   string `xml:"key"`
	Value int    `xml:"value"`
}

type accountSummaryResult struct {
	SummaryMap struct {
		Entry []summaryEntry `xml:"entry"`
	} `xml:"SummaryMap"`
}

// iamGetAccountSummary reports the account's entity counts and the quotas the simulator
// enforces, and whether the root user has an MFA device and access keys.
// PolicyVersionsInUse counts, as IAM does, every stored version of the account's own
// policies plus one for each AWS-managed policy attached in the account.
func iamGetAccountSummary(q *request) (any, *apiError) {
	a := q.account()
	inUse := 0
	for _, d := range a.MFADevices {
		if d.UserName != "" {
			inUse++
		}
	}
	versions := 0
	for _, p := range a.Policies {
		versions += len(p.Versions)
	}
	for arn := range q.w.AWSManagedPolicies {
		if a.AttachmentCount(arn) > 0 {
			versions++
		}
	}
	// The root user's: AccountMFAEnabled is 1 when it has an MFA device,
	// AccountAccessKeysPresent 1 when it has an access key (active or not), as in IAM.
	rootMFA, rootKeys := 0, 0
	if a.RootMFA() != nil {
		rootMFA = 1
	}
	if len(a.Root.AccessKeys) > 0 {
		rootKeys = 1
	}
	var res accountSummaryResult
	res.SummaryMap.Entry = []summaryEntry{
		{"AccessKeysPerUserQuota", quotaAccessKeysPerUser},
		{"AccountAccessKeysPresent", rootKeys},
		{"AccountMFAEnabled", rootMFA},
		{"AccountPasswordPresent", 0},
		{"AccountSigningCertificatesPresent", 0},
		{"AssumeRolePolicySizeQuota", quotaAssumeRolePolicySize},
		{"AttachedPoliciesPerGroupQuota", quotaAttachedPerEntity},
		{"AttachedPoliciesPerRoleQuota", quotaAttachedPerEntity},
		{"AttachedPoliciesPerUserQuota", quotaAttachedPerEntity},
		{"GlobalEndpointTokenVersion", 1},
		{"GroupPolicySizeQuota", quotaGroupPolicySize},
		{"Groups", len(a.Groups)},
		{"GroupsPerUserQuota", quotaGroupsPerUser},
		{"GroupsQuota", quotaGroups},
		{"InstanceProfiles", 0},
		{"InstanceProfilesQuota", 1000},
		{"MFADevices", len(a.MFADevices)},
		{"MFADevicesInUse", inUse},
		{"Policies", len(a.Policies)},
		{"PoliciesQuota", quotaPolicies},
		{"PolicySizeQuota", quotaManagedPolicySize},
		{"PolicyVersionsInUse", versions},
		{"PolicyVersionsInUseQuota", 10000},
		{"Providers", 0},
		{"RolePolicySizeQuota", quotaRolePolicySize},
		{"Roles", len(a.Roles)},
		{"RolesQuota", quotaRoles},
		{"ServerCertificates", 0},
		{"ServerCertificatesQuota", 20},
		{"SigningCertificatesPerUserQuota", 2},
		{"UserPolicySizeQuota", quotaUserPolicySize},
		{"Users", len(a.Users)},
		{"UsersQuota", quotaUsers},
		{"VersionsPerPolicyQuota", quotaVersionsPerPolicy},
	}
	return res, nil
}

type xmlPasswordPolicy struct {
	MinimumPasswordLength      int   `xml:"MinimumPasswordLength"`
	RequireSymbols             bool  `xml:"RequireSymbols"`
	RequireNumbers             bool  `xml:"RequireNumbers"`
	RequireUppercaseCharacters bool  `xml:"RequireUppercaseCharacters"`
	RequireLowercaseCharacters bool  `xml:"RequireLowercaseCharacters"`
	AllowUsersToChangePassword bool  `xml:"AllowUsersToChangePassword"`
	ExpirePasswords            bool  `xml:"ExpirePasswords"`
	MaxPasswordAge             *int  `xml:"MaxPasswordAge,omitempty"`
	PasswordReusePrevention    *int  `xml:"PasswordReusePrevention,omitempty"`
	HardExpiry                 *bool `xml:"HardExpiry,omitempty"`
}

type getAccountPasswordPolicyResult struct {
	PasswordPolicy xmlPasswordPolicy `xml:"PasswordPolicy"`
}

// iamGetAccountPasswordPolicy returns the account's password policy, or NoSuchEntity
// when none is set (IAM's answer for an account that never set one). MaxPasswordAge,
// PasswordReusePrevention and HardExpiry are left out when not set, as IAM does.
func iamGetAccountPasswordPolicy(q *request) (any, *apiError) {
	a := q.account()
	pp := a.PasswordPolicy
	if pp == nil {
		return nil, &apiError{Status: 404, Code: "NoSuchEntity", Message: "The Password Policy with domain name " + a.ID + " cannot be found."}
	}
	x := xmlPasswordPolicy{MinimumPasswordLength: pp.MinimumPasswordLength, RequireSymbols: pp.RequireSymbols,
		RequireNumbers: pp.RequireNumbers, RequireUppercaseCharacters: pp.RequireUppercaseCharacters,
		RequireLowercaseCharacters: pp.RequireLowercaseCharacters, AllowUsersToChangePassword: pp.AllowUsersToChangePassword,
		ExpirePasswords: pp.MaxPasswordAge > 0}
	if pp.MaxPasswordAge > 0 {
		v, h := pp.MaxPasswordAge, pp.HardExpiry
		x.MaxPasswordAge, x.HardExpiry = &v, &h
	}
	if pp.PasswordReusePrevention > 0 {
		v := pp.PasswordReusePrevention
		x.PasswordReusePrevention = &v
	}
	return getAccountPasswordPolicyResult{x}, nil
}

// iamUpdateAccountPasswordPolicy sets the password policy; parameters left out take
// IAM's defaults (minimum length 6, nothing required, no expiry, no reuse prevention),
// as in IAM, where an update replaces the whole policy.
func iamUpdateAccountPasswordPolicy(q *request) (any, *apiError) {
	pp := &PasswordPolicy{MinimumPasswordLength: 6}
	ints := []struct {
		name     string
		min, max int
		into     *int
	}{
		{"MinimumPasswordLength", 6, 128, &pp.MinimumPasswordLength},
		{"MaxPasswordAge", 1, 1095, &pp.MaxPasswordAge},
		{"PasswordReusePrevention", 1, 24, &pp.PasswordReusePrevention},
	}
	for _, p := range ints {
		if q.param(p.name) == "" {
			continue
		}
		n, err := q.intParam(p.name)
		if err != nil {
			return nil, err
		}
		if n < p.min || n > p.max {
			return nil, iamValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have value between %d and %d",
				strconv.Itoa(n), lowerFirst(p.name), p.min, p.max)
		}
		*p.into = n
	}
	bools := []struct {
		name string
		into *bool
	}{
		{"RequireSymbols", &pp.RequireSymbols}, {"RequireNumbers", &pp.RequireNumbers},
		{"RequireUppercaseCharacters", &pp.RequireUppercaseCharacters}, {"RequireLowercaseCharacters", &pp.RequireLowercaseCharacters},
		{"AllowUsersToChangePassword", &pp.AllowUsersToChangePassword}, {"HardExpiry", &pp.HardExpiry},
	}
	for _, b := range bools {
		v, err := q.boolParam(b.name)
		if err != nil {
			return nil, err
		}
		*b.into = v
	}
	q.account().PasswordPolicy = pp
	return nil, nil
}

// iamDeleteAccountPasswordPolicy removes the password policy (NoSuchEntity without one).
func iamDeleteAccountPasswordPolicy(q *request) (any, *apiError) {
	a := q.account()
	if a.PasswordPolicy == nil {
		return nil, &apiError{Status: 404, Code: "NoSuchEntity", Message: "The account policy with name PasswordPolicy cannot be found."}
	}
	a.PasswordPolicy = nil
	return nil, nil
}
