package review

import (
	"context"
	"strings"

	"github.com/gatehouse/gatehouse/internal/auth"
)

// Campaign history: a campaign compared with the previous campaign of the same scope (the
// last one started before it, Campaign.Previous). Items match when they are the same grant
// held the same way (directly, through the same group, or through a lease, whichever lease):
// the question an auditor asks is "what is new since last time, what was kept, and did
// anything we revoked come back".

// Compare compares a campaign with the previous campaign of the same scope (admins and
// auditors). Without a previous campaign the comparison is empty and Previous is "".
func (s *Service) Compare(ctx context.Context, c *auth.Caller, campaignID string) (*Comparison, error) {
	// A campaign the caller cannot see is not found (404) for them, as everywhere; one they
	// review is theirs to see but not to compare.
	camp, err := s.Campaign(ctx, c, campaignID)
	if err != nil {
		return nil, err
	}
	if !c.CanAudit() {
		return nil, Errorf(CodeForbidden, "only admins and auditors compare campaigns")
	}
	out := &Comparison{Previous: camp.Previous, New: []Item{}, Kept: []Item{}, Returned: []Item{}}
	if camp.Previous == "" {
		return out, nil
	}
	prev, err := s.allItems(ctx, c, camp.Previous)
	if err != nil {
		return nil, err
	}
	cur, err := s.allItems(ctx, c, campaignID)
	if err != nil {
		return nil, err
	}
	before := make(map[string]*Item, len(prev))
	for i := range prev {
		before[compareKey(&prev[i])] = &prev[i]
	}
	for _, it := range cur {
		p := before[compareKey(&it)]
		switch {
		case p == nil:
			out.New = append(out.New, it)
		case p.Decision == DecisionRevoke && p.State != ItemPending:
			// Revoked last time and here again: the revoke did not hold, or the access was
			// granted anew.
			out.Returned = append(out.Returned, it)
		case p.State == ItemKept:
			out.Kept = append(out.Kept, it)
		}
	}
	return out, nil
}

// compareKey identifies the same access held the same way across campaigns.
func compareKey(it *Item) string {
	via := it.Via
	if strings.HasPrefix(via, ViaLeasePrefix) {
		via = "lease"
	}
	return it.ConnectionID + "\x00" + it.GrantID + "\x00" + via
}
