package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/firehose"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/enrich"
	"github.com/firelane/firelane/internal/kpl"
	"github.com/firelane/firelane/internal/localaws/eventsource"
	localfirehose "github.com/firelane/firelane/internal/localaws/firehose"
	"github.com/firelane/firelane/internal/localaws/lambda"
	"github.com/firelane/firelane/internal/localaws/pipeline"
	"github.com/firelane/firelane/internal/schema"
)

// failingFirehose is the events delivery stream while it refuses every call: enrich cannot
// deliver, as when Firehose throttles or its role is denied.
type failingFirehose struct{ calls atomic.Int64 }

func (f *failingFirehose) PutRecordBatch(context.Context, *firehose.PutRecordBatchInput, ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	f.calls.Add(1)
	return nil, fmt.Errorf("ServiceUnavailableException: injected")
}

// Times the discarded events were received at, and their request ids: recovery must keep them.
const (
	discardedRequestID = "req-discarded-1"
	kplRequestID       = "req-kpl-1"
)

var (
	discardedReceived = time.Date(2026, 11, 25, 9, 1, 1, 0, time.UTC)
	kplReceived       = "2026-11-25T09:02:00.000Z"
)

// discardedBatch runs ingest, the stream and the local event source mapping to enrich while the
// events delivery stream refuses everything, so that after MaximumRetryAttempts the mapping
// discards the batch to an S3 on-failure destination, a directory as `firelane up` keeps it. It
// returns the lake (with the poison record's envelope and no rows) and the destination's
// directory. The stream holds: one request of three page views (d-1, d-2, d-3), the client's retry
// of d-1, a KPL aggregate of two ingest records (k-1, k-2) and one poison record.
func discardedBatch(t *testing.T) (lakeDir, discardedDir string) {
	t.Helper()
	lakeDir, discardedDir = t.TempDir(), t.TempDir()
	t.Setenv("SCHEMAS_DIR", "")
	t.Setenv("FIRELANE_VALIDATOR", "")
	reg, err := schema.Default()
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	chain, err := pipeline.New(pipeline.Config{Registry: reg, Sink: localfirehose.DirSink{Dir: lakeDir}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	pv := func(id string) string {
		return fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"/web","type":"com.acme.web.page_view","subject":"u-%s",`+
			`"data":{"url":"https://shop.acme.test/%s","session_id":"8f14e45f-ceea-467f-a0f8-7c2c3c1c2d3e"}}`, id, id, id)
	}
	send := func(requestID string, at time.Time, evs ...string) {
		req := pipeline.NewRequest("[" + strings.Join(evs, ",") + "]")
		req.RequestContext.RequestID, req.RequestContext.RequestTimeEpoch = requestID, at.UnixMilli()
		resp, err := chain.Send(t.Context(), req)
		if err != nil || !strings.Contains(resp.Body, fmt.Sprintf(`"accepted":%d`, len(evs))) {
			t.Fatalf("ingest: got %v %s, want every event accepted", err, resp.Body)
		}
	}
	send(discardedRequestID, discardedReceived, pv("d-1"), pv("d-2"), pv("d-3"))
	send("req-retry-1", discardedReceived.Add(time.Second), pv("d-1"))
	ingestRecord := func(id string) []byte {
		return []byte(`{"firelane":"ingest/1","context":{"received_at":"` + kplReceived + `","request_id":"` + kplRequestID +
			`","source_ip":"198.51.100.23","stage":"prod"},"event":` + pv(id) + `}`)
	}
	aggregate := kpl.Aggregate([]kpl.Record{{Data: ingestRecord("k-1"), PartitionKey: []byte("u-k")}, {Data: ingestRecord("k-2"), PartitionKey: []byte("u-k")}})
	kw, err := awsbatch.NewKinesisWriter(chain.Stream, pipeline.StreamName, awsbatch.Retry{MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range kw.Write(t.Context(), []awsbatch.Record{{Data: aggregate, PartitionKey: "u-k"}, {Data: []byte("\x00not an event"), PartitionKey: "p"}}) {
		if !r.OK {
			t.Fatalf("put record: %s", r.ErrorCode)
		}
	}

	// Enrich as the mapping invokes it, its events delivery stream failing; the failed-events
	// stream works, so the poison record is set aside as it always is.
	down := &failingFirehose{}
	retry := awsbatch.Retry{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}
	events, err := awsbatch.NewFirehoseWriter(down, pipeline.DeliveryStreamName, retry)
	if err != nil {
		t.Fatal(err)
	}
	failed, err := awsbatch.NewFirehoseWriter(chain.Failed, pipeline.FailedStreamName, retry)
	if err != nil {
		t.Fatal(err)
	}
	fn := &enrich.Handler{Registry: reg, Chain: enrich.DefaultChain(time.Now, []byte(pipeline.LocalPIIKey)), Firehose: events, Failed: failed, Logger: quiet}
	m := &eventsource.Mapping{
		Config:      eventsource.Config{BatchSize: 100, StartingPosition: eventsource.TrimHorizon, ParallelizationFactor: 1, MaxRetries: 2, ReportBatchItemFailures: true},
		Function:    lambda.InProcess{Handler: fn, Name: "firelane-enrich"},
		FunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:firelane-enrich",
		StreamARN:   chain.Stream.ARN(),
		Shards:      []eventsource.Shard{eventsource.NewMemoryShard(chain.Stream, eventsource.TrimHorizon)},
		Destination: eventsource.S3Destination{Bucket: localfirehose.DirSink{Dir: discardedDir}}, // as firelane up builds it
		Poll:        5 * time.Millisecond,
		Backoff:     func(int) time.Duration { return time.Millisecond },
	}
	if err := m.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	st := m.Drain(ctx)
	m.Stop()
	if st.Discarded != 6 || st.Succeeded != 0 || st.Pending != 0 {
		t.Fatalf("mapping: got %+v, want the 6 records discarded and none succeeded or pending", st)
	}
	if down.calls.Load() == 0 {
		t.Fatal("enrich never called the events delivery stream")
	}
	for chain.Failed.Buffered() > 0 {
		if _, err := chain.Failed.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	objs, _ := filepath.Glob(filepath.Join(discardedDir, "aws", "lambda", m.UUID(), "shardId-*", "*", "*", "*", "*"))
	if len(objs) != 1 {
		t.Fatalf("got on-failure objects %v, want one invocation record under aws/lambda/%s/", objs, m.UUID())
	}
	if rows := rowsOf(t, lakeDir); len(rows) != 0 {
		t.Fatalf("got %d events in the lake before recovery, want none", len(rows))
	}
	return lakeDir, discardedDir
}

// rowsOf is lakeRows, for a lake that may have no events/ yet.
func rowsOf(t *testing.T, dir string) map[string][]map[string]any {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "events")); os.IsNotExist(err) {
		return nil
	}
	return lakeRows(t, dir)
}

// discardedArgs points a documented command's paths at a test's lake, destination and schemas.
func discardedArgs(args []string, lakeDir, discardedDir, schemaDir string) []string {
	out := append([]string(nil), args...)
	for i := 0; i+1 < len(out); i++ {
		switch out[i] {
		case "-lake":
			out[i+1] = lakeDir
		case "-discarded":
			out[i+1] = discardedDir
		case "-schemas":
			out[i+1] = schemaDir
		}
	}
	return out
}

// copySchemas copies the embedded schemas' files into a new directory, as -schemas reads them.
func copySchemas(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files, _ := filepath.Glob(filepath.Join("..", "..", "schemas", "*.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestRecoverDiscardedBatch runs the commands docs/operations.md gives for discarded batches
// over a batch the local event source mapping discarded: the dry run changes nothing, the run
// brings every event into the lake exactly once with its original receive time and request id,
// the poison record is still reported with its reason, and a second run sends nothing.
func TestRecoverDiscardedBatch(t *testing.T) {
	lakeDir, discardedDir := discardedBatch(t)
	schemaDir := copySchemas(t)
	cmds := operationsCommands(t, "**Discarded batches**")
	if len(cmds) != 2 {
		t.Fatalf("got %d commands for discarded batches, want the dry run and the run", len(cmds))
	}
	wants := []string{
		"1 objects, 7 envelopes (0 unreadable), 7 selected: would recover 5, still failing 1, already recovered 0, already in the lake 0, duplicates 1, unsent 0",
		"1 objects, 7 envelopes (0 unreadable), 7 selected: recovered 5, still failing 1, already recovered 0, already in the lake 0, duplicates 1, unsent 0",
	}
	for i, args := range cmds {
		out := recoverOut(t, discardedArgs(args, lakeDir, discardedDir, schemaDir)...)
		if s := summaryOf(out); !strings.Contains(s, wants[i]) {
			t.Errorf("firelane recover %s: got %q, want %q in it\n%s", strings.Join(args, " "), s, wants[i], out)
		}
		if want := "fail          1  RetryAttemptsExhausted -> decode"; !strings.Contains(out, want) {
			t.Errorf("firelane recover %s: want %q in\n%s", strings.Join(args, " "), want, out)
		}
		if i == 0 && len(rowsOf(t, lakeDir)) != 0 {
			t.Errorf("the dry run wrote rows to the lake")
		}
	}
	rows := lakeRows(t, lakeDir)
	checkDiscardedRows(t, rows)

	// The documented run again: the manifest names every event, nothing is sent.
	again := recoverOut(t, discardedArgs(cmds[1], lakeDir, discardedDir, schemaDir)...)
	if s := summaryOf(again); !strings.Contains(s, "recovered 0, still failing 1, already recovered 6, already in the lake 0") {
		t.Errorf("second run: got %q, want nothing sent and the 6 records already recovered", s)
	}
	// Without the manifests, each event's own partition of the lake says it is there.
	if err := os.RemoveAll(filepath.Join(lakeDir, "recovery")); err != nil {
		t.Fatal(err)
	}
	third := recoverOut(t, discardedArgs(cmds[1], lakeDir, discardedDir, schemaDir)...)
	if s := summaryOf(third); !strings.Contains(s, "recovered 0, still failing 1, already recovered 0, already in the lake 6, duplicates 0") {
		t.Errorf("run without manifests: got %q, want the 6 records found in their partitions", s)
	}
	for _, tt := range discardedEvents {
		if n := len(lakeRows(t, lakeDir)[tt.id]); n != 1 {
			t.Errorf("event %s after three runs: got %d rows, want exactly 1", tt.id, n)
		}
	}
}

// TestRecoverDiscardedSelection checks that discarded batches are read only when the kind and
// stage select them, and that -discarded must name a directory.
func TestRecoverDiscardedSelection(t *testing.T) {
	lakeDir, discardedDir := discardedBatch(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"every kind", []string{"-discarded", discardedDir, "-dry-run"}, "would recover 5"},
		{"other kinds", []string{"-discarded", discardedDir, "-kind", "rejected,failed", "-dry-run"}, "0 selected"},
		{"another stage", []string{"-discarded", discardedDir, "-kind", "discarded", "-stage", "ingest", "-dry-run"}, "0 objects"},
		{"by condition", []string{"-discarded", discardedDir, "-class", "RecordMaximumAgeExceeded", "-dry-run"}, "0 selected"},
		{"by type", []string{"-discarded", discardedDir, "-kind", "discarded", "-type", "com.acme.web.page_view", "-dry-run"}, "6 selected: would recover 5, still failing 0"},
		{"the lake's own aws/lambda/", []string{"-kind", "discarded", "-dry-run"}, "0 objects"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := summaryOf(recoverOut(t, append([]string{"-lake", lakeDir}, tt.args...)...))
			if !strings.Contains(s, tt.want) {
				t.Errorf("got %q, want %q in it", s, tt.want)
			}
		})
	}
	var out strings.Builder
	if err := runRecover(t.Context(), []string{"-lake", lakeDir, "-discarded", filepath.Join(lakeDir, "nope")}, &out); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("got %v, want -discarded refused as not a directory", err)
	}
}

// discardedEvents are the events of discardedBatch's batch that recover, with the receive time
// and request id each must keep.
var discardedEvents = []struct{ id, received, requestID string }{
	{"d-1", "2026-11-25T09:01:01.000Z", discardedRequestID},
	{"d-2", "2026-11-25T09:01:01.000Z", discardedRequestID},
	{"d-3", "2026-11-25T09:01:01.000Z", discardedRequestID},
	{"k-1", kplReceived, kplRequestID},
	{"k-2", kplReceived, kplRequestID},
}

// checkDiscardedRows requires each of discardedEvents exactly once among rows, with its original
// receive time and request id, and nothing else.
func checkDiscardedRows(t *testing.T, rows map[string][]map[string]any) {
	t.Helper()
	for _, tt := range discardedEvents {
		t.Run(tt.id, func(t *testing.T) {
			if len(rows[tt.id]) != 1 {
				t.Fatalf("got %d rows, want exactly 1", len(rows[tt.id]))
			}
			row := rows[tt.id][0]
			if row["received_at"] != tt.received || row["request_id"] != tt.requestID {
				t.Errorf("got received_at %v and request_id %v, want %s and %s", row["received_at"], row["request_id"], tt.received, tt.requestID)
			}
		})
	}
	if len(rows) != len(discardedEvents) {
		t.Errorf("got %d events in the lake, want %d", len(rows), len(discardedEvents))
	}
}
