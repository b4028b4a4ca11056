package awssim

// A realistic handful of AWS-managed policies. Their documents are abridged to what the
// simulator evaluates; the names, paths and ARNs are AWS's.
var awsManagedPolicies = []struct{ name, path, description, document string }{
	{"AdministratorAccess", "/", "Provides full access to AWS services and resources.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`},
	{"PowerUserAccess", "/", "Provides full access to AWS services and resources, but does not allow management of Users and groups.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},{"Effect":"Allow","Action":["iam:CreateServiceLinkedRole","iam:DeleteServiceLinkedRole","iam:ListRoles","organizations:DescribeOrganization","account:ListRegions"],"Resource":"*"}]}`},
	{"ReadOnlyAccess", "/", "Provides read-only access to AWS services and resources.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:List*","iam:Generate*","organizations:Describe*","organizations:List*","sso:Describe*","sso:List*","sso:Get*","identitystore:Describe*","identitystore:List*","identitystore:Get*","identitystore:IsMemberInGroups","s3:Get*","s3:List*","sts:GetCallerIdentity"],"Resource":"*"}]}`},
	{"ViewOnlyAccess", "/job-function/", "This policy grants permissions to view resources and basic metadata across all AWS services.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:List*","organizations:Describe*","organizations:List*","sso:List*","s3:ListAllMyBuckets","s3:ListBucket"],"Resource":"*"}]}`},
	{"SecurityAudit", "/", "The security audit template grants access to read security configuration metadata.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GenerateCredentialReport","iam:Get*","iam:List*","iam:SimulateCustomPolicy","iam:SimulatePrincipalPolicy","organizations:Describe*","organizations:List*","sso:Describe*","sso:List*","sso:Get*","identitystore:Describe*","identitystore:List*","s3:GetBucket*","s3:ListAllMyBuckets"],"Resource":"*"}]}`},
	{"IAMFullAccess", "/", "Provides full access to IAM via the AWS Management Console.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","organizations:DescribeAccount","organizations:DescribeOrganization","organizations:DescribeOrganizationalUnit","organizations:DescribePolicy","organizations:ListChildren","organizations:ListParents","organizations:ListPoliciesForTarget","organizations:ListRoots","organizations:ListPolicies","organizations:ListTargetsForPolicy"],"Resource":"*"}]}`},
	{"IAMReadOnlyAccess", "/", "Provides read only access to IAM via the AWS Management Console.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GenerateCredentialReport","iam:GenerateServiceLastAccessedDetails","iam:Get*","iam:List*","iam:SimulateCustomPolicy","iam:SimulatePrincipalPolicy"],"Resource":"*"}]}`},
	{"AmazonS3ReadOnlyAccess", "/", "Provides read only access to all buckets via the AWS Management Console.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}`},
	{"AmazonS3FullAccess", "/", "Provides full access to all buckets via the AWS Management Console.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`},
	{"AWSOrganizationsReadOnlyAccess", "/", "Provides read-only access to AWS Organizations.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["organizations:Describe*","organizations:List*"],"Resource":"*"}]}`},
	{"AWSSSOReadOnly", "/", "This policy provides read-only access to IAM Identity Center configurations.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sso:Describe*","sso:Get*","sso:List*","identitystore:Describe*","identitystore:List*","identitystore:IsMemberInGroups","identitystore:GetGroupMembershipId","identitystore:GetGroupId","identitystore:GetUserId","organizations:DescribeOrganization","organizations:ListAccounts"],"Resource":"*"}]}`},
	{"AWSSSOMasterAccountAdministrator", "/", "Provides access within IAM Identity Center to manage AWS Organizations master accounts and member accounts and cloud application.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sso:*","identitystore:*","organizations:Describe*","organizations:List*","iam:ListRoles","iam:GetRole","iam:CreateRole","iam:PutRolePolicy","iam:AttachRolePolicy","iam:DeleteRole","iam:DetachRolePolicy","iam:DeleteRolePolicy"],"Resource":"*"}]}`},
	{"AWSBillingReadOnlyAccess", "/", "Allows users to view bills on the Billing Console.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["aws-portal:View*","billing:Get*","ce:Get*"],"Resource":"*"}]}`},
	{"AmazonEC2ReadOnlyAccess", "/", "Provides read only access to Amazon EC2 via the AWS Management Console.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:Describe*","elasticloadbalancing:Describe*","cloudwatch:ListMetrics","cloudwatch:GetMetricStatistics"],"Resource":"*"}]}`},
	{"SupportUser", "/job-function/", "This policy grants permissions to troubleshoot and resolve issues in an AWS account.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["support:*","iam:List*","s3:ListAllMyBuckets"],"Resource":"*"}]}`},
	// AWSSupportAccess is what CIS 1.17's support role needs (findings).
	{"AWSSupportAccess", "/", "Allows users to access the AWS Support Center.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["support:*"],"Resource":"*"}]}`},
}

// AWSManagedPolicyARN returns the ARN of the AWS-managed policy with the name, as the
// simulator defines it ("" when it has no such policy).
func AWSManagedPolicyARN(name string) string {
	for _, p := range awsManagedPolicies {
		if p.name == name {
			return "arn:aws:iam::aws:policy" + p.path + name
		}
	}
	return ""
}

// fixedPolicyIDs are the ids of AWS-managed policies added to the simulator after others
// relied on the generated ids: they take AWS's own id instead of one from the world's
// sequence, so that every id generated after them (users, groups, permission sets) stays
// what it was for the same fixture.
var fixedPolicyIDs = map[string]string{"AWSSupportAccess": "ANPAJSNKQX2OW67GF4S7E"}

func addAWSManagedPolicies(w *World) {
	created := w.now().UTC().AddDate(-5, 0, 0).Truncate(24 * 3600e9)
	for i, p := range awsManagedPolicies {
		arn := "arn:aws:iam::aws:policy" + p.path + p.name
		id := fixedPolicyIDs[p.name]
		if id == "" {
			id = w.uniqueID("ANPA")
		}
		w.AWSManagedPolicies[arn] = &Policy{
			Name: p.name, Path: p.path, ARN: arn, Description: p.description,
			ID:         id,
			CreateDate: created.AddDate(0, i, 0), UpdateDate: created.AddDate(1, i, 0), DefaultVersion: "v1",
			Versions: []*PolicyVersion{{ID: "v1", Document: p.document, CreateDate: created.AddDate(1, i, 0)}},
		}
	}
}
