package jit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/awsprovision"
)

// Identity Center's limits, which every replica shares through the store (AWS counts them
// per instance, whoever calls).
const (
	// icCallRate and icCallBurst pace Identity Center calls (SSO Admin and Identity Store
	// share AWS's quota of about 20 per second). The burst stays below AWS's so that
	// arrival jitter never turns a paced call into a throttled one, as awsfetch does.
	icCallRate  = 20
	icCallBurst = 5
	// slotTTL is how long a creation slot is held without renewal: the holder renews it
	// every slotTTL/3 while AWS works, so only a holder that died lets it lapse.
	slotTTL = 15 * time.Second
)

// sharedLimiter is awsprovision.Limiter over the store, for one connection: the creation
// slots of its Identity Center instance (awsprovision.MaxCreationsInProgress, held with an
// expiry) and a token bucket of its calls.
type sharedLimiter struct {
	s          *Service
	connection string
}

var _ awsprovision.Limiter = (*sharedLimiter)(nil)

// AcquireCreation takes one of the instance's creation slots, waiting for one until the
// deadline.
func (l *sharedLimiter) AcquireCreation(ctx context.Context, instanceARN string, deadline time.Time) (func(), error) {
	scope := "creations:" + instanceARN
	holder := l.s.holderName()
	wait := 50 * time.Millisecond
	for {
		now := time.Now()
		slot, ok, err := l.s.st.TryAcquireSlot(ctx, scope, awsprovision.MaxCreationsInProgress, holder, now, now.Add(slotTTL))
		if err != nil {
			return nil, err
		}
		if ok {
			return l.s.hold(func(ctx context.Context) (bool, error) {
				return l.s.st.RenewSlot(ctx, scope, slot, holder, time.Now().Add(slotTTL))
			}, slotTTL/3, func(ctx context.Context) error {
				return l.s.st.ReleaseSlot(ctx, scope, slot, holder)
			}), nil
		}
		remaining := time.Until(deadline)
		if remaining <= 0 {
			return nil, &awsprovision.Error{Kind: awsprovision.KindTimeout,
				Msg: fmt.Sprintf("no account assignment creation slot of %s became free in time: %d creations were in progress across Gatehouse's replicas for the whole wait", instanceARN, awsprovision.MaxCreationsInProgress)}
		}
		if err := sleepCtx(ctx, min(jittered(wait), remaining)); err != nil {
			return nil, err
		}
		wait = min(wait*2, 500*time.Millisecond)
	}
}

// Wait takes a token of the connection's Identity Center bucket and waits as long as the
// bucket says.
func (l *sharedLimiter) Wait(ctx context.Context) error {
	d, err := l.s.st.TakeToken(ctx, "identitycenter:"+l.connection, icCallRate, icCallBurst, time.Now())
	if err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	return sleepCtx(ctx, d)
}

// hold keeps something held in the store (a slot, a lock) renewed every interval until
// the returned function is called, which frees it. The store's errors while renewing are
// logged: a holder that cannot renew loses the thing at its expiry, which is the safe
// side (another worker may take it over; the work itself is idempotent).
func (s *Service) hold(renew func(context.Context) (bool, error), every time.Duration, free func(context.Context) error) func() {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), every)
				ok, err := renew(ctx)
				cancel()
				if err != nil {
					s.log.Warn("renewing a lock failed", zap.Error(err))
				} else if !ok {
					s.log.Warn("a lock expired before it was renewed (the store was too slow?)")
					return
				}
			}
		}
	}()
	return func() {
		close(stop)
		<-done
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := free(ctx); err != nil {
			s.log.Warn("freeing a lock failed; it expires by itself", zap.Error(err))
		}
	}
}

// processID names this process in the holders of locks and slots: host, pid and start
// time, so that a replica on the same host finds the locks of a process that died (its
// pid is gone) and frees them at once instead of waiting for them to expire.
var processID = func() string {
	host, _ := os.Hostname()
	host = strings.ReplaceAll(host, "/", "_")
	return fmt.Sprintf("%s/%d/%d/", host, os.Getpid(), time.Now().UnixNano())
}()

// holderName is a new holder name of this process (each lock or slot its own).
func (s *Service) holderName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return processID + hex.EncodeToString(b[:])
}

// freeDeadHolders frees the locks and slots of processes on this host that no longer
// run (killed, crashed). Holders on other hosts are left to expire.
func (s *Service) freeDeadHolders(ctx context.Context) error {
	holders, err := s.st.LockHolders(ctx, time.Now())
	if err != nil {
		return err
	}
	host, _, _ := strings.Cut(processID, "/")
	seen := map[string]bool{}
	var errs []error
	for _, h := range holders {
		parts := strings.SplitN(h, "/", 4)
		if len(parts) < 4 || parts[0] != host {
			continue
		}
		prefix := strings.Join(parts[:3], "/") + "/"
		if prefix == processID || seen[prefix] {
			continue
		}
		seen[prefix] = true
		pid, err := strconv.Atoi(parts[1])
		if err != nil {
			continue
		}
		// Our own pid with another start time is an earlier process that died.
		if pid != os.Getpid() && processAlive(pid) {
			continue
		}
		s.log.Info("freeing the locks of a process that no longer runs", zap.String("holder", prefix))
		if err := s.st.DropLocksOf(ctx, prefix); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// processAlive reports whether a process with the pid runs on this host.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// jittered returns a duration between d/2 and d, so that waiters spread out.
func jittered(d time.Duration) time.Duration {
	return d/2 + time.Duration(mrand.Int64N(int64(d/2)+1))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
