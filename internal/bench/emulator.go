package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/firelane/firelane/internal/localaws/lambda"
)

// EmulatorOptions says what [TransformUnderEmulator] measures.
type EmulatorOptions struct {
	Root    string // the repository root, where go.mod is
	Payload string // the Firehose event to invoke with
	Rounds  int    // measured rounds, each one invocation of each function and one in-process
	Warmup  int    // rounds before those, discarded (the first one carries each function's start-up)
	Procs   int    // GOMAXPROCS of both functions
	// Pin places the emulators (and this process, their client) on one core and both functions
	// and the in-process timer on another, with taskset, when the machine has two cores or more
	// and taskset is installed; [EmulatorFigures.Placement] says what was done.
	Pin bool
	// Env is added to the transform function's environment (GODEBUG=gctrace=1, GOGC=off, say).
	Env map[string]string
}

// EmulatorFigures are one measurement's samples, in milliseconds, one per measured round; the
// rounds alternate the two functions' order, so that each sees the machine as the other does.
type EmulatorFigures struct {
	// Transform and Replay are the Durations the emulator reported for the transform and for the
	// replay function: what Lambda bills.
	Transform, Replay []float64
	// Handler is the transform's HandlerTime, from its own summary line: the time inside
	// Handler.Invoke, without the Runtime API.
	Handler []float64
	// InProcess is the same payload through the same handler, as `firelane bench transform` times
	// it, taken in the same rounds in a process of its own (package inprocess beside this one)
	// started on the functions' core.
	InProcess []float64
	// TransformCPU and ReplayCPU are the time each function's process ran on a core during an
	// invocation (the scheduler's statistics of its threads, on Linux); InProcessCPU is the
	// in-process invocation's thread time. Unlike durations, they leave out the time spent
	// waiting for a core that other work holds.
	TransformCPU, ReplayCPU, InProcessCPU []float64
	// TransformPreempted and ReplayPreempted count the times the scheduler took the core from a
	// function's threads while they could run, in each invocation.
	TransformPreempted, ReplayPreempted []float64
	// TransformGCs and ReplayGCs count the collections each function ran in the measured rounds
	// (from GODEBUG=gctrace=1, which the measurement sets unless Env sets GODEBUG); -1 when
	// unknown.
	TransformGCs, ReplayGCs int
	// Placement says where the processes ran: "emulator=cpu0 function=cpu1" or why not pinned.
	Placement string
}

// Work is the transform's own work: the median of its Durations minus the median of the replay
// function's, which receives the same payload and sends the same response bytes without work.
func (f EmulatorFigures) Work() float64 { return median(f.Transform) - median(f.Replay) }

// BestWork is the best Duration of the transform minus the best of the replay function.
func (f EmulatorFigures) BestWork() float64 { return slices.Min(f.Transform) - slices.Min(f.Replay) }

// TransformUnderEmulator builds the transform's bootstrap, the replay function (package replay
// beside this one) and the in-process timer (package inprocess) as sam build does for this machine,
// runs each function under its own Runtime Interface Emulator and, round after round, times the
// handler once in-process and invokes each function once with the payload. It reads the Duration of
// every invocation from the emulator's REPORT lines: what Lambda bills. The replay function answers
// with the bytes the transform answers, so that the difference of the two is the transform's own
// work, without the cost of moving the payload and the response through the Runtime API.
func TransformUnderEmulator(ctx context.Context, o EmulatorOptions) (EmulatorFigures, error) {
	var fig EmulatorFigures
	if o.Rounds < 1 || o.Warmup < 1 {
		return fig, fmt.Errorf("want at least one round and one warm-up round")
	}
	payload, err := os.ReadFile(o.Payload)
	if err != nil {
		return fig, fmt.Errorf("read payload: %w", err)
	}
	dir, err := os.MkdirTemp("", "firelane-bench-emulator-*")
	if err != nil {
		return fig, err
	}
	defer os.RemoveAll(dir)
	h := quietTransform()
	response, err := h.Invoke(ctx, payload)
	if err != nil {
		return fig, fmt.Errorf("transform the payload in-process: %w", err)
	}
	response = slices.Clone(response) // the handler reuses its response buffer
	responseFile := filepath.Join(dir, "response.json")
	if err := os.WriteFile(responseFile, response, 0o644); err != nil {
		return fig, err
	}
	rie, err := lambda.BuildEmulator(ctx, o.Root, dir)
	if err != nil {
		return fig, err
	}
	place := placement(o.Pin)
	fig.Placement = place.String()
	if place.pinned {
		if rie, err = wrapper(rie, place.emulator, nil, filepath.Join(dir, "aws-lambda-rie-pinned")); err != nil {
			return fig, err
		}
	}
	type function struct {
		pkg  string
		env  map[string]string
		logs *lineBuffer
		in   *lambda.Instance
	}
	fns := []*function{
		{pkg: "./functions/transform", env: o.Env},
		{pkg: "./internal/bench/replay", env: map[string]string{"REPLAY_RESPONSE": responseFile}},
	}
	defer func() {
		for _, f := range fns {
			f.in.Stop()
		}
	}()
	for _, f := range fns {
		fdir := filepath.Join(dir, filepath.Base(f.pkg))
		boot, err := lambda.Build(ctx, o.Root, f.pkg, fdir)
		if err != nil {
			return fig, err
		}
		// The function's settings go to the function alone, through a script that starts it: the
		// emulator is a Go program too, and GOMAXPROCS, GOGC or GODEBUG would change it as well.
		// gctrace writes a line per collection, which is how the figures count them.
		env := map[string]string{"GOMAXPROCS": strconv.Itoa(o.Procs), "LOG_LEVEL": "info", "GODEBUG": "gctrace=1"}
		for k, v := range f.env {
			env[k] = v
		}
		cpu := -1
		if place.pinned {
			cpu = place.function
		}
		if boot, err = wrapper(boot, cpu, env, filepath.Join(fdir, "bootstrap-wrapper")); err != nil {
			return fig, err
		}
		f.logs = &lineBuffer{}
		if f.in, err = lambda.Start(ctx, lambda.Config{Emulator: rie, Bootstrap: boot, Name: filepath.Base(f.pkg), Logs: f.logs}); err != nil {
			return fig, err
		}
	}
	// The in-process figure comes from a process of its own, started as the functions are.
	ipdir := filepath.Join(dir, "inprocess")
	ipboot, err := lambda.Build(ctx, o.Root, "./internal/bench/inprocess", ipdir)
	if err != nil {
		return fig, err
	}
	cpu := -1
	if place.pinned {
		cpu = place.function
	}
	if ipboot, err = wrapper(ipboot, cpu, map[string]string{"GOMAXPROCS": strconv.Itoa(o.Procs)}, filepath.Join(ipdir, "inprocess-wrapper")); err != nil {
		return fig, err
	}
	child := &inProcessChild{cmd: exec.CommandContext(ctx, ipboot, o.Payload)}
	child.cmd.Stderr = os.Stderr
	if child.in, err = child.cmd.StdinPipe(); err != nil {
		return fig, err
	}
	stdout, err := child.cmd.StdoutPipe()
	if err != nil {
		return fig, err
	}
	child.out = bufio.NewScanner(stdout)
	if err := child.cmd.Start(); err != nil {
		return fig, fmt.Errorf("start the in-process child: %w", err)
	}
	defer child.stop()
	if place.pinned {
		// This process, the emulators' client, stays off the functions' core; it gets the
		// cores it had back at the end.
		if err := pinProcess(place.emulator); err != nil {
			return fig, err
		}
		defer func() { _ = pinProcess(place.allowed...) }()
	}
	// Each invocation starts with this process's garbage collected, so that its collector, which
	// the megabytes of each answer wake, does not run beside a function: the functions themselves
	// collect nothing between warm invocations (see TransformGCs).
	invoke := func(f *function) (cpu float64, preempted int, err error) {
		runtime.GC()
		pid := f.in.FunctionPID()
		cpu0, pre0 := cpuTime(pid)
		res, err := f.in.Invoke(ctx, payload)
		cpu1, pre1 := cpuTime(pid)
		if err == nil && res.Err != nil {
			err = res.Err
		}
		if err == nil && !bytes.Equal(res.Payload, response) {
			err = fmt.Errorf("answered %d bytes, not the %d bytes of the in-process transform", len(res.Payload), len(response))
		}
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", f.pkg, err)
		}
		return cpu1 - cpu0, pre1 - pre0, nil
	}
	inProcess := func() (ms, cpu float64, err error) {
		runtime.GC()
		return child.time()
	}
	total := o.Warmup + o.Rounds
	for r := range total {
		ms, cpu, err := inProcess()
		if err != nil {
			return fig, err
		}
		first, second := 0, 1
		if r%2 == 1 {
			first, second = 1, 0
		}
		var run [2]float64
		var pre [2]int
		if run[first], pre[first], err = invoke(fns[first]); err != nil {
			return fig, err
		}
		if run[second], pre[second], err = invoke(fns[second]); err != nil {
			return fig, err
		}
		if r >= o.Warmup {
			fig.InProcess = append(fig.InProcess, ms)
			fig.InProcessCPU = append(fig.InProcessCPU, cpu)
			fig.TransformCPU = append(fig.TransformCPU, run[0])
			fig.ReplayCPU = append(fig.ReplayCPU, run[1])
			fig.TransformPreempted = append(fig.TransformPreempted, float64(pre[0]))
			fig.ReplayPreempted = append(fig.ReplayPreempted, float64(pre[1]))
		}
	}
	// The emulator writes a REPORT line before it answers, but its output reaches the buffer
	// through a pipe: give the last one time to arrive.
	deadline := time.Now().Add(2 * time.Second)
	for _, f := range fns {
		for len(f.logs.floats(reportDuration)) < total && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	for _, f := range fns {
		f.in.Stop()
		f.in = nil
	}
	var ok bool
	if fig.Transform, ok = measured(fns[0].logs.floats(reportDuration), total, o.Warmup); !ok {
		return fig, fmt.Errorf("%s: the emulator reported %d durations for %d invocations", fns[0].pkg, len(fns[0].logs.floats(reportDuration)), total)
	}
	if fig.Replay, ok = measured(fns[1].logs.floats(reportDuration), total, o.Warmup); !ok {
		return fig, fmt.Errorf("%s: the emulator reported %d durations for %d invocations", fns[1].pkg, len(fns[1].logs.floats(reportDuration)), total)
	}
	fig.TransformGCs, fig.ReplayGCs = fns[0].logs.collections(o.Warmup), fns[1].logs.collections(o.Warmup)
	if fig.Handler, ok = measured(fns[0].logs.floats(handlerTime), total, o.Warmup); !ok {
		return fig, fmt.Errorf("%s: %d summary lines with a HandlerTime for %d invocations", fns[0].pkg, len(fns[0].logs.floats(handlerTime)), total)
	}
	return fig, nil
}

// ServeInProcess times the transform's handler on the Firehose event in path once per line read
// from r, and writes each invocation's wall time and the CPU time of its thread, in milliseconds,
// as "WALL CPU" on a line of w. It is the loop of package inprocess beside this one.
func ServeInProcess(path string, r io.Reader, w io.Writer) error {
	payload, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	h := quietTransform()
	runtime.LockOSThread() // for the thread's CPU time
	defer runtime.UnlockOSThread()
	in := bufio.NewScanner(r)
	for in.Scan() {
		cpu0, start := threadCPUTime(), time.Now()
		if _, err := h.Invoke(context.Background(), payload); err != nil {
			return err
		}
		wall, cpu := time.Since(start).Seconds()*1000, threadCPUTime()-cpu0
		if _, err := fmt.Fprintf(w, "%.4f %.4f\n", wall, cpu); err != nil {
			return err
		}
	}
	return in.Err()
}

// inProcessChild is a running [ServeInProcess].
type inProcessChild struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

// time runs one invocation and reads its times.
func (c *inProcessChild) time() (wall, cpu float64, err error) {
	if _, err := io.WriteString(c.in, "\n"); err != nil {
		return 0, 0, fmt.Errorf("in-process child: %w", err)
	}
	if !c.out.Scan() {
		return 0, 0, fmt.Errorf("in-process child stopped: %v", c.out.Err())
	}
	if _, err := fmt.Sscanf(c.out.Text(), "%g %g", &wall, &cpu); err != nil {
		return 0, 0, fmt.Errorf("in-process child wrote %q: %w", c.out.Text(), err)
	}
	return wall, cpu, nil
}

func (c *inProcessChild) stop() {
	if c == nil {
		return
	}
	c.in.Close()
	_ = c.cmd.Wait()
}

// measured drops the warm-up samples of all, which must hold total.
func measured(all []float64, total, warmup int) ([]float64, bool) {
	if len(all) != total {
		return nil, false
	}
	return all[warmup:], true
}

var (
	reportDuration = regexp.MustCompile(`REPORT RequestId: \S+\s+(?:Init Duration: [0-9.]+ ms\s+)?Duration: ([0-9.]+) ms`)
	handlerTime    = regexp.MustCompile(`"HandlerTime":([0-9.]+)`)
	gcLine         = regexp.MustCompile(`(?m)^gc \d+ @`)
	shellName      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// cpuPlacement is where the emulator and the functions run.
type cpuPlacement struct {
	pinned             bool
	emulator, function int
	allowed            []int  // the cores this process had
	why                string // why not pinned
}

func (p cpuPlacement) String() string {
	if !p.pinned {
		return "unpinned (" + p.why + ")"
	}
	return fmt.Sprintf("emulator=cpu%d function=cpu%d", p.emulator, p.function)
}

// placement picks the last two cores this process may run on: the emulator on the first of them,
// the functions and the in-process invocations on the second, so that the emulator's own work
// (it copies the payload and the response, and collects its garbage) does not take the function's
// core.
func placement(pin bool) cpuPlacement {
	if !pin {
		return cpuPlacement{why: "not asked"}
	}
	cpus := allowedCPUs()
	if len(cpus) < 2 {
		return cpuPlacement{why: fmt.Sprintf("%d core allowed", len(cpus))}
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		return cpuPlacement{why: "no taskset"}
	}
	return cpuPlacement{pinned: true, emulator: cpus[len(cpus)-2], function: cpus[len(cpus)-1], allowed: cpus}
}

// wrapper writes a script at path that runs the program at target with env added to its
// environment and, unless cpu is negative, on that core alone with taskset; it returns path. The
// script execs, so that the process is the program's.
func wrapper(target string, cpu int, env map[string]string, path string) (string, error) {
	abs, err := filepath.Abs(target)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if !shellName.MatchString(k) {
			return "", fmt.Errorf("%q is not a variable name", k)
		}
		fmt.Fprintf(&b, "export %s=%s\n", k, shellQuote(env[k]))
	}
	b.WriteString("exec ")
	if cpu >= 0 {
		fmt.Fprintf(&b, "taskset -c %d ", cpu)
	}
	fmt.Fprintf(&b, "%s \"$@\"\n", shellQuote(abs))
	if err := os.WriteFile(path, []byte(b.String()), 0o755); err != nil {
		return "", err
	}
	return path, nil
}

// shellQuote quotes s for sh: in single quotes, each single quote closed, escaped and reopened.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// lineBuffer keeps what the emulator writes, for its REPORT lines and the function's summaries.
type lineBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// collections counts the garbage collections gctrace reported after the first warmup REPORT
// lines, or -1 when gctrace reported none at all (it was not on).
func (b *lineBuffer) collections(warmup int) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.Bytes()
	if !gcLine.Match(s) {
		return -1
	}
	for range warmup {
		loc := reportDuration.FindIndex(s)
		if loc == nil {
			return -1
		}
		s = s[loc[1]:]
	}
	return len(gcLine.FindAllIndex(s, -1))
}

// floats returns the first group of every match of re, as numbers.
func (b *lineBuffer) floats(re *regexp.Regexp) []float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []float64
	for _, m := range re.FindAllSubmatch(b.buf.Bytes(), -1) {
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		out = append(out, v)
	}
	return out
}

func median(v []float64) float64 { return quantile(v, 0.5) }

// quantile is the q-quantile of v, interpolated between the two nearest samples; 0 when v is empty.
func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	pos := q * float64(len(s)-1)
	i := int(pos)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + (pos-float64(i))*(s[i+1]-s[i])
}
