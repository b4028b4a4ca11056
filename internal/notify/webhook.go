package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/jit"
)

// The headers of a webhook delivery.
const (
	HeaderEvent     = "X-Gatehouse-Event"
	HeaderDelivery  = "X-Gatehouse-Delivery"  // the delivery's id: the same on every retry
	HeaderTimestamp = "X-Gatehouse-Timestamp" // unix seconds when this attempt was sent
	HeaderSignature = "X-Gatehouse-Signature" // sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">
)

// WebhookPayload is the JSON body of a generic webhook delivery (docs/notifications.md).
type WebhookPayload struct {
	Event   string         `json:"event"`
	Request WebhookRequest `json:"request"`
	// Actor is who caused the event: an email, or "gatehouse" for the jobs.
	Actor string `json:"actor"`
	// Reason is the event's reason (the requester's, the approver's, AWS's error, ...).
	Reason string `json:"reason"`
	// To are the people the event is for (the approvers of the current step for
	// approval_needed).
	To []string `json:"to,omitempty"`
	At string   `json:"at"`
}

// WebhookRequest is the request an event is about.
type WebhookRequest struct {
	ID            string  `json:"id"`
	State         string  `json:"state"`
	Requester     string  `json:"requester"`
	EntitlementID string  `json:"entitlement_id"`
	DisplayName   string  `json:"display_name"`
	Reason        string  `json:"reason"`
	EndsAt        *string `json:"ends_at"`
	URL           string  `json:"url"`
}

const timeFormat = time.RFC3339

// webhookBody is the body of ev's webhook delivery.
func webhookBody(ev jit.Event) ([]byte, error) {
	p := WebhookPayload{
		Event: ev.Kind,
		Request: WebhookRequest{
			ID: ev.RequestID, State: string(ev.State), Requester: ev.Requester, EntitlementID: ev.Target.EntitlementID,
			DisplayName: ev.Target.DisplayName, Reason: requestReason(ev), URL: ev.URL,
		},
		Actor: ev.Actor, Reason: ev.Reason, To: ev.To, At: ev.At.UTC().Format(timeFormat),
	}
	if ev.EndsAt != nil && !ev.EndsAt.IsZero() {
		s := ev.EndsAt.UTC().Format(timeFormat)
		p.Request.EndsAt = &s
	}
	return json.Marshal(p)
}

// requestReason is the requester's reason for the request: RequestReason, or for the events
// the requester causes, the event's own reason.
func requestReason(ev jit.Event) string {
	if ev.RequestReason != "" {
		return ev.RequestReason
	}
	switch ev.Kind {
	case "requested", "break_glass", "approval_needed":
		return ev.Reason
	}
	return ""
}

// Sign is the X-Gatehouse-Signature of body sent at timestamp (unix seconds) with secret:
// "sha256=" and the hex HMAC-SHA256 of "<timestamp>.<body>". The timestamp is signed with the
// body so that a captured delivery cannot be replayed later under a new timestamp.
func Sign(secret string, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// ErrBadSignature is Verify's error for a delivery not signed with the secret.
var ErrBadSignature = errors.New("the signature does not match: the delivery was not signed with this secret, or was altered")

// Verify checks a delivery as a receiver written in Go would: the signature header must be the
// HMAC of "<timestamp>.<body>" with secret (compared in constant time), and the timestamp
// within tolerance of now (a replayed old delivery is refused). docs/notifications.md shows the
// same in Python.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ts := h.Get(HeaderTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%s %q: want unix seconds", HeaderTimestamp, ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%s is %s away from now, more than the %s allowed: a replay, or a clock is wrong", HeaderTimestamp, d.Round(time.Second), tolerance)
	}
	got := h.Get(HeaderSignature)
	if !strings.HasPrefix(got, "sha256=") {
		return fmt.Errorf("%s %q: want sha256=<hex>", HeaderSignature, got)
	}
	if !hmac.Equal([]byte(got), []byte(Sign(secret, ts, body))) {
		return ErrBadSignature
	}
	return nil
}
