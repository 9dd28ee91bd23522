//go:build !otel

package trace

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// xrayEnv clears the variables the X-Ray SDK reads itself, whatever the caller's environment
// holds: AWS_XRAY_SDK_DISABLED=true would make it send nothing.
func xrayEnv(t *testing.T) {
	t.Setenv("AWS_XRAY_SDK_DISABLED", "")
	t.Setenv("AWS_XRAY_DAEMON_ADDRESS", "")
	t.Setenv("AWS_XRAY_CONTEXT_MISSING", "")
	t.Setenv("AWS_XRAY_TRACING_NAME", "")
	t.Setenv("AWS_XRAY_LOG_LEVEL", "")
}

// TestXRayInInvocation proves what an operator sees in X-Ray: a subsegment per step, with its
// annotations, under the invocation's trace, and one per AWS call.
func TestXRayInInvocation(t *testing.T) {
	addr, next, _ := daemon(t)
	xrayEnv(t)
	var logs bytes.Buffer
	tr, err := NewXRay(addr, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
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
	xrayEnv(t)
	var logs bytes.Buffer
	tr, err := NewXRay(addr, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
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

// daemon listens like the X-Ray daemon and returns the segment documents it receives.
func daemon(t *testing.T) (addr string, next func() map[string]any, quiet func()) {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("cannot listen on UDP loopback: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	quiet = func() {
		t.Helper()
		_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		buf := make([]byte, 64<<10)
		if n, _, err := conn.ReadFrom(buf); err == nil {
			t.Errorf("the daemon got %q, want nothing", buf[:n])
		}
	}
	return conn.LocalAddr().String(), func() map[string]any {
		t.Helper()
		buf := make([]byte, 64<<10)
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			t.Fatalf("no segment document reached the daemon: %v", err)
		}
		header, body, ok := bytes.Cut(buf[:n], []byte("\n"))
		if !ok || !bytes.Contains(header, []byte(`"format"`)) {
			t.Fatalf("got %q, want the daemon protocol header and a document", buf[:n])
		}
		var doc map[string]any
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatalf("document %q is not JSON: %v", body, err)
		}
		return doc
	}, quiet
}

func kinesisClient(t *testing.T, tr Tracer) *kinesis.Client {
	c, _ := kinesisClientHeaders(t, tr)
	return c
}
