package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"

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
		wide     bool
		filter   accessFilter
		kindHelp = "access, resources, entitlements or grants"
	)
	cmd := &cobra.Command{
		Use:   "inspect -f FILE.c1z access|resources|entitlements|grants [flags]",
		Short: "Show what a .c1z file holds: who can reach which account, resources, entitlements, grants",
		Long: `Read a .c1z file (written by gatehouse sync or gatehouse demo) back with baton-sdk's
reader and print, for people, a table that fits a 120-column terminal (long ids and ARNs
are shortened in the middle with …; --wide prints them whole), or with --json one JSON
object per line for programs.

  access        who can reach which AWS account, with which Identity Center permission
                set, and through what: an assignment of their own or a group (the view
                gatehouse demo prints). --account and --person narrow it.
  resources     accounts, OUs, IAM users, groups, roles and policies, Identity Center
                users, groups and permission sets, access keys
  entitlements  what can be held: an IAM or Identity Center group's membership, a
                permission set in an account, an IAM policy attached
  grants        who holds which entitlement, directly or through a group; the GRANT ID
                (whole with --wide) is what gatehouse revoke --grant takes

--type keeps one resource type (e.g. account, iam_user, sso_group) for resources,
entitlements and grants.`,
		Example: `  gatehouse inspect -f org.c1z access --person alice@example.com
  gatehouse inspect -f org.c1z access --account prod
  gatehouse inspect -f org.c1z resources --type account
  gatehouse inspect -f org.c1z grants --type iam_group --json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("say what to show: %s (e.g. gatehouse inspect -f org.c1z access)", kindHelp)
			}
			switch args[0] {
			case "access", "resources", "entitlements", "grants":
				return nil
			}
			return fmt.Errorf("unknown listing %q: choose %s", args[0], kindHelp)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			kind := args[0]
			switch {
			case file == "":
				return fmt.Errorf("--file (-f) is required: the .c1z file to read (written by gatehouse sync)")
			case kind == "access" && typeID != "":
				return fmt.Errorf("--type is for resources, entitlements and grants; access shows account assignments (narrow it with --account or --person)")
			case kind != "access" && (filter.account != "" || filter.person != ""):
				return fmt.Errorf("--account and --person narrow gatehouse inspect access; for %s use --type", kind)
			}
			width := terminalWidth
			if wide {
				width = 0
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
			// none says that there is nothing to list, rather than printing a bare header.
			none := func(what string) error {
				if asJSON {
					return nil
				}
				if typeID != "" {
					what += " of type " + typeID
				}
				_, err := fmt.Fprintf(out, "no %s in %s\n", what, file)
				return err
			}
			switch kind {
			case "access":
				rows, err := readAccess(ctx, f)
				if err != nil {
					return err
				}
				if rows, err = filter.apply(ctx, f, file, rows); err != nil {
					return err
				}
				if asJSON {
					return writeAccessJSON(out, rows)
				}
				if len(rows) == 0 {
					what := "Identity Center account access"
					if d := filter.describe(); d != "" {
						what += " " + d
					}
					return none(what)
				}
				return writeAccessTable(out, rows, width)
			case "resources":
				rs, err := f.Resources(ctx, typeID)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSONLines(out, rs)
				}
				if len(rs) == 0 {
					return none("resources")
				}
				names, err := resourceNames(ctx, f)
				if err != nil {
					return err
				}
				t := table{header: []string{"TYPE", "ID", "NAME", "PARENT"}, ids: []int{1}}
				for _, r := range rs {
					parent := ""
					if p := r.GetParentResourceId(); p != nil {
						parent = names.describe(p.GetResourceType(), p.GetResource())
					}
					t.add(r.GetId().GetResourceType(), r.GetId().GetResource(), r.GetDisplayName(), parent)
				}
				return writeTable(out, &t, width)
			case "entitlements":
				es, err := f.Entitlements(ctx, typeID)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSONLines(out, es)
				}
				if len(es) == 0 {
					return none("entitlements")
				}
				names, err := resourceNames(ctx, f)
				if err != nil {
					return err
				}
				t := table{header: []string{"ID", "NAME", "RESOURCE"}, ids: []int{0}}
				for _, e := range es {
					r := e.GetResource().GetId()
					t.add(e.GetId(), e.GetDisplayName(), names.describe(r.GetResourceType(), r.GetResource()))
				}
				return writeTable(out, &t, width)
			default:
				gs, err := f.Grants(ctx, typeID)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSONLines(out, gs)
				}
				if len(gs) == 0 {
					return none("grants")
				}
				// People read names: the entitlements' and the principals'.
				names, err := resourceNames(ctx, f)
				if err != nil {
					return err
				}
				es, err := f.Entitlements(ctx, typeID)
				if err != nil {
					return err
				}
				entName := map[string]string{}
				for _, e := range es {
					entName[e.GetId()] = e.GetDisplayName()
				}
				t := table{header: []string{"ENTITLEMENT", "PRINCIPAL", "THROUGH", "GRANT ID"}, ids: []int{3}}
				for _, g := range gs {
					p := g.GetPrincipal().GetId()
					ent := entName[g.GetEntitlement().GetId()]
					if ent == "" {
						ent = g.GetEntitlement().GetId()
					}
					t.add(ent, names.describe(p.GetResourceType(), p.GetResource()), names.through(g), g.GetId())
				}
				return writeTable(out, &t, width)
			}
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "the .c1z file to read")
	cmd.Flags().StringVar(&typeID, "type", "", "resources, entitlements, grants: only this resource type (e.g. account, iam_user, sso_group)")
	cmd.Flags().StringVar(&filter.account, "account", "", "access: only this account (id or name)")
	cmd.Flags().StringVar(&filter.person, "person", "", "access: only this Identity Center user (email, user name, display name or user id)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per line (protojson of baton's v2 messages; access: one object per row)")
	cmd.Flags().BoolVar(&wide, "wide", false, "print ids and ARNs whole, however wide the table gets")
	return cmd
}

// names are the display names of a file's resources, by "type:id".
type names map[string]string

func resourceNames(ctx context.Context, f *c1zread.File) (names, error) {
	all, err := f.Resources(ctx, "")
	if err != nil {
		return nil, err
	}
	n := names{}
	for _, r := range all {
		n[r.GetId().GetResourceType()+":"+r.GetId().GetResource()] = r.GetDisplayName()
	}
	return n, nil
}

// describe names a resource for people: "iam_user alice"; the id when it has no name.
func (n names) describe(typ, id string) string {
	if name := n[typ+":"+id]; name != "" {
		return typ + " " + name
	}
	return typ + " " + id
}

// through says where a grant comes from: "direct", or the groups (or other
// entitlements) it was expanded from by the sync.
func (n names) through(g *v2.Grant) string {
	srcs := g.GetSources().GetSources()
	if len(srcs) == 0 {
		return "direct"
	}
	var out []string
	for src := range srcs {
		if src == g.GetEntitlement().GetId() {
			out = append(out, "direct")
			continue
		}
		// Membership entitlements are "<type>:<id>:member"; ids may hold colons (ARNs).
		if rest, ok := strings.CutSuffix(src, ":member"); ok {
			if typ, id, ok := strings.Cut(rest, ":"); ok {
				out = append(out, "via "+n.describe(typ, id))
				continue
			}
		}
		out = append(out, "via "+src)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// writeTable prints a table that fits width and says when it shortened values.
func writeTable(w io.Writer, t *table, width int) error {
	shortened, err := t.write(w, width)
	if err == nil && shortened {
		_, err = fmt.Fprintln(w, "(long values are shortened with …; --wide prints them whole)")
	}
	return err
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
