package main

import (
	"fmt"
	"io"
	"sort"
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
			fmt.Fprintf(out, "\nExplore the file:\n  gatehouse inspect --file %s resources --type iam_user\n  gatehouse inspect --file %s grants --type iam_group\n", file, file)
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "file", "gatehouse-demo.c1z", "where to write the .c1z file")
	cmd.Flags().StringVar(&preset, "preset", "demo", "generated organization: "+strings.Join(awssim.PresetNames(), ", "))
	cmd.Flags().Int64Var(&seed, "seed", 1, "seed of the generated organization")
	return cmd
}

// writeAccountAccess reads the account grants back from the .c1z and prints, per account
// and permission set, who holds it directly and who through a group.
func writeAccountAccess(cmd *cobra.Command, out io.Writer, file string) error {
	ctx := cmd.Context()
	f, err := c1zread.Open(ctx, file)
	if err != nil {
		return err
	}
	defer f.Close(ctx)
	resources, err := f.Resources(ctx, "")
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, r := range resources {
		names[r.GetId().GetResourceType()+":"+r.GetId().GetResource()] = r.GetDisplayName()
	}
	grants, err := f.Grants(ctx, "account")
	if err != nil {
		return err
	}
	ents, err := f.Entitlements(ctx, "account")
	if err != nil {
		return err
	}
	entName := map[string]string{}
	for _, e := range ents {
		entName[e.GetId()] = e.GetDisplayName()
	}
	type holders struct{ direct, viaGroup []string }
	byEnt := map[string]*holders{}
	for _, g := range grants {
		e := g.GetEntitlement()
		h := byEnt[e.GetId()]
		if h == nil {
			h = &holders{}
			byEnt[e.GetId()] = h
		}
		p := g.GetPrincipal().GetId()
		name := names[p.GetResourceType()+":"+p.GetResource()]
		if len(g.GetSources().GetSources()) > 0 && p.GetResourceType() == "sso_user" {
			h.viaGroup = append(h.viaGroup, name)
		} else if p.GetResourceType() == "sso_group" {
			h.direct = append(h.direct, name+" (group)")
		} else {
			h.direct = append(h.direct, name)
		}
	}
	ids := make([]string, 0, len(byEnt))
	for id := range byEnt {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return entName[ids[i]] < entName[ids[j]] })
	fmt.Fprintln(out, "Who can reach which account through Identity Center (read back from the .c1z)")
	for _, id := range ids {
		h := byEnt[id]
		sort.Strings(h.direct)
		sort.Strings(h.viaGroup)
		line := "  " + entName[id] + ": " + strings.Join(h.direct, ", ")
		if len(h.viaGroup) > 0 {
			line += "; through groups: " + strings.Join(h.viaGroup, ", ")
		}
		fmt.Fprintln(out, line)
	}
	return nil
}
