package awssim

import (
	"bytes"
	"encoding/csv"
	"slices"
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

// A report generated in the past (a fixture's credential_report_generated) describes the
// account as it was then: what came after it is left out, as in AWS's report of that time.
// And a FIDO security key is listed by ListMFADevices, under its u2f ARN, and not by
// ListVirtualMFADevices.
func TestIAMCredentialReportAsOfThePastAndFIDO(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 3, 0, 0, 0, time.UTC)
	clock := &iamClock{t: t0}
	w := NewWorld(iamAccount, "us-east-1", clock.Now)
	w.AddConnectorAccess("ext-123", "")
	s, _ := startSim(t, w, Options{Now: clock.Now})
	c := iam.NewFromConfig(adminConfig(t, s, iamAccount))
	var fido string
	s.Do(func(w *World) {
		a := w.Account(iamAccount)
		old := a.AddUser(w, "old", "/")
		old.CreateDate = t0.Add(-48 * time.Hour)
		old.LoginProfile = &LoginProfile{CreateDate: old.CreateDate}
		old.PasswordLastUsed = t0.Add(-30 * time.Minute) // after the report
		k := a.AddAccessKey(w, old)
		k.CreateDate, k.LastUsedDate, k.LastUsedService, k.LastUsedRegion = t0.Add(-24*time.Hour), t0.Add(-3*time.Hour), "s3", "eu-west-1"
		a.AddAccessKey(w, old).CreateDate = t0.Add(-time.Hour) // after the report
		a.AddMFADevice(w, old, true).EnableDate = t0.Add(-48 * time.Hour)
		fido = a.AddFIDODevice(w, old).Serial
		a.AddUser(w, "young", "/").CreateDate = t0.Add(-time.Hour) // after the report
		a.SetCredentialReport(t0.Add(-2 * time.Hour))
	})
	iamEqual(t, "GenerateCredentialReport of a 2-hour-old report", iamOut(c.GenerateCredentialReport(ctx(t), &iam.GenerateCredentialReportInput{})).must(t).State, types.ReportStateTypeComplete)
	report := iamOut(c.GetCredentialReport(ctx(t), &iam.GetCredentialReportInput{})).must(t)
	iamEqual(t, "GeneratedTime", aws.ToTime(report.GeneratedTime), t0.Add(-2*time.Hour))
	got := string(report.Content)
	want := "old,arn:aws:iam::" + iamAccount + ":user/old,2029-12-31T03:00:00+00:00,true,no_information,2029-12-31T03:00:00+00:00,N/A,true," +
		"true,2030-01-01T03:00:00+00:00,2030-01-02T00:00:00+00:00,eu-west-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
	if !strings.Contains(got, want+"\n") {
		t.Errorf("report lacks the row of old as of the report's time\nwant %s\nin   %s", want, got)
	}
	if strings.Contains(got, "young") {
		t.Errorf("the report lists a user created after it:\n%s", got)
	}

	devices := iamOut(c.ListMFADevices(ctx(t), &iam.ListMFADevicesInput{UserName: aws.String("old")})).must(t).MFADevices
	var serials []string
	for _, d := range devices {
		serials = append(serials, aws.ToString(d.SerialNumber))
	}
	if len(serials) != 2 || !slices.Contains(serials, "arn:aws:iam::"+iamAccount+":mfa/old") || !slices.Contains(serials, fido) ||
		!strings.HasPrefix(fido, "arn:aws:iam::"+iamAccount+":u2f/user/old/fidosecuritykey-") {
		t.Errorf("ListMFADevices(old) = %v; want the virtual device and the FIDO key %s", serials, fido)
	}
	virtual := iamOut(c.ListVirtualMFADevices(ctx(t), &iam.ListVirtualMFADevicesInput{})).must(t).VirtualMFADevices
	if len(virtual) != 1 || aws.ToString(virtual[0].SerialNumber) != "arn:aws:iam::"+iamAccount+":mfa/old" {
		t.Errorf("ListVirtualMFADevices lists %d devices; want the virtual one only", len(virtual))
	}
	sum := iamOut(c.GetAccountSummary(ctx(t), &iam.GetAccountSummaryInput{})).must(t).SummaryMap
	if sum["MFADevicesInUse"] != 2 {
		t.Errorf("MFADevicesInUse = %d, want 2 (the virtual device and the FIDO key)", sum["MFADevicesInUse"])
	}
}
