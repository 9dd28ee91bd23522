package enrich

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGoldenSamples runs the handler on every sample Kinesis event in events/enrich (the ones
// `sam local invoke` uses) and compares the response and everything written to either delivery
// stream with testdata/golden/NAME.json. A new sample needs a golden file: run
// `go test ./internal/enrich -run TestGoldenSamples -update` and review it.
func TestGoldenSamples(t *testing.T) {
	samples, err := filepath.Glob(filepath.Join(repoRoot(t), "events", "enrich", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) == 0 {
		t.Fatal("no samples in events/enrich")
	}
	for _, path := range samples {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			payload, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var ev events.KinesisEvent
			if err := json.Unmarshal(payload, &ev); err != nil {
				t.Fatalf("sample is not a Kinesis event: %v", err)
			}
			out, failed := &recorder{}, &recorder{}
			h := newHandler(t, out, failed)
			resp, err := h.Handle(t.Context(), ev)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]any{"response": resp, "events": rawList(t, out.acked), "failed": rawList(t, failed.acked)}
			b, err := json.MarshalIndent(got, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			b = append(b, '\n')
			golden := filepath.Join("testdata", "golden", strings.TrimSuffix(name, ".json")+".golden.json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("no golden file for %s (run with -update to write it): %v", name, err)
			}
			if !bytes.Equal(b, want) {
				gl, wl := bytes.Split(b, []byte("\n")), bytes.Split(want, []byte("\n"))
				for i := range min(len(gl), len(wl)) {
					if !bytes.Equal(gl[i], wl[i]) {
						t.Fatalf("output differs from %s at line %d:\ngot  %s\nwant %s", golden, i+1, gl[i], wl[i])
					}
				}
				t.Fatalf("output differs from %s in length: got %d lines, want %d", golden, len(gl), len(wl))
			}
		})
	}
}

// rawList turns the records a stream acknowledged into JSON values, so that golden files show them
// readably; every record must be valid JSON.
func rawList(t *testing.T, recs [][]byte) []json.RawMessage {
	t.Helper()
	out := []json.RawMessage{}
	for _, r := range recs {
		if !json.Valid(r) {
			t.Fatalf("record is not JSON: %q", r)
		}
		out = append(out, json.RawMessage(bytes.TrimSpace(r)))
	}
	return out
}
