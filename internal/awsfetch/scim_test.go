package awsfetch

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/inventory"
)

// scimServer serves n users (user-0 ... user-n-1, every third inactive) with cursor
// paging when a cursor parameter is sent, else with startIndex paging (unless
// indexOnly); the first throttle requests are answered 429 and the first fail 500.
func scimServer(t *testing.T, n, pageSize int, indexOnly bool, throttle, fail int32) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := calls.Add(1)
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
		} else if si := q.Get("startIndex"); si != "" {
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
	return srv, &calls
}

func scimUsers(n int) []*inventory.SSOUser {
	var out []*inventory.SSOUser
	for i := 0; i < n; i++ {
		out = append(out, &inventory.SSOUser{ID: fmt.Sprintf("id-%d", i), UserName: fmt.Sprintf("user-%d", i)})
	}
	return out
}

func TestSCIMStatus(t *testing.T) {
	for _, c := range []struct {
		name      string
		indexOnly bool
	}{{"cursor paging", false}, {"index paging", true}} {
		t.Run(c.name, func(t *testing.T) {
			srv, calls := scimServer(t, 7, 3, c.indexOnly, 1, 1)
			g := newPacing(Quotas{}, newRecorder(nil))
			client := &scimClient{endpoint: srv.URL + "/scim/v2/", token: "tok", http: srv.Client(), pacing: g, attempts: 5, backoff: time.Millisecond}
			users := scimUsers(7)
			if err := fetchSCIMStatus(context.Background(), client, users); err != nil {
				t.Fatal(err)
			}
			for i, u := range users {
				if u.Active != (i%3 != 0) {
					t.Errorf("%s active = %v", u.UserName, u.Active)
				}
			}
			// 3 pages, plus one throttled and one failed attempt.
			if got := calls.Load(); got != 5 {
				t.Errorf("%d requests, want 5", got)
			}
			s := &Stats{}
			g.rec.fill(s)
			if s.Calls != 5 || s.Throttles != 1 || s.Retries != 2 {
				t.Errorf("stats: %d calls, %d throttles, %d retries; want 5, 1, 2", s.Calls, s.Throttles, s.Retries)
			}
		})
	}
}

func TestSCIMBadToken(t *testing.T) {
	srv, _ := scimServer(t, 1, 1, false, 0, 0)
	client := &scimClient{endpoint: srv.URL + "/scim/v2", token: "wrong", http: srv.Client(), pacing: newPacing(Quotas{}, newRecorder(nil)), attempts: 5, backoff: time.Millisecond}
	err := fetchSCIMStatus(context.Background(), client, nil)
	if err == nil || !strings.Contains(err.Error(), "HTTP 401") || !strings.Contains(err.Error(), "token") {
		t.Errorf("err = %v, want a 401 that mentions the token", err)
	}
}

func TestSCIMGivesUp(t *testing.T) {
	srv, calls := scimServer(t, 1, 1, false, 0, 100)
	client := &scimClient{endpoint: srv.URL + "/scim/v2", token: "tok", http: srv.Client(), pacing: newPacing(Quotas{}, newRecorder(nil)), attempts: 3, backoff: time.Millisecond}
	err := fetchSCIMStatus(context.Background(), client, nil)
	if err == nil || !strings.Contains(err.Error(), "after 3 attempts") || calls.Load() != 3 {
		t.Errorf("err = %v after %d requests, want failure after 3 attempts", err, calls.Load())
	}
}
