package awsbatch

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// failingService is a loopback HTTP server that answers every call with status and an AWS JSON
// error of type code, and counts the calls.
func failingService(t *testing.T, status int, code string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-ErrorType", code)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"__type":"` + code + `","message":"injected"}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func testConfig(url string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		BaseEndpoint: aws.String(url),
	}
}

// noBackoff makes the SDK's standard retryer retry at once, so that the test of what it would do
// takes no time.
type noBackoff struct{}

func (noBackoff) BackoffDelay(int, error) (time.Duration, error) { return 0, nil }

// TestOneLayerRetries checks that one write makes exactly Retry.MaxAttempts calls when every call
// fails: the clients the functions use leave retrying to the writer. The SDK's standard retryer,
// for contrast, multiplies the calls.
func TestOneLayerRetries(t *testing.T) {
	retryPolicy := Retry{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}
	standard := func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) { o.Backoff = noBackoff{} })
	}
	tests := []struct {
		name      string
		status    int
		code      string
		service   string
		sdkRetry  bool // build the client with the SDK's standard retryer instead
		wantCalls int64
	}{
		{"kinesis internal failure", http.StatusInternalServerError, "InternalFailure", "kinesis", false, 3},
		{"kinesis throttled", http.StatusBadRequest, "ProvisionedThroughputExceededException", "kinesis", false, 3},
		{"firehose unavailable", http.StatusServiceUnavailable, "ServiceUnavailableException", "firehose", false, 3},
		{"firehose throttled", http.StatusBadRequest, "ThrottlingException", "firehose", false, 3},
		{"kinesis with the SDK's retryer", http.StatusInternalServerError, "InternalFailure", "kinesis", true, 9},
		{"firehose with the SDK's retryer", http.StatusServiceUnavailable, "ServiceUnavailableException", "firehose", true, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, calls := failingService(t, tt.status, tt.code)
			cfg := testConfig(srv.URL)
			var w interface {
				Write(context.Context, []Record) []Result
			}
			var err error
			switch tt.service {
			case "kinesis":
				c := NewKinesisClient(cfg)
				if tt.sdkRetry {
					c = kinesis.NewFromConfig(cfg, func(o *kinesis.Options) { o.Retryer = standard() })
				}
				w, err = NewKinesisWriter(c, "s", retryPolicy)
			default:
				c := NewFirehoseClient(cfg)
				if tt.sdkRetry {
					c = firehose.NewFromConfig(cfg, func(o *firehose.Options) { o.Retryer = standard() })
				}
				w, err = NewFirehoseWriter(c, "s", retryPolicy)
			}
			if err != nil {
				t.Fatal(err)
			}
			res := w.Write(t.Context(), []Record{{Data: []byte("x"), PartitionKey: "k"}})
			if res[0].OK || res[0].ErrorCode != tt.code || res[0].Attempts != 3 {
				t.Errorf("got %+v, want a failure with code %s after 3 attempts", res[0], tt.code)
			}
			if got := calls.Load(); got != tt.wantCalls {
				t.Errorf("got %d calls, want %d", got, tt.wantCalls)
			}
		})
	}
}
