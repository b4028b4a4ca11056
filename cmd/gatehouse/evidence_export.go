package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/evidence"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/store"
)

func newEvidenceExportCommand() *cobra.Command {
	var from, to, output string
	var accounts, ous, apps []string
	cmd := &cobra.Command{
		Use:   "export --from TIME --to TIME -o pack.zip",
		Short: "Build the evidence pack of a period (and scope) from the store into a ZIP",
		Long: `Build the evidence pack of the period [--from, --to] into the file -o: written 0600 next to
it and renamed into place only when complete. --account, --ou (with its whole subtree) and
--application narrow the pack; each may be given several times or as a comma-separated
list, and without them the pack covers everything. The export is recorded in the audit log
(evidence.export, with the pack's SHA-256), and one JSON line on stdout says where the pack
is and its SHA-256: {"path", "pack_id", "sha256", "size", "audit_chain_ok"}.`,
		Example: `  gatehouse evidence export --data-dir /var/lib/gatehouse --from 2026-01-01T00:00:00Z --to 2026-03-31T23:59:59Z -o q1.zip
  gatehouse evidence export --database-url postgres://... --from 2026-03-01 --to 2026-04-01 --account 111111111111 --ou ou-abcd-prod0001 -o prod-march.zip`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output == "" {
				return errors.New("-o is required: the file to write the pack to (for example -o evidence.zip)")
			}
			req, err := evidence.NewRequest(dateOrTime(from), dateOrTime(to), accounts, ous, apps)
			if err != nil {
				return flagError(err)
			}
			ctx := contextOrBackground(cmd)
			st, err := openExistingStore(ctx, cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			res, err := evidence.Resolve(ctx, st, req)
			if err != nil {
				return flagError(err)
			}
			id, actor := evidence.NewID(), cliActor()
			start := time.Now()
			built, err := evidence.BuildFile(ctx, st, req, res, evidence.Options{ID: id, By: actor}, output)
			if err != nil {
				return fmt.Errorf("build the pack: %w", err)
			}
			abs, _ := filepath.Abs(output)
			err = st.InTx(ctx, func(tx *store.Tx) error {
				_, err := tx.AppendAudit(ctx, actor, "evidence.export", "evidence:"+id, map[string]any{"pack_id": id, "sha256": built.SHA256,
					"size": built.Size, "output": abs, "from": built.Summary.From, "to": built.Summary.To, "scope": req.Scope(),
					"audit_chain_ok": built.Summary.Chain.OK}, "")
				return err
			})
			if err != nil {
				return fmt.Errorf("the pack was written to %s, but recording it in the audit log failed: %w", output, err)
			}
			line, _ := json.Marshal(map[string]any{"path": abs, "pack_id": id, "sha256": built.SHA256, "size": built.Size,
				"audit_chain_ok": built.Summary.Chain.OK})
			fmt.Fprintln(cmd.OutOrStdout(), string(line))
			c := built.Summary.Counts
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s in %s: %d bytes, sha256 %s\n  inventory: %d grants at the start, %d at the end; %d added, %d removed in %d syncs\n  %d requests, %d leases, %d review items, %d findings, %d audit entries\n  audit log: %s\n",
				output, time.Since(start).Round(time.Millisecond), built.Size, built.SHA256, c.StartGrants, c.EndGrants, c.GrantsAdded,
				c.GrantsRemoved, c.Syncs, c.Requests, c.Leases, c.ReviewItems, c.Findings, c.AuditEntries, built.Summary.Chain.Statement)
			return nil
		},
	}
	server.RegisterFlags(cmd.Flags())
	fl := cmd.Flags()
	fl.StringVar(&from, "from", "", "the period's start (RFC 3339, or a date YYYY-MM-DD in UTC)")
	fl.StringVar(&to, "to", "", "the period's end, included (RFC 3339, or a date YYYY-MM-DD: its midnight UTC)")
	fl.StringSliceVar(&accounts, "account", nil, "only this account (id or name); repeat for more")
	fl.StringSliceVar(&ous, "ou", nil, "only the accounts under this organizational unit (id or name), its whole subtree; repeat for more")
	fl.StringSliceVar(&apps, "application", nil, `only this application: "aws" (every AWS connection), a connection's id or an imported application's id`)
	fl.StringVarP(&output, "output", "o", "", "the ZIP to write (created 0600)")
	return cmd
}

// dateOrTime turns a date (YYYY-MM-DD) into its midnight UTC in RFC 3339; anything else is
// left for evidence.NewRequest to check.
func dateOrTime(s string) string {
	if t, err := time.Parse("2006-01-02", strings.TrimSpace(s)); err == nil {
		return t.UTC().Format(time.RFC3339)
	}
	return s
}

// flagError names the flag of a request's error (from and to are --from and --to here).
func flagError(err error) error {
	msg := err.Error()
	for _, f := range []string{"from", "to"} {
		if strings.HasPrefix(msg, f+" ") {
			msg = "--" + msg
			break
		}
	}
	msg = strings.NewReplacer("is after to (", "is after --to (", "and to are both", "and --to are both",
		"a period needs to after from", "a period needs --to after --from").Replace(msg)
	msg = strings.Replace(msg, "RFC 3339 time such as 2026-01-02T15:04:05Z", "RFC 3339 time such as 2026-01-02T15:04:05Z or a date such as 2026-01-02", 1)
	return errors.New(msg)
}
