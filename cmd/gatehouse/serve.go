package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/gatehouse/gatehouse/internal/server"
)

func newServeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Gatehouse server: web UI, JSON API and scheduled syncs",
		Long: `Serve the web UI and the JSON API (/api/v1, described at /api/v1/openapi.json) and run
the background jobs (scheduled and on-demand syncs). The store is SQLite in --data-dir by
default; give --database-url postgres://... to run several replicas on PostgreSQL.

Settings come from flags, the YAML file named by --config, and GATEHOUSE_* environment
variables (oidc.issuer is GATEHOUSE_OIDC_ISSUER). See docs/server.md.

SIGTERM or Ctrl-C stops it gracefully: requests in flight finish, running jobs finish or
are resumed by the next start (or by another replica).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := server.Load(cmd.Flags())
			if err != nil {
				return err
			}
			log := serverLogger()
			defer log.Sync() //nolint:errcheck
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			srv, err := server.New(ctx, cfg, log)
			if err != nil {
				return err
			}
			return srv.Run(ctx)
		},
	}
	server.RegisterFlags(cmd.Flags())
	server.RegisterServeFlags(cmd.Flags())
	return cmd
}

// serverLogger is the log of a long-running server: JSON lines on stderr, info and up.
func serverLogger() *zap.Logger { return serverLoggerTo(os.Stderr, zapcore.InfoLevel) }

// serverLoggerTo logs JSON lines at level and up to w.
func serverLoggerTo(w io.Writer, level zapcore.Level) *zap.Logger {
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	core := zapcore.NewCore(zapcore.NewJSONEncoder(enc), zapcore.Lock(zapcore.AddSync(w)), level)
	return zap.New(core)
}

// contextOrBackground keeps commands usable from tests that call RunE directly.
func contextOrBackground(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}
