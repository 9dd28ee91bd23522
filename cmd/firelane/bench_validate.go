package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/firelane/firelane/internal/schema"
)

func init() {
	benchmarks["validate"] = benchValidate
}

// benchValidate times the edge's validation of every line of an NDJSON file the way the peers in
// ../shared/peers do: the timed unit is the whole call the edge makes per event (parse, envelope,
// data schema), the figure is the best of several repetitions after a warm-up, and the output is
// one key=value line.
func benchValidate(args []string) error {
	fs := flag.NewFlagSet("bench validate", flag.ContinueOnError)
	schemas := fs.String("schemas", filepath.Join("..", "shared", "workload", "schemas"), "schema directory")
	validator := fs.String("validator", string(schema.ValidatorFast), `validator to time: "fast" or "v5"`)
	reps := fs.Int("reps", 5, "timed repetitions after one warm-up; the best one is reported")
	procs := fs.Int("procs", 1, "GOMAXPROCS while timing (the peers' figures are for one core)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: firelane bench validate [-schemas DIR] [-validator fast|v5] [-reps N] FILE.ndjson\n\n"+
			"Validates every line of FILE as one CloudEvent with Registry.ValidateJSON and prints\n"+
			"impl=firelane work=validate input=... events=... valid=... bytes=... best_ms=... events_per_s=... mb_per_s=...\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *reps < 1 {
		fs.Usage()
		return fmt.Errorf("want one NDJSON file and -reps of at least 1")
	}
	file := fs.Arg(0)
	reg, err := schema.LoadDir(*schemas)
	if err != nil {
		return err
	}
	if err := reg.SetValidator(schema.Validator(*validator)); err != nil {
		return err
	}
	text, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read events: %w", err)
	}
	var lines [][]byte
	for _, l := range bytes.Split(text, []byte("\n")) {
		if len(bytes.TrimSpace(l)) > 0 {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return fmt.Errorf("%s holds no events", file)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(*procs))
	runtime.GC()
	debug.FreeOSMemory()
	best := time.Duration(1<<63 - 1)
	valid := 0
	for r := 0; r <= *reps; r++ {
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
