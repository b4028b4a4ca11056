package review

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Exports: the evidence an auditor takes away. Every format lists every item of the campaign
// with its decision, reviewer, reason, time, remediation and its verification; the HTML
// report adds a summary and charts and prints to PDF from a browser. The SHA-256 of the
// exact bytes returned is recorded with the export (review_exports) and in the audit log in
// one transaction, so a file can later be shown to be the one Gatehouse produced.

// The export formats.
const (
	FormatCSV  = "csv"
	FormatJSON = "json"
	FormatHTML = "html"
)

// exportPage is how many items an export reads at a time (a variable so that tests can
// make a small campaign span several pages).
var exportPage = 1000

// Export renders a campaign as csv, json or html, records the export and its SHA-256 in the
// audit log (admins and auditors).
//
// The export is streamed, never held in memory: the items are read a page at a time and
// rendered into a private temporary file (mode 0600) while the summary is counted from
// those same rows; then the head (which carries the summary and, in the report, the charts)
// is written into a second file, the rows copied after it, the end written, and everything
// hashed on the way. The summary therefore always describes exactly the rows the file holds,
// and memory stays bounded by a page whatever the size of the campaign. The caller must
// Close the Export, which removes the file.
func (s *Service) Export(ctx context.Context, c *auth.Caller, campaignID, format string) (*Export, error) {
	if !c.CanAudit() {
		return nil, Errorf(CodeForbidden, "only admins and auditors export campaigns")
	}
	format = strings.ToLower(strings.TrimSpace(format))
	if format != FormatCSV && format != FormatJSON && format != FormatHTML {
		return nil, Errorf(CodeInvalid, "format %q: want csv, json or html", format)
	}
	camp, err := s.Campaign(ctx, c, campaignID)
	if err != nil {
		return nil, err
	}
	now := s.clock().Truncate(time.Second)
	doc := exportDocument(camp, nil, c.Email, now)
	r := newRenderer(format)

	// The rows, into a scratch file, counting the summary.
	rows, err := newExportFile(s.cfg.TempDir, "gatehouse-export-rows-*")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	bw := bufio.NewWriterSize(rows, 256<<10)
	var sum ExportSummary
	for token := ""; ; {
		page, next, err := s.Items(ctx, c, campaignID, ItemQuery{Page: store.Page{Size: exportPage, Token: token}})
		if err != nil {
			return nil, err
		}
		for i := range page {
			sum.add(&page[i])
			ei := toExportItem(&page[i])
			if err := r.item(bw, &ei); err != nil {
				return nil, fmt.Errorf("render the %s export of campaign %s: %w", format, campaignID, err)
			}
		}
		if next == "" {
			break
		}
		token = next
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("write the %s export of campaign %s: %w", format, campaignID, err)
	}
	sum.finish()
	doc.Summary = sum

	// The file: head, rows, end, hashed as they are written.
	out, err := newExportFile(s.cfg.TempDir, "gatehouse-export-*")
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(out, h)}
	bw = bufio.NewWriterSize(cw, 256<<10)
	err = r.head(bw, doc)
	if err == nil {
		if _, err = rows.Seek(0, io.SeekStart); err == nil {
			_, err = io.Copy(bw, rows)
		}
	}
	if err == nil {
		err = r.tail(bw)
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		_, err = out.Seek(0, io.SeekStart)
	}
	if err != nil {
		out.Close()
		return nil, fmt.Errorf("write the %s export of campaign %s: %w", format, campaignID, err)
	}
	ex := &Export{Format: format, ContentType: r.contentType(), Content: out, Size: cw.n, SHA256: hex.EncodeToString(h.Sum(nil)),
		FileName: fmt.Sprintf("campaign-%s-%s.%s", camp.ID, now.Format("20060102-150405"), format)}
	id := newExportID()
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.InsertReviewExport(ctx, id, camp.ID, format, ex.SHA256, ex.Size, c.Email, now); err != nil {
			return err
		}
		_, err := tx.AppendAudit(ctx, c.Email, "review.export", "campaign:"+camp.ID, map[string]any{
			"export_id": id, "format": format, "sha256": ex.SHA256, "size": ex.Size, "items": sum.Items,
			"file_name": ex.FileName, "complete": sum.Complete}, c.RemoteAddr)
		return err
	})
	if err != nil {
		ex.Close()
		return nil, err
	}
	return ex, nil
}

// Close closes the export's file, which removes it.
func (e *Export) Close() error {
	if e == nil || e.Content == nil {
		return nil
	}
	return e.Content.Close()
}

// exportFile is a private temporary file that is gone once closed. It is unlinked as soon
// as it is created where the system allows it (nothing is left behind if the process dies);
// otherwise Close removes it.
type exportFile struct {
	*os.File
	name    string
	removed bool
}

func newExportFile(dir, pattern string) (*exportFile, error) {
	f, err := os.CreateTemp(dir, pattern) // mode 0600
	if err != nil {
		return nil, fmt.Errorf("create the export's temporary file (in %s): %w", cmp.Or(dir, os.TempDir()), err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("make the export's temporary file private: %w", err)
	}
	ef := &exportFile{File: f, name: f.Name()}
	ef.removed = os.Remove(ef.name) == nil
	return ef, nil
}

// Close closes the file and removes it if it was not already.
func (f *exportFile) Close() error {
	err := f.File.Close()
	if !f.removed {
		if rerr := os.Remove(f.name); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) && err == nil {
			err = rerr
		}
		f.removed = true
	}
	if errors.Is(err, os.ErrClosed) {
		return nil
	}
	return err
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// allItems reads every item of the campaign the caller may see, in order.
func (s *Service) allItems(ctx context.Context, c *auth.Caller, campaignID string) ([]Item, error) {
	var out []Item
	token := ""
	for {
		page, next, err := s.Items(ctx, c, campaignID, ItemQuery{Page: store.Page{Size: exportPage, Token: token}})
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		token = next
	}
}

// newExportID returns "exp_" and 20 random base32 characters (lower case).
func newExportID() string {
	var b [13]byte
	_, _ = rand.Read(b[:])
	return "exp_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))[:20]
}

// ExportDocument is the JSON export (and what the CSV and HTML render).
type ExportDocument struct {
	Campaign   ExportCampaign `json:"campaign"`
	ExportedAt time.Time      `json:"exported_at"`
	ExportedBy string         `json:"exported_by"`
	Summary    ExportSummary  `json:"summary"`
	Items      []ExportItem   `json:"items"`
}

// ExportCampaign is the campaign as exported.
type ExportCampaign struct {
	ID            string             `json:"id"`
	Name          string             `json:"name"`
	Description   string             `json:"description"`
	State         string             `json:"state"`
	Scope         Scope              `json:"scope"`
	Reviewers     Reviewers          `json:"reviewers"`
	Due           time.Time          `json:"due"`
	Undecided     string             `json:"undecided"`
	ConnectionID  string             `json:"connection_id"`
	CreatedBy     string             `json:"created_by"`
	CreatedAt     time.Time          `json:"created_at"`
	StartedAt     *time.Time         `json:"started_at"`
	ClosedAt      *time.Time         `json:"closed_at"`
	ClosedBy      string             `json:"closed_by"`
	SnapshotSyncs map[string]string  `json:"snapshot_syncs"`
	Previous      string             `json:"previous"`
	Progress      Progress           `json:"progress"`
	ByReviewer    []ReviewerProgress `json:"by_reviewer"`
}

// ExportSummary says whether the campaign is complete and, if not, why not.
type ExportSummary struct {
	Items    int `json:"items"`
	Decided  int `json:"decided"`
	Kept     int `json:"kept"`
	Revoked  int `json:"revoked"`
	Pending  int `json:"pending"`
	Verified int `json:"remediated"`
	// Unverified counts revokes AWS has not yet been seen without (revocation_pending) and
	// open owner tasks.
	RevocationPending int `json:"revocation_pending"`
	TaskOpen          int `json:"task_open"`
	AccessGone        int `json:"access_gone"`
	// Complete is true only when every item is decided and every revoke verified by a sync;
	// Statement says so in words, or what is missing.
	Complete  bool   `json:"complete"`
	Statement string `json:"statement"`
}

// ExportItem is one item as exported.
type ExportItem struct {
	ID           string `json:"id"`
	Seq          int    `json:"seq"`
	GrantID      string `json:"grant_id"`
	ConnectionID string `json:"connection_id"`
	AccountID    string `json:"account_id"`
	AccountName  string `json:"account_name"`
	// Application is the imported application's name ("" for AWS access).
	Application     string       `json:"application,omitempty"`
	Identity        string       `json:"identity"`
	PrincipalType   string       `json:"principal_type"`
	PrincipalID     string       `json:"principal_id"`
	PrincipalName   string       `json:"principal_name"`
	EntitlementID   string       `json:"entitlement_id"`
	EntitlementName string       `json:"entitlement_name"`
	ResourceType    string       `json:"resource_type"`
	ResourceID      string       `json:"resource_id"`
	Via             string       `json:"via"`
	ViaName         string       `json:"via_name"`
	Since           time.Time    `json:"since"`
	AdminLevel      bool         `json:"admin_level"`
	Reviewer        string       `json:"reviewer"`
	Decision        string       `json:"decision"`
	Reason          string       `json:"reason"`
	DecidedBy       string       `json:"decided_by"`
	DecidedAt       *time.Time   `json:"decided_at"`
	State           string       `json:"state"`
	Remediation     *Remediation `json:"remediation"`
	AccessGoneAt    *time.Time   `json:"access_gone_at"`
	AccessGoneSync  string       `json:"access_gone_sync"`
}

// exportDocument builds the document of camp and its items (the items may be left out:
// Export streams them and counts the summary as it goes).
func exportDocument(camp *Campaign, items []Item, by string, at time.Time) *ExportDocument {
	d := &ExportDocument{ExportedAt: at.UTC(), ExportedBy: by, Items: make([]ExportItem, 0, len(items)),
		Campaign: ExportCampaign{ID: camp.ID, Name: camp.Name, Description: camp.Description, State: string(camp.State),
			Scope: camp.Scope, Reviewers: camp.Reviewers, Due: camp.Due.UTC(), Undecided: camp.Undecided, ConnectionID: camp.ConnectionID,
			CreatedBy: camp.CreatedBy, CreatedAt: camp.CreatedAt.UTC(), StartedAt: utcPtr(camp.StartedAt), ClosedAt: utcPtr(camp.ClosedAt),
			ClosedBy: camp.ClosedBy, SnapshotSyncs: camp.SnapshotSyncs, Previous: camp.Previous, Progress: camp.Progress,
			ByReviewer: camp.ByReviewer}}
	if d.Campaign.SnapshotSyncs == nil {
		d.Campaign.SnapshotSyncs = map[string]string{}
	}
	if d.Campaign.ByReviewer == nil {
		d.Campaign.ByReviewer = []ReviewerProgress{}
	}
	for i := range items {
		d.Items = append(d.Items, toExportItem(&items[i]))
		d.Summary.add(&items[i])
	}
	d.Summary.finish()
	return d
}

func toExportItem(it *Item) ExportItem {
	return ExportItem{ID: it.ID, Seq: it.Seq, GrantID: it.GrantID, ConnectionID: it.ConnectionID,
		AccountID: it.AccountID, AccountName: it.AccountName, Application: it.Application, Identity: it.Identity, PrincipalType: it.PrincipalType,
		PrincipalID: it.PrincipalID, PrincipalName: it.PrincipalName, EntitlementID: it.EntitlementID,
		EntitlementName: it.EntitlementName, ResourceType: it.ResourceType, ResourceID: it.ResourceID, Via: it.Via,
		ViaName: it.ViaName, Since: it.Since.UTC(), AdminLevel: it.AdminLevel, Reviewer: it.Reviewer, Decision: it.Decision,
		Reason: it.Reason, DecidedBy: it.DecidedBy, DecidedAt: utcPtr(it.DecidedAt), State: string(it.State),
		Remediation: it.Remediation, AccessGoneAt: utcPtr(it.AccessGoneAt), AccessGoneSync: it.AccessGoneSync}
}

// add counts one item in the summary.
func (sm *ExportSummary) add(it *Item) {
	sm.Items++
	switch it.State {
	case ItemPending:
		sm.Pending++
	case ItemKept:
		sm.Kept++
	case ItemRevocationPending:
		sm.RevocationPending++
	case ItemRemediated:
		sm.Verified++
	case ItemTaskOpen:
		sm.TaskOpen++
	}
	if it.State != ItemPending {
		sm.Decided++
	}
	if it.Decision == DecisionRevoke && it.State != ItemPending {
		sm.Revoked++
	}
	if it.AccessGoneAt != nil {
		sm.AccessGone++
	}
}

// finish says, once every item is counted, whether the campaign is complete.
func (sm *ExportSummary) finish() {
	var missing []string
	if sm.Pending > 0 {
		missing = append(missing, fmt.Sprintf("%s without a decision", count(sm.Pending, "item")))
	}
	if sm.RevocationPending > 0 {
		missing = append(missing, fmt.Sprintf("%s not yet verified by a sync (revocation pending)", count(sm.RevocationPending, "revoke")))
	}
	if sm.TaskOpen > 0 {
		missing = append(missing, fmt.Sprintf("%s not yet verified by a sync", count(sm.TaskOpen, "open owner task")))
	}
	sm.Complete = len(missing) == 0
	if sm.Complete {
		sm.Statement = fmt.Sprintf("Complete: all %s decided (%d kept, %d revoked), and every revoke verified by a later sync.", count(sm.Items, "item"), sm.Kept, sm.Revoked)
	} else {
		sm.Statement = "NOT complete: " + strings.Join(missing, "; ") + "."
	}
}

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// csvHeader are the CSV export's columns.
var csvHeader = []string{"item_id", "seq", "account_id", "account_name", "identity", "principal_type", "principal_id",
	"principal_name", "entitlement_id", "entitlement_name", "resource_type", "resource_id", "via", "via_name", "since",
	"admin_level", "reviewer", "decision", "reason", "decided_by", "decided_at", "state", "remediation_action",
	"remediation", "remediation_state", "remediation_error", "remediation_attempts", "remediation_done_at", "task_owner",
	"task", "verified_sync", "verified_at", "access_gone_at", "access_gone_sync", "grant_id", "connection_id", "application"}

// renderer writes one format of export in three parts: the head (which may show the
// summary), the items one at a time, and the end. The items all go to one writer, which may
// differ from the head's.
type renderer interface {
	contentType() string
	head(w io.Writer, d *ExportDocument) error
	item(w io.Writer, it *ExportItem) error
	// flush writes out what item buffered; called once after the last item.
	flush() error
	tail(w io.Writer) error
}

func newRenderer(format string) renderer {
	switch format {
	case FormatJSON:
		return &jsonRenderer{}
	case FormatHTML:
		return &htmlRenderer{}
	}
	return &csvRenderer{}
}

// render writes the whole document d in memory (tests, and small exports).
func render(r renderer, d *ExportDocument) ([]byte, error) {
	var buf bytes.Buffer
	var items bytes.Buffer
	for i := range d.Items {
		if err := r.item(&items, &d.Items[i]); err != nil {
			return nil, err
		}
	}
	if err := r.flush(); err != nil {
		return nil, err
	}
	if err := r.head(&buf, d); err != nil {
		return nil, err
	}
	buf.Write(items.Bytes())
	if err := r.tail(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// exportCSV is one row per item. A cell that a spreadsheet would read as a formula (it begins
// with =, +, -, @, a tab or a carriage return: people write reasons) is prefixed with ', as
// OWASP advises against CSV injection.
func exportCSV(d *ExportDocument) ([]byte, error) { return render(&csvRenderer{}, d) }

// exportJSON is the document as indented JSON, exactly as json.MarshalIndent(d, "", "  ")
// and a newline would write it, but an item at a time.
func exportJSON(d *ExportDocument) ([]byte, error) { return render(&jsonRenderer{}, d) }

// exportHTML is the printable report.
func exportHTML(d *ExportDocument) ([]byte, error) { return render(&htmlRenderer{}, d) }

type csvRenderer struct {
	w   *csv.Writer
	row []string
}

func (*csvRenderer) contentType() string { return "text/csv; charset=utf-8" }

func (*csvRenderer) head(w io.Writer, _ *ExportDocument) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

func (c *csvRenderer) item(w io.Writer, it *ExportItem) error {
	if c.w == nil {
		c.w = csv.NewWriter(w)
		c.row = make([]string, 0, len(csvHeader))
	}
	r := it.Remediation
	if r == nil {
		r = &Remediation{}
	}
	attempts := ""
	if it.Remediation != nil {
		attempts = strconv.Itoa(r.Attempts)
	}
	row := append(c.row[:0], it.ID, strconv.Itoa(it.Seq), it.AccountID, it.AccountName, it.Identity, it.PrincipalType, it.PrincipalID,
		it.PrincipalName, it.EntitlementID, it.EntitlementName, it.ResourceType, it.ResourceID, it.Via, it.ViaName,
		timeCell(&it.Since), strconv.FormatBool(it.AdminLevel), it.Reviewer, it.Decision, it.Reason, it.DecidedBy,
		timeCell(it.DecidedAt), it.State, r.Action, r.Description, r.State, r.Error, attempts, timeCell(r.DoneAt), r.Owner,
		r.Task, r.VerifiedSync, timeCell(r.VerifiedAt), timeCell(it.AccessGoneAt), it.AccessGoneSync, it.GrantID, it.ConnectionID,
		it.Application)
	for i, v := range row {
		row[i] = safeCell(v)
	}
	c.row = row
	return c.w.Write(row)
}

func (c *csvRenderer) flush() error {
	if c.w == nil {
		return nil
	}
	c.w.Flush()
	return c.w.Error()
}

func (*csvRenderer) tail(io.Writer) error { return nil }

// jsonRenderer writes the object's fields before items with MarshalIndent, then each item
// indented as it would be inside the document.
type jsonRenderer struct{ n int }

func (*jsonRenderer) contentType() string { return "application/json" }

func (*jsonRenderer) head(w io.Writer, d *ExportDocument) error {
	b, err := json.MarshalIndent(struct {
		Campaign   ExportCampaign `json:"campaign"`
		ExportedAt time.Time      `json:"exported_at"`
		ExportedBy string         `json:"exported_by"`
		Summary    ExportSummary  `json:"summary"`
	}{d.Campaign, d.ExportedAt, d.ExportedBy, d.Summary}, "", "  ")
	if err != nil {
		return err
	}
	b = bytes.TrimSuffix(b, []byte("\n}"))
	_, err = io.WriteString(w, string(b)+",\n  \"items\": [")
	return err
}

func (j *jsonRenderer) item(w io.Writer, it *ExportItem) error {
	b, err := json.MarshalIndent(it, "    ", "  ")
	if err != nil {
		return err
	}
	sep := ",\n    "
	if j.n == 0 {
		sep = "\n    "
	}
	j.n++
	if _, err := io.WriteString(w, sep); err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

func (*jsonRenderer) flush() error { return nil }

func (j *jsonRenderer) tail(w io.Writer) error {
	end := "\n  ]\n}\n"
	if j.n == 0 {
		end = "]\n}\n"
	}
	_, err := io.WriteString(w, end)
	return err
}

func timeCell(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func safeCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// The HTML report is one self-contained page that satisfies the server's
// Content-Security-Policy (no <style>, no style="" attributes, no script): layout comes
// from HTML's own attributes and the charts are inline SVG drawn with presentation
// attributes, so it looks the same served by Gatehouse, opened from disk, or printed to PDF.

// bar is one segment of a horizontal chart.
type bar struct {
	Label      string
	N          int
	X, W       float64
	Color      string
	LegendY    int
	LegendText string
}

type chart struct {
	Title  string
	Bars   []bar
	Height int
}

// stacked lays out segments of a 600-wide bar in proportion to their counts.
func stacked(title string, total int, segs []bar) chart {
	x := 0.0
	out := chart{Title: title}
	for i, s := range segs {
		if total > 0 {
			s.W = 600 * float64(s.N) / float64(total)
		}
		s.X = x
		x += s.W
		s.LegendY = 48 + 18*i
		pct := 0.0
		if total > 0 {
			pct = 100 * float64(s.N) / float64(total)
		}
		s.LegendText = fmt.Sprintf("%s: %d (%.1f%%)", s.Label, s.N, pct)
		out.Bars = append(out.Bars, s)
	}
	out.Height = 48 + 18*len(segs) + 4
	return out
}

// reviewerRow is one reviewer's progress bar.
type reviewerRow struct {
	Reviewer                string
	Total, Decided, Pending int
	Y                       int
	W                       float64
}

type htmlReport struct {
	*ExportDocument
	Progress   chart
	Decisions  chart
	Reviewers  []reviewerRow
	RevHeight  int
	ScopeJSON  string
	ReviewJSON string
}

type htmlRenderer struct{}

func (*htmlRenderer) contentType() string { return "text/html; charset=utf-8" }

func (*htmlRenderer) item(w io.Writer, it *ExportItem) error {
	return reportTemplate.ExecuteTemplate(w, "row", it)
}

func (*htmlRenderer) flush() error { return nil }

func (*htmlRenderer) tail(w io.Writer) error { return reportTemplate.ExecuteTemplate(w, "tail", nil) }

// head is everything before the items' rows: the summary and the charts.
func (*htmlRenderer) head(w io.Writer, d *ExportDocument) error {
	sm := d.Summary
	rep := &htmlReport{ExportDocument: d,
		Progress: stacked("Progress", sm.Items, []bar{
			{Label: "kept", N: sm.Kept, Color: "#2e7d32"},
			{Label: "remediated (verified)", N: sm.Verified, Color: "#1565c0"},
			{Label: "revocation pending", N: sm.RevocationPending, Color: "#ef6c00"},
			{Label: "owner task open", N: sm.TaskOpen, Color: "#6a1b9a"},
			{Label: "pending decision", N: sm.Pending, Color: "#9e9e9e"},
		}),
		Decisions: stacked("Decisions", sm.Items, []bar{
			{Label: "keep", N: sm.Kept, Color: "#2e7d32"},
			{Label: "revoke", N: sm.Revoked, Color: "#c62828"},
			{Label: "undecided", N: sm.Pending, Color: "#9e9e9e"},
		}),
	}
	for i, r := range d.Campaign.ByReviewer {
		w := 0.0
		if r.Total > 0 {
			w = 400 * float64(r.Decided) / float64(r.Total)
		}
		rep.Reviewers = append(rep.Reviewers, reviewerRow{Reviewer: r.Reviewer, Total: r.Total, Decided: r.Decided, Pending: r.Pending, Y: 22 * i, W: w})
	}
	rep.RevHeight = 22*len(rep.Reviewers) + 4
	b, _ := json.Marshal(d.Campaign.Scope)
	rep.ScopeJSON = string(b)
	b, _ = json.Marshal(d.Campaign.Reviewers)
	rep.ReviewJSON = string(b)
	return reportTemplate.ExecuteTemplate(w, "head", rep)
}

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"t": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			return timeCell(&v)
		case *time.Time:
			return timeCell(v)
		}
		return ""
	},
	"f":     func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
	"words": func(s string) string { return strings.ReplaceAll(s, "_", " ") },
}).Parse(`{{define "chart"}}<h2>{{.Title}}</h2>
<svg xmlns="http://www.w3.org/2000/svg" width="620" height="{{.Height}}" role="img" aria-label="{{.Title}}">
<rect x="0" y="4" width="600" height="28" fill="#eeeeee" stroke="#999999"/>
{{range .Bars}}<rect x="{{f .X}}" y="4" width="{{f .W}}" height="28" fill="{{.Color}}"><title>{{.LegendText}}</title></rect>
{{end}}{{range .Bars}}<rect x="0" y="{{.LegendY}}" width="12" height="12" fill="{{.Color}}"/><text x="18" y="{{.LegendY}}" dy="11" font-family="sans-serif" font-size="12">{{.LegendText}}</text>
{{end}}</svg>
{{end}}{{define "head"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Access review: {{.Campaign.Name}}</title>
</head>
<body>
<h1>Access review: {{.Campaign.Name}}</h1>
{{with .Campaign.Description}}<p>{{.}}</p>{{end}}
<p><strong>{{.Summary.Statement}}</strong></p>
<table border="1" cellpadding="4" cellspacing="0">
<tr><th align="left">Campaign</th><td>{{.Campaign.ID}} ({{.Campaign.State}})</td></tr>
<tr><th align="left">Scope</th><td><code>{{.ScopeJSON}}</code></td></tr>
<tr><th align="left">Reviewers</th><td><code>{{.ReviewJSON}}</code></td></tr>
<tr><th align="left">Undecided at the due date</th><td>{{.Campaign.Undecided}}</td></tr>
<tr><th align="left">Created</th><td>{{t .Campaign.CreatedAt}} by {{.Campaign.CreatedBy}}</td></tr>
<tr><th align="left">Started</th><td>{{t .Campaign.StartedAt}}</td></tr>
<tr><th align="left">Due</th><td>{{t .Campaign.Due}}</td></tr>
<tr><th align="left">Closed</th><td>{{t .Campaign.ClosedAt}}{{with .Campaign.ClosedBy}} by {{.}}{{end}}</td></tr>
<tr><th align="left">Inventory frozen from</th><td>{{range $c, $s := .Campaign.SnapshotSyncs}}{{$c}}: sync {{$s}} {{end}}</td></tr>
<tr><th align="left">Previous campaign of the same scope</th><td>{{.Campaign.Previous}}</td></tr>
<tr><th align="left">Items</th><td>{{.Summary.Items}}: {{.Summary.Kept}} kept, {{.Summary.Revoked}} revoked ({{.Summary.Verified}} verified removed by a sync, {{.Summary.RevocationPending}} revocation pending, {{.Summary.TaskOpen}} owner tasks open), {{.Summary.Pending}} undecided; access already gone for {{.Summary.AccessGone}}</td></tr>
<tr><th align="left">Exported</th><td>{{t .ExportedAt}} by {{.ExportedBy}}</td></tr>
</table>
{{template "chart" .Progress}}{{template "chart" .Decisions}}
{{if .Reviewers}}<h2>Progress per reviewer</h2>
<svg xmlns="http://www.w3.org/2000/svg" width="760" height="{{.RevHeight}}" role="img" aria-label="Progress per reviewer">
{{range .Reviewers}}<rect x="0" y="{{.Y}}" width="400" height="16" fill="#eeeeee" stroke="#999999"/><rect x="0" y="{{.Y}}" width="{{f .W}}" height="16" fill="#1565c0"/><text x="410" y="{{.Y}}" dy="13" font-family="sans-serif" font-size="12">{{.Reviewer}}: {{.Decided}} of {{.Total}} decided</text>
{{end}}</svg>
{{end}}
<h2>Every item</h2>
<table border="1" cellpadding="3" cellspacing="0">
<thead><tr><th>#</th><th>Identity</th><th>Access</th><th>Account or application</th><th>Held</th><th>Since</th><th>Reviewer</th><th>Decision</th><th>Reason</th><th>Decided</th><th>State</th><th>Remediation</th><th>Verification</th></tr></thead>
<tbody>
{{end}}{{define "row"}}<tr>
<td>{{.Seq}}<br><small>{{.ID}}</small></td>
<td>{{if .Identity}}{{.Identity}}{{else}}{{.PrincipalName}}{{end}}<br><small>{{.PrincipalType}} {{.PrincipalID}}</small></td>
<td>{{if .EntitlementName}}{{.EntitlementName}}{{else}}{{.EntitlementID}}{{end}}{{if .AdminLevel}} <strong>(admin-level)</strong>{{end}}</td>
<td>{{if .Application}}{{.Application}} (application){{else}}{{.AccountName}} {{.AccountID}}{{end}}</td>
<td>{{if eq .Via "direct"}}direct{{else if .ViaName}}{{.ViaName}}{{else}}{{.Via}}{{end}}</td>
<td>{{t .Since}}</td>
<td>{{.Reviewer}}</td>
<td>{{if .Decision}}{{.Decision}}{{else}}undecided{{end}}{{with .DecidedBy}}<br><small>by {{.}}</small>{{end}}</td>
<td>{{.Reason}}</td>
<td>{{t .DecidedAt}}</td>
<td>{{words .State}}</td>
<td>{{with .Remediation}}{{.Description}}<br><small>{{words .State}}{{if .Attempts}}, {{.Attempts}} attempt(s){{end}}{{with .Error}}; last error: {{.}}{{end}}{{with .Owner}}; owner {{.}}{{end}}</small>{{end}}</td>
<td>{{with .Remediation}}{{if .VerifiedSync}}verified by sync {{.VerifiedSync}} at {{t .VerifiedAt}}{{end}}{{end}}{{if .AccessGoneAt}}{{if not .Remediation}}access gone (sync {{.AccessGoneSync}}, {{t .AccessGoneAt}}){{else if not .Remediation.VerifiedSync}}access gone (sync {{.AccessGoneSync}}, {{t .AccessGoneAt}}){{end}}{{end}}</td>
</tr>
{{end}}{{define "tail"}}</tbody>
</table>
<p><small>Generated by Gatehouse. The SHA-256 of this file is recorded in Gatehouse's audit log (action review.export).</small></p>
</body>
</html>
{{end}}`))
