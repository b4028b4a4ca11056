package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/notify"
	"github.com/gatehouse/gatehouse/internal/problem"
	"github.com/gatehouse/gatehouse/internal/store"
)

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/api/v1/notifications", auth.Admin, h.listNotifications)
		r.HandleFunc("POST", "/api/v1/notifications/{id}/retry", auth.Admin, h.retryNotification)
	})
	// Documented here rather than in openapi.go's list, beside the handler it describes.
	operations = append(operations, operation{
		Method: "GET", Path: "/api/v1/notifications", Summary: "Notification deliveries (webhooks, Slack), newest first, with their state; never an endpoint's URL or secret",
		Access: auth.Admin,
		Params: []param{query("state", "queued, sent or failed"), query("request_id", "only this request's notifications"),
			query("endpoint", "only this endpoint's (its configured name)"), query("event", "only this event kind, e.g. granted"), pageSize, pageToken},
		Status: 200, Response: List[Notification]{}, Errors: map[int]string{400: "bad filter or page_token"},
	}, operation{
		Method: "POST", Path: "/api/v1/notifications/{id}/retry", Summary: "Send a failed delivery again, its attempts starting over (after fixing its endpoint); audited",
		Access: auth.Admin, Params: []param{pathParam("id", "the delivery's id (ntf_...)")}, Status: 200, Response: Notification{},
		Errors: map[int]string{404: "no such delivery", 409: "the delivery is not failed, or its endpoint is not configured", 503: "notifications are not running on this server"},
	})
}

// Notification is one delivery of one event to one endpoint, as the API shows it.
type Notification struct {
	// ID is the delivery's id, sent as X-Gatehouse-Delivery.
	ID string `json:"id"`
	// Channel is webhook or slack; Endpoint the endpoint's configured name.
	Channel  string `json:"channel"`
	Endpoint string `json:"endpoint"`
	// Event is the event kind: requested, approval_needed, approved, denied, granted,
	// expiry_warning, revoked, expired, failed, break_glass, cancelled or extended.
	Event     string `json:"event"`
	RequestID string `json:"request_id"`
	// State is queued (waiting for an attempt or a retry), sent or failed (final).
	State    string `json:"state"`
	Attempts int    `json:"attempts"`
	// LastStatus is the endpoint's last HTTP status (0: it did not answer); LastError why
	// the last attempt failed.
	LastStatus  int     `json:"last_status"`
	LastError   string  `json:"last_error,omitempty"`
	CreatedAt   string  `json:"created_at"`
	AttemptedAt *string `json:"attempted_at"`
	SentAt      *string `json:"sent_at"`
	// Payload is the body sent (the signed JSON of a webhook, {"text"} for Slack).
	Payload json.RawMessage `json:"payload"`
}

func notificationJSON(n *store.Notification) Notification {
	out := Notification{
		ID: n.ID, Channel: n.Channel, Endpoint: n.Endpoint, Event: n.Event, RequestID: n.RequestID, State: n.State,
		Attempts: n.Attempts, LastStatus: n.LastStatus, LastError: n.LastError, CreatedAt: n.CreatedAt.UTC().Format(timeFormat),
		AttemptedAt: timeOrNil(n.AttemptedAt), SentAt: timeOrNil(n.SentAt), Payload: json.RawMessage(n.Payload),
	}
	if !json.Valid(out.Payload) {
		// Never an invalid document because of one bad row: show it as a string.
		b, _ := json.Marshal(n.Payload)
		out.Payload = b
	}
	return out
}

// listNotifications: GET /api/v1/notifications (admin). Deliveries newest first, as
// {"items": [notification...], "next_page_token"}; filters state (queued|sent|failed),
// request_id, endpoint, event; page_size and page_token.
func (h *handlers) listNotifications(w http.ResponseWriter, r *http.Request) {
	size, token, ok, detail := paging(r)
	if !ok {
		badRequest(w, detail)
		return
	}
	q := r.URL.Query()
	f := store.NotificationFilter{State: q.Get("state"), RequestID: q.Get("request_id"), Endpoint: q.Get("endpoint"), Event: q.Get("event")}
	switch f.State {
	case "", store.NotificationQueued, store.NotificationSent, store.NotificationFailed:
	default:
		badRequest(w, "state must be queued, sent or failed, got "+strconv.Quote(f.State))
		return
	}
	list, next, err := h.app.Store.ListNotifications(r.Context(), f, store.Page{Size: size, Token: token})
	if errors.Is(err, store.ErrBadPageToken) {
		badRequest(w, err.Error()+"; start again without page_token")
		return
	}
	if err != nil {
		h.app.Log.Error("list notifications", zap.Error(err))
		problem.Write(w, http.StatusInternalServerError, "the notifications could not be read; see the server log")
		return
	}
	items := make([]Notification, len(list))
	for i := range list {
		items[i] = notificationJSON(&list[i])
	}
	writeList(w, items, next)
}

// retryNotification: POST /api/v1/notifications/{id}/retry (admin). Queues a failed delivery
// again (same id and body), its attempts starting over, and answers it (state queued); 404 for
// no such delivery, 409 when it is not failed or its endpoint is not configured.
func (h *handlers) retryNotification(w http.ResponseWriter, r *http.Request) {
	if h.app.Notify == nil {
		problem.Write(w, http.StatusServiceUnavailable, "notifications are not running on this server")
		return
	}
	c := auth.FromContext(r.Context())
	n, err := h.app.Notify.Retry(r.Context(), c.Email, c.RemoteAddr, r.PathValue("id"))
	switch {
	case errors.Is(err, notify.ErrNoDelivery):
		problem.Write(w, http.StatusNotFound, err.Error())
		return
	case errors.Is(err, notify.ErrNotRetryable):
		problem.Write(w, http.StatusConflict, err.Error())
		return
	case err != nil:
		h.app.Log.Error("retry a notification", zap.Error(err))
		problem.Write(w, http.StatusInternalServerError, "the delivery could not be queued again; see the server log")
		return
	}
	writeJSON(w, http.StatusOK, notificationJSON(n))
}
