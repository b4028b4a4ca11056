// Package iampolicy parses IAM policy documents and matches their statements against an
// action and a resource, for `gatehouse doctor` (internal/doctor), which decides what to
// do with conditions and how to combine statements. The AWS simulator (internal/awssim)
// deliberately has its own evaluator: it plays AWS in the doctor's tests, and one piece
// of code must not check itself. Both are held to one table of cases from AWS's
// documentation (TestEvaluationFollowsAWSDocumentation in internal/doctor).
package iampolicy

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Document is an IAM policy document.
type Document struct {
	Version   string     `json:"Version"`
	Statement Statements `json:"Statement"`
}

// Statement is one statement of a policy document.
type Statement struct {
	Sid         string                           `json:"Sid,omitempty"`
	Effect      string                           `json:"Effect"`
	Principal   Principal                        `json:"Principal,omitempty"`
	Action      StringList                       `json:"Action,omitempty"`
	NotAction   StringList                       `json:"NotAction,omitempty"`
	Resource    StringList                       `json:"Resource,omitempty"`
	NotResource StringList                       `json:"NotResource,omitempty"`
	Condition   map[string]map[string]StringList `json:"Condition,omitempty"`
}

// Parse parses a policy document (JSON). The error is the JSON decoder's; callers say
// whose document it was.
func Parse(doc string) (*Document, error) {
	var d Document
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// Statements accepts a single statement object or a list.
type Statements []Statement

// UnmarshalJSON implements json.Unmarshaler.
func (s *Statements) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		var one Statement
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = Statements{one}
		return nil
	}
	var many []Statement
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// StringList accepts a string or a list of strings; condition values that are booleans or
// numbers become their text.
type StringList []string

// UnmarshalJSON implements json.Unmarshaler.
func (l *StringList) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if len(b) > 0 && b[0] == '[' {
		if err := json.Unmarshal(b, &raw); err != nil {
			return err
		}
	} else {
		raw = []json.RawMessage{b}
	}
	out := make(StringList, 0, len(raw))
	for _, r := range raw {
		var s string
		if err := json.Unmarshal(r, &s); err == nil {
			out = append(out, s)
			continue
		}
		var v any
		if err := json.Unmarshal(r, &v); err != nil {
			return err
		}
		switch x := v.(type) {
		case bool:
			out = append(out, strconv.FormatBool(x))
		case float64:
			out = append(out, strconv.FormatFloat(x, 'f', -1, 64))
		default:
			return fmt.Errorf("expected a string or a list of strings, got %s", r)
		}
	}
	*l = out
	return nil
}

// Principal is "*" or {"AWS": ..., "Service": ..., "Federated": ...}.
type Principal struct {
	Any       bool
	AWS       StringList
	Service   StringList
	Federated StringList
}

// UnmarshalJSON implements json.Unmarshaler.
func (p *Principal) UnmarshalJSON(b []byte) error {
	if string(b) == `"*"` {
		p.Any = true
		return nil
	}
	var m struct {
		AWS       StringList `json:"AWS"`
		Service   StringList `json:"Service"`
		Federated StringList `json:"Federated"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	p.AWS, p.Service, p.Federated = m.AWS, m.Service, m.Federated
	return nil
}

// All returns every principal named ("*" for anyone).
func (p Principal) All() []string {
	if p.Any {
		return []string{"*"}
	}
	var out []string
	out = append(out, p.AWS...)
	out = append(out, p.Service...)
	return append(out, p.Federated...)
}

// Applies reports whether the statement's Action/NotAction matches the action (compared
// case-insensitively, as IAM does) and its Resource/NotResource the resource. An empty
// resource means "not known": every Resource element matches it and no NotResource
// excludes it.
func (s Statement) Applies(action, resource string) bool {
	if len(s.NotAction) > 0 {
		if AnyMatch(s.NotAction, action, true) {
			return false
		}
	} else if !AnyMatch(s.Action, action, true) {
		return false
	}
	if resource == "" {
		return true
	}
	if len(s.NotResource) > 0 {
		return !AnyMatch(s.NotResource, resource, false)
	}
	return AnyMatch(s.Resource, resource, false)
}

// AnyMatch reports whether s matches one of the wildcard patterns.
func AnyMatch(patterns []string, s string, foldCase bool) bool {
	for _, p := range patterns {
		if foldCase {
			if Match(strings.ToLower(p), strings.ToLower(s)) {
				return true
			}
		} else if Match(p, s) {
			return true
		}
	}
	return false
}

// Match matches IAM wildcards: "*" any run of characters (including "/", unlike
// path.Match), "?" one character.
func Match(p, s string) bool {
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

// DecodeDocument decodes a policy document as IAM returns it (GetAccountAuthorizationDetails,
// Get*Policy, GetPolicyVersion, GetRole's trust policy): URL-encoded (RFC 3986). Path
// unescaping keeps a literal "+" ("a+b" in an ARN or a condition value); query unescaping
// would turn it into a space and change the policy. A document that is already plain
// JSON is returned as it is. The sync (internal/awsfetch) and gatehouse doctor both
// decode with it, so that they read the same policy.
func DecodeDocument(doc string) string {
	if doc == "" || strings.HasPrefix(strings.TrimSpace(doc), "{") {
		return doc
	}
	if s, err := url.PathUnescape(doc); err == nil {
		return s
	}
	return doc
}
