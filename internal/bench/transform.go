package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/firelane/firelane/internal/transform"
)

// TransformOptions says what [Transform] measures.
type TransformOptions struct {
	Files []string // Firehose events to time; the last one also makes the 6 MB invocation
	Reps  int      // timed repetitions per file, after one warm-up; the best counts
	Procs int      // GOMAXPROCS: a Firehose transform has at most one vCPU at 128-1,024 MB
	Peers string   // folder of the peers (../shared/peers) to run in the same minute; empty runs none
	// Emulator, when set, also measures the last file under the Runtime Interface Emulator (see
	// [TransformUnderEmulator]) from the repository at Root.
	Emulator        bool
	Root            string
	EmulatorRounds  int               // measured rounds, after 5 discarded
	EmulatorEnv     map[string]string // added to the transform function's environment
	EmulatorPin     bool              // the emulator on one core, the functions on another (see [EmulatorOptions])
	EmulatorSamples string            // when set, the file the rounds' samples are written to, as CSV
	// PeakCommand returns the command that runs [PeakChild] on a payload file in a fresh process
	// (the CLI runs itself), so that the peak memory is the invocation's alone.
	PeakCommand func(payloadFile string) *exec.Cmd
}

// Transform measures the transform as Lambda bills it: one invocation is the payload's bytes in
// and the response's bytes out. It prints one line per workload file in the peers' format, the
// peak memory of a 6 MB invocation measured in a fresh process, and, with Peers, the transform
// peers' lines from the same minute with the speed-ups.
func Transform(o TransformOptions) error {
	runtime.GOMAXPROCS(o.Procs)
	files := o.Files
	fmt.Printf("# %s, GOMAXPROCS=%d, %d CPUs, load average %s\n", runtime.Version(), o.Procs, runtime.NumCPU(), LoadAverage())
	best := map[string]time.Duration{}
	for _, f := range files {
		d, err := benchFile(f, o.Reps)
		if err != nil {
			return err
		}
		best[filepath.Base(f)] = d
	}
	if o.PeakCommand != nil {
		if err := benchPeak(files[len(files)-1], o.PeakCommand); err != nil {
			return err
		}
	}
	if o.Emulator {
		last := files[len(files)-1]
		fig, err := TransformUnderEmulator(context.Background(), EmulatorOptions{Root: o.Root, Payload: last, Rounds: o.EmulatorRounds, Warmup: 5, Procs: o.Procs, Pin: o.EmulatorPin, Env: o.EmulatorEnv})
		if err != nil {
			return err
		}
		printEmulator(filepath.Base(last), fig)
		if o.EmulatorSamples != "" {
			if err := writeSamples(o.EmulatorSamples, fig); err != nil {
				return err
			}
		}
	}
	if o.Peers != "" {
		return runPeers(o.Peers, files[len(files)-1], best[filepath.Base(files[len(files)-1])])
	}
	return nil
}

// printEmulator prints the figures of [TransformUnderEmulator] in one line: medians and bests of
// each series; the transform's work (its Duration minus the replay function's) against the
// in-process time of the same rounds, with the spread of the per-round work; the transform's
// Duration outside its handler, to set beside the replay's; CPU times and preemptions;
// collections.
func printEmulator(input string, fig EmulatorFigures) {
	work := make([]float64, len(fig.Transform))
	outside := make([]float64, len(fig.Transform))
	for i := range work {
		work[i] = fig.Transform[i] - fig.Replay[i]
		outside[i] = fig.Transform[i] - fig.Handler[i]
	}
	fmt.Printf("firelane=transform input=%s emulator_rounds=%d placement=%q "+
		"transform_median_ms=%.2f transform_best_ms=%.2f replay_median_ms=%.2f replay_best_ms=%.2f handler_median_ms=%.2f handler_best_ms=%.2f transform_outside_handler_median_ms=%.2f "+
		"work_median_ms=%.2f work_best_ms=%.2f work_p25_p75_ms=%.2f-%.2f in_process_median_ms=%.2f in_process_best_ms=%.2f "+
		"work_over_in_process_median=%.2f work_over_in_process_best=%.2f "+
		"transform_cpu_median_ms=%.2f replay_cpu_median_ms=%.2f work_cpu_median_ms=%.2f in_process_cpu_median_ms=%.2f work_cpu_over_in_process_cpu=%.2f transform_preempted_median=%.0f replay_preempted_median=%.0f transform_gcs=%d replay_gcs=%d\n",
		input, len(fig.Transform), fig.Placement,
		median(fig.Transform), slices.Min(fig.Transform), median(fig.Replay), slices.Min(fig.Replay), median(fig.Handler), slices.Min(fig.Handler), median(outside),
		fig.Work(), fig.BestWork(), quantile(work, 0.25), quantile(work, 0.75), median(fig.InProcess), slices.Min(fig.InProcess),
		fig.Work()/median(fig.InProcess), fig.BestWork()/slices.Min(fig.InProcess),
		median(fig.TransformCPU), median(fig.ReplayCPU), median(fig.TransformCPU)-median(fig.ReplayCPU), median(fig.InProcessCPU),
		(median(fig.TransformCPU)-median(fig.ReplayCPU))/median(fig.InProcessCPU), median(fig.TransformPreempted), median(fig.ReplayPreempted), fig.TransformGCs, fig.ReplayGCs)
}

// writeSamples writes one CSV row per measured round of fig, in milliseconds but for the counts.
func writeSamples(path string, fig EmulatorFigures) error {
	var b strings.Builder
	b.WriteString("round,transform_ms,replay_ms,handler_ms,in_process_ms,transform_cpu_ms,replay_cpu_ms,in_process_cpu_ms,transform_preempted,replay_preempted\n")
	for i := range fig.Transform {
		fmt.Fprintf(&b, "%d,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.0f,%.0f\n", i, fig.Transform[i], fig.Replay[i], fig.Handler[i], fig.InProcess[i],
			fig.TransformCPU[i], fig.ReplayCPU[i], fig.InProcessCPU[i], fig.TransformPreempted[i], fig.ReplayPreempted[i])
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// quietTransform is the handler as functions/transform configures it, logging nowhere.
func quietTransform() *transform.Handler {
	return &transform.Handler{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), ReuseResponse: true}
}

func benchFile(path string, reps int) (time.Duration, error) {
	payload, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read workload (run from the repository root, with ../shared beside it): %w", err)
	}
	h := quietTransform()
	ctx := context.Background()
	out, err := h.Invoke(ctx, payload)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	var resp struct {
		Records []struct {
			Result string `json:"result"`
		} `json:"records"`
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		return 0, fmt.Errorf("%s: response: %w", path, err)
	}
	ok := 0
	for _, r := range resp.Records {
		if r.Result == transform.ResultOk {
			ok++
		}
	}
	n := len(resp.Records)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	best := time.Duration(1<<63 - 1)
	for range reps {
		start := time.Now()
		if _, err := h.Invoke(ctx, payload); err != nil {
			return 0, err
		}
		best = min(best, time.Since(start))
	}
	runtime.ReadMemStats(&after)
	fmt.Printf("firelane=transform input=%s records=%d ok=%d payload_bytes=%d response_bytes=%d best_ms=%.2f records_per_s=%.0f mb_per_s=%.1f allocs_per_record=%.4f\n",
		filepath.Base(path), n, ok, len(payload), len(out), best.Seconds()*1000, float64(n)/best.Seconds(),
		float64(len(payload))/best.Seconds()/1e6, float64(after.Mallocs-before.Mallocs)/float64(reps*max(n, 1)))
	return best, nil
}

// benchPeak builds an invocation of about 6 MB from the records of path and measures, in a fresh
// process, the peak resident memory of receiving it and invoking the handler on it three times:
// what Lambda reports as Max Memory Used.
func benchPeak(path string, command func(string) *exec.Cmd) error {
	payload, records, err := sixMegabytes(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp("", "firelane-6mb-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(payload); err != nil {
		return err
	}
	tmp.Close()
	cmd := command(tmp.Name())
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("peak memory child: %w", err)
	}
	fmt.Printf("firelane=transform input=%s records=%d payload_bytes=%d %s", "6mb-invocation", records, len(payload), out)
	return nil
}

// sixMegabytes repeats the records of the Firehose event in path, with fresh ids, until the
// event is as large as it can be under 6,000,000 bytes.
func sixMegabytes(path string) ([]byte, int, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	var ev struct {
		InvocationID      string            `json:"invocationId"`
		DeliveryStreamArn string            `json:"deliveryStreamArn"`
		Region            string            `json:"region"`
		Records           []json.RawMessage `json:"records"`
	}
	if err := json.Unmarshal(src, &ev); err != nil || len(ev.Records) == 0 {
		return nil, 0, fmt.Errorf("%s is not a Firehose event with records: %v", path, err)
	}
	idPattern := regexp.MustCompile(`"recordId":\s*"[^"]*"`)
	var body bytes.Buffer
	size, n := 200, 0
	for i := 0; ; i++ {
		rec := idPattern.ReplaceAll(ev.Records[i%len(ev.Records)], []byte(fmt.Sprintf(`"recordId":"%056d"`, i)))
		if size+len(rec)+1 > 6_000_000 {
			break
		}
		if n > 0 {
			body.WriteByte(',')
		}
		body.Write(rec)
		size += len(rec) + 1
		n++
	}
	payload := fmt.Sprintf(`{"invocationId":%q,"deliveryStreamArn":%q,"region":%q,"records":[%s]}`, ev.InvocationID, ev.DeliveryStreamArn, ev.Region, body.Bytes())
	return []byte(payload), n, nil
}

// PeakChild invokes the transform three times on the payload in path and prints the response size,
// the best duration and the process's peak resident memory (VmHWM): what Lambda reports as Max
// Memory Used. It is meant to run alone in a fresh process.
func PeakChild(path string) error {
	payload, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	// The response of a full 6 MB invocation exceeds the limit: the overflow goes to a Firehose
	// that acknowledges every record, as a healthy delivery stream does.
	h := quietTransform()
	h.Firehose = AckingFirehose{}
	var outBytes int
	best := time.Duration(1<<63 - 1)
	for range 3 {
		start := time.Now()
		out, err := h.Invoke(context.Background(), payload)
		if err != nil {
			return err
		}
		best = min(best, time.Since(start))
		outBytes = len(out)
	}
	hwm := "unknown"
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		if m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(status); m != nil {
			kb, _ := strconv.Atoi(string(m[1]))
			hwm = fmt.Sprintf("%.1f", float64(kb)/1024)
		}
	}
	fmt.Printf("response_bytes=%d best_ms=%.2f peak_rss_mb=%s (overflow re-ingested into an in-process fake)\n", outBytes, best.Seconds()*1000, hwm)
	return nil
}

var bestMS = regexp.MustCompile(`best_ms=([0-9.]+)`)

// runPeers runs the Python and Node transform peers on path and prints their lines and how many
// times faster the transform was.
func runPeers(dir, path string, ours time.Duration) error {
	for _, p := range []struct{ name, cmd, script string }{
		{"python-blueprint", "python3", "transform.py"},
		{"node-blueprint", "node", "transform.mjs"},
	} {
		out, err := exec.Command(p.cmd, filepath.Join(dir, p.script), path, "5").Output()
		if err != nil {
			fmt.Printf("peer=%s failed: %v\n", p.name, err)
			continue
		}
		line := strings.TrimSpace(string(out))
		fmt.Println(line)
		if m := bestMS.FindStringSubmatch(line); m != nil {
			ms, _ := strconv.ParseFloat(m[1], 64)
			fmt.Printf("speedup vs %s: %.1fx\n", p.name, ms/(ours.Seconds()*1000))
		}
	}
	return nil
}
