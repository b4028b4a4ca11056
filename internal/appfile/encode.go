package appfile

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/xuri/excelize/v2"
	"gopkg.in/yaml.v3"
)

// Encode writes d in format f so that Parse reads back the same Data (less
// File, Row, Part and Line). CSV, TSV and XLSX get one table with a Type
// column: the user rows, then the grant rows (XLSX: one sheet "Access",
// Last Login as an Excel date cell). JSON and YAML get the two lists with
// snake_case keys; empty values are left out. Used for the templates and to
// export an application's imported access.
func Encode(w io.Writer, f Format, d *Data) error {
	switch f {
	case FormatCSV, FormatTSV:
		cw := csv.NewWriter(w)
		if f == FormatTSV {
			cw.Comma = '\t'
		}
		for _, row := range tableRows(d, func(t *time.Time) any { return t.UTC().Format(time.RFC3339Nano) }) {
			rec := make([]string, len(row))
			for i, v := range row {
				if v != nil {
					rec[i] = fmt.Sprint(v)
				}
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	case FormatXLSX:
		return encodeXLSX(w, "Access", tableRows(d, func(t *time.Time) any { return t.UTC() }))
	case FormatJSON:
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return e.Encode(listsOf(d))
	case FormatYAML:
		e := yaml.NewEncoder(w)
		e.SetIndent(2)
		if err := e.Encode(listsOf(d)); err != nil {
			return err
		}
		return e.Close()
	}
	return fmt.Errorf("cannot write format %q: use one of csv, tsv, xlsx, json, yaml", f)
}

// tableHeader is the header Encode writes: Type, then the columns in template order.
var tableHeader = append([]string{Columns[colKind]}, Columns[:colKind]...)

// tableRows renders d as the rows of one table with a Type column.
func tableRows(d *Data, date func(*time.Time) any) [][]any {
	rows := [][]any{anyRow(tableHeader)}
	for _, id := range d.Identities {
		r := make([]any, len(tableHeader))
		r[0] = "user"
		set := func(c col, v any) { r[c+1] = v }
		set(colUserID, id.UserID)
		set(colEmail, id.Email)
		set(colName, id.Name)
		set(colStatus, id.Status)
		set(colManager, id.Manager)
		if id.LastLogin != nil {
			set(colLastLogin, date(id.LastLogin))
		}
		set(colUserType, id.Type)
		rows = append(rows, r)
	}
	for _, g := range d.Grants {
		r := make([]any, len(tableHeader))
		r[0] = "grant"
		set := func(c col, v any) { r[c+1] = v }
		set(colUserID, g.UserID)
		set(colResourceType, g.ResourceType)
		set(colResourceName, g.ResourceName)
		set(colResourceDescription, g.ResourceDescription)
		set(colEntitlement, g.Entitlement)
		set(colEntitlementDescription, g.EntitlementDescription)
		rows = append(rows, r)
	}
	return rows
}

func anyRow(ss []string) []any {
	r := make([]any, len(ss))
	for i, s := range ss {
		r[i] = s
	}
	return r
}

// encodeXLSX writes sheets (name, rows; row 1 the header) with excelize's
// stream writer; time.Time cells get a date-and-time format.
func encodeXLSX(w io.Writer, sheetAndRows ...any) error {
	f := excelize.NewFile()
	defer f.Close()
	dateStyle, err := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("yyyy-mm-dd hh:mm:ss")})
	if err != nil {
		return err
	}
	for i := 0; i+1 < len(sheetAndRows); i += 2 {
		name, rows := sheetAndRows[i].(string), sheetAndRows[i+1].([][]any)
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(name); err != nil {
			return err
		}
		sw, err := f.NewStreamWriter(name)
		if err != nil {
			return err
		}
		for n, row := range rows {
			cells := make([]any, len(row))
			for j, v := range row {
				switch v := v.(type) {
				case time.Time:
					cells[j] = excelize.Cell{StyleID: dateStyle, Value: v}
				case string:
					if v != "" {
						cells[j] = v
					}
				default:
					cells[j] = v
				}
			}
			cell, _ := excelize.CoordinatesToCellName(1, n+1)
			if err := sw.SetRow(cell, cells); err != nil {
				return err
			}
		}
		if err := sw.Flush(); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}

func ptr[T any](v T) *T { return &v }

// The JSON and YAML shapes, in column order.
type listFile struct {
	Identities []identityItem `json:"identities" yaml:"identities"`
	Grants     []grantItem    `json:"grants" yaml:"grants"`
}

type identityItem struct {
	UserID    string `json:"user_id" yaml:"user_id"`
	Email     string `json:"email_address,omitempty" yaml:"email_address,omitempty"`
	Name      string `json:"full_name,omitempty" yaml:"full_name,omitempty"`
	Status    string `json:"user_status,omitempty" yaml:"user_status,omitempty"`
	Manager   string `json:"manager,omitempty" yaml:"manager,omitempty"`
	LastLogin string `json:"last_login,omitempty" yaml:"last_login,omitempty"`
	Type      string `json:"user_type,omitempty" yaml:"user_type,omitempty"`
}

type grantItem struct {
	ResourceType           string `json:"resource_type" yaml:"resource_type"`
	ResourceName           string `json:"resource_name" yaml:"resource_name"`
	ResourceDescription    string `json:"resource_description,omitempty" yaml:"resource_description,omitempty"`
	Entitlement            string `json:"entitlement" yaml:"entitlement"`
	EntitlementDescription string `json:"entitlement_description,omitempty" yaml:"entitlement_description,omitempty"`
	UserID                 string `json:"user_id" yaml:"user_id"`
}

func listsOf(d *Data) listFile {
	l := listFile{Identities: []identityItem{}, Grants: []grantItem{}}
	for _, id := range d.Identities {
		it := identityItem{UserID: id.UserID, Email: id.Email, Name: id.Name, Status: id.Status, Manager: id.Manager, Type: id.Type}
		if id.LastLogin != nil {
			it.LastLogin = id.LastLogin.UTC().Format(time.RFC3339Nano)
		}
		l.Identities = append(l.Identities, it)
	}
	for _, g := range d.Grants {
		l.Grants = append(l.Grants, grantItem{ResourceType: g.ResourceType, ResourceName: g.ResourceName, ResourceDescription: g.ResourceDescription,
			Entitlement: g.Entitlement, EntitlementDescription: g.EntitlementDescription, UserID: g.UserID})
	}
	return l
}
