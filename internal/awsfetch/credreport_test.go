package awsfetch

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/inventory"
)

// A credential report as IAM writes it, including its placeholders: N/A, no_information
// (a key or password never used) and not_supported (the root user's password columns).
const sampleReport = `user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated
<root_account>,arn:aws:iam::111111111111:root,2020-01-01T00:00:00+00:00,not_supported,2025-11-02T10:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
zed,arn:aws:iam::111111111111:user/zed,2024-03-01T12:30:00+00:00,true,no_information,2024-03-01T12:30:00+00:00,N/A,false,true,2024-03-01T12:31:00+00:00,2025-12-31T23:59:59+00:00,eu-west-1,s3,false,2023-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A
amy,arn:aws:iam::111111111111:user/ops/amy,2024-03-01T00:00:00+02:00,false,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,true,2025-01-01T00:00:00+00:00,no_information,N/A,N/A,false,N/A,false,N/A
`

func TestParseCredentialReport(t *testing.T) {
	rows, err := parseCredentialReport([]byte(sampleReport))
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UTC()
	}
	want := []*inventory.CredentialReportRow{
		{User: "<root_account>", ARN: "arn:aws:iam::111111111111:root", CreatedAt: at("2020-01-01T00:00:00Z"),
			PasswordLastUsed: at("2025-11-02T10:00:00Z"), MFAActive: true},
		{User: "amy", ARN: "arn:aws:iam::111111111111:user/ops/amy", CreatedAt: at("2024-02-29T22:00:00Z"),
			AccessKeys: [2]inventory.CredentialReportKey{{}, {Active: true, LastRotated: at("2025-01-01T00:00:00Z")}}},
		{User: "zed", ARN: "arn:aws:iam::111111111111:user/zed", CreatedAt: at("2024-03-01T12:30:00Z"), PasswordEnabled: true,
			PasswordLastChanged: at("2024-03-01T12:30:00Z"),
			AccessKeys: [2]inventory.CredentialReportKey{
				{Active: true, LastRotated: at("2024-03-01T12:31:00Z"), LastUsed: at("2025-12-31T23:59:59Z"), LastUsedRegion: "eu-west-1", LastUsedService: "s3"},
				{LastRotated: at("2023-01-01T00:00:00Z")}}},
	}
	if !reflect.DeepEqual(want, rows) {
		t.Errorf("rows differ:\n%s", jsonDiff(want, rows))
	}
}

// TestParseCredentialReportColumnOrder checks that columns are read by name.
func TestParseCredentialReportColumnOrder(t *testing.T) {
	rows, err := parseCredentialReport([]byte("mfa_active,arn,user,new_column\ntrue,arn:aws:iam::1:user/x,x,whatever\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].User != "x" || rows[0].ARN != "arn:aws:iam::1:user/x" || !rows[0].MFAActive {
		t.Errorf("rows = %+v", rows[0])
	}
}

func TestParseCredentialReportErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"name,arn\nx,y\n", `no "user" column`},
		{"user,arn,user_creation_time\nx,y,yesterday\n", `line 2, user_creation_time: not a timestamp: "yesterday"`},
		{"user,arn\n\"x,y\n", "credential report"},
	} {
		_, err := parseCredentialReport([]byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("parse %q: err = %v, want %q", c.in, err, c.want)
		}
	}
	rows, err := parseCredentialReport(nil)
	if err != nil || len(rows) != 0 {
		t.Errorf("empty report: %v, %v", rows, err)
	}
}
