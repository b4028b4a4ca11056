package evidence

import (
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Control is one control of a framework and the files of the pack that support it.
type Control struct {
	Framework string `json:"framework"`
	ID        string `json:"id"`
	Title     string `json:"title"`
	// Why says what the files show for the control.
	Why   string        `json:"why"`
	Files []ControlFile `json:"files"`
}

// ControlFile is one supporting file with its row count (absent for a document).
type ControlFile struct {
	Path string `json:"path"`
	Rows *int   `json:"rows,omitempty"`
}

// controlMap is the mapping of SOC 2 (2017 Trust Services Criteria, CC6.1 to CC6.3) and
// ISO/IEC 27001:2022 Annex A (5.15 to 5.18, 8.2) to the files of a pack. Each control
// lists the files that hold its evidence; a file the pack lacks (findings, before this
// build computes them) is left out of the control rather than named.
var controlMap = []struct {
	framework, id, title, why string
	files                     []string
}{
	{"SOC 2", "CC6.1", "Logical access security software, infrastructure and architectures",
		"What access existed at the start and end of the period, who holds it and through what; IAM hygiene findings; the integrity of the record.",
		[]string{FileStartResources, FileStartGrants, FileEndResources, FileEndGrants, FileFindings, FileFindingEvents, FileAuditChain}},
	{"SOC 2", "CC6.2", "Registration and authorization of users before access is granted; removal when no longer authorized",
		"Every access granted during the period with its request, approver and time, every grant and identity added or removed, and the removals decided in reviews.",
		[]string{FileRequests, FileApprovals, FileGrantChanges, FileResourceChanges, FileSyncs, FileDecisions, FileAuditLog}},
	{"SOC 2", "CC6.3", "Access authorized, modified or removed based on roles and least privilege; periodic review",
		"Time-bound access with its end and the revoke's confirmation, periodic access reviews with each decision and the sync that verified each removal.",
		[]string{FileLeases, FileApprovals, FileCampaigns, FileDecisions, FileGrantChanges, FileFindings, FileAuditLog}},
	{"ISO 27001:2022", "A.5.15", "Access control",
		"The access in force (start and end of the period) and the approval chain that rules and policies applied to each request.",
		[]string{FileStartGrants, FileEndGrants, FileRequests, FileApprovals, FileFindings}},
	{"ISO 27001:2022", "A.5.16", "Identity management",
		"The identities (Identity Center and IAM users, groups, roles) at the start and end of the period, and each one created or removed in between.",
		[]string{FileStartResources, FileEndResources, FileResourceChanges, FileSyncs}},
	{"ISO 27001:2022", "A.5.17", "Authentication information",
		"Credential state from the credential report in each user's profile (MFA, password and access keys, their use and rotation) and the findings on them.",
		[]string{FileEndResources, FileStartResources, FileFindings, FileFindingEvents}},
	{"ISO 27001:2022", "A.5.18", "Access rights",
		"Access rights provisioned (requests, approvals, leases), changed (grant changes), reviewed (campaigns and decisions) and removed (verified remediation).",
		[]string{FileRequests, FileApprovals, FileLeases, FileGrantChanges, FileCampaigns, FileDecisions, FileAuditLog}},
	{"ISO 27001:2022", "A.8.2", "Privileged access rights",
		"Privileged access taken just in time with its approvals and its end, admin-level access reviewed (admin_level in the decisions), and root and admin findings.",
		[]string{FileLeases, FileRequests, FileApprovals, FileDecisions, FileFindings, FileEndGrants}},
}

// controls maps the controls to the files the pack has.
func controls(files []ManifestFile, sum *Summary) []Control {
	rows := map[string]*int{}
	for _, f := range files {
		rows[f.Path] = f.Rows
	}
	out := make([]Control, 0, len(controlMap))
	for _, c := range controlMap {
		ctl := Control{Framework: c.framework, ID: c.id, Title: c.title, Why: c.why, Files: []ControlFile{}}
		for _, f := range c.files {
			if n, ok := rows[f]; ok {
				ctl.Files = append(ctl.Files, ControlFile{Path: f, Rows: n})
			}
		}
		out = append(out, ctl)
	}
	return out
}

// renderSummary writes the printable summary: one self-contained page with no style
// sheet, script or style attribute (it opens under the server's Content-Security-Policy
// and prints as it is).
func renderSummary(w io.Writer, sum *Summary, files []ManifestFile) error {
	return summaryTemplate.Execute(w, struct {
		*Summary
		Files []ManifestFile
	}{sum, slices.Clone(files)})
}

var summaryTemplate = template.Must(template.New("summary").Funcs(template.FuncMap{
	"deref": func(n *int) int { return *n },
	"n":     plural,
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Evidence pack {{.PackID}}: {{.From}} to {{.To}}</title>
</head>
<body>
<h1>Access governance evidence</h1>
<p>Pack <strong>{{.PackID}}</strong>, covering <strong>{{.From}}</strong> to <strong>{{.To}}</strong>.
Generated by Gatehouse at {{.GeneratedAt}} for {{.GeneratedBy}}.</p>

<h2>Scope</h2>
<table>
<tr><th>Accounts asked for</th><td>{{range $i, $a := .Scope.Accounts}}{{if $i}}, {{end}}{{$a}}{{else}}every account{{end}}</td></tr>
<tr><th>Organizational units (with their subtrees)</th><td>{{range $i, $a := .Scope.OUs}}{{if $i}}, {{end}}{{$a}}{{else}}none named{{end}}</td></tr>
<tr><th>Applications</th><td>{{range $i, $a := .Scope.Applications}}{{if $i}}, {{end}}{{$a}}{{else}}every connection and imported application{{end}}</td></tr>
<tr><th>Accounts read</th><td>{{if .Resolved.AllAccounts}}every account, and what concerns no account (Identity Center users and groups){{else}}{{range $i, $a := .Resolved.Accounts}}{{if $i}}, {{end}}{{$a}}{{else}}none: the units named hold no account{{end}}{{end}}</td></tr>
<tr><th>Connections read</th><td>{{if .Resolved.AllConnections}}every connection and imported application{{else}}{{range $i, $a := .Resolved.Connections}}{{if $i}}, {{end}}{{$a}}{{else}}none: no synced connection is one of the applications named{{end}}{{end}}</td></tr>
</table>

<h2>Audit log chain</h2>
<p><strong>{{.Chain.Statement}}</strong></p>

<h2>What the pack holds</h2>
<table>
<tr><th>Inventory at the start</th><td>{{n .Counts.StartResources "resource"}}, {{n .Counts.StartGrants "grant"}}</td></tr>
<tr><th>Inventory at the end</th><td>{{n .Counts.EndResources "resource"}}, {{n .Counts.EndGrants "grant"}}</td></tr>
<tr><th>Changes</th><td>{{n .Counts.Syncs "sync"}} in the period: {{n .Counts.GrantsAdded "grant"}} added, {{.Counts.GrantsRemoved}} removed; {{n .Counts.ResourcesAdded "resource"}} added, {{.Counts.ResourcesRemoved}} removed</td></tr>
<tr><th>Findings</th><td>{{if eq .Findings "included"}}{{n .Counts.Findings "finding"}} at the end ({{.Counts.FindingsFailing}} failing, {{.Counts.FindingsUnknown}} unknown), {{n .Counts.FindingEvents "change"}} of status in the period{{else}}{{.Findings}}{{end}}</td></tr>
<tr><th>Just-in-time access</th><td>{{n .Counts.Requests "request"}}, {{n .Counts.Approvals "approval or denial"}}, {{n .Counts.Leases "lease"}} ({{.Counts.LeasesRevoked}} with the removal confirmed by AWS)</td></tr>
<tr><th>Access reviews</th><td>{{n .Counts.Campaigns "campaign"}}, {{n .Counts.ReviewItems "item"}} in scope: {{.Counts.Decided}} decided, {{.Counts.RevokeDecisions}} revoked, {{n .Counts.RevokesVerified "revoke"}} verified by a later sync</td></tr>
<tr><th>Audit log</th><td>{{n .Counts.AuditEntries "entry"}} in the period</td></tr>
</table>

<h2>Controls and the evidence that supports them</h2>
<table>
<thead><tr><th>Framework</th><th>Control</th><th>What the evidence shows</th><th>Files (rows)</th></tr></thead>
<tbody>
{{range .Controls}}<tr><td>{{.Framework}}</td><td><strong>{{.ID}}</strong> {{.Title}}</td><td>{{.Why}}</td><td>{{range .Files}}{{.Path}}{{if .Rows}} ({{deref .Rows}}){{end}}<br>{{else}}none in this pack{{end}}</td></tr>
{{end}}</tbody>
</table>

<h2>Files</h2>
<p>manifest.json lists every file with its SHA-256 and size; <code>gatehouse evidence verify</code> checks them.
This page and summary.json are listed there too; the manifest itself is covered by the SHA-256 of the whole
pack, which Gatehouse's audit log records.</p>
<table>
<thead><tr><th>File</th><th>Rows</th><th>Bytes</th><th>SHA-256</th></tr></thead>
<tbody>
{{range .Files}}<tr><td>{{.Path}}</td><td>{{if .Rows}}{{deref .Rows}}{{end}}</td><td>{{.Size}}</td><td><code>{{.SHA256}}</code></td></tr>
{{end}}</tbody>
</table>
</body>
</html>
`))

// plural says n things in words: "1 grant", "2 grants", "1 entry", "3 entries".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	switch {
	case what == "approval or denial":
		what = "approvals or denials"
	case strings.HasSuffix(what, "y"):
		what = strings.TrimSuffix(what, "y") + "ies"
	default:
		what += "s"
	}
	return strconv.Itoa(n) + " " + what
}
