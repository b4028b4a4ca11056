package appimport

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/gatehouse/gatehouse/internal/appfile"
	"github.com/gatehouse/gatehouse/internal/store"
)

// ParseFiles is the ParseFunc of the server: every file of the import parsed with
// internal/appfile (its format, the import's column mapping and sheet), then merged and
// validated across files (appfile.Merge, even for one file: a file of grants alone is
// checked there).
func ParseFiles(ctx context.Context, im store.AppImport, files []File) (*Parsed, error) {
	var parts []*appfile.Data
	var problems []appfile.Problem
	for _, f := range files {
		format := appfile.Format(im.Format)
		if len(files) > 1 {
			// Identities and grants apart may be in different formats: each file's own
			// name says which, the import's format otherwise.
			if d, err := appfile.DetectFormat(f.Key); err == nil {
				format = d
			}
		}
		r, err := os.Open(f.Path)
		if err != nil {
			return nil, err
		}
		d, ps, err := appfile.Parse(ctx, f.Key, r, appfile.Options{Format: format, Mapping: appfile.Mapping(im.Mapping), Sheet: im.Sheet})
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", f.Key, err)
		}
		problems = append(problems, ps...)
		parts = append(parts, d)
	}
	out := &Parsed{}
	if len(problems) == 0 {
		data, ps := appfile.Merge(parts...)
		problems = ps
		if len(ps) == 0 && data != nil {
			out.Data = datasetOf(data)
			if len(data.NearDuplicates) > 0 {
				raw, err := json.Marshal(nearDuplicatesJSON(data.NearDuplicates))
				if err != nil {
					return nil, err
				}
				out.NearDuplicates = raw
			}
		}
	}
	for _, p := range problems {
		out.Problems = append(out.Problems, store.AppProblem{File: p.File, Row: p.Row, Column: p.Column, Message: p.Message, Part: p.Part})
	}
	if len(out.Problems) > 0 {
		out.Data = nil
	} else if out.Data == nil {
		return nil, fmt.Errorf("appfile returned neither data nor problems for %s", im.ID)
	}
	return out, nil
}

func datasetOf(d *appfile.Data) *Dataset {
	out := &Dataset{Users: make([]User, 0, len(d.Identities)), Grants: make([]Grant, 0, len(d.Grants))}
	for _, u := range d.Identities {
		out.Users = append(out.Users, User{ID: u.UserID, Email: u.Email, Name: u.Name, Status: u.Status, Manager: u.Manager,
			Type: u.Type, LastLogin: u.LastLogin})
	}
	for _, g := range d.Grants {
		out.Grants = append(out.Grants, Grant{ResourceType: g.ResourceType, ResourceName: g.ResourceName,
			ResourceDescription: g.ResourceDescription, Entitlement: g.Entitlement, EntitlementDescription: g.EntitlementDescription,
			UserID: g.UserID})
	}
	return out
}

// nearDuplicate is a near-duplicate spelling as runs keep it.
type nearDuplicate struct {
	Keys      []string `json:"keys"`
	Spellings []string `json:"spellings"`
	Rows      []string `json:"rows"`
}

func nearDuplicatesJSON(ns []appfile.NearDuplicate) []nearDuplicate {
	out := make([]nearDuplicate, len(ns))
	for i, n := range ns {
		keys := n.Keys
		if len(keys) == 0 {
			keys = []string{n.Key, n.Other}
		}
		out[i] = nearDuplicate{Keys: keys, Spellings: n.Spellings, Rows: n.Rows}
	}
	return out
}
