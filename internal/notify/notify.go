// Package notify tells people and other systems about just-in-time access events (a request
// made, approved, granted, about to expire, revoked, failed, ...) and access review events (a
// campaign started, reminders, an owner task; review.go): generic webhooks receive a
// signed JSON document (webhook.go), Slack incoming webhooks a one-line message (slack.go).
//
// Delivery goes through an outbox. Notifier.NotifyTx runs inside the transaction that changes
// a request: it writes one row per endpoint that wants the event (store.Notification, holding
// the exact body to send) and the River job that delivers it (jobs.Service.InsertTx), so that a
// notification is sent if and only if the change committed, and is not lost by a crash between
// the commit and the send. The delivery worker (worker.go, River queue "notify") posts the body,
// retries with growing waits when the endpoint is down, slow, answers 5xx or 429, and gives up
// at once on any other 4xx, which retrying cannot fix; every attempt is recorded on the row, and
// admins see the rows (GET /api/v1/notifications).
//
// An endpoint's URL and secret live only in the server's configuration: never in the store,
// the logs, errors or the API (a Slack webhook URL is itself a secret). A delivery names its
// endpoint; the worker looks the endpoint up by name when it sends.
package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/jit"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Kinds are the event kinds an endpoint can ask for (jit.Event.Kind).
var Kinds = []string{
	"requested", "approval_needed", "approved", "denied", "granted", "expiry_warning",
	"revoked", "expired", "failed", "break_glass", "break_glass_reviewed", "cancelled",
	"extension_requested", "extension_denied", "extended", "drift",
}

// KnownKind reports whether kind is one of Kinds.
func KnownKind(kind string) bool { return slices.Contains(Kinds, kind) }

// The channels.
const (
	ChannelWebhook = "webhook"
	ChannelSlack   = "slack"
)

// Endpoint is one configured destination.
type Endpoint struct {
	// Name identifies the endpoint in the outbox, the logs and the API (never its URL).
	Name string
	// Channel is ChannelWebhook or ChannelSlack.
	Channel string
	// URL is where deliveries are posted. For Slack it holds the webhook's secret token.
	URL string
	// Secret signs webhook deliveries (X-Gatehouse-Signature); required for webhooks.
	Secret string
	// Events are the kinds the endpoint receives; empty means all.
	Events []string
}

// Wants reports whether the endpoint receives events of kind.
func (e Endpoint) Wants(kind string) bool {
	return len(e.Events) == 0 || slices.Contains(e.Events, kind)
}

// Check's errors for what is missing (the server's configuration adds where else to give it).
var (
	ErrNoURL    = errors.New("url is required")
	ErrNoSecret = errors.New("secret is required: receivers verify X-Gatehouse-Signature with it (generate one with `openssl rand -hex 32`)")
)

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Check says what is wrong with an endpoint, each problem a sentence saying what to fix (nil
// when nothing is). The messages never include the URL or the secret.
func (e Endpoint) Check() []error {
	var errs []error
	if !nameRE.MatchString(e.Name) {
		errs = append(errs, fmt.Errorf("name %q: give a short name of lower-case letters, digits, - and _ (such as ops or security-alerts); deliveries and logs show it instead of the URL", e.Name))
	}
	if e.URL == "" {
		errs = append(errs, ErrNoURL)
	} else if u, err := url.Parse(e.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		// The URL may hold a token (Slack's do): the message says what is wrong, not what it is.
		errs = append(errs, errors.New("url: want an absolute http(s) URL such as https://hooks.example.com/gatehouse"))
	} else if u.User != nil {
		errs = append(errs, errors.New("url: must not contain a user or password; webhooks authenticate with the signature"))
	}
	switch e.Channel {
	case ChannelWebhook:
		if e.Secret == "" {
			errs = append(errs, ErrNoSecret)
		}
	case ChannelSlack:
		if e.Secret != "" {
			errs = append(errs, errors.New("secret: Slack incoming webhooks are not signed; remove it (the URL is the secret)"))
		}
	default:
		errs = append(errs, fmt.Errorf("channel %q: want %s or %s", e.Channel, ChannelWebhook, ChannelSlack))
	}
	for _, k := range e.Events {
		if !KnownKind(k) {
			errs = append(errs, fmt.Errorf("events: unknown event %q; known events: %s (leave events out for all)", k, strings.Join(Kinds, ", ")))
		}
	}
	return errs
}

// Defaults of Config.
const (
	DefaultMaxAttempts  = 10
	DefaultRetryBase    = 10 * time.Second
	DefaultMaxWait      = time.Hour
	DefaultTimeout      = 10 * time.Second
	DefaultReapInterval = 5 * time.Minute
	// Queue is the River queue of deliveries: their own, so that a slow endpoint never holds
	// up syncs or leases, nor they it.
	Queue = "notify"
)

// Config configures a Notifier.
type Config struct {
	Store     *store.Store
	Log       *zap.Logger
	Endpoints []Endpoint
	// Client posts the deliveries (default: a client that follows no redirects).
	Client *http.Client
	// MaxAttempts bounds the attempts of one delivery (DefaultMaxAttempts). The wait before
	// attempt n+1 is RetryBase × 2^(n-1) (DefaultRetryBase), at most MaxWait
	// (DefaultMaxWait): 10s, 20s, 40s, ... about 1.4 hours in all with the defaults.
	MaxAttempts int
	RetryBase   time.Duration
	MaxWait     time.Duration
	// Timeout bounds one attempt (DefaultTimeout); an endpoint that does not answer in time
	// is tried again later.
	Timeout time.Duration
	// Workers is how many deliveries this replica sends at once (default 2).
	Workers int
	// ReapInterval is how often deliveries whose job River gave up on are failed (default
	// DefaultReapInterval).
	ReapInterval time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Notifier implements jit.Notifier with the outbox; its Extension delivers.
type Notifier struct {
	cfg       Config
	log       *zap.Logger
	endpoints map[string]Endpoint
	queue     jit.Queue
	// secrets are every URL and secret, removed from any error text before it is stored or
	// logged.
	secrets []string
}

var _ jit.Notifier = (*Notifier)(nil)

// New checks the endpoints and returns the notifier. SetQueue must be called before NotifyTx
// (the River client is built with the notifier's Extension, so it comes after New).
func New(cfg Config) (*Notifier, error) {
	if cfg.Store == nil {
		return nil, errors.New("notify: a store is required")
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = DefaultRetryBase
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = DefaultMaxWait
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.ReapInterval <= 0 {
		cfg.ReapInterval = DefaultReapInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{
			// A redirect is answered as it is (a final failure saying so): following it would
			// post a signed body to a URL nobody configured.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	n := &Notifier{cfg: cfg, log: cfg.Log.Named("notify"), endpoints: map[string]Endpoint{}}
	var errs []error
	for i, e := range cfg.Endpoints {
		for _, err := range e.Check() {
			errs = append(errs, fmt.Errorf("notification endpoint %d (%s): %w", i+1, e.Name, err))
		}
		if _, dup := n.endpoints[e.Name]; dup {
			errs = append(errs, fmt.Errorf("notification endpoint %d: the name %q is used twice; give each endpoint its own", i+1, e.Name))
		}
		n.endpoints[e.Name] = e
		n.secrets = append(n.secrets, secretParts(e)...)
	}
	// Longest first, so that a URL is replaced whole before its path is.
	slices.SortFunc(n.secrets, func(a, b string) int { return len(b) - len(a) })
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(n.endpoints) > 0 {
		var names []string
		for _, name := range n.names() {
			names = append(names, name+" ("+n.endpoints[name].Channel+")")
		}
		n.log.Info("notifications configured", zap.Strings("endpoints", names))
	}
	return n, nil
}

// SetQueue gives the notifier the River client to insert its jobs with (jobs.Service).
func (n *Notifier) SetQueue(q jit.Queue) { n.queue = q }

// Endpoints are the configured endpoints' names and channels, for people (no URL, no secret).
func (n *Notifier) Endpoints() map[string]string {
	out := map[string]string{}
	for name, e := range n.endpoints {
		out[name] = e.Channel
	}
	return out
}

// DeliverArgs are the arguments of a delivery job: the outbox row says everything else.
type DeliverArgs struct {
	DeliveryID string `json:"delivery_id"`
}

// Kind names delivery jobs in River.
func (DeliverArgs) Kind() string { return "notify_deliver" }

// NotifyTx queues ev for every endpoint that wants it, in tx: the rows and their delivery jobs
// commit or roll back with the change that caused the event.
func (n *Notifier) NotifyTx(ctx context.Context, tx *store.Tx, ev jit.Event) error {
	if ev.Kind == "" {
		return errors.New("notify: an event needs a kind")
	}
	if ev.At.IsZero() {
		ev.At = n.cfg.Now()
	}
	return n.queueTx(ctx, tx, ev.Kind, ev.RequestID, func(channel string) ([]byte, error) {
		if channel == ChannelSlack {
			return slackBody(ev)
		}
		return webhookBody(ev)
	})
}

// names are the endpoint names in a fixed order, so that deliveries are queued in the same
// order every time.
func (n *Notifier) names() []string {
	out := make([]string, 0, len(n.endpoints))
	for name := range n.endpoints {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// secretParts are the strings of e that must never be shown: the secret, the URL, and the
// parts of the URL that carry a token (Slack's is its path's last segments), in case a receiver
// echoes only those.
func secretParts(e Endpoint) []string {
	var out []string
	// Parts shorter than 8 characters carry no token, and replacing them would garble
	// messages (a path /in would hide every "in").
	add := func(s string, minLen int) {
		if len(s) >= minLen && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	add(e.Secret, 1)
	add(e.URL, 1)
	if u, err := url.Parse(e.URL); err == nil {
		add(u.Path, 8)
		add(strings.TrimPrefix(u.Path, "/"), 8)
		add(u.RawQuery, 8)
		for _, seg := range strings.Split(u.Path, "/") {
			add(seg, 12)
		}
		for _, vs := range u.Query() {
			for _, v := range vs {
				add(v, 8)
			}
		}
	}
	return out
}

// redact removes every configured URL and secret from s (errors of the HTTP client name the
// URL; a receiver may echo what it was sent).
func (n *Notifier) redact(s string) string {
	for _, sec := range n.secrets {
		s = strings.ReplaceAll(s, sec, "[redacted]")
	}
	return s
}

// Errors of Retry (the API answers 404 and 409).
var (
	ErrNoDelivery   = errors.New("no such delivery")
	ErrNotRetryable = errors.New("the delivery cannot be retried")
)

// Retry queues a failed delivery again, its attempts starting over (an admin fixed the
// endpoint): the same id and body, so a receiver that got it after all drops it. The new job,
// the row and the audit entry (notification.retry) are one transaction. It refuses a delivery
// that is not failed, or whose endpoint is not configured (any more).
func (n *Notifier) Retry(ctx context.Context, actor, remoteAddr, id string) (*store.Notification, error) {
	if n.queue == nil {
		return nil, errors.New("notify: no job queue (SetQueue was not called)")
	}
	var row *store.Notification
	err := n.cfg.Store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		row, err = tx.RequeueNotification(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w %s (GET /api/v1/notifications lists them)", ErrNoDelivery, id)
		}
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("%w: delivery %s is %s; only a failed delivery is retried", ErrNotRetryable, id, row.State)
		}
		if err != nil {
			return err
		}
		if e, ok := n.endpoints[row.Endpoint]; !ok || e.Channel != row.Channel {
			return fmt.Errorf("%w: the %s endpoint %q is not configured; add it to notifications in the configuration first", ErrNotRetryable, row.Channel, row.Endpoint)
		}
		res, err := n.queue.InsertTx(ctx, tx, DeliverArgs{DeliveryID: row.ID}, &river.InsertOpts{Queue: Queue, MaxAttempts: n.cfg.MaxAttempts})
		if err != nil {
			return fmt.Errorf("queue the delivery: %w", err)
		}
		if err := tx.SetNotificationJob(ctx, row.ID, res.Job.ID); err != nil {
			return err
		}
		row.JobID = res.Job.ID
		_, err = tx.AppendAudit(ctx, actor, "notification.retry", "notification:"+row.ID,
			map[string]string{"endpoint": row.Endpoint, "event": row.Event, "request_id": row.RequestID, "last_error": row.LastError}, remoteAddr)
		return err
	})
	if err != nil {
		return nil, err
	}
	n.log.Info("notification queued again", zap.String("delivery", row.ID), zap.String("endpoint", row.Endpoint), zap.String("by", actor))
	return row, nil
}
