package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"
)

// newReviewCommand is `gatehouse review`: access review campaigns on a running server, for
// the admins and auditors who run them (create, start, close, export) and the reviewers
// who decide (items, inbox, decide), through the server's JSON API like gatehouse access.
func newReviewCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "review",
		Short: "Access review campaigns on a Gatehouse server: create, list, show, start, close, items, inbox, decide, export",
		Long: `gatehouse review works with a running Gatehouse server's access review campaigns, as the
person an API token acts as (the server and token come from --server / GATEHOUSE_SERVER and
GATEHOUSE_TOKEN, or the ones gatehouse login saved). Admins and auditors create, start, close
and export campaigns; reviewers list their items and decide keep or revoke. Each command
prints what happened on stderr and results on stdout (one JSON line per object with --json).

  gatehouse review create -f campaign.yaml
  gatehouse review start rc-...
  gatehouse review items rc-... --state pending
  gatehouse review decide rc-... it-... revoke --reason "left the team"
  gatehouse review export rc-... --format csv -o evidence.csv

A campaign file (YAML or JSON) has the API's keys:

  name: "Quarterly review: production"
  scope: {accounts: ["111111111111"], admin_only: false}
  reviewers: {people: [security-lead@example.com], manager: false, owner: false}
  due: 2026-01-31T17:00:00Z
  undecided: keep   # or revoke, escalate: what happens at the due date to items nobody decided`,
	}
	cmd.AddCommand(newReviewCreateCommand(), newReviewListCommand(), newReviewShowCommand(),
		newReviewCampaignActionCommand("start"), newReviewCampaignActionCommand("close"),
		newReviewItemsCommand(false), newReviewItemsCommand(true), newReviewDecideCommand(), newReviewExportCommand())
	return cmd
}

// apiCampaignView is what the commands read of a campaign.
type apiCampaignView struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	State     string  `json:"state"`
	Due       *string `json:"due"`
	Undecided string  `json:"undecided"`
	Progress  struct {
		Total             int `json:"total"`
		Pending           int `json:"pending"`
		Kept              int `json:"kept"`
		RevocationPending int `json:"revocation_pending"`
		Remediated        int `json:"remediated"`
		TaskOpen          int `json:"task_open"`
	} `json:"progress"`
}

func (c *apiCampaignView) due() string {
	if c.Due == nil {
		return "-"
	}
	return *c.Due
}

// describe says in one line where a campaign is, for stderr.
func (c *apiCampaignView) describe() string {
	s := fmt.Sprintf("%s %q (%s", c.ID, c.Name, c.State)
	if c.Due != nil {
		s += ", due " + *c.Due
	}
	s += ")"
	if c.State != "draft" {
		p := c.Progress
		s += fmt.Sprintf(": %d of %d decided (%d kept, %d revocation pending, %d remediated, %d task open)",
			p.Total-p.Pending, p.Total, p.Kept, p.RevocationPending, p.Remediated, p.TaskOpen)
	}
	return s
}

// apiReviewItemView is what the commands read of an item.
type apiReviewItemView struct {
	ID         string `json:"id"`
	CampaignID string `json:"campaign_id"`
	Identity   string `json:"identity"`
	Principal  struct {
		Type string `json:"type"`
		Name string `json:"name"`
	} `json:"principal"`
	Entitlement struct {
		Name string `json:"name"`
	} `json:"entitlement"`
	Via         string `json:"via"`
	ViaName     string `json:"via_name"`
	AdminLevel  bool   `json:"admin_level"`
	Reviewer    string `json:"reviewer"`
	Decision    string `json:"decision"`
	Reason      string `json:"reason"`
	DecidedBy   string `json:"decided_by"`
	State       string `json:"state"`
	Plan        string `json:"plan"`
	Remediation *struct {
		Description string `json:"description"`
		State       string `json:"state"`
	} `json:"remediation"`
}

func (it *apiReviewItemView) who() string {
	if it.Identity != "" {
		return it.Identity
	}
	if it.Principal.Type != "" {
		return strings.ReplaceAll(it.Principal.Type, "_", " ") + " " + it.Principal.Name
	}
	return it.Principal.Name
}

func (it *apiReviewItemView) through() string {
	if it.ViaName != "" {
		return it.ViaName
	}
	return it.Via
}

// describe says in one line where an item is, for stderr.
func (it *apiReviewItemView) describe() string {
	s := fmt.Sprintf("%s %s: %s, %s", it.ID, it.State, it.who(), it.Entitlement.Name)
	if it.Decision != "" {
		s += "; " + it.Decision + " by " + it.DecidedBy
		if it.Reason != "" {
			s += " (" + oneLine(it.Reason) + ")"
		}
	}
	if it.Remediation != nil && it.Remediation.Description != "" {
		s += "; " + it.Remediation.Description + " [" + it.Remediation.State + "]"
	}
	return s
}

func campaignPath(id string, rest ...string) string {
	p := "/api/v1/campaigns/" + url.PathEscape(strings.TrimSpace(id))
	for _, r := range rest {
		p += "/" + url.PathEscape(strings.TrimSpace(r))
	}
	return p
}

// printCampaign prints a campaign: a line for people on stderr, the JSON on stdout.
func printCampaign(cmd *cobra.Command, verb string, raw []byte) error {
	var c apiCampaignView
	if err := json.Unmarshal(raw, &c); err != nil {
		return err
	}
	fmt.Fprintln(cmd.ErrOrStderr(), verb+" "+c.describe())
	fmt.Fprintln(cmd.OutOrStdout(), jsonLine(raw))
	return nil
}

// readCampaignFile reads a campaign (YAML or JSON; "-" is stdin) as the JSON the API takes.
func readCampaignFile(cmd *cobra.Command, file string) ([]byte, error) {
	var (
		doc []byte
		err error
	)
	if file == "-" {
		doc, err = io.ReadAll(cmd.InOrStdin())
	} else {
		doc, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(doc)) == 0 {
		return nil, fmt.Errorf("%s is empty: give a campaign with name, scope, reviewers, due and undecided (see gatehouse review --help)", file)
	}
	ext := strings.ToLower(filepath.Ext(file))
	if ext == ".json" || (ext != ".yaml" && ext != ".yml" && json.Valid(doc)) {
		if !json.Valid(doc) {
			return nil, fmt.Errorf("%s is not valid JSON", file)
		}
		return doc, nil
	}
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil {
		return nil, fmt.Errorf("%s is neither JSON nor valid YAML: %v", file, err)
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s must be one mapping with the keys name, scope, reviewers, due and undecided", file)
	}
	v, err := yamlToJSON(root.Content[0], "")
	if err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	return json.Marshal(v)
}

// The keys whose values are booleans or numbers; every other value of a campaign is text,
// so that an account id written without quotes (012345678901) keeps its digits as written.
var (
	campaignBoolKeys = map[string]bool{"admin_only": true, "departed": true, "manager": true, "owner": true}
	campaignIntKeys  = map[string]bool{"unused_days": true}
)

// yamlToJSON turns a YAML node of a campaign into JSON values; key is the mapping key the
// node is the value of.
func yamlToJSON(n *yaml.Node, key string) (any, error) {
	switch n.Kind {
	case yaml.AliasNode:
		return yamlToJSON(n.Alias, key)
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			v, err := yamlToJSON(n.Content[i+1], k)
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		return m, nil
	case yaml.SequenceNode:
		out := []any{}
		for _, c := range n.Content {
			v, err := yamlToJSON(c, key)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.ScalarNode:
		switch {
		case n.Tag == "!!null":
			return nil, nil
		case campaignBoolKeys[key]:
			var b bool
			if err := n.Decode(&b); err != nil {
				return nil, fmt.Errorf("line %d: %s must be true or false, got %q", n.Line, key, n.Value)
			}
			return b, nil
		case campaignIntKeys[key]:
			i, err := strconv.Atoi(n.Value)
			if err != nil {
				return nil, fmt.Errorf("line %d: %s must be a whole number, got %q", n.Line, key, n.Value)
			}
			return i, nil
		}
		return n.Value, nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML", n.Line)
}

func newReviewCreateCommand() *cobra.Command {
	var server, file string
	cmd := &cobra.Command{
		Use:   "create -f FILE",
		Short: "Create a draft campaign from FILE (YAML or JSON; - for stdin); admins and auditors",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return errors.New("give the campaign with -f FILE (YAML or JSON; see gatehouse review --help)")
			}
			body, err := readCampaignFile(cmd, file)
			if err != nil {
				return err
			}
			c, err := newAPIClient(server)
			if err != nil {
				return err
			}
			raw, err := c.do(contextOrBackground(cmd), "POST", "/api/v1/campaigns", json.RawMessage(body), nil)
			if err != nil {
				return err
			}
			if err := printCampaign(cmd, "created", raw); err != nil {
				return err
			}
			var created apiCampaignView
			_ = json.Unmarshal(raw, &created)
			fmt.Fprintln(cmd.ErrOrStderr(), "start it with: gatehouse review start "+created.ID)
			return nil
		},
	}
	serverFlag(cmd, &server)
	cmd.Flags().StringVarP(&file, "file", "f", "", "the campaign (YAML or JSON; - for stdin)")
	return cmd
}

func newReviewListCommand() *cobra.Command {
	var server, state string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--state draft|active|closed] [--json]",
		Short: "List campaigns (all of them for admins and auditors, the ones you review otherwise)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newAPIClient(server)
			if err != nil {
				return err
			}
			t := &table{header: []string{"ID", "NAME", "STATE", "DUE", "DECIDED", "PENDING"}, keep: []int{0}}
			q := url.Values{}
			if state != "" {
				q.Set("state", state)
			}
			n, err := eachPage(cmd, c, "/api/v1/campaigns", q, func(raw json.RawMessage) error {
				if asJSON {
					fmt.Fprintln(cmd.OutOrStdout(), jsonLine(raw))
					return nil
				}
				var v apiCampaignView
				if err := json.Unmarshal(raw, &v); err != nil {
					return err
				}
				t.add(v.ID, v.Name, v.State, v.due(), fmt.Sprintf("%d/%d", v.Progress.Total-v.Progress.Pending, v.Progress.Total), strconv.Itoa(v.Progress.Pending))
				return nil
			})
			if err != nil {
				return err
			}
			if n == 0 {
				what := "there are no campaigns you may see"
				if state != "" {
					what += " in state " + state
				}
				fmt.Fprintln(cmd.ErrOrStderr(), what)
				return nil
			}
			if !asJSON {
				_, err = t.write(cmd.OutOrStdout(), terminalWidth)
			}
			return err
		},
	}
	serverFlag(cmd, &server)
	cmd.Flags().StringVar(&state, "state", "", "only campaigns in this state: draft, active or closed")
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON line per campaign instead of a table")
	return cmd
}

// eachPage calls fn with every item of a list, page after page; it returns how many.
func eachPage(cmd *cobra.Command, c *apiClient, path string, q url.Values, fn func(json.RawMessage) error) (int, error) {
	n, token := 0, ""
	for {
		q.Set("page_size", "1000")
		if token != "" {
			q.Set("page_token", token)
		}
		var page struct {
			Items []json.RawMessage `json:"items"`
			Next  string            `json:"next_page_token"`
		}
		if _, err := c.do(contextOrBackground(cmd), "GET", path+"?"+q.Encode(), nil, &page); err != nil {
			return n, err
		}
		for _, raw := range page.Items {
			n++
			if err := fn(raw); err != nil {
				return n, err
			}
		}
		if page.Next == "" {
			return n, nil
		}
		token = page.Next
	}
}

func newReviewShowCommand() *cobra.Command {
	var server string
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show a campaign and its progress",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newAPIClient(server)
			if err != nil {
				return err
			}
			raw, err := c.do(contextOrBackground(cmd), "GET", campaignPath(args[0]), nil, nil)
			if err != nil {
				return err
			}
			return printCampaign(cmd, "campaign", raw)
		},
	}
	serverFlag(cmd, &server)
	return cmd
}

// newReviewCampaignActionCommand is `gatehouse review start ID` and `close ID`.
func newReviewCampaignActionCommand(action string) *cobra.Command {
	var server string
	short := map[string]string{
		"start": "Start a draft campaign: freeze its items from the inventory and notify the reviewers (admins and auditors)",
		"close": "Close an active campaign: no more decisions (admins and auditors)",
	}[action]
	done := map[string]string{"start": "started", "close": "closed"}[action]
	cmd := &cobra.Command{
		Use:   action + " ID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newAPIClient(server)
			if err != nil {
				return err
			}
			raw, err := c.do(contextOrBackground(cmd), "POST", campaignPath(args[0], action), nil, nil)
			if err != nil {
				return err
			}
			return printCampaign(cmd, done, raw)
		},
	}
	serverFlag(cmd, &server)
	return cmd
}

// newReviewItemsCommand is `gatehouse review items ID` (a campaign's items) and, with
// inbox, `gatehouse review inbox` (the items waiting for you across campaigns).
func newReviewItemsCommand(inbox bool) *cobra.Command {
	var server, state, reviewer, account, via, decision, identity, q string
	var adminOnly, asJSON, wide bool
	use, short, args := "items ID [filters] [--json]", "List a campaign's items (every item for admins and auditors, yours for a reviewer)", cobra.ExactArgs(1)
	if inbox {
		use, short, args = "inbox [filters] [--json]", "List the items waiting for your decision across active campaigns", cobra.NoArgs
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  args,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newAPIClient(server)
			if err != nil {
				return err
			}
			qv := url.Values{}
			for k, v := range map[string]string{"state": state, "reviewer": reviewer, "account": account, "via": via, "decision": decision, "identity": identity, "q": q} {
				if v != "" {
					qv.Set(k, v)
				}
			}
			if adminOnly {
				qv.Set("admin_only", "true")
			}
			path := "/api/v1/reviews"
			if !inbox {
				path = campaignPath(args[0], "items")
			}
			// The item id is whole: it is what gatehouse review decide takes. The access names
			// its account ("ReadOnly on prod"); --json has the ids.
			t := &table{header: []string{"ITEM", "STATE", "WHO", "ACCESS", "THROUGH", "REVIEWER", "DECISION"}, keep: []int{0}}
			if inbox {
				t.header = append([]string{"CAMPAIGN"}, t.header...)
				t.keep = []int{0, 1}
			}
			n, err := eachPage(cmd, c, path, qv, func(raw json.RawMessage) error {
				if asJSON {
					fmt.Fprintln(cmd.OutOrStdout(), jsonLine(raw))
					return nil
				}
				var it apiReviewItemView
				if err := json.Unmarshal(raw, &it); err != nil {
					return err
				}
				access := it.Entitlement.Name
				if it.AdminLevel {
					access += " (admin)"
				}
				row := []string{it.ID, it.State, it.who(), access, it.through(), it.Reviewer, it.Decision}
				if inbox {
					row = append([]string{it.CampaignID}, row...)
				}
				t.add(row...)
				return nil
			})
			if err != nil {
				return err
			}
			if n == 0 {
				if inbox {
					fmt.Fprintln(cmd.ErrOrStderr(), "nothing is waiting for your decision")
				} else {
					fmt.Fprintln(cmd.ErrOrStderr(), "no items match")
				}
				return nil
			}
			if !asJSON {
				width := terminalWidth
				if wide {
					width = 0
				}
				_, err = t.write(cmd.OutOrStdout(), width)
			}
			return err
		},
	}
	serverFlag(cmd, &server)
	cmd.Flags().BoolVar(&wide, "wide", false, "print every value whole, however wide the table gets")
	cmd.Flags().StringVar(&state, "state", "", "only items in this state: pending, kept, revocation_pending, remediated, task_open")
	if !inbox {
		cmd.Flags().StringVar(&reviewer, "reviewer", "", "only this reviewer's items (email; admins and auditors)")
	}
	cmd.Flags().StringVar(&account, "account", "", "only this account's items (account id)")
	cmd.Flags().StringVar(&via, "via", "", "only access held this way: direct, group or lease")
	cmd.Flags().StringVar(&decision, "decision", "", "only items decided keep or revoke, or none (undecided)")
	cmd.Flags().StringVar(&identity, "identity", "", "only this person's items (email)")
	cmd.Flags().StringVarP(&q, "search", "q", "", "search in identity, principal, entitlement and account names")
	cmd.Flags().BoolVar(&adminOnly, "admin-only", false, "only admin-level access")
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON line per item instead of a table")
	return cmd
}

func newReviewDecideCommand() *cobra.Command {
	var server, reason string
	cmd := &cobra.Command{
		Use:   "decide ID ITEM keep|revoke [--reason WHY]",
		Short: "Decide an item you review: keep or revoke (a reason is required to keep admin-level access)",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			decision := strings.ToLower(strings.TrimSpace(args[2]))
			if decision != "keep" && decision != "revoke" {
				return fmt.Errorf("the decision is keep or revoke, got %q", args[2])
			}
			c, err := newAPIClient(server)
			if err != nil {
				return err
			}
			raw, err := c.do(contextOrBackground(cmd), "POST", campaignPath(args[0], "items", args[1], "decision"),
				map[string]string{"decision": decision, "reason": reason}, nil)
			if err != nil {
				return err
			}
			var it apiReviewItemView
			if err := json.Unmarshal(raw, &it); err != nil {
				return err
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "decided "+it.describe())
			fmt.Fprintln(cmd.OutOrStdout(), jsonLine(raw))
			return nil
		},
	}
	serverFlag(cmd, &server)
	cmd.Flags().StringVar(&reason, "reason", "", "why (shown on the item, in the export and in the audit log)")
	return cmd
}
