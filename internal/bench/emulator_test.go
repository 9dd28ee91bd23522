package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/firelane/firelane/internal/bench/workload"
)

func TestWrapper(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	// The target prints a variable, its arguments and the cores it may run on.
	if err := os.WriteFile(target, []byte("#!/bin/sh\necho \"$FIRELANE_WRAPPED|$*|$(grep Cpus_allowed_list /proc/self/status | cut -f2)\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cpus := allowedCPUs()
	_, tasksetErr := exec.LookPath("taskset")
	tests := []struct {
		name    string
		cpu     int
		value   string
		want    string
		skipMsg string
	}{
		{"unpinned", -1, "plain", "plain|a b|", ""},
		{"a value with quotes and spaces", -1, `it's "quoted" $HOME`, `it's "quoted" $HOME|a b|`, ""},
		{"pinned", last(cpus), "x", "x|a b|" + strconv.Itoa(last(cpus)), skipUnless(len(cpus) > 0 && tasksetErr == nil, "no taskset or no core list here")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.skipMsg != "" {
				t.Skip(tc.skipMsg)
			}
			path, err := wrapper(target, tc.cpu, map[string]string{"FIRELANE_WRAPPED": tc.value}, filepath.Join(dir, "wrapped-"+strings.ReplaceAll(tc.name, " ", "-")))
			if err != nil {
				t.Fatal(err)
			}
			out, err := exec.CommandContext(t.Context(), path, "a", "b").Output()
			if err != nil {
				t.Fatal(err)
			}
			got := strings.TrimSpace(string(out))
			if tc.cpu < 0 {
				got = got[:strings.LastIndex(got, "|")+1] // the cores are this test's own
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func last(v []int) int {
	if len(v) == 0 {
		return 0
	}
	return v[len(v)-1]
}

func skipUnless(ok bool, msg string) string {
	if ok {
		return ""
	}
	return msg
}

func TestQuantile(t *testing.T) {
	tests := []struct {
		name string
		v    []float64
		q    float64
		want float64
	}{
		{"empty", nil, 0.5, 0},
		{"one", []float64{3}, 0.5, 3},
		{"odd median", []float64{5, 1, 3}, 0.5, 3},
		{"even median", []float64{4, 1, 3, 2}, 0.5, 2.5},
		{"quarter", []float64{1, 2, 3, 4, 5}, 0.25, 2},
		{"between", []float64{10, 20}, 0.25, 12.5},
		{"top", []float64{1, 9}, 1, 9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.v)
			if got := quantile(tc.v, tc.q); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if !slices.Equal(in, tc.v) {
				t.Errorf("quantile reordered its input: got %v, want %v", tc.v, in)
			}
		})
	}
}

func TestCollections(t *testing.T) {
	report := "REPORT RequestId: r\tDuration: 1.00 ms\tBilled Duration: 1 ms\n"
	gc := "gc 7 @0.1s 1%: 0.01+1+0.01 ms clock, 1->1->0 MB, 4 MB goal, 1 P\n"
	tests := []struct {
		name   string
		log    string
		warmup int
		want   int
	}{
		{"no gctrace", report + report, 1, -1},
		{"only in the warm-up", gc + gc + report + report, 1, 0},
		{"after the warm-up", gc + report + gc + report + gc + report, 1, 2},
		{"two warm-up rounds", gc + report + gc + report + gc + report, 2, 1},
		{"a line that only mentions gc", report + "the gc 1 @ line\n" + gc, 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b lineBuffer
			b.Write([]byte(tc.log))
			if got := b.collections(tc.warmup); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

// TestTransformUnderEmulator runs the measurement for a few rounds: every series has one sample per
// round, the in-function handler time fits in the Duration that holds it, and nothing collects
// garbage between warm invocations.
func TestTransformUnderEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the emulator and two functions")
	}
	dir := workload.Find(t)
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	const rounds = 3
	fig, err := TransformUnderEmulator(t.Context(), EmulatorOptions{Root: root, Payload: filepath.Join(dir, "out", "firehose-1mb.json"), Rounds: rounds, Warmup: 2, Procs: 1, Pin: true})
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string][]float64{"Transform": fig.Transform, "Replay": fig.Replay, "Handler": fig.Handler, "InProcess": fig.InProcess, "InProcessCPU": fig.InProcessCPU} {
		if len(s) != rounds {
			t.Errorf("%s: got %d samples, want %d", name, len(s), rounds)
		}
		for _, v := range s {
			if v <= 0 {
				t.Errorf("%s: got a sample of %v ms, want a positive time", name, v)
			}
		}
	}
	for i := range min(len(fig.Handler), len(fig.Transform)) {
		if fig.Handler[i] > fig.Transform[i] {
			t.Errorf("round %d: got a handler time of %v ms in a Duration of %v ms, want it within", i, fig.Handler[i], fig.Transform[i])
		}
	}
	if fig.TransformGCs < 0 || fig.ReplayGCs < 0 {
		t.Errorf("got %d and %d collections, want counts (gctrace is on)", fig.TransformGCs, fig.ReplayGCs)
	}
	if fig.Placement == "" {
		t.Error("got no placement, want where the processes ran")
	}
}
