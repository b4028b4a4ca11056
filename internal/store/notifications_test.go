package store_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// A delivery goes queued -> (attempts) -> sent or failed; a final one is never changed again;
// the list pages newest first and filters.
func TestNotificationOutbox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if _, err := s.GetNotification(ctx, "ntf_nothing"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("GetNotification of nothing: %v, want ErrNotFound", err)
		}
		base := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
		var ids []string
		err := s.InTx(ctx, func(tx *store.Tx) error {
			for i, ep := range []string{"ops", "chat", "ops"} {
				n := &store.Notification{ID: store.NewNotificationID(), Channel: "webhook", Endpoint: ep, Event: "requested",
					RequestID: "req_1", Payload: `{"event":"requested"}`, CreatedAt: base.Add(time.Duration(i) * time.Second)}
				if i == 1 {
					n.Channel, n.Event, n.RequestID = "slack", "granted", "req_2"
				}
				if err := tx.InsertNotification(ctx, n); err != nil {
					return err
				}
				if err := tx.SetNotificationJob(ctx, n.ID, int64(100+i)); err != nil {
					return err
				}
				ids = append(ids, n.ID)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^ntf_[a-z2-7]{20}$`).MatchString(ids[0]) || ids[0] == ids[1] {
			t.Fatalf("ids %v: want distinct ntf_ + 20 base32 characters", ids)
		}
		got, err := s.GetNotification(ctx, ids[1])
		if err != nil {
			t.Fatal(err)
		}
		if got.Channel != "slack" || got.Endpoint != "chat" || got.Event != "granted" || got.RequestID != "req_2" ||
			got.Payload != `{"event":"requested"}` || got.State != store.NotificationQueued || got.Attempts != 0 ||
			got.JobID != 101 || !got.CreatedAt.Equal(base.Add(time.Second)) || got.SentAt != nil || got.AttemptedAt != nil {
			t.Fatalf("stored %+v", got)
		}

		// Attempt 1 fails (retried), attempt 2 is sent.
		at := base.Add(time.Minute)
		n, err := s.StartNotificationAttempt(ctx, ids[0], at)
		if err != nil || n.Attempts != 1 || n.AttemptedAt == nil || !n.AttemptedAt.Equal(at) {
			t.Fatalf("attempt 1: %+v, %v", n, err)
		}
		if ok, err := s.FinishNotificationAttempt(ctx, ids[0], store.NotificationResult{State: store.NotificationQueued, Status: 500, Error: "endpoint answered 500", At: at}); !ok || err != nil {
			t.Fatalf("finish attempt 1: %v %v", ok, err)
		}
		n, _ = s.StartNotificationAttempt(ctx, ids[0], at.Add(time.Second))
		if n.Attempts != 2 || n.LastStatus != 500 || n.LastError != "endpoint answered 500" {
			t.Fatalf("attempt 2 starts with %+v", n)
		}
		if ok, err := s.FinishNotificationAttempt(ctx, ids[0], store.NotificationResult{State: store.NotificationSent, Status: 204, At: at.Add(2 * time.Second)}); !ok || err != nil {
			t.Fatalf("finish attempt 2: %v %v", ok, err)
		}
		n, _ = s.GetNotification(ctx, ids[0])
		if n.State != store.NotificationSent || n.LastStatus != 204 || n.LastError != "" || n.SentAt == nil || !n.SentAt.Equal(at.Add(2*time.Second)) || !n.Final() {
			t.Fatalf("sent: %+v", n)
		}
		// A final delivery is not attempted or changed again (a duplicate job finds nothing to do).
		n, _ = s.StartNotificationAttempt(ctx, ids[0], at.Add(time.Hour))
		if n.Attempts != 2 {
			t.Fatalf("attempt on a sent delivery counted: %+v", n)
		}
		if ok, _ := s.FinishNotificationAttempt(ctx, ids[0], store.NotificationResult{State: store.NotificationFailed, Error: "late", At: at}); ok {
			t.Fatal("a sent delivery was marked failed")
		}
		if _, err := s.FinishNotificationAttempt(ctx, ids[2], store.NotificationResult{State: "lost"}); err == nil {
			t.Fatal("an unknown state was accepted")
		}
		if ok, _ := s.FinishNotificationAttempt(ctx, ids[2], store.NotificationResult{State: store.NotificationFailed, Status: 404, Error: "endpoint answered 404", At: at}); !ok {
			t.Fatal("failed not recorded")
		}

		// Newest first, two per page.
		page1, next, err := s.ListNotifications(ctx, store.NotificationFilter{}, store.Page{Size: 2})
		if err != nil || len(page1) != 2 || page1[0].ID != ids[2] || page1[1].ID != ids[1] || next == "" {
			t.Fatalf("page 1: %v next %q err %v", notificationIDs(page1), next, err)
		}
		page2, next, err := s.ListNotifications(ctx, store.NotificationFilter{}, store.Page{Size: 2, Token: next})
		if err != nil || len(page2) != 1 || page2[0].ID != ids[0] || next != "" {
			t.Fatalf("page 2: %v next %q err %v", notificationIDs(page2), next, err)
		}
		for _, c := range []struct {
			f    store.NotificationFilter
			want []string
		}{
			{store.NotificationFilter{State: store.NotificationFailed}, []string{ids[2]}},
			{store.NotificationFilter{RequestID: "req_1"}, []string{ids[2], ids[0]}},
			{store.NotificationFilter{Endpoint: "chat"}, []string{ids[1]}},
			{store.NotificationFilter{Event: "granted", State: store.NotificationQueued}, []string{ids[1]}},
		} {
			list, _, err := s.ListNotifications(ctx, c.f, store.Page{})
			if err != nil || !equalStrings(notificationIDs(list), c.want) {
				t.Errorf("filter %+v: %v, want %v (%v)", c.f, notificationIDs(list), c.want, err)
			}
		}
		if _, _, err := s.ListNotifications(ctx, store.NotificationFilter{}, store.Page{Token: "garbage!"}); !errors.Is(err, store.ErrBadPageToken) {
			t.Fatalf("bad token: %v", err)
		}
	})
}

// A rolled-back transaction leaves no delivery behind.
func TestNotificationRolledBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		boom := errors.New("the change failed")
		err := s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.InsertNotification(ctx, &store.Notification{ID: store.NewNotificationID(), Channel: "webhook", Endpoint: "ops",
				Event: "approved", Payload: "{}", CreatedAt: time.Now()}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		list, _, err := s.ListNotifications(ctx, store.NotificationFilter{}, store.Page{})
		if err != nil || len(list) != 0 {
			t.Fatalf("after rollback: %v %v", notificationIDs(list), err)
		}
	})
}

func notificationIDs(list []store.Notification) []string {
	out := []string{}
	for _, n := range list {
		out = append(out, n.ID)
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A queued delivery whose River job is gone (or over) is failed, saying why; one whose job is
// still waiting is left alone.
func TestFailLostNotifications(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		lost := &store.Notification{ID: store.NewNotificationID(), Channel: "webhook", Endpoint: "ops", Event: "granted", Payload: "{}", CreatedAt: time.Now()}
		noJob := &store.Notification{ID: store.NewNotificationID(), Channel: "slack", Endpoint: "chat", Event: "granted", Payload: "{}", CreatedAt: time.Now()}
		err := s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.InsertNotification(ctx, lost); err != nil {
				return err
			}
			if err := tx.SetNotificationJob(ctx, lost.ID, 987654); err != nil { // no such River job
				return err
			}
			return tx.InsertNotification(ctx, noJob) // not yet given a job: not lost
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.StartNotificationAttempt(ctx, lost.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.FinishNotificationAttempt(ctx, lost.ID, store.NotificationResult{State: store.NotificationQueued, Status: 502, Error: "the endpoint answered 502 Bad Gateway", At: time.Now()}); err != nil {
			t.Fatal(err)
		}
		failed, err := s.FailLostNotifications(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := "not sent: its delivery job no longer exists after 1 attempt; the replica running the last attempt probably stopped (last error: the endpoint answered 502 Bad Gateway)"
		if len(failed) != 1 || failed[0].ID != lost.ID || failed[0].LastError != want {
			t.Fatalf("failed %+v", failed)
		}
		got, _ := s.GetNotification(ctx, lost.ID)
		if got.State != store.NotificationFailed || got.LastError != want {
			t.Fatalf("stored %+v", got)
		}
		if other, _ := s.GetNotification(ctx, noJob.ID); other.State != store.NotificationQueued {
			t.Fatalf("a delivery without a job yet was failed: %+v", other)
		}
		if again, err := s.FailLostNotifications(ctx); err != nil || len(again) != 0 {
			t.Fatalf("second run: %v %v", again, err)
		}
	})
}

// Only a failed delivery is put back in the queue, with its attempts starting over; its last
// error stays until the next attempt.
func TestRequeueNotification(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		n := &store.Notification{ID: store.NewNotificationID(), Channel: "webhook", Endpoint: "ops", Event: "granted", Payload: "{}", CreatedAt: time.Now()}
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.InsertNotification(ctx, n) }); err != nil {
			t.Fatal(err)
		}
		requeue := func(id string) (*store.Notification, error) {
			var got *store.Notification
			err := s.InTx(ctx, func(tx *store.Tx) error {
				var err error
				got, err = tx.RequeueNotification(ctx, id)
				return err
			})
			return got, err
		}
		if _, err := requeue(n.ID); !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), "is queued") {
			t.Fatalf("requeue a queued delivery: %v, want ErrConflict saying it is queued", err)
		}
		if _, err := requeue("ntf_none"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("requeue nothing: %v", err)
		}
		for i := 0; i < 3; i++ {
			if _, err := s.StartNotificationAttempt(ctx, n.ID, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.FinishNotificationAttempt(ctx, n.ID, store.NotificationResult{State: store.NotificationFailed, Status: 404, Error: "the endpoint answered 404 Not Found", At: time.Now()}); err != nil {
			t.Fatal(err)
		}
		got, err := requeue(n.ID)
		if err != nil || got.State != store.NotificationQueued || got.Attempts != 0 || got.LastError != "the endpoint answered 404 Not Found" || got.LastStatus != 404 {
			t.Fatalf("requeued: %+v %v", got, err)
		}
	})
}
