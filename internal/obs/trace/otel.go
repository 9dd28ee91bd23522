//go:build otel

package trace

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"
)

// BuiltIn names the tracer implementation this binary carries: OpenTelemetry, since it was built
// with -tags otel (the Makefile's TRACING=otel), which leaves the X-Ray SDK out.
const BuiltIn = "otel"

func newBuiltIn(s Settings, log *slog.Logger) (Tracer, string, error) {
	t, err := NewOTel(s, log)
	if err != nil {
		return nil, "", err
	}
	return t, "OpenTelemetry, OTLP to " + t.exp.url, nil
}

// scopeName is the instrumentation scope of every span firelane starts.
const scopeName = "github.com/firelane/firelane/internal/obs/trace"

// flushTimeout bounds [OTel.Flush]: an unreachable collector must not hold an invocation for
// long. The invocation's own deadline, when sooner, wins.
const flushTimeout = 2 * time.Second

// annotationsAttribute lists the attributes X-Ray indexes as annotations, which the X-Ray SDK's
// AddAnnotation makes; X-Ray keeps every other attribute as metadata.
const annotationsAttribute = "aws.xray.annotations"

// OTel is the [Tracer] over the OpenTelemetry SDK: a span is an OpenTelemetry span whose parent is
// the segment Lambda opens for the invocation (from the invocation's X-Ray trace header), spans
// are batched and exported with OTLP over HTTP by [OTel.Flush] at the end of every invocation, and
// AWS calls get a client span each.
type OTel struct {
	tp     *sdktrace.TracerProvider
	tracer oteltrace.Tracer
	exp    *otlpExporter
	getenv func(string) string // reads EnvTraceHeader when the context has no trace header
}

// NewOTel returns an OpenTelemetry tracer exporting where s says (see [Settings]). Call it once,
// at init: it installs log as the handler of OpenTelemetry's global errors.
func NewOTel(s Settings, log *slog.Logger) (*OTel, error) {
	if log == nil {
		log = slog.Default()
	}
	exp, err := newExporter(s, log)
	if err != nil {
		return nil, err
	}
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Debug("OpenTelemetry", "component", "trace", "error", err.Error())
	}))
	service := s.ServiceName
	if service == "" {
		service = s.FunctionName
	}
	if service == "" {
		service = "firelane"
	}
	attrs := []attribute.KeyValue{
		attribute.String("service.name", service),
		attribute.String("cloud.provider", "aws"),
		attribute.String("cloud.platform", "aws_lambda"),
	}
	for k, v := range map[string]string{"cloud.region": s.Region, "faas.name": s.FunctionName, "faas.version": s.Version} {
		if v != "" {
			attrs = append(attrs, attribute.String(k, v))
		}
	}
	tp := sdktrace.NewTracerProvider(
		// Lambda decides: a span is recorded only under an invocation whose header says Sampled=1.
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample())),
		// The batch size keeps a request far under X-Ray's OTLP limits (10,000 spans and 5 MB).
		sdktrace.WithBatcher(exp, sdktrace.WithMaxExportBatchSize(512), sdktrace.WithExportTimeout(5*time.Second)),
		sdktrace.WithResource(resource.NewSchemaless(attrs...)),
	)
	return &OTel{tp: tp, tracer: tp.Tracer(scopeName), exp: exp, getenv: os.Getenv}, nil
}

// Start begins a span as a child of the span ctx carries, else of the invocation's segment that
// the trace header names. Outside an invocation, or when the invocation is not sampled, it
// returns ctx and a span that records nothing.
func (o *OTel) Start(ctx context.Context, name string) (context.Context, Span) {
	pctx, ok := o.parent(ctx)
	if !ok {
		return ctx, noopSpan{}
	}
	sctx, sp := o.tracer.Start(pctx, name)
	return sctx, &otelSpan{span: sp}
}

// parent returns ctx with the span the next one descends from, and false when nothing is to be
// recorded.
func (o *OTel) parent(ctx context.Context) (context.Context, bool) {
	if sc := oteltrace.SpanContextFromContext(ctx); sc.IsValid() {
		return ctx, sc.IsSampled()
	}
	x, ok := parseXRayHeader(invocationHeader(ctx, o.getenv))
	if !ok || !x.sampled {
		return ctx, false
	}
	sc := oteltrace.NewSpanContext(oteltrace.SpanContextConfig{
		TraceID: x.traceID, SpanID: x.parent, TraceFlags: oteltrace.FlagsSampled, Remote: true,
	})
	return oteltrace.ContextWithRemoteSpanContext(ctx, sc), true
}

// Flush exports the spans that ended and waits for the export, within ctx's deadline and
// [flushTimeout]. Export errors are logged by the exporter.
func (o *OTel) Flush(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, flushTimeout)
	defer cancel()
	return o.tp.ForceFlush(ctx)
}

// Shutdown flushes and stops the tracer.
func (o *OTel) Shutdown(ctx context.Context) error { return o.tp.Shutdown(ctx) }

// InstrumentAWS records a client span per AWS call of every client built from cfg, named
// Service.Operation with the attributes of OpenTelemetry's AWS SDK conventions (rpc.system
// "aws-api", rpc.service, rpc.method, cloud.region, aws.request_id,
// http.response.status_code), and passes the trace on to the service in the X-Amzn-Trace-Id
// header. The exporter also signs its requests to X-Ray's OTLP endpoint with the credentials of
// the first cfg it sees: those of the function's role.
func (o *OTel) InstrumentAWS(cfg *aws.Config) {
	if p := cfg.Credentials; p != nil {
		o.exp.creds.CompareAndSwap(nil, &p)
	}
	cfg.APIOptions = append(cfg.APIOptions, o.middleware)
}

func (o *OTel) middleware(stack *middleware.Stack) error {
	err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("FirelaneOTelSpan", func(
		ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler,
	) (middleware.InitializeOutput, middleware.Metadata, error) {
		pctx, ok := o.parent(ctx)
		if !ok {
			return next.HandleInitialize(ctx, in)
		}
		service, op := awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
		sctx, sp := o.tracer.Start(pctx, service+"."+op,
			oteltrace.WithSpanKind(oteltrace.SpanKindClient),
			oteltrace.WithAttributes(
				attribute.String("rpc.system", "aws-api"),
				attribute.String("rpc.service", service),
				attribute.String("rpc.method", op),
				attribute.String("cloud.region", awsmiddleware.GetRegion(ctx)),
			))
		out, md, err := next.HandleInitialize(sctx, in)
		if id, ok := awsmiddleware.GetRequestIDMetadata(md); ok {
			sp.SetAttributes(attribute.String("aws.request_id", id))
		}
		if err != nil {
			recordError(sp, err)
		}
		sp.End()
		return out, md, err
	}), middleware.After)
	if err != nil {
		return err
	}
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("FirelaneOTelHTTP", func(
		ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler,
	) (middleware.DeserializeOutput, middleware.Metadata, error) {
		sp := oteltrace.SpanFromContext(ctx)
		if !sp.IsRecording() {
			return next.HandleDeserialize(ctx, in)
		}
		if req, ok := in.Request.(*smithyhttp.Request); ok {
			sc := sp.SpanContext()
			// SigV4 leaves X-Amzn-Trace-Id out of the signature, so it can be set after signing.
			req.Header.Set("X-Amzn-Trace-Id", xrayHeader{traceID: sc.TraceID(), parent: sc.SpanID(), sampled: true}.String())
		}
		out, md, err := next.HandleDeserialize(ctx, in)
		if resp, ok := out.RawResponse.(*smithyhttp.Response); ok {
			sp.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
		}
		return out, md, err
	}), middleware.Before)
}

// recordError marks sp failed with err's type and message, the message cut to 1,000 characters
// as the X-Ray tracer cuts it.
func recordError(sp oteltrace.Span, err error) {
	sp.AddEvent("exception", oteltrace.WithAttributes(
		attribute.String("exception.type", fmt.Sprintf("%T", err)),
		attribute.String("exception.message", cut(err.Error())),
	))
	sp.SetStatus(codes.Error, "")
}

type otelSpan struct {
	span oteltrace.Span
	mu   sync.Mutex
	keys []string // annotated attribute keys, for annotationsAttribute
}

func (s *otelSpan) Annotate(key string, value any) {
	k := AnnotationKey(key)
	s.span.SetAttributes(attributeOf(k, annotationValue(value)))
	s.mu.Lock()
	if !slices.Contains(s.keys, k) {
		s.keys = append(s.keys, k)
	}
	s.mu.Unlock()
}

func (s *otelSpan) Fail(err error) {
	if err != nil {
		recordError(s.span, err)
	}
}

func (s *otelSpan) End() {
	s.mu.Lock()
	if len(s.keys) > 0 {
		s.span.SetAttributes(attribute.StringSlice(annotationsAttribute, s.keys))
	}
	s.mu.Unlock()
	s.span.End() // a second End does nothing
}

// attributeOf makes an attribute of a value annotationValue returned.
func attributeOf(k string, v any) attribute.KeyValue {
	switch v := v.(type) {
	case string:
		return attribute.String(k, v)
	case bool:
		return attribute.Bool(k, v)
	case int:
		return attribute.Int(k, v)
	case int8:
		return attribute.Int64(k, int64(v))
	case int16:
		return attribute.Int64(k, int64(v))
	case int32:
		return attribute.Int64(k, int64(v))
	case int64:
		return attribute.Int64(k, v)
	case uint8:
		return attribute.Int64(k, int64(v))
	case uint16:
		return attribute.Int64(k, int64(v))
	case uint32:
		return attribute.Int64(k, int64(v))
	case uint:
		if uint64(v) <= 1<<63-1 {
			return attribute.Int64(k, int64(v))
		}
	case uint64:
		if v <= 1<<63-1 {
			return attribute.Int64(k, int64(v))
		}
	case float32:
		return attribute.Float64(k, float64(v))
	case float64:
		return attribute.Float64(k, v)
	}
	return attribute.String(k, cut(fmt.Sprint(v)))
}
