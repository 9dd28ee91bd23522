package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/event"
	localfirehose "github.com/firelane/firelane/internal/localaws/firehose"
	"github.com/firelane/firelane/internal/localaws/pipeline"
	"github.com/firelane/firelane/internal/schema"
)

const recoveredType = "com.acme.test.recovered"

// recoveredSchema is the schema published after the events of its type were rejected.
const recoveredSchema = `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",
 "required":["n"],"properties":{"n":{"type":"integer"}}}`

// recoveryMix is the body of one request that mixes events recovery treats differently: 2 valid
// page views; 3 events of recoveredType (unknown then, valid once recoveredSchema is published); 1
// of recoveredType whose data breaks the new schema; 2 page views without their session_id (a
// patch can fix them); 1 page view whose url is not a URL. Ingest accepts 2 and rejects 7.
func recoveryMix() string {
	pv := func(id, data string) string {
		return fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"/web","type":"com.acme.web.page_view","subject":"u-%s","data":%s}`, id, id, data)
	}
	rc := func(id, data string) string {
		return fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"/test","type":%q,"data":%s}`, id, recoveredType, data)
	}
	const session = `"session_id":"8f14e45f-ceea-467f-a0f8-7c2c3c1c2d3e"`
	evs := []string{
		pv("ok-1", `{"url":"https://shop.acme.test/",`+session+`}`),
		pv("ok-2", `{"url":"https://shop.acme.test/a",`+session+`}`),
		rc("rc-1", `{"n":1}`), rc("rc-2", `{"n":2}`), rc("rc-3", `{"n":3}`),
		rc("rc-bad", `{"n":"three"}`),
		pv("nosession-1", `{"url":"https://shop.acme.test/b"}`),
		pv("nosession-2", `{"url":"https://shop.acme.test/c"}`),
		pv("badurl", `{"url":"not a url",`+session+`}`),
	}
	return "[" + strings.Join(evs, ",") + "]"
}

// poisonFailedRecord is an ingest/1 record whose event lacks its source, written to the stream
// as a producer that skips ingest would: enrich sets it aside under failed/stage=enrich/, and the
// patch of docs/operations.md ("Failed records") gives it one.
const poisonFailedRecord = `{"firelane":"ingest/1","context":{"received_at":"2026-11-25T09:01:01.000Z","request_id":"req-poison-1","source_ip":"198.51.100.23","stage":"prod"},` +
	`"event":{"specversion":"1.0","id":"px-1","type":"com.acme.web.page_view","data":{"url":"https://shop.acme.test/","session_id":"8f14e45f-ceea-467f-a0f8-7c2c3c1c2d3e"}}}`

// recoverySchemas returns a copy of the repository's schemas that, unlike the ones the events
// met, knows recoveredType.
func recoverySchemas(t *testing.T) string {
	t.Helper()
	schemaDir := copySchemas(t)
	if err := os.WriteFile(filepath.Join(schemaDir, recoveredType+".v1.json"), []byte(recoveredSchema), 0o644); err != nil {
		t.Fatal(err)
	}
	return schemaDir
}

// recoveryLake sends [recoveryMix] through the local chain into a new lake, and the poison
// records straight into its stream, and returns the lake's directory and [recoverySchemas].
func recoveryLake(t *testing.T, poison ...string) (lakeDir, schemaDir string) {
	t.Helper()
	lakeDir = t.TempDir()
	t.Setenv("SCHEMAS_DIR", "")
	t.Setenv("FIRELANE_VALIDATOR", "")
	reg, err := schema.Default()
	if err != nil {
		t.Fatal(err)
	}
	chain, err := pipeline.New(pipeline.Config{Registry: reg, Sink: localfirehose.DirSink{Dir: lakeDir}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := chain.Send(t.Context(), pipeline.NewRequest(recoveryMix()))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(resp.Body, `"accepted":2`) {
		t.Fatalf("got answer %s, want 2 accepted", resp.Body)
	}
	if len(poison) > 0 {
		// Records on the stream that did not come through ingest, which enrich sets aside.
		kw, err := awsbatch.NewKinesisWriter(chain.Stream, pipeline.StreamName, awsbatch.Retry{MaxAttempts: 1})
		if err != nil {
			t.Fatal(err)
		}
		var recs []awsbatch.Record
		for _, p := range poison {
			recs = append(recs, awsbatch.Record{Data: []byte(p), PartitionKey: "k"})
		}
		for _, r := range kw.Write(t.Context(), recs) {
			if !r.OK {
				t.Fatalf("put poison record: %s", r.ErrorCode)
			}
		}
	}
	if _, err := chain.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	return lakeDir, recoverySchemas(t)
}

// lakeRows returns the lake's rows by event id.
func lakeRows(t *testing.T, dir string) map[string][]map[string]any {
	t.Helper()
	rows := map[string][]map[string]any{}
	err := filepath.Walk(filepath.Join(dir, "events"), func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
			var row map[string]any
			if err := json.Unmarshal(l, &row); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			rows[row["event_id"].(string)] = append(rows[row["event_id"].(string)], row)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// rejectedAt returns the receive time each rejected event's envelope keeps (failed/2's context;
// failed_at for a failed/1 envelope, which has none), by event id.
func rejectedAt(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	files, _ := filepath.Glob(filepath.Join(dir, "rejected", "stage=ingest", "*", "*", "*", "*", "*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
			var env event.Failed
			if err := json.Unmarshal(l, &env); err != nil {
				t.Fatal(err)
			}
			out[env.EventID] = env.FailedAt
			if env.Context != nil {
				out[env.EventID] = env.Context.ReceivedAt
			}
		}
	}
	return out
}

func recoverOut(t *testing.T, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	if err := runRecover(t.Context(), args, &out); err != nil {
		t.Fatalf("recover %v: %v\n%s", args, err, out.String())
	}
	return out.String()
}

func summaryOf(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "recover: ") {
			return l
		}
	}
	return ""
}

func TestRecoverLocalLake(t *testing.T) {
	lakeDir, schemaDir := recoveryLake(t)
	failedAt := rejectedAt(t, lakeDir)
	if len(failedAt) != 7 {
		t.Fatalf("got %d rejected envelopes, want 7", len(failedAt))
	}
	before := lakeRows(t, lakeDir)

	dry := recoverOut(t, "-lake", lakeDir, "-schemas", schemaDir, "-dry-run")
	for _, want := range []string{
		"recover       3  unknown_type",
		"fail          1  unknown_type -> schema type at /data/n",
		"fail          2  schema -> schema required at /data",
		"fail          1  schema -> schema format at /data/url",
		"would recover 3, still failing 4, already recovered 0, already in the lake 0",
	} {
		if !strings.Contains(dry, want) {
			t.Errorf("dry run: want %q in\n%s", want, dry)
		}
	}
	if got := lakeRows(t, lakeDir); len(got) != len(before) {
		t.Errorf("dry run: got %d events in the lake, want %d (unchanged)", len(got), len(before))
	}
	if m, _ := filepath.Glob(filepath.Join(lakeDir, "recovery", "*")); len(m) != 0 {
		t.Errorf("dry run: got manifests %v, want none", m)
	}

	out := recoverOut(t, "-lake", lakeDir, "-schemas", schemaDir)
	if s := summaryOf(out); !strings.Contains(s, "recovered 3, still failing 4, already recovered 0") {
		t.Fatalf("first run: got %q, want 3 recovered and 4 still failing", s)
	}
	rows := lakeRows(t, lakeDir)
	for _, id := range []string{"rc-1", "rc-2", "rc-3"} {
		if len(rows[id]) != 1 {
			t.Errorf("event %s: got %d rows, want exactly 1", id, len(rows[id]))
			continue
		}
		if got := rows[id][0]["received_at"]; got != failedAt[id] {
			t.Errorf("event %s: got received_at %v, want the rejection's %s", id, got, failedAt[id])
		}
	}
	for _, id := range []string{"rc-bad", "nosession-1", "nosession-2", "badurl"} {
		if len(rows[id]) != 0 {
			t.Errorf("event %s: got %d rows, want none (it still fails)", id, len(rows[id]))
		}
	}
	for _, dir := range []string{"rejected", "failed"} {
		if m, _ := filepath.Glob(filepath.Join(lakeDir, dir, "*", "recovery*")); len(m) != 0 {
			t.Errorf("got manifest %v under %s/, want it under recovery/ only", m, dir)
		}
	}

	again := recoverOut(t, "-lake", lakeDir, "-schemas", schemaDir)
	if s := summaryOf(again); !strings.Contains(s, "recovered 0, still failing 4, already recovered 3, already in the lake 0") {
		t.Errorf("second run: got %q, want nothing sent and 3 already recovered", s)
	}

	// Without the manifests, the lake itself says the events are there.
	if err := os.RemoveAll(filepath.Join(lakeDir, "recovery")); err != nil {
		t.Fatal(err)
	}
	third := recoverOut(t, "-lake", lakeDir, "-schemas", schemaDir)
	if s := summaryOf(third); !strings.Contains(s, "recovered 0, still failing 4, already recovered 0, already in the lake 3") {
		t.Errorf("run without manifests: got %q, want the 3 found in their partitions", s)
	}
	for _, id := range []string{"rc-1", "rc-2", "rc-3"} {
		if n := len(lakeRows(t, lakeDir)[id]); n != 1 {
			t.Errorf("event %s after three runs: got %d rows, want exactly 1", id, n)
		}
	}
}

func TestRecoverPatchAndFilter(t *testing.T) {
	lakeDir, schemaDir := recoveryLake(t)
	patch := filepath.Join(t.TempDir(), "session.json")
	if err := os.WriteFile(patch, []byte(`[{"op":"add","path":"/data/session_id","value":"00000000-0000-4000-8000-000000000000"}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"by type", []string{"-dry-run", "-type", "com.acme.web.page_view"}, "selected: would recover 0, still failing 3"},
		{"by class", []string{"-dry-run", "-class", "unknown_type"}, "selected: would recover 3, still failing 1"},
		{"by kind", []string{"-dry-run", "-kind", "failed"}, "0 selected"},
		{"by stage", []string{"-dry-run", "-stage", "enrich"}, "0 selected"},
		{"by time", []string{"-dry-run", "-until", "2000-01-01T00:00:00Z"}, "0 selected"},
		{"patched", []string{"-type", "com.acme.web.page_view", "-patch", "com.acme.web.page_view=" + patch}, "selected: recovered 2, still failing 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := summaryOf(recoverOut(t, append([]string{"-lake", lakeDir, "-schemas", schemaDir}, tt.args...)...))
			if !strings.Contains(s, tt.want) {
				t.Errorf("got %q, want %q in it", s, tt.want)
			}
		})
	}
	rows := lakeRows(t, lakeDir)
	for _, id := range []string{"nosession-1", "nosession-2"} {
		if len(rows[id]) != 1 {
			t.Fatalf("patched event %s: got %d rows, want 1", id, len(rows[id]))
		}
		data := rows[id][0]["data"].(map[string]any)
		if data["session_id"] != "00000000-0000-4000-8000-000000000000" {
			t.Errorf("patched event %s: got data %v, want the patch's session_id", id, data)
		}
	}
}

func TestRecoverFlags(t *testing.T) {
	t.Setenv("SCHEMAS_DIR", "")
	t.Setenv("FIRELANE_VALIDATOR", "")
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no lake", nil, "name one lake"},
		{"two lakes", []string{"-lake", dir, "-bucket", "b"}, "name one lake"},
		{"stream with a local lake", []string{"-lake", dir, "-stream", "s"}, "go with -bucket"},
		{"endpoint with a local lake", []string{"-lake", dir, "-endpoint", "http://127.0.0.1:1"}, "go with -bucket"},
		{"bucket without a stream", []string{"-bucket", "b"}, "needs -stream"},
		{"bad time", []string{"-bucket", "b", "-dry-run", "-since", "yesterday"}, "RFC 3339"},
		{"stray argument", []string{"-lake", dir, "more"}, "unexpected arguments"},
		{"bad partition key", []string{"-bucket", "b", "-dry-run", "-partition-key", "subject,time"}, `"time" is not one of subject, source, type, id`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := recoverWith(t.Context(), tt.args, recoverEnv{out: &out})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one saying %q", err, tt.want)
			}
		})
	}
}
