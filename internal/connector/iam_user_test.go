package connector

import (
	"encoding/json"
	"testing"
	"time"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"

	"github.com/gatehouse/gatehouse/internal/inventory"
)

// credentialsSnapshot is one account whose credential report was generated two hours
// before the sync: alice is in it (a virtual MFA device and a FIDO key, a key the report
// covers); dana and erin were created after it, so awsfetch read them with per-user
// calls, and IAM denied erin's GetLoginProfile.
func credentialsSnapshot(secrets bool) *inventory.Snapshot {
	const acct = "111111111111"
	generated := fetchedAt.Add(-2 * time.Hour)
	alice, dana, erin := "arn:aws:iam::111111111111:user/alice", "arn:aws:iam::111111111111:user/dana", "arn:aws:iam::111111111111:user/erin"
	in := &inventory.IAM{
		Users: []*inventory.User{
			{ARN: alice, ID: "AIDAALICE", Name: "alice", Path: "/", CreatedAt: fetchedAt.Add(-400 * day)},
			{ARN: dana, ID: "AIDADANA", Name: "dana", Path: "/", CreatedAt: fetchedAt.Add(-time.Hour)},
			{ARN: erin, ID: "AIDAERIN", Name: "erin", Path: "/", CreatedAt: fetchedAt.Add(-30 * time.Minute)},
		},
		CredentialReportGeneratedAt: generated,
		CredentialReport: []*inventory.CredentialReportRow{
			{User: "<root_account>", ARN: "arn:aws:iam::111111111111:root", MFAActive: true},
			{User: "alice", ARN: alice, CreatedAt: fetchedAt.Add(-400 * day), PasswordEnabled: true, PasswordLastUsed: fetchedAt.Add(-3 * day), MFAActive: true,
				AccessKeys: [2]inventory.CredentialReportKey{{Active: true, LastRotated: fetchedAt.Add(-90 * day), LastUsed: fetchedAt.Add(-day), LastUsedService: "s3", LastUsedRegion: "eu-west-1"}}},
		},
		UserCredentials: []*inventory.CredentialReportRow{
			{User: "dana", ARN: dana, CreatedAt: fetchedAt.Add(-time.Hour), PasswordEnabled: true, PasswordLastUsed: fetchedAt.Add(-10 * time.Minute), MFAActive: true,
				AccessKeys: [2]inventory.CredentialReportKey{{Active: true, LastRotated: fetchedAt.Add(-50 * time.Minute), LastUsed: fetchedAt.Add(-5 * time.Minute), LastUsedService: "sts", LastUsedRegion: "us-east-1"}}},
			{User: "erin", ARN: erin, CreatedAt: fetchedAt.Add(-30 * time.Minute), Unread: []string{"iam:GetLoginProfile"}},
		},
		MFADevices: []*inventory.MFADevice{
			{Serial: "arn:aws:iam::111111111111:mfa/alice", Virtual: true, UserName: "alice", EnabledAt: fetchedAt.Add(-300 * day)},
			{Serial: "arn:aws:iam::111111111111:u2f/user/alice/fidosecuritykey-ABCDEFGHIJKLMNOPQRSTUVWXYZ", UserName: "alice", EnabledAt: fetchedAt.Add(-200 * day)},
			{Serial: "GAHT12345678", UserName: "dana", EnabledAt: fetchedAt.Add(-time.Hour)},
		},
	}
	if secrets {
		in.AccessKeys = []*inventory.AccessKey{
			{ID: "AKIAALICE00000000001", UserName: "alice", UserARN: alice, Status: "Active", CreatedAt: fetchedAt.Add(-90 * day),
				LastUsedAt: fetchedAt.Add(-day), LastUsedService: "s3", LastUsedRegion: "eu-west-1"},
			// Newer than the report: awsfetch asked GetAccessKeyLastUsed.
			{ID: "AKIAALICE00000000002", UserName: "alice", UserARN: alice, Status: "Inactive", CreatedAt: fetchedAt.Add(-time.Hour)},
			{ID: "AKIADANA000000000001", UserName: "dana", UserARN: dana, Status: "Active", CreatedAt: fetchedAt.Add(-50 * time.Minute),
				LastUsedAt: fetchedAt.Add(-5 * time.Minute), LastUsedService: "sts", LastUsedRegion: "us-east-1"},
		}
	}
	return &inventory.Snapshot{FetchedAt: fetchedAt, CallerAccountID: acct, Accounts: []*inventory.Account{{
		ID: acct, Name: "solo", Status: "ACTIVE", Synced: true, IAM: in}}}
}

// profileJSON renders the listed keys of a profile as indented JSON, for exact
// comparison with readable failures.
func profileJSON(t *testing.T, p map[string]any, keys ...string) string {
	t.Helper()
	sub := map[string]any{}
	for _, k := range keys {
		if v, ok := p[k]; ok {
			sub[k] = v
		}
	}
	b, err := json.MarshalIndent(sub, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var credentialKeys = []string{"status", "console_access", "credentials_source", "credential_report_generated_at", "credentials_unread",
	"password_last_used", "mfa_active", "mfa_devices", "access_keys", "access_key_ids", "last_login", "credential_report"}

// Issue 9: users newer than the credential report get their profile from the per-user
// calls instead of "unavailable"; the report's time is shown; FIDO keys are told from
// hardware tokens; without secrets sync the key columns come from the report (or the
// per-user calls), with secrets sync every key is listed, those newer than the report
// included. Snapshot time 2025-06-01T12:00:00Z, report 10:00:00Z.
func TestIAMUserCredentialProfiles(t *testing.T) {
	s := syncToFile(t, NewFromSnapshot(credentialsSnapshot(false)))
	for user, want := range map[string]string{
		"alice": `{
  "access_keys": [
    {
      "active": true,
      "age_days": 90,
      "last_rotated": "2025-03-03T12:00:00Z",
      "last_used": "2025-05-31T12:00:00Z",
      "last_used_region": "eu-west-1",
      "last_used_service": "s3",
      "slot": 1
    }
  ],
  "console_access": true,
  "credential_report_generated_at": "2025-06-01T10:00:00Z",
  "credentials_source": "credential_report",
  "last_login": "2025-05-31T12:00:00Z",
  "mfa_active": true,
  "mfa_devices": [
    {
      "enabled_at": "2024-08-05T12:00:00Z",
      "serial": "arn:aws:iam::111111111111:mfa/alice",
      "type": "virtual"
    },
    {
      "enabled_at": "2024-11-13T12:00:00Z",
      "serial": "arn:aws:iam::111111111111:u2f/user/alice/fidosecuritykey-ABCDEFGHIJKLMNOPQRSTUVWXYZ",
      "type": "fido"
    }
  ],
  "password_last_used": "2025-05-29T12:00:00Z",
  "status": "active"
}`,
		"dana": `{
  "access_keys": [
    {
      "active": true,
      "age_days": 0,
      "last_rotated": "2025-06-01T11:10:00Z",
      "last_used": "2025-06-01T11:55:00Z",
      "last_used_region": "us-east-1",
      "last_used_service": "sts",
      "slot": 1
    }
  ],
  "console_access": true,
  "credentials_source": "user_calls",
  "last_login": "2025-06-01T11:55:00Z",
  "mfa_active": true,
  "mfa_devices": [
    {
      "enabled_at": "2025-06-01T11:00:00Z",
      "serial": "GAHT12345678",
      "type": "hardware"
    }
  ],
  "password_last_used": "2025-06-01T11:50:00Z",
  "status": "active"
}`,
		"erin": `{
  "credentials_source": "user_calls",
  "credentials_unread": [
    "iam:GetLoginProfile"
  ],
  "mfa_active": false,
  "status": "unknown"
}`,
	} {
		p := s.profile(t, "iam_user", "arn:aws:iam::111111111111:user/"+user)
		if got := profileJSON(t, p, credentialKeys...); got != want {
			t.Errorf("%s profile:\n%s\nwant:\n%s", user, got, want)
		}
	}
	if got := s.status(t, "iam_user", "arn:aws:iam::111111111111:user/erin"); got != v2.Status_RESOURCE_STATUS_UNSPECIFIED {
		t.Errorf("erin's status %v, want unspecified: her console access is unknown", got)
	}
	if got := s.profile(t, "account", "111111111111")["credential_report_generated_at"]; got != "2025-06-01T10:00:00Z" {
		t.Errorf("account credential_report_generated_at = %v", got)
	}

	s = syncToFile(t, NewFromSnapshot(credentialsSnapshot(true)))
	p := s.profile(t, "iam_user", "arn:aws:iam::111111111111:user/alice")
	want := `{
  "access_key_ids": [
    "AKIAALICE00000000001",
    "AKIAALICE00000000002"
  ],
  "access_keys": [
    {
      "access_key_id": "AKIAALICE00000000001",
      "active": true,
      "age_days": 90,
      "created": "2025-03-03T12:00:00Z",
      "last_used": "2025-05-31T12:00:00Z",
      "last_used_region": "eu-west-1",
      "last_used_service": "s3"
    },
    {
      "access_key_id": "AKIAALICE00000000002",
      "active": false,
      "age_days": 0,
      "created": "2025-06-01T11:00:00Z"
    }
  ]
}`
	if got := profileJSON(t, p, "access_keys", "access_key_ids"); got != want {
		t.Errorf("alice's keys with secrets sync:\n%s\nwant:\n%s", got, want)
	}
	// erin has no key (secrets synced) and her console access is unknown: still unknown.
	if got := s.profile(t, "iam_user", "arn:aws:iam::111111111111:user/erin")["status"]; got != "unknown" {
		t.Errorf("erin's status with secrets sync = %v, want unknown", got)
	}
}
