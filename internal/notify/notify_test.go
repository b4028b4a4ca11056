package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/jit"
	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/notify"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

const secret = "whsec-0123456789abcdef-test-secret"

// noConnections gives the jobs no AWS connection: only deliveries run.
type noConnections struct{}

func (noConnections) ListConnections(context.Context) ([]jobs.Connection, error) { return nil, nil }
func (noConnections) FetchConfig(context.Context, string) (awsfetch.Config, error) {
	return awsfetch.Config{}, errors.New("no connections in these tests")
}

// received is one request a receiver got.
type received struct {
	Header http.Header
	Body   []byte
	Path   string
}

// receiver is an endpoint on 127.0.0.1 that answers a script of statuses (then 200) and records
// what it got.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	got     []received
	script  []int
	delay   time.Duration // the first request waits this long before answering
	respond string        // body of non-2xx answers
	header  http.Header   // headers of non-2xx answers
	times   []time.Time   // when each request came
}

func newReceiver(t *testing.T, script ...int) *receiver {
	t.Helper()
	r := &receiver{script: script}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		n := len(r.got)
		r.got = append(r.got, received{Header: req.Header.Clone(), Body: body, Path: req.URL.Path})
		r.times = append(r.times, time.Now())
		status := http.StatusOK
		if n < len(r.script) {
			status = r.script[n]
		}
		delay, respond, header := r.delay, r.respond, r.header
		r.mu.Unlock()
		if n == 0 && delay > 0 {
			select {
			case <-time.After(delay):
			case <-req.Context().Done():
				return
			}
		}
		if status >= 300 {
			for k, v := range header {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(status)
		if status >= 300 {
			_, _ = io.WriteString(w, respond)
		}
	}))
	t.Cleanup(r.Close)
	if !strings.HasPrefix(r.URL, "http://127.0.0.1:") {
		t.Fatalf("receiver at %s, want 127.0.0.1", r.URL)
	}
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// env is a notifier with its delivery worker running on a jobs service.
type env struct {
	st *store.Store
	n  *notify.Notifier
	js *jobs.Service
}

func start(t *testing.T, st *store.Store, log *zap.Logger, cfg notify.Config) *env {
	t.Helper()
	if log == nil {
		log = zap.NewNop()
	}
	cfg.Store, cfg.Log = st, log
	if cfg.RetryBase == 0 {
		cfg.RetryBase = 50 * time.Millisecond
	}
	n, err := notify.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	js, err := jobs.New(jobs.Config{Store: st, Log: log, Connections: noConnections{}, DataDir: t.TempDir(),
		SchedulerInterval: time.Hour, RetryBackoff: 50 * time.Millisecond, Extensions: []jobs.Extension{n.Extension()}})
	if err != nil {
		t.Fatal(err)
	}
	n.SetQueue(js)
	if err := js.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = js.Stop(ctx)
	})
	return &env{st: st, n: n, js: js}
}

// notify commits ev through the notifier, as a request change would.
func (e *env) notify(t *testing.T, ev jit.Event) {
	t.Helper()
	if err := e.st.InTx(context.Background(), func(tx *store.Tx) error { return e.n.NotifyTx(context.Background(), tx, ev) }); err != nil {
		t.Fatal(err)
	}
}

// waitFinal waits until every delivery in the outbox is final and returns them (newest first).
func (e *env) waitFinal(t *testing.T, want int, within time.Duration) []store.Notification {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		list, _, err := e.st.ListNotifications(context.Background(), store.NotificationFilter{}, store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		done := len(list) == want
		for _, n := range list {
			done = done && n.Final()
		}
		if done {
			return list
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries not final after %s: %+v", within, list)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var (
	at   = time.Date(2026, 12, 3, 11, 0, 0, 0, time.UTC)
	ends = at.Add(time.Hour)
)

func event(kind string) jit.Event {
	return jit.Event{
		Kind: kind, RequestID: "req_abcdefghij0123456789", Requester: "alice@example.com", Actor: "bob@example.com",
		Target: jit.Target{EntitlementID: "account:111111111111:ps-1234", DisplayName: "AdministratorAccess on prod (111111111111)"},
		State:  jit.StateApproved, Reason: "looks fine", RequestReason: "INC-42: restart the stuck batch",
		EndsAt: &ends, At: at, URL: "https://gatehouse.example.com/requests/req_abcdefghij0123456789",
	}
}

// A committed event reaches the webhook once, with the documented body and headers; the
// signature verifies with the endpoint's secret and not with another.
func TestWebhookDeliverySignedAndVerifiable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		rc := newReceiver(t)
		e := start(t, st, nil, notify.Config{Endpoints: []notify.Endpoint{{Name: "ops", Channel: notify.ChannelWebhook, URL: rc.URL + "/hook", Secret: secret}}})
		before := time.Now()
		e.notify(t, event("approved"))
		rows := e.waitFinal(t, 1, 10*time.Second)
		got := rc.requests()
		if len(got) != 1 {
			t.Fatalf("receiver got %d requests, want 1", len(got))
		}
		r := got[0]
		want := `{"event":"approved","request":{"id":"req_abcdefghij0123456789","state":"approved","requester":"alice@example.com",` +
			`"entitlement_id":"account:111111111111:ps-1234","display_name":"AdministratorAccess on prod (111111111111)",` +
			`"reason":"INC-42: restart the stuck batch","ends_at":"2026-12-03T12:00:00Z","url":"https://gatehouse.example.com/requests/req_abcdefghij0123456789"},` +
			`"actor":"bob@example.com","reason":"looks fine","at":"2026-12-03T11:00:00Z"}`
		if string(r.Body) != want {
			t.Fatalf("body\n got %s\nwant %s", r.Body, want)
		}
		if r.Path != "/hook" || r.Header.Get("Content-Type") != "application/json" || r.Header.Get(notify.HeaderEvent) != "approved" ||
			r.Header.Get(notify.HeaderDelivery) != rows[0].ID {
			t.Fatalf("path %s headers %v, want delivery %s", r.Path, r.Header, rows[0].ID)
		}
		if err := notify.Verify(secret, r.Header, r.Body, time.Now(), 5*time.Minute); err != nil {
			t.Fatalf("verify with the secret: %v", err)
		}
		if err := notify.Verify("another-secret", r.Header, r.Body, time.Now(), 5*time.Minute); !errors.Is(err, notify.ErrBadSignature) {
			t.Fatalf("verify with another secret: %v, want ErrBadSignature", err)
		}
		altered := []byte(strings.Replace(string(r.Body), "approved", "denied", 1))
		if err := notify.Verify(secret, r.Header, altered, time.Now(), 5*time.Minute); !errors.Is(err, notify.ErrBadSignature) {
			t.Fatalf("verify an altered body: %v, want ErrBadSignature", err)
		}
		if err := notify.Verify(secret, r.Header, r.Body, time.Now().Add(time.Hour), 5*time.Minute); err == nil || !strings.Contains(err.Error(), "replay") {
			t.Fatalf("verify an hour later: %v, want a replay refused", err)
		}
		// The signature is exactly the documented HMAC over "<timestamp>.<body>".
		ts := r.Header.Get(notify.HeaderTimestamp)
		if ts == "" || notify.Sign(secret, ts, r.Body) != r.Header.Get(notify.HeaderSignature) {
			t.Fatalf("signature %q over timestamp %q", r.Header.Get(notify.HeaderSignature), ts)
		}
		n := rows[0]
		if n.State != store.NotificationSent || n.Attempts != 1 || n.LastStatus != 200 || n.LastError != "" || n.Channel != "webhook" ||
			n.Endpoint != "ops" || n.Event != "approved" || n.RequestID != "req_abcdefghij0123456789" || n.Payload != want ||
			n.SentAt == nil || n.SentAt.Before(before.Add(-time.Second)) {
			t.Fatalf("outbox row %+v", n)
		}
	})
}

// A 500 then a 200: the delivery is retried, the same delivery id both times, and recorded
// sent once, after two attempts; nothing more is sent afterwards.
func TestServerErrorIsRetriedAndDeliveredOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		rc := newReceiver(t, 500)
		rc.respond = "upstream down"
		e := start(t, st, nil, notify.Config{Endpoints: []notify.Endpoint{{Name: "ops", Channel: notify.ChannelWebhook, URL: rc.URL, Secret: secret}}})
		e.notify(t, event("granted"))
		rows := e.waitFinal(t, 1, 10*time.Second)
		time.Sleep(300 * time.Millisecond) // a third request would come within this (backoff 50ms, 100ms)
		got := rc.requests()
		if len(got) != 2 {
			t.Fatalf("receiver got %d requests, want 2 (a 500, then the 200)", len(got))
		}
		if got[0].Header.Get(notify.HeaderDelivery) != rows[0].ID || got[1].Header.Get(notify.HeaderDelivery) != rows[0].ID || string(got[0].Body) != string(got[1].Body) {
			t.Fatalf("the retry is not the same delivery: %v / %v", got[0].Header, got[1].Header)
		}
		for _, r := range got {
			if err := notify.Verify(secret, r.Header, r.Body, time.Now(), time.Minute); err != nil {
				t.Fatalf("attempt not signed: %v", err)
			}
		}
		if n := rows[0]; n.State != store.NotificationSent || n.Attempts != 2 || n.LastStatus != 200 {
			t.Fatalf("outbox row %+v, want sent after 2 attempts", n)
		}
	})
}

// A 4xx other than 429 is final at once; a 429 is retried; a timeout is retried; every
// failure is recorded on the row.
func TestClientErrorsAreFinalAndThrottlingAndTimeoutsRetried(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		gone := newReceiver(t, 404, 404)
		gone.respond = "no such hook"
		throttled := newReceiver(t, 429)
		slow := newReceiver(t)
		slow.delay = 2 * time.Second
		e := start(t, st, nil, notify.Config{Timeout: 300 * time.Millisecond, Endpoints: []notify.Endpoint{
			{Name: "gone", Channel: notify.ChannelWebhook, URL: gone.URL, Secret: secret},
			{Name: "throttled", Channel: notify.ChannelWebhook, URL: throttled.URL, Secret: secret},
			{Name: "slow", Channel: notify.ChannelSlack, URL: slow.URL},
		}})
		e.notify(t, event("denied"))
		rows := e.waitFinal(t, 3, 15*time.Second)
		time.Sleep(300 * time.Millisecond)
		by := map[string]store.Notification{}
		for _, r := range rows {
			by[r.Endpoint] = r
		}
		if n := by["gone"]; n.State != store.NotificationFailed || n.Attempts != 1 || n.LastStatus != 404 ||
			n.LastError != "the endpoint answered 404 Not Found: no such hook" || len(gone.requests()) != 1 {
			t.Errorf("404: row %+v after %d requests; want failed after 1", n, len(gone.requests()))
		}
		if n := by["throttled"]; n.State != store.NotificationSent || n.Attempts != 2 || len(throttled.requests()) != 2 {
			t.Errorf("429: row %+v after %d requests; want sent after 2", n, len(throttled.requests()))
		}
		if n := by["slow"]; n.State != store.NotificationSent || n.Attempts != 2 || len(slow.requests()) != 2 {
			t.Errorf("timeout: row %+v after %d requests; want sent after 2", n, len(slow.requests()))
		}
	})
}

// An endpoint that never answers is given up after MaxAttempts, saying so.
func TestGivesUpAfterMaxAttempts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		rc := newReceiver(t, 503, 503, 503, 503)
		e := start(t, st, nil, notify.Config{MaxAttempts: 3, Endpoints: []notify.Endpoint{{Name: "ops", Channel: notify.ChannelWebhook, URL: rc.URL, Secret: secret}}})
		e.notify(t, event("failed"))
		rows := e.waitFinal(t, 1, 10*time.Second)
		time.Sleep(300 * time.Millisecond)
		if n := rows[0]; n.State != store.NotificationFailed || n.Attempts != 3 || n.LastStatus != 503 ||
			n.LastError != "gave up after 3 attempts: the endpoint answered 503 Service Unavailable" || len(rc.requests()) != 3 {
			t.Fatalf("row %+v after %d requests", n, len(rc.requests()))
		}
	})
}

// An event whose transaction rolls back sends nothing and leaves no row; the next committed
// one is the only delivery.
func TestRolledBackChangeSendsNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		rc := newReceiver(t)
		e := start(t, st, nil, notify.Config{Endpoints: []notify.Endpoint{{Name: "ops", Channel: notify.ChannelWebhook, URL: rc.URL, Secret: secret}}})
		boom := errors.New("the approval failed after the event")
		rolledBack := event("approved")
		rolledBack.RequestID = "req_rolledback"
		err := st.InTx(context.Background(), func(tx *store.Tx) error {
			if err := e.n.NotifyTx(context.Background(), tx, rolledBack); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		e.notify(t, event("denied"))
		rows := e.waitFinal(t, 1, 10*time.Second)
		time.Sleep(500 * time.Millisecond)
		got := rc.requests()
		if len(got) != 1 || got[0].Header.Get(notify.HeaderEvent) != "denied" || strings.Contains(string(got[0].Body), "req_rolledback") {
			t.Fatalf("receiver got %d requests (%v), want only the committed denial", len(got), got)
		}
		if rows[0].Event != "denied" {
			t.Fatalf("outbox %+v", rows)
		}
	})
}

// Endpoints get only the events they ask for; Slack gets {"text": ...}.
func TestEventFilterAndSlackBody(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		hook := newReceiver(t)
		slack := newReceiver(t)
		e := start(t, st, nil, notify.Config{Endpoints: []notify.Endpoint{
			{Name: "grants-only", Channel: notify.ChannelWebhook, URL: hook.URL, Secret: secret, Events: []string{"granted"}},
			{Name: "chat", Channel: notify.ChannelSlack, URL: slack.URL + "/services/T0/B0/xyz"},
		}})
		e.notify(t, event("requested"))
		e.notify(t, event("granted"))
		e.waitFinal(t, 3, 10*time.Second)
		if got := hook.requests(); len(got) != 1 || got[0].Header.Get(notify.HeaderEvent) != "granted" {
			t.Fatalf("grants-only webhook got %d requests: %v", len(got), got)
		}
		got := slack.requests()
		if len(got) != 2 {
			t.Fatalf("slack got %d requests, want 2", len(got))
		}
		var texts []string
		for _, r := range got {
			var m map[string]string
			if err := json.Unmarshal(r.Body, &m); err != nil || len(m) != 1 {
				t.Fatalf("slack body %s: want {\"text\": ...}", r.Body)
			}
			texts = append(texts, m["text"])
		}
		want := "alice@example.com now has AdministratorAccess on prod (111111111111) until 2026-12-03 12:00 UTC. Reason: looks fine. <https://gatehouse.example.com/requests/req_abcdefghij0123456789|req_abcdefghij0123456789>"
		if !containsString(texts, want) {
			t.Fatalf("slack texts %q lack %q", texts, want)
		}
	})
}

// An endpoint removed from the configuration while a delivery waited fails it, saying so.
func TestEndpointRemovedFailsTheDelivery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		// A delivery queued by an earlier configuration, with its job, and no endpoint now.
		old, err := notify.New(notify.Config{Store: st, Endpoints: []notify.Endpoint{{Name: "retired", Channel: notify.ChannelSlack, URL: "http://127.0.0.1:1/x"}}})
		if err != nil {
			t.Fatal(err)
		}
		e := start(t, st, nil, notify.Config{})
		js, _ := jobs.New(jobs.Config{Store: st, Connections: noConnections{}, Extensions: []jobs.Extension{old.Extension()}})
		old.SetQueue(js) // inserts only; the running service (without "retired") works the job
		if err := st.InTx(ctx, func(tx *store.Tx) error { return old.NotifyTx(ctx, tx, event("expired")) }); err != nil {
			t.Fatal(err)
		}
		rows := e.waitFinal(t, 1, 10*time.Second)
		if n := rows[0]; n.State != store.NotificationFailed || n.Attempts != 0 || n.LastError != `the slack endpoint "retired" is no longer configured; nothing was sent` {
			t.Fatalf("row %+v", n)
		}
	})
}

// No URL or secret of an endpoint appears in the logs, the outbox or the errors, whatever
// happens to the delivery (sent, refused with the URL echoed back, unreachable).
func TestSecretsNeverLogged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		core, logs := observer.New(zapcore.DebugLevel)
		log := zap.New(core)
		slackToken := "T0123/B0456/sl4ckT0kenSecretValue"
		echo := newReceiver(t, 400)
		echo.respond = "invalid_token for /services/" + slackToken + " and " + secret
		ok := newReceiver(t)
		down := newReceiver(t)
		down.Close() // unreachable: the HTTP client's error names the URL
		downToken := "D0WN/T0KEN/unreachableSecretPath"
		e := start(t, st, log, notify.Config{MaxAttempts: 2, Endpoints: []notify.Endpoint{
			{Name: "echo", Channel: notify.ChannelSlack, URL: echo.URL + "/services/" + slackToken},
			{Name: "ok", Channel: notify.ChannelWebhook, URL: ok.URL + "/in", Secret: secret},
			{Name: "down", Channel: notify.ChannelSlack, URL: down.URL + "/services/" + downToken},
		}})
		e.notify(t, event("revoked"))
		rows := e.waitFinal(t, 3, 10*time.Second)
		by := map[string]store.Notification{}
		for _, r := range rows {
			by[r.Endpoint] = r
		}
		if by["ok"].State != store.NotificationSent || by["echo"].State != store.NotificationFailed || by["down"].State != store.NotificationFailed ||
			!strings.Contains(by["down"].LastError, "the endpoint could not be reached") || !strings.Contains(by["echo"].LastError, "invalid_token") {
			t.Fatalf("rows %+v", rows)
		}
		var all strings.Builder
		for _, r := range rows {
			all.WriteString(r.Payload + " " + r.LastError + "\n")
		}
		if logs.Len() == 0 {
			t.Fatal("nothing was logged; the test would prove nothing")
		}
		for _, entry := range logs.All() {
			all.WriteString(entry.Message)
			for k, v := range entry.ContextMap() {
				all.WriteString(" " + k + "=" + toString(v))
			}
			all.WriteString("\n")
		}
		for _, s := range []string{secret, slackToken, "sl4ckT0kenSecretValue", downToken, "unreachableSecretPath"} {
			if strings.Contains(all.String(), s) {
				t.Errorf("%q appears in the logs or the outbox:\n%s", s, all.String())
			}
		}
		// Bad configuration is explained without repeating the secret or the URL.
		_, err := notify.New(notify.Config{Store: st, Endpoints: []notify.Endpoint{{Name: "Bad Name", Channel: notify.ChannelWebhook, URL: "ftp://x/" + slackToken, Events: []string{"granted", "grnted"}}}})
		if err == nil {
			t.Fatal("a bad endpoint was accepted")
		}
		for _, want := range []string{`name "Bad Name"`, "url: want an absolute http(s) URL", "secret is required", `unknown event "grnted"`} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("config error %q lacks %q", err, want)
			}
		}
		if strings.Contains(err.Error(), slackToken) {
			t.Errorf("config error shows the URL: %v", err)
		}
	})
}

func toString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// A 429 with Retry-After is tried again when the endpoint asked, not at the (shorter) backoff.
func TestRetryAfterIsHonoured(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		rc := newReceiver(t, 429)
		rc.header = http.Header{"Retry-After": {"1"}}
		e := start(t, st, nil, notify.Config{Endpoints: []notify.Endpoint{{Name: "chat", Channel: notify.ChannelSlack, URL: rc.URL}}})
		e.notify(t, event("granted"))
		rows := e.waitFinal(t, 1, 10*time.Second)
		rc.mu.Lock()
		times := append([]time.Time(nil), rc.times...)
		rc.mu.Unlock()
		if len(times) != 2 || times[1].Sub(times[0]) < 900*time.Millisecond {
			t.Fatalf("requests at %v: want the retry a second after the 429 (the backoff alone is 50ms)", times)
		}
		if n := rows[0]; n.State != store.NotificationSent || n.Attempts != 2 {
			t.Fatalf("row %+v", n)
		}
	})
}

// The reaper fails a delivery whose River job is gone (its replica died during the last
// attempt), so that it does not stay queued for ever.
func TestReaperFailsLostDeliveries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := start(t, st, nil, notify.Config{ReapInterval: 100 * time.Millisecond,
			Endpoints: []notify.Endpoint{{Name: "ops", Channel: notify.ChannelWebhook, URL: "http://127.0.0.1:1/", Secret: secret}}})
		lost := &store.Notification{ID: store.NewNotificationID(), Channel: "webhook", Endpoint: "ops", Event: "revoked", Payload: "{}", CreatedAt: time.Now()}
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.InsertNotification(ctx, lost); err != nil {
				return err
			}
			return tx.SetNotificationJob(ctx, lost.ID, 987654) // a job River no longer has
		}); err != nil {
			t.Fatal(err)
		}
		rows := e.waitFinal(t, 1, 15*time.Second)
		if n := rows[0]; n.State != store.NotificationFailed || !strings.HasPrefix(n.LastError, "not sent: its delivery job no longer exists after 0 attempts") {
			t.Fatalf("row %+v", n)
		}
	})
}

// A shutdown during an attempt leaves the delivery queued, saying so, and the next start sends
// it: the endpoint is not blamed and nothing is lost.
func TestShutdownDuringAttemptSendsAfterRestart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		rc := newReceiver(t)
		rc.delay = 30 * time.Second // the first request hangs until the shutdown cancels it
		cfg := notify.Config{Timeout: time.Minute, Endpoints: []notify.Endpoint{{Name: "ops", Channel: notify.ChannelWebhook, URL: rc.URL, Secret: secret}}}
		e := start(t, st, nil, cfg)
		e.notify(t, event("revoked"))
		deadline := time.Now().Add(10 * time.Second)
		for len(rc.requests()) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("the delivery was not attempted")
			}
			time.Sleep(20 * time.Millisecond)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		_ = e.js.Stop(ctx) // cancels the running attempt
		cancel()
		// The cancelled worker records the interruption as it returns, which may be just after
		// Stop does.
		var n store.Notification
		for deadline := time.Now().Add(10 * time.Second); ; {
			list, _, err := st.ListNotifications(context.Background(), store.NotificationFilter{}, store.Page{})
			if err != nil || len(list) != 1 {
				t.Fatalf("outbox %v %v", list, err)
			}
			if n = list[0]; n.LastError != "" || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if n.State != store.NotificationQueued || n.Attempts != 1 || n.LastError != "interrupted: the server stopped during the attempt" {
			t.Fatalf("after the shutdown: %+v", n)
		}
		e2 := start(t, st, nil, cfg)
		rows := e2.waitFinal(t, 1, 15*time.Second)
		if n := rows[0]; n.State != store.NotificationSent || n.Attempts != 2 || len(rc.requests()) != 2 {
			t.Fatalf("after the restart: %+v, %d requests", n, len(rc.requests()))
		}
	})
}

// A failed delivery is sent again when an admin retries it (after fixing the endpoint): the
// same delivery id and body, attempts starting over, audited; a sent or unknown one is refused.
func TestRetryFailedDelivery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		rc := newReceiver(t, 410)
		e := start(t, st, nil, notify.Config{Endpoints: []notify.Endpoint{{Name: "ops", Channel: notify.ChannelWebhook, URL: rc.URL, Secret: secret}}})
		e.notify(t, event("granted"))
		rows := e.waitFinal(t, 1, 10*time.Second)
		if rows[0].State != store.NotificationFailed {
			t.Fatalf("first: %+v", rows[0])
		}
		id := rows[0].ID
		got, err := e.n.Retry(ctx, "admin@example.com", "192.0.2.1", id)
		if err != nil || got.State != store.NotificationQueued || got.Attempts != 0 {
			t.Fatalf("retry: %+v %v", got, err)
		}
		rows = e.waitFinal(t, 1, 10*time.Second)
		if n := rows[0]; n.State != store.NotificationSent || n.Attempts != 1 || n.LastStatus != 200 {
			t.Fatalf("after the retry: %+v", n)
		}
		reqs := rc.requests()
		if len(reqs) != 2 || reqs[1].Header.Get(notify.HeaderDelivery) != id || string(reqs[1].Body) != string(reqs[0].Body) {
			t.Fatalf("receiver got %d requests; the retry must be the same delivery", len(reqs))
		}
		audit, err := st.ListAudit(ctx, store.AuditFilter{Action: "notification.retry"})
		if err != nil || len(audit) != 1 || audit[0].Actor != "admin@example.com" || audit[0].Target != "notification:"+id || audit[0].RemoteAddr != "192.0.2.1" {
			t.Fatalf("audit %+v %v", audit, err)
		}
		if _, err := e.n.Retry(ctx, "admin@example.com", "", id); !errors.Is(err, notify.ErrNotRetryable) ||
			err.Error() != "the delivery cannot be retried: delivery "+id+" is sent; only a failed delivery is retried" {
			t.Fatalf("retry a sent delivery: %v", err)
		}
		if _, err := e.n.Retry(ctx, "admin@example.com", "", "ntf_nothing"); !errors.Is(err, notify.ErrNoDelivery) {
			t.Fatalf("retry nothing: %v", err)
		}
	})
}
