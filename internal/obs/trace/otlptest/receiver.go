// Package otlptest is an OTLP/HTTP traces receiver for tests: it listens on 127.0.0.1, decodes
// each binary protobuf ExportTraceServiceRequest with the collector's own types, and keeps every
// request with its headers. See https://opentelemetry.io/docs/specs/otlp/#otlphttp.
package otlptest

import (
	"compress/gzip"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// Path is where OTLP/HTTP sends traces.
const Path = "/v1/traces"

// Request is one export the receiver took.
type Request struct {
	Path   string
	Header http.Header
	Body   []byte // as decoded from gzip when it was compressed
	Traces *coltracepb.ExportTraceServiceRequest
}

// Span is one received span with its resource's attributes, flattened for assertions.
type Span struct {
	*tracepb.Span
	TraceID, SpanID, ParentID string // hexadecimal; ParentID is empty for a root span
	Attrs                     map[string]any
	Resource                  map[string]any
	Scope                     string
}

// Receiver collects exports until the test ends.
type Receiver struct {
	URL string // base URL, http://127.0.0.1:port

	mu   sync.Mutex
	reqs []Request
	got  chan struct{}
}

// Start starts a receiver that the test's cleanup stops.
func Start(t testing.TB) *Receiver {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen for OTLP: %v", err)
	}
	r := &Receiver{URL: "http://" + l.Addr().String(), got: make(chan struct{}, 1)}
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return r
}

// ServeHTTP takes one export: 200 with an empty response for a well-formed one, 400 otherwise.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var body io.Reader = http.MaxBytesReader(w, req.Body, 16<<20)
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var msg coltracepb.ExportTraceServiceRequest
	if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/x-protobuf" || proto.Unmarshal(b, &msg) != nil {
		http.Error(w, "want a POST of a binary protobuf ExportTraceServiceRequest", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, Request{Path: req.URL.Path, Header: req.Header.Clone(), Body: b, Traces: &msg})
	r.mu.Unlock()
	select {
	case r.got <- struct{}{}:
	default:
	}
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

// Requests returns the exports taken so far.
func (r *Receiver) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.reqs...)
}

// Spans returns every span received so far, in the order received.
func (r *Receiver) Spans() []Span {
	var out []Span
	for _, req := range r.Requests() {
		for _, rs := range req.Traces.GetResourceSpans() {
			res := Attrs(rs.GetResource().GetAttributes())
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					sp := Span{Span: s, TraceID: hex.EncodeToString(s.TraceId), SpanID: hex.EncodeToString(s.SpanId),
						Attrs: Attrs(s.Attributes), Resource: res, Scope: ss.GetScope().GetName()}
					if len(s.ParentSpanId) > 0 {
						sp.ParentID = hex.EncodeToString(s.ParentSpanId)
					}
					out = append(out, sp)
				}
			}
		}
	}
	return out
}

// WaitSpans waits up to timeout until at least n spans arrived and returns them all.
func (r *Receiver) WaitSpans(t testing.TB, n int, timeout time.Duration) []Span {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if s := r.Spans(); len(s) >= n {
			return s
		}
		select {
		case <-r.got:
		case <-deadline:
			t.Fatalf("got %d spans within %v, want at least %d", len(r.Spans()), timeout, n)
		}
	}
}

// Attrs turns OTLP attributes into Go values: string, bool, int64, float64, []any.
func Attrs(kvs []*commonpb.KeyValue) map[string]any {
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		m[kv.Key] = value(kv.Value)
	}
	return m
}

func value(v *commonpb.AnyValue) any {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_BoolValue:
		return x.BoolValue
	case *commonpb.AnyValue_IntValue:
		return x.IntValue
	case *commonpb.AnyValue_DoubleValue:
		return x.DoubleValue
	case *commonpb.AnyValue_BytesValue:
		return x.BytesValue
	case *commonpb.AnyValue_ArrayValue:
		var out []any
		for _, e := range x.ArrayValue.GetValues() {
			out = append(out, value(e))
		}
		return out
	case *commonpb.AnyValue_KvlistValue:
		return Attrs(x.KvlistValue.GetValues())
	}
	return nil
}
