package setup

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/gatehouse/gatehouse/internal/awsperms"
)

// CloudFormation templates, marshalled from Go values with yaml.v3. Intrinsic functions
// use their long form ({"Ref": ...}, {"Fn::GetAtt": [...]}) so that no YAML tags are
// needed and any YAML or JSON reader sees the same structure.

type cfnTemplate struct {
	AWSTemplateFormatVersion string                  `yaml:"AWSTemplateFormatVersion"`
	Description              string                  `yaml:"Description"`
	Parameters               map[string]cfnParameter `yaml:"Parameters,omitempty"`
	Resources                map[string]cfnResource  `yaml:"Resources"`
	Outputs                  map[string]cfnOutput    `yaml:"Outputs,omitempty"`
}

type cfnParameter struct {
	Type                  string `yaml:"Type"`
	Description           string `yaml:"Description"`
	Default               string `yaml:"Default,omitempty"`
	AllowedPattern        string `yaml:"AllowedPattern,omitempty"`
	ConstraintDescription string `yaml:"ConstraintDescription,omitempty"`
}

type cfnResource struct {
	Type       string `yaml:"Type"`
	Properties any    `yaml:"Properties"`
}

type cfnOutput struct {
	Description string `yaml:"Description"`
	Value       any    `yaml:"Value"`
}

type cfnRoleProperties struct {
	RoleName                 string          `yaml:"RoleName"`
	Path                     string          `yaml:"Path"`
	Description              string          `yaml:"Description"`
	MaxSessionDuration       int             `yaml:"MaxSessionDuration"`
	AssumeRolePolicyDocument awsperms.Policy `yaml:"AssumeRolePolicyDocument"`
	Policies                 []cfnPolicy     `yaml:"Policies"`
}

type cfnPolicy struct {
	PolicyName     string          `yaml:"PolicyName"`
	PolicyDocument awsperms.Policy `yaml:"PolicyDocument"`
}

type cfnStackSetProperties struct {
	StackSetName         string                 `yaml:"StackSetName"`
	Description          string                 `yaml:"Description"`
	PermissionModel      string                 `yaml:"PermissionModel"`
	AutoDeployment       cfnAutoDeployment      `yaml:"AutoDeployment"`
	Capabilities         []string               `yaml:"Capabilities"`
	OperationPreferences cfnOperationPreference `yaml:"OperationPreferences"`
	Parameters           []cfnStackSetParameter `yaml:"Parameters"`
	StackInstancesGroup  []cfnStackInstances    `yaml:"StackInstancesGroup"`
	TemplateBody         string                 `yaml:"TemplateBody"`
}

type cfnAutoDeployment struct {
	Enabled                      bool `yaml:"Enabled"`
	RetainStacksOnAccountRemoval bool `yaml:"RetainStacksOnAccountRemoval"`
}

type cfnOperationPreference struct {
	RegionConcurrencyType      string `yaml:"RegionConcurrencyType"`
	MaxConcurrentPercentage    int    `yaml:"MaxConcurrentPercentage"`
	FailureTolerancePercentage int    `yaml:"FailureTolerancePercentage"`
}

type cfnStackSetParameter struct {
	ParameterKey   string `yaml:"ParameterKey"`
	ParameterValue any    `yaml:"ParameterValue"`
}

type cfnStackInstances struct {
	DeploymentTargets cfnDeploymentTargets `yaml:"DeploymentTargets"`
	Regions           []string             `yaml:"Regions"`
}

type cfnDeploymentTargets struct {
	OrganizationalUnitIds []any `yaml:"OrganizationalUnitIds"`
}

func ref(name string) map[string]string { return map[string]string{"Ref": name} }

func getAtt(resource, attr string) map[string][]string {
	return map[string][]string{"Fn::GetAtt": {resource, attr}}
}

func marshalYAML(v any) []byte {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		// The templates hold only strings, numbers, booleans, maps and slices.
		panic(fmt.Sprintf("setup: marshal CloudFormation: %v", err))
	}
	_ = enc.Close()
	return buf.Bytes()
}

// connectorRoleDescription is the description of the connector role everywhere.
func (b *Bundle) connectorRoleDescription() string {
	what := "read access across AWS"
	if b.Features.Provisioning {
		what = "read access across AWS and to grant and revoke it"
	}
	return "Assumed by Gatehouse (with an External ID) to " + what + ". Features: " + b.FeatureList() + "."
}

func (b *Bundle) memberRoleDescription() string {
	if b.Features.Provisioning {
		return "Assumed by the Gatehouse connector role to read this account's IAM and change IAM group membership."
	}
	return "Assumed by the Gatehouse connector role to read this account's IAM."
}

// MemberCloudFormation is the template of the member role: the StackSet deploys it to
// every member account, and it can be deployed as a plain stack where a StackSet does
// not reach (the management account, when the connector role lives in a delegated
// administrator account). Nil without a member role.
func (b *Bundle) MemberCloudFormation() []byte {
	if b.MemberPermissions == nil {
		return nil
	}
	path, name := b.memberPath()
	t := cfnTemplate{
		AWSTemplateFormatVersion: "2010-09-09",
		Description:              "Gatehouse member-account role " + name + ", generated by gatehouse setup aws.",
		Parameters: map[string]cfnParameter{
			"ConnectorRoleArn": {
				Type:                  "String",
				Description:           "ARN of the Gatehouse connector role, the only principal this role trusts",
				Default:               b.ConnectorRoleARN,
				AllowedPattern:        `^arn:aws[a-z-]*:iam::\d{12}:role/.+$`,
				ConstraintDescription: "an IAM role ARN",
			},
		},
		Resources: map[string]cfnResource{
			"MemberRole": {Type: "AWS::IAM::Role", Properties: cfnRoleProperties{
				RoleName:                 name,
				Path:                     path,
				Description:              b.memberRoleDescription(),
				MaxSessionDuration:       3600,
				AssumeRolePolicyDocument: b.MemberTrustFor(ref("ConnectorRoleArn")),
				Policies:                 []cfnPolicy{{PolicyName: MemberPolicyName, PolicyDocument: *b.MemberPermissions}},
			}},
		},
		Outputs: map[string]cfnOutput{
			"RoleArn": {Description: "The member role", Value: getAtt("MemberRole", "Arn")},
		},
	}
	return marshalYAML(t)
}

// CloudFormation is the template to deploy in the account of the connector role: the
// role and, with a member role, a service-managed StackSet that creates the member role
// in every account of the organization and in every account that joins it later.
func (b *Bundle) CloudFormation() []byte {
	t := cfnTemplate{
		AWSTemplateFormatVersion: "2010-09-09",
		Description:              "Gatehouse connector role " + b.RoleName + ", generated by gatehouse setup aws. Features: " + b.FeatureList() + ".",
		Resources: map[string]cfnResource{
			"ConnectorRole": {Type: "AWS::IAM::Role", Properties: cfnRoleProperties{
				RoleName:                 b.RoleName,
				Path:                     "/",
				Description:              b.connectorRoleDescription(),
				MaxSessionDuration:       3600,
				AssumeRolePolicyDocument: b.Trust,
				Policies:                 []cfnPolicy{{PolicyName: ConnectorPolicyName, PolicyDocument: b.Permissions}},
			}},
		},
		Outputs: map[string]cfnOutput{
			"RoleArn":    {Description: "Pass to gatehouse sync as --role-arn", Value: getAtt("ConnectorRole", "Arn")},
			"ExternalId": {Description: "Pass to gatehouse sync as --external-id", Value: b.ExternalID},
		},
	}
	if member := b.MemberCloudFormation(); member != nil {
		t.Parameters = map[string]cfnParameter{
			"OrganizationRootId": {
				Type:                  "String",
				Description:           "The organization's root id (aws organizations list-roots --query 'Roots[0].Id' --output text): the member role is created in every account under it",
				AllowedPattern:        "^r-[0-9a-z]{4,32}$",
				ConstraintDescription: "a root id such as r-ab12",
			},
		}
		t.Resources["MemberRoleStackSet"] = cfnResource{Type: "AWS::CloudFormation::StackSet", Properties: cfnStackSetProperties{
			StackSetName:    StackSetName,
			Description:     "Creates the Gatehouse member role " + b.MemberRoleName + " in every member account, including accounts that join later.",
			PermissionModel: "SERVICE_MANAGED",
			// Accounts that join the organization get the role without anyone acting;
			// accounts that leave lose it.
			AutoDeployment: cfnAutoDeployment{Enabled: true, RetainStacksOnAccountRemoval: false},
			Capabilities:   []string{"CAPABILITY_NAMED_IAM"},
			// IAM is global: one region, every account at once, and one account that
			// refuses (an SCP, a role already there) does not stop the others.
			OperationPreferences: cfnOperationPreference{RegionConcurrencyType: "PARALLEL", MaxConcurrentPercentage: 100, FailureTolerancePercentage: 100},
			Parameters:           []cfnStackSetParameter{{ParameterKey: "ConnectorRoleArn", ParameterValue: getAtt("ConnectorRole", "Arn")}},
			StackInstancesGroup: []cfnStackInstances{{
				DeploymentTargets: cfnDeploymentTargets{OrganizationalUnitIds: []any{ref("OrganizationRootId")}},
				Regions:           []string{b.Region},
			}},
			TemplateBody: string(member),
		}}
	}
	return marshalYAML(t)
}
