package appfile

import (
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"
)

// parseXLSX reads a workbook. The archive is opened whole (a ZIP keeps its
// directory at its end), then each sheet is streamed row by row with
// excelize's Rows iterator, reading raw cell values (so a date cell is its
// Excel date number, which Last Login accepts). sheet names the one sheet to
// read; empty: the sheets named "identities" and "grants" (any case and
// spacing) when both exist, else the first sheet.
func parseXLSX(b *builder, r io.Reader, sheet string) error {
	f, err := excelize.OpenReader(r)
	if err != nil {
		b.add(Problem{File: b.file, Message: fmt.Sprintf("not a readable XLSX workbook (%v): save the file from Excel or another spreadsheet as .xlsx (Excel Workbook)", err)})
		return nil
	}
	defer f.Close()
	b.xlsx = true
	if props, err := f.GetWorkbookProps(); err == nil && props.Date1904 != nil {
		b.date1904 = *props.Date1904
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		b.add(Problem{File: b.file, Message: "the workbook has no sheet: put the header in row 1 of the first sheet"})
		return nil
	}
	if sheet != "" {
		for _, s := range sheets {
			if normaliseHeader(s) == normaliseHeader(sheet) {
				return readSheet(b, f, s, modeAuto)
			}
		}
		b.add(Problem{File: b.file, Message: fmt.Sprintf("the workbook has no sheet %q; its sheets are %s: name one of them in the import's sheet, or leave it empty", sheet, quoteList(sheets))})
		return nil
	}
	var ids, grants string
	for _, s := range sheets {
		switch normaliseHeader(s) {
		case partIdentities:
			ids = s
		case partGrants:
			grants = s
		}
	}
	if ids != "" && grants != "" {
		if err := readSheet(b, f, ids, modeIdentities); err != nil {
			return err
		}
		b.checkIDs = true
		return readSheet(b, f, grants, modeGrants)
	}
	return readSheet(b, f, sheets[0], modeAuto)
}

// readSheet streams one sheet's rows; row 1 is the header. Problems and
// rows name the sheet (Part): people see sheet names in Excel.
func readSheet(b *builder, f *excelize.File, sheet string, m mode) error {
	l := loc{file: b.file, part: sheet}
	rows, err := f.Rows(sheet)
	if err != nil {
		b.add(l.problem(0, "", fmt.Sprintf("cannot read the sheet (%v): save the workbook again from a spreadsheet program", err)))
		return nil
	}
	defer rows.Close()
	raw := excelize.Options{RawCellValue: true}
	var t *table
	var rec record
	n := 0
	for rows.Next() {
		n++
		cells, err := rows.Columns(raw)
		if err != nil {
			b.add(l.problem(n, "", fmt.Sprintf("cannot read the row (%v): save the workbook again from a spreadsheet program", err)))
			return nil
		}
		if t == nil { // row 1: the header
			var probs []Problem
			t, probs = b.cols.resolveHeader(cells, l)
			for _, p := range probs {
				b.add(p)
			}
			var ok bool
			if m, ok = b.startTable(l, t, m); !ok || len(probs) > 0 {
				return nil
			}
			continue
		}
		t.fill(&rec, cells)
		if err := b.row(l, n, 0, m, &rec); err != nil {
			return err
		}
	}
	if err := rows.Error(); err != nil {
		b.add(l.problem(n, "", fmt.Sprintf("cannot read the sheet after row %d (%v): save the workbook again from a spreadsheet program", n, err)))
		return nil
	}
	if t == nil {
		b.add(l.problem(1, "", "the sheet is empty: row 1 must be the header (for example "+quoteList(Columns[:colKind])+")"))
	}
	return nil
}
