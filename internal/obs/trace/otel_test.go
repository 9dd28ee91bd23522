//go:build otel

package trace

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/firelane/firelane/internal/obs/trace/otlptest"
)

const (
	lambdaTraceID = "5759e988bd862e3fe1be46a994272793" // the Root of traceHeader
	lambdaParent  = "53995c3f42cd8ad8"                 // its Parent: Lambda's function segment
)

// newOTel returns a tracer exporting to a fresh receiver, as the X-Ray OTLP endpoint when xray.
func newOTel(t *testing.T, xray bool) (*OTel, *otlptest.Receiver, *bytes.Buffer) {
	t.Helper()
	rcv := otlptest.Start(t)
	s := Settings{FunctionName: "firelane-ingest", Version: "$LATEST", Region: "us-east-1"}
	if xray {
		old := xrayOTLPURL
		xrayOTLPURL = func(string) string { return rcv.URL + otlptest.Path }
		t.Cleanup(func() { xrayOTLPURL = old })
	} else {
		s.OTLPEndpoint = rcv.URL + "/"
	}
	var logs bytes.Buffer
	o, err := NewOTel(s, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	o.getenv = func(string) string { return "" }
	t.Cleanup(func() { _ = o.Shutdown(context.Background()) })
	return o, rcv, &logs
}

// TestOTelInInvocation proves what reaches X-Ray's OTLP endpoint: spans of the invocation's trace
// under Lambda's segment, nested spans under their parent, the annotations as attributes X-Ray
// indexes, a failure, one client span per AWS call whose trace is passed on to the service, the
// function as the resource, and a request SigV4-signed for the xray service.
func TestOTelInInvocation(t *testing.T) {
	o, rcv, logs := newOTel(t, true)
	client, headers := kinesisClientHeaders(t, o)
	ctx := invocation(t.Context())

	ctx1, outer := o.Start(ctx, "write")
	_, inner := o.Start(ctx1, "validate")
	inner.Annotate("event_count", 3)
	inner.Annotate("event.type", "com.acme.web.page_view")
	inner.Fail(errors.New("boom"))
	inner.End()
	outer.End()
	if _, err := client.ListStreams(ctx, &kinesis.ListStreamsInput{}); err != nil {
		t.Fatal(err)
	}
	if err := o.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	spans := byName(t, rcv.WaitSpans(t, 3, 5*time.Second))
	write, validate, call := spans["write"], spans["validate"], spans["Kinesis.ListStreams"]
	for _, s := range []otlptest.Span{write, validate, call} {
		if s.TraceID != lambdaTraceID {
			t.Errorf("%s: got trace %s, want the invocation's %s", s.Name, s.TraceID, lambdaTraceID)
		}
		if s.Resource["service.name"] != "firelane-ingest" || s.Resource["cloud.platform"] != "aws_lambda" || s.Resource["faas.name"] != "firelane-ingest" {
			t.Errorf("%s: got resource %v, want the function", s.Name, s.Resource)
		}
		if s.EndTimeUnixNano < s.StartTimeUnixNano || s.StartTimeUnixNano == 0 {
			t.Errorf("%s: got start %d, end %d", s.Name, s.StartTimeUnixNano, s.EndTimeUnixNano)
		}
	}
	if write.ParentID != lambdaParent || validate.ParentID != write.SpanID || call.ParentID != lambdaParent {
		t.Errorf("got parents write %s, validate %s (write is %s), call %s; want Lambda's %s, write, Lambda's",
			write.ParentID, validate.ParentID, write.SpanID, call.ParentID, lambdaParent)
	}
	if validate.Attrs["event_count"] != int64(3) || validate.Attrs["event_type"] != "com.acme.web.page_view" {
		t.Errorf("validate: got attributes %v", validate.Attrs)
	}
	if got, _ := validate.Attrs[annotationsAttribute].([]any); len(got) != 2 || got[0] != "event_count" || got[1] != "event_type" {
		t.Errorf("validate: got %s %v, want [event_count event_type]", annotationsAttribute, got)
	}
	if validate.Status.GetCode() != tracepb.Status_STATUS_CODE_ERROR || len(validate.Events) != 1 ||
		otlptest.Attrs(validate.Events[0].Attributes)["exception.message"] != "boom" {
		t.Errorf("validate: got status %v, events %v, want the failure", validate.Status, validate.Events)
	}
	if write.Status.GetCode() != tracepb.Status_STATUS_CODE_UNSET || len(write.Attrs) != 0 {
		t.Errorf("write: got status %v, attributes %v, want neither", write.Status, write.Attrs)
	}
	if call.Kind != tracepb.Span_SPAN_KIND_CLIENT || call.Attrs["rpc.system"] != "aws-api" || call.Attrs["rpc.service"] != "Kinesis" ||
		call.Attrs["rpc.method"] != "ListStreams" || call.Attrs["aws.request_id"] != "aws-req-1" ||
		call.Attrs["cloud.region"] != "us-east-1" || call.Attrs["http.response.status_code"] != int64(200) {
		t.Errorf("got AWS call span %v %v", call.Kind, call.Attrs)
	}
	want := "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=" + call.SpanID + ";Sampled=1"
	if len(*headers) != 1 || (*headers)[0] != want {
		t.Errorf("service got trace headers %q, want %q", *headers, want)
	}
	reqs := rcv.Requests()
	if len(reqs) != 1 || reqs[0].Path != otlptest.Path {
		t.Fatalf("got %d exports, want 1 to %s", len(reqs), otlptest.Path)
	}
	checkSigV4(t, reqs[0], rcv.URL)
	if logs.Len() > 0 {
		t.Errorf("got log output %q, want none", logs.String())
	}
}

// checkSigV4 checks the request's Authorization header is SigV4 for xray in us-east-1 with the
// client's credentials, by signing the received request again at its X-Amz-Date.
func checkSigV4(t *testing.T, req otlptest.Request, base string) {
	t.Helper()
	auth := req.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=a/") || !strings.Contains(auth, "/us-east-1/xray/aws4_request") {
		t.Fatalf("got Authorization %q, want SigV4 for xray in us-east-1 with access key a", auth)
	}
	at, err := time.Parse("20060102T150405Z", req.Header.Get("X-Amz-Date"))
	if err != nil {
		t.Fatalf("X-Amz-Date: %v", err)
	}
	again, _ := http.NewRequest(http.MethodPost, base+req.Path, bytes.NewReader(req.Body))
	for _, k := range []string{"Content-Type", "Content-Length"} {
		again.Header.Set(k, req.Header.Get(k))
	}
	again.ContentLength = int64(len(req.Body))
	creds := aws.Credentials{AccessKeyID: "a", SecretAccessKey: "b"}
	if err := v4.NewSigner().SignHTTP(t.Context(), creds, again, payloadHash(req.Body), "xray", "us-east-1", at); err != nil {
		t.Fatal(err)
	}
	if got := again.Header.Get("Authorization"); got != auth {
		t.Errorf("got Authorization %q, want %q for the body received", auth, got)
	}
}

func byName(t *testing.T, spans []otlptest.Span) map[string]otlptest.Span {
	t.Helper()
	m := map[string]otlptest.Span{}
	for _, s := range spans {
		if _, dup := m[s.Name]; dup {
			t.Errorf("got span %s twice", s.Name)
		}
		m[s.Name] = s
	}
	return m
}

// TestOTelCollector checks the export to OTEL_EXPORTER_OTLP_ENDPOINT: the traces path under the
// base URL, and no signature.
func TestOTelCollector(t *testing.T) {
	o, rcv, _ := newOTel(t, false)
	_, span := o.Start(invocation(t.Context()), "convert")
	span.Annotate("records", 2)
	span.End()
	Flush(t.Context()) // not the default tracer: does nothing
	if err := o.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	spans := rcv.WaitSpans(t, 1, 5*time.Second)
	if spans[0].Name != "convert" || spans[0].Attrs["records"] != int64(2) || spans[0].ParentID != lambdaParent {
		t.Errorf("got %v %v under %s, want convert with records 2 under Lambda's segment", spans[0].Name, spans[0].Attrs, spans[0].ParentID)
	}
	if req := rcv.Requests()[0]; req.Path != otlptest.Path || req.Header.Get("Authorization") != "" {
		t.Errorf("got path %s, Authorization %q, want %s unsigned", req.Path, req.Header.Get("Authorization"), otlptest.Path)
	}
}

// TestOTelSilent checks that nothing is recorded or sent outside an invocation or for an unsampled
// one, and that instrumented AWS calls still work there.
func TestOTelSilent(t *testing.T) {
	o, rcv, logs := newOTel(t, true)
	tests := []struct {
		name string
		ctx  context.Context
	}{
		{"no invocation", t.Context()},
		//lint:ignore SA1029 aws-lambda-go stores the trace header under this plain string key.
		{"not sampled", context.WithValue(t.Context(), "x-amzn-trace-id", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0")},
		//lint:ignore SA1029 aws-lambda-go stores the trace header under this plain string key.
		{"malformed header", context.WithValue(t.Context(), "x-amzn-trace-id", "Root=1-5759e988;Sampled=1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, span := o.Start(tt.ctx, "validate")
			if _, ok := span.(noopSpan); !ok || ctx != tt.ctx {
				t.Errorf("got %T, want a span that records nothing", span)
			}
			span.End()
			client, headers := kinesisClientHeaders(t, o)
			if _, err := client.ListStreams(ctx, &kinesis.ListStreamsInput{}); err != nil {
				t.Fatal(err)
			}
			if len(*headers) != 1 || strings.Contains((*headers)[0], "Sampled=1") {
				t.Errorf("service got trace headers %q, want none of ours", *headers)
			}
		})
	}
	if err := o.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(rcv.Requests()); n != 0 {
		t.Errorf("got %d exports, want none", n)
	}
	if logs.Len() > 0 {
		t.Errorf("got log output %q, want none", logs.String())
	}
}

// TestOTelExportFailure checks that a refused export is one warning with the HTTP status, that
// a refusal is not retried, and that the invocation goes on.
func TestOTelExportFailure(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		http.Error(w, "unsupported", http.StatusBadRequest)
	}))
	t.Cleanup(srv.Close)
	var logs bytes.Buffer
	o, err := NewOTel(Settings{OTLPTracesEndpoint: srv.URL + otlptest.Path}, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	o.getenv = func(string) string { return "" }
	_, span := o.Start(invocation(t.Context()), "write")
	span.End()
	if err := o.Flush(t.Context()); err == nil {
		t.Error("got no error from a refused export")
	}
	if calls != 1 {
		t.Errorf("got %d requests, want 1: a 400 is not retryable", calls)
	}
	if !strings.Contains(logs.String(), `"msg":"spans not exported"`) || !strings.Contains(logs.String(), "HTTP 400") {
		t.Errorf("got log %q, want a warning with HTTP 400", logs.String())
	}
}

func payloadHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestNewExporter(t *testing.T) {
	tests := []struct {
		name       string
		settings   Settings
		wantURL    string
		wantRegion string
		wantErr    bool
	}{
		{"X-Ray in the function's region", Settings{Region: "eu-west-1"}, "https://xray.eu-west-1.amazonaws.com/v1/traces", "eu-west-1", false},
		{"collector base URL", Settings{Region: "eu-west-1", OTLPEndpoint: "http://localhost:4318"}, "http://localhost:4318/v1/traces", "", false},
		{"traces URL as it is", Settings{OTLPEndpoint: "http://a:4318", OTLPTracesEndpoint: "http://localhost:4318/custom"}, "http://localhost:4318/custom", "", false},
		{"X-Ray named explicitly is signed", Settings{OTLPTracesEndpoint: "https://xray.ap-south-1.amazonaws.com/v1/traces"}, "https://xray.ap-south-1.amazonaws.com/v1/traces", "ap-south-1", false},
		{"nowhere", Settings{}, "", "", true},
		{"region not a name", Settings{Region: "us-east-1.evil.example/"}, "", "", true},
		{"not a URL", Settings{OTLPEndpoint: "localhost:4318"}, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := newExporter(tt.settings, slog.Default())
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if e.url != tt.wantURL || e.region != tt.wantRegion || (e.signer != nil) != (tt.wantRegion != "") {
				t.Errorf("got %s signed in %q, want %s in %q", e.url, e.region, tt.wantURL, tt.wantRegion)
			}
		})
	}
}
