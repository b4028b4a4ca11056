package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/c1zread"
	"github.com/gatehouse/gatehouse/internal/syncrun"
)

func newDemoCommand() *cobra.Command {
	var (
		file   string
		preset string
		seed   int64
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Sync a built-in simulated AWS organization and show who can reach what (no AWS account needed)",
		Long: `Start the built-in AWS simulator with a generated organization (the demo preset: a handful
of accounts in OUs, IAM users, groups, roles and policies in each, IAM Identity Center with
users, groups, permission sets and account assignments, one suspended account and one whose
role cannot be assumed), sync all of it the way "gatehouse sync --orgs --identity-center
--sync-secrets" would against AWS, write the .c1z file, print the summary and show who can
reach which account through Identity Center.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			world, err := awssim.Preset(preset, seed)
			if err != nil {
				return err
			}
			sim := awssim.New(world, awssim.DefaultOptions())
			url, err := sim.Start("127.0.0.1:0")
			if err != nil {
				return err
			}
			defer sim.Close()
			info := sim.Info()
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Simulated AWS organization %q (seed %d) at %s\n", preset, seed, url)
			fmt.Fprintf(out, "Connecting as %s, assuming %s with its External ID\n\n", "gatehouse-operator", info.RoleARN)

			cfg := awsfetch.Config{
				Region: info.Region, EndpointURL: url,
				RoleARN: info.RoleARN, ExternalID: info.ExternalID,
				Orgs: true, IdentityCenter: true, IdentityCenterRegion: info.IdentityCenterRegion,
				SyncSecrets: true, SCIMEndpoint: info.SCIMEndpoint, SCIMToken: info.SCIMToken,
				Credentials: credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, ""),
				// The demo organization has an account whose member role was deleted, to
				// show how a sync reports it; the demo writes the partial file anyway.
				AllowPartial: true,
			}
			stop := showProgress(cmd.Context(), &cfg)
			res, err := syncrun.Run(cmd.Context(), cfg, file)
			stop()
			if err != nil {
				return err
			}
			res.WriteSummary(out)
			fmt.Fprintln(out)
			if err := writeAccountAccess(cmd, out, file); err != nil {
				return err
			}
			fmt.Fprintf(out, "\nExplore the file:\n  gatehouse inspect -f %s access --person alice@example.com\n  gatehouse inspect -f %s resources --type iam_user\n  gatehouse inspect -f %s grants --type iam_group\n", file, file, file)
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "gatehouse-demo.c1z", "where to write the .c1z file")
	cmd.Flags().StringVar(&preset, "preset", "demo", "generated organization: "+strings.Join(awssim.PresetNames(), ", "))
	cmd.Flags().Int64Var(&seed, "seed", 1, "seed of the generated organization")
	return cmd
}

// writeAccountAccess reads the account assignments back from the .c1z and prints who
// can reach which account with which permission set and through what: the table
// gatehouse inspect FILE access prints.
func writeAccountAccess(cmd *cobra.Command, out io.Writer, file string) error {
	ctx := cmd.Context()
	f, err := c1zread.Open(ctx, file)
	if err != nil {
		return err
	}
	defer f.Close(ctx)
	rows, err := readAccess(ctx, f)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Who can reach which account through Identity Center (read back from %s; the same as gatehouse inspect -f %s access)\n", file, file)
	return writeAccessTable(out, rows, terminalWidth)
}
