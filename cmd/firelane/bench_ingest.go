package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/ingest"
	"github.com/firelane/firelane/internal/schema"
)

func init() {
	benchmarks["ingest"] = benchIngest
}

// ackingKinesis acknowledges every record at once, so that the figures are the function's own.
type ackingKinesis struct{}

func (ackingKinesis) PutRecords(_ context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	out := &kinesis.PutRecordsOutput{Records: make([]ktypes.PutRecordsResultEntry, len(in.Records))}
	for i := range out.Records {
		out.Records[i] = ktypes.PutRecordsResultEntry{SequenceNumber: aws.String("1"), ShardId: aws.String("shardId-000000000000")}
	}
	return out, nil
}

// benchIngest measures the edge on the shared workload and prints one key=value line per figure:
// the per-event work (parse, envelope, data validation with bounded error collection) on
// events.ndjson, and whole invocations (payload bytes in, answer bytes out) on
// apigw-batch-500.json. With -peers it then runs the peers' script, so that both are taken in the
// same minute.
func benchIngest(args []string) error {
	fs := flag.NewFlagSet("bench ingest", flag.ContinueOnError)
	dir := fs.String("workload", filepath.Join("..", "shared", "workload"), "folder of the shared workload (schemas/ and out/)")
	validators := fs.String("validators", "fast,v5", "validators to time, comma-separated: fast, v5")
	reps := fs.Int("reps", 5, "timed repetitions after one warm-up; the best counts")
	procs := fs.Int("procs", 1, "GOMAXPROCS while timing (the peers' figures are for one core)")
	peers := fs.String("peers", "", "the peers' run.sh (../shared/peers/run.sh) to run right after; empty runs none")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: firelane bench ingest [-workload DIR] [-validators fast,v5] [-reps N] [-peers RUN.sh]\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *reps < 1 {
		return fmt.Errorf("-reps must be at least 1")
	}
	text, err := os.ReadFile(filepath.Join(*dir, "out", "events.ndjson"))
	if err != nil {
		return fmt.Errorf("read events: %w", err)
	}
	var lines [][]byte
	for _, l := range bytes.Split(text, []byte("\n")) {
		if len(bytes.TrimSpace(l)) > 0 {
			lines = append(lines, l)
		}
	}
	payload, err := os.ReadFile(filepath.Join(*dir, "out", "apigw-batch-500.json"))
	if err != nil {
		return fmt.Errorf("read API request: %w", err)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(*procs))
	for _, v := range strings.Split(*validators, ",") {
		reg, err := schema.LoadDir(filepath.Join(*dir, "schemas"))
		if err != nil {
			return err
		}
		if err := reg.SetValidator(schema.Validator(strings.TrimSpace(v))); err != nil {
			return err
		}
		valid := 0
		best, allocs := bestOf(*reps, func() {
			valid = 0
			for _, l := range lines {
				if reg.ValidateJSON(l, ingest.DefaultConfig.MaxErrors).Valid() {
					valid++
				}
			}
		})
		printLine("validate", v, "events.ndjson", len(lines), valid, len(text), best, allocs)

		kw, err := awsbatch.NewKinesisWriter(ackingKinesis{}, "events", awsbatch.DefaultRetry)
		if err != nil {
			return err
		}
		h := &ingest.Handler{Registry: reg, Kinesis: kw, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}
		var out []byte
		var herr error
		best, allocs = bestOf(*reps, func() { out, herr = h.Invoke(context.Background(), payload) })
		if herr != nil {
			return herr
		}
		if !bytes.Contains(out, []byte(`"statusCode":200`)) {
			return fmt.Errorf("the 500-event request was not answered 200: %.300s", out)
		}
		printLine("handle", v, "apigw-batch-500.json", 500, 500, len(payload), best, allocs)
	}
	if *peers != "" {
		cmd := exec.Command("bash", *peers)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		fmt.Printf("# %s, started %s\n", *peers, time.Now().UTC().Format(time.RFC3339))
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("run peers: %w", err)
		}
	}
	return nil
}

func printLine(work, validator, input string, events, valid, size int, best time.Duration, allocs float64) {
	sec := best.Seconds()
	fmt.Printf("impl=firelane work=%s validator=%s input=%s events=%d valid=%d bytes=%d best_ms=%.1f events_per_s=%.0f mb_per_s=%.1f allocs_per_event=%.1f at=%s\n",
		work, validator, input, events, valid, size, sec*1000, float64(events)/sec, float64(size)/sec/1e6, allocs/float64(events),
		time.Now().UTC().Format("15:04:05"))
}
