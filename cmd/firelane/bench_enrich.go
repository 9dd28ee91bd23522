package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/enrich"
)

func init() {
	benchmarks["enrich"] = benchEnrich
}

// benchEnrich times whole enrich invocations (payload bytes in, response bytes out) with every
// enrichment on, and prints one key=value line per batch shape: kinesis-100.json as it is (bare
// CloudEvents), the same records as ingest records (server context with repeating user agents and
// source IPs), and a 10,000-record batch of ingest records built from them.
func benchEnrich(args []string) error {
	fs := flag.NewFlagSet("bench enrich", flag.ContinueOnError)
	dir := fs.String("workload", filepath.Join("..", "shared", "workload"), "folder of the shared workload (schemas/ and out/)")
	reps := fs.Int("reps", 5, "timed repetitions after one warm-up; the best counts")
	procs := fs.Int("procs", 1, "GOMAXPROCS while timing (one core, as the target is stated)")
	sizes := fs.String("records", "100,10000", "batch sizes to time, comma-separated")
	gogc := fs.Int("gogc", enrich.GCPercent, "garbage collector target while timing (functions/enrich sets enrich.GCPercent unless GOGC is set)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: firelane bench enrich [-workload DIR] [-reps N] [-procs N] [-gogc N] [-records 100,10000]\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *reps < 1 {
		return fmt.Errorf("-reps must be at least 1")
	}
	src, err := os.ReadFile(filepath.Join(*dir, "out", "kinesis-100.json"))
	if err != nil {
		return fmt.Errorf("read workload: %w", err)
	}
	reg, err := enrich.WorkloadRegistry(filepath.Join(*dir, "schemas"))
	if err != nil {
		return err
	}
	ew, err := awsbatch.NewFirehoseWriter(ackingFirehose{}, "events", awsbatch.DefaultRetry)
	if err != nil {
		return err
	}
	fw, err := awsbatch.NewFirehoseWriter(ackingFirehose{}, "failed-events", awsbatch.DefaultRetry)
	if err != nil {
		return err
	}
	h := &enrich.Handler{Registry: reg, Chain: enrich.DefaultChain(time.Now, []byte("bench-key")), Firehose: ew, Failed: fw,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(*procs))
	defer debug.SetGCPercent(debug.SetGCPercent(*gogc))
	type shape struct {
		name     string
		records  int
		asIngest bool
	}
	var shapes []shape
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-records: %q is not a positive number", s)
		}
		if n == 100 {
			shapes = append(shapes, shape{"kinesis-100.json", 100, false})
		}
		shapes = append(shapes, shape{fmt.Sprintf("kinesis-100.json as %d ingest records", n), n, true})
	}
	for _, s := range shapes {
		batch, err := enrich.WorkloadBatch(src, s.records, s.asIngest)
		if err != nil {
			return err
		}
		payload := src // the file's own bytes when it is used as it is
		if s.records != 100 || s.asIngest {
			if payload, err = json.Marshal(batch); err != nil {
				return err
			}
		}
		var out []byte
		var herr error
		run := func() { out, herr = h.Invoke(context.Background(), payload) }
		best, allocs := bestOf(*reps, run)
		if herr != nil {
			return herr
		}
		if string(out) != `{"batchItemFailures":[]}` {
			return fmt.Errorf("%s: the batch was not written whole: %.300s", s.name, out)
		}
		sec := best.Seconds()
		fmt.Printf("impl=firelane work=enrich input=%q records=%d bytes=%d procs=%d gogc=%d best_ms=%.2f records_per_s=%.0f mb_per_s=%.1f allocs_per_record=%.1f at=%s\n",
			s.name, s.records, len(payload), *procs, *gogc, sec*1000, float64(s.records)/sec, float64(len(payload))/sec/1e6, allocs/float64(s.records),
			time.Now().UTC().Format("15:04:05"))
	}
	return nil
}
