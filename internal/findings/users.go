package findings

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// IAM users (1.10 to 1.15): one finding per user and control, whose resource is the
// user's ARN. 1.10 to 1.14 are judged from the credential report's row of the user (or,
// for a user created after the report, the same columns read with per-user calls, which
// are as of the sync); 1.15 from GetAccountAuthorizationDetails.

// fixUserCalls is how to let Gatehouse read a user newer than the credential report.
const fixUserCalls = "Allow iam:GetLoginProfile, iam:GetUser, iam:ListMFADevices, iam:ListAccessKeys and iam:GetAccessKeyLastUsed on the account's users to Gatehouse's role (gatehouse setup aws generates them) and sync again."

// creds is a user's credential columns.
type creds struct {
	// problem, when not empty, makes every credential control unknown.
	problem string
	// unread names the per-user calls IAM denied (iam:GetLoginProfile...).
	unread  []string
	console *bool
	mfa     bool
	// passwordUsed and passwordChanged are nil when never used / not known.
	passwordUsed, passwordChanged *time.Time
	keys                          []userKey
}

type userKey struct {
	label    string // "access key 1" (the report's slot) or "access key AKIA..."
	active   bool
	rotated  *time.Time // access_key_N_last_rotated (or the key's creation)
	lastUsed *time.Time
}

func (c *creds) missing(call string) bool { return slices.Contains(c.unread, call) }

func (a *account) credsOf(u res) creds {
	var c creds
	switch {
	case str(u.p, "credential_report") == "unavailable":
		c.problem = orText(a.reportProblem, "no credential report for account "+a.id)
		return c
	case str(u.p, "credentials_source") == "credential_report" && a.reportProblem != "":
		c.problem = a.reportProblem
		return c
	case str(u.p, "credentials_source") == "":
		c.problem = "the user's credentials were not read by this sync"
		return c
	}
	c.unread = strs(u.p, "credentials_unread")
	if v, ok := boolOf(u.p, "console_access"); ok {
		c.console = &v
	}
	c.mfa, _ = boolOf(u.p, "mfa_active")
	c.passwordUsed = timeOf(u.p, "password_last_used")
	c.passwordChanged = timeOf(u.p, "password_last_changed")
	for _, k := range objects(u.p, "access_keys") {
		uk := userKey{lastUsed: timeOf(k, "last_used")}
		uk.active, _ = boolOf(k, "active")
		if id := str(k, "access_key_id"); id != "" {
			uk.label = "access key " + id
			uk.rotated = timeOf(k, "created")
		} else {
			n, _ := num(k, "slot")
			uk.label = fmt.Sprintf("access key %d", int(n))
			uk.rotated = timeOf(k, "last_rotated")
		}
		c.keys = append(c.keys, uk)
	}
	return c
}

// credEvidence is the user's credential columns as read, with where they come from.
func (a *account) credEvidence(u res) map[string]any {
	ev := pick(u.p, "user_name", "created", "credentials_source", "credential_report_generated_at", "console_access",
		"mfa_active", "password_last_used", "password_last_changed", "access_keys", "credentials_unread")
	if src := str(u.p, "credentials_source"); src == "credential_report" && a.reportAt != nil {
		ev["credential_report_generated_at"] = fmtTime(*a.reportAt)
	}
	return ev
}

func (e *eval) userControls(a *account) {
	if a.inactive {
		return
	}
	for _, u := range a.users {
		arn := u.ID
		if a.notRead != "" {
			for _, c := range []Control{UserMFA, SetupKeys, UnusedCredentials, OneActiveKey, KeyRotation, GroupsOnly} {
				e.unknown(c, a.id, arn, a.notRead, a.readFix(), pick(u.p, "user_name"))
			}
			continue
		}
		c := a.credsOf(u)
		ev := a.credEvidence(u)
		if c.problem != "" {
			for _, ctl := range []Control{UserMFA, SetupKeys, UnusedCredentials, OneActiveKey, KeyRotation} {
				e.unknown(ctl, a.id, arn, c.problem, a.reportFix, ev)
			}
		} else {
			e.userMFA(a, arn, c, ev)
			e.setupKeys(a, arn, c, ev)
			e.unusedCredentials(a, arn, c, ev)
			e.keyControls(a, arn, c, ev)
		}
		e.groupsOnly(a, u)
	}
}

// 1.10: every user whose password_enabled is true has mfa_active true.
func (e *eval) userMFA(a *account, arn string, c creds, ev map[string]any) {
	switch {
	case c.console == nil:
		e.unknown(UserMFA, a.id, arn, "whether the user has a console password is unknown: iam:GetLoginProfile was denied", fixUserCalls, ev)
	case !*c.console:
		e.pass(UserMFA, a.id, arn, "the user has no console password (password_enabled = false)", ev)
	case c.mfa:
		e.pass(UserMFA, a.id, arn, "the user has a console password and MFA (mfa_active = true)", ev)
	case c.missing("iam:ListMFADevices"):
		e.unknown(UserMFA, a.id, arn, "the user has a console password and its MFA devices could not be read: iam:ListMFADevices was denied", fixUserCalls, ev)
	default:
		e.fail(UserMFA, a.id, arn, "the user has a console password (password_enabled = true) and no MFA (mfa_active = false)", ev)
	}
}

// 1.11: a user with a console password and an active access key that was never used
// (access_key_N_last_used_date N/A): the key was set up with the user and is not needed.
func (e *eval) setupKeys(a *account, arn string, c creds, ev map[string]any) {
	switch {
	case c.console == nil:
		e.unknown(SetupKeys, a.id, arn, "whether the user has a console password is unknown: iam:GetLoginProfile was denied", fixUserCalls, ev)
		return
	case !*c.console:
		e.pass(SetupKeys, a.id, arn, "the user has no console password (password_enabled = false)", ev)
		return
	case c.missing("iam:ListAccessKeys") || c.missing("iam:GetAccessKeyLastUsed"):
		e.unknown(SetupKeys, a.id, arn, "the user's access keys or their last use could not be read: "+strings.Join(c.unread, ", ")+" denied", fixUserCalls, ev)
		return
	}
	var unused []string
	for _, k := range c.keys {
		if k.active && k.lastUsed == nil {
			unused = append(unused, k.label)
		}
	}
	if len(unused) > 0 {
		e.fail(SetupKeys, a.id, arn, "the user has a console password and an active access key never used (last used N/A): "+strings.Join(unused, ", "), ev)
		return
	}
	e.pass(SetupKeys, a.id, arn, "every active access key of the user has been used", ev)
}

// 1.12: the password (if enabled) was used less than 45 days before the sync, or, never
// used, changed less than 45 days before; each active key was used less than 45 days
// before, or, never used, rotated (created) less than 45 days before.
func (e *eval) unusedCredentials(a *account, arn string, c creds, ev map[string]any) {
	at := e.in.At
	var stale, unknown []string
	if c.console == nil {
		unknown = append(unknown, "console password (iam:GetLoginProfile denied)")
	} else if *c.console {
		switch {
		case c.passwordUsed != nil:
			if d := at.Sub(*c.passwordUsed); d >= unusedAfter {
				stale = append(stale, fmt.Sprintf("password last used %s (%d days)", fmtTime(*c.passwordUsed), days(d)))
			}
		case c.missing("iam:GetUser"):
			unknown = append(unknown, "password last use (iam:GetUser denied)")
		case c.passwordChanged != nil:
			if d := at.Sub(*c.passwordChanged); d >= unusedAfter {
				stale = append(stale, fmt.Sprintf("password never used, last changed %s (%d days)", fmtTime(*c.passwordChanged), days(d)))
			}
		default:
			unknown = append(unknown, "password never used and its last change is unknown (the user is newer than the credential report)")
		}
	}
	if c.missing("iam:ListAccessKeys") {
		unknown = append(unknown, "access keys (iam:ListAccessKeys denied)")
	}
	for _, k := range c.keys {
		if !k.active {
			continue
		}
		switch {
		case k.lastUsed != nil:
			if d := at.Sub(*k.lastUsed); d >= unusedAfter {
				stale = append(stale, fmt.Sprintf("%s last used %s (%d days)", k.label, fmtTime(*k.lastUsed), days(d)))
			}
		case c.missing("iam:GetAccessKeyLastUsed"):
			unknown = append(unknown, k.label+" last use (iam:GetAccessKeyLastUsed denied)")
		case k.rotated != nil:
			if d := at.Sub(*k.rotated); d >= unusedAfter {
				stale = append(stale, fmt.Sprintf("%s never used, last rotated %s (%d days)", k.label, fmtTime(*k.rotated), days(d)))
			}
		default:
			unknown = append(unknown, k.label+" never used and its creation is unknown")
		}
	}
	switch {
	case len(stale) > 0:
		e.fail(UnusedCredentials, a.id, arn, "credentials unused for 45 days or more: "+strings.Join(stale, "; "), ev)
	case len(unknown) > 0:
		e.unknown(UnusedCredentials, a.id, arn, "cannot tell: "+strings.Join(unknown, "; "), fixUserCalls, ev)
	case (c.console == nil || !*c.console) && !slices.ContainsFunc(c.keys, func(k userKey) bool { return k.active }):
		e.pass(UnusedCredentials, a.id, arn, "the user has no console password and no active access key", ev)
	default:
		e.pass(UnusedCredentials, a.id, arn, "every enabled credential of the user was used (or set) less than 45 days before the sync", ev)
	}
}

// 1.13 (at most one active key) and 1.14 (active keys rotated within 90 days).
func (e *eval) keyControls(a *account, arn string, c creds, ev map[string]any) {
	if c.missing("iam:ListAccessKeys") {
		e.unknown(OneActiveKey, a.id, arn, "the user's access keys could not be read: iam:ListAccessKeys was denied", fixUserCalls, ev)
		e.unknown(KeyRotation, a.id, arn, "the user's access keys could not be read: iam:ListAccessKeys was denied", fixUserCalls, ev)
		return
	}
	var active, old, unknown []string
	for _, k := range c.keys {
		if !k.active {
			continue
		}
		active = append(active, k.label)
		switch {
		case k.rotated == nil:
			unknown = append(unknown, k.label)
		case e.in.At.Sub(*k.rotated) > rotateWithin:
			old = append(old, fmt.Sprintf("%s last rotated %s (%d days)", k.label, fmtTime(*k.rotated), days(e.in.At.Sub(*k.rotated))))
		}
	}
	if len(active) > 1 {
		e.fail(OneActiveKey, a.id, arn, fmt.Sprintf("the user has %d active access keys: %s", len(active), strings.Join(active, ", ")), ev)
	} else {
		e.pass(OneActiveKey, a.id, arn, fmt.Sprintf("the user has %d active access key(s)", len(active)), ev)
	}
	switch {
	case len(old) > 0:
		e.fail(KeyRotation, a.id, arn, "active access keys older than 90 days: "+strings.Join(old, "; "), ev)
	case len(unknown) > 0:
		e.unknown(KeyRotation, a.id, arn, "when these active keys were created is unknown: "+strings.Join(unknown, ", "), fixUserCalls, ev)
	case len(active) == 0:
		e.pass(KeyRotation, a.id, arn, "the user has no active access key", ev)
	default:
		e.pass(KeyRotation, a.id, arn, "every active access key was rotated within 90 days", ev)
	}
}

// 1.15: no managed policy attached to the user and no inline policy of the user.
func (e *eval) groupsOnly(a *account, u res) {
	attached, inline := strs(u.p, "attached_policies"), strs(u.p, "inline_policies")
	ev := pick(u.p, "user_name", "groups", "attached_policies", "inline_policies")
	ev["source"] = "GetAccountAuthorizationDetails"
	var parts []string
	if len(attached) > 0 {
		parts = append(parts, "attached policies "+strings.Join(attached, ", "))
	}
	if len(inline) > 0 {
		parts = append(parts, "inline policies "+strings.Join(inline, ", "))
	}
	if len(parts) > 0 {
		e.fail(GroupsOnly, a.id, u.ID, "the user has policies of its own: "+strings.Join(parts, "; "), ev)
		return
	}
	e.pass(GroupsOnly, a.id, u.ID, "the user has no policy of its own", ev)
}
