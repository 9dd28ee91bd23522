package enrich

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/firelane/firelane/internal/bench/workload"
	"github.com/firelane/firelane/internal/kpl"
)

// acceptAll is a Firehose that acknowledges every record without a network call.
func acceptAll() *fakeFirehose {
	return &fakeFirehose{put: func(_ context.Context, in *firehose.PutRecordBatchInput) (*firehose.PutRecordBatchOutput, error) {
		out := &firehose.PutRecordBatchOutput{FailedPutCount: aws.Int32(0), RequestResponses: make([]types.PutRecordBatchResponseEntry, len(in.Records))}
		for i := range out.RequestResponses {
			out.RequestResponses[i].RecordId = aws.String("r")
		}
		return out, nil
	}}
}

// benchHandle measures one invocation as Lambda bills it: the payload is decoded into the Kinesis
// event, every record is enriched with every enrichment on and batched into PutRecordBatch calls
// (to a Firehose that answers at once: the network call is left out), and the response is encoded.
// perAggregate > 0 puts the records into KPL aggregates of that many user records.
func benchHandle(b *testing.B, records int, asIngest bool, perAggregate int) {
	shared := sharedDir(b)
	src, err := os.ReadFile(filepath.Join(shared, "workload", "out", "kinesis-100.json"))
	if err != nil {
		b.Fatal(err)
	}
	reg, err := workload.Registry(filepath.Join(shared, "workload", "schemas"))
	if err != nil {
		b.Fatal(err)
	}
	batch, err := workload.KinesisBatch(src, records, asIngest)
	if err != nil {
		b.Fatal(err)
	}
	if perAggregate > 0 {
		var aggs []events.KinesisEventRecord
		for i := 0; i < len(batch.Records); i += perAggregate {
			group := batch.Records[i:min(i+perAggregate, len(batch.Records))]
			users := make([]kpl.Record, len(group))
			for j, r := range group {
				users[j] = kpl.Record{Data: r.Kinesis.Data, PartitionKey: []byte(r.Kinesis.PartitionKey)}
			}
			agg := group[0]
			agg.Kinesis.Data = kpl.Aggregate(users)
			aggs = append(aggs, agg)
		}
		batch.Records = aggs
	}
	payload, err := json.Marshal(batch)
	if err != nil {
		b.Fatal(err)
	}
	h := &Handler{Registry: reg, Chain: DefaultChain(nowFunc, testKey), Firehose: newWriter(b, acceptAll(), "events"),
		Failed: newWriter(b, acceptAll(), "failed"), Logger: quietLogger(), Now: nowFunc}
	ctx := context.Background()
	if res := h.Process(ctx, Records(batch)); res.Count(Written) != records {
		b.Fatalf("got %d records written, want %d", res.Count(Written), records)
	}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu0 := cpuTime()
	for b.Loop() {
		resp, err := h.Invoke(ctx, payload)
		if err != nil || string(resp) != `{"batchItemFailures":[]}` {
			b.Fatalf("got %s, %v", resp, err)
		}
	}
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.StopTimer()
	cpu := cpuTime() - cpu0
	runtime.ReadMemStats(&after)
	// The machine may be shared: records per second of this process' CPU time (GC included) is the
	// figure that does not depend on what else runs.
	b.ReportMetric(float64(records)*float64(b.N)/cpu.Seconds(), "records/cpu-s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(records*b.N), "allocs/record")
}

func BenchmarkHandleKinesis100Bare(b *testing.B)   { benchHandle(b, 100, false, 0) }
func BenchmarkHandleKinesis100Ingest(b *testing.B) { benchHandle(b, 100, true, 0) }
func BenchmarkHandle10000Ingest(b *testing.B)      { benchHandle(b, 10000, true, 0) }

// BenchmarkHandleKinesis100IngestKPL is the 100 ingest records in four KPL aggregates of 25.
func BenchmarkHandleKinesis100IngestKPL(b *testing.B) { benchHandle(b, 100, true, 25) }

// cpuTime returns the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
