package evidence_test

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/evidence"
	"github.com/gatehouse/gatehouse/internal/evidence/evidencetest"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// Rewrite copies the pack at src to a new ZIP, letting edit change, drop (nil) or add
// files, and returns its path.
func Rewrite(t *testing.T, src string, edit func(files map[string][]byte, order *[]string)) string {
	t.Helper()
	p := readPack(t, src)
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, f := range zr.File {
		order = append(order, f.Name)
	}
	zr.Close()
	files := map[string][]byte(p)
	edit(files, &order)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range order {
		b, ok := files[name]
		if !ok {
			continue
		}
		w, _ := zw.Create(name)
		w.Write(b)
	}
	zw.Close()
	out := filepath.Join(t.TempDir(), "tampered.zip")
	if err := os.WriteFile(out, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// Changing, removing or adding any file is reported naming the file; a copy made
// unchanged verifies.
func TestVerifyDetectsTampering(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	f := evidencetest.Seed(t, st)
	_, built := build(t, st, f, nil, nil, nil)

	same := Rewrite(t, built.Path, func(map[string][]byte, *[]string) {})
	if rep, err := evidence.VerifyFile(same); err != nil || !rep.OK() {
		t.Fatalf("an unchanged copy: %+v %v", rep, err)
	}
	for _, c := range []struct {
		name string
		edit func(files map[string][]byte, order *[]string)
		want []string
	}{
		{"one lease row changed", func(fs map[string][]byte, _ *[]string) {
			fs[evidence.FileLeases] = bytes.Replace(fs[evidence.FileLeases], []byte("dave@example.com"), []byte("erin@example.com"), 1)
		}, []string{"jit/leases.csv: modified: its SHA-256 is "}},
		{"summary edited", func(fs map[string][]byte, _ *[]string) {
			fs[evidence.FileSummaryHTML] = bytes.Replace(fs[evidence.FileSummaryHTML], []byte("Intact"), []byte("intact"), 1)
		}, []string{"summary.html: modified: "}},
		{"a file removed", func(fs map[string][]byte, _ *[]string) {
			delete(fs, evidence.FileAuditLog)
		}, []string{"audit/audit_log.jsonl: missing: the manifest lists it ("}},
		{"a file added", func(fs map[string][]byte, order *[]string) {
			fs["jit/extra_approval.csv"] = []byte("request_id\nreq-9\n")
			*order = append(*order, "jit/extra_approval.csv")
		}, []string{"jit/extra_approval.csv: not in the manifest: it was added after the pack was built"}},
		{"manifest removed", func(fs map[string][]byte, _ *[]string) {
			delete(fs, evidence.ManifestName)
		}, []string{"manifest.json: missing: the pack has no manifest, so none of its files can be checked"}},
		{"two files changed", func(fs map[string][]byte, _ *[]string) {
			fs[evidence.FileDecisions] = append(fs[evidence.FileDecisions], "x\n"...)
			fs[evidence.FileStartGrants] = fs[evidence.FileStartGrants][:len(fs[evidence.FileStartGrants])-5]
		}, []string{"inventory/start_grants.csv: modified: ", "reviews/decisions.csv: modified: "}},
	} {
		rep, err := evidence.VerifyFile(Rewrite(t, built.Path, c.edit))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if rep.OK() || len(rep.Problems) != len(c.want) {
			t.Errorf("%s: %+v, want %d problems", c.name, rep.Problems, len(c.want))
			continue
		}
		for i, w := range c.want {
			if !strings.HasPrefix(rep.Problems[i].Message, w) {
				t.Errorf("%s: problem %q, want it to start with %q", c.name, rep.Problems[i].Message, w)
			}
		}
	}
}
