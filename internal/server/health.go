package server

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/problem"
)

func (s *Server) registerHealth() {
	s.Router.HandleFunc("GET", "/healthz", auth.Public, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.Router.HandleFunc("GET", "/readyz", auth.Public, s.readyz)
}

// readyz is ready when the database answers and every migration is applied.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := s.App.Store.Ping(ctx); err != nil {
		problem.Write(w, http.StatusServiceUnavailable, "the database does not answer: "+err.Error())
		return
	}
	pending, err := s.App.Store.Pending(ctx)
	if err != nil {
		problem.Write(w, http.StatusServiceUnavailable, "cannot read the schema version: "+err.Error())
		return
	}
	if pending {
		problem.Write(w, http.StatusServiceUnavailable, "migrations are pending: run gatehouse migrate, or restart gatehouse serve, which applies them")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
