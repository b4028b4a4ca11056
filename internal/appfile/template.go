package appfile

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"time"
)

// templateData is the example every template carries: two people, two grants.
func templateData() *Data {
	t1 := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	t2 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	return &Data{
		Identities: []Identity{
			{UserID: "alice", Email: "alice@example.com", Name: "Alice Example", Status: "enabled", Manager: "bob", LastLogin: &t1, Type: "human"},
			{UserID: "bob", Email: "bob@example.com", Name: "Bob Example", Status: "enabled", LastLogin: &t2, Type: "human"},
		},
		Grants: []Grant{
			{ResourceType: "group", ResourceName: "Engineering", ResourceDescription: "Everyone who builds the product", Entitlement: "member", EntitlementDescription: "Can read the group's projects", UserID: "alice"},
			{ResourceType: "role", ResourceName: "Billing", ResourceDescription: "The billing console", Entitlement: "admin", EntitlementDescription: "Can change payment settings", UserID: "bob"},
		},
	}
}

// templateColumns are the template's columns: ConductorOne's, in order,
// without Type (one row per user holding an entitlement).
var templateColumns = Columns[:colKind]

// Template returns a downloadable template for format f and its file name:
// for CSV, TSV and XLSX the header (ConductorOne's column names) and two
// example rows, one per user holding an entitlement (the simplest layout:
// identities come from the same rows); for JSON and YAML the two lists with
// two example items each. Every template parses without problems.
func Template(f Format) ([]byte, string, error) {
	name := "gatehouse-application-template." + string(f)
	d := templateData()
	var rows [][]any
	if f == FormatCSV || f == FormatTSV || f == FormatXLSX {
		rows = append(rows, anyRow(templateColumns))
		for i, g := range d.Grants {
			id := d.Identities[i]
			var login any = id.LastLogin.Format("2006-01-02")
			if i == 0 {
				login = id.LastLogin.Format(time.RFC3339)
			}
			rows = append(rows, []any{id.UserID, id.Email, id.Name, id.Status, id.Manager, login, id.Type,
				g.ResourceType, g.ResourceName, g.ResourceDescription, g.Entitlement, g.EntitlementDescription})
		}
	}
	var buf bytes.Buffer
	switch f {
	case FormatCSV, FormatTSV:
		cw := csv.NewWriter(&buf)
		if f == FormatTSV {
			cw.Comma = '\t'
		}
		for _, r := range rows {
			rec := make([]string, len(r))
			for i, v := range r {
				rec[i] = fmt.Sprint(v)
			}
			cw.Write(rec)
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return nil, "", err
		}
	case FormatXLSX:
		if err := encodeXLSX(&buf, "Access", rows); err != nil {
			return nil, "", err
		}
	case FormatJSON, FormatYAML:
		if err := Encode(&buf, f, d); err != nil {
			return nil, "", err
		}
	default:
		return nil, "", fmt.Errorf("no template for format %q: use one of csv, tsv, xlsx, json, yaml", f)
	}
	return buf.Bytes(), name, nil
}
