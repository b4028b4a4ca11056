package main

import (
	"os"
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// sdkWarningLogger is the log of commands that print their results for people (sync,
// doctor): what the AWS SDK warns about (awsfetch.SDKLogger names it "aws-sdk"), one
// line each on stderr in the same form as the rest of Gatehouse's logs, never as the
// SDK's own raw lines. The fetch's own warnings (an account not synced) are left out:
// the command's summary reports them.
func sdkWarningLogger() *zap.Logger {
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	enc.EncodeLevel = zapcore.CapitalLevelEncoder
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.Lock(os.Stderr), zapcore.WarnLevel)
	return zap.New(namedCore{Core: core, prefix: "aws-sdk"})
}

// namedCore passes only the entries of loggers named prefix (or below it).
type namedCore struct {
	zapcore.Core
	prefix string
}

func (c namedCore) With(fields []zapcore.Field) zapcore.Core {
	return namedCore{Core: c.Core.With(fields), prefix: c.prefix}
}

func (c namedCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if e.LoggerName != c.prefix && !strings.HasPrefix(e.LoggerName, c.prefix+".") {
		return ce
	}
	return c.Core.Check(e, ce)
}
