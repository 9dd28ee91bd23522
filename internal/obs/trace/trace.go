// Package trace is firelane's tracing interface: a [Tracer] starts a [Span] per stage step and
// instruments AWS SDK clients. The stages know only this package, so the X-Ray implementation
// (aws-xray-sdk-go, which AWS put into maintenance on 2026-02-25 with end of support on
// 2027-02-25, recommending OpenTelemetry) can be replaced by an OpenTelemetry one without
// touching them: an OpenTelemetry Tracer would start spans with otel's tracer and instrument
// clients with otelaws.AppendMiddlewares(&cfg.APIOptions).
//
// Tracing is silent outside Lambda: [FromEnv] picks X-Ray only inside a Lambda function with an
// X-Ray daemon address (Lambda sets AWS_XRAY_DAEMON_ADDRESS) and otherwise the no-op tracer, so
// local runs, tests and the runtime interface emulator produce no "context missing" messages and
// send no UDP packets. See https://docs.aws.amazon.com/xray/latest/devguide/xray-sdk-go.html and
// https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html.
package trace

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Tracer starts spans and instruments AWS SDK clients.
type Tracer interface {
	// Start begins a span named name as a child of the span ctx carries, and returns a context
	// that carries the new span.
	Start(ctx context.Context, name string) (context.Context, Span)
	// InstrumentAWS makes every client built from cfg record a span per AWS call.
	InstrumentAWS(cfg *aws.Config)
}

// Span is one timed step of an invocation. Its methods are safe on a span that records nothing.
type Span interface {
	// Annotate attaches an indexed key/value pair: a string, a bool, or a number. Keys keep only
	// ASCII letters, digits and underscores; never pass a value a client controls unless it was
	// folded to a known set first.
	Annotate(key string, value any)
	// Fail marks the step as failed with err. A record a stage sets aside is not a failed step.
	Fail(err error)
	// End closes the span.
	End()
}

// Noop is the tracer that records nothing.
type Noop struct{}

// Start returns ctx unchanged and a span that records nothing.
func (Noop) Start(ctx context.Context, name string) (context.Context, Span) { return ctx, noopSpan{} }

// InstrumentAWS leaves cfg unchanged.
func (Noop) InstrumentAWS(*aws.Config) {}

type noopSpan struct{}

func (noopSpan) Annotate(string, any) {}
func (noopSpan) Fail(error)           {}
func (noopSpan) End()                 {}

type holder struct{ t Tracer }

var current atomic.Pointer[holder]

// Default returns the tracer [SetDefault] installed, or [Noop].
func Default() Tracer {
	if h := current.Load(); h != nil {
		return h.t
	}
	return Noop{}
}

// SetDefault makes t the tracer [Start] uses; a function's main calls it once at init.
func SetDefault(t Tracer) {
	if t == nil {
		t = Noop{}
	}
	current.Store(&holder{t})
}

// Start begins a span with the default tracer: ctx, span := trace.Start(ctx, "validate"), then
// defer span.End().
func Start(ctx context.Context, name string) (context.Context, Span) {
	return Default().Start(ctx, name)
}

// EnvMode is the environment variable that selects the tracer: "auto" (the default), "xray",
// "lite" or "off".
const EnvMode = "FIRELANE_TRACING"

// EnvDaemonAddress is the environment variable that Lambda sets to the X-Ray daemon's address.
const EnvDaemonAddress = "AWS_XRAY_DAEMON_ADDRESS"

// daemonAddress is the X-Ray daemon's address, 127.0.0.1:2000 (the daemon's default) when unset.
func daemonAddress(getenv func(string) string) string {
	if addr := strings.TrimSpace(getenv(EnvDaemonAddress)); addr != "" {
		return addr
	}
	return "127.0.0.1:2000"
}

// FromEnv returns the tracer the environment calls for, and why it chose it. With
// FIRELANE_TRACING unset or "auto", that is X-Ray when the function runs in Lambda
// (AWS_LAMBDA_FUNCTION_NAME) with an X-Ray daemon address (AWS_XRAY_DAEMON_ADDRESS) and X-Ray is
// not disabled (AWS_XRAY_SDK_DISABLED=true), and the no-op tracer otherwise; "xray" forces X-Ray,
// "lite" forces the [Lite] tracer, and "off" the no-op tracer. X-Ray means the X-Ray SDK, or
// [Lite] in a binary built with -tags noxray. log receives the tracer's own messages (warnings and
// errors at warn, the rest at debug). getenv reads the settings: os.Getenv in a function's main,
// which reads the environment once at init.
func FromEnv(getenv func(string) string, log *slog.Logger) (Tracer, string) {
	mode := strings.ToLower(strings.TrimSpace(getenv(EnvMode)))
	switch mode {
	case "off":
		return Noop{}, EnvMode + "=off"
	case "", "auto":
		if strings.EqualFold(getenv("AWS_XRAY_SDK_DISABLED"), "true") {
			return Noop{}, "AWS_XRAY_SDK_DISABLED=true"
		}
		if getenv("AWS_LAMBDA_FUNCTION_NAME") == "" || getenv(EnvDaemonAddress) == "" {
			return Noop{}, "not in Lambda with an X-Ray daemon"
		}
	case "xray":
	case "lite":
		t, err := NewLite(daemonAddress(getenv), log)
		if err != nil {
			return Noop{}, err.Error()
		}
		return t, "X-Ray (lite emitter)"
	default:
		return Noop{}, fmt.Sprintf("%s=%q is not auto, xray or off", EnvMode, mode)
	}
	t, err := NewXRay(daemonAddress(getenv), log)
	if err != nil {
		return Noop{}, err.Error()
	}
	if !XRayBuiltIn {
		return t, "X-Ray (lite emitter: built with -tags noxray)"
	}
	return t, "X-Ray"
}

// AnnotationKey makes key a valid X-Ray annotation key: ASCII letters, digits and underscores,
// other characters replaced by '_'.
func AnnotationKey(key string) string {
	b := []byte(key)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "_"
	}
	return string(b)
}

// annotationValue keeps the types X-Ray indexes and turns anything else into a string, cut to
// X-Ray's 1,000 characters.
func annotationValue(v any) any {
	switch v := v.(type) {
	case string:
		return cut(v)
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return v
	case fmt.Stringer:
		return cut(v.String())
	default:
		return cut(fmt.Sprint(v))
	}
}

func cut(s string) string {
	const max = 1000
	if len(s) > max {
		return s[:max]
	}
	return s
}
