package doctor

import (
	"fmt"

	"github.com/gatehouse/gatehouse/internal/iampolicy"
)

// A small evaluator of identity policies, for when the IAM policy simulator may not be
// called: Allow and Deny, Action/NotAction and Resource/NotResource with IAM's
// wildcards. It cannot know what conditions will hold, so a statement with a Condition
// is left out (an Allow with a condition is not counted on; a Deny with one is reported
// as a possible denial), and service control policies and permissions boundaries are
// not seen at all; the check says so.

func parsePolicy(doc string) (*iampolicy.Document, error) {
	p, err := iampolicy.Parse(doc)
	if err != nil {
		return nil, fmt.Errorf("not a policy document: %w", err)
	}
	return p, nil
}

// evaluation is the outcome of evaluating policies for one action.
type evaluation struct {
	allowed bool
	// why explains a denial: no statement allows it, or an explicit Deny (possibly
	// conditional).
	why string
	// conditional is set when only a statement with a condition allows the action:
	// whether it is allowed depends on the request, which this evaluator cannot see.
	conditional bool
}

// evaluatePolicies applies identity policy documents to an action on a resource.
func evaluatePolicies(docs []string, action, resource string) evaluation {
	allowed, conditionalAllow, conditionalDeny := false, false, false
	for _, d := range docs {
		p, err := parsePolicy(d)
		if err != nil {
			continue
		}
		for _, st := range p.Statement {
			if !st.Applies(action, resource) {
				continue
			}
			switch {
			case st.Effect == "Deny" && len(st.Condition) == 0:
				return evaluation{why: "an explicit Deny in the role's policies"}
			case st.Effect == "Deny":
				conditionalDeny = true
			case len(st.Condition) > 0:
				conditionalAllow = true
			default:
				allowed = true
			}
		}
	}
	switch {
	case allowed && conditionalDeny:
		return evaluation{allowed: true, why: "allowed, unless the conditions of a Deny hold"}
	case allowed:
		return evaluation{allowed: true}
	case conditionalAllow:
		return evaluation{why: "only a statement with a condition allows it", conditional: true}
	}
	return evaluation{why: "no statement of the role's policies allows it"}
}
