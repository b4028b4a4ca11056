package evidence

import (
	"archive/zip"
	"bufio"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"time"
)

// The ZIP: every file is streamed into its entry (never held in memory) through a hash
// and a counter, so that the manifest written last lists each file's SHA-256 and size as
// the ZIP holds them.

// ManifestName is the manifest's path in the pack.
const ManifestName = "manifest.json"

// Format names the layout of a pack (manifest.json "format").
const Format = "gatehouse-evidence-pack/1"

// Manifest is manifest.json: the pack and every other file in it.
type Manifest struct {
	Format      string         `json:"format"`
	PackID      string         `json:"pack_id"`
	GeneratedAt string         `json:"generated_at"`
	GeneratedBy string         `json:"generated_by"`
	From        string         `json:"from"`
	To          string         `json:"to"`
	Files       []ManifestFile `json:"files"`
}

// ManifestFile is one file of the pack.
type ManifestFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	// Rows is how many records a CSV or JSON-lines file holds (its header not counted),
	// or a JSON file's list; absent for a document (summary.json, chain_check.json).
	Rows *int `json:"rows,omitempty"`
}

// packWriter writes the pack's entries one after the other.
type packWriter struct {
	zw    *zip.Writer
	mtime time.Time
	files []ManifestFile
}

func newPackWriter(w io.Writer, mtime time.Time) *packWriter {
	return &packWriter{zw: zip.NewWriter(w), mtime: mtime}
}

// entry is the file being written.
type entry struct {
	h    hash.Hash
	n    int64
	bw   *bufio.Writer
	rows int
	// tabular says the file is a list of records (rows counts them).
	tabular bool
}

func (e *entry) Write(b []byte) (int, error) { return e.bw.Write(b) }

type hashCounter struct {
	w io.Writer
	h hash.Hash
	n *int64
}

func (c hashCounter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.h.Write(b[:n])
	*c.n += int64(n)
	return n, err
}

// file writes the entry name with fn and records it in the manifest.
func (p *packWriter) file(name string, fn func(e *entry) error) error {
	zf, err := p.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: p.mtime})
	if err != nil {
		return fmt.Errorf("pack file %s: %w", name, err)
	}
	e := &entry{h: sha256.New()}
	e.bw = bufio.NewWriterSize(hashCounter{w: zf, h: e.h, n: &e.n}, 64<<10)
	if err := fn(e); err != nil {
		return fmt.Errorf("pack file %s: %w", name, err)
	}
	if err := e.bw.Flush(); err != nil {
		return fmt.Errorf("pack file %s: %w", name, err)
	}
	mf := ManifestFile{Path: name, SHA256: hex.EncodeToString(e.h.Sum(nil)), Size: e.n}
	if e.tabular {
		mf.Rows = &e.rows
	}
	p.files = append(p.files, mf)
	return nil
}

// finish writes the manifest and closes the ZIP.
func (p *packWriter) finish(m Manifest) error {
	m.Format, m.Files = Format, p.files
	zf, err := p.zw.CreateHeader(&zip.FileHeader{Name: ManifestName, Method: zip.Deflate, Modified: p.mtime})
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	if _, err := zf.Write(append(b, '\n')); err != nil {
		return err
	}
	return p.zw.Close()
}

// csvFile is a CSV entry: a header, then rows.
type csvFile struct {
	e *entry
	w *csv.Writer
}

func newCSV(e *entry, header ...string) (*csvFile, error) {
	e.tabular = true
	c := &csvFile{e: e, w: csv.NewWriter(e)}
	return c, c.w.Write(header)
}

// row writes one record. A cell a spreadsheet would run as a formula (it begins with =,
// +, -, @, a tab or a carriage return, and is not a plain number) is prefixed with '.
func (c *csvFile) row(cells ...string) error {
	for i, s := range cells {
		if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
			if _, err := strconv.ParseFloat(s, 64); err != nil {
				cells[i] = "'" + s
			}
		}
	}
	c.e.rows++
	return c.w.Write(cells)
}

func (c *csvFile) flush() error {
	c.w.Flush()
	return c.w.Error()
}

// jsonList writes a JSON document {"<key>": [ ... ]} one element at a time.
type jsonList struct {
	e     *entry
	n     int
	enc   *json.Encoder
	close string
}

func newJSONList(e *entry, head map[string]any, key string) (*jsonList, error) {
	e.tabular = true
	// The head's fields first (sorted, as json.Marshal writes maps), then the list.
	b, err := json.Marshal(head)
	if err != nil {
		return nil, err
	}
	open := string(b[:len(b)-1])
	if len(head) > 0 {
		open += ","
	}
	open += strconv.Quote(key) + ":[\n"
	if _, err := io.WriteString(e, open); err != nil {
		return nil, err
	}
	enc := json.NewEncoder(e)
	enc.SetEscapeHTML(false)
	return &jsonList{e: e, enc: enc, close: "]}\n"}, nil
}

func (j *jsonList) add(v any) error {
	if j.n > 0 {
		if _, err := io.WriteString(j.e, ","); err != nil {
			return err
		}
	}
	j.n++
	j.e.rows++
	return j.enc.Encode(v) // one element per line
}

func (j *jsonList) end() error {
	_, err := io.WriteString(j.e, j.close)
	return err
}

// writeJSON writes v as one indented JSON document.
func writeJSON(e *entry, v any) error {
	enc := json.NewEncoder(e)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// ts formats a time for the pack: RFC 3339 in UTC with milliseconds; "" for none.
func ts(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

func tsv(t time.Time) string { return ts(&t) }

func boolText(b bool) string { return strconv.FormatBool(b) }
