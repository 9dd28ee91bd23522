package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/firelane/firelane/internal/bench"
	"github.com/firelane/firelane/internal/bench/workload"
	"github.com/firelane/firelane/internal/enrich"
	"github.com/firelane/firelane/internal/schema"
)

// benchmarks are the `firelane bench WHAT` measurements: each parses its flags and calls package
// bench, which does the measuring.
var benchmarks = map[string]func(args []string) error{
	"enrich":    benchEnrich,
	"ingest":    benchIngest,
	"transform": benchTransform,
	"validate":  benchValidate,
}

func runBench(args []string) error {
	if len(args) == 0 || benchmarks[args[0]] == nil {
		return fmt.Errorf("usage: firelane bench {enrich|ingest|transform|validate} [ARGS]")
	}
	return benchmarks[args[0]](args[1:])
}

func benchEnrich(args []string) error {
	fs := flag.NewFlagSet("bench enrich", flag.ContinueOnError)
	dir := fs.String("workload", workload.Dir, "folder of the shared workload (schemas/ and out/)")
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
	var records []int
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-records: %q is not a positive number", s)
		}
		records = append(records, n)
	}
	return bench.Enrich(bench.EnrichOptions{Workload: *dir, Reps: *reps, Procs: *procs, GOGC: *gogc, Records: records})
}

func benchIngest(args []string) error {
	fs := flag.NewFlagSet("bench ingest", flag.ContinueOnError)
	dir := fs.String("workload", workload.Dir, "folder of the shared workload (schemas/ and out/)")
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
	var vs []string
	for _, v := range strings.Split(*validators, ",") {
		vs = append(vs, strings.TrimSpace(v))
	}
	return bench.Ingest(bench.IngestOptions{Workload: *dir, Validators: vs, Reps: *reps, Procs: *procs, Peers: *peers})
}

func benchTransform(args []string) error {
	fs := flag.NewFlagSet("bench transform", flag.ContinueOnError)
	dir := fs.String("workload", filepath.Join(workload.Dir, "out"), "folder of the shared workload's generated files")
	peers := fs.String("peers", "", "folder of the peers (../shared/peers) to run in the same minute; empty runs none")
	reps := fs.Int("reps", 10, "timed repetitions per file, after one warm-up; the best counts")
	procs := fs.Int("procs", 1, "GOMAXPROCS: a Firehose transform has at most one vCPU at 128-1,024 MB")
	emulator := fs.Bool("emulator", false, "also measure the last file under the Runtime Interface Emulator: the transform's Duration minus that of a function that returns the same bytes without work, against the in-process time, in alternated rounds")
	rounds := fs.Int("emulator-rounds", 100, "with -emulator: measured rounds (one invocation of each function and one in-process each), after 5 discarded")
	pin := fs.Bool("emulator-pin", true, "with -emulator: run the emulators on one core and the functions and the in-process invocations on another, with taskset, where there are two cores")
	samples := fs.String("emulator-samples", "", "with -emulator: write every measured round's samples to this CSV file")
	emulatorEnv := fs.String("emulator-env", "", "with -emulator: 'NAME=VALUE ...' added to the transform function's environment (GODEBUG=gctrace=1, say)")
	peak := fs.String("peak-child", "", "internal: measure the peak memory of invoking this payload file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *peak != "" {
		return bench.PeakChild(*peak)
	}
	env, err := parseEnv(*emulatorEnv)
	if err != nil {
		return fmt.Errorf("-emulator-env: %w", err)
	}
	files := fs.Args()
	if len(files) == 0 {
		files = []string{filepath.Join(*dir, "firehose-1mb.json"), filepath.Join(*dir, "firehose-3mb.json")}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	return bench.Transform(bench.TransformOptions{Files: files, Reps: *reps, Procs: *procs, Peers: *peers, Emulator: *emulator, Root: root, EmulatorRounds: *rounds, EmulatorEnv: env, EmulatorPin: *pin, EmulatorSamples: *samples,
		PeakCommand: func(payload string) *exec.Cmd {
			return exec.Command(self, "bench", "transform", "-procs", strconv.Itoa(*procs), "-peak-child", payload)
		}})
}

// envName is what a shell takes as a variable's name.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// parseEnv reads 'NAME=VALUE ...', separated by white space.
func parseEnv(s string) (map[string]string, error) {
	env := map[string]string{}
	for _, kv := range strings.Fields(s) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !envName.MatchString(k) {
			return nil, fmt.Errorf("%q is not NAME=VALUE", kv)
		}
		env[k] = v
	}
	return env, nil
}

func benchValidate(args []string) error {
	fs := flag.NewFlagSet("bench validate", flag.ContinueOnError)
	schemas := fs.String("schemas", filepath.Join(workload.Dir, "schemas"), "schema directory")
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
	return bench.Validate(bench.ValidateOptions{Schemas: *schemas, Validator: schema.Validator(*validator), Reps: *reps, Procs: *procs, File: fs.Arg(0)})
}
