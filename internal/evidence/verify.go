package evidence

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
)

// VerifyReport is what Verify found in a pack.
type VerifyReport struct {
	// Pack is the SHA-256 of the whole ZIP (what the audit log records with the pack).
	PackSHA256 string `json:"pack_sha256"`
	PackID     string `json:"pack_id"`
	// Files is how many files the manifest lists; Checked how many of them matched.
	Files   int `json:"files"`
	Checked int `json:"checked"`
	// Problems name each file that does not match the manifest, in path order.
	Problems []FileProblem `json:"problems"`
}

// FileProblem is one file that does not match the manifest.
type FileProblem struct {
	Path    string `json:"path"`
	Kind    string `json:"kind"` // modified, missing, extra, duplicate, unreadable, manifest
	Message string `json:"message"`
}

// OK says whether every file matches the manifest and the manifest covers every file.
func (r *VerifyReport) OK() bool { return len(r.Problems) == 0 }

// VerifyFile checks the pack at path: the manifest must be there and valid JSON, every
// file it lists must be in the ZIP with that SHA-256 and size, and every file in the ZIP
// must be listed (a file added after the build is reported as much as one changed).
func VerifyFile(path string) (*VerifyReport, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	zr, err := zip.NewReader(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s is not a ZIP evidence pack: %w", path, err)
	}
	rep := Verify(zr)
	rep.PackSHA256 = hex.EncodeToString(h.Sum(nil))
	return rep, nil
}

// Verify checks an open pack (see VerifyFile).
func Verify(zr *zip.Reader) *VerifyReport {
	rep := &VerifyReport{Problems: []FileProblem{}}
	entries := map[string][]*zip.File{}
	for _, zf := range zr.File {
		entries[zf.Name] = append(entries[zf.Name], zf)
	}
	problem := func(path, kind, format string, args ...any) {
		rep.Problems = append(rep.Problems, FileProblem{Path: path, Kind: kind, Message: path + ": " + fmt.Sprintf(format, args...)})
	}
	mf := entries[ManifestName]
	if len(mf) == 0 {
		problem(ManifestName, "manifest", "missing: the pack has no manifest, so none of its files can be checked")
		return rep
	}
	if len(mf) > 1 {
		problem(ManifestName, "duplicate", "the pack holds %d files of this name: one was added after the build", len(mf))
	}
	var m Manifest
	rc, err := mf[0].Open()
	if err == nil {
		err = json.NewDecoder(rc).Decode(&m)
		rc.Close()
	}
	if err != nil {
		problem(ManifestName, "manifest", "not a valid manifest (%v): it was damaged or replaced", err)
		return rep
	}
	rep.PackID, rep.Files = m.PackID, len(m.Files)
	listed := map[string]bool{ManifestName: true}
	for _, want := range m.Files {
		listed[want.Path] = true
		zfs := entries[want.Path]
		if len(zfs) == 0 {
			problem(want.Path, "missing", "missing: the manifest lists it (%d bytes, sha256 %s) but the pack does not hold it", want.Size, want.SHA256)
			continue
		}
		if len(zfs) > 1 {
			problem(want.Path, "duplicate", "the pack holds %d files of this name: one was added after the build", len(zfs))
			continue
		}
		sum, n, err := hashEntry(zfs[0])
		if err != nil {
			problem(want.Path, "unreadable", "cannot be read (%v): the pack is damaged", err)
			continue
		}
		if sum != want.SHA256 || n != want.Size {
			problem(want.Path, "modified", "modified: its SHA-256 is %s (%d bytes), the manifest says %s (%d bytes)", sum, n, want.SHA256, want.Size)
			continue
		}
		rep.Checked++
	}
	var extra []string
	for name := range entries {
		if !listed[name] {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	for _, name := range extra {
		problem(name, "extra", "not in the manifest: it was added after the pack was built")
	}
	sort.SliceStable(rep.Problems, func(i, j int) bool { return rep.Problems[i].Path < rep.Problems[j].Path })
	return rep
}

func hashEntry(zf *zip.File) (string, int64, error) {
	rc, err := zf.Open()
	if err != nil {
		return "", 0, err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return "", n, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
