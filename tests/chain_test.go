package tests

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/ingest"
	localfirehose "github.com/firelane/firelane/internal/localaws/firehose"
	"github.com/firelane/firelane/internal/localaws/pipeline"
	"github.com/firelane/firelane/internal/schema"
)

// quiet discards the functions' logs: the tests check outcomes, not log lines.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// repoRoot is the repository's root directory.
func repoRoot(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// sharedDir returns ../shared beside the repository, skipping the test when it is absent.
func sharedDir(t testing.TB) string {
	d := filepath.Join(repoRoot(t), "..", "shared")
	if _, err := os.Stat(filepath.Join(d, "workload", "out", "events.ndjson")); err != nil {
		t.Skipf("shared workload not found at %s: %v", d, err)
	}
	return d
}

// outcome is what the edge answered for every event of a run.
type outcome struct {
	accepted map[string]int // by event id
	rejected map[string]int // by event id
}

// sendAll sends every request and collects the edge's per-event answers.
func sendAll(t *testing.T, chain *pipeline.Chain, reqs []pipeline.Request) outcome {
	t.Helper()
	out := outcome{accepted: map[string]int{}, rejected: map[string]int{}}
	for _, r := range reqs {
		resp, err := chain.SendRequest(t.Context(), r)
		if err != nil {
			t.Fatalf("%s: ingest returned an error: %v", r.Name, err)
		}
		if resp.StatusCode >= 500 {
			t.Fatalf("%s: status %d: %s", r.Name, resp.StatusCode, resp.Body)
		}
		var body ingest.Response
		if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || body.Results == nil {
			continue // a request-level answer such as 400 bad_body carries no events
		}
		if n := body.Accepted + body.Rejected + body.Failed; n != len(body.Results) {
			t.Fatalf("%s: counts add up to %d for %d results", r.Name, n, len(body.Results))
		}
		for i, res := range body.Results {
			if res.Index != i {
				t.Fatalf("%s: result %d has index %d", r.Name, i, res.Index)
			}
			switch res.Status {
			case ingest.StatusAccepted:
				if res.ID == "" {
					t.Fatalf("%s: accepted event %d has no id", r.Name, i)
				}
				out.accepted[res.ID]++
			case ingest.StatusRejected:
				if len(res.Errors) == 0 {
					t.Errorf("%s: event %d rejected without a reason", r.Name, i)
				}
				out.rejected[res.ID]++
			default:
				t.Errorf("%s: event %d has status %q in a run without faults", r.Name, i, res.Status)
			}
		}
	}
	return out
}

// lakeContents reads every object under dir: the rows under events/ by key, and the failed-event
// envelopes under rejected/ and failed/.
func lakeContents(t *testing.T, dir string) (rows map[string]int, failed []event.Failed, other []string) {
	t.Helper()
	rows = map[string]int{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if len(b) > 0 && b[len(b)-1] != '\n' {
			t.Errorf("%s does not end with a newline", rel)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 8<<20)
		for sc.Scan() {
			line := sc.Bytes()
			switch {
			case strings.HasPrefix(rel, "events/"):
				var row struct {
					EventID   string `json:"event_id"`
					EventType string `json:"event_type"`
				}
				if err := json.Unmarshal(line, &row); err != nil {
					t.Errorf("%s: row is not JSON: %v", rel, err)
					continue
				}
				if !strings.HasPrefix(rel, "events/event_type="+row.EventType+"/") {
					t.Errorf("%s: row of type %s under the wrong prefix", rel, row.EventType)
				}
				rows[row.EventID]++
			case strings.HasPrefix(rel, "rejected/"), strings.HasPrefix(rel, "failed/"):
				var f event.Failed
				if err := json.Unmarshal(line, &f); err != nil {
					t.Errorf("%s: failed-event envelope is not JSON: %v", rel, err)
					continue
				}
				if !strings.HasPrefix(rel, f.Kind+"/stage="+f.Stage+"/") {
					t.Errorf("%s: %s/%s envelope under the wrong prefix", rel, f.Kind, f.Stage)
				}
				failed = append(failed, f)
			default:
				other = append(other, rel)
			}
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows, failed, other
}

// checkLake asserts that every accepted event is in the lake once (duplicates of one event may be
// written at most as often as they were accepted: delivery is at least once, deduplicated by
// fingerprint) and every rejected event is under rejected/ with its reasons.
func checkLake(t *testing.T, got outcome, dir string) {
	t.Helper()
	rows, failed, other := lakeContents(t, dir)
	for k, n := range got.accepted {
		switch c := rows[k]; {
		case c == 0:
			t.Errorf("accepted event %v is not in the lake", k)
		case c > n:
			t.Errorf("accepted event %v is in the lake %d times, accepted %d times", k, c, n)
		}
	}
	for k := range rows {
		if got.accepted[k] == 0 {
			t.Errorf("lake holds event %v that was never accepted", k)
		}
	}
	rejected := map[string]int{}
	for _, f := range failed {
		if f.Kind != event.KindRejected || f.Stage != "ingest" {
			t.Errorf("unexpected failed-event envelope %s/%s: %v", f.Kind, f.Stage, f.Reasons)
			continue
		}
		if len(f.Reasons) == 0 || len(f.Original) == 0 {
			t.Errorf("rejected event %q lacks reasons or original bytes", f.EventID)
		}
		rejected[f.EventID]++
	}
	for id, n := range got.rejected {
		if rejected[id] != n {
			t.Errorf("rejected event %q: %d envelopes under rejected/, rejected %d times", id, rejected[id], n)
		}
	}
	if len(other) > 0 {
		t.Errorf("unexpected objects in the lake: %v", other)
	}
}

// TestChainSamples runs the README's main job on the sample requests in events/ingest.
func TestChainSamples(t *testing.T) {
	reg, err := schema.Default()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	chain, err := pipeline.New(pipeline.Config{Registry: reg, Sink: localfirehose.DirSink{Dir: dir}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	reqs, err := pipeline.LoadRequests([]string{filepath.Join(repoRoot(t), "events", "ingest")})
	if err != nil {
		t.Fatal(err)
	}
	got := sendAll(t, chain, reqs)
	if len(got.accepted) == 0 || len(got.rejected) == 0 {
		t.Fatalf("samples should hold accepted and rejected events: %d accepted, %d rejected", len(got.accepted), len(got.rejected))
	}
	if _, err := chain.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	checkLake(t, got, dir)
}

// TestChainWorkload runs the shared workload's 20,000 events through the whole chain: exactly the
// reference 19,626 are accepted and each of them reaches the lake.
func TestChainWorkload(t *testing.T) {
	shared := sharedDir(t)
	reg, err := schema.LoadDir(filepath.Join(shared, "workload", "schemas"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	chain, err := pipeline.New(pipeline.Config{Registry: reg, Sink: localfirehose.DirSink{Dir: dir}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	reqs, err := pipeline.LoadRequests([]string{filepath.Join(shared, "workload", "out", "events.ndjson")})
	if err != nil {
		t.Fatal(err)
	}
	got := sendAll(t, chain, reqs)
	n := 0
	for _, c := range got.accepted {
		n += c
	}
	if n != 19626 {
		t.Errorf("accepted %d events, want the reference 19626", n)
	}
	if _, err := chain.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	checkLake(t, got, dir)
}
