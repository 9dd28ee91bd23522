package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/bench/workload"
	"github.com/firelane/firelane/internal/ingest"
	"github.com/firelane/firelane/internal/schema"
)

// IngestOptions says what [Ingest] measures.
type IngestOptions struct {
	Workload   string   // folder of the shared workload (schemas/ and out/)
	Validators []string // validators to time: fast, v5
	Reps       int      // timed repetitions after one warm-up; the best counts
	Procs      int      // GOMAXPROCS while timing (the peers' figures are for one core)
	Peers      string   // the peers' run.sh (../shared/peers/run.sh) to run right after; empty runs none
}

// Ingest measures the edge on the shared workload and prints one key=value line per figure: the
// per-event work (parse, envelope, data validation with bounded error collection) on
// events.ndjson, whole invocations (payload bytes in, answer bytes out) on apigw-batch-500.json,
// and the stage's core alone on the same request ([ingest.Handler.Serve]). With Peers it then
// runs the peers' script, so that both are taken in the same minute.
func Ingest(o IngestOptions) error {
	if o.Reps < 1 {
		return fmt.Errorf("reps must be at least 1")
	}
	text, err := os.ReadFile(filepath.Join(o.Workload, "out", "events.ndjson"))
	if err != nil {
		return fmt.Errorf("read events: %w", err)
	}
	lines := workload.Lines(text)
	payload, err := os.ReadFile(filepath.Join(o.Workload, "out", "apigw-batch-500.json"))
	if err != nil {
		return fmt.Errorf("read API request: %w", err)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(o.Procs))
	for _, v := range o.Validators {
		reg, err := schema.LoadDir(filepath.Join(o.Workload, "schemas"))
		if err != nil {
			return err
		}
		if err := reg.SetValidator(schema.Validator(strings.TrimSpace(v))); err != nil {
			return err
		}
		valid := 0
		best, allocs := BestOf(o.Reps, func() {
			valid = 0
			for _, l := range lines {
				if reg.ValidateJSON(l, ingest.DefaultConfig.MaxErrors).Valid() {
					valid++
				}
			}
		})
		printLine("validate", v, "events.ndjson", len(lines), valid, len(text), best, allocs)

		kw, err := awsbatch.NewKinesisWriter(AckingKinesis{}, "events", awsbatch.DefaultRetry)
		if err != nil {
			return err
		}
		h := &ingest.Handler{Registry: reg, Kinesis: kw, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}
		var out []byte
		var herr error
		best, allocs = BestOf(o.Reps, func() { out, herr = h.Invoke(context.Background(), payload) })
		if herr != nil {
			return herr
		}
		if !bytes.Contains(out, []byte(`"statusCode":200`)) {
			return fmt.Errorf("the 500-event request was not answered 200: %.300s", out)
		}
		printLine("handle", v, "apigw-batch-500.json", 500, 500, len(payload), best, allocs)

		// The core alone, on the same request decoded once: the handle line less the adapter's
		// decoding of the payload and encoding of the response.
		api, err := workload.APIRequest(payload)
		if err != nil {
			return err
		}
		req := ingest.RequestFromREST(&api)
		var res ingest.Outcome
		best, allocs = BestOf(o.Reps, func() { res = h.Serve(context.Background(), &req) })
		if res.Status != 200 || res.Events == nil || res.Events.Accepted != 500 {
			return fmt.Errorf("the 500-event request was not answered 200 by the core: %d %.300s", res.Status, res.Body)
		}
		printLine("serve", v, "apigw-batch-500.json", 500, 500, len(payload), best, allocs)
	}
	if o.Peers != "" {
		cmd := exec.Command("bash", o.Peers)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		fmt.Printf("# %s, started %s\n", o.Peers, time.Now().UTC().Format(time.RFC3339))
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
