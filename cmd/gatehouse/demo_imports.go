package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/gatehouse/gatehouse/internal/appimport"
	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/datasource"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/setup"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The demo's application imported from a file (docs/imports.md): the simulated customer's
// administrator keeps a Payroll export in a bucket; Alice (the demo admin) added the bucket
// as a data source, the customer created the role its External ID names (as `gatehouse
// setup s3` prints it), and Alice attached the file to the application "Payroll". A newcomer
// finds Payroll among the applications, with its users linked to the demo people by email.

// The demo's bucket, file, data source and application.
const (
	demoImportsBucket  = "gatehouse-demo-imports"
	demoImportsPrefix  = "apps/"
	demoImportsKey     = demoImportsPrefix + "payroll.csv"
	demoDataSourceName = "HR exports (simulated S3)"
	demoAppName        = "Payroll"
	demoAppOwner       = "alice@example.com"
)

// demoPayrollCSV is the Payroll export, in ConductorOne's template columns: 8 users (the six
// people of the demo organization, a contractor and a service account), 11 grants.
//
//go:embed demo_payroll.csv
var demoPayrollCSV string

// demoImport is what the demo imported.
type demoImport struct {
	DataSource  *datasource.Source
	Application *store.App
	Run         *store.AppRun
}

// demoImports seeds the data source and the application, unless they exist already (a
// --data-dir kept from an earlier run: then the data source keeps its External ID and is
// read again), and says on stderr what was imported.
func demoImports(ctx context.Context, srv *server.Server, info awssim.Info, stderr io.Writer, url string) (*demoImport, error) {
	dss, apps := srv.App.DataSources, srv.App.Applications
	if dss == nil || apps == nil {
		return nil, errors.New("demo imports: this server has no data sources or applications")
	}
	alice := demoCaller("alice")

	// The customer's side: the bucket and the file, with the administrator's key.
	customer := aws.Config{Region: info.Region, BaseEndpoint: aws.String(info.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(info.Admin.AccessKeyID, info.Admin.SecretAccessKey, "")}
	s3c := s3.NewFromConfig(customer, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(demoImportsBucket)}); err != nil && !awsCode(err, "BucketAlreadyOwnedByYou") {
		return nil, fmt.Errorf("demo imports: create the bucket %s: %w", demoImportsBucket, err)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(demoImportsBucket), Key: aws.String(demoImportsKey),
		Body: strings.NewReader(demoPayrollCSV), ContentType: aws.String("text/csv")}); err != nil {
		return nil, fmt.Errorf("demo imports: upload %s: %w", demoImportsKey, err)
	}

	// Gatehouse's side: the data source (its External ID is generated once).
	roleARN := "arn:aws:iam::" + info.ManagementAccountID + ":role/" + setup.DefaultS3RoleName
	var src *datasource.Source
	list, err := dss.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("demo imports: list data sources: %w", err)
	}
	for _, s := range list {
		if s.Name == demoDataSourceName {
			src = s
		}
	}
	if src == nil {
		if src, err = dss.Create(ctx, alice, datasource.Input{Type: aws.String("s3"), Name: aws.String(demoDataSourceName),
			RoleARN: aws.String(roleARN), Bucket: aws.String(demoImportsBucket), Prefix: aws.String(demoImportsPrefix)}); err != nil {
			return nil, fmt.Errorf("demo imports: add the data source: %w", err)
		}
	}

	// The customer's side again: the role trusting the principal Gatehouse runs as (the
	// connection's operator user) with that External ID, and the least-privilege policy.
	me, err := sts.NewFromConfig(aws.Config{Region: info.Region, BaseEndpoint: aws.String(info.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, "")}).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("demo imports: who Gatehouse runs as: %w", err)
	}
	b, err := setup.GenerateS3(setup.S3Options{Bucket: demoImportsBucket, Prefix: demoImportsPrefix, ExternalID: src.ExternalID,
		TrustedPrincipal: aws.ToString(me.Arn), AccountID: info.ManagementAccountID})
	if err != nil {
		return nil, fmt.Errorf("demo imports: generate the role: %w", err)
	}
	iamc := iam.NewFromConfig(customer)
	trust := string(b.Trust.JSON())
	if _, err := iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(b.RoleName), AssumeRolePolicyDocument: aws.String(trust),
		Description: aws.String("Gatehouse reads access files from " + demoImportsBucket)}); awsCode(err, "EntityAlreadyExists") {
		_, err = iamc.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(b.RoleName), PolicyDocument: aws.String(trust)})
		if err != nil {
			return nil, fmt.Errorf("demo imports: update the role's trust policy: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("demo imports: create the role: %w", err)
	}
	if _, err := iamc.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(b.RoleName), PolicyName: aws.String(setup.S3PolicyName),
		PolicyDocument: aws.String(string(b.Permissions.JSON()))}); err != nil {
		return nil, fmt.Errorf("demo imports: the role's policy: %w", err)
	}

	// The application and its import: attaching the file reads it at once.
	var app *store.App
	all, err := srv.App.Store.ListApps(ctx)
	if err != nil {
		return nil, fmt.Errorf("demo imports: list applications: %w", err)
	}
	for i := range all {
		if all[i].Name == demoAppName {
			app = &all[i]
		}
	}
	if app == nil {
		if app, err = apps.CreateApplication(ctx, alice.Email, "", appimport.AppInput{Name: demoAppName, Owner: demoAppOwner}); err != nil {
			return nil, fmt.Errorf("demo imports: create the application: %w", err)
		}
		im, err := apps.AttachImport(ctx, alice.Email, "", app.ID, appimport.ImportInput{DatasourceID: src.ID, Files: []string{demoImportsKey}})
		if err != nil {
			return nil, fmt.Errorf("demo imports: attach %s: %w", demoImportsKey, err)
		}
		if err := apps.ReadImport(ctx, im); err != nil {
			return nil, fmt.Errorf("demo imports: read %s: %w", demoImportsKey, err)
		}
	}
	// A sync as the schedule runs it, so that the data source shows its last read: the file
	// just imported is unchanged (no GetObject); with a kept data directory it is read
	// again only if it changed.
	if src, err = dss.Sync(ctx, src.ID); err != nil {
		return nil, fmt.Errorf("demo imports: read the data source: %w", err)
	}
	if src.LastState != datasource.StateSucceeded {
		return nil, fmt.Errorf("demo imports: reading the data source %s failed: %s", src.Name, src.LastError)
	}
	run, err := srv.App.Store.LatestAppRun(ctx, app.ID)
	if err != nil {
		return nil, fmt.Errorf("demo imports: the import of %s: %w", demoAppName, err)
	}
	if run.State != store.RunApplied {
		return nil, fmt.Errorf("demo imports: the import of %s is %s: %v", demoAppName, run.State, run.Errors)
	}
	fmt.Fprintf(stderr, "\nImports: %s read from s3://%s/%s through the data source %q (role %s, External ID %s): %s, %d grants · %s/applications\n",
		demoAppName, demoImportsBucket, demoImportsKey, src.Name, roleARN, src.ExternalID, run.State, run.Diff.GrantsBefore+run.Diff.GrantsAdded-run.Diff.GrantsRemoved, url+"/applications/"+app.ID)
	return &demoImport{DataSource: src, Application: app, Run: run}, nil
}

// awsCode reports whether err is an AWS API error with the code.
func awsCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}
