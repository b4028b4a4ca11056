package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// startReview creates and starts, as carol, a campaign over prod reviewed by dave, and
// sorts its items: every item, dave's (he reviews), his own (alice reviews them), and the
// items of bob's that dave reviews (not admin-level).
func startReview(t *testing.T, s *jitServer) (camp string, all, wantDaves, mine, bobs []apiItem) {
	t.Helper()
	due := time.Now().UTC().Add(14 * 24 * time.Hour).Truncate(time.Second).Format(time.RFC3339)
	var c apiCampaign
	if code, raw := s.call("carol", "POST", "/api/v1/campaigns", `{"name": "Quarterly review: prod", "scope": {"accounts": ["`+s.prod+`"]},
		"reviewers": {"people": ["dave@example.com"]}, "due": "`+due+`"}`, &c); code != 201 {
		t.Fatalf("create: %d %s", code, raw)
	}
	camp = "/api/v1/campaigns/" + c.ID
	if code, raw := s.call("carol", "POST", camp+"/start", "", nil); code != 200 {
		t.Fatalf("start: %d %s", code, raw)
	}
	all = s.items("carol", camp+"/items", 1000)
	for _, it := range all {
		switch {
		case it.Identity == "dave@example.com":
			mine = append(mine, it)
		case contains(it.Reviewers, "dave@example.com"):
			wantDaves = append(wantDaves, it)
			if it.Identity == "bob@example.com" && !it.AdminLevel {
				bobs = append(bobs, it)
			}
		}
	}
	if len(mine) == 0 || len(bobs) < 2 {
		t.Fatalf("dave's own items %d, bob's %d: %v", len(mine), len(bobs), itemIDs(all))
	}
	return camp, all, wantDaves, mine, bobs
}

// Delegating, reassigning and deciding in bulk: a reviewer hands an item to someone else
// (who then decides it, not them); an auditor gives it back; a bulk keep decides exactly
// the reviewer's undecided items and says so, the progress per reviewer follows; an
// auditor who reviews nothing decides nothing in bulk, every match skipped with why.
func TestCampaignAPIHandOverAndBulk(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			s := newJITServer(t, d, true)
			camp, _, wantDaves, mine, bobs := startReview(t, s)
			item := camp + "/items/"
			var kept apiItem
			if code, raw := s.call("dave", "POST", item+bobs[0].ID+"/decision", `{"decision": "keep", "reason": "on the payments team"}`, &kept); code != 200 {
				t.Fatalf("keep: %d %s", code, raw)
			}
			var revoked apiItem
			if code, raw := s.call("dave", "POST", item+bobs[1].ID+"/decision", `{"decision": "revoke", "reason": "no longer on call"}`, &revoked); code != 200 {
				t.Fatalf("revoke: %d %s", code, raw)
			}

			// Delegate and reassign.
			pending := ""
			for _, it := range wantDaves {
				if it.ID != bobs[0].ID && it.ID != bobs[1].ID && it.Identity != "frank@example.com" {
					pending = it.ID
					break
				}
			}
			var moved apiItem
			if code, raw := s.call("dave", "POST", item+pending+"/delegate", `{"to": "frank@example.com", "reason": "he owns it"}`, &moved); code != 200 ||
				moved.Reviewer != "frank@example.com" || contains(moved.Reviewers, "dave@example.com") {
				t.Errorf("delegate: %d %s", code, raw)
			}
			s.problem("dave", "POST", item+pending+"/decision", `{"decision": "revoke", "reason": "x"}`, 403)
			if code, raw := s.call("carol", "POST", item+pending+"/reassign", `{"to": "dave@example.com", "reason": "frank is away"}`, &moved); code != 200 ||
				moved.Reviewer != "dave@example.com" {
				t.Errorf("reassign: %d %s", code, raw)
			}

			// Bulk: dave keeps every undecided item of his; his own stay with alice.
			undecided := s.items("dave", camp+"/items?decision=none", 100)
			var bulk struct {
				Decided int `json:"decided"`
				Skipped []struct {
					ItemID string `json:"item_id"`
					Why    string `json:"why"`
				} `json:"skipped"`
			}
			code, raw := s.call("dave", "POST", camp+"/decisions", `{"filter": {"decision": "none"}, "decision": "keep", "reason": "confirmed with the team leads"}`, &bulk)
			if code != 200 || bulk.Decided != len(undecided) || len(undecided) == 0 || !strings.Contains(raw, `"skipped":[`) {
				t.Fatalf("bulk keep of %d undecided items: %d %s", len(undecided), code, raw)
			}
			if left := s.items("dave", camp+"/items?decision=none", 100); len(left) != 0 {
				t.Errorf("undecided after the bulk keep: %v", itemIDs(left))
			}
			var progress apiCampaign
			s.call("carol", "GET", camp, "", &progress)
			if progress.Progress.Pending != len(mine) || progress.Progress.Kept != 1+len(undecided) {
				t.Errorf("progress after the bulk keep: %+v; dave's own items %d", progress.Progress, len(mine))
			}
			found := false
			for _, r := range progress.ByReviewer {
				found = found || (r.Reviewer == "dave@example.com" && r.Pending == 0 && r.Decided == r.Total && r.Total == len(wantDaves))
			}
			if !found {
				t.Errorf("progress by reviewer: %+v", progress.ByReviewer)
			}
			// An auditor who reviews nothing decides nothing in bulk: everything is skipped.
			code, raw = s.call("carol", "POST", camp+"/decisions", `{"filter": {"identity": "dave@example.com"}, "decision": "revoke", "reason": "x"}`, &bulk)
			if code != 200 || bulk.Decided != 0 || len(bulk.Skipped) != len(mine) || bulk.Skipped[0].Why == "" {
				t.Errorf("bulk as the auditor: %d %s", code, raw)
			}
		})
	}
}
