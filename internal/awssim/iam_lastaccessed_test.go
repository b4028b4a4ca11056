package awssim

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// GenerateServiceLastAccessedDetails and GetServiceLastAccessedDetails through the real
// SDK: a JobId, IN_PROGRESS for AccessJobDelay, then COMPLETED with one entry per service
// the role's policies allow (used ones with LastAuthenticated), paged with MaxItems and
// Marker; a user's services include its groups'; an unknown job is NoSuchEntity.
func TestIAMServiceLastAccessedDetails(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := &iamClock{t: t0}
	w := NewWorld(iamAccount, "us-east-1", clock.Now)
	s, _ := startSim(t, w, Options{Now: clock.Now, AccessJobDelay: 10 * time.Second})
	c := iam.NewFromConfig(adminConfig(t, s, iamAccount))
	var roleARN, userARN string
	used := t0.Add(-100 * 24 * time.Hour)
	s.Do(func(w *World) {
		a := w.Account(iamAccount)
		r := a.AddRole(w, "app", "/", `{"Version":"2012-10-17","Statement":[]}`)
		r.InlinePolicies = map[string]string{"p": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","EC2:Describe*","iam:List*"],"Resource":"*"},{"Effect":"Deny","Action":"kms:*","Resource":"*"}]}`}
		roleARN = r.ARN
		g := a.AddGroup(w, "ops", "/")
		g.InlinePolicies = map[string]string{"g": `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"*"}}`}
		u := a.AddUser(w, "bob", "/")
		g.AddUserToGroup("bob")
		u.InlinePolicies = map[string]string{"u": `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}}`}
		userARN = u.ARN
	})
	var setErr error
	s.Do(func(w *World) {
		setErr = w.SetServiceLastAccessed(roleARN, "s3", used)
		if setErr == nil { // a use after the job completes is not in it
			setErr = w.SetServiceLastAccessed(userARN, "lambda", t0.Add(time.Hour))
		}
	})
	if setErr != nil {
		t.Fatal(setErr)
	}

	job := iamOut(c.GenerateServiceLastAccessedDetails(ctx(t), &iam.GenerateServiceLastAccessedDetailsInput{
		Arn: aws.String(roleARN), Granularity: types.AccessAdvisorUsageGranularityTypeServiceLevel})).must(t)
	if aws.ToString(job.JobId) == "" {
		t.Fatal("no JobId")
	}
	get := func(id string, max int32, marker *string) *iam.GetServiceLastAccessedDetailsOutput {
		in := &iam.GetServiceLastAccessedDetailsInput{JobId: aws.String(id), Marker: marker}
		if max > 0 {
			in.MaxItems = aws.Int32(max)
		}
		return iamOut(c.GetServiceLastAccessedDetails(ctx(t), in)).must(t)
	}
	first := get(*job.JobId, 0, nil)
	iamEqual(t, "status before the delay", first.JobStatus, types.JobStatusTypeInProgress)
	iamEqual(t, "services while in progress", len(first.ServicesLastAccessed), 0)
	iamEqual(t, "JobCreationDate", aws.ToTime(first.JobCreationDate), t0)
	if first.JobCompletionDate != nil {
		t.Fatalf("JobCompletionDate while in progress: %v", first.JobCompletionDate)
	}

	clock.Add(10 * time.Second)
	var got []types.ServiceLastAccessed
	var marker *string
	pages := 0
	for {
		out := get(*job.JobId, 2, marker)
		pages++
		iamEqual(t, "status after the delay", out.JobStatus, types.JobStatusTypeCompleted)
		iamEqual(t, "JobType", out.JobType, types.AccessAdvisorUsageGranularityTypeServiceLevel)
		iamEqual(t, "JobCompletionDate", aws.ToTime(out.JobCompletionDate), t0.Add(10*time.Second))
		got = append(got, out.ServicesLastAccessed...)
		if !out.IsTruncated {
			break
		}
		marker = out.Marker
	}
	iamEqual(t, "pages of 2", pages, 2)
	iamEqual(t, "services", len(got), 3)
	want := []struct {
		ns, name string
		last     time.Time
		total    int32
	}{{"ec2", "Amazon EC2", time.Time{}, 0}, {"iam", "AWS Identity and Access Management", time.Time{}, 0}, {"s3", "Amazon S3", used, 1}}
	for i, w := range want {
		g := got[i]
		iamEqual(t, "ServiceNamespace", aws.ToString(g.ServiceNamespace), w.ns)
		iamEqual(t, "ServiceName", aws.ToString(g.ServiceName), w.name)
		iamEqual(t, "LastAuthenticated of "+w.ns, aws.ToTime(g.LastAuthenticated), w.last)
		iamEqual(t, "TotalAuthenticatedEntities of "+w.ns, aws.ToInt32(g.TotalAuthenticatedEntities), w.total)
	}
	iamEqual(t, "LastAuthenticatedEntity", aws.ToString(got[2].LastAuthenticatedEntity), roleARN)

	// A user: its own and its groups' policies; the later lambda use is not reported.
	uj := iamOut(c.GenerateServiceLastAccessedDetails(ctx(t), &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String(userARN)})).must(t)
	clock.Add(10 * time.Second)
	out := get(*uj.JobId, 0, nil)
	iamEqual(t, "user's services", len(out.ServicesLastAccessed), 2)
	iamEqual(t, "user's first", aws.ToString(out.ServicesLastAccessed[0].ServiceNamespace), "lambda")
	if out.ServicesLastAccessed[0].LastAuthenticated != nil {
		t.Fatalf("a use after the job completed is reported: %v", out.ServicesLastAccessed[0].LastAuthenticated)
	}
	iamEqual(t, "user's second", aws.ToString(out.ServicesLastAccessed[1].ServiceNamespace), "sts")

	_, err := c.GetServiceLastAccessedDetails(ctx(t), &iam.GetServiceLastAccessedDetailsInput{JobId: aws.String("no-such-job")})
	iamCode(t, err, "NoSuchEntity")
	_, err = c.GenerateServiceLastAccessedDetails(ctx(t), &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String("arn:aws:iam::" + iamAccount + ":role/nobody")})
	iamCode(t, err, "NoSuchEntity")
}
