package awssim

import "regexp"

// Account-level IAM: the account alias and the account summary.

func init() {
	register("iam", map[string]opHandler{
		"ListAccountAliases": iamListAccountAliases,
		"CreateAccountAlias": iamCreateAccountAlias,
		"DeleteAccountAlias": iamDeleteAccountAlias,
		"GetAccountSummary":  iamGetAccountSummary,
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
// enforces. The root user has no password, keys or MFA in the simulator.
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
	var res accountSummaryResult
	res.SummaryMap.Entry = []summaryEntry{
		{"AccessKeysPerUserQuota", quotaAccessKeysPerUser},
		{"AccountAccessKeysPresent", 0},
		{"AccountMFAEnabled", 0},
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
