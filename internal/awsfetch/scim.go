package awsfetch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/inventory"
)

// scimPageSize is the largest page of the Identity Center SCIM ListUsers call.
const scimPageSize = 100

// scimUser is the part of a SCIM user that the fetch reads.
type scimUser struct {
	ID       string `json:"id"`
	UserName string `json:"userName"`
	Active   *bool  `json:"active"`
}

// scimListResponse is a SCIM list response in either of the shapes Identity Center
// answers: cursor paging (nextCursor) when the request carries a cursor parameter, or
// RFC 7644 index paging (totalResults, startIndex).
type scimListResponse struct {
	TotalResults *int       `json:"totalResults"`
	StartIndex   int        `json:"startIndex"`
	ItemsPerPage int        `json:"itemsPerPage"`
	NextCursor   *string    `json:"nextCursor"`
	Resources    []scimUser `json:"Resources"`
}

// scimClient reads the Identity Center SCIM API with a bearer token.
type scimClient struct {
	endpoint string
	token    string
	http     *http.Client
	pacing   *pacing
	attempts int
	backoff  time.Duration
}

// fetchSCIMStatus reads every user's active status from the SCIM API and sets it on
// the identity store users (matched by id, which SCIM and the Identity Store share, or
// else by user name).
//
// Identity Center's SCIM API pages with a cursor (the RFC's startIndex is not supported
// there), and answers with the RFC's index paging when no cursor is sent; the first
// request sends an empty cursor, and the answer's shape decides how to go on, so both
// Identity Center and plain SCIM 2.0 servers are read completely.
func fetchSCIMStatus(ctx context.Context, c *scimClient, users []*inventory.SSOUser) error {
	byID := map[string]bool{}
	byName := map[string]bool{}
	seen := map[string]bool{}
	cursor := ""
	useCursor := true
	next := 1
pages:
	for {
		q := url.Values{"count": {strconv.Itoa(scimPageSize)}}
		if useCursor {
			q.Set("cursor", cursor)
		} else {
			q.Set("startIndex", strconv.Itoa(next))
		}
		resp, err := c.listUsers(ctx, q)
		if err != nil {
			return err
		}
		added := 0
		for _, u := range resp.Resources {
			if seen[u.ID] {
				continue
			}
			seen[u.ID] = true
			added++
			active := u.Active == nil || *u.Active // SCIM's default for active is true
			byID[u.ID] = active
			if u.UserName != "" {
				byName[u.UserName] = active
			}
		}
		switch {
		case resp.NextCursor != nil:
			if *resp.NextCursor == "" {
				break pages
			}
			if *resp.NextCursor == cursor {
				return errors.New("SCIM ListUsers returned the cursor it was given; stopping rather than looping")
			}
			cursor = *resp.NextCursor
		case resp.TotalResults != nil:
			useCursor = false
			next += len(resp.Resources)
			if len(resp.Resources) == 0 || len(seen) >= *resp.TotalResults {
				if len(seen) < *resp.TotalResults {
					return fmt.Errorf("SCIM ListUsers stopped at %d of %d users", len(seen), *resp.TotalResults)
				}
				break pages
			}
			if added == 0 {
				return fmt.Errorf("SCIM ListUsers returned no new user at index %d of %d", next, *resp.TotalResults)
			}
		default:
			break pages
		}
	}
	for _, u := range users {
		if a, ok := byID[u.ID]; ok {
			u.Active = a
		} else if a, ok := byName[u.UserName]; ok {
			u.Active = a
		}
	}
	return nil
}

// listUsers makes one paced, counted and retried GET /Users.
func (c *scimClient) listUsers(ctx context.Context, q url.Values) (*scimListResponse, error) {
	u := strings.TrimRight(c.endpoint, "/") + "/Users?" + q.Encode()
	p := c.pacing.pacer("scim", "")
	c.pacing.rec.operation("scim", "ListUsers")
	var lastErr error
	for attempt := 1; attempt <= c.attempts; attempt++ {
		if err := p.wait(ctx); err != nil {
			return nil, err
		}
		body, status, retryAfter, err := c.get(ctx, u)
		throttled := status == http.StatusTooManyRequests
		c.pacing.rec.attempt("scim", "ListUsers", errIf(err, status), throttled)
		if throttled {
			p.throttled()
		}
		switch {
		case err == nil && status == http.StatusOK:
			var resp scimListResponse
			if err := json.Unmarshal(body, &resp); err != nil {
				return nil, fmt.Errorf("SCIM ListUsers: the response is not a SCIM list: %w", err)
			}
			return &resp, nil
		case err != nil:
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			lastErr = fmt.Errorf("SCIM ListUsers: %w", err)
		case throttled || status >= 500:
			lastErr = fmt.Errorf("SCIM ListUsers: HTTP %d: %s", status, scimMessage(body))
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			return nil, fmt.Errorf("SCIM ListUsers: HTTP %d (%s): check the SCIM endpoint and its access token, which Identity Center shows once and expires after a year", status, scimMessage(body))
		default:
			return nil, fmt.Errorf("SCIM ListUsers: HTTP %d: %s", status, scimMessage(body))
		}
		if attempt == c.attempts {
			break
		}
		wait := retryAfter
		if wait <= 0 {
			// Full jitter, as the AWS SDKs do.
			ceiling := min(c.backoff, time.Duration(1<<min(attempt, 20))*100*time.Millisecond)
			wait = time.Duration(rand.Int64N(int64(ceiling) + 1))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	return nil, fmt.Errorf("%w (after %d attempts)", lastErr, c.attempts)
}

func (c *scimClient) get(ctx context.Context, u string) (body []byte, status int, retryAfter time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/scim+json, application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, 0, err
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, 0, 0, err
	}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, perr := strconv.Atoi(s); perr == nil && n >= 0 && n < 300 {
			retryAfter = time.Duration(n) * time.Second
		}
	}
	return body, resp.StatusCode, retryAfter, nil
}

// errIf returns err, or an error for a failed HTTP status, for the statistics.
func errIf(err error, status int) error {
	if err != nil {
		return err
	}
	if status >= 300 {
		return fmt.Errorf("HTTP %d", status)
	}
	return nil
}

// scimMessage extracts the detail of a SCIM error body.
func scimMessage(body []byte) string {
	var e struct {
		Detail  string `json:"detail"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) == nil {
		if e.Detail != "" {
			return e.Detail
		}
		if e.Message != "" {
			return e.Message
		}
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
