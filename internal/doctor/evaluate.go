package doctor

import (
	"encoding/json"
	"fmt"
	"strings"
)

// A small evaluator of identity policies, for when the IAM policy simulator may not be
// called: Allow and Deny, Action/NotAction and Resource/NotResource with IAM's
// wildcards. It cannot know what conditions will hold, so a statement with a Condition
// is left out (an Allow with a condition is not counted on; a Deny with one is reported
// as a possible denial), and service control policies and permissions boundaries are
// not seen at all; the check says so.

type policyDoc struct {
	Statement stmtList `json:"Statement"`
}

type stmt struct {
	Effect      string                    `json:"Effect"`
	Principal   json.RawMessage           `json:"Principal"`
	Action      strList                   `json:"Action"`
	NotAction   strList                   `json:"NotAction"`
	Resource    strList                   `json:"Resource"`
	NotResource strList                   `json:"NotResource"`
	Condition   map[string]map[string]any `json:"Condition"`
}

// stmtList accepts one statement or a list.
type stmtList []stmt

func (l *stmtList) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		var one stmt
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*l = stmtList{one}
		return nil
	}
	var many []stmt
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*l = many
	return nil
}

// strList accepts a string or a list of strings.
type strList []string

func (l *strList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = strList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*l = many
	return nil
}

func parsePolicy(doc string) (*policyDoc, error) {
	var p policyDoc
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return nil, fmt.Errorf("not a policy document: %w", err)
	}
	return &p, nil
}

// principals returns the AWS principals a trust statement names ("*" for anyone).
func (s stmt) principals() []string {
	if len(s.Principal) == 0 {
		return nil
	}
	var any string
	if json.Unmarshal(s.Principal, &any) == nil {
		return []string{any}
	}
	var m map[string]strList
	if json.Unmarshal(s.Principal, &m) != nil {
		return nil
	}
	var out []string
	for _, k := range []string{"AWS", "Service", "Federated"} {
		out = append(out, m[k]...)
	}
	return out
}

// globMatch matches IAM wildcards: * any run of characters, ? one character.
func globMatch(pattern, s string) bool {
	p := pattern
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// matchesAny reports whether an action matches one of the patterns (case-insensitive,
// as IAM compares actions).
func matchesAny(patterns []string, action string) bool {
	for _, p := range patterns {
		if globMatch(strings.ToLower(p), strings.ToLower(action)) {
			return true
		}
	}
	return false
}

func matchesResource(patterns []string, resource string) bool {
	for _, p := range patterns {
		if p == "*" || globMatch(p, resource) {
			return true
		}
	}
	return false
}

func (s stmt) appliesTo(action, resource string) bool {
	if len(s.NotAction) > 0 {
		if matchesAny(s.NotAction, action) {
			return false
		}
	} else if !matchesAny(s.Action, action) {
		return false
	}
	if len(s.NotResource) > 0 {
		return !matchesResource(s.NotResource, resource)
	}
	return matchesResource(s.Resource, resource)
}

// evaluation is the outcome of evaluating policies for one action.
type evaluation struct {
	allowed bool
	// why explains a denial: no statement allows it, or an explicit Deny (possibly
	// conditional).
	why string
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
			if !st.appliesTo(action, resource) {
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
		return evaluation{why: "only a statement with a condition allows it"}
	}
	return evaluation{why: "no statement of the role's policies allows it"}
}
