package access

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Approval policies say who must approve a request, step by step. They live in the same YAML
// document as the rules, under a top-level policies: key (see docs/jit.md), and a rule names
// one with approval_policy. A request snapshots its policy when it is made, so editing a policy
// never changes a request in flight.

// OnTimeout says what happens when an approval step times out.
type OnTimeout string

// The timeout actions.
const (
	// Escalate hands the step to the policy's fallback approvers.
	Escalate OnTimeout = "escalate"
	// Expire ends the request (state expired).
	Expire OnTimeout = "expire"
)

// ExtendMode says whether more time on a lease needs approval again.
type ExtendMode string

// The extension modes.
const (
	// ExtendApproveAgain: an extension waits for one approval by an approver of the request.
	ExtendApproveAgain ExtendMode = "approve_again"
	// ExtendAuto: an extension within the rule's maximum is granted at once.
	ExtendAuto ExtendMode = "auto"
)

// Approvers names who may approve. A step's approvers are the union of every source set.
type Approvers struct {
	// People are emails, compared case-insensitively.
	People []string `json:"people,omitempty"`
	// Groups are Identity Center group names or ids; their members approve.
	Groups []string `json:"groups,omitempty"`
	// Manager is the requester's manager (the Identity Center user's manager attribute).
	Manager bool `json:"manager,omitempty"`
	// Owners are the owners of the account and of the permission set (or group) requested.
	Owners bool `json:"owners,omitempty"`
	// Admins are Gatehouse's admins (the server configuration's admins).
	Admins bool `json:"admins,omitempty"`
	// Nobody approves: the step is approved at once (auto-approve).
	Nobody bool `json:"nobody,omitempty"`
}

// empty says no source is set.
func (a Approvers) empty() bool {
	return len(a.People) == 0 && len(a.Groups) == 0 && !a.Manager && !a.Owners && !a.Admins && !a.Nobody
}

// Describe says who the approvers are, for messages: "alice@example.com, group Approvers or
// the requester's manager".
func (a Approvers) Describe() string {
	if a.Nobody {
		return "nobody (approved at once)"
	}
	var parts []string
	parts = append(parts, a.People...)
	for _, g := range a.Groups {
		parts = append(parts, "group "+g)
	}
	if a.Manager {
		parts = append(parts, "the requester's manager")
	}
	if a.Owners {
		parts = append(parts, "the owners of the account or permission set")
	}
	if a.Admins {
		parts = append(parts, "Gatehouse admins")
	}
	switch len(parts) {
	case 0:
		return "nobody named"
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " or " + parts[len(parts)-1]
}

// Step is one approval step.
type Step struct {
	// Name is optional; the UI shows it ("Manager", "Security").
	Name      string    `json:"name,omitempty"`
	Approvers Approvers `json:"approvers"`
	// Required is how many distinct approvals the step needs (1 unless set).
	Required int `json:"required"`
	// Timeout is how long the step may wait (0: forever); OnTimeout what happens then.
	Timeout   time.Duration `json:"timeout,omitempty"`
	OnTimeout OnTimeout     `json:"on_timeout,omitempty"`
}

// Policy is an approval policy.
type Policy struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Steps run in order; each must be approved before the next starts.
	Steps []Step `json:"steps"`
	// Fallback approves a step in which nobody is eligible (and a step that timed out with
	// on_timeout: escalate). A step is never skipped: with no fallback either, the request
	// cannot be made.
	Fallback Approvers `json:"fallback,omitempty"`
	// Distinct: nobody approves two steps of one request.
	Distinct bool       `json:"distinct,omitempty"`
	Extend   ExtendMode `json:"extend"`

	line int
}

// Line is where the policy starts in its YAML document (0 when built in code).
func (p *Policy) Line() int { return p.line }

// AutoApproved says the policy has steps and every one is approved by nobody: requests are
// approved at once. (A policy without steps, which ParseConfig refuses, is not.)
func (p *Policy) AutoApproved() bool {
	if len(p.Steps) == 0 {
		return false
	}
	for _, s := range p.Steps {
		if !s.Approvers.Nobody {
			return false
		}
	}
	return true
}

// Config is the whole requestability document: the rules and the approval policies they name.
type Config struct {
	Rules    *RuleSet
	Policies []Policy
}

// Policy returns the policy called name, nil when there is none.
func (c *Config) Policy(name string) *Policy {
	if c == nil {
		return nil
	}
	for i := range c.Policies {
		if c.Policies[i].Name == name {
			return &c.Policies[i]
		}
	}
	return nil
}

// DefaultConfig is what a new installation starts with: the seed rule accounts-everyone
// (every permission set on every account, everyone signed in, 1h by default and 8h at most, a
// reason required) and the policy "default": one step approved by any Gatehouse admin other
// than the requester. A lone admin cannot approve their own requests: such a request is refused
// with a message saying to add approvers.
func DefaultConfig() *Config {
	return &Config{
		Rules: DefaultRules(),
		Policies: []Policy{{
			Name:        "default",
			Description: "One approval by a Gatehouse admin other than the requester.",
			Steps:       []Step{{Name: "Admin", Approvers: Approvers{Admins: true}, Required: 1}},
			Distinct:    true,
			Extend:      ExtendApproveAgain,
		}},
	}
}

// ParseConfig reads a requestability document: rules: and policies: (see docs/jit.md). Like
// ParseRules it reports every problem at once as a *ParseError with lines and columns; a rule
// naming a policy the document does not define is a problem at the rule's approval_policy.
func ParseConfig(data []byte, opts ...ParseOption) (*Config, error) {
	p := &parser{file: "rules.yaml", config: true}
	for _, o := range opts {
		o(p)
	}
	rs := p.parse(data)
	if rs != nil {
		p.checkPolicyRefs()
	}
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
	return &Config{Rules: rs, Policies: p.policies}, nil
}

// Validate checks a Config built in code by writing it out and reading it back.
func (c *Config) Validate() error {
	data, err := c.Export()
	if err != nil {
		return fmt.Errorf("write rules: %w", err)
	}
	_, err = ParseConfig(data, WithFileName("rules"))
	return err
}

func (p *parser) checkPolicyRefs() {
	names := map[string]bool{}
	var list []string
	for _, pol := range p.policies {
		if pol.Name != "" && !names[pol.Name] {
			names[pol.Name] = true
			list = append(list, pol.Name)
		}
	}
	for _, ref := range p.policyRefs {
		if names[ref.name] {
			continue
		}
		msg := fmt.Sprintf("no approval policy is called %q", ref.name)
		if s := suggest(ref.name, list); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		if len(list) == 0 {
			msg += "; define it under policies: (see docs/jit.md)"
		} else {
			msg += fmt.Sprintf("; the policies are: %s", strings.Join(list, ", "))
		}
		p.add(ref.node, ref.path, "%s", msg)
	}
}

var (
	policyFields    = []string{"name", "description", "steps", "fallback", "distinct", "extend"}
	stepFields      = []string{"name", "approvers", "required", "timeout", "on_timeout"}
	approverFields  = []string{"people", "groups", "manager", "owners", "admins", "nobody"}
	fallbackFields  = []string{"people", "groups", "admins"}
	onTimeoutValues = []string{string(Escalate), string(Expire)}
	extendValues    = []string{string(ExtendApproveAgain), string(ExtendAuto)}
)

func (p *parser) policyList(f field) []Policy {
	if f.value.Kind == yaml.ScalarNode && f.value.Tag == "!!null" {
		return nil
	}
	if f.value.Kind != yaml.SequenceNode {
		p.add(f.value, "policies", "want a list of policies (each item starts with \"- name:\")")
		return nil
	}
	var out []Policy
	seen := map[string]int{}
	for i, item := range f.value.Content {
		item = resolve(item)
		path := fmt.Sprintf("policies[%d]", i)
		pol := p.policy(item, path)
		if pol.Name != "" {
			if line, dup := seen[pol.Name]; dup {
				p.add(nameNode(item), join(path, "name"), "policy name %q is used twice (lines %d and %d); names must be unique",
					pol.Name, line, pol.line)
			} else {
				seen[pol.Name] = pol.line
			}
		}
		out = append(out, pol)
	}
	return out
}

func (p *parser) policy(n *yaml.Node, path string) Policy {
	pol := Policy{line: n.Line, Extend: ExtendApproveAgain}
	if n.Kind != yaml.MappingNode {
		p.add(n, path, "want a policy (a mapping with name, steps and optionally fallback, distinct, extend)")
		return pol
	}
	fs := p.fields(n, path, policyFields)
	if f, ok := fs["name"]; ok {
		pol.Name = p.str(f, join(path, "name"))
		if pol.Name == "" && f.value.Kind == yaml.ScalarNode && f.value.Tag != "!!null" {
			p.add(f.value, join(path, "name"), "is empty; every policy needs a unique name")
		}
	} else {
		p.add(n, join(path, "name"), "missing; every policy needs a unique name")
	}
	if f, ok := fs["description"]; ok {
		pol.Description = p.str(f, join(path, "description"))
	}
	if f, ok := fs["distinct"]; ok {
		pol.Distinct = p.boolean(f, join(path, "distinct"))
	}
	if f, ok := fs["extend"]; ok {
		if v := p.str(f, join(path, "extend")); v != "" {
			if contains(extendValues, v) {
				pol.Extend = ExtendMode(v)
			} else {
				p.add(f.value, join(path, "extend"), "%q is not an extend mode; want approve_again or auto", v)
			}
		}
	}
	hasFallback := false
	if f, ok := fs["fallback"]; ok && p.mapping(f, join(path, "fallback")) {
		before := len(p.problems)
		pol.Fallback = p.approvers(f.value, join(path, "fallback"), fallbackFields)
		if len(p.problems) == before && pol.Fallback.empty() {
			p.add(f.key, join(path, "fallback"), "names nobody; list people or groups, set admins: true, or remove fallback")
		}
		hasFallback = !pol.Fallback.empty()
	}
	f, ok := fs["steps"]
	switch {
	case !ok:
		p.add(n, join(path, "steps"), "missing; list at least one step (a step with approvers: {nobody: true} approves at once)")
	case f.value.Kind != yaml.SequenceNode || len(f.value.Content) == 0:
		p.add(f.value, join(path, "steps"), "want a list of at least one step, like [{approvers: {groups: [Approvers]}}]")
	default:
		for i, item := range f.value.Content {
			pol.Steps = append(pol.Steps, p.step(resolve(item), fmt.Sprintf("%s.steps[%d]", path, i), hasFallback))
		}
	}
	return pol
}

func (p *parser) step(n *yaml.Node, path string, hasFallback bool) Step {
	s := Step{Required: 1}
	if n.Kind != yaml.MappingNode {
		p.add(n, path, "want a step (a mapping with approvers and optionally required, timeout, on_timeout)")
		return s
	}
	fs := p.fields(n, path, stepFields)
	if f, ok := fs["name"]; ok {
		s.Name = p.str(f, join(path, "name"))
	}
	if f, ok := fs["approvers"]; !ok {
		p.add(n, join(path, "approvers"), "missing; say who approves this step (people, groups, manager, owners, admins, or nobody: true)")
	} else if p.mapping(f, join(path, "approvers")) {
		before := len(p.problems)
		s.Approvers = p.approvers(f.value, join(path, "approvers"), approverFields)
		if len(p.problems) == before {
			if s.Approvers.empty() {
				p.add(f.key, join(path, "approvers"), "names nobody; list people or groups, set manager, owners or admins, or set nobody: true to approve at once")
			} else if s.Approvers.Nobody && (len(s.Approvers.People) > 0 || len(s.Approvers.Groups) > 0 ||
				s.Approvers.Manager || s.Approvers.Owners || s.Approvers.Admins) {
				p.add(f.key, join(path, "approvers"), "nobody: true approves at once, so it cannot be combined with other approvers; keep one or the other")
			}
		}
	}
	if f, ok := fs["required"]; ok {
		var v int
		if f.value.Kind != yaml.ScalarNode || f.value.Tag != "!!int" || f.value.Decode(&v) != nil || v < 1 {
			p.add(f.value, join(path, "required"), "want a whole number of approvals, 1 or more, not %q", f.value.Value)
		} else {
			s.Required = v
			switch {
			case s.Approvers.Nobody && v > 1:
				p.add(f.value, join(path, "required"), "a step approved by nobody needs no approvals; remove required")
			case onlyPeople(s.Approvers) && v > len(s.Approvers.People):
				p.add(f.value, join(path, "required"), "needs %d approvals but names only %d %s; lower required or name more approvers",
					v, len(s.Approvers.People), plural(len(s.Approvers.People), "person", "people"))
			}
		}
	}
	if f, ok := fs["timeout"]; ok {
		if d, good := p.duration(f, join(path, "timeout")); good {
			s.Timeout = d
		}
		if s.Approvers.Nobody {
			p.add(f.key, join(path, "timeout"), "a step approved by nobody never waits, so it cannot time out; remove timeout")
		}
	}
	if f, ok := fs["on_timeout"]; ok {
		v := p.str(f, join(path, "on_timeout"))
		switch {
		case v == "":
		case !contains(onTimeoutValues, v):
			p.add(f.value, join(path, "on_timeout"), "%q is not a timeout action; want escalate or expire", v)
		case s.Timeout == 0 && !hasKey(fs, "timeout"):
			p.add(f.key, join(path, "on_timeout"), "has no timeout to act on; set timeout (like 24h) or remove on_timeout")
		default:
			s.OnTimeout = OnTimeout(v)
		}
	}
	if s.Timeout > 0 && s.OnTimeout == "" {
		s.OnTimeout = Escalate
	}
	if s.Timeout > 0 && s.OnTimeout == Escalate && !hasFallback {
		node := n
		if f, ok := fs["on_timeout"]; ok {
			node = f.value
		} else if f, ok := fs["timeout"]; ok {
			node = f.key
		}
		p.add(node, join(path, "on_timeout"), "escalate (the default when a timeout is set) hands the step to the fallback approvers, and this policy has none; add fallback or set on_timeout: expire")
	}
	return s
}

func hasKey(fs map[string]field, k string) bool {
	_, ok := fs[k]
	return ok
}

func onlyPeople(a Approvers) bool {
	return len(a.People) > 0 && len(a.Groups) == 0 && !a.Manager && !a.Owners && !a.Admins && !a.Nobody
}

func (p *parser) approvers(n *yaml.Node, path string, known []string) Approvers {
	var a Approvers
	fs := p.fields(n, path, known)
	if f, ok := fs["people"]; ok {
		a.People = p.list(f, join(path, "people"))
		for i, e := range a.People {
			if !strings.Contains(e, "@") {
				p.add(f.value.Content[i], join(path, "people"), "%q is not an email address; people are named by email", e)
			}
			a.People[i] = strings.ToLower(e)
		}
	}
	if f, ok := fs["groups"]; ok {
		a.Groups = p.list(f, join(path, "groups"))
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"manager", &a.Manager}, {"owners", &a.Owners}, {"admins", &a.Admins}, {"nobody", &a.Nobody}} {
		if f, ok := fs[b.name]; ok {
			*b.dst = p.boolean(f, join(path, b.name))
		}
	}
	return a
}

// The file shapes Export writes for policies.
type fileConfig struct {
	Rules    []fileRule   `yaml:"rules"`
	Policies []filePolicy `yaml:"policies"`
}

type filePolicy struct {
	Name        string         `yaml:"name"`
	Description string         `yaml:"description,omitempty"`
	Steps       []fileStep     `yaml:"steps"`
	Fallback    *fileApprovers `yaml:"fallback,omitempty"`
	Distinct    bool           `yaml:"distinct"`
	Extend      string         `yaml:"extend"`
}

type fileStep struct {
	Name      string        `yaml:"name,omitempty"`
	Approvers fileApprovers `yaml:"approvers"`
	Required  int           `yaml:"required"`
	Timeout   string        `yaml:"timeout,omitempty"`
	OnTimeout string        `yaml:"on_timeout,omitempty"`
}

type fileApprovers struct {
	People  []string `yaml:"people,omitempty,flow"`
	Groups  []string `yaml:"groups,omitempty,flow"`
	Manager bool     `yaml:"manager,omitempty"`
	Owners  bool     `yaml:"owners,omitempty"`
	Admins  bool     `yaml:"admins,omitempty"`
	Nobody  bool     `yaml:"nobody,omitempty"`
}

func toFileApprovers(a Approvers) fileApprovers {
	return fileApprovers{People: a.People, Groups: a.Groups, Manager: a.Manager, Owners: a.Owners, Admins: a.Admins, Nobody: a.Nobody}
}

// Export writes the document (rules and policies) in the format ParseConfig reads, every
// default spelled out.
func (c *Config) Export() ([]byte, error) {
	rs := c.Rules
	if rs == nil {
		rs = &RuleSet{}
	}
	rules, err := rs.MarshalYAML()
	if err != nil {
		return nil, err
	}
	out := fileConfig{Rules: rules.(fileRules).Rules, Policies: []filePolicy{}}
	for _, pol := range c.Policies {
		fp := filePolicy{Name: pol.Name, Description: pol.Description, Distinct: pol.Distinct, Extend: string(pol.Extend)}
		if fp.Extend == "" {
			fp.Extend = string(ExtendApproveAgain)
		}
		if !pol.Fallback.empty() {
			fa := toFileApprovers(pol.Fallback)
			fp.Fallback = &fa
		}
		for _, s := range pol.Steps {
			fs := fileStep{Name: s.Name, Approvers: toFileApprovers(s.Approvers), Required: max(s.Required, 1)}
			if s.Timeout > 0 {
				fs.Timeout = FormatDuration(s.Timeout)
				fs.OnTimeout = string(s.OnTimeout)
			}
			fp.Steps = append(fp.Steps, fs)
		}
		out.Policies = append(out.Policies, fp)
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
