//go:build !otel

package trace

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-xray-sdk-go/instrumentation/awsv2"
	"github.com/aws/aws-xray-sdk-go/strategy/ctxmissing"
	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/aws/aws-xray-sdk-go/xraylog"
)

// BuiltIn names the tracer implementation this binary carries: the X-Ray SDK, unless it was built
// with -tags otel (see otel.go).
const BuiltIn = "xray"

func newBuiltIn(s Settings, log *slog.Logger) (Tracer, string, error) {
	addr := s.XRayDaemon
	if addr == "" {
		addr = "127.0.0.1:2000" // the daemon's default
	}
	t, err := NewXRay(addr, log)
	return t, "X-Ray SDK", err
}

// NewXRay configures the X-Ray SDK to send to the daemon at daemon ("host:port", or
// "tcp:host:port udp:host:port" as in AWS_XRAY_DAEMON_ADDRESS, which the SDK itself prefers when it
// is set) and returns a tracer over it. The SDK's messages go
// to log; a missing segment is ignored (unless AWS_XRAY_CONTEXT_MISSING, which Lambda sets to
// LOG_ERROR, says otherwise), so a span started outside an invocation records nothing. Call it
// once, at init: the SDK's logger and configuration are global.
func NewXRay(daemon string, log *slog.Logger) (Tracer, error) {
	if log == nil {
		log = slog.Default()
	}
	xray.SetLogger(xrayLogger{log})
	if err := xray.Configure(xray.Config{DaemonAddr: daemon, ContextMissingStrategy: ctxmissing.NewDefaultIgnoreErrorStrategy()}); err != nil {
		return nil, fmt.Errorf("configure X-Ray: %w", err)
	}
	return XRay{}, nil
}

// XRay is the [Tracer] over aws-xray-sdk-go: a span is a subsegment of the segment Lambda opens
// for the invocation, and AWS calls are recorded by the SDK's awsv2 instrumentation.
type XRay struct{}

// Start begins a subsegment. Without a segment in ctx it returns a span that records nothing.
func (XRay) Start(ctx context.Context, name string) (context.Context, Span) {
	ctx, seg := xray.BeginSubsegment(ctx, name)
	if seg == nil {
		return ctx, noopSpan{}
	}
	return ctx, xraySpan{seg}
}

// InstrumentAWS adds the X-Ray middleware to every client built from cfg.
func (XRay) InstrumentAWS(cfg *aws.Config) { awsv2.AWSV2Instrumentor(&cfg.APIOptions) }

type xraySpan struct{ seg *xray.Segment }

func (s xraySpan) Annotate(key string, value any) {
	_ = s.seg.AddAnnotation(AnnotationKey(key), annotationValue(value)) // only an unsupported type fails, and annotationValue rules it out
}

func (s xraySpan) Fail(err error) {
	if err != nil {
		_ = s.seg.AddError(err) // never fails
	}
}

func (s xraySpan) End() { s.seg.Close(nil) }

// xrayLogger sends the SDK's messages to slog: warnings and errors at warn, the rest at debug.
type xrayLogger struct{ log *slog.Logger }

func (l xrayLogger) Log(level xraylog.LogLevel, msg fmt.Stringer) {
	lv := slog.LevelDebug
	if level >= xraylog.LogLevelWarn {
		lv = slog.LevelWarn
	}
	ctx := context.Background()
	if l.log.Enabled(ctx, lv) {
		l.log.Log(ctx, lv, msg.String(), "component", "xray")
	}
}
