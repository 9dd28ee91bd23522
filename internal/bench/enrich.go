package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/bench/workload"
	"github.com/firelane/firelane/internal/enrich"
)

// EnrichOptions says what [Enrich] measures.
type EnrichOptions struct {
	Workload string // folder of the shared workload (schemas/ and out/)
	Reps     int    // timed repetitions after one warm-up; the best counts
	Procs    int    // GOMAXPROCS while timing
	GOGC     int    // garbage collector target while timing (functions/enrich sets enrich.GCPercent)
	Records  []int  // batch sizes to time
}

// Enrich times whole enrich invocations (payload bytes in, response bytes out) with every
// enrichment on, and prints one key=value line per batch shape: kinesis-100.json as it is (bare
// CloudEvents), the same records as ingest records (server context with repeating user agents and
// source IPs), and larger batches of ingest records built from them.
func Enrich(o EnrichOptions) error {
	if o.Reps < 1 {
		return fmt.Errorf("reps must be at least 1")
	}
	src, err := os.ReadFile(filepath.Join(o.Workload, "out", "kinesis-100.json"))
	if err != nil {
		return fmt.Errorf("read workload: %w", err)
	}
	reg, err := workload.Registry(filepath.Join(o.Workload, "schemas"))
	if err != nil {
		return err
	}
	ew, err := awsbatch.NewFirehoseWriter(AckingFirehose{}, "events", awsbatch.DefaultRetry)
	if err != nil {
		return err
	}
	fw, err := awsbatch.NewFirehoseWriter(AckingFirehose{}, "failed-events", awsbatch.DefaultRetry)
	if err != nil {
		return err
	}
	h := &enrich.Handler{Registry: reg, Chain: enrich.DefaultChain(time.Now, []byte("bench-key")), Firehose: ew, Failed: fw,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(o.Procs))
	defer debug.SetGCPercent(debug.SetGCPercent(o.GOGC))
	type shape struct {
		name     string
		records  int
		asIngest bool
	}
	var shapes []shape
	for _, n := range o.Records {
		if n < 1 {
			return fmt.Errorf("records: %d is not a positive number", n)
		}
		if n == 100 {
			shapes = append(shapes, shape{"kinesis-100.json", 100, false})
		}
		shapes = append(shapes, shape{fmt.Sprintf("kinesis-100.json as %d ingest records", n), n, true})
	}
	for _, s := range shapes {
		batch, err := workload.KinesisBatch(src, s.records, s.asIngest)
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
		best, allocs := BestOf(o.Reps, run)
		if herr != nil {
			return herr
		}
		if string(out) != `{"batchItemFailures":[]}` {
			return fmt.Errorf("%s: the batch was not written whole: %.300s", s.name, out)
		}
		sec := best.Seconds()
		fmt.Printf("impl=firelane work=enrich input=%q records=%d bytes=%d procs=%d gogc=%d best_ms=%.2f records_per_s=%.0f mb_per_s=%.1f allocs_per_record=%.1f at=%s\n",
			s.name, s.records, len(payload), o.Procs, o.GOGC, sec*1000, float64(s.records)/sec, float64(len(payload))/sec/1e6, allocs/float64(s.records),
			time.Now().UTC().Format("15:04:05"))
	}
	return nil
}
