package web

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// now is the clock the pages read ("5 minutes ago"); tests pin it.
var now = func() time.Time { return time.Now().UTC() }

// funcs are the helpers the templates use.
var funcs = template.FuncMap{
	"asset":     assetURL,
	"ago":       ago,
	"when":      when,
	"whenPtr":   whenPtr,
	"whenSec":   func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"isoTime":   isoTime,
	"duration":  duration,
	"num":       num,
	"stateTone": stateTone,
	"typeLabel": typeLabel,
	"typeNoun":  typeNoun,
	"pct":       pct,
	"withQuery": withQuery,
	"initials":  initials,
	"join":      strings.Join,
	"has": func(c interface{ Has(string) bool }, role string) bool {
		return c != nil && c.Has(role)
	},
	"add":         func(a, b int) int { return a + b },
	"list":        func(a ...any) []any { return a },
	"sortDir":     sortDir,
	"every":       every,
	"detailPairs": detailPairs,
	"pathEscape":  url.PathEscape,
	"expired":     func(t *time.Time) bool { return t != nil && !t.After(now()) },
	"deref": func(t *time.Time) time.Time {
		if t == nil {
			return time.Time{}
		}
		return *t
	},
}

// when formats a time for a table: "2026-12-03 09:15 UTC" (empty for the zero time).
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func whenPtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return when(*t)
}

// isoTime is the RFC 3339 form, for <time datetime> and links.
func isoTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// ago is a short relative time: "just now", "5 min ago", "3 h ago", "2 days ago", then the
// date.
func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now().Sub(t)
	switch {
	case d < 0:
		return "in " + roughly(-d)
	case d < 45*time.Second:
		return "just now"
	case d < 30*24*time.Hour:
		return roughly(d) + " ago"
	}
	return t.UTC().Format("2 Jan 2006")
}

func roughly(d time.Duration) string {
	switch {
	case d < 90*time.Second:
		return "1 min"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes()+0.5)) + " min"
	case d < 36*time.Hour:
		h := int(d.Hours() + 0.5)
		return strconv.Itoa(h) + " h"
	}
	days := int(d.Hours()/24 + 0.5)
	if days == 1 {
		return "1 day"
	}
	return strconv.Itoa(days) + " days"
}

// duration formats a run time: "850 ms", "12.4 s", "3 min 05 s", "1 h 02 min".
func duration(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Second:
		return strconv.Itoa(int(d.Milliseconds())) + " ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
	case d < time.Hour:
		return fmt.Sprintf("%d min %02d s", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%d h %02d min", int(d.Hours()), int(d.Minutes())%60)
}

// num groups thousands: 100000 -> "100,000".
func num(v any) string {
	var n int64
	switch x := v.(type) {
	case int:
		n = int64(x)
	case int64:
		n = x
	case int32:
		n = int64(x)
	default:
		return fmt.Sprint(v)
	}
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// pct is done/total as a whole percentage, 0 when total is 0.
func pct(done, total int) int {
	if total <= 0 {
		return 0
	}
	p := done * 100 / total
	return min(max(p, 0), 100)
}

// stateTone is the badge colour class of a state word.
func stateTone(state string) string {
	switch state {
	case "succeeded", "added", "active", "ok", "current", "ACTIVE", "approved", "applied":
		return "ok"
	case "partial", "stale", "throttled", "expiring", "ending", "timed_out", "held":
		return "warn"
	case "failed", "removed", "revoked", "expired", "SUSPENDED", "denied", "rejected":
		return "bad"
	case "running", "queued", "pending_approval", "provisioning", "pending", "waiting", "skipped_to_fallback":
		return "info"
	}
	return "neutral"
}

// resourceTypes are the connector's resource types in the order the inventory lists them,
// with the labels people read.
var resourceTypes = []struct{ Type, Label, Noun string }{
	{"account", "Accounts", "account"},
	{"organizational_unit", "Organizational units", "organizational unit"},
	{"iam_user", "IAM users", "IAM user"},
	{"iam_group", "IAM groups", "IAM group"},
	{"iam_role", "IAM roles", "IAM role"},
	{"iam_policy", "IAM policies", "IAM policy"},
	{"access_key", "Access keys", "access key"},
	{"sso_user", "Identity Center users", "Identity Center user"},
	{"sso_group", "Identity Center groups", "Identity Center group"},
	{"permission_set", "Permission sets", "permission set"},
	// Applications imported from files (internal/appimport).
	{"app_user", "Application users", "application user"},
	{"app_resource", "Application resources", "application resource"},
}

// typeLabel is the plural heading of a resource type ("IAM roles").
func typeLabel(t string) string {
	for _, rt := range resourceTypes {
		if rt.Type == t {
			return rt.Label
		}
	}
	return t
}

// typeNoun is the singular name of a resource type ("IAM role").
func typeNoun(t string) string {
	for _, rt := range resourceTypes {
		if rt.Type == t {
			return rt.Noun
		}
	}
	return strings.ReplaceAll(t, "_", " ")
}

// knownType says whether t is one of the connector's resource types.
func knownType(t string) bool {
	for _, rt := range resourceTypes {
		if rt.Type == t {
			return true
		}
	}
	return false
}

// withQuery returns the URL u with the query parameters given as key, value pairs set
// (an empty value removes the key). Sorting and paging links keep the other filters.
func withQuery(u string, kv ...string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return u
	}
	q := parsed.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			q.Del(kv[i])
		} else {
			q.Set(kv[i], kv[i+1])
		}
	}
	parsed.RawQuery = q.Encode()
	return parsed.String()
}

// initials of a name or email for the avatar ("Ada Lovelace" -> "AL").
func initials(name string) string {
	name = strings.TrimSpace(name)
	if i := strings.IndexByte(name, '@'); i > 0 {
		name = strings.NewReplacer(".", " ", "_", " ", "-", " ").Replace(name[:i])
	}
	var out []rune
	for _, f := range strings.Fields(name) {
		for _, r := range f {
			out = append(out, []rune(strings.ToUpper(string(r)))...)
			break
		}
		if len(out) == 2 {
			break
		}
	}
	if len(out) == 0 {
		return "?"
	}
	return string(out)
}

// sortDir is the direction a column header links to: the other one when the column is
// the current sort, else ascending.
func sortDir(key, cur, dir string) string {
	if key == cur && dir != "desc" {
		return "desc"
	}
	return "asc"
}

// every formats a schedule (a Go duration string) for people: "30m0s" -> "30 min".
func every(s string) string {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return s
	}
	switch {
	case d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + " h"
	case d%time.Minute == 0:
		return strconv.Itoa(int(d/time.Minute)) + " min"
	}
	return d.String()
}

// detailPairs turns an audit entry's detail (a JSON object) into key/value pairs sorted by
// key, nested values as compact JSON.
func detailPairs(detail string) [][2]string {
	var m map[string]any
	if json.Unmarshal([]byte(detail), &m) != nil {
		if detail == "" || detail == "{}" {
			return nil
		}
		return [][2]string{{"", detail}}
	}
	out := make([][2]string, 0, len(m))
	for k, v := range m {
		out = append(out, [2]string{k, scalar(v)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}
