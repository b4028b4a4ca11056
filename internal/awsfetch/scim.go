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

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/inventory"
)

// scimPageSize is the largest page of the Identity Center SCIM ListUsers call ("count":
// 1 to 100, default 100).
const scimPageSize = 100

// scimMaxPages bounds the pages of one listing, so that a server that keeps answering
// new cursors without end cannot hold the sync forever (100 users a page: ten million
// users).
const scimMaxPages = 100000

// scimUser is the part of a SCIM user that the fetch reads.
type scimUser struct {
	ID       string `json:"id"`
	UserName string `json:"userName"`
	Active   *bool  `json:"active"`
}

// scimListResponse is a SCIM list response. Identity Center answers a request that
// carries the cursor parameter with itemsPerPage and nextCursor (no nextCursor on the
// last page), and a request without it with one page in the RFC 7644 shape
// (totalResults, startIndex, itemsPerPage) and no way to ask for the next one.
type scimListResponse struct {
	TotalResults *int       `json:"totalResults"`
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
	// reach is whether the SCIM endpoint has answered in this fetch: until it has, a
	// failure gets the short retry of an unproven AWS endpoint (reach.go), because SCIM
	// is optional data and a wrong or unreachable endpoint must not hold the sync for
	// minutes. It is the SCIM endpoint's own: AWS having answered proves nothing here.
	reach reachability
}

// scimError is a SCIM listing that did not succeed: an HTTP status (0 for a network or
// decoding failure) and what the server or the transport said.
type scimError struct {
	status   int
	detail   string
	attempts int // > 1 when the call was retried
	endpoint string
	err      error
}

func (e *scimError) Error() string { return "SCIM ListUsers: " + e.Reason() }
func (e *scimError) Unwrap() error { return e.err }

// Reason says what went wrong and what to do, in one line, without the token.
func (e *scimError) Reason() string {
	switch {
	case e.status == http.StatusUnauthorized:
		return "SCIM token rejected (401): create a new token in Identity Center > Settings > Automatic provisioning (tokens expire after a year) and pass it with --scim-token or GATEHOUSE_SCIM_TOKEN"
	case e.status == http.StatusForbidden:
		return fmt.Sprintf("SCIM access denied (403: %s): check that the token was created for this Identity Center instance (Settings > Automatic provisioning)", e.detail)
	case e.status == http.StatusNotFound:
		return fmt.Sprintf("no SCIM API at %s (404): pass --scim-endpoint exactly as Identity Center shows it under Settings > Automatic provisioning (it ends in /scim/v2/)", e.endpoint)
	case e.status == http.StatusTooManyRequests || e.status >= 500:
		return fmt.Sprintf("SCIM endpoint failed (HTTP %d: %s, after %d attempts)", e.status, e.detail, e.attempts)
	case e.status != 0:
		return fmt.Sprintf("SCIM ListUsers refused (HTTP %d: %s)", e.status, e.detail)
	case e.attempts > 1:
		return fmt.Sprintf("SCIM endpoint unreachable: %s (after %d attempts)", e.detail, e.attempts)
	}
	return "SCIM endpoint: " + e.detail
}

// scimStatus lists every user of the SCIM API and returns each one's active status by
// id (which Identity Center's SCIM API and Identity Store share) and by user name.
//
// Identity Center's SCIM API does not support startIndex (its ListUsers documentation
// says so): without the cursor parameter it answers one page and nothing says how to get
// the next. So the listing always sends cursor (empty for the first page) and follows
// each nextCursor until a page comes without one. A server that answers in the RFC's
// index shape instead is read only if that one page holds every user (totalResults);
// otherwise the listing fails rather than returning part of the users.
func scimStatus(ctx context.Context, c *scimClient) (byID, byName map[string]bool, err error) {
	byID, byName = map[string]bool{}, map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		if pages == scimMaxPages {
			return nil, nil, &scimError{detail: fmt.Sprintf("still paging after %d pages; stopping", pages), endpoint: c.endpoint}
		}
		q := url.Values{"count": {strconv.Itoa(scimPageSize)}, "cursor": {cursor}}
		resp, err := c.listUsers(ctx, q)
		if err != nil {
			return nil, nil, err
		}
		for _, u := range resp.Resources {
			active := u.Active == nil || *u.Active // SCIM's default for active is true
			byID[u.ID] = active
			if u.UserName != "" {
				byName[u.UserName] = active
			}
		}
		next := ""
		if resp.NextCursor != nil {
			next = *resp.NextCursor
		}
		switch {
		case next != "" && next == cursor:
			return nil, nil, &scimError{detail: "the server returned the cursor it was given; stopping rather than looping", endpoint: c.endpoint}
		case next != "":
			cursor = next
			continue
		case resp.NextCursor == nil && resp.TotalResults != nil && *resp.TotalResults > len(byID):
			return nil, nil, &scimError{endpoint: c.endpoint, detail: fmt.Sprintf(
				"the server does not page with a cursor: it answered %d of %d users and has no other way to ask for the rest", len(byID), *resp.TotalResults)}
		}
		return byID, byName, nil
	}
}

// listUsers makes one paced, counted and retried GET /Users.
func (c *scimClient) listUsers(ctx context.Context, q url.Values) (*scimListResponse, error) {
	u := strings.TrimRight(c.endpoint, "/") + "/Users?" + q.Encode()
	p := c.pacing.pacer("scim", "")
	c.pacing.rec.operation("scim", "ListUsers")
	var last *scimError
	for attempt := 1; attempt <= c.attempts; attempt++ {
		if err := p.wait(ctx); err != nil {
			return nil, err
		}
		c.reach.begin()
		body, status, retryAfter, err := c.get(ctx, u)
		if err == nil && (status == http.StatusOK || json.Valid(body)) {
			// An answer in JSON is the SCIM API's (or at least an API's): from now on a
			// failure is a blip and gets the full retry.
			c.reach.reached.Store(true)
		}
		throttled := status == http.StatusTooManyRequests
		c.pacing.rec.attempt("scim", "ListUsers", errIf(err, status), throttled)
		if throttled {
			p.throttled()
		}
		switch {
		case err == nil && status == http.StatusOK:
			var resp scimListResponse
			if err := json.Unmarshal(body, &resp); err != nil {
				return nil, &scimError{detail: "the answer is not a SCIM list: " + err.Error(), endpoint: c.endpoint, err: err}
			}
			return &resp, nil
		case err != nil:
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			detail := err.Error()
			if why, ok := Unreachable(err); ok {
				detail = why
			}
			last = &scimError{detail: detail, attempts: attempt, endpoint: c.endpoint, err: err}
		case throttled || status >= 500:
			last = &scimError{status: status, detail: scimMessage(body), attempts: attempt, endpoint: c.endpoint}
		default:
			// 401 (a wrong or expired token), 403, 404 and other client errors: retrying
			// does not change the answer.
			return nil, &scimError{status: status, detail: scimMessage(body), attempts: attempt, endpoint: c.endpoint}
		}
		if attempt == c.attempts {
			break
		}
		if !c.reach.reached.Load() {
			// Never answered: a few quick attempts within the budget, then the cause.
			if c.reach.givenUp(attempt) {
				break
			}
			if !sleep(ctx, reachBackoff) {
				return nil, ctx.Err()
			}
			continue
		}
		wait := retryAfter
		if wait <= 0 {
			// Full jitter, as the AWS SDKs do.
			ceiling := min(c.backoff, time.Duration(1<<min(attempt, 20))*100*time.Millisecond)
			wait = time.Duration(rand.Int64N(int64(ceiling) + 1))
		}
		if !sleep(ctx, wait) {
			return nil, ctx.Err()
		}
	}
	return nil, last
}

// sleep waits for d, or less if ctx ends first; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
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

// settleUserStatus gives each Identity Center user a status or the reason it is
// unknown. The Identity Store API's UserStatus (ListUsers) is what AWS itself reports and
// is taken as it is; SCIM adds nothing to it, so SCIM is asked only when some user came
// without one (an identity store or emulator that does not send it). SCIM is optional
// data: a wrong or expired token, or a SCIM endpoint that fails after retries, leaves
// those users' status unknown with the reason, and never fails the sync. scim is nil when
// no SCIM endpoint is configured.
func settleUserStatus(ctx context.Context, ic *inventory.IdentityCenter, scim *scimClient, log *zap.Logger) error {
	var missing []*inventory.SSOUser
	for _, u := range ic.Users {
		if u.Status == "" {
			missing = append(missing, u)
		} else {
			u.StatusSource = inventory.StatusFromIdentityStore
		}
	}
	if len(missing) == 0 {
		if scim != nil {
			log.Info("SCIM not queried: the Identity Store API reports every user's status")
		}
		return nil
	}
	reason := ""
	if scim == nil {
		reason = "the Identity Store API did not report UserStatus and no SCIM endpoint is configured (--scim-endpoint, --scim-token)"
	} else {
		byID, byName, err := scimStatus(ctx, scim)
		var serr *scimError
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.As(err, &serr):
			reason = serr.Reason()
			log.Warn("Identity Center user status unknown: SCIM failed", zap.String("reason", reason), zap.Int("users", len(missing)))
		default:
			return err
		}
		if reason == "" {
			unknown := 0
			for _, u := range missing {
				active, ok := byID[u.ID]
				if !ok {
					active, ok = byName[u.UserName]
				}
				if !ok {
					u.StatusNote = "unknown: the SCIM API did not return this user"
					unknown++
					continue
				}
				u.Status, u.StatusSource = inventory.UserDisabled, inventory.StatusFromSCIM
				if active {
					u.Status = inventory.UserEnabled
				}
			}
			if unknown > 0 {
				ic.UserStatusNote = fmt.Sprintf("unknown for %d of %d users: the SCIM API did not return them", unknown, len(ic.Users))
			}
			return nil
		}
	}
	for _, u := range missing {
		u.StatusNote = "unknown: " + reason
	}
	ic.UserStatusNote = fmt.Sprintf("unknown for %d of %d users: %s", len(missing), len(ic.Users), reason)
	return nil
}
