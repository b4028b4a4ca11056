package web

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// The view types below are what the inventory templates render: the store's records
// with the names and links people read resolved. Handlers build them; templates never
// query.

// ref is a link to one resource, entitlement or person.
type ref struct {
	Type  string // resource type, "entitlement" or "person"
	ID    string
	Name  string
	Extra string // a second line (an email, an account)
}

// URL is the page of the thing referred to.
func (r ref) URL() string {
	switch r.Type {
	case "":
		return ""
	case "entitlement":
		return "/entitlements/" + escapeID(r.ID)
	case "person":
		return "/people/" + escapeID(r.ID)
	}
	return "/inventory/" + r.Type + "/" + escapeID(r.ID)
}

// Label is the name, or the id when the thing has none.
func (r ref) Label() string {
	if r.Name != "" {
		return r.Name
	}
	return r.ID
}

// Noun is what kind of thing it is ("IAM role").
func (r ref) Noun() string {
	switch r.Type {
	case "entitlement":
		return "entitlement"
	case "person":
		return "person"
	}
	return typeNoun(r.Type)
}

// escapeID escapes an id for a path segment: ARNs hold "/" and ":".
func escapeID(id string) string { return idEscaper.Replace(id) }

var idEscaper = strings.NewReplacer("%", "%25", "/", "%2F", "?", "%3F", "#", "%23", " ", "%20")

// staleView says an account's IAM could not be read: its last known access is shown.
type staleView struct {
	LastRead time.Time
	Since    time.Time
	Reason   string
	Fix      string
}

// resourceRowView is one line of an inventory list.
type resourceRowView struct {
	ref
	Account ref
	Email   string
	Stale   *staleView
}

// grantView is one grant: who holds what, through what, since when.
type grantView struct {
	ID          string
	Principal   ref
	Entitlement ref
	Resource    ref
	Account     ref
	// Via are the groups the grant comes through; Direct says it is (also) held directly.
	Via      []ref
	Direct   bool
	Since    time.Time
	Removed  *time.Time
	LastUsed *time.Time
	Stale    bool
}

// changeView is one grant added or removed by a sync.
type changeView struct {
	Kind        string // added, removed
	At          time.Time
	SyncID      string
	Principal   ref
	Entitlement ref
	Account     ref
	Person      string
	// Initial: found by the connection's first sync, not given then.
	Initial bool
}

// profileFacts turns a profile JSON object into label/value pairs, scalar fields only,
// sorted by label.
func profileFacts(profile string) [][2]string {
	var m map[string]any
	if profile == "" || json.Unmarshal([]byte(profile), &m) != nil {
		return nil
	}
	var out [][2]string
	for k, v := range m {
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case bool:
			s = map[bool]string{true: "yes", false: "no"}[x]
		case float64:
			if x == float64(int64(x)) {
				s = num(int64(x))
			} else {
				s = fmt.Sprint(x)
			}
		default:
			continue
		}
		if s == "" {
			continue
		}
		out = append(out, [2]string{factLabel(k), s})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// factLabel makes a profile key readable: "account_id" -> "Account ID".
func factLabel(k string) string {
	words := strings.Split(k, "_")
	for i, w := range words {
		switch w {
		case "id", "arn", "mfa", "ou":
			words[i] = strings.ToUpper(w)
		case "aws":
			words[i] = "AWS"
		default:
			if i == 0 && w != "" {
				words[i] = strings.ToUpper(w[:1]) + w[1:]
			}
		}
	}
	return strings.Join(words, " ")
}
