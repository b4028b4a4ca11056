package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

func TestConfiguredRolesFollowTheConfiguration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if err := s.SetConfiguredRoles(ctx, map[string][]string{"ann@example.com": {"admin"}, "bob@example.com": {"auditor", "admin"}}); err != nil {
			t.Fatal(err)
		}
		// Ann signs in: her name and subject are recorded, her roles stay.
		if err := s.InTx(ctx, func(tx *store.Tx) error {
			return tx.UpsertSignIn(ctx, store.User{Email: "ann@example.com", Name: "Ann", Issuer: "https://idp", Subject: "sub-ann", Roles: []string{"admin"}}, time.Now())
		}); err != nil {
			t.Fatal(err)
		}
		bob, err := s.GetUser(ctx, "bob@example.com")
		if err != nil || !slices.Equal(bob.Roles, []string{"admin", "auditor"}) || bob.LastLoginAt != nil {
			t.Fatalf("bob = %+v, %v; want roles [admin auditor], never signed in", bob, err)
		}
		// Next start: Ann is no longer an admin, Bob only an auditor, Cy new.
		if err := s.SetConfiguredRoles(ctx, map[string][]string{"bob@example.com": {"auditor"}, "cy@example.com": {"auditor"}}); err != nil {
			t.Fatal(err)
		}
		for email, want := range map[string][]string{"ann@example.com": {}, "bob@example.com": {"auditor"}, "cy@example.com": {"auditor"}} {
			u, err := s.GetUser(ctx, email)
			if err != nil || !slices.Equal(u.Roles, want) {
				t.Fatalf("%s = %+v, %v; want roles %v", email, u, err, want)
			}
		}
		ann, _ := s.GetUser(ctx, "ann@example.com")
		if ann.Name != "Ann" || ann.Subject != "sub-ann" || ann.LastLoginAt == nil {
			t.Fatalf("ann lost her sign-in record: %+v", ann)
		}
		if _, err := s.GetUser(ctx, "nobody@example.com"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown user: %v, want ErrNotFound", err)
		}
	})
}

func TestSessionsExpireAndAreSwept(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		err := s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.UpsertSignIn(ctx, store.User{Email: "ann@example.com", Name: "Ann", Roles: []string{"auditor"}}, now); err != nil {
				return err
			}
			if err := tx.CreateSession(ctx, store.Session{IDHash: "live", Email: "ann@example.com", CreatedAt: now, ExpiresAt: now.Add(time.Hour), RemoteAddr: "10.0.0.1"}); err != nil {
				return err
			}
			return tx.CreateSession(ctx, store.Session{IDHash: "old", Email: "ann@example.com", CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour)})
		})
		if err != nil {
			t.Fatal(err)
		}
		sess, u, err := s.SessionUser(ctx, "live", now)
		if err != nil || u.Email != "ann@example.com" || u.Name != "Ann" || !slices.Equal(u.Roles, []string{"auditor"}) || sess.RemoteAddr != "10.0.0.1" {
			t.Fatalf("live session = %+v %+v %v", sess, u, err)
		}
		if _, _, err := s.SessionUser(ctx, "old", now); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("expired session: %v, want ErrNotFound", err)
		}
		// The live one stops working once its time is up, even before a sweep.
		if _, _, err := s.SessionUser(ctx, "live", now.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("session at its expiry: %v, want ErrNotFound", err)
		}
		if err := s.CreateSignInAttempt(ctx, store.SignInAttempt{StateHash: "st-old", Nonce: "n", Verifier: "v", NextPath: "/", CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(-time.Minute)}); err != nil {
			t.Fatal(err)
		}
		n, m, err := s.SweepExpired(ctx, now)
		if err != nil || n != 1 || m != 1 {
			t.Fatalf("sweep = %d sessions, %d attempts, %v; want 1, 1", n, m, err)
		}
		var email string
		if err := s.InTx(ctx, func(tx *store.Tx) (err error) { email, err = tx.DeleteSession(ctx, "live"); return }); err != nil || email != "ann@example.com" {
			t.Fatalf("delete session = %q, %v", email, err)
		}
		if _, _, err := s.SessionUser(ctx, "live", now); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted session: %v, want ErrNotFound", err)
		}
	})
}

func TestSignInAttemptIsTakenOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.UnixMilli(time.Now().UnixMilli()).UTC()
		in := store.SignInAttempt{StateHash: "h1", Nonce: "nonce-1", Verifier: "verifier-1", NextPath: "/people/ann", CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}
		if err := s.CreateSignInAttempt(ctx, in); err != nil {
			t.Fatal(err)
		}
		got, err := s.TakeSignInAttempt(ctx, "h1")
		if err != nil || *got != in {
			t.Fatalf("take = %+v, %v; want %+v", got, err, in)
		}
		if _, err := s.TakeSignInAttempt(ctx, "h1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second take: %v, want ErrNotFound (one use only)", err)
		}
	})
}

func TestAPITokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		base := time.UnixMilli(time.Now().UnixMilli()).UTC()
		exp := base.Add(time.Hour)
		err := s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.EnsureUser(ctx, "ann@example.com", []string{"admin"}, base); err != nil {
				return err
			}
			for i, tok := range []store.APIToken{
				{ID: "tok_a", Name: "a", Email: "ann@example.com", CreatedAt: base, CreatedBy: "cli", ExpiresAt: &exp},
				{ID: "tok_b", Name: "b", Email: "bob@example.com", CreatedAt: base.Add(time.Second), CreatedBy: "bob@example.com"},
				{ID: "tok_c", Name: "c", Email: "ann@example.com", CreatedAt: base.Add(2 * time.Second), CreatedBy: "ann@example.com"},
			} {
				if err := tx.CreateAPIToken(ctx, tok, "hash-"+string(rune('a'+i))); err != nil {
					return err
				}
			}
			// EnsureUser leaves an existing user's roles alone.
			return tx.EnsureUser(ctx, "ann@example.com", nil, base)
		})
		if err != nil {
			t.Fatal(err)
		}
		tok, u, err := s.TokenByHash(ctx, "hash-a")
		if err != nil || tok.ID != "tok_a" || tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(exp) || u.Email != "ann@example.com" || !slices.Equal(u.Roles, []string{"admin"}) {
			t.Fatalf("by hash = %+v %+v %v", tok, u, err)
		}
		if _, _, err := s.TokenByHash(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown hash: %v", err)
		}
		// Newest first, paged.
		var ids []string
		after := ""
		for {
			page, next, err := s.ListAPITokens(ctx, "", 2, after)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range page {
				ids = append(ids, p.ID)
			}
			if next == "" {
				break
			}
			after = next
		}
		if !slices.Equal(ids, []string{"tok_c", "tok_b", "tok_a"}) {
			t.Fatalf("all tokens = %v", ids)
		}
		own, _, err := s.ListAPITokens(ctx, "ann@example.com", 0, "")
		if err != nil || len(own) != 2 || own[0].ID != "tok_c" || own[1].ID != "tok_a" {
			t.Fatalf("ann's tokens = %+v %v", own, err)
		}
		if _, _, err := s.ListAPITokens(ctx, "", 2, "tok_zzz"); !errors.Is(err, store.ErrBadPageToken) {
			t.Fatalf("bad page token: %v", err)
		}
		// Use is recorded at most once a minute.
		if err := s.TouchAPIToken(ctx, "tok_b", base.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.TouchAPIToken(ctx, "tok_b", base.Add(time.Minute+30*time.Second)); err != nil {
			t.Fatal(err)
		}
		b, _ := s.GetAPIToken(ctx, "tok_b")
		if b.LastUsedAt == nil || !b.LastUsedAt.Equal(base.Add(time.Minute)) {
			t.Fatalf("last used = %v, want %v (the second use within a minute is not written)", b.LastUsedAt, base.Add(time.Minute))
		}
		if err := s.TouchAPIToken(ctx, "tok_b", base.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		b, _ = s.GetAPIToken(ctx, "tok_b")
		if !b.LastUsedAt.Equal(base.Add(2 * time.Minute)) {
			t.Fatalf("last used = %v, want %v", b.LastUsedAt, base.Add(2*time.Minute))
		}
		// Revoke once; the second time changes nothing.
		var first, second bool
		if err := s.InTx(ctx, func(tx *store.Tx) (err error) {
			first, err = tx.RevokeAPIToken(ctx, "tok_b", base.Add(time.Hour))
			return
		}); err != nil || !first {
			t.Fatalf("revoke = %v %v", first, err)
		}
		if err := s.InTx(ctx, func(tx *store.Tx) (err error) {
			second, err = tx.RevokeAPIToken(ctx, "tok_b", base.Add(2*time.Hour))
			return
		}); err != nil || second {
			t.Fatalf("second revoke = %v %v, want false", second, err)
		}
		b, _ = s.GetAPIToken(ctx, "tok_b")
		if b.RevokedAt == nil || !b.RevokedAt.Equal(base.Add(time.Hour)) {
			t.Fatalf("revoked at = %v", b.RevokedAt)
		}
		if err := s.InTx(ctx, func(tx *store.Tx) error { _, err := tx.RevokeAPIToken(ctx, "tok_x", base); return err }); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("revoke unknown: %v", err)
		}
	})
}
