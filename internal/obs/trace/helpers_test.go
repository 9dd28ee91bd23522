package trace

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

const traceHeader = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"

func invocation(ctx context.Context) context.Context {
	//lint:ignore SA1029 aws-lambda-go stores the trace header under this plain string key.
	return context.WithValue(ctx, "x-amzn-trace-id", traceHeader)
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
