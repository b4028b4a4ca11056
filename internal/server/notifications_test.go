package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/jit"
	"github.com/gatehouse/gatehouse/internal/notify"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/store"
)

func loadYAML(t *testing.T, yaml string) (server.Config, error) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "gatehouse.yaml")
	if err := os.WriteFile(file, []byte("data_dir: "+filepath.Join(dir, "data")+"\n"+yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	fl := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	server.RegisterFlags(fl)
	server.RegisterServeFlags(fl)
	if err := fl.Parse([]string{"--config", file}); err != nil {
		t.Fatal(err)
	}
	return server.Load(fl)
}

// Endpoints come from the file; their secrets may come from the environment instead; events
// default to all.
func TestNotificationConfigFromFileAndEnvironment(t *testing.T) {
	t.Setenv("GATEHOUSE_NOTIFICATIONS_WEBHOOKS_SIEM_SECRET", "secret-from-env-0123")
	t.Setenv("GATEHOUSE_NOTIFICATIONS_SLACK_TEAM_CHAT_URL", "https://hooks.slack.com/services/T1/B2/fromenv")
	cfg, err := loadYAML(t, `notifications:
  webhooks:
    - name: ops
      url: https://ops.example.com/gatehouse
      secret: file-secret-4567
      events: [granted, revoked]
    - name: siem
      url: https://siem.example.com/in
  slack:
    - name: team-chat
      events: [approval_needed]
`)
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.Notifications.Endpoints()
	want := []notify.Endpoint{
		{Name: "ops", Channel: "webhook", URL: "https://ops.example.com/gatehouse", Secret: "file-secret-4567", Events: []string{"granted", "revoked"}},
		{Name: "siem", Channel: "webhook", URL: "https://siem.example.com/in", Secret: "secret-from-env-0123"},
		{Name: "team-chat", Channel: "slack", URL: "https://hooks.slack.com/services/T1/B2/fromenv", Events: []string{"approval_needed"}},
	}
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if string(gb) != string(wb) {
		t.Fatalf("endpoints\n got %s\nwant %s", gb, wb)
	}
	if !got[1].Wants("expiry_warning") || got[0].Wants("requested") {
		t.Fatal("events: an endpoint without events must get all, one with events only those")
	}
}

// Each mistake is named by its place in the file and says what to fix, without the URL or
// the secret.
func TestNotificationConfigErrors(t *testing.T) {
	_, err := loadYAML(t, `notifications:
  webhooks:
    - name: ops
      url: hooks.example.com/no-scheme-token-abc123
      secret: s3cr3t-value-xyz
      events: [granted, revoke]
    - name: nosecret
      url: https://example.com/hook
  slack:
    - name: ops
      url: https://hooks.slack.com/services/T/B/tokenvalue999
    - name: empty
`)
	if err == nil {
		t.Fatal("a bad notifications configuration was accepted")
	}
	for _, want := range []string{
		"notifications.webhooks[0] (ops): url: want an absolute http(s) URL",
		`notifications.webhooks[0] (ops): events: unknown event "revoke"; known events: requested, approval_needed, approved, denied, granted, expiry_warning, revoked, expired, failed, break_glass, break_glass_reviewed, cancelled, extension_requested, extension_denied, extended, drift`,
		"notifications.webhooks[1] (nosecret): secret is required: receivers verify X-Gatehouse-Signature with it (generate one with `openssl rand -hex 32`); or set GATEHOUSE_NOTIFICATIONS_WEBHOOKS_NOSECRET_SECRET",
		`notifications.slack[0] (ops): the name "ops" is also notifications.webhooks[0] (ops)'s; give each endpoint its own name`,
		"notifications.slack[1] (empty): url is required; or set GATEHOUSE_NOTIFICATIONS_SLACK_EMPTY_URL",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q; it is:\n%v", want, err)
		}
	}
	for _, secret := range []string{"no-scheme-token-abc123", "s3cr3t-value-xyz", "tokenvalue999"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the error shows %q", secret)
		}
	}
}

// The server delivers through its configured endpoints (the outbox's worker runs on the
// server's River client), admins see the deliveries in the API, and no secret is in an answer,
// a log line or the database.
func TestServerDeliversNotificationsAndHidesSecrets(t *testing.T) {
	const whSecret = "server-webhook-secret-5f2a9c"
	const slackToken = "T9/B9/slackServerToken77"
	var mu sync.Mutex
	var got []*http.Request
	var bodies [][]byte
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, bodies = append(got, r), append(bodies, b)
		mu.Unlock()
	}))
	defer rc.Close()
	cfg, err := server.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	cfg.Admins = []string{"admin@example.com"}
	cfg.Notifications = server.Notifications{
		Webhooks: []server.Webhook{{Name: "ops", URL: rc.URL + "/hook", Secret: whSecret}},
		Slack:    []server.Slack{{Name: "chat", URL: rc.URL + "/services/" + slackToken}},
	}
	core, logs := observer.New(zapcore.DebugLevel)
	ctx := context.Background()
	srv, err := server.New(ctx, cfg, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()

	// The event is queued as the jit service would (its requests are another helper's): a
	// notifier with the same endpoint names, inserting on the server's River client. The
	// server's own worker sends it, with the server's URLs and secret.
	n, err := notify.New(notify.Config{Store: srv.App.Store, Endpoints: []notify.Endpoint{
		{Name: "ops", Channel: "webhook", URL: "http://127.0.0.1:1/unused", Secret: "unused"},
		{Name: "chat", Channel: "slack", URL: "http://127.0.0.1:1/unused"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	n.SetQueue(srv.App.Syncs)
	ev := jit.Event{Kind: "granted", RequestID: "req_server", Requester: "alice@example.com", Target: jit.Target{DisplayName: "ReadOnly on dev (222222222222)"},
		State: jit.StateActive, Actor: "gatehouse", At: time.Now()}
	if err := srv.App.Store.InTx(ctx, func(tx *store.Tx) error { return n.NotifyTx(ctx, tx, ev) }); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		list, _, err := srv.App.Store.ListNotifications(ctx, store.NotificationFilter{State: store.NotificationSent}, store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries not sent: %+v", list)
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	paths := map[string][]byte{}
	for i, r := range got {
		paths[r.URL.Path] = bodies[i]
		if r.URL.Path == "/hook" {
			if err := notify.Verify(whSecret, r.Header, bodies[i], time.Now(), time.Minute); err != nil {
				t.Errorf("the webhook delivery does not verify with the configured secret: %v", err)
			}
		}
	}
	mu.Unlock()
	if len(paths) != 2 || paths["/services/"+slackToken] == nil || !strings.Contains(string(paths["/hook"]), `"event":"granted"`) {
		t.Fatalf("receiver got %v", paths)
	}

	token, _, err := auth.CreateToken(ctx, srv.App.Store, auth.NewToken{Email: "admin@example.com", Name: "notifications test", Actor: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", hs.URL+"/api/v1/notifications", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || strings.Count(string(answer), `"state":"sent"`) != 2 || !strings.Contains(string(answer), `"endpoint":"chat"`) {
		t.Fatalf("GET /api/v1/notifications: %d %s", res.StatusCode, answer)
	}
	// Retrying is for failed deliveries: a sent one is a 409 saying so.
	var listed struct {
		Items []struct{ ID string } `json:"items"`
	}
	_ = json.Unmarshal(answer, &listed)
	req, _ = http.NewRequest("POST", hs.URL+"/api/v1/notifications/"+listed.Items[0].ID+"/retry", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if res, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	retried, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 409 || !strings.Contains(string(retried), "is sent; only a failed delivery is retried") {
		t.Fatalf("retry a sent delivery: %d %s", res.StatusCode, retried)
	}
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	for _, l := range logs.All() {
		b, _ := json.Marshal(l.ContextMap())
		logged.WriteString(l.Message + " " + string(b) + "\n")
	}
	if !strings.Contains(logged.String(), "notification sent") {
		t.Fatalf("the log does not record the deliveries; it was:\n%s", logged.String())
	}
	var db []byte
	for _, suffix := range []string{"", "-wal"} {
		b, _ := os.ReadFile(filepath.Join(cfg.DataDir, "gatehouse.db"+suffix))
		db = append(db, b...)
	}
	if !strings.Contains(string(db), "req_server") {
		t.Fatal("the database files do not hold the deliveries: the check reads the wrong file")
	}
	for _, s := range []string{whSecret, slackToken, "slackServerToken77"} {
		for where, text := range map[string]string{"API answer": string(answer), "log": logged.String(), "database": string(db)} {
			if strings.Contains(text, s) {
				t.Errorf("the %s holds the secret %q", where, s)
			}
		}
	}
}
