package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// newAccessCommand is `gatehouse access`: just-in-time access from the command line, for
// engineers (request, list, show, approve, deny, cancel, release, extend) and admins (revoke),
// against a running server. (The access view of a .c1z is gatehouse inspect access.)
func newAccessCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "access",
		Short: "Just-in-time access on a Gatehouse server: request, list, show, approve, deny, cancel, release, extend, revoke",
		Long: `gatehouse access works with a running Gatehouse server's just-in-time access, as the person
an API token acts as. The server comes from --server or GATEHOUSE_SERVER; the token from
GATEHOUSE_TOKEN or the one gatehouse login saved. Each command prints what happened on
stderr and the request as one JSON line on stdout.

  gatehouse access request --server https://gatehouse.example.com --account prod --permission-set AdministratorAccess --for 1h --reason "incident 4711"
  gatehouse access list --to-approve
  gatehouse access approve req_... --reason "ok, incident 4711"

(To read who can reach what in a .c1z file, use gatehouse inspect access.)`,
	}
	cmd.AddCommand(newAccessRequestCommand(), newAccessListCommand(), newAccessShowCommand(),
		newAccessDecideCommand("approve"), newAccessDecideCommand("deny"),
		newAccessEndCommand("cancel"), newAccessEndCommand("release"), newAccessEndCommand("revoke"),
		newAccessExtendCommand())
	return cmd
}

// apiRequestView is what the commands read of a request (they print the whole of it).
type apiRequestView struct {
	ID            string  `json:"id"`
	State         string  `json:"state"`
	Requester     string  `json:"requester"`
	EntitlementID string  `json:"entitlement_id"`
	DisplayName   string  `json:"display_name"`
	Reason        string  `json:"reason"`
	Duration      string  `json:"duration"`
	StartsAt      *string `json:"starts_at"`
	EndsAt        *string `json:"ends_at"`
	Error         string  `json:"error"`
	Steps         []struct {
		Index     int      `json:"index"`
		Approvers []string `json:"approvers"`
		State     string   `json:"state"`
	} `json:"steps"`
	Transitions []struct {
		From   string `json:"from"`
		To     string `json:"to"`
		By     string `json:"by"`
		At     string `json:"at"`
		Reason string `json:"reason"`
	} `json:"transitions"`
	PendingExtension *struct {
		Duration string `json:"duration"`
	} `json:"pending_extension"`
}

// finalStates are the states no request leaves.
var finalStates = map[string]bool{"expired": true, "revoked": true, "denied": true, "cancelled": true, "failed": true}

// describe says in one line where a request is, for stderr.
func (r *apiRequestView) describe() string {
	s := fmt.Sprintf("%s %s: %s", r.ID, r.State, r.DisplayName)
	if r.Duration != "" {
		s += " for " + r.Duration
	}
	switch r.State {
	case "pending_approval":
		for i, st := range r.Steps {
			if st.State == "waiting" {
				s += fmt.Sprintf("; waiting for step %d of %d", i+1, len(r.Steps))
				if len(st.Approvers) > 0 {
					s += " (" + strings.Join(st.Approvers, ", ") + ")"
				}
				break
			}
		}
	case "active":
		if r.EndsAt != nil {
			s += "; until " + *r.EndsAt
		}
		if r.PendingExtension != nil {
			s += "; " + r.PendingExtension.Duration + " more waiting for approval"
		}
	case "failed":
		if r.Error != "" {
			s += ": " + r.Error
		}
	}
	if finalStates[r.State] && len(r.Transitions) > 0 {
		if t := r.Transitions[len(r.Transitions)-1]; t.To == r.State && t.By != "" {
			s += " (by " + t.By
			if t.Reason != "" {
				s += ": " + t.Reason
			}
			s += ")"
		}
	}
	return s
}

// requestPath is the API path of a request (and an action on it).
func requestPath(id string, action string) string {
	p := "/api/v1/requests/" + url.PathEscape(strings.TrimSpace(id))
	if action != "" {
		p += "/" + action
	}
	return p
}

// getRequest reads a request.
func (c *apiClient) getRequest(ctx context.Context, id string) (*apiRequestView, []byte, error) {
	var r apiRequestView
	raw, err := c.do(ctx, "GET", requestPath(id, ""), nil, &r)
	if err != nil {
		return nil, nil, err
	}
	return &r, raw, nil
}

// waitForRequest polls a request until it is active or final, printing each new state on
// stderr; it returns the request as it last read it.
func (c *apiClient) waitForRequest(ctx context.Context, stderr io.Writer, r *apiRequestView, raw []byte, every time.Duration) (*apiRequestView, []byte, error) {
	last := r.State
	for r.State != "active" && !finalStates[r.State] {
		select {
		case <-ctx.Done():
			return r, raw, ctx.Err()
		case <-time.After(every):
		}
		next, nraw, err := c.getRequest(ctx, r.ID)
		if err != nil {
			return r, raw, err
		}
		r, raw = next, nraw
		if r.State != last {
			fmt.Fprintln(stderr, r.describe())
			last = r.State
		}
	}
	return r, raw, nil
}

// printRequest prints where a request is on stderr and the request as one JSON line on
// stdout.
func printRequest(cmd *cobra.Command, verb string, r *apiRequestView, raw []byte) {
	fmt.Fprintln(cmd.ErrOrStderr(), verb+" "+r.describe())
	fmt.Fprintln(cmd.OutOrStdout(), jsonLine(raw))
}

// decodeRequest reads a request from a JSON answer.
func decodeRequest(raw []byte) (*apiRequestView, error) {
	var r apiRequestView
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
