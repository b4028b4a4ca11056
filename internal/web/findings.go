package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/findings"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The findings page (auditors and admins): the compliance controls judged after every
// sync (docs/findings.md), filterable by account, control and status, with the trend of
// each control and each account over the recent syncs as inline SVG bar charts (no
// script: the Content-Security-Policy allows none inline, and SVG attributes are not
// styles).

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/findings", auth.Auditor, h.findings)
	})
}

const (
	// findingsPageSize is how many findings one page (and each "Load more") shows.
	findingsPageSize = 50
	// trendSyncs is how many recent syncs a trend chart shows.
	trendSyncs = 20
	// trendWindow is how far back the trends look.
	trendWindow = 90 * 24 * time.Hour
)

// findingsData is what the findings page shows.
type findingsData struct {
	Account, Control, Status string
	Accounts                 []string
	Controls                 []findings.Control
	Pass, Fail, Unknown      int
	Rows                     []findingRow
	More                     string
	ControlTrends            []trend
	AccountTrends            []trend
}

// findingRow is one finding as the table shows it.
type findingRow struct {
	store.Finding
	Evidence string // indented JSON
	// Label names the resource for people when its id does not (an Identity Center
	// user's email, a permission set's name).
	Label string
}

// trend is one chart: the pass/fail/unknown counts of a control (or an account) at each
// of the recent syncs, oldest first, as stacked bars.
type trend struct {
	Key, Label, Sub     string
	Pass, Fail, Unknown int // at the latest sync
	Bars                []trendBar
	Width               int
	Link                string
}

// trendBar is one sync's stacked bar: heights in the chart's 40-pixel box.
type trendBar struct {
	X                                              int
	FailY, FailH, UnknownY, UnknownH, PassY, PassH int
	Title                                          string
}

const (
	chartHeight = 40
	barWidth    = 8
	barGap      = 3
)

// findings renders the page; an htmx "Load more" gets the next rows only.
func (h *handlers) findings(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := findingsData{Account: strings.TrimSpace(q.Get("account")), Control: strings.TrimSpace(q.Get("control")),
		Status: q.Get("status"), Controls: findings.Controls}
	switch d.Status {
	case "", store.FindingPass, store.FindingFail, store.FindingUnknown:
	default:
		h.badRequest(w, r, "Status must be pass, fail or unknown, got "+strconv.Quote(d.Status)+".")
		return
	}
	if d.Control != "" {
		if _, ok := findings.ControlByID(d.Control); !ok {
			h.badRequest(w, r, "Control "+strconv.Quote(d.Control)+" is not one Gatehouse judges; pick one from the list.")
			return
		}
	}
	f := store.FindingFilter{Account: d.Account, Control: d.Control, Status: d.Status}
	page, next, err := h.app.Store.ListFindingsPage(r.Context(), f, store.Page{Size: findingsPageSize, Token: q.Get("page_token")})
	if errors.Is(err, store.ErrBadPageToken) {
		h.badRequest(w, r, "That page link is not one Gatehouse made; start again from the first page.")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	for _, fd := range page {
		ev := []byte("{}")
		if len(fd.Evidence) > 0 {
			ev, _ = json.MarshalIndent(fd.Evidence, "", "  ")
		}
		row := findingRow{Finding: fd, Evidence: string(ev)}
		for _, k := range []string{"email", "user_name", "name"} {
			if v, _ := fd.Evidence[k].(string); v != "" && !strings.Contains(fd.Resource, v) {
				row.Label = v
				break
			}
		}
		d.Rows = append(d.Rows, row)
	}
	if next != "" {
		d.More = withQuery(r.URL.RequestURI(), "page_token", next)
	}
	p := pageOf("Findings", d)
	if isHTMX(r) && q.Get("page_token") != "" {
		p.Data = d
		h.renderFragment(w, r, "findings", "finding-rows", p)
		return
	}
	counts, err := h.app.Store.FindingCounts(r.Context(), time.Now().Add(-trendWindow), store.FindingFilter{Account: d.Account, Control: d.Control})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	d.ControlTrends, d.AccountTrends, d.Accounts = trends(counts, d)
	now, err := h.app.Store.CountFindings(r.Context(), f)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	d.Pass, d.Fail, d.Unknown = now[store.FindingPass], now[store.FindingFail], now[store.FindingUnknown]
	if d.Account != "" && !containsString(d.Accounts, d.Account) {
		d.Accounts = append(d.Accounts, d.Account)
	}
	p.Data = d
	h.render(w, r, http.StatusOK, "findings", p)
}

func pageOf(title string, d findingsData) page {
	return page{Title: title, Section: "findings", Data: d}
}

func containsString(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// trends builds the charts per control and per account from the counts of each sync (the
// counts of one connection's syncs; several connections' syncs are charted side by side
// in time order), and lists the accounts seen.
func trends(counts []store.FindingCount, d findingsData) (byControl, byAccount []trend, accounts []string) {
	type key struct{ conn, sync string }
	var syncs []key
	seenSync := map[key]bool{}
	for _, c := range counts {
		k := key{c.ConnectionID, c.SyncID}
		if !seenSync[k] {
			seenSync[k] = true
			syncs = append(syncs, k)
		}
	}
	if len(syncs) > trendSyncs {
		syncs = syncs[len(syncs)-trendSyncs:]
	}
	index := map[key]int{}
	for i, k := range syncs {
		index[k] = i
	}
	at := make([]time.Time, len(syncs))
	type series = [][3]int
	perControl, perAccount := map[string]series{}, map[string]series{}
	add := func(m map[string]series, name string, i int, c store.FindingCount) {
		s := m[name]
		if s == nil {
			s = make(series, len(syncs))
			m[name] = s
		}
		s[i][0] += c.Pass
		s[i][1] += c.Fail
		s[i][2] += c.Unknown
	}
	acctSeen := map[string]bool{}
	for _, c := range counts {
		if c.Account != "" && !acctSeen[c.Account] {
			acctSeen[c.Account] = true
			accounts = append(accounts, c.Account)
		}
		i, ok := index[key{c.ConnectionID, c.SyncID}]
		if !ok {
			continue
		}
		at[i] = c.At
		add(perControl, c.Control, i, c)
		if c.Account != "" {
			add(perAccount, c.Account, i, c)
		}
	}
	sort.Strings(accounts)
	chart := func(k, label, sub, link string, s series) trend {
		t := trend{Key: k, Label: label, Sub: sub, Link: link, Width: len(s)*(barWidth+barGap) + barGap}
		maxTotal := 1
		for _, v := range s {
			maxTotal = max(maxTotal, v[0]+v[1]+v[2])
		}
		if n := len(s); n > 0 {
			t.Pass, t.Fail, t.Unknown = s[n-1][0], s[n-1][1], s[n-1][2]
		}
		for i, v := range s {
			scale := func(n int) int {
				if n == 0 {
					return 0
				}
				return max(1, n*chartHeight/maxTotal)
			}
			b := trendBar{X: barGap + i*(barWidth+barGap)}
			b.FailH, b.UnknownH, b.PassH = scale(v[1]), scale(v[2]), scale(v[0])
			b.FailY = chartHeight - b.FailH
			b.UnknownY = b.FailY - b.UnknownH
			b.PassY = b.UnknownY - b.PassH
			b.Title = fmt.Sprintf("%s: %d fail, %d unknown, %d pass", at[i].UTC().Format("2006-01-02 15:04 UTC"), v[1], v[2], v[0])
			t.Bars = append(t.Bars, b)
		}
		return t
	}
	for _, c := range findings.Controls {
		if s, ok := perControl[c.ID]; ok {
			v5 := ""
			if c.CISv5 != "" {
				v5 = "CIS v5 " + c.CISv5
			}
			byControl = append(byControl, chart(c.ID, c.ID, c.Title+sep(v5), findingsURL(d.Account, c.ID, ""), s))
		}
	}
	for _, a := range accounts {
		if s, ok := perAccount[a]; ok {
			byAccount = append(byAccount, chart(a, a, "", findingsURL(a, d.Control, ""), s))
		}
	}
	return byControl, byAccount, accounts
}

func sep(s string) string {
	if s == "" {
		return ""
	}
	return " · " + s
}

// findingsURL is the page filtered so.
func findingsURL(account, control, status string) string {
	var parts []string
	if account != "" {
		parts = append(parts, "account="+account)
	}
	if control != "" {
		parts = append(parts, "control="+control)
	}
	if status != "" {
		parts = append(parts, "status="+status)
	}
	if len(parts) == 0 {
		return "/findings"
	}
	return "/findings?" + strings.Join(parts, "&")
}
