// Package bench measures firelane's stages on the shared workload (../shared/workload) the way
// `firelane bench` reports them: whole invocations, payload bytes in and response bytes out, timed as
// the best of several repetitions after a warm-up on one core, with allocations per record. The
// workload's inputs come from package workload beside it, which the stages' Go benchmarks use too.
// `firelane bench transform -emulator` also runs the transform under the Runtime Interface
// Emulator ([TransformUnderEmulator]), reporting medians and bests of alternated rounds.
package bench

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// BestOf runs f once to warm up, then reps times, and returns the best duration and the mean
// allocations of a timed run.
func BestOf(reps int, f func()) (time.Duration, float64) {
	runtime.GC()
	debug.FreeOSMemory()
	f()
	best := time.Duration(1<<63 - 1)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range reps {
		start := time.Now()
		f()
		best = min(best, time.Since(start))
	}
	runtime.ReadMemStats(&after)
	return best, float64(after.Mallocs-before.Mallocs) / float64(reps)
}

// AckingFirehose acknowledges every record of a PutRecordBatch at once, so that a figure is the
// function's own work, batching into calls included, without the network call.
type AckingFirehose struct{}

// PutRecordBatch acknowledges every record.
func (AckingFirehose) PutRecordBatch(_ context.Context, in *firehose.PutRecordBatchInput, _ ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	out := &firehose.PutRecordBatchOutput{FailedPutCount: aws.Int32(0), RequestResponses: make([]fhtypes.PutRecordBatchResponseEntry, len(in.Records))}
	for i := range out.RequestResponses {
		out.RequestResponses[i].RecordId = aws.String(strconv.Itoa(i))
	}
	return out, nil
}

// AckingKinesis acknowledges every record of a PutRecords at once.
type AckingKinesis struct{}

// PutRecords acknowledges every record.
func (AckingKinesis) PutRecords(_ context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	out := &kinesis.PutRecordsOutput{Records: make([]ktypes.PutRecordsResultEntry, len(in.Records))}
	for i := range out.Records {
		out.Records[i] = ktypes.PutRecordsResultEntry{SequenceNumber: aws.String("1"), ShardId: aws.String("shardId-000000000000")}
	}
	return out, nil
}

// LoadAverage is the machine's load average as /proc/loadavg gives it, or "unknown".
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
