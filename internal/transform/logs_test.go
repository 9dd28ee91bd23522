package transform

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestNoClientValueInLogs sends records carrying a canary in every member a client controls, some
// of them hundreds of KiB long, through the ways the transform fails a record: processing failed
// (not JSON, not a CloudEvent, a bad time, an unknown format) and re-ingestion of the overflow
// refused. No log line may carry the canary or exceed 16 KiB.
func TestNoClientValueInLogs(t *testing.T) {
	const canary = "CANARY-0d4e8b"
	long := canary + strings.Repeat(`\u0001"<`, 30<<10)
	quoted, _ := json.Marshal(long)
	failing := [][]byte{
		[]byte(canary + long),
		[]byte(`{"specversion":"1.0","id":"` + canary + `","source":"/` + canary + `","time":` + string(quoted) + `,"type":"t.t","data":{}}`),
		[]byte(`{"firelane":` + string(quoted) + `,"event":{}}`),
		[]byte(`{"firelane":"ingest/1","context":{"user_agent":` + string(quoted) + `},"event":{"id":` + string(quoted) + `}}`),
		[]byte(`{"specversion":"1.0","id":` + string(quoted) + `,"source":"/s","type":"t.t","data":{"` + canary + `":1},"subject":1}`),
	}
	// Overflow: rows that need more than one response, each carrying the canary.
	big := make([][]byte, 8)
	for i := range big {
		big[i] = []byte(fmt.Sprintf(`{"specversion":"1.0","id":"%s-%d","source":"/s","type":"com.example.big","data":{"blob":"%s"}}`,
			canary, i, canary+strings.Repeat("x", 1<<20)))
	}
	tests := []struct {
		name     string
		data     [][]byte
		reingest bool
		wantMsgs []string
	}{
		{"processing failed", failing, false, []string{"record failed"}},
		{"overflow re-ingest refused", big, true, []string{"transform invocation failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs strings.Builder
			h := &Handler{Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Retry: fastRetry}
			if tt.reingest {
				h.Firehose = &fakeFirehose{stream: "events", fail: func(int, int) string { return "ServiceUnavailableException" }}
			}
			_, _ = h.Handle(t.Context(), firehoseEvent(time.UnixMilli(1795597205330), tt.data...))
			var msgs []string
			for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				if len(line) > 16<<10 {
					t.Errorf("a %d-byte log line, want at most 16 KiB: %.200s", len(line), line)
				}
				if strings.Contains(line, canary) {
					t.Errorf("a log line carries the record's values: %.300s", line)
				}
				var l struct{ Msg string }
				if err := json.Unmarshal([]byte(line), &l); err != nil {
					t.Fatalf("log line is not JSON: %v", err)
				}
				msgs = append(msgs, l.Msg)
			}
			for _, want := range tt.wantMsgs {
				if !slices.Contains(msgs, want) {
					t.Errorf("got log lines %q, want a %q line", msgs, want)
				}
			}
		})
	}
}
