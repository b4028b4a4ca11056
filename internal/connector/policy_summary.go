package connector

import (
	"cmp"
	"maps"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/internal/iampolicy"
)

// summarizePolicy adds to an iam_policy profile what its document grants, read with the
// same parser as the rest of Gatehouse (internal/iampolicy):
//
//   - statements: one entry per statement, in document order, with its effect, its actions
//     (or not_actions), resources (or not_resources) and conditions (operator, key,
//     values), as written: wildcards are not expanded, because the expansion depends on
//     AWS's list of actions at the time it is read;
//   - services: the services whose actions an Allow statement names, sorted; only "*" when
//     one allows every action (Action "*", or NotAction, which allows all but some).
//
// A reviewer reads these without parsing JSON; the document stays alongside as the
// authority. The summary is computed when the resource is built, page by page, and never
// stored: the snapshot keeps only the document. A document that does not parse gets
// document_error instead of a summary, never a silently empty one.
func summarizePolicy(p profile, doc string) {
	if doc == "" {
		return
	}
	d, err := iampolicy.Parse(doc)
	if err != nil {
		p["document_error"] = "the policy document is not valid JSON policy: " + err.Error()
		return
	}
	statements := make([]map[string]any, 0, len(d.Statement))
	services := map[string]bool{}
	for _, st := range d.Statement {
		m := profile{"effect": st.Effect}
		m.str("sid", st.Sid)
		m.strs("actions", st.Action)
		m.strs("not_actions", st.NotAction)
		m.strs("resources", st.Resource)
		m.strs("not_resources", st.NotResource)
		m.list("conditions", conditionSummary(st.Condition))
		statements = append(statements, m)
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
	p.list("statements", statements)
	if services["*"] {
		services = map[string]bool{"*": true} // every service; naming some would suggest a limit
	}
	p.strs("services", slices.Sorted(maps.Keys(services)))
}

// conditionSummary lists a statement's conditions sorted by operator and key, so the
// profile does not depend on map order.
func conditionSummary(cond map[string]map[string]iampolicy.StringList) []map[string]any {
	var out []map[string]any
	for op, keys := range cond {
		for key, values := range keys {
			m := profile{"operator": op, "key": key}
			m.strs("values", values)
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b map[string]any) int {
		return cmp.Or(cmp.Compare(a["operator"].(string), b["operator"].(string)), cmp.Compare(a["key"].(string), b["key"].(string)))
	})
	return out
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
