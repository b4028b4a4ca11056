package access

import (
	"bytes"

	"gopkg.in/yaml.v3"
)

// The file shapes Export writes; field names and order are the ones ParseRules reads.
type fileRules struct {
	Rules []fileRule `yaml:"rules"`
}

type fileRule struct {
	Name           string         `yaml:"name"`
	Description    string         `yaml:"description,omitempty"`
	Match          fileMatch      `yaml:"match"`
	Requesters     fileRequesters `yaml:"requesters"`
	Duration       fileDuration   `yaml:"duration"`
	ReasonRequired bool           `yaml:"reason_required"`
	ApprovalPolicy string         `yaml:"approval_policy"`
	BreakGlass     bool           `yaml:"break_glass,omitempty"`
	EndSessions    bool           `yaml:"end_sessions,omitempty"`
}

type fileMatch struct {
	Application    string   `yaml:"application"`
	ResourceTypes  []string `yaml:"resource_types,flow"`
	Accounts       []string `yaml:"accounts,omitempty,flow"`
	OUs            []string `yaml:"ous,omitempty,flow"`
	PermissionSets []string `yaml:"permission_sets,omitempty,flow"`
	Groups         []string `yaml:"groups,omitempty,flow"`
	Entitlements   []string `yaml:"entitlements,omitempty,flow"`
}

type fileRequesters struct {
	Everyone bool     `yaml:"everyone,omitempty"`
	Groups   []string `yaml:"groups,omitempty,flow"`
	People   []string `yaml:"people,omitempty,flow"`
}

type fileDuration struct {
	Default string `yaml:"default"`
	Max     string `yaml:"max"`
}

// MarshalYAML writes the rule set in the file format ParseRules reads, every default spelled
// out, so an exported file says exactly what applies.
func (rs *RuleSet) MarshalYAML() (any, error) {
	out := fileRules{Rules: []fileRule{}}
	for _, r := range rs.Rules {
		types := make([]string, 0, len(r.Match.types()))
		for _, t := range r.Match.types() {
			types = append(types, string(t))
		}
		out.Rules = append(out.Rules, fileRule{
			Name:        r.Name,
			Description: r.Description,
			Match: fileMatch{
				Application:    r.Match.application(),
				ResourceTypes:  types,
				Accounts:       r.Match.Accounts,
				OUs:            r.Match.OUs,
				PermissionSets: r.Match.PermissionSets,
				Groups:         r.Match.Groups,
				Entitlements:   r.Match.Entitlements,
			},
			Requesters: fileRequesters{
				Everyone: r.Requesters.Everyone,
				Groups:   r.Requesters.Groups,
				People:   r.Requesters.People,
			},
			Duration:       fileDuration{Default: FormatDuration(r.Duration.Default), Max: FormatDuration(r.Duration.Max)},
			ReasonRequired: r.ReasonRequired,
			ApprovalPolicy: r.ApprovalPolicy,
			BreakGlass:     r.BreakGlass,
			EndSessions:    r.EndSessions,
		})
	}
	return out, nil
}

// Export returns the rule set as a YAML rules file.
func (rs *RuleSet) Export() ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(rs); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
