//go:build !noxray

package trace

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// TestXRayInInvocation proves what an operator sees in X-Ray: a subsegment per step, with its
// annotations, under the invocation's trace, and one per AWS call.
func TestXRayInInvocation(t *testing.T) {
	addr, next, _ := daemon(t)
	t.Setenv("AWS_XRAY_DAEMON_ADDRESS", addr)
	t.Setenv("AWS_XRAY_CONTEXT_MISSING", "")
	t.Setenv("AWS_XRAY_SDK_DISABLED", "false") // the X-Ray SDK reads it on every segment
	var logs bytes.Buffer
	tr, err := NewXRay("127.0.0.1:2000", slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	ctx := invocation(t.Context())
	_, span := tr.Start(ctx, "validate")
	span.Annotate("event_count", 3)
	span.Annotate("event.type", "com.acme.web.page_view")
	span.Fail(errors.New("write failed"))
	span.End()
	doc := next()
	if doc["name"] != "validate" || doc["trace_id"] != "1-5759e988-bd862e3fe1be46a994272793" || doc["type"] != "subsegment" {
		t.Errorf("got %v, want subsegment validate of the invocation's trace", doc)
	}
	ann, _ := doc["annotations"].(map[string]any)
	if ann["event_count"] != 3.0 || ann["event_type"] != "com.acme.web.page_view" {
		t.Errorf("got annotations %v", ann)
	}
	if doc["fault"] != true {
		t.Errorf("got fault %v, want true after Fail", doc["fault"])
	}

	if _, err := kinesisClient(t, tr).ListStreams(ctx, &kinesis.ListStreamsInput{}); err != nil {
		t.Fatal(err)
	}
	doc = next()
	awsInfo, _ := doc["aws"].(map[string]any)
	if doc["name"] != "Kinesis" || doc["namespace"] != "aws" || awsInfo["operation"] != "ListStreams" || awsInfo["request_id"] != "aws-req-1" {
		t.Errorf("got %v, want a Kinesis ListStreams subsegment", doc)
	}
	if logs.Len() > 0 {
		t.Errorf("got log output %q, want none", logs.String())
	}
}

// TestXRaySilentOutsideInvocation proves the local and test runs stay quiet: no segment, no
// message, no UDP packet, and instrumented AWS calls still work.
func TestXRaySilentOutsideInvocation(t *testing.T) {
	addr, _, quiet := daemon(t)
	t.Setenv("AWS_XRAY_DAEMON_ADDRESS", addr)
	t.Setenv("AWS_XRAY_CONTEXT_MISSING", "")
	t.Setenv("AWS_XRAY_SDK_DISABLED", "false") // the X-Ray SDK reads it on every segment
	var logs bytes.Buffer
	tr, err := NewXRay("127.0.0.1:2000", slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	ctx, span := tr.Start(t.Context(), "validate")
	if _, ok := span.(noopSpan); !ok {
		t.Errorf("got %T, want a span that records nothing", span)
	}
	span.Annotate("event_count", 1)
	span.End()
	if _, err := kinesisClient(t, tr).ListStreams(ctx, &kinesis.ListStreamsInput{}); err != nil {
		t.Fatal(err)
	}
	quiet()
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(strings.ToLower(line), "context missing") || strings.Contains(line, `"level":"WARN"`) || strings.Contains(line, `"level":"ERROR"`) {
			t.Errorf("got log line %q, want nothing above debug and no context-missing message", line)
		}
	}
}
