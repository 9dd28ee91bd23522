package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/firelane/firelane/internal/bench/workload"
	"github.com/firelane/firelane/internal/schema"
)

// ValidateOptions says what [Validate] measures.
type ValidateOptions struct {
	Schemas   string           // schema directory
	Validator schema.Validator // "fast" or "v5"
	Reps      int              // timed repetitions after one warm-up; the best one is reported
	Procs     int              // GOMAXPROCS while timing (the peers' figures are for one core)
	File      string           // NDJSON events, one CloudEvent a line
}

// Validate times the edge's validation of every line of an NDJSON file the way the peers in
// ../shared/peers do: the timed unit is the whole call the edge makes per event (parse, envelope,
// data schema), the figure is the best of several repetitions after a warm-up, and the output is
// one key=value line.
func Validate(o ValidateOptions) error {
	if o.Reps < 1 {
		return fmt.Errorf("reps must be at least 1")
	}
	file := o.File
	reg, err := schema.LoadDir(o.Schemas)
	if err != nil {
		return err
	}
	if err := reg.SetValidator(o.Validator); err != nil {
		return err
	}
	text, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read events: %w", err)
	}
	lines := workload.Lines(text)
	if len(lines) == 0 {
		return fmt.Errorf("%s holds no events", file)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(o.Procs))
	runtime.GC()
	debug.FreeOSMemory()
	best := time.Duration(1<<63 - 1)
	valid := 0
	for r := 0; r <= o.Reps; r++ {
		start := time.Now()
		valid = 0
		for _, l := range lines {
			if reg.ValidateJSON(l, 10).Valid() {
				valid++
			}
		}
		if d := time.Since(start); r > 0 && d < best {
			best = d
		}
	}
	sec := best.Seconds()
	fmt.Printf("impl=firelane work=validate input=%s events=%d valid=%d bytes=%d best_ms=%.1f events_per_s=%.0f mb_per_s=%.1f\n",
		filepath.Base(file), len(lines), valid, len(text), sec*1000, float64(len(lines))/sec, float64(len(text))/sec/1e6)
	return nil
}
