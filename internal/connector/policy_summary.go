package connector

import (
	"maps"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/internal/iampolicy"
)

// summarizePolicy adds to an iam_policy profile what its document grants, read with the
// same parser as the rest of Gatehouse (internal/iampolicy):
//
//   - statements: one line per statement, in document order, e.g.
//     "Allow s3:GetObject,s3:PutObject on arn:aws:s3:::data/* when StringEquals aws:RequestedRegion=us-east-1"
//     or "(NoIAM) Deny all actions except sts:* on *"; actions, resources and condition
//     values are as written: wildcards are not expanded, because the expansion depends on
//     AWS's list of actions at the time it is read;
//   - services: the services whose actions an Allow statement names, sorted; only "*" when
//     one allows every action (Action "*", or NotAction, which allows all but some).
//
// A reviewer reads these without parsing JSON; the document stays alongside as the
// authority for programs. Each statement is one string rather than a structure on purpose:
// baton stores a profile as a protobuf Struct and decodes it every time it reads the
// resource back, so a nested structure costs an allocation per field per read (measured in
// docs/performance.md). The summary is computed when the resource is built, page by page,
// and never stored: the snapshot keeps only the document. A document that does not parse
// gets document_error instead of a summary, never a silently empty one.
func summarizePolicy(p profile, doc string) {
	if doc == "" {
		return
	}
	d, err := iampolicy.Parse(doc)
	if err != nil {
		p["document_error"] = "the document is not a valid policy: " + err.Error()
		return
	}
	statements := make([]string, 0, len(d.Statement))
	services := map[string]bool{}
	for _, st := range d.Statement {
		statements = append(statements, statementLine(st))
		if !strings.EqualFold(st.Effect, "Allow") {
			continue
		}
		if len(st.NotAction) > 0 {
			services["*"] = true
		}
		for _, a := range st.Action {
			services[actionService(a)] = true
		}
	}
	p.strs("statements", statements)
	if services["*"] {
		services = map[string]bool{"*": true} // every service; naming some would suggest a limit
	}
	p.strs("services", slices.Sorted(maps.Keys(services)))
}

// statementLine is one statement in words: [(sid)] effect actions on resources [when
// conditions]. Conditions are sorted by operator and key, so the line does not depend on
// map order.
func statementLine(st iampolicy.Statement) string {
	var b strings.Builder
	if st.Sid != "" {
		b.WriteString("(" + st.Sid + ") ")
	}
	b.WriteString(st.Effect + " ")
	switch {
	case len(st.NotAction) > 0:
		b.WriteString("all actions except " + strings.Join(st.NotAction, ","))
	case len(st.Action) > 0:
		b.WriteString(strings.Join(st.Action, ","))
	default:
		b.WriteString("no action")
	}
	switch {
	case len(st.NotResource) > 0:
		b.WriteString(" on all resources except " + strings.Join(st.NotResource, ","))
	case len(st.Resource) > 0:
		b.WriteString(" on " + strings.Join(st.Resource, ","))
	}
	if len(st.Condition) > 0 {
		var conds []string
		for op, keys := range st.Condition {
			for key, values := range keys {
				conds = append(conds, op+" "+key+"="+strings.Join(values, ","))
			}
		}
		slices.Sort(conds)
		b.WriteString(" when " + strings.Join(conds, " and "))
	}
	return b.String()
}

// actionService is the service prefix of an action ("s3" of "s3:GetObject"), in lower
// case as IAM compares it; "*" for the action "*".
func actionService(action string) string {
	svc, _, ok := strings.Cut(action, ":")
	if !ok {
		return "*"
	}
	return strings.ToLower(svc)
}
