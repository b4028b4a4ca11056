package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/api"
	"github.com/gatehouse/gatehouse/internal/app"
	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/metrics"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/web"
)

// Server is a configured `gatehouse serve`: store open and migrated, routes registered.
type Server struct {
	cfg    Config
	log    *zap.Logger
	App    *app.App
	Router *auth.Router
	// Metrics are served at /metrics.
	Metrics *metrics.Metrics
	// handler is Router behind the middleware (caller identification, logging, headers).
	handler http.Handler
	httpSrv *http.Server
	ln      net.Listener
	// stops are run in order at shutdown, after the HTTP server has stopped.
	stops []func(context.Context) error
}

// New opens and migrates the store and registers every route. Nothing is served until
// Start.
func New(ctx context.Context, cfg Config, log *zap.Logger) (*Server, error) {
	if log == nil {
		log = zap.NewNop()
	}
	st, err := store.Open(ctx, store.Config{DataDir: cfg.DataDir, DatabaseURL: cfg.DatabaseURL})
	if err != nil {
		return nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	s := &Server{
		cfg:    cfg,
		log:    log,
		App:    &app.App{Store: st, Log: log},
		Router: auth.NewRouter(),
	}
	s.stops = append(s.stops, func(context.Context) error { return st.Close() })
	if err := s.setupConnections(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if err := s.startAuth(ctx); err != nil {
		st.Close()
		return nil, err
	}
	// The jobs start last: nothing after them can fail and leave them running.
	if err := s.startJobs(ctx); err != nil {
		st.Close()
		return nil, err
	}
	s.registerHealth()
	s.registerMetrics()
	s.App.Auth.Register(s.Router)
	api.Register(s.Router, s.App)
	web.Register(s.Router, s.App)
	// Instrument wraps the router directly, inside Identify (which clones the request),
	// where the matched route's pattern is visible.
	s.handler = s.middleware(s.App.Auth.Identify(s.Metrics.Instrument(s.Router)))
	return s, nil
}

// startAuth creates the sign-in service (applying the configured roles) and starts its
// sweeper of expired sessions, stopped at shutdown.
func (s *Server) startAuth(ctx context.Context) error {
	a, err := auth.New(ctx, s.App.Store, auth.Config{
		Issuer: s.cfg.OIDC.Issuer, ClientID: s.cfg.OIDC.ClientID, ClientSecret: s.cfg.OIDC.ClientSecret,
		Scopes: s.cfg.OIDC.Scopes, PublicURL: s.cfg.PublicURL, SessionTTL: s.cfg.SessionTTL,
		Admins: s.cfg.Admins, Auditors: s.cfg.Auditors,
		// /metrics checks its own bearer token (--metrics-token), not an API token.
		BearerExempt: []string{"/metrics"},
	}, s.log.Named("auth"))
	if err != nil {
		return err
	}
	s.App.Auth = a
	sweepCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { defer close(done); a.Run(sweepCtx) }()
	s.stops = append(s.stops, func(context.Context) error { cancel(); <-done; return nil })
	return nil
}

// Handler is the server's whole HTTP handler (tests serve it with httptest).
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on the configured address and serves in the background. It returns the
// URL it serves at.
func (s *Server) Start() (string, error) {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return "", fmt.Errorf("listen on %s: %w", s.cfg.Listen, err)
	}
	s.ln = ln
	s.httpSrv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          zap.NewStdLog(s.log.Named("http")),
	}
	go func() {
		if err := s.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server stopped", zap.Error(err))
		}
	}()
	return "http://" + ln.Addr().String(), nil
}

// Addr is the address Start listens on.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Shutdown stops serving (letting requests in flight finish), stops the jobs (letting
// running jobs finish or, past the timeout, leaving them to be resumed) and closes the
// store.
func (s *Server) Shutdown(ctx context.Context) error {
	var errs []error
	if s.httpSrv != nil {
		errs = append(errs, s.httpSrv.Shutdown(ctx))
	}
	for i := len(s.stops) - 1; i >= 0; i-- {
		errs = append(errs, s.stops[i](ctx))
	}
	return errors.Join(errs...)
}

// Run starts the server and serves until ctx is done, then shuts down within the
// configured timeout.
func (s *Server) Run(ctx context.Context) error {
	url, err := s.Start()
	if err != nil {
		return err
	}
	s.log.Info("serving", zap.String("url", url), zap.String("store", s.App.Store.Describe()))
	<-ctx.Done()
	s.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	return s.Shutdown(sctx)
}
