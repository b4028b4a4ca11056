package awsfetch

import (
	"fmt"
	"strings"

	"github.com/aws/smithy-go/logging"
	"go.uber.org/zap"
)

// SDKLogger returns a logger for aws.Config.Logger that writes what the AWS SDK logs
// (its warnings, and with aws.Config.ClientLogMode its retries) to log, named "aws-sdk":
// the SDK's default writes raw lines to stderr, outside the program's own log and
// format. A nil log discards them.
func SDKLogger(log *zap.Logger) logging.Logger {
	if log == nil {
		log = zap.NewNop()
	}
	return sdkLogger{log.Named("aws-sdk").WithOptions(zap.AddCallerSkip(1))}
}

type sdkLogger struct{ log *zap.Logger }

func (l sdkLogger) Logf(c logging.Classification, format string, args ...any) {
	// One entry, one line: some SDK messages list their causes on lines of their own.
	msg := strings.Join(strings.Fields(fmt.Sprintf(format, args...)), " ")
	switch c {
	case logging.Warn:
		l.log.Warn(msg)
	default:
		l.log.Debug(msg)
	}
}
