package trace

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

func newLite(t *testing.T, addr string) (*Lite, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	l, err := NewLite(addr, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, &logs
}

// TestLiteInInvocation proves the lite tracer sends what the X-Ray console needs: subsegments of
// the invocation's segment, nested spans under their parent, annotations, faults, and one
// subsegment per AWS call whose trace is passed on to the service.
func TestLiteInInvocation(t *testing.T) {
	addr, next, _ := daemon(t)
	l, logs := newLite(t, "tcp:"+addr+" udp:"+addr)
	ctx := invocation(t.Context())

	ctx1, outer := l.Start(ctx, "write")
	_, inner := l.Start(ctx1, "validate")
	inner.Annotate("event_count", 3)
	inner.Annotate("event.type", "com.acme.web.page_view")
	inner.Fail(errors.New("boom"))
	inner.End()
	inner.End() // a second End sends nothing
	doc := next()
	if doc["name"] != "validate" || doc["trace_id"] != "1-5759e988-bd862e3fe1be46a994272793" || doc["type"] != "subsegment" {
		t.Errorf("got %v, want subsegment validate of the invocation's trace", doc)
	}
	innerParent := doc["parent_id"]
	ann, _ := doc["annotations"].(map[string]any)
	if ann["event_count"] != 3.0 || ann["event_type"] != "com.acme.web.page_view" || doc["fault"] != true {
		t.Errorf("got annotations %v, fault %v", ann, doc["fault"])
	}
	if st, et := doc["start_time"].(float64), doc["end_time"].(float64); st <= 1e9 || et < st {
		t.Errorf("got start %v, end %v, want epoch seconds in order", st, et)
	}
	outer.End()
	doc = next()
	if doc["name"] != "write" || doc["parent_id"] != "53995c3f42cd8ad8" || doc["id"] != innerParent {
		t.Errorf("got %v, want write under the Lambda segment and parent of validate", doc)
	}

	client, headers := kinesisClientHeaders(t, l)
	if _, err := client.ListStreams(ctx, &kinesis.ListStreamsInput{}); err != nil {
		t.Fatal(err)
	}
	doc = next()
	awsInfo, _ := doc["aws"].(map[string]any)
	httpInfo, _ := doc["http"].(map[string]any)
	if doc["name"] != "Kinesis" || doc["namespace"] != "aws" || awsInfo["operation"] != "ListStreams" ||
		awsInfo["request_id"] != "aws-req-1" || awsInfo["region"] != "us-east-1" {
		t.Errorf("got %v, want a Kinesis ListStreams subsegment", doc)
	}
	if resp, _ := httpInfo["response"].(map[string]any); resp["status"] != 200.0 {
		t.Errorf("got http %v, want status 200", httpInfo)
	}
	want := "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=" + doc["id"].(string) + ";Sampled=1"
	if len(*headers) != 1 || (*headers)[0] != want {
		t.Errorf("service got trace headers %q, want %q", *headers, want)
	}
	if logs.Len() > 0 {
		t.Errorf("got log output %q, want none", logs.String())
	}
}

// TestLiteSilent checks that nothing is sent outside an invocation or for an unsampled one, and
// that a missing daemon disturbs nothing.
func TestLiteSilent(t *testing.T) {
	addr, _, quiet := daemon(t)
	l, logs := newLite(t, addr)
	tests := []struct {
		name string
		ctx  context.Context
	}{
		{"no invocation", t.Context()},
		//lint:ignore SA1029 aws-lambda-go stores the trace header under this plain string key.
		{"not sampled", context.WithValue(t.Context(), "x-amzn-trace-id", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, span := l.Start(tt.ctx, "validate")
			if _, ok := span.(noopSpan); !ok || ctx != tt.ctx {
				t.Errorf("got %T, want a span that records nothing", span)
			}
			span.End()
			if _, err := kinesisClient(t, l).ListStreams(tt.ctx, &kinesis.ListStreamsInput{}); err != nil {
				t.Fatal(err)
			}
		})
	}
	quiet()

	// A daemon that is not there: writes fail at most at debug level.
	gone, logs2 := newLite(t, "127.0.0.1:9")
	for range 3 {
		_, span := gone.Start(invocation(t.Context()), "validate")
		span.End()
	}
	if logs.Len()+logs2.Len() > 0 || strings.Contains(logs2.String(), "WARN") {
		t.Errorf("got log output %q %q, want none", logs.String(), logs2.String())
	}
}

func TestLiteAddress(t *testing.T) {
	if _, err := NewLite("udp:", nil); err == nil {
		t.Error("got no error for an address without a port")
	}
}
