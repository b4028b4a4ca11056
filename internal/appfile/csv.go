package appfile

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
)

// parseCSV streams a CSV (comma 0: comma, or tab when the header line has a
// tab and no comma) one record at a time. A leading UTF-8 byte-order mark
// (Excel writes one) is skipped. Row numbers are the line where a record
// starts, which is the spreadsheet row unless a quoted cell spans lines.
func parseCSV(b *builder, r io.Reader, comma rune) error {
	br := bufio.NewReaderSize(r, 64<<10)
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	if comma == 0 {
		comma = ','
		head, _ := br.Peek(br.Size())
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			head = head[:i]
		}
		if bytes.IndexByte(head, '\t') >= 0 && bytes.IndexByte(head, ',') < 0 {
			comma = '\t'
		}
	}
	cr := csv.NewReader(br)
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	l := loc{file: b.file}

	header, err := cr.Read()
	if err == io.EOF {
		b.add(l.problem(1, "", "the file is empty: row 1 must be the header (for example "+quoteList(Columns[:colKind])+")"))
		return nil
	}
	if err != nil {
		return csvError(b, l, err)
	}
	t, probs := b.cols.resolveHeader(header, l)
	for _, p := range probs {
		b.add(p)
	}
	m, ok := b.startTable(l, t, modeAuto)
	if !ok || len(probs) > 0 {
		return nil
	}
	var rec record
	for {
		cells, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if e := csvError(b, l, err); e != nil {
				return e
			}
			if b.stopped {
				return errStop
			}
			continue
		}
		line, _ := cr.FieldPos(0)
		t.fill(&rec, cells)
		if err := b.row(l, line, 0, m, &rec); err != nil {
			return err
		}
	}
}

// csvError turns a syntax error into a problem at its line; other errors
// (the reader failed) are returned. After a syntax error in a quoted cell
// the CSV reader cannot find the next row reliably, so reading stops.
func csvError(b *builder, l loc, err error) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return err
	}
	msg := pe.Err.Error()
	switch {
	case errors.Is(pe.Err, csv.ErrQuote), errors.Is(pe.Err, csv.ErrBareQuote):
		msg = fmt.Sprintf("bad quoting at column %d of line %d (%v): put a cell that holds a quote in double quotes and double the quote inside (\"\"), and close every quoted cell", pe.Column, pe.Line, pe.Err)
	}
	b.add(l.problem(pe.StartLine, "", msg))
	return errStop
}
