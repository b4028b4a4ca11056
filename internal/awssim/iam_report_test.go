package awssim

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// The credential report's state machine on a fake clock: not present, STARTED,
// in progress, COMPLETE (a snapshot), reused for 4 hours, then expired and regenerated.
func TestIAMCredentialReport(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := &iamClock{t: t0}
	w := NewWorld(iamAccount, "us-east-1", clock.Now)
	w.AddConnectorAccess("ext-123", "")
	s, _ := startSim(t, w, Options{Now: clock.Now, CredentialReportDelay: 10 * time.Second})
	c := iam.NewFromConfig(adminConfig(t, s, iamAccount))
	s.Do(func(w *World) {
		a := w.Account(iamAccount)
		carol := a.AddUser(w, "carol", "/")
		carol.LoginProfile = &LoginProfile{CreateDate: t0.Add(-48 * time.Hour)}
		carol.PasswordLastUsed = t0.Add(-time.Hour)
		a.AddMFADevice(w, carol, false)
		k1 := a.AddAccessKey(w, carol)
		k1.LastUsedDate, k1.LastUsedService, k1.LastUsedRegion = t0.Add(-2*time.Hour), "s3", "eu-west-1"
		a.AddAccessKey(w, carol).Status = "Inactive"
		dave := a.AddUser(w, "dave", "/")
		dave.LoginProfile = &LoginProfile{CreateDate: t0.Add(-24 * time.Hour)}
	})

	get := func() (*iam.GetCredentialReportOutput, error) {
		return c.GetCredentialReport(ctx(t), &iam.GetCredentialReportInput{})
	}
	generate := func() types.ReportStateType {
		return iamOut(c.GenerateCredentialReport(ctx(t), &iam.GenerateCredentialReportInput{})).must(t).State
	}
	_, err := get()
	iamCode(t, err, "ReportNotPresent")
	iamEqual(t, "first GenerateCredentialReport", generate(), types.ReportStateTypeStarted)
	_, err = get()
	iamCode(t, err, "ReportInProgress")
	iamEqual(t, "GenerateCredentialReport while generating", generate(), types.ReportStateTypeInprogress)
	s.Do(func(w *World) { w.Account(iamAccount).AddUser(w, "erin", "/") }) // before completion: in the report

	clock.Add(10 * time.Second)
	iamEqual(t, "GenerateCredentialReport once done", generate(), types.ReportStateTypeComplete)
	report := iamOut(get()).must(t)
	iamEqual(t, "ReportFormat", report.ReportFormat, types.ReportFormatTypeTextCsv)
	iamEqual(t, "GeneratedTime", aws.ToTime(report.GeneratedTime), t0.Add(10*time.Second))
	rows, err := csv.NewReader(bytes.NewReader(report.Content)).ReadAll()
	if err != nil {
		t.Fatalf("report is not CSV: %v\n%s", err, report.Content)
	}
	header := "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active," +
		"access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service," +
		"access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service," +
		"cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
	iamEqual(t, "header", strings.Join(rows[0], ","), header)
	byUser := map[string]string{}
	var order []string
	for _, r := range rows[1:] {
		if len(r) != 22 {
			t.Fatalf("row %v has %d columns, want 22", r, len(r))
		}
		byUser[r[0]] = strings.Join(r, ",")
		order = append(order, r[0])
	}
	iamEqual(t, "rows", order, []string{"<root_account>", "carol", "dave", "erin", "gatehouse-operator", "test-admin"})
	ts := "2030-01-02T03:04:05+00:00"
	noKey := "false,N/A,N/A,N/A,N/A"
	noCerts := "false,N/A,false,N/A"
	want := map[string]string{
		"<root_account>": "<root_account>,arn:aws:iam::111111111111:root," + ts + ",not_supported,no_information,not_supported,not_supported,false," + noKey + "," + noKey + "," + noCerts,
		"carol": "carol,arn:aws:iam::111111111111:user/carol," + ts + ",true,2030-01-02T02:04:05+00:00,2029-12-31T03:04:05+00:00,N/A,true," +
			"true," + ts + ",2030-01-02T01:04:05+00:00,eu-west-1,s3," + "false," + ts + ",N/A,N/A,N/A," + noCerts,
		"dave": "dave,arn:aws:iam::111111111111:user/dave," + ts + ",true,no_information,2030-01-01T03:04:05+00:00,N/A,false," + noKey + "," + noKey + "," + noCerts,
		// The admin's key signed the GenerateCredentialReport call that completed the report.
		"test-admin": "test-admin,arn:aws:iam::111111111111:user/test-admin," + ts + ",false,N/A,N/A,N/A,false," +
			"true," + ts + ",2030-01-02T03:04:15+00:00,us-east-1,iam," + noKey + "," + noCerts,
	}
	for user, row := range want {
		iamEqual(t, "row of "+user, byUser[user], row)
	}

	// The report is a snapshot, reused for 4 hours.
	s.Do(func(w *World) { w.Account(iamAccount).AddUser(w, "frank", "/") })
	clock.Add(time.Hour)
	again := iamOut(get()).must(t)
	iamEqual(t, "report an hour later", string(again.Content), string(report.Content))
	iamEqual(t, "GenerateCredentialReport within 4 hours", generate(), types.ReportStateTypeComplete)
	iamEqual(t, "report after a reused generation", string(iamOut(get()).must(t).Content), string(report.Content))

	// After 4 hours it expires; a new generation sees the new user.
	clock.Add(3 * time.Hour)
	_, err = get()
	iamCode(t, err, "ReportExpired")
	iamEqual(t, "GenerateCredentialReport after expiry", generate(), types.ReportStateTypeStarted)
	_, err = get()
	iamCode(t, err, "ReportInProgress")
	clock.Add(10 * time.Second)
	fresh := iamOut(get()).must(t)
	iamEqual(t, "new GeneratedTime", aws.ToTime(fresh.GeneratedTime), t0.Add(4*time.Hour+20*time.Second))
	if !strings.Contains(string(fresh.Content), "\nfrank,arn:aws:iam::111111111111:user/frank,") {
		t.Errorf("regenerated report lacks frank:\n%s", fresh.Content)
	}
}
