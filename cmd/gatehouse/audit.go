package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/store"
)

func newAuditCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Check the audit log's hash chain, or export it as JSON lines",
		Long: `Every change Gatehouse makes (connections, syncs, sign-ins, tokens, settings...) is
appended to an audit log in which each entry carries the hash of the one before it.
"gatehouse audit verify" walks the whole log and names any entry that was edited, deleted
or moved; "gatehouse audit export" writes it as JSON lines. Both read the store that
gatehouse serve uses: give them the same --config, --data-dir or --database-url.`,
	}
	cmd.AddCommand(newAuditVerifyCommand(), newAuditExportCommand())
	return cmd
}

func newAuditVerifyCommand() *cobra.Command {
	var asJSON bool
	var expectHead string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check that no audit entry was edited, deleted or reordered (exit 1 if one was)",
		Long: `Walk the whole audit log in order and check each entry's hash and its link to the entry
before it, and that the log ends where its head says. Prints "audit log intact: N entries,
head <hash>" on stderr and exits 0, or prints each problem (which seq, and what is wrong
with it) and exits 1. Keep the head hash it prints somewhere else (a ticket, a log
archive) and give it to a later verify with --expect-head: someone who can write to the
database could delete the last entries and rewind the head with them, which the chain
alone cannot show, but the recorded head would then be missing.`,
		Example: `  gatehouse audit verify --config gatehouse.yaml
  gatehouse audit verify --data-dir /var/lib/gatehouse --expect-head 9f2c...e41a`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if expectHead != "" && !sha256Hex.MatchString(expectHead) {
				return fmt.Errorf("--expect-head %q: want the 64 hexadecimal digits of a head hash, as gatehouse audit verify prints it", expectHead)
			}
			ctx := contextOrBackground(cmd)
			st, err := openExistingStore(ctx, cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			r, err := audit.VerifyExpecting(ctx, st, expectHead)
			if err != nil {
				return err
			}
			if asJSON {
				if r.Problems == nil {
					r.Problems = []audit.Problem{}
				}
				b, _ := json.Marshal(r)
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
			}
			fmt.Fprintln(cmd.ErrOrStderr(), r.String())
			if !r.OK() {
				return &exitError{code: 1, err: errors.New("the audit log was tampered with"), quiet: true}
			}
			return nil
		},
	}
	server.RegisterFlags(cmd.Flags())
	cmd.Flags().StringVar(&expectHead, "expect-head", "", "a head hash an earlier verify printed: fail unless an entry still has it")
	cmd.Flags().BoolVar(&asJSON, "json", false, "also print the report as one JSON line on stdout (entries, head_seq, head_hash, problems)")
	return cmd
}

func newAuditExportCommand() *cobra.Command {
	var from, to, action, actor, output string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the audit log as JSON lines (stdout, or a file with -o)",
		Long: `Write the audit log's entries, oldest first, one JSON object per line: seq, at (RFC 3339,
UTC, milliseconds), actor, action, target, detail (an object), remote_addr, prev_hash and
hash. Each line can be checked again outside Gatehouse: hash is the SHA-256 of its fields
(see docs/server.md) and prev_hash is the hash of the entry before it.

The export itself is audited: an audit.export entry records how many entries were written
and the SHA-256 of the output, so a copy can be shown to be the one that was exported.
A file written with -o is readable by its owner only (0600) and appears only when complete.`,
		Example: `  gatehouse audit export --data-dir /var/lib/gatehouse -o audit-2026-q1.jsonl --from 2026-01-01 --to 2026-04-01
  gatehouse audit export --action connection. --actor alice@example.com`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := store.AuditFilter{Actor: actor, Action: action}
			var err error
			if f.From, err = parseWhen("--from", from); err != nil {
				return err
			}
			if f.To, err = parseWhen("--to", to); err != nil {
				return err
			}
			if f.From != nil && f.To != nil && !f.To.After(*f.From) {
				return fmt.Errorf("--to (%s) must be after --from (%s): --to is exclusive", to, from)
			}
			ctx := contextOrBackground(cmd)
			st, err := openExistingStore(ctx, cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			n, sum, err := exportTo(ctx, st, f, output, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			dest := output
			if dest == "" {
				dest = "stdout"
			}
			filter := map[string]any{"actor": actor, "action": action, "from": from, "to": to}
			err = st.InTx(ctx, func(tx *store.Tx) error {
				_, err := tx.AppendAudit(ctx, cliActor(), "audit.export", "audit", map[string]any{
					"entries": n, "sha256": sum, "output": dest, "filter": filter}, "")
				return err
			})
			if err != nil {
				return fmt.Errorf("the export was written, but recording it in the audit log failed: %w", err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "exported %d entries to %s (sha256 %s)\n", n, dest, sum)
			return nil
		},
	}
	server.RegisterFlags(cmd.Flags())
	fl := cmd.Flags()
	fl.StringVar(&from, "from", "", "only entries at or after this time (RFC 3339, or a date YYYY-MM-DD in UTC)")
	fl.StringVar(&to, "to", "", "only entries before this time (exclusive; RFC 3339 or YYYY-MM-DD)")
	fl.StringVar(&action, "action", "", `only this action (e.g. connection.create), or actions starting with a prefix that ends in "." (e.g. connection.)`)
	fl.StringVar(&actor, "actor", "", `only entries by this actor (an email, or "system")`)
	fl.StringVarP(&output, "output", "o", "", "write to this file (created 0600) instead of stdout")
	return cmd
}

// exportTo writes the export to the file output (through a temporary file renamed into
// place, so that a failed export leaves no partial file) or to stdout, and returns how
// many entries it wrote and the SHA-256 of the bytes.
func exportTo(ctx context.Context, st *store.Store, f store.AuditFilter, output string, stdout io.Writer) (int64, string, error) {
	h := sha256.New()
	if output == "" {
		n, err := audit.Export(ctx, st, io.MultiWriter(stdout, h), f)
		return n, hex.EncodeToString(h.Sum(nil)), err
	}
	dir := filepath.Dir(output)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(output)+".*")
	if err != nil {
		return 0, "", fmt.Errorf("cannot write to %s: %w", output, err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes it 0600 already; say so whatever the platform's default.
	err = tmp.Chmod(0o600)
	var n int64
	if err == nil {
		n, err = audit.Export(ctx, st, io.MultiWriter(tmp, h), f)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), output)
	}
	if err != nil {
		return 0, "", fmt.Errorf("export to %s: %w", output, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// parseWhen reads an RFC 3339 time or a YYYY-MM-DD date (midnight UTC).
func parseWhen(flag, s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			t = t.UTC()
			return &t, nil
		}
	}
	return nil, fmt.Errorf("%s %q: want an RFC 3339 time such as 2026-01-02T15:04:05Z or a date such as 2026-01-02", flag, s)
}

// cliActor names who ran a command that writes an audit entry without signing in: the
// operating system user on this host.
func cliActor() string {
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	host, _ := os.Hostname()
	if host == "" {
		host = "unknown-host"
	}
	return "cli:" + name + "@" + host
}

// openExistingStore opens the store the flags name for a command that reads an existing
// one: it refuses a data directory without a database (a typo would otherwise create an
// empty one and report on it) and a database whose migrations are not applied.
func openExistingStore(ctx context.Context, cmd *cobra.Command) (*store.Store, error) {
	cfg, err := server.Load(cmd.Flags())
	if err != nil {
		return nil, err
	}
	if cfg.DatabaseURL == "" {
		path := filepath.Join(cfg.DataDir, store.SQLiteFile)
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("no Gatehouse database at %s: give the data directory gatehouse serve uses (--data-dir or --config), or --database-url", path)
		}
	}
	st, err := store.Open(ctx, store.Config{DataDir: cfg.DataDir, DatabaseURL: cfg.DatabaseURL})
	if err != nil {
		return nil, err
	}
	pending, err := st.Pending(ctx)
	if err != nil || pending {
		st.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: cannot read its schema version: %w", st.Describe(), err)
		}
		return nil, fmt.Errorf("%s: its schema is not up to date (or it is not a Gatehouse database): run gatehouse migrate with the same flags first", st.Describe())
	}
	return st, nil
}
