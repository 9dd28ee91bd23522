package obs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/firelane/firelane/internal/obs/emf"
	"github.com/firelane/firelane/internal/obs/emf/emftest"
	"github.com/firelane/firelane/internal/obs/logging"
)

// run starts an invocation of stage on a logger at level, lets f count, ends it and returns the
// lines written, each checked to be a valid EMF document.
func run(t *testing.T, level slog.Level, f func(inv *Invocation)) []map[string]any {
	t.Helper()
	var buf bytes.Buffer
	log := logging.New(&buf, "ingest", "firelane-ingest", level)
	ctx := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	clock := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	now := func() time.Time { clock = clock.Add(1500 * time.Microsecond); return clock }
	inv := StartAt(ctx, "ingest", log, now)
	f(inv)
	inv.End()
	inv.End() // a second End writes nothing
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if bytes.Contains(line, []byte(`"msg":"invocation"`)) || bytes.Contains(line, []byte(`"msg":"metrics"`)) {
			if err := emftest.Verify(line); err != nil {
				t.Errorf("line %s: %v", line, err)
			}
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("line %s: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func dims(m map[string]any) [][]any {
	var out [][]any
	for _, d := range m["_aws"].(map[string]any)["CloudWatchMetrics"].([]any) {
		for _, set := range d.(map[string]any)["Dimensions"].([]any) {
			out = append(out, set.([]any))
		}
	}
	return out
}

func TestSummary(t *testing.T) {
	lines := run(t, slog.LevelInfo, func(inv *Invocation) {
		inv.Count(Received, 4)
		inv.Count(Accepted, 2, EventType("com.acme.web.page_view", true))
		inv.Count(Rejected, 1, EventType("com.acme.web.page_view", true), Reason("schema"))
		inv.Count(Rejected, 1, EventType("evil.type.from.client", false), Reason("unknown_type"))
		inv.Count(Retried, 3, Destination("kinesis"))
		inv.Set("status", 207)
		inv.Log().Warn("event rejected", "index", 2, "keyword", "format", "location", "/data/url")
	})
	if len(lines) != 1+1+4 {
		t.Fatalf("got %d lines, want the record line, the summary and 4 metric lines", len(lines))
	}
	rec, sum := lines[0], lines[1]
	if rec["request_id"] != "req-1" || rec["level"] != "WARN" {
		t.Errorf("record line: got %v", rec)
	}
	if _, ok := rec["_aws"]; ok {
		t.Error("record line carries metrics")
	}
	want := map[string]any{
		"msg": "invocation", "level": "INFO", "request_id": "req-1", "function": "firelane-ingest", "stage": "ingest",
		"Received": 4.0, "Accepted": 2.0, "Rejected": 2.0, "Failed": 0.0, "Retried": 3.0, "HandlerTime": 1.5, "status": 207.0,
		"FunctionName": "ingest",
	}
	for k, v := range want {
		if k == "FunctionName" && lambdacontext.FunctionName != "" {
			v = lambdacontext.FunctionName
		}
		if sum[k] != v {
			t.Errorf("summary %s: got %v, want %v", k, sum[k], v)
		}
	}
	if got := dims(sum); len(got) != 1 || len(got[0]) != 1 || got[0][0] != DimFunction {
		t.Errorf("summary dimensions: got %v, want [[FunctionName]]", got)
	}
	var got []string
	for _, l := range lines[2:] {
		if l["msg"] != "metrics" || l["request_id"] != "req-1" {
			t.Errorf("metric line: got %v", l)
		}
		for _, m := range []string{Accepted, Rejected, Retried} {
			if v, ok := l[m]; ok {
				got = append(got, fmt.Sprintf("%s %v/%v/%v=%v", m, l[DimEventType], l[DimReason], l[DimDestination], v))
			}
		}
	}
	slices.Sort(got)
	wantLines := []string{
		"Accepted com.acme.web.page_view/<nil>/<nil>=2",
		"Rejected com.acme.web.page_view/schema/<nil>=1",
		"Rejected unknown/unknown_type/<nil>=1",
		"Retried <nil>/<nil>/kinesis=3",
	}
	if !slices.Equal(got, wantLines) {
		t.Errorf("metric lines:\ngot  %q\nwant %q", got, wantLines)
	}
	if strings.Contains(fmt.Sprint(lines), "evil.type.from.client") {
		t.Error("an unknown type reached the output")
	}
}

// TestLevelDoesNotSilenceMetrics checks that LOG_LEVEL=error keeps the summary and its metrics
// while it hides the record lines.
func TestLevelDoesNotSilenceMetrics(t *testing.T) {
	lines := run(t, slog.LevelError, func(inv *Invocation) {
		inv.Count(Received, 1)
		inv.Count(Failed, 1, Reason(ReasonWrite))
		inv.Log().Warn("record failed")
	})
	if len(lines) != 2 || lines[0]["msg"] != "invocation" || lines[1]["msg"] != "metrics" {
		t.Fatalf("got %v, want the summary and one metric line", lines)
	}
}

func TestCardinalityIsBounded(t *testing.T) {
	lines := run(t, slog.LevelInfo, func(inv *Invocation) {
		for i := range 1000 {
			inv.Count(Rejected, 1, EventType(fmt.Sprint("client.type.", i), false), Reason("unknown_type"))
			inv.Count(Accepted, 1, EventType(fmt.Sprint("known.type.", i), true))
		}
	})
	metricLines := len(lines) - 1
	if metricLines > MaxSeries+1 {
		t.Errorf("got %d metric lines, want at most %d", metricLines, MaxSeries+1)
	}
	total := map[string]float64{}
	for _, l := range lines[1:] {
		for _, m := range []string{Accepted, Rejected} {
			if v, ok := l[m].(float64); ok {
				total[m] += v
			}
		}
	}
	if total[Accepted] != 1000 || total[Rejected] != 1000 || lines[0][Accepted] != 1000.0 {
		t.Errorf("got totals %v and summary %v, want every count kept", total, lines[0][Accepted])
	}
}

func TestObserve(t *testing.T) {
	lines := run(t, slog.LevelInfo, func(inv *Invocation) {
		for i := range 1000 {
			inv.Observe(Lateness, emf.Milliseconds, float64(i))
		}
		inv.Observe(BatchSize, emf.Count, 1000)
	})
	vals, ok := lines[0][Lateness].([]any)
	if !ok || len(vals) != emf.MaxValues {
		t.Fatalf("got Lateness %v, want %d values", lines[0][Lateness], emf.MaxValues)
	}
	if !slices.Contains(vals, any(999.0)) {
		t.Error("the maximum is not among the values")
	}
	if lines[0][BatchSize] != 1000.0 {
		t.Errorf("got BatchSize %v, want 1000", lines[0][BatchSize])
	}
}

func TestManyMetricsAreSplit(t *testing.T) {
	lines := run(t, slog.LevelInfo, func(inv *Invocation) {
		for i := range 150 {
			inv.Count(fmt.Sprint("M", i), i)
		}
	})
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want the summary split in two", len(lines))
	}
	if lines[0]["M0"] != 0.0 || lines[1]["M149"] != 149.0 {
		t.Errorf("got %v / %v", lines[0]["M0"], lines[1]["M149"])
	}
}

func TestNilInvocation(t *testing.T) {
	var inv *Invocation
	inv.Count(Received, 1)
	inv.Observe(Lateness, emf.Milliseconds, 1)
	inv.Set("k", "v")
	inv.End()
	if inv.Log() == nil {
		t.Error("got a nil logger")
	}
}

func BenchmarkInvocation(b *testing.B) {
	log := logging.New(discard{}, "enrich", "f", slog.LevelInfo)
	b.ReportAllocs()
	for b.Loop() {
		inv := Start(b.Context(), "enrich", log)
		inv.Count(Received, 500)
		for i := range 500 {
			inv.Count(Accepted, 1, EventType("com.acme.web.page_view", true))
			inv.Observe(Lateness, emf.Milliseconds, float64(i))
		}
		inv.End()
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func TestConcurrentCounts(t *testing.T) {
	lines := run(t, slog.LevelInfo, func(inv *Invocation) {
		done := make(chan struct{})
		for g := range 8 {
			go func() {
				defer func() { done <- struct{}{} }()
				for range 100 {
					inv.Count(Accepted, 1, EventType(fmt.Sprint("t", g%2), true))
					inv.Observe(Lateness, emf.Milliseconds, float64(g))
				}
			}()
		}
		for range 8 {
			<-done
		}
	})
	if lines[0][Accepted] != 800.0 {
		t.Errorf("got Accepted %v, want 800", lines[0][Accepted])
	}
}

// TestDimensionedDistribution checks that a distribution observed only by event type is also in
// the summary, merged, with its maximum, and within the value limit.
func TestDimensionedDistribution(t *testing.T) {
	lines := run(t, slog.LevelInfo, func(inv *Invocation) {
		for i := range 300 {
			inv.Observe(Lateness, emf.Milliseconds, float64(i), EventType(fmt.Sprint("t", i%3), true))
		}
	})
	vals, ok := lines[0][Lateness].([]any)
	if !ok || len(vals) != emf.MaxValues || !slices.Contains(vals, any(299.0)) || !slices.Contains(vals, any(0.0)) {
		t.Fatalf("summary Lateness: got %v, want %d values from 0 to 299", lines[0][Lateness], emf.MaxValues)
	}
	perType := 0
	for _, l := range lines[1:] {
		if _, ok := l[Lateness]; ok && l[DimEventType] != nil {
			perType++
		}
	}
	if perType != 3 {
		t.Errorf("got Lateness on %d metric lines, want one per event type", perType)
	}
}
