// Package connection owns Gatehouse's AWS connections: what `gatehouse sync` takes on its
// command line (role ARN, External ID, Organizations, Identity Center, SCIM, member role,
// credentials), kept in the store with its secrets sealed (internal/secrets), configured
// in the config file or by an admin, shown back masked, and turned into an
// awsfetch.Config for a sync by FetchConfig.
package connection

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/awsperms"
)

// Kind is the kind of every connection today: an AWS organization or account. The S3 data
// source issue adds others.
const Kind = "aws"

// MinSchedule is the shortest time between scheduled syncs.
const MinSchedule = time.Minute

// Settings are a connection's settings without its secrets: the JSON stored in
// store.Connection.Config and shown back in full. Field names match the config file's.
type Settings struct {
	Region               string `json:"region,omitempty"`
	Profile              string `json:"profile,omitempty"`
	EndpointURL          string `json:"endpoint_url,omitempty"`
	RoleARN              string `json:"role_arn,omitempty"`
	Orgs                 bool   `json:"orgs,omitempty"`
	MemberRoleName       string `json:"member_role_name,omitempty"`
	IdentityCenter       bool   `json:"identity_center,omitempty"`
	IdentityCenterRegion string `json:"identity_center_region,omitempty"`
	SyncSecrets          bool   `json:"sync_secrets,omitempty"`
	SCIMEndpoint         string `json:"scim_endpoint,omitempty"`
	// AccessKeyID, with the secret SecretAccessKey, are static credentials (the
	// simulator's, or an IAM user's); without them the standard AWS credential chain (or
	// Profile) is the source identity.
	AccessKeyID string `json:"access_key_id,omitempty"`
	// Concurrency is how many accounts are read at once (0: awsfetch's default).
	Concurrency int `json:"concurrency,omitempty"`
}

// Secrets are a connection's secrets: sealed together in store.Connection.SealedSecrets,
// never logged, never shown back in full.
type Secrets struct {
	ExternalID       string `json:"external_id,omitempty"`
	MemberExternalID string `json:"member_external_id,omitempty"`
	SCIMToken        string `json:"scim_token,omitempty"`
	SecretAccessKey  string `json:"secret_access_key,omitempty"`
}

// SecretFields are the JSON names of the secrets, in display order.
var SecretFields = []string{"external_id", "member_external_id", "scim_token", "secret_access_key"}

func (s *Secrets) field(name string) *string {
	switch name {
	case "external_id":
		return &s.ExternalID
	case "member_external_id":
		return &s.MemberExternalID
	case "scim_token":
		return &s.SCIMToken
	case "secret_access_key":
		return &s.SecretAccessKey
	}
	return nil
}

func (s Secrets) empty() bool { return s == Secrets{} }

// Input is a connection as an admin (or the config file) gives it: one flat JSON object
// of its id, name, schedule, settings and secrets. On update an empty secret keeps the
// stored one; ClearSecrets names secrets to remove.
type Input struct {
	ID       string `json:"id"`
	Name     string `json:"name,omitempty"`
	Schedule string `json:"schedule,omitempty"` // Go duration; empty: the server's sync_schedule
	Settings
	Secrets
	ClearSecrets []string `json:"clear_secrets,omitempty"`
}

// FieldError is one problem with one input field, named as in the JSON.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists everything wrong with an Input.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid connection: " + strings.Join(parts, "; ")
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// validate checks in (with its secrets as they will be stored: the kept ones merged in)
// and says what to fix, with the same rules and words as `gatehouse sync`'s flags.
func validate(in Input) error {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if !idPattern.MatchString(in.ID) {
		if in.ID == "" {
			add("id", "id is required: a short name such as aws or prod-org")
		} else {
			add("id", "id must be a short name of lowercase letters, digits, '-' and '_' (such as aws or prod-org), got %q", in.ID)
		}
	}
	if len(in.Name) > 200 {
		add("name", "name is at most 200 characters")
	}
	if in.Schedule != "" {
		if d, err := time.ParseDuration(in.Schedule); err != nil || d < MinSchedule {
			add("schedule", "schedule must be a duration of at least 1m such as 1h or 30m, got %q", in.Schedule)
		}
	}
	if in.ExternalID != "" && in.RoleARN == "" {
		add("external_id", "external_id is passed when assuming role_arn; set role_arn too")
	}
	if in.RoleARN != "" && !strings.HasPrefix(in.RoleARN, "arn:aws") {
		add("role_arn", "role_arn must be a role ARN like arn:aws:iam::123456789012:role/GatehouseConnector, got %q", in.RoleARN)
	}
	if (in.SCIMEndpoint == "") != (in.SCIMToken == "") {
		add("scim_token", "scim_endpoint and scim_token go together; set both or neither")
	}
	if in.SCIMEndpoint != "" && !in.IdentityCenter {
		add("scim_endpoint", "scim_endpoint reads Identity Center user status; set identity_center too")
	}
	if in.SCIMEndpoint != "" && !absoluteHTTP(in.SCIMEndpoint) {
		add("scim_endpoint", "scim_endpoint must be the SCIM endpoint URL from the Identity Center console, like https://scim.us-east-1.amazonaws.com/<id>/scim/v2, got %q", in.SCIMEndpoint)
	}
	if in.IdentityCenterRegion != "" && !in.IdentityCenter {
		add("identity_center_region", "identity_center_region has no effect without identity_center; set identity_center too")
	}
	if in.MemberExternalID != "" && !in.Orgs {
		add("member_external_id", "member_external_id is used when assuming roles in member accounts; set orgs too")
	}
	if in.Concurrency < 0 {
		add("concurrency", "concurrency must be at least 1 (or 0 for the default), got %d", in.Concurrency)
	}
	if (in.AccessKeyID == "") != (in.SecretAccessKey == "") {
		add("secret_access_key", "access_key_id and secret_access_key go together; set both or neither")
	}
	if in.AccessKeyID != "" && in.Profile != "" {
		add("profile", "profile and access_key_id are two ways to give credentials; set one")
	}
	if in.EndpointURL != "" && !absoluteHTTP(in.EndpointURL) {
		add("endpoint_url", "endpoint_url must be an absolute http(s) URL such as the one gatehouse sim prints, got %q", in.EndpointURL)
	}
	for _, f := range in.ClearSecrets {
		if (&Secrets{}).field(f) == nil {
			add("clear_secrets", "clear_secrets names secrets to remove (%s), got %q", strings.Join(SecretFields, ", "), f)
		}
	}
	if len(errs) > 0 {
		return &ValidationError{Fields: errs}
	}
	return nil
}

func absoluteHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// Warnings are advice about valid settings: entering member accounts through
// OrganizationAccountAccessRole, which is administrator in every account.
func (s Settings) Warnings() []string {
	if s.Orgs && strings.TrimPrefix(s.MemberRoleName, "/") == awsperms.OrganizationAccessRole {
		return []string{awsperms.OrganizationAccessRoleWarning}
	}
	return nil
}

// mask shows that a secret is set without showing it: its last 4 characters when it is
// long enough for them to say nothing usable, else "set"; "" when it is not set.
func mask(s string) string {
	switch {
	case s == "":
		return ""
	case len([]rune(s)) >= 16:
		r := []rune(s)
		return "•••• " + string(r[len(r)-4:])
	default:
		return "set"
	}
}
