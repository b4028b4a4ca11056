package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/gatehouse/gatehouse/internal/review"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The demo's access review: once the first sync is in, Carol (the auditor) creates and
// starts a campaign over the production account, reviewed by Dave with Alice as the
// fallback (Dave's own access goes to her), so that a newcomer who signs in as Dave finds
// items waiting in his inbox (Reviews) and as Carol the campaign's progress (Campaigns).

// The demo campaign: its name, the account it reviews, and how long reviewers have.
const (
	demoCampaignName    = "Quarterly review: production access"
	demoCampaignAccount = "prod"
	demoCampaignDue     = 14 * 24 * time.Hour
)

// demoReview creates and starts the demo campaign, unless one of that name exists already
// (a --data-dir kept from an earlier run), and says on stderr what waits for whom. It
// returns the campaign.
func demoReview(ctx context.Context, srv *server.Server, stderr io.Writer, url string) (*review.Campaign, error) {
	svc := srv.App.Reviews
	if svc == nil {
		return nil, fmt.Errorf("demo review: this server has no access reviews")
	}
	carol, dave, alice := demoCaller("carol"), demoCaller("dave"), demoCaller("alice")
	existing, _, err := svc.Campaigns(ctx, carol, review.CampaignQuery{Q: demoCampaignName, Page: store.Page{Size: 100}})
	if err != nil {
		return nil, fmt.Errorf("demo review: list campaigns: %w", err)
	}
	var camp *review.Campaign
	for i := range existing {
		if existing[i].Name == demoCampaignName {
			camp = &existing[i]
		}
	}
	if camp == nil {
		accountID, err := demoAccountID(ctx, srv, demoCampaignAccount)
		if err != nil {
			return nil, err
		}
		camp, err = svc.CreateCampaign(ctx, carol, review.CampaignInput{
			Name:        demoCampaignName,
			Description: "Who can reach production, and does each of them still need it? Keep what is needed, revoke the rest.",
			Scope:       review.Scope{Accounts: []string{accountID}},
			Reviewers:   review.Reviewers{People: []string{dave.Email}, Fallback: []string{alice.Email}},
			Due:         time.Now().Add(demoCampaignDue).UTC().Truncate(time.Minute),
			Undecided:   review.UndecidedKeep,
		})
		if err != nil {
			return nil, fmt.Errorf("demo review: create the campaign: %w", err)
		}
	}
	if camp.State == review.CampaignDraft {
		if camp, err = svc.Start(ctx, carol, camp.ID); err != nil {
			return nil, fmt.Errorf("demo review: start the campaign: %w", err)
		}
	}
	waiting := func(c string) (int, error) {
		n, token := 0, ""
		for {
			items, next, err := svc.Inbox(ctx, demoCaller(c), review.ItemQuery{Page: store.Page{Size: 1000, Token: token}})
			if err != nil {
				return 0, fmt.Errorf("demo review: %s's inbox: %w", c, err)
			}
			n += len(items)
			if next == "" {
				return n, nil
			}
			token = next
		}
	}
	forDave, err := waiting("dave")
	if err != nil {
		return nil, err
	}
	forAlice, err := waiting("alice")
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "\nReview: %s started %q over %s: %d items, %d waiting for %s, %d for %s (the fallback) · %s/reviews\n",
		carol.Email, camp.Name, demoCampaignAccount, camp.Progress.Total, forDave, dave.Email, forAlice, alice.Email, url)
	return camp, nil
}

// demoAccountID is the id of the inventory's account named name.
func demoAccountID(ctx context.Context, srv *server.Server, name string) (string, error) {
	rs, _, err := srv.App.Store.ListResources(ctx, store.ResourceFilter{Type: "account", Q: name}, store.Page{Size: 100})
	if err != nil {
		return "", fmt.Errorf("demo review: find the account %s: %w", name, err)
	}
	for _, r := range rs {
		if r.DisplayName == name {
			return r.ID, nil
		}
	}
	return "", fmt.Errorf("demo review: the inventory has no account named %s (%d accounts matched)", name, len(rs))
}
