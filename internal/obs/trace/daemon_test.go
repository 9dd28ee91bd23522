package trace

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

const traceHeader = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"

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

func invocation(ctx context.Context) context.Context {
	//lint:ignore SA1029 aws-lambda-go stores the trace header under this plain string key.
	return context.WithValue(ctx, "x-amzn-trace-id", traceHeader)
}

func kinesisClient(t *testing.T, tr Tracer) *kinesis.Client {
	c, _ := kinesisClientHeaders(t, tr)
	return c
}

// kinesisClientHeaders returns a Kinesis client of a fake endpoint and the trace headers the
// endpoint received.
func kinesisClientHeaders(t *testing.T, tr Tracer) (*kinesis.Client, *[]string) {
	var headers []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		headers = append(headers, r.Header.Get("X-Amzn-Trace-Id"))
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("x-amzn-RequestId", "aws-req-1")
		_, _ = w.Write([]byte(`{"StreamNames":[],"HasMoreStreams":false}`))
	}))
	t.Cleanup(srv.Close)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""), BaseEndpoint: aws.String(srv.URL)}
	tr.InstrumentAWS(&cfg)
	return kinesis.NewFromConfig(cfg), &headers
}
