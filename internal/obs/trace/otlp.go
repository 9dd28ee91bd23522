//go:build otel

package trace

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// xrayOTLPURL is X-Ray's OTLP traces endpoint in region
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-OTLPEndpoint.html).
// Tests point it at a local receiver.
var xrayOTLPURL = func(region string) string { return "https://xray." + region + ".amazonaws.com/v1/traces" }

// xraySigningName is the SigV4 service name of X-Ray's OTLP endpoint.
const xraySigningName = "xray"

// otlpExporter sends spans as OTLP/HTTP binary protobuf (an ExportTraceServiceRequest, whose wire
// form is that of TracesData) to one URL, SigV4-signing the request when the URL is X-Ray's.
type otlpExporter struct {
	url    string
	region string     // the signing region; empty: the request is not signed
	signer *v4.Signer // nil: the request is not signed
	creds  atomic.Pointer[aws.CredentialsProvider]
	client *http.Client
	log    *slog.Logger
}

// newExporter resolves the traces URL as the OpenTelemetry specification orders the variables
// (the signal's own endpoint as it is, else the base endpoint plus /v1/traces) and falls back to
// X-Ray's OTLP endpoint in s.Region.
func newExporter(s Settings, log *slog.Logger) (*otlpExporter, error) {
	e := &otlpExporter{client: &http.Client{Timeout: 10 * time.Second}, log: log}
	switch {
	case s.OTLPTracesEndpoint != "":
		e.url = s.OTLPTracesEndpoint
	case s.OTLPEndpoint != "":
		e.url = strings.TrimSuffix(s.OTLPEndpoint, "/") + "/v1/traces"
	case s.Region != "":
		if !validRegion(s.Region) {
			return nil, fmt.Errorf("AWS_REGION %q is not a region name", s.Region)
		}
		e.url, e.region = xrayOTLPURL(s.Region), s.Region
	default:
		return nil, errors.New("OpenTelemetry has nowhere to export: set OTEL_EXPORTER_OTLP_ENDPOINT, or AWS_REGION for X-Ray's OTLP endpoint")
	}
	u, err := url.Parse(e.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("OTLP endpoint %q is not an http or https URL", e.url)
	}
	// An endpoint named explicitly may still be X-Ray's own.
	if r, ok := strings.CutPrefix(u.Hostname(), "xray."); ok && e.region == "" {
		if r, ok = strings.CutSuffix(r, ".amazonaws.com"); ok && validRegion(r) {
			e.region = r
		}
	}
	if e.region != "" {
		e.signer = v4.NewSigner()
	}
	return e, nil
}

func validRegion(r string) bool {
	if r == "" {
		return false
	}
	for _, c := range r {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// ExportSpans sends spans in one request, retrying twice, with backoff, what the OTLP/HTTP
// specification calls retryable (429, 502, 503, 504 and network errors), within ctx.
func (e *otlpExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if len(spans) == 0 {
		return nil
	}
	body, err := proto.Marshal(tracesData(spans))
	if err != nil {
		return e.fail(len(spans), fmt.Errorf("encode spans: %w", err))
	}
	backoff := 100 * time.Millisecond
	for attempt := 0; ; attempt++ {
		retry, err := e.post(ctx, body)
		if err == nil {
			return nil
		}
		if !retry || attempt == 2 {
			return e.fail(len(spans), err)
		}
		select {
		case <-ctx.Done():
			return e.fail(len(spans), err)
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

func (e *otlpExporter) fail(n int, err error) error {
	e.log.Warn("spans not exported", "component", "trace", "spans", n, "error", err.Error())
	return err
}

// post sends one request and reports whether a failure may be retried.
func (e *otlpExporter) post(ctx context.Context, body []byte) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("OTLP request to %s: %w", e.url, err)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	if e.signer != nil {
		if err := e.sign(ctx, req, body); err != nil {
			return false, err
		}
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return true, fmt.Errorf("OTLP export to %s: %w", e.url, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode == 429, resp.StatusCode == 502, resp.StatusCode == 503, resp.StatusCode == 504:
		return true, fmt.Errorf("OTLP export to %s: HTTP %d", e.url, resp.StatusCode)
	default:
		// The body of a refusal is the collector's Status message, never a span.
		return false, fmt.Errorf("OTLP export to %s: HTTP %d: %s", e.url, resp.StatusCode, strconv.Quote(string(bytes.TrimSpace(msg))))
	}
}

// sign adds the SigV4 headers for X-Ray with the function's credentials.
func (e *otlpExporter) sign(ctx context.Context, req *http.Request, body []byte) error {
	p := e.creds.Load()
	if p == nil {
		return errors.New("no AWS credentials to sign the OTLP request with: no SDK configuration was instrumented")
	}
	creds, err := (*p).Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("retrieve AWS credentials to sign the OTLP request: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := e.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), xraySigningName, e.region, time.Now()); err != nil {
		return fmt.Errorf("sign the OTLP request: %w", err)
	}
	return nil
}

// Shutdown has nothing to release: each export is one request.
func (e *otlpExporter) Shutdown(context.Context) error { return nil }

// tracesData converts spans to the OTLP message, grouped by resource and instrumentation scope.
func tracesData(spans []sdktrace.ReadOnlySpan) *tracepb.TracesData {
	type scopeKey struct {
		res   attribute.Distinct
		scope string
	}
	out := &tracepb.TracesData{}
	resources := map[attribute.Distinct]*tracepb.ResourceSpans{}
	scopes := map[scopeKey]*tracepb.ScopeSpans{}
	for _, s := range spans {
		rk := s.Resource().Equivalent()
		rs, ok := resources[rk]
		if !ok {
			rs = &tracepb.ResourceSpans{Resource: &resourcepb.Resource{Attributes: keyValues(s.Resource().Attributes())}, SchemaUrl: s.Resource().SchemaURL()}
			resources[rk] = rs
			out.ResourceSpans = append(out.ResourceSpans, rs)
		}
		sc := s.InstrumentationScope()
		sk := scopeKey{rk, sc.Name + "\x00" + sc.Version}
		ss, ok := scopes[sk]
		if !ok {
			ss = &tracepb.ScopeSpans{Scope: &commonpb.InstrumentationScope{Name: sc.Name, Version: sc.Version}, SchemaUrl: sc.SchemaURL}
			scopes[sk] = ss
			rs.ScopeSpans = append(rs.ScopeSpans, ss)
		}
		ss.Spans = append(ss.Spans, span(s))
	}
	return out
}

func span(s sdktrace.ReadOnlySpan) *tracepb.Span {
	sc := s.SpanContext()
	tid, sid := sc.TraceID(), sc.SpanID()
	p := &tracepb.Span{
		TraceId:                tid[:],
		SpanId:                 sid[:],
		TraceState:             sc.TraceState().String(),
		Flags:                  uint32(sc.TraceFlags()) | uint32(tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK),
		Name:                   s.Name(),
		Kind:                   tracepb.Span_SpanKind(s.SpanKind()), // the same numbering
		StartTimeUnixNano:      uint64(s.StartTime().UnixNano()),
		EndTimeUnixNano:        uint64(s.EndTime().UnixNano()),
		Attributes:             keyValues(s.Attributes()),
		DroppedAttributesCount: uint32(s.DroppedAttributes()),
		DroppedEventsCount:     uint32(s.DroppedEvents()),
		DroppedLinksCount:      uint32(s.DroppedLinks() + len(s.Links())),
		Status:                 &tracepb.Status{Code: statusCode(s.Status().Code), Message: s.Status().Description},
	}
	if parent := s.Parent(); parent.IsValid() {
		psid := parent.SpanID()
		p.ParentSpanId = psid[:]
		if parent.IsRemote() {
			p.Flags |= uint32(tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK)
		}
	}
	for _, ev := range s.Events() {
		p.Events = append(p.Events, &tracepb.Span_Event{
			TimeUnixNano: uint64(ev.Time.UnixNano()), Name: ev.Name,
			Attributes: keyValues(ev.Attributes), DroppedAttributesCount: uint32(ev.DroppedAttributeCount),
		})
	}
	return p
}

// statusCode maps OpenTelemetry's codes, whose numbering differs from OTLP's.
func statusCode(c codes.Code) tracepb.Status_StatusCode {
	switch c {
	case codes.Ok:
		return tracepb.Status_STATUS_CODE_OK
	case codes.Error:
		return tracepb.Status_STATUS_CODE_ERROR
	}
	return tracepb.Status_STATUS_CODE_UNSET
}

func keyValues(kvs []attribute.KeyValue) []*commonpb.KeyValue {
	out := make([]*commonpb.KeyValue, 0, len(kvs))
	for _, kv := range kvs {
		out = append(out, &commonpb.KeyValue{Key: string(kv.Key), Value: anyValue(kv.Value)})
	}
	return out
}

func anyValue(v attribute.Value) *commonpb.AnyValue {
	switch v.Type() {
	case attribute.BOOL:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: v.AsBool()}}
	case attribute.INT64:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: v.AsInt64()}}
	case attribute.FLOAT64:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: v.AsFloat64()}}
	case attribute.STRING:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v.AsString()}}
	case attribute.BOOLSLICE:
		return array(v.AsBoolSlice(), attribute.BoolValue)
	case attribute.INT64SLICE:
		return array(v.AsInt64Slice(), attribute.Int64Value)
	case attribute.FLOAT64SLICE:
		return array(v.AsFloat64Slice(), attribute.Float64Value)
	case attribute.STRINGSLICE:
		return array(v.AsStringSlice(), attribute.StringValue)
	}
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v.String()}}
}

func array[T any](vs []T, of func(T) attribute.Value) *commonpb.AnyValue {
	arr := &commonpb.ArrayValue{}
	for _, v := range vs {
		arr.Values = append(arr.Values, anyValue(of(v)))
	}
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: arr}}
}
