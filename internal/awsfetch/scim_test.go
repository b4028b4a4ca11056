package awsfetch

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/inventory"
)

// scimServer serves n users (user-0 ... user-n-1, every third inactive). In cursor mode
// it pages as Identity Center does (cursor, nextCursor; startIndex ignored); with
// indexOnly it ignores the cursor and pages by startIndex as a plain RFC 7644 server,
// with the true totalResults. The first throttle requests are answered 429 and the first
// fail 500. Every query is recorded.
func scimServer(t *testing.T, n, pageSize int, indexOnly bool, throttle, fail int32) (*httptest.Server, *atomic.Int32, *[]url.Values) {
	var calls atomic.Int32
	var mu sync.Mutex
	var queries []url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := calls.Add(1)
		mu.Lock()
		queries = append(queries, r.URL.Query())
		mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"detail":"bad token"}`)
			return
		}
		if c <= throttle {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		if c <= throttle+fail {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		if r.URL.Path != "/scim/v2/Users" {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		start := 0
		_, cursorMode := q["cursor"]
		cursorMode = cursorMode && !indexOnly
		if cursorMode && q.Get("cursor") != "" {
			start, _ = strconv.Atoi(q.Get("cursor"))
		} else if si := q.Get("startIndex"); si != "" && indexOnly {
			n, _ := strconv.Atoi(si)
			start = n - 1
		}
		end := min(start+pageSize, n)
		var res []map[string]any
		for i := start; i < end; i++ {
			res = append(res, map[string]any{"id": fmt.Sprintf("id-%d", i), "userName": fmt.Sprintf("user-%d", i), "active": i%3 != 0})
		}
		body := map[string]any{"Resources": res, "itemsPerPage": len(res)}
		if cursorMode {
			if end < n {
				body["nextCursor"] = strconv.Itoa(end)
			}
		} else {
			body["totalResults"], body["startIndex"] = n, start+1
		}
		_ = json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls, &queries
}

func scimUsers(n int) []*inventory.SSOUser {
	var out []*inventory.SSOUser
	for i := 0; i < n; i++ {
		out = append(out, &inventory.SSOUser{ID: fmt.Sprintf("id-%d", i), UserName: fmt.Sprintf("user-%d", i)})
	}
	return out
}

func testSCIMClient(srv *httptest.Server, token string, attempts int) *scimClient {
	return &scimClient{endpoint: srv.URL + "/scim/v2/", token: token, http: srv.Client(), pacing: newPacing(Quotas{}, newRecorder(nil)),
		attempts: attempts, backoff: time.Millisecond}
}

// TestSCIMStatus reads status through cursor paging, retrying a throttle and a 5xx, and
// never sends startIndex, which Identity Center's SCIM API does not support.
func TestSCIMStatus(t *testing.T) {
	srv, calls, queries := scimServer(t, 7, 3, false, 1, 1)
	client := testSCIMClient(srv, "tok", 5)
	ic := &inventory.IdentityCenter{Users: scimUsers(7)}
	if err := settleUserStatus(context.Background(), ic, client, zap.NewNop()); err != nil {
		t.Fatal(err)
	}
	for i, u := range ic.Users {
		want := inventory.UserEnabled
		if i%3 == 0 {
			want = inventory.UserDisabled
		}
		if u.Status != want || u.StatusSource != inventory.StatusFromSCIM || u.StatusNote != "" {
			t.Errorf("%s: status %q from %q (%q), want %s from scim", u.UserName, u.Status, u.StatusSource, u.StatusNote, want)
		}
	}
	if ic.UserStatusNote != "" {
		t.Errorf("note %q, want none", ic.UserStatusNote)
	}
	// 3 pages, plus one throttled and one failed attempt.
	if got := calls.Load(); got != 5 {
		t.Errorf("%d requests, want 5", got)
	}
	for _, q := range *queries {
		if _, ok := q["startIndex"]; ok || !q.Has("cursor") || q.Get("count") != "100" {
			t.Errorf("query %v: want cursor and count=100, never startIndex", q)
		}
	}
	s := &Stats{}
	client.pacing.rec.fill(s)
	if s.Calls != 5 || s.Throttles != 1 || s.Retries != 2 {
		t.Errorf("stats: %d calls, %d throttles, %d retries; want 5, 1, 2", s.Calls, s.Throttles, s.Retries)
	}
}

// TestSCIMWithoutCursorPaging: a server that ignores the cursor and answers one page of
// a longer list cannot be read completely without startIndex; the listing fails (and
// the status stays unknown) rather than taking part of the users for all of them.
func TestSCIMWithoutCursorPaging(t *testing.T) {
	srv, _, queries := scimServer(t, 7, 3, true, 0, 0)
	ic := &inventory.IdentityCenter{Users: scimUsers(7)}
	if err := settleUserStatus(context.Background(), ic, testSCIMClient(srv, "tok", 3), zap.NewNop()); err != nil {
		t.Fatal(err)
	}
	for _, u := range ic.Users {
		if u.Status != "" || !strings.Contains(u.StatusNote, "does not page with a cursor: it answered 3 of 7 users") {
			t.Errorf("%s: status %q, note %q; want unknown, not paged", u.UserName, u.Status, u.StatusNote)
		}
	}
	if len(*queries) != 1 {
		t.Errorf("%d requests, want 1", len(*queries))
	}
}

// TestSCIMOptional checks that SCIM failures leave the status unknown with a reason a
// person can act on and never fail: a rejected token (no retry), a 5xx that outlasts the
// retries, a wrong endpoint. A user SCIM does not return is unknown, not disabled.
func TestSCIMOptional(t *testing.T) {
	for _, c := range []struct {
		name, token, path string
		fail              int32
		want              string
		requests          int32
	}{
		{"rejected token", "expired", "/scim/v2/", 0, "unknown: SCIM token rejected (401): create a new token in Identity Center > Settings > Automatic provisioning", 1},
		{"failing endpoint", "tok", "/scim/v2/", 100, "unknown: SCIM endpoint failed (HTTP 500", 3},
		{"wrong endpoint", "tok", "/wrong/", 0, "unknown: no SCIM API at", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, calls, _ := scimServer(t, 2, 3, false, 0, c.fail)
			client := testSCIMClient(srv, c.token, 3)
			client.endpoint = srv.URL + c.path
			ic := &inventory.IdentityCenter{Users: scimUsers(2)}
			ic.Users = append(ic.Users, &inventory.SSOUser{ID: "id-known", UserName: "known", Status: inventory.UserEnabled})
			if err := settleUserStatus(context.Background(), ic, client, zap.NewNop()); err != nil {
				t.Fatalf("SCIM failure failed the sync: %v", err)
			}
			for _, u := range ic.Users[:2] {
				if u.Status != "" || !strings.HasPrefix(u.StatusNote, c.want) {
					t.Errorf("%s: status %q, note %q; want unknown, %q", u.UserName, u.Status, u.StatusNote, c.want)
				}
			}
			if k := ic.Users[2]; k.Status != inventory.UserEnabled || k.StatusSource != inventory.StatusFromIdentityStore {
				t.Errorf("a user with UserStatus was changed: %+v", k)
			}
			if !strings.HasPrefix(ic.UserStatusNote, "unknown for 2 of 3 users: "+strings.TrimPrefix(c.want, "unknown: ")) {
				t.Errorf("note %q", ic.UserStatusNote)
			}
			if strings.Contains(ic.UserStatusNote, "expired") || strings.Contains(ic.UserStatusNote, "Bearer") {
				t.Errorf("the note shows the token: %q", ic.UserStatusNote)
			}
			if got := calls.Load(); got != c.requests {
				t.Errorf("%d requests, want %d", got, c.requests)
			}
		})
	}

	t.Run("user not returned", func(t *testing.T) {
		srv, _, _ := scimServer(t, 2, 3, false, 0, 0)
		ic := &inventory.IdentityCenter{Users: append(scimUsers(2), &inventory.SSOUser{ID: "id-9", UserName: "user-9"})}
		if err := settleUserStatus(context.Background(), ic, testSCIMClient(srv, "tok", 3), zap.NewNop()); err != nil {
			t.Fatal(err)
		}
		if u := ic.Users[2]; u.Status != "" || u.StatusNote != "unknown: the SCIM API did not return this user" {
			t.Errorf("user SCIM did not return: status %q, note %q; want unknown", u.Status, u.StatusNote)
		}
		if ic.Users[0].Status != inventory.UserDisabled || ic.Users[1].Status != inventory.UserEnabled {
			t.Errorf("statuses %q %q", ic.Users[0].Status, ic.Users[1].Status)
		}
		if ic.UserStatusNote != "unknown for 1 of 3 users: the SCIM API did not return them" {
			t.Errorf("note %q", ic.UserStatusNote)
		}
	})
}

// A SCIM endpoint that has never answered in JSON gets the short retry of an unproven
// endpoint (reachAttempts), however many attempts the fetch allows; one that has
// answered like an API keeps the full retry for its failures.
func TestSCIMRetryUntilTheEndpointAnswers(t *testing.T) {
	for _, c := range []struct {
		name     string
		json     bool
		requests int32
	}{
		{"a web page, never an API answer", false, reachAttempts},
		{"API errors in JSON", true, 6},
	} {
		t.Run(c.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				if c.json {
					w.Header().Set("Content-Type", "application/scim+json")
					w.WriteHeader(http.StatusServiceUnavailable)
					_, _ = w.Write([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"503","detail":"try later"}`))
					return
				}
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte("<html><body>upstream down</body></html>"))
			}))
			defer srv.Close()
			client := testSCIMClient(srv, "tok", 6)
			_, _, err := scimStatus(context.Background(), client)
			if err == nil {
				t.Fatal("a failing endpoint listed users")
			}
			if got := calls.Load(); got != c.requests {
				t.Errorf("%d requests, want %d (%v)", got, c.requests, err)
			}
		})
	}
}
