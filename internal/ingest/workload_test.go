package ingest

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// workloadLines returns the non-empty lines of the shared workload's events.ndjson.
func workloadLines(t testing.TB) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sharedDir(t), "workload", "out", "events.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	for _, l := range bytes.Split(b, []byte("\n")) {
		if len(l) > 0 {
			lines = append(lines, l)
		}
	}
	return lines
}

// TestWorkloadVerdicts sends the shared workload's 20,000 events through the handler as NDJSON
// requests of 500 and checks that it accepts exactly the events that Ajv, fastjsonschema and
// python-jsonschema accept: the rejected ones are listed in testdata/workload-rejected.txt.
func TestWorkloadVerdicts(t *testing.T) {
	lines := workloadLines(t)
	want := readRejected(t)
	f := newFixture(t, workloadRegistry(t), Config{})
	var rejected []int
	accepted := 0
	for start := 0; start < len(lines); start += 500 {
		end := min(start+500, len(lines))
		body := string(bytes.Join(lines[start:end], []byte("\n")))
		resp, _ := f.h.Handle(t.Context(), post(body, map[string]string{"Content-Type": "application/x-ndjson"}))
		r := decodeResponse(t, resp.Body)
		if len(r.Results) != end-start {
			t.Fatalf("request [%d:%d]: got %d results", start, end, len(r.Results))
		}
		for _, e := range r.Results {
			switch e.Status {
			case StatusAccepted:
				accepted++
			case StatusRejected:
				rejected = append(rejected, start+e.Index)
			default:
				t.Fatalf("event %d: %s", start+e.Index, e.Status)
			}
		}
	}
	if accepted != 19626 || len(lines) != 20000 {
		t.Errorf("accepted %d of %d events, want 19626 of 20000", accepted, len(lines))
	}
	if !slices.Equal(rejected, want) {
		for _, i := range rejected {
			if !slices.Contains(want, i) {
				t.Errorf("event %d rejected, the peers accept it: %s", i, lines[i])
			}
		}
		for _, i := range want {
			if !slices.Contains(rejected, i) {
				t.Errorf("event %d accepted, the peers reject it: %s", i, lines[i])
			}
		}
	}
	if got := len(f.streamed.all()); got != accepted {
		t.Errorf("Kinesis got %d records, want %d", got, accepted)
	}
	if got := len(f.setAside.all()); got != len(rejected) {
		t.Errorf("failed-events stream got %d records, want %d", got, len(rejected))
	}
}

func readRejected(t testing.TB) []int {
	t.Helper()
	fh, err := os.Open(filepath.Join("testdata", "workload-rejected.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var out []int
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		n, err := strconv.Atoi(l)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}
