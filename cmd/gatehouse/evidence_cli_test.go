package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/evidence"
	"github.com/gatehouse/gatehouse/internal/evidence/evidencetest"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// rewriteZip copies the ZIP src into a new file, with edit changing, dropping (delete) or
// adding files; the order of the original entries is kept, added ones last.
func rewriteZip(t *testing.T, src string, edit func(files map[string][]byte) []string) string {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	var order []string
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		files[f.Name] = b
		order = append(order, f.Name)
	}
	zr.Close()
	order = append(order, edit(files)...)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range order {
		if b, ok := files[name]; ok {
			w, _ := zw.Create(name)
			w.Write(b)
		}
	}
	zw.Close()
	out := filepath.Join(t.TempDir(), "tampered.zip")
	if err := os.WriteFile(out, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// gatehouse evidence export builds the pack of a period from the store (audited with its
// hash), and gatehouse evidence verify passes it and names every file tampered with,
// added or removed, exiting 1.
func TestEvidenceExportAndVerifyCLI(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			cfg := storetest.Config(t, d)
			ctx := context.Background()
			st, err := store.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			if _, err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			f := evidencetest.Seed(t, st)
			flags := []string{"--data-dir", cfg.DataDir}
			if cfg.DatabaseURL != "" {
				flags = []string{"--database-url", cfg.DatabaseURL}
			}
			out := filepath.Join(t.TempDir(), "pack.zip")
			from, to := f.From.Format(time.RFC3339Nano), f.To.Format(time.RFC3339Nano)
			stdout, stderr, code := runAudit(t, append([]string{"evidence", "export", "--from", from, "--to", to, "--account", "prod", "-o", out}, flags...)...)
			if code != 0 {
				t.Fatalf("export: %d\n%s", code, stderr)
			}
			var line struct {
				Path, PackID, SHA256 string
				Size                 int64
				AuditChainOK         bool `json:"audit_chain_ok"`
			}
			if err := json.Unmarshal([]byte(strings.ReplaceAll(stdout, `"pack_id"`, `"PackID"`)), &line); err != nil || line.Path != out ||
				len(line.SHA256) != 64 || !line.AuditChainOK {
				t.Fatalf("stdout: %q %v", stdout, err)
			}
			if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != line.Size {
				t.Fatalf("the pack: %v %v", fi, err)
			}
			if !strings.Contains(stderr, "audit log: Intact: the 2 entries of the period") {
				t.Errorf("stderr: %s", stderr)
			}
			// The scope: prod's rows only.
			zr, err := zip.OpenReader(out)
			if err != nil {
				t.Fatal(err)
			}
			rc, _ := zr.Open(evidence.FileEndGrants)
			recs, _ := csv.NewReader(rc).ReadAll()
			rc.Close()
			zr.Close()
			var grants []string
			for _, r := range recs[1:] {
				grants = append(grants, r[1])
			}
			if !slices.Equal(grants, []string{evidencetest.GrantBP}) {
				t.Errorf("end grants of prod: %v", grants)
			}
			entries, err := st.ListAudit(ctx, store.AuditFilter{Action: "evidence.export"})
			if err != nil || len(entries) != 1 || !strings.Contains(entries[0].Detail, `"sha256":"`+line.SHA256+`"`) ||
				!strings.HasPrefix(entries[0].Actor, "cli:") {
				t.Errorf("audit: %v %v", entries, err)
			}

			_, stderr, code = runAudit(t, "evidence", "verify", out, "--expect-sha256", line.SHA256)
			if code != 0 || !strings.HasPrefix(stderr, "pack intact: all ") {
				t.Errorf("verify: %d %s", code, stderr)
			}
			for _, c := range []struct {
				name string
				edit func(files map[string][]byte) []string
				want string
			}{
				{"a lease row", func(fs map[string][]byte) []string {
					fs[evidence.FileLeases] = bytes.Replace(fs[evidence.FileLeases], []byte("dave@example.com"), []byte("nobody@example.com"), 1)
					return nil
				}, "  jit/leases.csv: modified: its SHA-256 is "},
				{"an extra file", func(fs map[string][]byte) []string {
					fs["reviews/extra.csv"] = []byte("x\n")
					return []string{"reviews/extra.csv"}
				}, "  reviews/extra.csv: not in the manifest: it was added after the pack was built"},
				{"a missing file", func(fs map[string][]byte) []string {
					delete(fs, evidence.FileDecisions)
					return nil
				}, "  reviews/decisions.csv: missing: the manifest lists it ("},
			} {
				_, stderr, code := runAudit(t, "evidence", "verify", rewriteZip(t, out, c.edit))
				if code != 1 || !strings.HasPrefix(stderr, "pack TAMPERED: 1 problem(s)\n") || !strings.Contains(stderr, c.want) {
					t.Errorf("%s: exit %d\n%s", c.name, code, stderr)
				}
			}
			// --json: the report on stdout, the problem naming the file.
			stdout, _, code = runAudit(t, "evidence", "verify", "--json", rewriteZip(t, out, func(fs map[string][]byte) []string {
				fs[evidence.FileAuditLog] = append(fs[evidence.FileAuditLog], '\n')
				return nil
			}))
			var rep evidence.VerifyReport
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != 1 || len(rep.Problems) != 1 ||
				rep.Problems[0].Path != evidence.FileAuditLog || rep.Problems[0].Kind != "modified" || rep.Checked != rep.Files-1 {
				t.Errorf("--json: exit %d %q %v", code, stdout, err)
			}
			_, stderr, code = runAudit(t, "evidence", "verify", out, "--expect-sha256", strings.Repeat("0", 64))
			if code != 1 || !strings.Contains(stderr, "its SHA-256 is "+line.SHA256+", not "+strings.Repeat("0", 64)) {
				t.Errorf("--expect-sha256: %d %s", code, stderr)
			}

			for _, c := range []struct {
				args []string
				want string
			}{
				{[]string{"--from", "yesterday", "--to", to, "-o", out + ".1"}, `gatehouse: --from must be an RFC 3339 time such as 2026-01-02T15:04:05Z or a date such as 2026-01-02, got "yesterday"`},
				{[]string{"--from", "2026-03-01", "--to", "2026-02-01", "-o", out + ".1"}, "gatehouse: --from (2026-03-01T00:00:00Z) is after --to (2026-02-01T00:00:00Z): swap them"},
				{[]string{"--from", from, "--to", to, "--account", "999999999999", "-o", out + ".1"}, `gatehouse: unknown account "999999999999": no synced connection has it`},
				{[]string{"--from", from, "--to", to}, "gatehouse: -o is required: the file to write the pack to (for example -o evidence.zip)"},
			} {
				_, stderr, code := runAudit(t, append(append([]string{"evidence", "export"}, c.args...), flags...)...)
				if code != 1 || !strings.HasPrefix(stderr, c.want) {
					t.Errorf("%v: exit %d\n%s\nwant %s", c.args, code, stderr, c.want)
				}
			}
			if _, err := os.Stat(out + ".1"); !os.IsNotExist(err) {
				t.Errorf("a refused export left a file: %v", err)
			}
		})
	}
}
