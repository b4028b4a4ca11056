package access

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Problem is one thing wrong in a rules file, with where it is.
type Problem struct {
	// Line and Column are 1-based; Column is 0 when only the line is known.
	Line, Column int
	// Field is the path of the offending field, like rules[1].duration.max.
	Field   string
	Message string
}

// ParseError lists every problem ParseRules found, ordered by position.
type ParseError struct {
	// File is the name the messages start with.
	File     string
	Problems []Problem
}

// Error prints one problem per line, as "FILE:LINE:COL: FIELD: MESSAGE".
func (e *ParseError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.File)
		fmt.Fprintf(&b, ":%d", p.Line)
		if p.Column > 0 {
			fmt.Fprintf(&b, ":%d", p.Column)
		}
		b.WriteString(": ")
		if p.Field != "" {
			b.WriteString(p.Field + ": ")
		}
		b.WriteString(p.Message)
	}
	return b.String()
}

// ParseOption changes how ParseRules reports problems.
type ParseOption func(*parser)

// WithFileName sets the file name that starts each problem line (default "rules.yaml").
func WithFileName(name string) ParseOption {
	return func(p *parser) { p.file = name }
}

// Validate checks a rule set built in code (as an editor in the UI builds one) by the same
// rules as a file, by writing it out and reading it back. Problems name the rule and field
// (rules[1].duration.max); their lines refer to the exported form.
func (rs *RuleSet) Validate() error {
	data, err := rs.Export()
	if err != nil {
		return fmt.Errorf("write rules: %w", err)
	}
	_, err = ParseRules(data, WithFileName("rules"))
	return err
}

// ParseFile reads and parses a rules file; problems name the file by path.
func ParseFile(path string) (*RuleSet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read rules: %w", err)
	}
	return ParseRules(data, WithFileName(path))
}

// ParseRules reads a rules file: a top-level "rules:" list (see docs/jit.md). It checks the
// whole file and returns every problem at once as a *ParseError, each with its line and column,
// so an admin fixes a file in one pass. Nothing is returned unless the whole file is valid.
func ParseRules(data []byte, opts ...ParseOption) (*RuleSet, error) {
	p := &parser{file: "rules.yaml"}
	for _, o := range opts {
		o(p)
	}
	rs := p.parse(data)
	if len(p.problems) > 0 {
		sort.SliceStable(p.problems, func(i, j int) bool {
			a, b := p.problems[i], p.problems[j]
			if a.Line != b.Line {
				return a.Line < b.Line
			}
			return a.Column < b.Column
		})
		return nil, &ParseError{File: p.file, Problems: p.problems}
	}
	return rs, nil
}

type parser struct {
	file     string
	problems []Problem
	// config is set by ParseConfig: the document may hold policies: beside rules:.
	config   bool
	policies []Policy
	// policyRefs are the rules' approval_policy values, checked against the policies once
	// both are read.
	policyRefs []policyRef
}

// policyRef is a rule's approval_policy value and where it is.
type policyRef struct {
	name string
	path string
	node *yaml.Node
}

func (p *parser) add(n *yaml.Node, field, format string, args ...any) {
	p.problems = append(p.problems, Problem{Line: n.Line, Column: n.Column, Field: field, Message: fmt.Sprintf(format, args...)})
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// The fields each level of the file knows, in the order messages list them.
var (
	topFields        = []string{"rules"}
	configFields     = []string{"rules", "policies"}
	ruleFields       = []string{"name", "description", "match", "requesters", "duration", "reason_required", "approval_policy", "break_glass", "end_sessions"}
	matchFields      = []string{"application", "resource_types", "accounts", "ous", "permission_sets", "groups", "entitlements"}
	requesterFields  = []string{"everyone", "groups", "people"}
	durationFields   = []string{"default", "max"}
	accountIDPattern = regexp.MustCompile(`^\d{12}$`)
)

func (p *parser) parse(data []byte) *RuleSet {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 1
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		p.problems = append(p.problems, Problem{Line: line, Message: "not valid YAML: " + msg})
		return nil
	}
	if len(doc.Content) == 0 {
		p.problems = append(p.problems, Problem{Line: 1, Column: 1, Message: "the file is empty; it needs a top-level rules: list"})
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		p.add(root, "", "want a mapping with a top-level rules: list")
		return nil
	}
	known := topFields
	if p.config {
		known = configFields
	}
	fields := p.fields(root, "", known)
	if f, ok := fields["policies"]; ok {
		p.policies = p.policyList(f)
	}
	rulesNode, ok := fields["rules"]
	if !ok {
		if len(p.problems) == 0 { // a misspelt "rules:" has already been reported
			p.add(root, "", "no rules: list; the file needs a top-level rules: list of rules")
		}
		return nil
	}
	rs := &RuleSet{}
	if rulesNode.value.Kind == yaml.ScalarNode && rulesNode.value.Tag == "!!null" {
		return rs // "rules:" with nothing: no rule, nothing requestable
	}
	if rulesNode.value.Kind != yaml.SequenceNode {
		p.add(rulesNode.value, "rules", "want a list of rules (each item starts with \"- name:\")")
		return nil
	}
	var parsed []parsedRule
	for i, item := range rulesNode.value.Content {
		pr := p.rule(resolve(item), fmt.Sprintf("rules[%d]", i))
		parsed = append(parsed, pr)
		rs.Rules = append(rs.Rules, pr.Rule)
	}
	p.crossCheck(parsed, rulesNode.value.Content)
	return rs
}

// resolve follows a YAML alias (*name) to the node its anchor (&name) marks, so anchors can
// share a value such as a requesters block between rules.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// field is a key and its value in a mapping.
type field struct {
	key, value *yaml.Node
}

// fields reads a mapping, reporting unknown and repeated keys.
func (p *parser) fields(n *yaml.Node, path string, known []string) map[string]field {
	out := map[string]field{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		name := k.Value
		fpath := join(path, name)
		if name == "<<" {
			p.add(k, path, "YAML merge keys (<<) are not supported; write the fields out (an alias for a whole value, like requesters: *admins, works)")
			continue
		}
		if !contains(known, name) {
			msg := fmt.Sprintf("unknown field %q", name)
			if s := suggest(name, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else {
				msg += fmt.Sprintf("; known fields here: %s", strings.Join(known, ", "))
			}
			p.add(k, fpath, "%s", msg)
			continue
		}
		if prev, dup := out[name]; dup {
			p.add(k, fpath, "%s is given twice (first at line %d); keep one", name, prev.key.Line)
			continue
		}
		out[name] = field{k, v}
	}
	return out
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

// suggest returns the known name closest to s when it is close enough to be a typo.
func suggest(s string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		d := editDistance(strings.ToLower(s), k)
		if d < bestDist {
			best, bestDist = k, d
		}
	}
	if bestDist > 2 || bestDist >= len(s) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func (p *parser) str(f field, path string) string {
	if f.value.Kind == yaml.ScalarNode && f.value.Tag == "!!null" {
		p.add(f.value, path, "has no value; give one, or remove %s", f.key.Value)
		return ""
	}
	if f.value.Kind != yaml.ScalarNode {
		p.add(f.value, path, "want a single value, not a list or a mapping")
		return ""
	}
	return strings.TrimSpace(f.value.Value)
}

func (p *parser) boolean(f field, path string) bool {
	var b bool
	if f.value.Kind != yaml.ScalarNode || f.value.Tag != "!!bool" {
		p.add(f.value, path, "want true or false, not %q", f.value.Value)
		return false
	}
	_ = f.value.Decode(&b)
	return b
}

// list reads a list of non-empty strings. An empty list is refused: an admin who writes
// "accounts: []" may mean "none", but an absent list means "any".
func (p *parser) list(f field, path string) []string {
	if f.value.Kind == yaml.ScalarNode && f.value.Tag == "!!null" {
		p.add(f.value, path, "has no value; remove %s to match any, or list at least one", f.key.Value)
		return nil
	}
	if f.value.Kind == yaml.ScalarNode {
		p.add(f.value, path, "want a list, like [%s]", f.value.Value)
		return nil
	}
	if f.value.Kind != yaml.SequenceNode {
		p.add(f.value, path, "want a list, like [a, b]")
		return nil
	}
	if len(f.value.Content) == 0 {
		p.add(f.value, path, "is an empty list; remove %s to match any, or list at least one", f.key.Value)
		return nil
	}
	var out []string
	for _, item := range f.value.Content {
		item = resolve(item)
		if item.Kind != yaml.ScalarNode || item.Tag == "!!null" || strings.TrimSpace(item.Value) == "" {
			p.add(item, path, "each item must be a single non-empty value")
			continue
		}
		out = append(out, strings.TrimSpace(item.Value))
	}
	return out
}

func (p *parser) duration(f field, path string) (time.Duration, bool) {
	if f.value.Kind != yaml.ScalarNode {
		p.add(f.value, path, "want a Go duration like 1h30m")
		return 0, false
	}
	d, err := time.ParseDuration(f.value.Value)
	if err != nil {
		p.add(f.value, path, "%q is not a duration; want a Go duration like 1h30m", f.value.Value)
		return 0, false
	}
	switch {
	case d < MinDuration:
		p.add(f.value, path, "%s is shorter than the minimum of %s", f.value.Value, FormatDuration(MinDuration))
		return 0, false
	case d > MaxDurationLimit:
		p.add(f.value, path, "%s is longer than the limit of %s (7 days); access needed for longer is standing access, not a lease",
			f.value.Value, FormatDuration(MaxDurationLimit))
		return 0, false
	}
	return d, true
}

func (p *parser) mapping(f field, path string) bool {
	if f.value.Kind != yaml.MappingNode {
		p.add(f.value, path, "want a mapping of fields")
		return false
	}
	return true
}

// parsedRule is a rule and what the cross-rule checks need to know about how it was read.
type parsedRule struct {
	Rule
	matchOK   bool       // the match read without problems, so comparing it is meaningful
	matchNode *yaml.Node // where to report a duplicate match
}

func (p *parser) rule(n *yaml.Node, path string) parsedRule {
	r := Rule{line: n.Line}
	if n.Kind != yaml.MappingNode {
		p.add(n, path, "want a rule (a mapping with name, match, requesters, duration, approval_policy)")
		return parsedRule{Rule: r}
	}
	fs := p.fields(n, path, ruleFields)
	matchNode := n
	if f, ok := fs["match"]; ok {
		matchNode = f.key
	}
	if f, ok := fs["name"]; ok {
		r.Name = p.str(f, join(path, "name"))
	}
	if f, ok := fs["name"]; !ok {
		p.add(n, join(path, "name"), "missing; every rule needs a unique name")
	} else if r.Name == "" && f.value.Kind == yaml.ScalarNode && f.value.Tag != "!!null" {
		p.add(f.value, join(path, "name"), "is empty; every rule needs a unique name")
	}
	if f, ok := fs["description"]; ok {
		r.Description = p.str(f, join(path, "description"))
	}
	if f, ok := fs["approval_policy"]; ok {
		r.ApprovalPolicy = p.str(f, join(path, "approval_policy"))
		if r.ApprovalPolicy == "" && f.value.Kind == yaml.ScalarNode && f.value.Tag != "!!null" {
			p.add(f.value, join(path, "approval_policy"), "is empty; name an approval policy (for example default)")
		}
		if r.ApprovalPolicy != "" {
			p.policyRefs = append(p.policyRefs, policyRef{name: r.ApprovalPolicy, path: join(path, "approval_policy"), node: f.value})
		}
	} else {
		p.add(n, join(path, "approval_policy"), "missing; name the approval policy requests under this rule go through (for example default)")
	}
	if f, ok := fs["reason_required"]; ok {
		r.ReasonRequired = p.boolean(f, join(path, "reason_required"))
	}
	if f, ok := fs["break_glass"]; ok {
		r.BreakGlass = p.boolean(f, join(path, "break_glass"))
	}
	if f, ok := fs["end_sessions"]; ok {
		r.EndSessions = p.boolean(f, join(path, "end_sessions"))
	}
	r.Match.Application = DefaultApplication
	r.Match.ResourceTypes = []ResourceType{ResourceAccount}
	before := len(p.problems)
	if f, ok := fs["match"]; ok {
		if p.mapping(f, join(path, "match")) {
			p.match(f.value, join(path, "match"), &r.Match)
		}
	}
	matchOK := len(p.problems) == before
	if f, ok := fs["end_sessions"]; ok && r.EndSessions && containsType(r.Match.ResourceTypes, ResourceAppResource) {
		p.add(f.value, join(path, "end_sessions"), "live sessions can be ended only for AWS permission sets; an imported application's owner ends access by hand, so remove end_sessions")
	}
	requestersNode := n
	before = len(p.problems)
	if f, ok := fs["requesters"]; ok {
		requestersNode = f.key
		if p.mapping(f, join(path, "requesters")) {
			p.requesters(f.value, join(path, "requesters"), &r.Requesters)
		}
	}
	q := r.Requesters
	// Report "nobody" only when the requesters read cleanly: a misspelt field already said why.
	if len(p.problems) == before && !q.Everyone && len(q.Groups) == 0 && len(q.People) == 0 {
		p.add(requestersNode, join(path, "requesters"), "nobody could request this; set everyone: true, or list groups or people")
	}
	r.Duration = Duration{Default: DefaultDefaultDuration, Max: DefaultMaxDuration}
	if f, ok := fs["duration"]; ok && p.mapping(f, join(path, "duration")) {
		p.durations(f.value, join(path, "duration"), &r.Duration)
	}
	return parsedRule{Rule: r, matchOK: matchOK, matchNode: matchNode}
}

func (p *parser) match(n *yaml.Node, path string, m *Match) {
	fs := p.fields(n, path, matchFields)
	if f, ok := fs["application"]; ok {
		if v := p.str(f, join(path, "application")); v != "" {
			m.Application = strings.ToLower(v)
		}
	}
	if f, ok := fs["resource_types"]; ok {
		var types []ResourceType
		for i, v := range p.list(f, join(path, "resource_types")) {
			rt := ResourceType(v)
			if !containsType(resourceTypes, rt) {
				names := make([]string, len(resourceTypes))
				for j, t := range resourceTypes {
					names[j] = string(t)
				}
				msg := fmt.Sprintf("unknown resource type %q; want account, sso_group, iam_group or app_resource", v)
				if s := suggest(v, names); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				p.add(f.value.Content[i], join(path, "resource_types"), "%s", msg)
				continue
			}
			if !containsType(types, rt) {
				types = append(types, rt)
			}
		}
		if len(types) > 0 {
			m.ResourceTypes = types
		}
	}
	// An imported application (application: app_...) has one kind of access: its
	// entitlements. A rule naming one covers them unless it says otherwise.
	isApp := m.Application != DefaultApplication
	if _, given := fs["resource_types"]; !given && isApp {
		m.ResourceTypes = []ResourceType{ResourceAppResource}
	}
	if f, ok := fs["resource_types"]; ok {
		hasApp, hasAWS := containsType(m.ResourceTypes, ResourceAppResource), false
		for _, t := range awsTypes {
			hasAWS = hasAWS || containsType(m.ResourceTypes, t)
		}
		switch {
		case hasApp && hasAWS:
			p.add(f.key, join(path, "resource_types"), "app_resource (an imported application's entitlements) cannot be mixed with AWS's resource types in one rule; split it into two rules")
		case hasApp && !isApp:
			p.add(f.key, join(path, "resource_types"), "app_resource is the access of an application imported from files; set application to that application's id (app_...) or name")
		case hasAWS && isApp:
			p.add(f.key, join(path, "resource_types"), "application %q is not aws, so only resource type app_resource can match it; use resource_types: [app_resource] or set application: aws", m.Application)
		}
	}
	if f, ok := fs["accounts"]; ok {
		m.Accounts = p.list(f, join(path, "accounts"))
		if len(m.ResourceTypes) == 1 && m.ResourceTypes[0] == ResourceSSOGroup {
			p.add(f.key, join(path, "accounts"), "Identity Center groups do not live in an account, so this rule could never match; remove accounts or add resource type account or iam_group")
		}
	}
	if isApp {
		for _, k := range []string{"accounts", "ous"} {
			if f, ok := fs[k]; ok {
				p.add(f.key, join(path, k), "an imported application has no AWS %s, so this rule could never match; remove %s", k, k)
			}
		}
	}
	if f, ok := fs["ous"]; ok {
		m.OUs = p.list(f, join(path, "ous"))
		if len(m.ResourceTypes) == 1 && m.ResourceTypes[0] == ResourceSSOGroup {
			p.add(f.key, join(path, "ous"), "Identity Center groups do not live in an OU, so this rule could never match; remove ous or add resource type account or iam_group")
		}
	}
	if f, ok := fs["entitlements"]; ok {
		m.Entitlements = p.list(f, join(path, "entitlements"))
		if !containsType(m.ResourceTypes, ResourceAppResource) {
			p.add(f.key, join(path, "entitlements"), "entitlements name an imported application's access; set application to the application's id (app_...) or remove entitlements")
		}
		for i, e := range m.Entitlements {
			if !strings.HasPrefix(e, string(ResourceAppResource)+":") && strings.Count(e, "/") != 2 {
				p.add(f.value.Content[i], join(path, "entitlements"), "%q: name an entitlement as \"<resource type>/<resource name>/<entitlement>\" (for example group/Engineering/member) or by its id (app_resource:...)", e)
			}
		}
	}
	if f, ok := fs["permission_sets"]; ok {
		m.PermissionSets = p.list(f, join(path, "permission_sets"))
		if !containsType(m.ResourceTypes, ResourceAccount) {
			p.add(f.key, join(path, "permission_sets"), "permission sets apply to resource type account only, so this rule could never match; add account to resource_types or remove permission_sets")
		}
	}
	if f, ok := fs["groups"]; ok {
		m.Groups = p.list(f, join(path, "groups"))
		if _, both := fs["permission_sets"]; both {
			p.add(f.key, join(path, "groups"), "a rule cannot name both permission sets and groups: no access has both, so this rule could never match; split it into two rules")
		}
		if !containsType(m.ResourceTypes, ResourceSSOGroup) && !containsType(m.ResourceTypes, ResourceIAMGroup) {
			p.add(f.key, join(path, "groups"), "groups are for group membership requests; add sso_group or iam_group to resource_types (the default is account only)")
		}
	}
}

func containsType(list []ResourceType, t ResourceType) bool {
	for _, l := range list {
		if l == t {
			return true
		}
	}
	return false
}

func (p *parser) requesters(n *yaml.Node, path string, q *Requesters) {
	fs := p.fields(n, path, requesterFields)
	if f, ok := fs["everyone"]; ok {
		q.Everyone = p.boolean(f, join(path, "everyone"))
	}
	if f, ok := fs["groups"]; ok {
		q.Groups = p.list(f, join(path, "groups"))
	}
	if f, ok := fs["people"]; ok {
		q.People = p.list(f, join(path, "people"))
		for i, e := range q.People {
			if !strings.Contains(e, "@") {
				p.add(f.value.Content[i], join(path, "people"), "%q is not an email address; people are named by email", e)
			}
		}
	}
}

func (p *parser) durations(n *yaml.Node, path string, d *Duration) {
	fs := p.fields(n, path, durationFields)
	def, defOK := fs["default"]
	max, maxOK := fs["max"]
	var dv, mv time.Duration
	var dGood, mGood bool
	if defOK {
		dv, dGood = p.duration(def, join(path, "default"))
	}
	if maxOK {
		mv, mGood = p.duration(max, join(path, "max"))
	}
	switch {
	case dGood && mGood:
		if dv > mv {
			p.add(def.value, join(path, "default"), "default %s is longer than max %s; lower default or raise max",
				def.value.Value, max.value.Value)
		}
		d.Default, d.Max = dv, mv
	case dGood && !maxOK:
		// Only a default: the max is the usual 8h, or the default itself when that is longer.
		d.Default, d.Max = dv, max8(dv)
	case mGood && !defOK:
		// Only a max: the default is the usual 1h, or the max itself when that is shorter.
		d.Default, d.Max = min(DefaultDefaultDuration, mv), mv
	}
}

func max8(d time.Duration) time.Duration {
	return max(d, DefaultMaxDuration)
}

// crossCheck finds problems between rules: repeated names, and two rules with exactly the same
// match (only the first would ever apply, so the second is a mistake).
func (p *parser) crossCheck(rules []parsedRule, nodes []*yaml.Node) {
	names := map[string]int{}
	matches := map[string]int{}
	for i, r := range rules {
		if nodes[i].Kind != yaml.MappingNode {
			continue
		}
		path := fmt.Sprintf("rules[%d]", i)
		if r.Name != "" {
			if j, dup := names[r.Name]; dup {
				p.add(nameNode(nodes[i]), join(path, "name"), "rule name %q is used twice (lines %d and %d); names must be unique",
					r.Name, rules[j].line, r.line)
			} else {
				names[r.Name] = i
			}
		}
		if !r.matchOK {
			continue
		}
		key := r.Match.key()
		if j, dup := matches[key]; dup {
			o := rules[j]
			p.add(r.matchNode, join(path, "match"), "%s (line %d) and %s (line %d) have exactly the same match, so only the first would ever apply; merge them or narrow one",
				o.label(), o.line, r.label(), r.line)
		} else {
			matches[key] = i
		}
	}
}

// label names a rule in a message.
func (r *Rule) label() string {
	if r.Name == "" {
		return "the unnamed rule"
	}
	return "rule '" + r.Name + "'"
}

func nameNode(n *yaml.Node) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "name" {
			return n.Content[i+1]
		}
	}
	return n
}

// key is a canonical form of a match: two matches with the same key cover the same targets.
func normAppEntitlements(list []string) []string {
	out := make([]string, len(list))
	for i, e := range list {
		out[i] = NormalizeAppEntitlement(e)
	}
	return out
}

func (m Match) key() string {
	norm := func(list []string, fold bool) string {
		c := make([]string, len(list))
		for i, s := range list {
			if fold {
				s = strings.ToLower(s)
			}
			c[i] = s
		}
		sort.Strings(c)
		return strings.Join(c, "\x00")
	}
	types := make([]string, 0, len(m.types()))
	for _, t := range m.types() {
		types = append(types, string(t))
	}
	return strings.Join([]string{strings.ToLower(m.application()), norm(types, false), norm(m.Accounts, false),
		norm(m.OUs, false), norm(m.PermissionSets, true), norm(m.Groups, false), norm(normAppEntitlements(m.Entitlements), false)}, "\x01")
}
