package jit

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/gatehouse/gatehouse/internal/access"
	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
)

// How a lease ends (Lease.EndReason).
const (
	EndExpired   = "expired"   // its time ran out
	EndReleased  = "released"  // the requester gave it back early
	EndRevoked   = "revoked"   // an admin took it away early
	EndCancelled = "cancelled" // the request was cancelled before it was granted
	EndFailed    = "failed"    // the grant failed for good; whatever it may have made is removed
)

// leaseID returns "lease_" and 20 random base32 characters (lower case).
func leaseID() string {
	var b [13]byte
	_, _ = rand.Read(b[:])
	s := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
	return "lease_" + s[:20]
}

// grantTx starts the lease of an approved request in tx: the lease (pending; it starts
// when AWS confirms the grant, and ends its duration later) and the job that grants it.
// Both exist if and only if the approval commits. A request that already has its lease
// keeps it (an approval retried).
func (s *Service) grantTx(ctx context.Context, tx *store.Tx, req *Request) error {
	if s.queue == nil {
		return errors.New("jit: the service has no job queue yet (SetQueue)")
	}
	if req.Target.Kind == KindAppGrant {
		return s.appGrantTx(ctx, tx, req) // the owner grants it (app_leases.go)
	}
	if _, err := tx.LeaseOfRequest(ctx, req.ID); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	target, err := json.Marshal(req.Target)
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	l := &store.Lease{ID: leaseID(), RequestID: req.ID, Requester: req.Requester, ConnectionID: req.Target.ConnectionID,
		AccessKey: req.Target.AccessKey(), Target: string(target), State: store.LeasePending, Duration: req.Duration,
		CreatedAt: now, UpdatedAt: now, EndSessions: req.EndSessions}
	if err := s.enqueueTx(ctx, tx, l, time.Time{}); err != nil {
		return err
	}
	if err := tx.InsertLease(ctx, l); err != nil {
		return err
	}
	_, err = tx.AppendAudit(ctx, SystemActor, "lease.create", "lease:"+l.ID, map[string]any{
		"request_id": req.ID, "requester": req.Requester, "access": l.AccessKey, "duration": req.Duration.String()}, "")
	return err
}

// enqueueTx gives the lease a new job (the next generation), due at (now when zero).
// The caller writes the lease.
func (s *Service) enqueueTx(ctx context.Context, tx *store.Tx, l *store.Lease, at time.Time) error {
	l.Gen++
	opts := &river.InsertOpts{}
	if !at.IsZero() && at.After(time.Now()) {
		opts.ScheduledAt = at
	}
	res, err := s.queue.InsertTx(ctx, tx, leaseArgs{LeaseID: l.ID, Gen: l.Gen}, opts)
	if err != nil {
		return fmt.Errorf("queue the job of lease %s: %w", l.ID, err)
	}
	if at.IsZero() {
		at = time.Now()
	}
	l.JobID, l.JobAt = res.Job.ID, &at
	return nil
}

// Release ends the caller's active access early (the requester only).
func (s *Service) Release(ctx context.Context, c *auth.Caller, id, reason string) (*Request, error) {
	return s.endEarly(ctx, c, id, reason, EndReleased)
}

// Revoke ends a request's access early (admins only).
func (s *Service) Revoke(ctx context.Context, c *auth.Caller, id, reason string) (*Request, error) {
	return s.endEarly(ctx, c, id, reason, EndRevoked)
}

// endEarly ends access before its lease runs out. An active lease moves to ending at once
// with a job to revoke it; a lease still being granted is marked: its grant job ends it
// without asking AWS anything when no attempt was made yet, and otherwise revokes it as
// soon as AWS confirms the grant.
func (s *Service) endEarly(ctx context.Context, c *auth.Caller, id, reason, how string) (*Request, error) {
	if c == nil || c.Email == "" {
		return nil, Errorf(CodeForbidden, "sign in first")
	}
	verb := "release"
	if how == EndRevoked {
		verb = "revoke"
	}
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		req, err := s.loadRequestTx(ctx, tx, id)
		if err != nil {
			return err
		}
		switch {
		case how == EndReleased && req.Requester != c.Email:
			if !c.CanAudit() {
				return Errorf(CodeNotFound, "no request %s", id)
			}
			return Errorf(CodeForbidden, "only the requester (%s) may release request %s; an admin may revoke it", req.Requester, id)
		case how == EndRevoked && !c.IsAdmin():
			if req.Requester == c.Email {
				return Errorf(CodeForbidden, "only admins revoke access; release your own request %s instead", id)
			}
			return Errorf(CodeForbidden, "only admins may revoke request %s", id)
		}
		if req.State != StateActive && req.State != StateProvisioning {
			hint := ""
			switch req.State {
			case StatePendingApproval, StateApproved:
				hint = " (it is not granted yet: cancel it instead)"
			case StateExpiring:
				hint = " (its access is already being taken away)"
			}
			return Errorf(CodeConflict, "request %s is %s, so it cannot be %sd%s", id, strings.ReplaceAll(string(req.State), "_", " "), verb, hint)
		}
		l, err := tx.LeaseOfRequest(ctx, id)
		if err != nil {
			return fmt.Errorf("the lease of request %s: %w", id, err)
		}
		if l.EndReason != "" {
			return Errorf(CodeConflict, "request %s is already ending (%s by %s)", id, l.EndReason, l.EndedBy)
		}
		now := s.cfg.Now()
		l.EndReason, l.EndedBy, l.UpdatedAt = how, c.Email, now
		if isAppLease(l) {
			// The owner removes it: a revoke task (app_leases.go).
			if err := s.appEndTx(ctx, tx, l, c.Email, reason); err != nil {
				return err
			}
			_, err = tx.AppendAudit(ctx, c.Email, "lease."+verb, "lease:"+l.ID, map[string]any{
				"request_id": id, "reason": reason, "lease_state": l.State}, c.RemoteAddr)
			return err
		}
		if l.State == store.LeaseActive {
			l.State = store.LeaseEnding
			if err := s.enqueueTx(ctx, tx, l, time.Time{}); err != nil {
				return err
			}
			if _, err := s.transitionTx(ctx, tx, id, []State{StateActive}, StateExpiring, c.Email, reason, ""); err != nil {
				return err
			}
		}
		if err := tx.UpdateLease(ctx, l); err != nil {
			return err
		}
		_, err = tx.AppendAudit(ctx, c.Email, "lease."+verb, "lease:"+l.ID, map[string]any{
			"request_id": id, "reason": reason, "lease_state": l.State}, c.RemoteAddr)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.wakeSweeper()
	return s.Get(ctx, c, id)
}

// extendPolicy is the part of a policy snapshot that says how extensions are approved.
type extendPolicy struct {
	Extend string `json:"extend"`
}

// extendTx moves the end of the request's lease d later, at once (no gap: the access
// stays while the end moves). An extension approved while the grant is under way adds to
// the lease's duration.
func (s *Service) extendTx(ctx context.Context, tx *store.Tx, req *Request, d time.Duration, actor string) error {
	if d <= 0 {
		return Errorf(CodeInvalid, "an extension must be a positive duration, not %s", d)
	}
	l, err := tx.LeaseOfRequest(ctx, req.ID)
	if err != nil {
		return fmt.Errorf("the lease of request %s: %w", req.ID, err)
	}
	if l.EndReason != "" || (l.State != store.LeaseActive && l.State != store.LeasePending) {
		return Errorf(CodeConflict, "the access of request %s is %s, so it cannot be extended", req.ID, leaseWord(l))
	}
	from := l.EndsAt
	l.Duration += d
	if l.EndsAt != nil {
		end := l.EndsAt.Add(d)
		l.EndsAt = &end
		// A new end deserves a new reminder.
		l.RemindedAt = nil
	}
	l.UpdatedAt = s.cfg.Now()
	if err := tx.UpdateLease(ctx, l); err != nil {
		return err
	}
	detail := map[string]any{"request_id": req.ID, "added": d.String(), "duration": l.Duration.String()}
	if from != nil {
		detail["from"], detail["to"] = from.UTC().Format(time.RFC3339), l.EndsAt.UTC().Format(time.RFC3339)
	}
	if _, err := tx.AppendAudit(ctx, actor, "lease.extend", "lease:"+l.ID, detail, ""); err != nil {
		return err
	}
	ev := s.leaseEvent(req, l, "extended", actor, "extended by "+d.String())
	return s.notifyTx(ctx, tx, ev)
}

// Extend asks for d more time on the caller's active access. When the request's policy
// says `extend: auto` the end moves at once, as long as the lease's whole duration stays
// within the rule's maximum (counted from the lease's start, so that extending cannot
// make access standing); otherwise the extension waits for approval
// (Request.PendingExtension) and the end moves when it is approved.
func (s *Service) Extend(ctx context.Context, c *auth.Caller, id string, d time.Duration, reason string) (*Request, error) {
	if c == nil || c.Email == "" {
		return nil, Errorf(CodeForbidden, "sign in first")
	}
	if d <= 0 {
		return nil, Errorf(CodeInvalid, "duration: give how much more time you need, such as 30m or 1h (got %s)", d)
	}
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		req, err := s.loadRequestTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if req.Requester != c.Email {
			if !c.CanAudit() {
				return Errorf(CodeNotFound, "no request %s", id)
			}
			return Errorf(CodeForbidden, "only the requester (%s) may extend request %s", req.Requester, id)
		}
		if req.State != StateActive {
			return Errorf(CodeConflict, "request %s is %s; only active access can be extended", id, strings.ReplaceAll(string(req.State), "_", " "))
		}
		if req.PendingExtension != nil {
			return Errorf(CodeConflict, "request %s already has an extension of %s waiting for approval", id, req.PendingExtension.Duration)
		}
		l, err := tx.LeaseOfRequest(ctx, id)
		if err != nil {
			return err
		}
		if max, ok, err := s.maxDuration(ctx, req); err != nil {
			return err
		} else if ok && l.Duration+d > max {
			return Errorf(CodeInvalid, "request %s already has %s; %s more would exceed the rule's maximum of %s (ask for at most %s)",
				id, l.Duration, d, max, max-l.Duration)
		}
		var pol extendPolicy
		if len(req.Policy.Doc) > 0 {
			if err := json.Unmarshal(req.Policy.Doc, &pol); err != nil {
				return fmt.Errorf("the policy of request %s: %w", id, err)
			}
		}
		if pol.Extend == "auto" {
			return s.extendTx(ctx, tx, req, d, c.Email)
		}
		return s.setPendingExtensionTx(ctx, tx, id, &Extension{Duration: d, Reason: reason, RequestedAt: s.cfg.Now()})
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, c, id)
}

// Leases lists leases: the caller's own ("mine", the default), or everyone's ("all",
// admins and auditors).
func (s *Service) Leases(ctx context.Context, c *auth.Caller, f LeaseFilter) ([]Lease, string, error) {
	if c == nil || c.Email == "" {
		return nil, "", Errorf(CodeForbidden, "sign in first")
	}
	var sf store.LeaseFilter
	switch f.Scope {
	case "", "mine":
		sf.Requester = c.Email
	case "all":
		if !c.CanAudit() {
			return nil, "", Errorf(CodeForbidden, "only admins and auditors see everyone's leases; ask for scope=mine")
		}
	default:
		return nil, "", Errorf(CodeInvalid, "scope: %q is not mine or all", f.Scope)
	}
	for _, st := range f.States {
		switch st {
		case LeasePending, LeaseActive, LeaseEnding, LeaseEnded, LeaseFailed:
			sf.States = append(sf.States, string(st))
		default:
			return nil, "", Errorf(CodeInvalid, "state: %q is not a lease state (pending, active, ending, ended, failed)", st)
		}
	}
	rows, next, err := s.st.ListLeases(ctx, sf, f.Page)
	if errors.Is(err, store.ErrBadPageToken) {
		return nil, "", Errorf(CodeInvalid, "page token: not one this list gave; start from the first page")
	}
	if err != nil {
		return nil, "", err
	}
	out := make([]Lease, 0, len(rows))
	for i := range rows {
		l, err := leaseOf(&rows[i])
		if err != nil {
			return nil, "", err
		}
		out = append(out, *l)
	}
	if taskLoader != nil {
		ptrs := make([]*Lease, len(out))
		for i := range out {
			ptrs[i] = &out[i]
		}
		if err := taskLoader(ctx, s, ptrs); err != nil {
			return nil, "", err
		}
	}
	return out, next, nil
}

// leaseOf is a stored lease as the service shows it.
func leaseOf(r *store.Lease) (*Lease, error) {
	l := &Lease{ID: r.ID, RequestID: r.RequestID, Requester: r.Requester, State: LeaseState(r.State),
		StartsAt: r.StartsAt, EndedAt: r.EndedAt, EndReason: r.EndReason, Drift: r.Drift}
	if r.EndsAt != nil {
		l.EndsAt = *r.EndsAt
	}
	if err := json.Unmarshal([]byte(r.Target), &l.Target); err != nil {
		return nil, fmt.Errorf("lease %s: target: %w", r.ID, err)
	}
	return l, nil
}

// leaseWord says where a lease is, for messages.
func leaseWord(l *store.Lease) string {
	if l.EndReason != "" && l.State != store.LeaseEnded {
		return "ending (" + l.EndReason + ")"
	}
	return l.State
}

// leaseEvent is an event about a request's lease.
func (s *Service) leaseEvent(req *Request, l *store.Lease, kind, actor, reason string) Event {
	ev := Event{Kind: kind, RequestID: req.ID, Requester: req.Requester, To: []string{req.Requester}, Target: req.Target,
		State: req.State, Actor: actor, Reason: reason, RequestReason: req.Reason, EndsAt: l.EndsAt, At: s.cfg.Now()}
	if s.cfg.BaseURL != "" {
		ev.URL = strings.TrimSuffix(s.cfg.BaseURL, "/") + "/requests/" + req.ID
	}
	return ev
}

// maxDuration is the longest a lease of the request may last in all: the maximum of the
// rule that allowed it, as the rules are now (a rule made stricter since applies to
// extensions), or access.MaxDurationLimit when the rule is gone.
func (s *Service) maxDuration(ctx context.Context, req *Request) (time.Duration, bool, error) {
	cfg, _, err := s.config(ctx)
	if err != nil {
		return 0, false, err
	}
	if cfg != nil && cfg.Rules != nil {
		for _, r := range cfg.Rules.Rules {
			if r.Name == req.Rule && r.Duration.Max > 0 {
				return r.Duration.Max, true, nil
			}
		}
	}
	return access.MaxDurationLimit, true, nil
}

func init() { leaseLoader = loadLeases }

// taskLoader fills in the owner tasks of leases in imported applications (app_leases.go).
var taskLoader func(ctx context.Context, s *Service, leases []*Lease) error

// loadLeases fills in the lease of each request (requests.go's complete calls it).
func loadLeases(ctx context.Context, s *Service, reqs []*Request) error {
	ids := make([]string, len(reqs))
	for i, r := range reqs {
		ids[i] = r.ID
	}
	rows, err := s.st.LeasesOfRequests(ctx, ids...)
	if err != nil {
		return err
	}
	var leases []*Lease
	for _, r := range reqs {
		row := rows[r.ID]
		if row == nil {
			continue
		}
		l, err := leaseOf(row)
		if err != nil {
			return err
		}
		r.Lease = l
		leases = append(leases, l)
		r.StartsAt = l.StartsAt
		if row.EndsAt != nil {
			end := *row.EndsAt
			r.EndsAt = &end
		}
	}
	if taskLoader != nil {
		if err := taskLoader(ctx, s, leases); err != nil {
			return err
		}
		for _, r := range reqs {
			if r.Lease != nil && len(r.Lease.Tasks) > 0 {
				t := r.Lease.Tasks[len(r.Lease.Tasks)-1]
				r.Task = &t
			}
		}
	}
	return nil
}
