// Package trace is firelane's tracing interface: a [Tracer] starts a [Span] per stage step and
// instruments AWS SDK clients. The stages know only this package. A binary carries one of two
// implementations, chosen when it is built ([BuiltIn]):
//
//   - the X-Ray SDK (aws-xray-sdk-go, xray.go), the default: subsegments sent to the X-Ray daemon
//     Lambda runs, AWS calls recorded by the SDK's awsv2 instrumentation. AWS put the SDK into
//     maintenance on 2026-02-25; its support ends on 2027-02-25
//     (https://docs.aws.amazon.com/xray/latest/devguide/xray-daemon-eos.html);
//   - OpenTelemetry (otel.go, otlp.go, built with -tags otel, the Makefile's TRACING=otel): spans
//     of the same names and attributes, whose parent is the segment Lambda opens for the
//     invocation, exported with OTLP over HTTP to OTEL_EXPORTER_OTLP_ENDPOINT (a collector, such as
//     the ADOT Lambda layer) or to X-Ray's OTLP endpoint, SigV4-signed with the function's
//     credentials (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-OTLPEndpoint.html).
//
// Carrying both would grow every binary; each build links only its own, and a default build is
// no larger than before OpenTelemetry came in (docs/operations.md section 6 has the figures).
//
// The OpenTelemetry modules and why: go.opentelemetry.io/otel, otel/trace and otel/sdk (the API
// and the SDK's tracer provider, batch processor and sampler: maintained, stable) and
// go.opentelemetry.io/proto/otlp (the OTLP message types). Not taken: the contrib modules
// propagators/aws (the X-Ray propagator and ID generator) and
// instrumentation/github.com/aws/aws-sdk-go-v2/otelaws, both deprecated in September 2026 for want
// of an owner; the parsing and formatting of the X-Ray trace header they provided is header.go,
// fuzzed, and the AWS call spans are one middleware pair on the aws.Config every client is built
// from. The SDK's own OpenTelemetry bridge (smithy-go's smithyoteltracing) is not on the module
// proxy here, and the SDK's tracing is a per-client option that aws.Config does not carry. Nor the
// exporter otlptracehttp: it requires gRPC 1.8x, protobuf 1.36 and x/net 0.5x, which for the one
// go.mod of the project would raise the versions the X-Ray SDK links into the default build and
// make it about 0.5 MB larger per function; the exporter of otlp.go sends the same binary
// protobuf request with net/http, and proto/otlp is held at v1.3.1, the newest whose requirements
// the project's graph already meets (the OTLP 1.x messages it defines are stable).
//
// Tracing is silent outside Lambda: [New] picks the built-in tracer only inside a Lambda function
// with active tracing (Lambda sets AWS_XRAY_DAEMON_ADDRESS) or, for OpenTelemetry, an OTLP
// collector, and otherwise the no-op tracer, so local runs, tests and the runtime interface
// emulator produce no "context missing" messages and send nothing. A span is recorded only under
// an invocation whose trace header says Sampled=1: Lambda decides. See
// https://docs.aws.amazon.com/xray/latest/devguide/xray-sdk-go.html and
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
// "otel" or "off".
const EnvMode = "FIRELANE_TRACING"

// Settings are what [New] needs to choose and configure a tracer. [SettingsFromEnv] fills them
// from the environment Lambda gives a function.
type Settings struct {
	Mode         string // FIRELANE_TRACING: "", "auto", "xray", "otel" or "off"
	FunctionName string // AWS_LAMBDA_FUNCTION_NAME: empty outside Lambda
	Version      string // AWS_LAMBDA_FUNCTION_VERSION
	Region       string // AWS_REGION: the region of X-Ray's OTLP endpoint
	XRayDaemon   string // AWS_XRAY_DAEMON_ADDRESS: Lambda sets it when active tracing is on
	XRayDisabled bool   // AWS_XRAY_SDK_DISABLED=true
	OTelDisabled bool   // OTEL_SDK_DISABLED=true
	// OTLPEndpoint is the collector's base URL (OTEL_EXPORTER_OTLP_ENDPOINT, to which /v1/traces
	// is added) or OTLPTracesEndpoint its full traces URL (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
	// used as it is). With neither, spans go to X-Ray's OTLP endpoint in Region, SigV4-signed.
	OTLPEndpoint       string
	OTLPTracesEndpoint string
	ServiceName        string // OTEL_SERVICE_NAME; FunctionName when empty
}

// SettingsFromEnv reads the [Settings] with getenv (os.Getenv in a function).
func SettingsFromEnv(getenv func(string) string) Settings {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	return Settings{
		Mode:               strings.ToLower(get(EnvMode)),
		FunctionName:       get("AWS_LAMBDA_FUNCTION_NAME"),
		Version:            get("AWS_LAMBDA_FUNCTION_VERSION"),
		Region:             get("AWS_REGION"),
		XRayDaemon:         get("AWS_XRAY_DAEMON_ADDRESS"),
		XRayDisabled:       strings.EqualFold(get("AWS_XRAY_SDK_DISABLED"), "true"),
		OTelDisabled:       strings.EqualFold(get("OTEL_SDK_DISABLED"), "true"),
		OTLPEndpoint:       get("OTEL_EXPORTER_OTLP_ENDPOINT"),
		OTLPTracesEndpoint: get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
		ServiceName:        get("OTEL_SERVICE_NAME"),
	}
}

// New returns the tracer s calls for, and why it chose it. A binary carries one implementation,
// [BuiltIn]: the X-Ray SDK in the default build, OpenTelemetry in a build with -tags otel (the
// Makefile's TRACING=otel). With Mode "" or "auto" that implementation runs when the function
// runs in Lambda (FunctionName) with active tracing (XRayDaemon) or an OTLP collector, and is not
// disabled (XRayDisabled for the SDK, OTelDisabled for OpenTelemetry); elsewhere the no-op tracer
// runs. "xray" and "otel" force the implementation of that name wherever the function runs, and
// "off" the no-op tracer. log receives the tracer's own messages (warnings and errors at warn, the
// rest at debug); a mode this binary cannot honour is a warning, and the function runs untraced.
func New(s Settings, log *slog.Logger) (Tracer, string) {
	if log == nil {
		log = slog.Default()
	}
	warn := func(why string) (Tracer, string) {
		log.Warn("tracing off", "component", "trace", "reason", why)
		return Noop{}, why
	}
	switch s.Mode {
	case "off":
		return Noop{}, EnvMode + "=off"
	case "", "auto":
		if s.FunctionName == "" {
			return Noop{}, "not in Lambda"
		}
		switch {
		case BuiltIn == "xray" && s.XRayDisabled:
			return Noop{}, "AWS_XRAY_SDK_DISABLED=true"
		case BuiltIn == "otel" && s.OTelDisabled:
			return Noop{}, "OTEL_SDK_DISABLED=true"
		case s.XRayDaemon == "" && (BuiltIn == "xray" || s.OTLPEndpoint == "" && s.OTLPTracesEndpoint == ""):
			return Noop{}, "in Lambda without active tracing"
		}
	case "xray", "otel":
		if s.Mode != BuiltIn {
			return warn(fmt.Sprintf("%s=%s, but this binary was built with TRACING=%s", EnvMode, s.Mode, BuiltIn))
		}
	default:
		return warn(fmt.Sprintf("%s=%q is not auto, xray, otel or off", EnvMode, s.Mode))
	}
	t, why, err := newBuiltIn(s, log)
	if err != nil {
		return warn(err.Error())
	}
	return t, why
}

// Flush hands the spans the default tracer holds to its exporter before ctx's deadline, so that
// none waits in a frozen execution environment: the end of every invocation calls it. The X-Ray
// SDK sends each subsegment as it ends, so there it does nothing.
func Flush(ctx context.Context) {
	if f, ok := Default().(interface{ Flush(context.Context) error }); ok {
		_ = f.Flush(ctx) // the tracer logs its own export errors
	}
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
