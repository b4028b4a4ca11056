// Package doctor checks a live Gatehouse connection to AWS step by step (`gatehouse
// doctor`): credentials, the connector role and its External ID, Organizations and
// Identity Center access, every permission the chosen features need (from
// internal/awsperms, the list setup generates policies from), every member account's
// role, and the SCIM endpoint. Each check passes, warns or fails, and every failure
// says how to fix it.
//
// Read permissions are checked with harmless read calls, because a call is the only
// check that sees everything AWS evaluates (service control policies, permissions
// boundaries). Write permissions are never called: they are checked with the IAM policy
// simulator on the role, or, when that is not allowed, by reading the role's policies
// and evaluating them here; each result says which method gave it.
package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/awsperms"
)

// Status is the outcome of a check.
type Status string

// The outcomes. Only FAIL makes the doctor fail; SKIP marks a check that could not run
// because an earlier one failed.
const (
	Pass Status = "PASS"
	Warn Status = "WARN"
	Fail Status = "FAIL"
	Skip Status = "SKIP"
)

// Check is one step of the checklist.
type Check struct {
	// ID is stable, for programs: credentials, role, external-id, organization,
	// identity-center, permissions, member-accounts, scim.
	ID     string `json:"id"`
	Title  string `json:"title"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
	// Fix says what to do; set for every FAIL and WARN.
	Fix string `json:"fix,omitempty"`
	// Method says how the check was made, when there is a choice.
	Method string `json:"method,omitempty"`
	// Items are the parts of a check: one per permission or per member account.
	Items []Item `json:"items,omitempty"`
}

// Item is one permission or one account of a check.
type Item struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail,omitempty"`
	Method string `json:"method,omitempty"`
}

// Report is the whole checklist.
type Report struct {
	// OK is true when nothing failed: everything the chosen features need works.
	OK     bool    `json:"ok"`
	Checks []Check `json:"checks"`
}

// Failed returns the titles of the failed checks.
func (r *Report) Failed() []string {
	var out []string
	for _, c := range r.Checks {
		if c.Status == Fail {
			out = append(out, c.Title)
		}
	}
	return out
}

// Options say what to check.
type Options struct {
	// Config is the connection and the features, as for a sync.
	Config awsfetch.Config
	// Provisioning checks the write permissions of grant and revoke as well.
	Provisioning bool
	// HTTPClient reaches the SCIM endpoint (http.DefaultClient when nil).
	HTTPClient *http.Client
}

// features returns the feature set the options choose.
func (o Options) features() awsperms.Set {
	c := o.Config
	return awsperms.Set{Orgs: c.Orgs, IdentityCenter: c.IdentityCenter, SyncSecrets: c.SyncSecrets,
		SCIM: c.SCIMEndpoint != "", Provisioning: o.Provisioning}
}

// SessionName names doctor's role sessions in CloudTrail, apart from syncs.
const SessionName = "gatehouse-doctor"

// run holds what the steps learn for the steps after them.
type run struct {
	opts     Options
	features awsperms.Set

	base       aws.Config // the loaded configuration, with the source credentials
	callerARN  string     // the source identity
	connector  aws.Config // the connector's identity (the role, or the source)
	connARN    string     // the connector's session ARN
	account    string     // the connector's account
	roleARN    string     // the IAM identity whose policies govern the connector
	sess       *awsfetch.Session
	orgOK      bool
	rootID     string
	orgID      string // the organization's id, from DescribeOrganization
	instance   string // Identity Center instance ARN
	storeID    string
	assumeSeen bool // a member role was assumed
}

// Run checks the setup and returns the checklist. It never returns an error: whatever
// fails is a failed check that says why.
func Run(ctx context.Context, opts Options) *Report {
	r := &run{opts: opts, features: opts.features()}
	if r.opts.Config.SessionName == "" {
		r.opts.Config.SessionName = SessionName
	}
	rep := &Report{}
	add := func(c Check) { rep.Checks = append(rep.Checks, c) }
	skipRest := func(reason string, ids ...string) {
		for _, id := range ids {
			add(Check{ID: id, Title: titles[id], Status: Skip, Detail: reason})
		}
	}
	rest := r.applicable()

	creds := r.credentials(ctx)
	add(creds)
	if creds.Status == Fail {
		skipRest("needs working credentials", rest...)
		return finish(rep)
	}
	role := r.role(ctx)
	add(role)
	if role.Status == Fail {
		skipRest("needs the connector role", rest...)
		return finish(rep)
	}
	add(r.externalID(ctx))

	sess, err := awsfetch.Connect(ctx, r.opts.Config)
	if err != nil {
		// The role was just assumed; this is AWS failing, or the context ending.
		add(Check{ID: "connect", Title: "Connection", Status: Fail, Detail: err.Error(), Fix: "run gatehouse doctor again; if it keeps failing, check the network path to AWS"})
		skipRest("needs a connection", rest...)
		return finish(rep)
	}
	defer sess.Close()
	r.sess = sess

	var org, ic, members Check
	if r.features.Orgs {
		org = r.organization(ctx)
		add(org)
	}
	if r.features.IdentityCenter {
		ic = r.identityCenter(ctx)
		add(ic)
	}
	// The member accounts are checked before the connector's permissions, whose
	// sts:AssumeRole they prove, but reported after them, in the order of the setup.
	if r.features.Orgs {
		if org.Status == Fail {
			members = Check{ID: "member-accounts", Title: titles["member-accounts"], Status: Skip, Detail: "needs access to the organization"}
		} else {
			members = r.memberAccounts(ctx)
		}
	}
	add(r.permissions(ctx))
	if r.features.Orgs {
		add(members)
	}
	if r.features.SCIM {
		add(r.scim(ctx))
	}
	return finish(rep)
}

var titles = map[string]string{
	"credentials":     "Credentials",
	"role":            "Connector role",
	"external-id":     "External ID",
	"organization":    "Organization access",
	"identity-center": "Identity Center",
	"permissions":     "Permissions",
	"member-accounts": "Member accounts",
	"scim":            "SCIM",
}

// applicable lists the checks after the role, for skipping them all at once.
func (r *run) applicable() []string {
	ids := []string{"external-id"}
	if r.features.Orgs {
		ids = append(ids, "organization")
	}
	if r.features.IdentityCenter {
		ids = append(ids, "identity-center")
	}
	ids = append(ids, "permissions")
	if r.features.Orgs {
		ids = append(ids, "member-accounts")
	}
	if r.features.SCIM {
		ids = append(ids, "scim")
	}
	return ids
}

func finish(rep *Report) *Report {
	rep.OK = true
	for _, c := range rep.Checks {
		if c.Status == Fail {
			rep.OK = false
		}
	}
	return rep
}

// WriteText writes the checklist for people: one line per check, then the fix and the
// items that need attention.
func (rep *Report) WriteText(w io.Writer) {
	for _, c := range rep.Checks {
		fmt.Fprintf(w, "%-4s  %-19s %s\n", c.Status, c.Title, c.Detail)
		if c.Method != "" && c.Status != Skip {
			fmt.Fprintf(w, "      checked by %s\n", c.Method)
		}
		for _, it := range c.Items {
			if it.Status == Pass {
				continue
			}
			line := "      - " + it.Name
			if it.Detail != "" {
				line += ": " + it.Detail
			}
			fmt.Fprintln(w, line)
		}
		if c.Fix != "" && (c.Status == Fail || c.Status == Warn) {
			fmt.Fprintf(w, "      fix: %s\n", c.Fix)
		}
	}
	fmt.Fprintln(w)
	if failed := rep.Failed(); len(failed) > 0 {
		fmt.Fprintf(w, "%d %s failed (%s): Gatehouse cannot work with these settings until %s fixed.\n",
			len(failed), plural(len(failed), "check", "checks"), strings.Join(failed, ", "), plural(len(failed), "it is", "they are"))
		return
	}
	warnings := 0
	for _, c := range rep.Checks {
		if c.Status == Warn {
			warnings++
		}
	}
	if warnings > 0 {
		fmt.Fprintf(w, "Everything the chosen features need works, with %d %s to look at.\n", warnings, plural(warnings, "warning", "warnings"))
		return
	}
	fmt.Fprintln(w, "Everything the chosen features need works.")
}

// WriteJSON writes the report as one JSON document.
func (rep *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
