package setup

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/gatehouse/gatehouse/internal/awsperms"
)

// Format is an output format of `gatehouse setup aws`.
type Format string

// The formats.
const (
	JSON           Format = "json"
	Terraform      Format = "terraform"
	CloudFormation Format = "cloudformation"
	All            Format = "all"
)

// ParseFormat checks a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case JSON, Terraform, CloudFormation, All:
		return f, nil
	}
	return "", fmt.Errorf("--format must be json, terraform, cloudformation or all, got %q", s)
}

// The files written with --out.
const (
	FileTrust             = "connector-trust-policy.json"
	FilePermissions       = "connector-permissions-policy.json"
	FileMemberTrust       = "member-trust-policy.json"
	FileMemberPermissions = "member-permissions-policy.json"
	FileTerraform         = "gatehouse.tf"
	FileCloudFormation    = "gatehouse-cloudformation.yaml"
	FileMemberTemplate    = "gatehouse-member-role-cloudformation.yaml"
	FileConnectorConfig   = "connector-config.yaml"
	FileNextSteps         = "next-steps.txt"
)

// File is one generated file.
type File struct {
	Name    string
	Content []byte
}

// Files returns the files of the format, in a stable order. Every format comes with the
// next steps and the connector configuration, which say how to use the rest.
func (b *Bundle) Files(f Format) []File {
	var out []File
	if f == JSON || f == All {
		out = append(out, File{FileTrust, b.Trust.JSON()}, File{FilePermissions, b.Permissions.JSON()})
		if b.MemberPermissions != nil {
			out = append(out, File{FileMemberTrust, b.MemberTrust.JSON()}, File{FileMemberPermissions, b.MemberPermissions.JSON()})
		}
	}
	if f == Terraform || f == All {
		out = append(out, File{FileTerraform, b.Terraform()})
	}
	if f == CloudFormation || f == All {
		out = append(out, File{FileCloudFormation, b.CloudFormation()})
		if m := b.MemberCloudFormation(); m != nil {
			out = append(out, File{FileMemberTemplate, m})
		}
	}
	out = append(out, File{FileConnectorConfig, b.ConnectorConfig()}, File{FileNextSteps, []byte(b.NextSteps(f, true))})
	return out
}

// WriteFiles writes the files into dir (created if missing). Each file is written to a
// temporary name and renamed, so a file is either the old one or the new one in full.
func WriteFiles(dir string, files []File) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create --out directory: %w", err)
	}
	for _, f := range files {
		path := filepath.Join(dir, f.Name)
		tmp, err := os.CreateTemp(dir, "."+f.Name+".*")
		if err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		_, werr := tmp.Write(f.Content)
		cerr := tmp.Close()
		if werr == nil {
			werr = cerr
		}
		if werr == nil {
			werr = os.Chmod(tmp.Name(), 0o644)
		}
		if werr == nil {
			werr = os.Rename(tmp.Name(), path)
		}
		if werr != nil {
			os.Remove(tmp.Name())
			return fmt.Errorf("write %s: %w", path, werr)
		}
	}
	return nil
}

// Document is the JSON that `gatehouse setup aws --format json` prints without --out:
// everything in one document, for programs.
type Document struct {
	ExternalID    string           `json:"external_id"`
	Features      []string         `json:"features"`
	ConnectorRole RoleDocument     `json:"connector_role"`
	MemberRole    *RoleDocument    `json:"member_role,omitempty"`
	MemberNeeds   *awsperms.Policy `json:"member_role_needs,omitempty"`
	SyncArgs      []string         `json:"sync_args"`
}

// RoleDocument is one role in a Document.
type RoleDocument struct {
	Name              string          `json:"name"`
	ARN               string          `json:"arn,omitempty"`
	TrustPolicy       awsperms.Policy `json:"trust_policy"`
	PermissionsPolicy awsperms.Policy `json:"permissions_policy"`
	PolicyName        string          `json:"policy_name"`
}

// JSONDocument returns the Document, indented, with a final newline.
func (b *Bundle) JSONDocument() []byte {
	d := Document{
		ExternalID: b.ExternalID,
		ConnectorRole: RoleDocument{Name: b.RoleName, ARN: b.ConnectorRoleARN, TrustPolicy: b.Trust,
			PermissionsPolicy: b.Permissions, PolicyName: ConnectorPolicyName},
		SyncArgs: b.SyncArgs(),
	}
	for _, f := range b.Features.List() {
		d.Features = append(d.Features, string(f))
	}
	if b.MemberPermissions != nil {
		d.MemberRole = &RoleDocument{Name: b.MemberRoleName, TrustPolicy: *b.MemberTrust,
			PermissionsPolicy: *b.MemberPermissions, PolicyName: MemberPolicyName}
	} else {
		d.MemberNeeds = b.MemberNeeds
	}
	out, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("setup: marshal document: %v", err))
	}
	return append(out, '\n')
}

// SyncArgs are the connection and feature flags of gatehouse sync (and doctor) for
// the setup. The SCIM endpoint is a placeholder: only Identity Center knows it.
func (b *Bundle) SyncArgs() []string {
	var args []string
	if b.Profile != "" {
		args = append(args, "--profile", b.Profile)
	}
	if b.EndpointURL != "" {
		args = append(args, "--endpoint-url", b.EndpointURL)
	}
	args = append(args, "--role-arn", b.ConnectorRoleARN, "--external-id", b.ExternalID, "--region", b.Region)
	if b.Features.Orgs {
		args = append(args, "--orgs")
		if b.MemberRoleName != "" {
			args = append(args, "--member-role-name", b.MemberRoleName)
		}
	}
	if b.Features.IdentityCenter {
		args = append(args, "--identity-center")
		if b.IdentityCenterRegion != "" {
			args = append(args, "--identity-center-region", b.IdentityCenterRegion)
		}
	}
	if b.Features.SyncSecrets {
		args = append(args, "--sync-secrets")
	}
	if b.Features.SCIM {
		args = append(args, "--scim-endpoint", "SCIM_ENDPOINT")
	}
	return args
}

var shellSafe = regexp.MustCompile(`^[\w@%+=:,./-]+$`)

// shellJoin quotes the arguments for a POSIX shell where they need it.
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if shellSafe.MatchString(a) {
			out[i] = a
		} else {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}

// connectorConfig is the configuration file of `gatehouse connector` (baton-sdk reads
// .baton.yaml, or the file BATON_CONFIG_PATH names); keys are the flag names.
type connectorConfig struct {
	Profile              string `yaml:"profile,omitempty"`
	EndpointURL          string `yaml:"endpoint-url,omitempty"`
	RoleARN              string `yaml:"role-arn"`
	ExternalID           string `yaml:"external-id"`
	Region               string `yaml:"region"`
	Orgs                 bool   `yaml:"orgs,omitempty"`
	MemberRoleName       string `yaml:"member-role-name,omitempty"`
	IdentityCenter       bool   `yaml:"identity-center,omitempty"`
	IdentityCenterRegion string `yaml:"identity-center-region,omitempty"`
	SyncSecrets          bool   `yaml:"sync-secrets,omitempty"`
	SCIMEndpoint         string `yaml:"scim-endpoint,omitempty"`
}

// ConnectorConfig returns the configuration of `gatehouse connector` for the setup.
func (b *Bundle) ConnectorConfig() []byte {
	c := connectorConfig{Profile: b.Profile, EndpointURL: b.EndpointURL, RoleARN: b.ConnectorRoleARN, ExternalID: b.ExternalID, Region: b.Region,
		Orgs: b.Features.Orgs, IdentityCenter: b.Features.IdentityCenter, SyncSecrets: b.Features.SyncSecrets}
	if b.Features.Orgs {
		c.MemberRoleName = b.MemberRoleName
	}
	if b.Features.IdentityCenter {
		c.IdentityCenterRegion = b.IdentityCenterRegion
	}
	if b.Features.SCIM {
		c.SCIMEndpoint = "SCIM_ENDPOINT"
	}
	body, err := yaml.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("setup: marshal connector config: %v", err))
	}
	head := "# gatehouse connector configuration, generated by gatehouse setup aws.\n" +
		"# Save as .baton.yaml where gatehouse connector runs, or set BATON_CONFIG_PATH to this file.\n"
	if b.Features.SCIM {
		head += "# Replace SCIM_ENDPOINT with the endpoint Identity Center shows, and pass the SCIM token\n" +
			"# in BATON_SCIM_TOKEN rather than in this file.\n"
	}
	return append([]byte(head), body...)
}
