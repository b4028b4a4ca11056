package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// auditStore is a migrated store with n audit entries, and the flags that name it.
func auditStore(t *testing.T, d store.Dialect, n int) (*store.Store, []string) {
	t.Helper()
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
	err = st.InTx(ctx, func(tx *store.Tx) error {
		for i := 1; i <= n; i++ {
			actor := "ann@example.com"
			if i%2 == 0 {
				actor = "system"
			}
			if _, err := tx.AppendAudit(ctx, actor, fmt.Sprintf("sync.%d", i), "connection:aws", map[string]any{"i": i}, ""); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Only the store flags: no stray GATEHOUSE_* setting of the test environment.
	if cfg.DatabaseURL != "" {
		return st, []string{"--database-url", cfg.DatabaseURL}
	}
	return st, []string{"--data-dir", cfg.DataDir}
}

// runAudit runs the real CLI and returns stdout, stderr and the exit code.
func runAudit(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	stdout, stderr, err := runGatehouse(t, args...)
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return stdout, stderr, ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return stdout, stderr, 0
}

func tamper(t *testing.T, st *store.Store, q string) {
	t.Helper()
	var err error
	if st.Dialect() == store.SQLite {
		_, err = st.SQLiteDB().ExecContext(context.Background(), q)
	} else {
		_, err = st.PGXPool().Exec(context.Background(), q)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func TestAuditVerifyCommand(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			st, flags := auditStore(t, d, 4)
			_, head, _ := st.AuditHead(context.Background())
			stdout, stderr, code := runAudit(t, append([]string{"audit", "verify"}, flags...)...)
			if code != 0 || stderr != "audit log intact: 4 entries, head "+head+"\n" || stdout != "" {
				t.Fatalf("intact: exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}

			if _, stderr, code := runAudit(t, append([]string{"audit", "verify", "--expect-head", head}, flags...)...); code != 0 {
				t.Fatalf("--expect-head of the current head: exit %d %q", code, stderr)
			}
			if _, stderr, code := runAudit(t, append([]string{"audit", "verify", "--expect-head", "abc"}, flags...)...); code != 1 || !strings.Contains(stderr, "want the 64 hexadecimal digits") {
				t.Fatalf("--expect-head abc: exit %d %q", code, stderr)
			}

			tamper(t, st, `DELETE FROM audit_log WHERE seq = 2`)
			tamper(t, st, `UPDATE audit_log SET actor = 'mallory@example.com' WHERE seq = 3`)
			stdout, stderr, code = runAudit(t, append([]string{"audit", "verify", "--json", "--expect-head", head}, flags...)...)
			if code != 1 {
				t.Fatalf("tampered: exit %d, want 1; stderr %q", code, stderr)
			}
			wantLines := []string{
				"audit log TAMPERED: 2 problem(s) in 3 entries (head: seq 4, hash " + head + ")",
				"  seq 2: deleted: the log goes from seq 1 to seq 3",
				"  seq 3: edited: its content (sync.3 by mallory@example.com at ",
			}
			for _, w := range wantLines {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr)
				}
			}
			var rep struct {
				Entries  int64
				Problems []struct {
					Seq  int64
					Kind string
				}
			}
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil || rep.Entries != 3 || len(rep.Problems) != 2 ||
				rep.Problems[0].Seq != 2 || rep.Problems[0].Kind != "deleted" || rep.Problems[1].Seq != 3 || rep.Problems[1].Kind != "edited" {
				t.Fatalf("--json: %q (%v)", stdout, err)
			}

			// The last entry deleted and the head rewound with it: only the head recorded
			// earlier shows it.
			left, _ := st.ListAudit(context.Background(), store.AuditFilter{})
			tamper(t, st, `DELETE FROM audit_log WHERE seq = 4`)
			tamper(t, st, fmt.Sprintf(`UPDATE audit_head SET seq = 3, hash = '%s' WHERE id = 1`, left[len(left)-2].Hash))
			_, stderr, code = runAudit(t, append([]string{"audit", "verify", "--expect-head", head}, flags...)...)
			if code != 1 || !strings.Contains(stderr, "  no entry has the hash "+head+" that was recorded as the head earlier") {
				t.Fatalf("rewound: exit %d, stderr %q", code, stderr)
			}
		})
	}
}

func TestAuditVerifyRefusesAMissingDatabase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "typo")
	_, stderr, code := runAudit(t, "audit", "verify", "--data-dir", dir)
	if code != 1 || !strings.Contains(stderr, "no Gatehouse database at "+filepath.Join(dir, "gatehouse.db")) {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("verify created %s", dir)
	}
}

func TestAuditExportCommand(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			st, flags := auditStore(t, d, 4)
			ctx := context.Background()

			// To stdout: every entry, one JSON object per line; the summary on stderr.
			stdout, stderr, code := runAudit(t, append([]string{"audit", "export"}, flags...)...)
			lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
			if code != 0 || len(lines) != 4 || !strings.HasPrefix(lines[0], `{"seq":1,"at":"`) || !strings.Contains(lines[0], `"actor":"ann@example.com","action":"sync.1","target":"connection:aws","detail":{"i":1},"remote_addr":"","prev_hash":"","hash":"`) {
				t.Fatalf("export: exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
			}
			sum := sha256.Sum256([]byte(stdout))
			if want := fmt.Sprintf("exported 4 entries to stdout (sha256 %s)\n", hex.EncodeToString(sum[:])); stderr != want {
				t.Fatalf("stderr %q, want %q", stderr, want)
			}

			// To a file, filtered: 0600, only the matching entries, and the export audited
			// with the SHA-256 of the file.
			out := filepath.Join(t.TempDir(), "audit.jsonl")
			_, stderr, code = runAudit(t, append([]string{"audit", "export", "--actor", "system", "--action", "sync.", "--from", "2020-01-01", "-o", out}, flags...)...)
			if code != 0 {
				t.Fatalf("export -o: exit %d: %s", code, stderr)
			}
			fi, err := os.Stat(out)
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("%s: %v %v, want mode 0600", out, fi, err)
			}
			data, _ := os.ReadFile(out)
			got := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			if len(got) != 2 || !strings.HasPrefix(got[0], `{"seq":2,`) || !strings.HasPrefix(got[1], `{"seq":4,`) {
				t.Fatalf("filtered export:\n%s", data)
			}
			fileSum := sha256.Sum256(data)
			entries, err := st.ListAudit(ctx, store.AuditFilter{Action: "audit.export"})
			if err != nil || len(entries) != 2 {
				t.Fatalf("audit.export entries: %+v %v", entries, err)
			}
			var detail struct {
				Entries int64
				SHA256  string
				Output  string
				Filter  map[string]string
			}
			if err := json.Unmarshal([]byte(entries[1].Detail), &detail); err != nil {
				t.Fatal(err)
			}
			if detail.Entries != 2 || detail.SHA256 != hex.EncodeToString(fileSum[:]) || detail.Output != out ||
				detail.Filter["actor"] != "system" || detail.Filter["action"] != "sync." || !strings.HasPrefix(entries[1].Actor, "cli:") || entries[1].Target != "audit" {
				t.Fatalf("audit.export entry: actor %s, detail %s", entries[1].Actor, entries[1].Detail)
			}

			// Bad input says what to do and writes nothing.
			bad := filepath.Join(t.TempDir(), "bad.jsonl")
			_, stderr, code = runAudit(t, append([]string{"audit", "export", "--from", "2026-04-01", "--to", "2026-01-01", "-o", bad}, flags...)...)
			if code != 1 || !strings.Contains(stderr, "--to (2026-01-01) must be after --from (2026-04-01)") {
				t.Fatalf("to before from: exit %d, %q", code, stderr)
			}
			if _, err := os.Stat(bad); !os.IsNotExist(err) {
				t.Fatalf("a refused export wrote %s", bad)
			}
			// The log, with the two export entries, still verifies.
			if _, stderr, code := runAudit(t, append([]string{"audit", "verify"}, flags...)...); code != 0 || !strings.HasPrefix(stderr, "audit log intact: 6 entries") {
				t.Fatalf("verify after exports: exit %d %q", code, stderr)
			}
		})
	}
}
