package doctor

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/gatehouse/gatehouse/internal/datasource"
)

// s3Titles are the titles of the checks of an S3 data source (gatehouse doctor --s3).
var s3Titles = map[string]string{
	"credentials":           "Credentials",
	"assume_role":           "Role + External ID",
	"get_bucket_location":   "Bucket location",
	"list_bucket":           "List files",
	"get_object_attributes": "File attributes",
	"get_object":            "Read files",
}

// RunS3 checks an S3 data source's role from the principal of base (the identity Gatehouse
// runs as): the same checks as the data source's "Test connection" (datasource.RunChecks),
// as a checklist whose failures each say what to fix.
func RunS3(ctx context.Context, base aws.Config, t datasource.Target) *Report {
	rep := &Report{}
	for _, c := range datasource.RunChecks(ctx, base, t, "gatehouse-doctor") {
		status := map[string]Status{datasource.Pass: Pass, datasource.Fail: Fail, datasource.Skip: Skip}[c.Status]
		rep.Checks = append(rep.Checks, Check{ID: "s3-" + c.ID, Title: s3Titles[c.ID], Status: status, Detail: c.Detail, Fix: c.Fix,
			Method: c.Action})
	}
	return finish(rep)
}
