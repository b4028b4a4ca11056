package api_test

import (
	"encoding/json"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// apiCampaign is a campaign as the API answers it (the contract's fields).
type apiCampaign struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Description string  `json:"description"`
	State       string  `json:"state"`
	Due         string  `json:"due"`
	Undecided   string  `json:"undecided"`
	CreatedBy   string  `json:"created_by"`
	CreatedAt   string  `json:"created_at"`
	StartedAt   *string `json:"started_at"`
	ClosedAt    *string `json:"closed_at"`
	Scope       struct {
		Accounts []string `json:"accounts"`
	} `json:"scope"`
	Reviewers struct {
		People []string `json:"people"`
	} `json:"reviewers"`
	Progress struct {
		Total, Pending, Kept int
		RevocationPending    int `json:"revocation_pending"`
		TaskOpen             int `json:"task_open"`
	} `json:"progress"`
	ByReviewer []struct {
		Reviewer                string
		Total, Decided, Pending int
	} `json:"by_reviewer"`
}

// apiItem is a review item as the API answers it.
type apiItem struct {
	ID         string `json:"id"`
	CampaignID string `json:"campaign_id"`
	GrantID    string `json:"grant_id"`
	Identity   string `json:"identity"`
	Principal  struct {
		Type, ID, Name string
	} `json:"principal"`
	Entitlement struct {
		ID, Name string
	} `json:"entitlement"`
	AccountID   string   `json:"account_id"`
	Via         string   `json:"via"`
	ViaName     string   `json:"via_name"`
	AdminLevel  bool     `json:"admin_level"`
	Reviewer    string   `json:"reviewer"`
	Reviewers   []string `json:"reviewers"`
	Decision    string   `json:"decision"`
	Reason      string   `json:"reason"`
	DecidedBy   string   `json:"decided_by"`
	DecidedAt   *string  `json:"decided_at"`
	State       string   `json:"state"`
	Plan        string   `json:"plan"`
	Remediation *struct {
		Action, Description, State string
	} `json:"remediation"`
	Events []struct {
		Kind, By, At, Detail, Decision string
	} `json:"events"`
}

// items lists every item of path (a campaign's items or the inbox) as who, page by page
// (pages of size, to walk the page tokens).
func (s *jitServer) items(who, path string, size int) []apiItem {
	s.t.Helper()
	var all []apiItem
	token := ""
	for range 1000 {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		p := path + sep + "page_size=" + itoa(size)
		if token != "" {
			p += "&page_token=" + url.QueryEscape(token)
		}
		var page struct {
			Items []apiItem `json:"items"`
			Next  string    `json:"next_page_token"`
		}
		if code, raw := s.call(who, "GET", p, "", &page); code != 200 || !strings.Contains(raw, `"items":[`) {
			s.t.Fatalf("GET %s as %s: %d %s", p, who, code, raw)
		}
		if len(page.Items) > size {
			s.t.Fatalf("GET %s: %d items on a page of %d", p, len(page.Items), size)
		}
		all = append(all, page.Items...)
		if page.Next == "" {
			return all
		}
		token = page.Next
	}
	s.t.Fatalf("GET %s: no last page", path)
	return nil
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func itemIDs(items []apiItem) []string {
	var ids []string
	for _, it := range items {
		ids = append(ids, it.ID)
	}
	sort.Strings(ids)
	return ids
}

// The contract of issue 12 through a real server on the demo organization: an auditor
// creates a campaign over the prod account and starts it, which freezes exactly the
// access the inventory shows there; the reviewer sees and decides only their items, never
// their own access (403 saying where it goes) and nothing twice (409); a person who
// reviews nothing is refused (403); bulk decisions count what they decided; a closed
// campaign takes no decision (409).
func TestCampaignAPIFlow(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			s := newJITServer(t, d, true)
			due := time.Now().UTC().Add(14 * 24 * time.Hour).Truncate(time.Second).Format(time.RFC3339)

			// carol (auditor) creates a draft: 201 with the campaign.
			var c apiCampaign
			code, raw := s.call("carol", "POST", "/api/v1/campaigns", `{"name": "Quarterly review: prod", "scope": {"accounts": ["`+s.prod+`"]},
				"reviewers": {"people": ["dave@example.com"], "manager": false, "owner": false}, "due": "`+due+`", "undecided": "keep"}`, &c)
			if code != 201 {
				t.Fatalf("create: %d %s", code, raw)
			}
			for _, key := range []string{`"id"`, `"name"`, `"description"`, `"state"`, `"scope"`, `"reviewers"`, `"due"`, `"undecided"`, `"created_by"`,
				`"created_at"`, `"started_at":null`, `"closed_at":null`, `"previous"`, `"progress"`, `"by_reviewer"`} {
				if !strings.Contains(raw, key) {
					t.Errorf("the created campaign lacks %s: %s", key, raw)
				}
			}
			if c.ID == "" || c.State != "draft" || c.Name != "Quarterly review: prod" || c.Due != due || c.Undecided != "keep" || c.CreatedBy != "carol@example.com" ||
				len(c.Scope.Accounts) != 1 || c.Scope.Accounts[0] != s.prod || len(c.Reviewers.People) != 1 || c.Reviewers.People[0] != "dave@example.com" {
				t.Errorf("created campaign = %s", raw)
			}
			if _, err := time.Parse(time.RFC3339, c.CreatedAt); err != nil {
				t.Errorf("created_at %q: %v", c.CreatedAt, err)
			}
			camp := "/api/v1/campaigns/" + c.ID

			// A draft is edited with the keys sent only.
			var edited apiCampaign
			if code, raw := s.call("carol", "PATCH", camp, `{"description": "SOX control AC-4"}`, &edited); code != 200 || edited.Description != "SOX control AC-4" ||
				edited.Name != c.Name || edited.Due != due || len(edited.Scope.Accounts) != 1 {
				t.Errorf("edit: %d %s", code, raw)
			}

			// Starting freezes the items.
			var started apiCampaign
			if code, raw := s.call("carol", "POST", camp+"/start", "", &started); code != 200 || started.State != "active" || started.StartedAt == nil ||
				started.Progress.Total == 0 || started.Progress.Pending != started.Progress.Total {
				t.Fatalf("start: %d %s", code, raw)
			}
			if d := s.problem("carol", "POST", camp+"/start", "", 409); !strings.Contains(d, "a campaign starts once") {
				t.Errorf("start twice: %q", d)
			}
			if d := s.problem("carol", "PATCH", camp, `{"description": "x"}`, 409); !strings.Contains(d, "only a draft can be changed") {
				t.Errorf("edit an active campaign: %q", d)
			}

			// The auditor sees every item, in pages; each is in prod.
			all := s.items("carol", camp+"/items", 7)
			if len(all) != started.Progress.Total {
				t.Fatalf("%d items listed, progress says %d", len(all), started.Progress.Total)
			}
			byID := map[string]apiItem{}
			for _, it := range all {
				byID[it.ID] = it
				if it.CampaignID != c.ID || it.AccountID != s.prod || it.GrantID == "" || it.State != "pending" || it.Decision != "" || it.Reviewer == "" {
					t.Errorf("item %+v", it)
				}
			}
			if len(byID) != len(all) {
				t.Errorf("an item is listed twice across pages")
			}
			// Exactly the Identity Center access the inventory shows in prod, one item per
			// grant and way it is held.
			for _, who := range []string{"alice", "bob", "carol", "dave", "frank"} {
				email := who + "@example.com"
				var access struct {
					Items []struct {
						GrantID          string `json:"grant_id"`
						AccountID        string `json:"account_id"`
						PrincipalType    string `json:"principal_type"`
						ViaEntitlementID string `json:"via_entitlement_id"`
					} `json:"items"`
				}
				s.call("carol", "GET", "/api/v1/people/"+email+"/access?page_size=1000", "", &access)
				var want, got []string
				for _, a := range access.Items {
					if a.AccountID == s.prod && a.PrincipalType == "sso_user" {
						via := a.ViaEntitlementID
						if via == "" {
							via = "direct"
						}
						want = append(want, a.GrantID+" via "+via)
					}
				}
				for _, it := range all {
					if it.Identity == email && it.Principal.Type == "sso_user" {
						got = append(got, it.GrantID+" via "+it.Via)
					}
				}
				sort.Strings(want)
				sort.Strings(got)
				if strings.Join(got, "\n") != strings.Join(want, "\n") || (who != "carol" && len(want) == 0) {
					t.Errorf("%s's Identity Center items:\n%s\nwant (the inventory's access in prod):\n%s", who, strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			}

			// dave reviews everyone's items but his own; his own go to the fallback.
			daves := s.items("dave", camp+"/items", 100)
			var mine, bobs, adminItem []apiItem
			for _, it := range all {
				switch {
				case it.Identity == "dave@example.com":
					if contains(it.Reviewers, "dave@example.com") || it.Reviewer != "alice@example.com" {
						t.Errorf("dave's own item %s is reviewed by %v", it.ID, it.Reviewers)
					}
					mine = append(mine, it)
				case contains(it.Reviewers, "dave@example.com"):
					if it.Identity == "bob@example.com" && !it.AdminLevel {
						bobs = append(bobs, it)
					}
					if it.AdminLevel {
						adminItem = append(adminItem, it)
					}
				}
			}
			var wantDaves []apiItem
			for _, it := range all {
				if contains(it.Reviewers, "dave@example.com") {
					wantDaves = append(wantDaves, it)
				}
			}
			if strings.Join(itemIDs(daves), ",") != strings.Join(itemIDs(wantDaves), ",") || len(mine) == 0 || len(bobs) < 2 || len(adminItem) == 0 {
				t.Fatalf("dave sees %v, reviews %v; his own %d, bob's %d, admin-level %d", itemIDs(daves), itemIDs(wantDaves), len(mine), len(bobs), len(adminItem))
			}
			inbox := s.items("dave", "/api/v1/reviews", 100)
			if strings.Join(itemIDs(inbox), ",") != strings.Join(itemIDs(wantDaves), ",") {
				t.Errorf("dave's inbox %v, want %v", itemIDs(inbox), itemIDs(wantDaves))
			}
			var me struct {
				Roles []string `json:"roles"`
			}
			if s.call("dave", "GET", "/api/v1/me", "", &me); !contains(me.Roles, "reviewer") {
				t.Errorf("dave's roles %v lack reviewer", me.Roles)
			}
			if s.call("bob", "GET", "/api/v1/me", "", &me); contains(me.Roles, "reviewer") {
				t.Errorf("bob's roles %v: he reviews nothing", me.Roles)
			}

			// Who may not decide: bob reviews nothing (403), nobody decides their own access
			// (403 saying where it goes), not even an admin.
			item := camp + "/items/"
			if d := s.problem("bob", "GET", camp+"/items", "", 403); d != "you review no item of campaign "+c.ID+"; only admins, auditors and its reviewers see it" {
				t.Errorf("bob lists the items: %q", d)
			}
			if d := s.problem("bob", "POST", item+adminItem[0].ID+"/decision", `{"decision": "revoke", "reason": "x"}`, 403); d != "you are not the reviewer of item "+adminItem[0].ID+": it waits for dave@example.com" {
				t.Errorf("bob decides an item of dave's: %q", d)
			}
			if d := s.problem("dave", "POST", item+mine[0].ID+"/decision", `{"decision": "keep", "reason": "I need it"}`, 403); d != "this is your own access: it goes to alice@example.com" {
				t.Errorf("dave decides his own access: %q", d)
			}
			if d := s.problem("bob", "POST", item+bobs[0].ID+"/decision", `{"decision": "keep", "reason": "I need it"}`, 403); d != "this is your own access: it goes to dave@example.com" {
				t.Errorf("bob decides his own access: %q", d)
			}

			// dave keeps one of bob's items: 200 with the item; twice is 409.
			var kept apiItem
			code, raw = s.call("dave", "POST", item+bobs[0].ID+"/decision", `{"decision": "keep", "reason": "on the payments team"}`, &kept)
			if code != 200 || kept.ID != bobs[0].ID || kept.State != "kept" || kept.Decision != "keep" || kept.Reason != "on the payments team" ||
				kept.DecidedBy != "dave@example.com" || kept.DecidedAt == nil {
				t.Fatalf("keep: %d %s", code, raw)
			}
			if d := s.problem("dave", "POST", item+bobs[0].ID+"/decision", `{"decision": "revoke", "reason": "changed my mind"}`, 409); !strings.Contains(d, "already decided") {
				t.Errorf("decide twice: %q", d)
			}
			// Keeping admin-level access needs a reason.
			if d := s.problem("dave", "POST", item+adminItem[0].ID+"/decision", `{"decision": "keep"}`, 400); !strings.Contains(d, "reason") {
				t.Errorf("keep admin-level access without a reason: %q", d)
			}
			// A revoke starts the remediation.
			var revoked apiItem
			code, raw = s.call("dave", "POST", item+bobs[1].ID+"/decision", `{"decision": "revoke", "reason": "no longer on call"}`, &revoked)
			if code != 200 || revoked.Decision != "revoke" || (revoked.State != "revocation_pending" && revoked.State != "task_open") || revoked.Remediation == nil {
				t.Fatalf("revoke: %d %s", code, raw)
			}
			var shown apiItem
			if code, raw := s.call("carol", "GET", item+bobs[1].ID, "", &shown); code != 200 || len(shown.Events) == 0 || shown.Events[len(shown.Events)-1].By == "" {
				t.Errorf("the revoked item with its events: %d %s", code, raw)
			}

			// Lists of campaigns: the auditor's, the reviewer's, none for bob.
			var list struct {
				Items []apiCampaign `json:"items"`
			}
			for who, want := range map[string]int{"carol": 1, "dave": 1, "bob": 0} {
				list.Items = nil
				if code, raw := s.call(who, "GET", "/api/v1/campaigns", "", &list); code != 200 || len(list.Items) != want || (want == 1 && list.Items[0].ID != c.ID) {
					t.Errorf("campaigns of %s: %d %s", who, code, raw)
				}
			}

			// Closed: no more decisions.
			var closed apiCampaign
			if code, raw := s.call("carol", "POST", camp+"/close", "", &closed); code != 200 || closed.State != "closed" || closed.ClosedAt == nil {
				t.Fatalf("close: %d %s", code, raw)
			}
			if d := s.problem("alice", "POST", item+mine[0].ID+"/decision", `{"decision": "keep", "reason": "still on the team"}`, 409); !strings.Contains(d, "closed") {
				t.Errorf("decide in a closed campaign: %q", d)
			}
			s.problem("carol", "POST", camp+"/close", "", 409)
		})
	}
}
