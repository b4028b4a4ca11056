package jobs

import (
	"context"
	"database/sql"
	"log/slog"

	"go.uber.org/zap"
)

// sqlTx is the transaction type of River's SQLite driver.
type sqlTx = sql.Tx

// slogFor gives River (which logs with log/slog) the service's zap logger. River reports
// every job and maintenance run at info level: only its warnings and errors are kept.
func slogFor(log *zap.Logger) *slog.Logger {
	return slog.New(&zapHandler{log: log.Named("river")})
}

type zapHandler struct {
	log   *zap.Logger
	attrs []zap.Field
}

func (h *zapHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h *zapHandler) Handle(_ context.Context, r slog.Record) error {
	fields := append([]zap.Field(nil), h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		fields = append(fields, zap.Any(a.Key, a.Value.Any()))
		return true
	})
	if r.Level >= slog.LevelError {
		h.log.Error(r.Message, fields...)
	} else {
		h.log.Warn(r.Message, fields...)
	}
	return nil
}

func (h *zapHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	n := &zapHandler{log: h.log, attrs: append([]zap.Field(nil), h.attrs...)}
	for _, a := range attrs {
		n.attrs = append(n.attrs, zap.Any(a.Key, a.Value.Any()))
	}
	return n
}

func (h *zapHandler) WithGroup(name string) slog.Handler {
	return &zapHandler{log: h.log.Named(name), attrs: h.attrs}
}
