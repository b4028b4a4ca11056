package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Extension is the delivery worker and its queue, for jobs.Config.Extensions.
func (n *Notifier) Extension() jobs.Extension { return extension{n} }

type extension struct{ n *Notifier }

func (e extension) AddWorkers(w *river.Workers) {
	river.AddWorker(w, &deliverWorker{n: e.n})
	river.AddWorker(w, &reapWorker{n: e.n})
}

func (e extension) Queues() map[string]river.QueueConfig {
	return map[string]river.QueueConfig{Queue: {MaxWorkers: e.n.cfg.Workers}}
}

// PeriodicJobs: the reaper, which fails the deliveries whose job River gave up on without the
// worker recording it (their replica died during the last attempt), so that no delivery stays
// queued for ever.
func (e extension) PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(e.n.cfg.ReapInterval),
		func() (river.JobArgs, *river.InsertOpts) { return reapArgs{}, &river.InsertOpts{Queue: Queue} },
		&river.PeriodicJobOpts{ID: "notify-reaper"})}
}

// reapArgs are the arguments of the reaper's job.
type reapArgs struct{}

// Kind names the reaper's jobs in River.
func (reapArgs) Kind() string { return "notify_reap" }

type reapWorker struct {
	river.WorkerDefaults[reapArgs]
	n *Notifier
}

func (w *reapWorker) Work(ctx context.Context, _ *river.Job[reapArgs]) error {
	lost, err := w.n.cfg.Store.FailLostNotifications(ctx)
	for _, l := range lost {
		w.n.log.Error("notification failed for good", zap.String("delivery", l.ID), zap.String("endpoint", l.Endpoint),
			zap.String("event", l.Event), zap.String("request", l.RequestID), zap.String("error", l.LastError))
	}
	return err
}

// deliverWorker makes one delivery attempt.
type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	n *Notifier
}

// Timeout leaves the HTTP attempt its own timeout and the store a little more.
func (w *deliverWorker) Timeout(*river.Job[DeliverArgs]) time.Duration {
	return w.n.cfg.Timeout + 30*time.Second
}

// NextRetry waits RetryBase × 2^(attempt-1), at most MaxWait.
func (w *deliverWorker) NextRetry(job *river.Job[DeliverArgs]) time.Time {
	return time.Now().Add(w.n.backoff(job.Attempt))
}

func (n *Notifier) backoff(attempt int) time.Duration {
	d := n.cfg.RetryBase
	for i := 1; i < attempt && d < n.cfg.MaxWait; i++ {
		d *= 2
	}
	return min(d, n.cfg.MaxWait)
}

// attemptError is a failed attempt: why (without URL or secret), the HTTP status when the
// endpoint answered, and whether another attempt can help.
type attemptError struct {
	status int
	msg    string
	final  bool
	// retryAfter is the endpoint's Retry-After (429, 503), at most MaxWait; 0 when none.
	retryAfter time.Duration
}

func (e *attemptError) Error() string { return e.msg }

// Work sends the delivery once. It is idempotent: a delivery already sent or failed is left
// alone, so a job run twice (a retry after a crash between the send and the record, a rescue)
// sends at most once more, and the receiver drops that one by its X-Gatehouse-Delivery.
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	n := w.n
	id := job.Args.DeliveryID
	row, err := n.cfg.Store.GetNotification(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("delivery %s does not exist", id))
	}
	if err != nil {
		return err
	}
	if row.Final() {
		return nil
	}
	log := n.log.With(zap.String("delivery", id), zap.String("endpoint", row.Endpoint), zap.String("event", row.Event),
		zap.String("request", row.RequestID), zap.Int("attempt", job.Attempt))
	ep, ok := n.endpoints[row.Endpoint]
	if !ok || ep.Channel != row.Channel {
		msg := fmt.Sprintf("the %s endpoint %q is no longer configured; nothing was sent", row.Channel, row.Endpoint)
		if _, err := n.cfg.Store.FinishNotificationAttempt(ctx, id, store.NotificationResult{State: store.NotificationFailed, Error: msg, At: n.cfg.Now()}); err != nil {
			return err
		}
		log.Warn("notification not sent: " + msg)
		return nil
	}
	if row, err = n.cfg.Store.StartNotificationAttempt(ctx, id, n.cfg.Now()); err != nil {
		return err
	}
	if row.Final() {
		return nil
	}
	status, err := n.send(ctx, ep, row)
	if err == nil {
		if _, err := n.cfg.Store.FinishNotificationAttempt(ctx, id, store.NotificationResult{State: store.NotificationSent, Status: status, At: n.cfg.Now()}); err != nil {
			return err
		}
		log.Info("notification sent", zap.Int("status", status), zap.Int("attempts", row.Attempts))
		return nil
	}
	var ae *attemptError
	if !errors.As(err, &ae) {
		ae = &attemptError{msg: n.redact(err.Error())}
	}
	if ctx.Err() != nil {
		// The server is stopping (River cancelled the job): the endpoint is not at fault. The
		// delivery waits for the next start or another replica, without River counting the
		// attempt (the row does, which bounds a delivery interrupted again and again).
		ctx = context.WithoutCancel(ctx)
		_, ferr := n.cfg.Store.FinishNotificationAttempt(ctx, id, store.NotificationResult{State: store.NotificationQueued,
			Error: "interrupted: the server stopped during the attempt", At: n.cfg.Now()})
		if ferr == nil && row.Attempts < n.cfg.MaxAttempts {
			log.Info("notification attempt interrupted by the shutdown; it is sent later")
			return river.JobSnooze(0)
		}
	}
	res := store.NotificationResult{State: store.NotificationQueued, Status: ae.status, Error: ae.msg, At: n.cfg.Now()}
	// The row counts every attempt, also those River does not (a snooze for Retry-After).
	last := job.Attempt >= job.MaxAttempts || row.Attempts >= n.cfg.MaxAttempts
	switch {
	case ae.final:
		res.State = store.NotificationFailed
	case last:
		res.State = store.NotificationFailed
		res.Error = fmt.Sprintf("gave up after %d attempts: %s", row.Attempts, ae.msg)
	}
	if _, ferr := n.cfg.Store.FinishNotificationAttempt(ctx, id, res); ferr != nil {
		return errors.Join(ae, ferr)
	}
	if res.State == store.NotificationFailed {
		log.Error("notification failed for good", zap.String("error", res.Error), zap.Int("status", ae.status))
		return river.JobCancel(ae)
	}
	if ae.retryAfter > 0 {
		// The endpoint said when to come back (Slack does when it rate-limits): wait that
		// long rather than the backoff. A snooze is not counted by River; the row counts it.
		log.Warn("notification attempt failed; it is tried again when the endpoint asked", zap.String("error", ae.msg),
			zap.Int("status", ae.status), zap.Duration("retry_in", ae.retryAfter))
		return river.JobSnooze(ae.retryAfter)
	}
	log.Warn("notification attempt failed; it is tried again", zap.String("error", ae.msg), zap.Int("status", ae.status),
		zap.Duration("retry_in", n.backoff(job.Attempt)))
	return ae
}

// retryAfter reads a Retry-After header (seconds, or an HTTP date), at most max; 0 when there
// is none or it is in the past.
func retryAfter(h http.Header, now time.Time, max time.Duration) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.Atoi(v); err == nil {
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	if d <= 0 {
		return 0
	}
	return min(d, max)
}

// send posts the row's payload to the endpoint and returns the HTTP status. Its errors are
// *attemptError, with no URL or secret in them.
func (n *Notifier) send(ctx context.Context, ep Endpoint, row *store.Notification) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.Timeout)
	defer cancel()
	body := []byte(row.Payload)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return 0, &attemptError{msg: "the endpoint's URL cannot be used: " + n.redact(err.Error()), final: true}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Gatehouse-Notifications/1")
	req.Header.Set(HeaderEvent, row.Event)
	req.Header.Set(HeaderDelivery, row.ID)
	if ep.Channel == ChannelWebhook {
		ts := strconv.FormatInt(n.cfg.Now().Unix(), 10)
		req.Header.Set(HeaderTimestamp, ts)
		req.Header.Set(HeaderSignature, Sign(ep.Secret, ts, body))
	}
	resp, err := n.cfg.Client.Do(req)
	if err != nil {
		return 0, &attemptError{msg: n.redact(transportError(err, n.cfg.Timeout))}
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return code, nil
	}
	msg := fmt.Sprintf("the endpoint answered %d %s", code, http.StatusText(code))
	if s := strings.TrimSpace(oneLine(string(snippet))); s != "" {
		msg += ": " + s
	}
	msg = n.redact(msg)
	switch {
	case code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500:
		return code, &attemptError{status: code, msg: msg, retryAfter: retryAfter(resp.Header, n.cfg.Now(), n.cfg.MaxWait)}
	case code >= 300 && code < 400:
		return code, &attemptError{status: code, final: true, msg: msg + " (a redirect, which is not followed: configure the URL it points to)"}
	default:
		// Any other 4xx: the endpoint refuses this delivery (wrong URL, revoked token, bad
		// signature); sending it again cannot help.
		return code, &attemptError{status: code, final: true, msg: msg}
	}
}

// transportError says why an endpoint did not answer, without the URL the HTTP client puts in
// its errors.
func transportError(err error, timeout time.Duration) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Sprintf("no answer within %s", timeout)
	}
	return "the endpoint could not be reached: " + err.Error()
}
