package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// newDataSourcesAddCommand is `gatehouse datasources add`: POST /api/v1/datasources. The
// server generates the External ID; the command says how to create the role that names it.
func newDataSourcesAddCommand() *cobra.Command {
	var server, name, roleARN, bucket, prefix, region, schedule string
	cmd := &cobra.Command{
		Use:   "add --name NAME --role-arn ARN --bucket BUCKET [--prefix P] [--region R] [--schedule 1h]",
		Short: "Add an S3 data source; the server generates its External ID (once: it never changes)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			body := map[string]any{"type": "s3", "name": name, "role_arn": roleARN, "bucket": bucket, "prefix": prefix, "region": region}
			if schedule != "" {
				body["schedule"] = schedule
			}
			c, err := newAPIClient(server)
			if err != nil {
				return err
			}
			var d dataSource
			raw, err := c.do(contextOrBackground(cmd), "POST", "/api/v1/datasources", body, &d)
			if err != nil {
				return err
			}
			w := cmd.ErrOrStderr()
			fmt.Fprintf(w, "added: ")
			printDataSource(w, &d)
			fmt.Fprintf(w, "\nThe role %s must trust the principal the server runs as with this External ID. Generate it with:\n  gatehouse setup s3 --bucket %s%s --external-id %s --trusted-principal ARN_THE_SERVER_RUNS_AS\nthen check it with: gatehouse datasources test %s\n",
				d.RoleARN, d.Bucket, prefixFlag(d.Prefix), d.ExternalID, d.ID)
			fmt.Fprintln(cmd.OutOrStdout(), jsonLine(raw))
			return nil
		},
	}
	serverFlag(cmd, &server)
	fl := cmd.Flags()
	fl.StringVar(&name, "name", "", "the data source's name, as people know it")
	fl.StringVar(&roleARN, "role-arn", "", "the role Gatehouse assumes to read the bucket")
	fl.StringVar(&bucket, "bucket", "", "the bucket the access files are in")
	fl.StringVar(&prefix, "prefix", "", "read only keys that start with this (for example apps/)")
	fl.StringVar(&region, "region", "", "the bucket's region (default: asked with GetBucketLocation)")
	fl.StringVar(&schedule, "schedule", "", "how often it is read, e.g. 1h (the server's default: 1h; at least 5m)")
	return cmd
}
