package awsperms

import (
	"fmt"
	"regexp"
	"strings"
)

// flagPattern finds flags in text, to set them in code spans: Markdown renderers would
// otherwise turn "--" into a dash.
var flagPattern = regexp.MustCompile(`--[a-z-]+`)

// MarkdownTable renders List as the permissions table of docs/setup.md, one row per
// use, so that the documentation says exactly what the generated policies hold.
func MarkdownTable() string {
	n := Names{ConnectorRole: "GatehouseConnector", MemberRole: "MEMBER_ROLE"}
	var b strings.Builder
	b.WriteString("| action | needed for | role | resource | what Gatehouse does with it |\n")
	b.WriteString("| --- | --- | --- | --- | --- |\n")
	for _, p := range List {
		var roles []string
		for _, r := range p.Roles {
			roles = append(roles, string(r))
		}
		access := ""
		if p.Access == Write {
			access = " (write)"
		}
		fmt.Fprintf(&b, "| `%s`%s | %s | %s | `%s` | %s |\n", p.Action, access, flagPattern.ReplaceAllString(FeatureNames(p.Features), "`$0`"),
			strings.Join(roles, ", "), n.Pattern(p.Resource, p.Roles[0]), p.Why)
	}
	return b.String()
}
