package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// BenchmarkIdentify measures what Identify adds to every request: the token or session
// lookup (SQLite, in-process; no HTTP). Run by hand:
//
//	go test -run '^$' -bench Identify -benchmem ./internal/auth/
func BenchmarkIdentify(b *testing.B) {
	st := storetest.Open(b, store.SQLite)
	ctx := context.Background()
	svc, err := New(ctx, st, Config{Admins: []string{"ann@example.com"}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	secret, _, err := CreateToken(ctx, st, NewToken{Email: "ann@example.com", Name: "bench", Actor: "cli"})
	if err != nil {
		b.Fatal(err)
	}
	sid, _ := randomString(32)
	now := time.Now()
	if err := st.InTx(ctx, func(tx *store.Tx) error {
		return tx.CreateSession(ctx, store.Session{IDHash: hashSecret(sid), Email: "ann@example.com", CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	}); err != nil {
		b.Fatal(err)
	}
	h := svc.Identify(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if FromContext(r.Context()) == nil {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	for name, set := range map[string]func(*http.Request){
		"token":   func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+secret) },
		"session": func(r *http.Request) { r.AddCookie(&http.Cookie{Name: SessionCookie, Value: sid}) },
	} {
		b.Run(name, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := httptest.NewRequest("GET", "/api/v1/me", nil)
					set(r)
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					if w.Code != 200 {
						b.Fatalf("status %d", w.Code)
					}
				}
			})
		})
	}
}
