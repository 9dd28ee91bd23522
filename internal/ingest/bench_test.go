package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/schema"
)

// ackKinesis acknowledges every record without keeping it.
var ackKinesis = &fakeKinesis{put: func(_ context.Context, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
	out := &kinesis.PutRecordsOutput{Records: make([]ktypes.PutRecordsResultEntry, len(in.Records))}
	for i := range out.Records {
		out.Records[i] = ktypes.PutRecordsResultEntry{SequenceNumber: aws.String("1"), ShardId: aws.String("shardId-000000000000")}
	}
	return out, nil
}}

// benchRegistry loads the workload's schemas with the named validator ("" keeps the default).
func benchRegistry(b *testing.B, validator string) *schema.Registry {
	b.Helper()
	reg, err := schema.LoadDir(filepath.Join(sharedDir(b), "workload", "schemas"))
	if err != nil {
		b.Fatal(err)
	}
	if validator != "" {
		if err := reg.SetValidator(schema.Validator(validator)); err != nil {
			b.Fatal(err)
		}
	}
	return reg
}

// BenchmarkHandleBatch500 measures one invocation on the workload's API Gateway request of 500
// events as Lambda bills it: the payload bytes are decoded, the events validated and written (to a
// Kinesis that acknowledges at once), and the answer encoded.
func BenchmarkHandleBatch500(b *testing.B) {
	payload, err := os.ReadFile(filepath.Join(sharedDir(b), "workload", "out", "apigw-batch-500.json"))
	if err != nil {
		b.Fatal(err)
	}
	for _, v := range []string{"fast", "v5"} {
		b.Run("validator="+v, func(b *testing.B) {
			kw, _ := awsbatch.NewKinesisWriter(ackKinesis, "events", awsbatch.DefaultRetry)
			h := &Handler{Registry: benchRegistry(b, v), Kinesis: kw, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				out, err := h.Invoke(context.Background(), payload)
				if err != nil {
					b.Fatal(err)
				}
				if !bytes.Contains(out, []byte(`"statusCode":200`)) {
					var resp events.APIGatewayProxyResponse
					_ = json.Unmarshal(out, &resp)
					b.Fatalf("got status %d: %.300s", resp.StatusCode, resp.Body)
				}
			}
			runtime.ReadMemStats(&after)
			b.ReportMetric(500*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(500*b.N), "allocs/event")
		})
	}
}

// BenchmarkServeBatch500 measures the core alone on the same request, decoded once: what
// BenchmarkHandleBatch500 measures less the adapter's decoding of the payload and encoding of the
// response.
func BenchmarkServeBatch500(b *testing.B) {
	payload, err := os.ReadFile(filepath.Join(sharedDir(b), "workload", "out", "apigw-batch-500.json"))
	if err != nil {
		b.Fatal(err)
	}
	var api events.APIGatewayProxyRequest
	if err := json.Unmarshal(payload, &api); err != nil {
		b.Fatal(err)
	}
	req := RequestFromREST(&api)
	kw, _ := awsbatch.NewKinesisWriter(ackKinesis, "events", awsbatch.DefaultRetry)
	h := &Handler{Registry: benchRegistry(b, "fast"), Kinesis: kw, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		if out := h.Serve(context.Background(), &req); out.Status != 200 || out.Events.Accepted != 500 {
			b.Fatalf("got status %d: %.300s", out.Status, out.Body)
		}
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(500*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(500*b.N), "allocs/event")
}

// BenchmarkValidateWorkload measures what the edge does per event on events.ndjson (parse,
// envelope, data validation, bounded error collection), one event at a time.
func BenchmarkValidateWorkload(b *testing.B) {
	lines := workloadLines(b)
	size := 0
	for _, l := range lines {
		size += len(l) + 1
	}
	for _, v := range []string{"fast", "v5"} {
		b.Run("validator="+v, func(b *testing.B) {
			reg := benchRegistry(b, v)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				valid := 0
				for _, l := range lines {
					if reg.ValidateJSON(l, DefaultConfig.MaxErrors).Valid() {
						valid++
					}
				}
				if valid != 19626 {
					b.Fatalf("got %d valid events, want 19626", valid)
				}
			}
			runtime.ReadMemStats(&after)
			n := float64(len(lines) * b.N)
			b.ReportMetric(n/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/event")
		})
	}
}
