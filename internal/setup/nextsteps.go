package setup

import (
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/internal/awsperms"
)

// NextSteps says, for people, what was generated and what to do with it: create the
// roles, check them with gatehouse doctor, then sync. written says whether the files
// were written (--out); without them the steps name only what was printed, and say how
// to get the files. The commands carry --endpoint-url and --profile when setup had them,
// so that they work as printed.
func (b *Bundle) NextSteps(f Format, written bool) string {
	var s strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&s, format, args...) }

	w("Gatehouse setup for AWS\n")
	w("  features:          %s\n", b.FeatureList())
	w("  connector role:    %s\n", b.ConnectorRoleARN)
	w("  trusted principal: %s\n", b.TrustedPrincipal)
	w("  External ID:       %s\n", b.ExternalID)
	switch {
	case b.MemberPermissions != nil:
		w("  member role:       %s in every member account (StackSet %s)\n", b.MemberRoleName, StackSetName)
	case b.Features.Orgs:
		w("  member role:       %s, the role AWS Organizations created in each account (not created here)\n", OrganizationAccessRole)
	}

	// aws is the AWS CLI with the connection setup had.
	aws := "aws"
	if b.Profile != "" {
		aws += " --profile " + shellJoin([]string{b.Profile})
	}
	if b.EndpointURL != "" {
		aws += " --endpoint-url " + shellJoin([]string{b.EndpointURL})
	}

	w("\n1. Create the role")
	if b.MemberPermissions != nil {
		w("s")
	}
	w(" with credentials for account %s", b.AccountID)
	if b.Features.Orgs {
		w(" (the organization's management account)")
	}
	w(", in one of these ways:\n")
	if f == CloudFormation || f == All {
		if written {
			w("   CloudFormation (%s):\n", FileCloudFormation)
		} else {
			w("   CloudFormation: save the template printed above as %s, then:\n", FileCloudFormation)
		}
		if b.MemberPermissions != nil {
			w("     %s cloudformation activate-organizations-access\n", aws)
			w("     %s cloudformation deploy --stack-name gatehouse --template-file %s \\\n", aws, FileCloudFormation)
			w("       --capabilities CAPABILITY_NAMED_IAM \\\n")
			w("       --parameter-overrides OrganizationRootId=$(%s organizations list-roots --query 'Roots[0].Id' --output text)\n", aws)
		} else {
			w("     %s cloudformation deploy --stack-name gatehouse --template-file %s --capabilities CAPABILITY_NAMED_IAM\n", aws, FileCloudFormation)
		}
	}
	if f == Terraform || f == All {
		if written {
			w("   Terraform (%s):\n", FileTerraform)
		} else {
			w("   Terraform: save the configuration printed above as %s in an empty directory, then:\n", FileTerraform)
		}
		if b.MemberPermissions != nil {
			w("     %s cloudformation activate-organizations-access\n", aws)
		}
		w("     terraform init && terraform apply\n")
	}
	if f == JSON || f == All {
		w("   By hand (IAM console or CLI):\n")
		if written {
			w("     a role named %s with %s as its trust policy and %s as its inline policy %s", b.RoleName, FileTrust, FilePermissions, ConnectorPolicyName)
			if b.MemberPermissions != nil {
				w(";\n     in every member account, a role named %s with %s and %s", b.MemberRoleName, FileMemberTrust, FileMemberPermissions)
			}
		} else {
			w("     a role named %s with connector_role.trust_policy of the JSON printed above as its trust\n", b.RoleName)
			w("     policy and connector_role.permissions_policy as its inline policy %s", ConnectorPolicyName)
			if b.MemberPermissions != nil {
				w(";\n     in every member account, a role named %s with member_role.trust_policy and\n     member_role.permissions_policy", b.MemberRoleName)
			}
		}
		w("\n")
	}
	if b.MemberPermissions != nil {
		w("   StackSets do not reach the management account; if %s is a delegated administrator\n", b.AccountID)
		if written {
			w("   rather than the management account, also deploy %s there as a stack.\n", FileMemberTemplate)
		} else {
			w("   rather than the management account, also deploy %s there as a stack\n", FileMemberTemplate)
			w("   (run setup again with --format cloudformation --out DIR to write it).\n")
		}
	}

	w("\n2. Check the setup, step by step:\n")
	if b.Features.SCIM {
		w("   export GATEHOUSE_SCIM_TOKEN=...   # the SCIM access token\n")
	}
	doctor := append([]string{"gatehouse", "doctor"}, b.SyncArgs()...)
	if b.Features.Provisioning {
		doctor = append(doctor, "--provisioning")
	}
	w("   %s\n", shellJoin(doctor))

	w("\n3. Sync:\n")
	w("   %s\n", shellJoin(append([]string{"gatehouse", "sync", "--file", "org.c1z"}, b.SyncArgs()...)))
	if written {
		w("   gatehouse connector reads the same settings from %s (save it as .baton.yaml).\n", FileConnectorConfig)
	} else {
		w("   gatehouse connector takes the same settings; run setup again with --out DIR to get them as\n   %s (its .baton.yaml).\n", FileConnectorConfig)
	}

	var notes []string
	notes = append(notes, "Keep the External ID: gatehouse sync and doctor pass it with --external-id. Re-running setup with the same --state-dir reuses it, so the role's trust policy stays valid.")
	if b.Features.Orgs && b.MemberPermissions == nil {
		notes = append(notes, fmt.Sprintf("Member accounts are entered through %s, which has AdministratorAccess and exists only in accounts the organization created. For least privilege, re-run without --member-role-name: a StackSet then creates %s in every member account, a role that can do only what the sync needs.", OrganizationAccessRole, DefaultMemberRoleName))
	}
	if b.Features.SCIM {
		for _, fi := range awsperms.Features {
			if fi.Feature == awsperms.SCIM {
				notes = append(notes, fi.NoIAM+" Replace SCIM_ENDPOINT above with it.")
			}
		}
	}
	if b.Features.Provisioning && b.Features.IdentityCenter {
		notes = append(notes, "Assigning access in the management account makes Identity Center create the AWSReservedSSO_* role there with Gatehouse's own permissions: that is what the ProvisionReservedSSORoles and ProvisionSSOSAMLProvider statements are for.")
	}
	if b.Features.Provisioning && !b.Features.IdentityCenter {
		notes = append(notes, "Without --identity-center, provisioning covers IAM group membership only.")
	}
	w("\nNotes:\n")
	for _, n := range notes {
		w("%s\n", wrap(n, 90, "  - ", "    "))
	}
	return s.String()
}

// wrap breaks text into lines of at most width, the first with prefix and the others
// with indent.
func wrap(text string, width int, prefix, indent string) string {
	var lines []string
	line := prefix
	empty := true
	for _, word := range strings.Fields(text) {
		if !empty && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line, empty = indent, true
		}
		if !empty {
			line += " "
		}
		line += word
		empty = false
	}
	return strings.Join(append(lines, line), "\n")
}
