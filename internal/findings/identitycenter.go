package findings

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// Identity Center and organization controls (Gatehouse's own, "gh."):
//   - gh.standing_admin: per (account, Identity Center user) holding an admin-level
//     permission set there, whether every way the user holds it is an active just-in-time
//     lease (a lease marked standing does not count: the access existed before it);
//   - gh.departed_access: per Identity Center user holding any permission set anywhere
//     (organization-wide, no account), whether the user is enabled; and per IAM user
//     carrying a person's email, whether that person is still in Identity Center and
//     enabled when the IAM user can still sign in;
//   - gh.session_duration: per permission set, whether its session duration is at most
//     the threshold.
// Grants come from Identity Center (read with every sync), so these are never stale
// with an account; they are judged whenever the sync read Identity Center.

// adminPolicies and adminSetNames make a permission set admin-level, as access reviews
// judge it (internal/review), so that both say the same of the same permission set.
var (
	adminPolicies = []string{"arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/IAMFullAccess"}
	adminSetNames = []string{"AdministratorAccess", "PowerUserAccess"}
)

// adminSet says why a permission set is admin-level ("" when it is not).
func adminSet(ps res) string {
	if slices.Contains(adminSetNames, ps.DisplayName) {
		return "named " + ps.DisplayName
	}
	for _, p := range strs(ps.p, "managed_policies") {
		if slices.Contains(adminPolicies, p) {
			return "has " + p
		}
	}
	if doc := str(ps.p, "inline_policy"); doc != "" {
		if st, err := fullAdminStatements(doc); err == nil && len(st) > 0 {
			return "its inline policy allows * on *"
		}
	}
	return ""
}

// leased is the set of access keys (jit.Target.AccessKey) of active, non-standing leases.
func leased(leases []store.Lease) map[string]string {
	out := map[string]string{}
	for _, l := range leases {
		if l.Standing || (l.State != store.LeaseActive && l.State != store.LeaseEnding) {
			continue
		}
		out[l.AccessKey] = l.ID
	}
	return out
}

// holding is one way a user holds a permission set in an account.
type holding struct {
	set, setName, via, lease string
}

func (e *eval) identityCenter() {
	if !e.hasSSO && len(e.sets) == 0 {
		return
	}
	leases := leased(e.in.Leases)
	inv := e.in.Inventory
	// Per account and user: what they hold there.
	type key struct{ account, user string }
	held := map[key][]holding{}
	for _, g := range inv.Grants {
		if g.ResourceType != "account" || g.PrincipalType != "sso_user" {
			continue
		}
		psID := g.EntitlementID[strings.LastIndex(g.EntitlementID, ":")+1:]
		ps := e.sets[psID]
		name := psID
		if ps.Resource != nil {
			name = ps.DisplayName
		}
		k := key{g.ResourceID, g.PrincipalID}
		if g.Direct {
			h := holding{set: psID, setName: name, via: "direct"}
			h.lease = leases[fmt.Sprintf("account_assignment|%s|%s|USER|%s", g.ResourceID, psID, g.PrincipalID)]
			held[k] = append(held[k], h)
		}
		for _, v := range g.Via {
			gid := strings.TrimSuffix(strings.TrimPrefix(v, "sso_group:"), ":member")
			h := holding{set: psID, setName: name, via: "group " + orText(e.groups[gid], gid)}
			h.lease = leases[fmt.Sprintf("sso_group_membership|%s|%s", gid, g.PrincipalID)]
			held[k] = append(held[k], h)
		}
	}
	byUser := map[string][]string{}
	keys := make([]key, 0, len(held))
	for k := range held {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].account != keys[j].account {
			return keys[i].account < keys[j].account
		}
		return keys[i].user < keys[j].user
	})
	for _, k := range keys {
		hs := held[k]
		u := e.ssoUsers[k.user]
		base := map[string]any{"user_id": k.user}
		if u.Resource != nil {
			base["user_name"], base["email"], base["status"] = str(u.p, "user_name"), u.Email, str(u.p, "status")
		}
		// Standing admin.
		var admin, standing []map[string]any
		for _, h := range hs {
			why := ""
			if ps := e.sets[h.set]; ps.Resource != nil {
				why = adminSet(ps)
			}
			if why == "" {
				continue
			}
			m := map[string]any{"permission_set": h.setName, "permission_set_id": h.set, "via": h.via, "admin_because": why}
			if h.lease != "" {
				m["lease"] = h.lease
			} else {
				standing = append(standing, m)
			}
			admin = append(admin, m)
		}
		if len(admin) > 0 {
			ev := copyMap(base)
			ev["holdings"] = admin
			if len(standing) > 0 {
				var parts []string
				for _, m := range standing {
					parts = append(parts, fmt.Sprintf("%s (%s)", m["permission_set"], m["via"]))
				}
				e.fail(StandingAdmin, k.account, k.user, "holds admin-level access standing, not through a just-in-time lease: "+strings.Join(parts, ", "), ev)
			} else {
				e.pass(StandingAdmin, k.account, k.user, "holds admin-level access only through active just-in-time leases", ev)
			}
		}
		// Departed people: one finding per user over all accounts (below).
		if u.Resource != nil {
			for _, h := range hs {
				byUser[k.user] = append(byUser[k.user], fmt.Sprintf("%s in %s (%s)", h.setName, k.account, h.via))
			}
		}
	}

	// Identity Center users holding permission sets anywhere: disabled fails, enabled
	// passes, unknown says why. One organization-wide finding per user (no account): the
	// person is what departs, and a per-account finding would repeat it for every account.
	users := make([]string, 0, len(byUser))
	for id := range byUser {
		users = append(users, id)
	}
	sort.Strings(users)
	for _, id := range users {
		u, sets := e.ssoUsers[id], byUser[id]
		ev := map[string]any{"user_id": id, "user_name": str(u.p, "user_name"), "email": u.Email, "status": str(u.p, "status"),
			"status_source": str(u.p, "status_source"), "holdings": sets}
		switch str(u.p, "status") {
		case "disabled":
			e.fail(DepartedAccess, "", id, fmt.Sprintf("the user is disabled in Identity Center and still holds %d assignment(s): %s", len(sets), strings.Join(sets, ", ")), ev)
		case "enabled":
			e.pass(DepartedAccess, "", id, fmt.Sprintf("the user is enabled in Identity Center (%d assignment(s))", len(sets)), ev)
		default:
			e.unknown(DepartedAccess, "", id, "the user's status is unknown: "+orText(str(u.p, "status_note"), "Identity Center did not report it"),
				"Let Gatehouse read the users' status (the Identity Store API's UserStatus, or the SCIM endpoint and token) and sync again.", ev)
		}
	}

	// Session durations.
	ids := make([]string, 0, len(e.sets))
	for id := range e.sets {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		ps := e.sets[id]
		raw := str(ps.p, "session_duration")
		ev := map[string]any{"name": ps.DisplayName, "session_duration": raw, "threshold": e.opts.MaxSessionDuration.String()}
		d, ok := isoDuration(raw)
		switch {
		case raw == "" || !ok:
			e.unknown(SessionDuration, "", ps.ID, fmt.Sprintf("the permission set's session duration %q was not read or does not parse", raw), fixNewData, ev)
		case d > e.opts.MaxSessionDuration:
			e.fail(SessionDuration, "", ps.ID, fmt.Sprintf("session duration %s (%s) is longer than %s", raw, d, e.opts.MaxSessionDuration), ev)
		default:
			e.pass(SessionDuration, "", ps.ID, fmt.Sprintf("session duration %s (%s) is at most %s", raw, d, e.opts.MaxSessionDuration), ev)
		}
	}
}

// departedIAMUsers judges IAM users that carry a person's email (tag email): the person
// left when Identity Center has no user with that email or has it disabled; an IAM user
// of a departed person that can still sign in (console password or active access key)
// fails.
func (e *eval) departedIAMUsers() {
	if !e.hasSSO {
		return
	}
	byMail := map[string][]res{}
	for _, id := range e.ssoOrder {
		u := e.ssoUsers[id]
		if u.Email != "" {
			byMail[strings.ToLower(u.Email)] = append(byMail[strings.ToLower(u.Email)], u)
		}
	}
	for _, a := range e.accounts {
		if a.inactive {
			continue
		}
		for _, u := range a.users {
			mail := strings.ToLower(str(u.p, "email"))
			if mail == "" {
				continue
			}
			ev := pick(u.p, "user_name", "email", "console_access", "access_keys", "credentials_source", "credential_report_generated_at")
			people := byMail[mail]
			left := ""
			switch {
			case len(people) == 0:
				left = "no Identity Center user has the email " + mail
			default:
				ev["identity_center_user"], ev["identity_center_status"] = people[0].ID, str(people[0].p, "status")
				switch str(people[0].p, "status") {
				case "disabled":
					left = "the person (" + mail + ") is disabled in Identity Center"
				case "enabled":
				default:
					e.unknown(DepartedAccess, a.id, u.ID, "the status of the person ("+mail+") in Identity Center is unknown", fixNewData, ev)
					continue
				}
			}
			if left == "" {
				e.pass(DepartedAccess, a.id, u.ID, "the person ("+mail+") is enabled in Identity Center", ev)
				continue
			}
			if a.notRead != "" {
				e.unknown(DepartedAccess, a.id, u.ID, left+"; "+a.notRead, a.readFix(), ev)
				continue
			}
			c := a.credsOf(u)
			if c.problem != "" {
				e.unknown(DepartedAccess, a.id, u.ID, left+"; whether the IAM user can still sign in is unknown: "+c.problem, a.reportFix, ev)
				continue
			}
			var can []string
			if c.console != nil && *c.console {
				can = append(can, "console password")
			}
			for _, k := range c.keys {
				if k.active {
					can = append(can, "active "+k.label)
				}
			}
			if len(can) > 0 {
				e.fail(DepartedAccess, a.id, u.ID, left+" and the IAM user can still sign in: "+strings.Join(can, ", "), ev)
			} else {
				e.pass(DepartedAccess, a.id, u.ID, left+"; the IAM user has no console password and no active access key", ev)
			}
		}
	}
}

var isoPattern = regexp.MustCompile(`^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$`)

// isoDuration parses the ISO 8601 durations Identity Center uses for sessions (PT8H,
// PT1H30M).
func isoDuration(s string) (time.Duration, bool) {
	m := isoPattern.FindStringSubmatch(s)
	if m == nil || s == "PT" {
		return 0, false
	}
	var d time.Duration
	for i, unit := range []time.Duration{time.Hour, time.Minute, time.Second} {
		if m[i+1] != "" {
			n, err := strconv.Atoi(m[i+1])
			if err != nil {
				return 0, false
			}
			d += time.Duration(n) * unit
		}
	}
	return d, true
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+2)
	for k, v := range m {
		out[k] = v
	}
	return out
}
