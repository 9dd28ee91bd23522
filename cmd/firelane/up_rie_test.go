package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestUpRIE runs up with -rie: the three functions are their built bootstraps under the Runtime
// Interface Emulator (enrich reading its PII key from the secret the in-memory endpoint serves),
// and an event sent to the printed URL is delivered to the lake, a rejected one to rejected/.
func TestUpRIE(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the three functions and the runtime emulator; skipped with -short")
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	out := t.TempDir()
	// The three bootstraps and the emulator are built first: minutes on a busy machine without a
	// build cache.
	vars, logs, stop := startUp(t, upOptions{out: out, interval: 500 * time.Millisecond, rie: true}, 5*time.Minute)
	good := samplePageView(t, root)
	bad := map[string]any{"specversion": "1.0", "id": "bad-rie", "source": "/t", "type": good["type"]}
	if status, answer := postEvents(t, vars, good, bad); !strings.Contains(answer, `"accepted":1`) || !strings.Contains(answer, `"rejected":1`) {
		t.Fatalf("got %d %s, want one event accepted and one rejected", status, answer)
	}
	var delivered struct{ Events []consoleItem }
	for deadline := time.Now().Add(20 * time.Second); len(delivered.Events) == 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the event was not delivered:\n%s", tail(logs.String(), 20))
		}
		getJSON(t, vars["CONSOLE_API"]+"events?status=delivered", &delivered)
	}
	got := delivered.Events[0]
	var row map[string]any
	if err := json.Unmarshal(got.Row, &row); err != nil || row["event_id"] != good["id"] || row["fingerprint"] == nil {
		t.Errorf("got row %s, want the enriched lake row of %s", got.Row, good["id"])
	}
	if _, err := os.Stat(filepath.Join(out, filepath.FromSlash(got.S3Key))); err != nil {
		t.Errorf("the lake has no object %s: %v", got.S3Key, err)
	}
	if err := stop(); err != nil {
		t.Fatalf("up -rie: %v\n%s", err, tail(logs.String(), 10))
	}
	var rejected []byte
	_ = filepath.WalkDir(filepath.Join(out, "rejected"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			rejected = append(rejected, b...)
		}
		return nil
	})
	if !bytes.Contains(rejected, []byte(`"bad-rie"`)) {
		t.Errorf("the rejected event is not under %s/rejected after the stop", out)
	}
	// The bootstraps log JSON (functions in this process log text): each function's invocation line
	// says it ran under the emulator.
	for _, fn := range []string{"firelane-ingest", "firelane-enrich", "firelane-transform"} {
		if !strings.Contains(logs.String(), `"msg":"invocation","function":"`+fn+`"`) {
			t.Errorf("no invocation line of %s's bootstrap:\n%s", fn, tail(logs.String(), 30))
		}
	}
}
