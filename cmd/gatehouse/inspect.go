package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/gatehouse/gatehouse/internal/c1zread"
)

func newInspectCommand() *cobra.Command {
	var (
		file     string
		typeID   string
		asJSON   bool
		kindHelp = "resources, entitlements or grants"
	)
	cmd := &cobra.Command{
		Use:   "inspect --file PATH.c1z resources|entitlements|grants [--type TYPE] [--json]",
		Short: "Show what a .c1z file holds: resources, entitlements or grants",
		Long: `Read a .c1z file back with baton-sdk's reader and print its resources, entitlements or
grants: a table for people, or with --json one JSON object per line (the protojson form of
baton's v2 messages) for programs. --type keeps one resource type (e.g. iam_user, account).`,
		Example: `  gatehouse inspect --file org.c1z resources --type account
  gatehouse inspect --file org.c1z grants --type iam_group --json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("say what to show: %s (e.g. gatehouse inspect --file org.c1z resources)", kindHelp)
			}
			switch args[0] {
			case "resources", "entitlements", "grants":
				return nil
			}
			return fmt.Errorf("unknown listing %q: choose %s", args[0], kindHelp)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if file == "" {
				return fmt.Errorf("--file is required: the .c1z file to read (written by gatehouse sync)")
			}
			ctx := cmd.Context()
			f, err := c1zread.Open(ctx, file)
			if err != nil {
				return err
			}
			defer f.Close(ctx)
			if typeID != "" {
				if err := checkType(cmd, f, typeID); err != nil {
					return err
				}
			}
			out := cmd.OutOrStdout()
			switch args[0] {
			case "resources":
				rs, err := f.Resources(ctx, typeID)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSONLines(out, rs)
				}
				tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "TYPE\tID\tNAME\tPARENT")
				for _, r := range rs {
					parent := ""
					if p := r.GetParentResourceId(); p != nil {
						parent = p.GetResourceType() + ":" + p.GetResource()
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.GetId().GetResourceType(), r.GetId().GetResource(), r.GetDisplayName(), parent)
				}
				return tw.Flush()
			case "entitlements":
				es, err := f.Entitlements(ctx, typeID)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSONLines(out, es)
				}
				tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tRESOURCE")
				for _, e := range es {
					r := e.GetResource().GetId()
					fmt.Fprintf(tw, "%s\t%s\t%s:%s\n", e.GetId(), e.GetDisplayName(), r.GetResourceType(), r.GetResource())
				}
				return tw.Flush()
			default:
				gs, err := f.Grants(ctx, typeID)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSONLines(out, gs)
				}
				// People read names: look up the principals' display names.
				all, err := f.Resources(ctx, "")
				if err != nil {
					return err
				}
				names := map[string]string{}
				for _, r := range all {
					names[r.GetId().GetResourceType()+":"+r.GetId().GetResource()] = r.GetDisplayName()
				}
				tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ENTITLEMENT\tPRINCIPAL\tPRINCIPAL NAME\tGRANT ID")
				for _, g := range gs {
					p := g.GetPrincipal().GetId()
					key := p.GetResourceType() + ":" + p.GetResource()
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", g.GetEntitlement().GetId(), key, names[key], g.GetId())
				}
				return tw.Flush()
			}
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "the .c1z file to read")
	cmd.Flags().StringVar(&typeID, "type", "", "only this resource type (e.g. account, iam_user, sso_group)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per line (protojson of baton's v2 messages)")
	return cmd
}

// checkType rejects a --type the file does not have, listing the ones it has.
func checkType(cmd *cobra.Command, f *c1zread.File, typeID string) error {
	types, err := f.ResourceTypes(cmd.Context())
	if err != nil {
		return err
	}
	var ids []string
	for _, t := range types {
		if t.GetId() == typeID {
			return nil
		}
		ids = append(ids, t.GetId())
	}
	return fmt.Errorf("the file has no resource type %q; it has: %v", typeID, ids)
}

func writeJSONLines[M proto.Message](w io.Writer, msgs []M) error {
	for _, m := range msgs {
		b, err := protojson.Marshal(m)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "%s\n", b); err != nil {
			return err
		}
	}
	return nil
}
