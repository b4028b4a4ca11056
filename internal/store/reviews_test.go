package store_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// Campaigns, items, reviewers and events round-trip on both databases; item pages are
// keyset pages in seq order; the inbox lists the reviewer's current pending items of active
// campaigns, the earliest due first; a reviewer moved on by SetCurrentReviewers still sees
// the item but no longer has it waiting.
func TestReviewStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		camp := func(id string, due time.Time, state string) *store.ReviewCampaign {
			return &store.ReviewCampaign{ID: id, Name: "campaign " + id, State: state, Scope: "{}", ScopeKey: "k", Reviewers: "{}",
				DueAt: due, Undecided: "keep", CreatedBy: "admin@example.com", CreatedAt: at}
		}
		late, early, draft := camp("rc-late", at.Add(72*time.Hour), "active"), camp("rc-early", at.Add(24*time.Hour), "active"), camp("rc-draft", at.Add(time.Hour), "draft")
		var items []store.ReviewItem
		var revs []store.ReviewItemReviewer
		for _, c := range []*store.ReviewCampaign{late, early, draft} {
			for i := 1; i <= 5; i++ {
				id := fmt.Sprintf("it-%s-%d", c.ID, i)
				items = append(items, store.ReviewItem{CampaignID: c.ID, ID: id, Seq: i, ConnectionID: "aws", GrantID: "g" + id,
					EntitlementID: "e", ResourceType: "account", ResourceID: "111111111111", PrincipalType: "sso_user", PrincipalID: "u",
					Identity: "bob@example.com", Via: "direct", Since: at, AdminLevel: i == 2, State: "pending", UpdatedAt: at,
					Steps: `[["dave@example.com"],["carol@example.com"]]`, Reviewer: "dave@example.com"})
				revs = append(revs, store.ReviewItemReviewer{CampaignID: c.ID, ItemID: id, Email: "Dave@Example.com", Current: true},
					store.ReviewItemReviewer{CampaignID: c.ID, ItemID: id, Email: "carol@example.com", Step: 1})
			}
		}
		err := s.InTx(ctx, func(tx *store.Tx) error {
			for _, c := range []*store.ReviewCampaign{late, early, draft} {
				if err := tx.InsertReviewCampaign(ctx, c); err != nil {
					return err
				}
			}
			if err := tx.InsertReviewItems(ctx, items); err != nil {
				return err
			}
			return tx.InsertReviewItemReviewers(ctx, revs)
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.GetReviewCampaign(ctx, "rc-late")
		if err != nil || got.Name != "campaign rc-late" || !got.DueAt.Equal(late.DueAt) || got.SnapshotSyncs != "{}" {
			t.Fatalf("campaign: %+v %v", got, err)
		}
		// Pages of 2 in seq order.
		var seqs []int
		p := store.Page{Size: 2}
		for {
			page, next, err := s.ListReviewItems(ctx, store.ReviewItemFilter{CampaignID: "rc-late"}, p)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range page {
				seqs = append(seqs, it.Seq)
			}
			if next == "" {
				break
			}
			p.Token = next
		}
		if !reflect.DeepEqual(seqs, []int{1, 2, 3, 4, 5}) {
			t.Errorf("pages: %v", seqs)
		}
		adminOnly, _, err := s.ListReviewItems(ctx, store.ReviewItemFilter{CampaignID: "rc-late", AdminOnly: true}, store.Page{})
		if err != nil || len(adminOnly) != 1 || adminOnly[0].ID != "it-rc-late-2" {
			t.Errorf("admin only: %v %v", adminOnly, err)
		}
		// The inbox: active campaigns only, the earliest due first, across pages.
		var inbox []string
		p = store.Page{Size: 3}
		for {
			page, next, err := s.ListReviewItems(ctx, store.ReviewItemFilter{Reviewer: "dave@example.com", Current: true, States: []string{"pending"}}, p)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range page {
				inbox = append(inbox, it.ID)
			}
			if next == "" {
				break
			}
			p.Token = next
		}
		want := []string{"it-rc-early-1", "it-rc-early-2", "it-rc-early-3", "it-rc-early-4", "it-rc-early-5",
			"it-rc-late-1", "it-rc-late-2", "it-rc-late-3", "it-rc-late-4", "it-rc-late-5"}
		if !reflect.DeepEqual(inbox, want) {
			t.Errorf("inbox %v", inbox)
		}
		// dave keeps item 1 of rc-early: it moves to carol (step 1).
		err = s.InTx(ctx, func(tx *store.Tx) error {
			it, err := tx.ReviewItem(ctx, "rc-early", "it-rc-early-1")
			if err != nil {
				return err
			}
			it.Step, it.Reviewer, it.Decision, it.DecidedBy = 1, "carol@example.com", "keep", "dave@example.com"
			if err := tx.UpdateReviewItem(ctx, it); err != nil {
				return err
			}
			if err := tx.SetCurrentReviewers(ctx, "rc-early", it.ID, 1, []string{"carol@example.com"}); err != nil {
				return err
			}
			for _, k := range []string{"frozen", "decided"} {
				if err := tx.AppendReviewItemEvent(ctx, &store.ReviewItemEvent{CampaignID: "rc-early", ItemID: it.ID, Kind: k, Actor: "dave@example.com", At: at}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.ReviewItemReviewers(ctx, "rc-early", "it-rc-early-1")
		wantRevs := []store.ReviewItemReviewer{{CampaignID: "rc-early", ItemID: "it-rc-early-1", Email: "dave@example.com", Step: 0, Current: false},
			{CampaignID: "rc-early", ItemID: "it-rc-early-1", Email: "carol@example.com", Step: 1, Current: true}}
		if err != nil || !reflect.DeepEqual(r, wantRevs) {
			t.Errorf("reviewers %+v %v", r, err)
		}
		evs, err := s.ReviewItemEvents(ctx, "rc-early", "it-rc-early-1")
		if err != nil || len(evs) != 2 || evs[0].Seq != 1 || evs[1].Seq != 2 || evs[1].Kind != "decided" {
			t.Errorf("events %+v %v", evs, err)
		}
		page, _, err := s.ListReviewItems(ctx, store.ReviewItemFilter{Reviewer: "dave@example.com", Current: true, States: []string{"pending"}}, store.Page{})
		if err != nil || len(page) != 9 || page[0].ID != "it-rc-early-2" {
			t.Errorf("dave's inbox after passing item 1 on: %d %v", len(page), err)
		}
		seen, _, err := s.ListReviewItems(ctx, store.ReviewItemFilter{CampaignID: "rc-early", Reviewer: "dave@example.com"}, store.Page{})
		if err != nil || len(seen) != 5 {
			t.Errorf("dave still sees the campaign's 5 items: %d %v", len(seen), err)
		}
		// dave reviews item 2 at both steps: still one item for him, waiting for him once.
		if err := s.InTx(ctx, func(tx *store.Tx) error {
			return tx.SetCurrentReviewers(ctx, "rc-early", "it-rc-early-2", 1, []string{"dave@example.com"})
		}); err != nil {
			t.Fatal(err)
		}
		counts, err := s.ReviewCampaignReviewerCounts(ctx, "rc-early")
		wantCounts := []store.ReviewerCount{{Email: "carol@example.com", Total: 5, Pending: 1}, {Email: "dave@example.com", Total: 5, Pending: 4}}
		if err != nil || !reflect.DeepEqual(counts, wantCounts) {
			t.Errorf("reviewer counts %+v %v", counts, err)
		}
		for email, want := range map[string]bool{"carol@example.com": true, "dave@example.com": true, "erin@example.com": false} {
			if ok, err := s.ReviewerHasPending(ctx, email); err != nil || ok != want {
				t.Errorf("%s has pending: %v %v", email, ok, err)
			}
		}
		list, _, err := s.ListReviewCampaigns(ctx, store.ReviewCampaignFilter{Reviewer: "carol@example.com", States: []string{"active"}}, store.Page{})
		if err != nil || len(list) != 2 {
			t.Errorf("carol's active campaigns: %d %v", len(list), err)
		}
	})
}
