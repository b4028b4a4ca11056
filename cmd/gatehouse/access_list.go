package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/spf13/cobra"
)

// newAccessListCommand is `gatehouse access list`: your requests, the ones waiting for your
// decision (--to-approve), or everyone's (--all, auditors and admins).
func newAccessListCommand() *cobra.Command {
	var server, state string
	var toApprove, all, asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--to-approve | --all] [--state STATES] [--json]",
		Short: "List your requests for access (--to-approve: those waiting for your decision)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if toApprove && all {
				return errors.New("give --to-approve or --all, not both")
			}
			scope := "mine"
			switch {
			case toApprove:
				scope = "to_approve"
			case all:
				scope = "all"
			}
			c, err := newAPIClient(server)
			if err != nil {
				return err
			}
			ctx := contextOrBackground(cmd)
			// The request id is whole: it is what the next command (approve, release) takes.
			t := &table{header: []string{"ID", "STATE", "REQUESTER", "ACCESS", "FOR", "ENDS", "REASON"}, ids: []int{6, 3}, keep: []int{0}}
			n, token := 0, ""
			for {
				q := url.Values{"scope": {scope}, "page_size": {"1000"}}
				if state != "" {
					q.Set("state", state)
				}
				if token != "" {
					q.Set("page_token", token)
				}
				var page struct {
					Items []json.RawMessage `json:"items"`
					Next  string            `json:"next_page_token"`
				}
				if _, err := c.do(ctx, "GET", "/api/v1/requests?"+q.Encode(), nil, &page); err != nil {
					return err
				}
				for _, raw := range page.Items {
					n++
					if asJSON {
						fmt.Fprintln(cmd.OutOrStdout(), jsonLine(raw))
						continue
					}
					r, err := decodeRequest(raw)
					if err != nil {
						return err
					}
					ends := "-"
					if r.EndsAt != nil {
						ends = *r.EndsAt
					}
					t.add(r.ID, r.State, r.Requester, r.DisplayName, r.Duration, ends, oneLine(r.Reason))
				}
				if page.Next == "" {
					break
				}
				token = page.Next
			}
			if n == 0 {
				what := map[string]string{"mine": "you have no requests", "to_approve": "no request is waiting for your decision", "all": "there are no requests"}[scope]
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
	cmd.Flags().BoolVar(&toApprove, "to-approve", false, "the requests waiting for your decision")
	cmd.Flags().BoolVar(&all, "all", false, "everyone's requests (auditors and admins)")
	cmd.Flags().StringVar(&state, "state", "", "only these states, separated by commas (pending_approval, active, ...)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON line per request instead of a table")
	return cmd
}

// oneLine keeps a free text on one table row.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
