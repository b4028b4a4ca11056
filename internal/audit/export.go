package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/gatehouse/gatehouse/internal/store"
)

// TimeFormat is how entry times are written: RFC 3339 in UTC with milliseconds, the
// precision the hash covers, so that an exported entry can be checked again.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// Record is one exported entry: one JSON line.
type Record struct {
	Seq        int64           `json:"seq"`
	At         string          `json:"at"`
	Actor      string          `json:"actor"`
	Action     string          `json:"action"`
	Target     string          `json:"target"`
	Detail     json.RawMessage `json:"detail"`
	RemoteAddr string          `json:"remote_addr"`
	PrevHash   string          `json:"prev_hash"`
	Hash       string          `json:"hash"`
}

// RecordOf turns an entry into its exported form. A detail that is not JSON (an edited
// entry) is exported as a JSON string rather than dropped.
func RecordOf(e store.AuditEntry) Record {
	d := json.RawMessage(e.Detail)
	if !json.Valid(d) {
		d, _ = json.Marshal(e.Detail)
	}
	return Record{Seq: e.Seq, At: e.At.UTC().Format(TimeFormat), Actor: e.Actor, Action: e.Action, Target: e.Target,
		Detail: d, RemoteAddr: e.RemoteAddr, PrevHash: e.PrevHash, Hash: e.Hash}
}

// Export writes the entries matching f, oldest first, as JSON lines to w, reading the
// log in pages. It returns how many it wrote.
func Export(ctx context.Context, st *store.Store, w io.Writer, f store.AuditFilter) (int64, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	f.Desc, f.BeforeSeq, f.Limit = false, 0, PageSize
	var n int64
	for {
		page, err := st.ListAudit(ctx, f)
		if err != nil {
			return n, fmt.Errorf("read the audit log after seq %d: %w", f.AfterSeq, err)
		}
		for _, e := range page {
			if err := enc.Encode(RecordOf(e)); err != nil {
				return n, fmt.Errorf("write the export: %w", err)
			}
			n++
			f.AfterSeq = e.Seq
		}
		if len(page) < PageSize {
			break
		}
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("write the export: %w", err)
	}
	return n, nil
}
