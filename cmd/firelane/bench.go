package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// benchmarks holds the `firelane bench WHAT` measurements; each file registers its own.
var benchmarks = map[string]func(args []string) error{}

func init() {
	register("bench", "measure a stage on the shared workload (bench WHAT ...)", func(args []string) error {
		if len(args) == 0 || benchmarks[args[0]] == nil {
			names := make([]string, 0, len(benchmarks))
			for n := range benchmarks {
				names = append(names, n)
			}
			sort.Strings(names)
			return fmt.Errorf("usage: firelane bench {%s} [ARGS]", strings.Join(names, "|"))
		}
		return benchmarks[args[0]](args[1:])
	})
}

// bestOf runs f once to warm up, then reps times, and returns the best duration and the mean
// allocations of a timed run.
func bestOf(reps int, f func()) (time.Duration, float64) {
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

// ackingFirehose acknowledges every record of a PutRecordBatch at once, so that a figure is the
// function's own work, batching into calls included, without the network call.
type ackingFirehose struct{}

func (ackingFirehose) PutRecordBatch(_ context.Context, in *firehose.PutRecordBatchInput, _ ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	out := &firehose.PutRecordBatchOutput{FailedPutCount: aws.Int32(0), RequestResponses: make([]fhtypes.PutRecordBatchResponseEntry, len(in.Records))}
	for i := range out.RequestResponses {
		out.RequestResponses[i].RecordId = aws.String(strconv.Itoa(i))
	}
	return out, nil
}
