package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/firelane/firelane/internal/localaws/lambda"
)

// EmulatorOptions says what [TransformUnderEmulator] measures.
type EmulatorOptions struct {
	Root    string // the repository root, where go.mod is
	Payload string // the Firehose event to invoke with
	Reps    int    // timed invocations of each function after one warm-up
	Procs   int    // GOMAXPROCS of both functions
}

// EmulatorFigures are the Durations the emulator reported, in milliseconds, warm invocations only.
type EmulatorFigures struct {
	Transform, Replay []float64
}

// Work is the transform's own work: the median of its Durations minus the median of the replay
// function's, which receives the same payload and sends the same response bytes without work.
func (f EmulatorFigures) Work() float64 { return median(f.Transform) - median(f.Replay) }

// TransformUnderEmulator builds the transform's bootstrap and the replay function (package replay
// beside this one) as sam build does for this machine, runs each under the Runtime Interface
// Emulator, invokes each with the payload, and reads the Duration of every invocation from the
// emulator's REPORT lines: what Lambda bills. The replay function answers with the bytes the
// transform answers, so that the difference of the two is the transform's own work, without the
// cost of moving the payload and the response through the Runtime API.
func TransformUnderEmulator(ctx context.Context, o EmulatorOptions) (EmulatorFigures, error) {
	var fig EmulatorFigures
	if o.Reps < 1 {
		return fig, fmt.Errorf("reps must be at least 1")
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
	response, err := quietTransform().Invoke(ctx, payload)
	if err != nil {
		return fig, fmt.Errorf("transform the payload in-process: %w", err)
	}
	responseFile := filepath.Join(dir, "response.json")
	if err := os.WriteFile(responseFile, response, 0o644); err != nil {
		return fig, err
	}
	rie, err := lambda.BuildEmulator(ctx, o.Root, dir)
	if err != nil {
		return fig, err
	}
	for _, f := range []struct {
		pkg  string
		env  map[string]string
		dest *[]float64
	}{
		{"./functions/transform", nil, &fig.Transform},
		{"./internal/bench/replay", map[string]string{"REPLAY_RESPONSE": responseFile}, &fig.Replay},
	} {
		boot, err := lambda.Build(ctx, o.Root, f.pkg, filepath.Join(dir, filepath.Base(f.pkg)))
		if err != nil {
			return fig, err
		}
		env := map[string]string{"GOMAXPROCS": strconv.Itoa(o.Procs), "LOG_LEVEL": "info"}
		for k, v := range f.env {
			env[k] = v
		}
		logs := &lineBuffer{}
		in, err := lambda.Start(ctx, lambda.Config{Emulator: rie, Bootstrap: boot, Name: filepath.Base(f.pkg), Env: env, Logs: logs})
		if err != nil {
			return fig, err
		}
		for i := 0; i <= o.Reps; i++ {
			res, err := in.Invoke(ctx, payload)
			if err == nil && res.Err != nil {
				err = res.Err
			}
			if err == nil && !bytes.Equal(res.Payload, response) {
				err = fmt.Errorf("%s answered %d bytes, not the %d bytes of the in-process transform", f.pkg, len(res.Payload), len(response))
			}
			if err != nil {
				in.Stop()
				return fig, err
			}
		}
		// The emulator writes a REPORT line after each response; give the last one time to arrive.
		deadline := time.Now().Add(2 * time.Second)
		for len(logs.durations()) < o.Reps+1 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		in.Stop()
		d := logs.durations()
		if len(d) < o.Reps+1 {
			return fig, fmt.Errorf("%s: the emulator reported %d durations for %d invocations", f.pkg, len(d), o.Reps+1)
		}
		*f.dest = d[1:] // the first invocation carries the start-up
	}
	return fig, nil
}

var reportDuration = regexp.MustCompile(`REPORT RequestId: \S+\s+(?:Init Duration: [0-9.]+ ms\s+)?Duration: ([0-9.]+) ms`)

// lineBuffer keeps what the emulator writes, for its REPORT lines.
type lineBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lineBuffer) durations() []float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []float64
	for _, m := range reportDuration.FindAllSubmatch(b.buf.Bytes(), -1) {
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		out = append(out, v)
	}
	return out
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
