package transform

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// sharedDir returns ../shared relative to the repository root, or skips the test when it is absent.
func sharedDir(tb testing.TB) string {
	tb.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", "shared"))
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "workload", "out")); err != nil {
		tb.Skipf("shared workload not found at %s (it sits beside the repository as ../shared): %v", dir, err)
	}
	return dir
}

func workload(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(sharedDir(tb), "workload", "out", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func quietHandler() *Handler {
	return &Handler{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// BenchmarkInvoke measures what Lambda bills for one invocation: payload bytes in, response bytes
// out. Run it on one core, as a Firehose transform runs: go test -run=^$ -bench=Invoke -cpu=1.
func BenchmarkInvoke(b *testing.B) {
	for _, name := range []string{"firehose-1mb.json", "firehose-3mb.json"} {
		b.Run(name, func(b *testing.B) {
			payload := workload(b, name)
			h := quietHandler()
			h.ReuseResponse = true // as functions/transform runs it
			out, stats, _, err := h.invoke(context.Background(), payload)
			if err != nil || stats.OK != stats.Records {
				b.Fatalf("warm-up: %+v, %v (%d bytes out)", stats, err, len(out))
			}
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			b.ResetTimer()
			for b.Loop() {
				if _, err := h.Invoke(context.Background(), payload); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			runtime.ReadMemStats(&after)
			n := float64(b.N) * float64(stats.Records)
			b.ReportMetric(n/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/record")
		})
	}
}
