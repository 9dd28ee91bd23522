package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firelane/firelane/internal/localaws/moto"
)

// chdirRepo runs the test from the repository root, where the default inputs are.
func chdirRepo(t *testing.T) {
	t.Helper()
	wd, _ := os.Getwd()
	t.Chdir(filepath.Join(wd, "..", ".."))
	t.Setenv("SCHEMAS_DIR", "") // the commands load the repository's schemas, not a caller's
	moto.IsolateAWS(t)
}

// captureStdout returns what f prints.
func captureStdout(t *testing.T, f func() error) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); done <- b }()
	ferr := f()
	w.Close()
	os.Stdout = old
	out := <-done
	if ferr != nil {
		t.Fatalf("%v\n%s", ferr, out)
	}
	return string(out)
}

// rowIDs returns the event ids of the lake rows in an object.
func rowIDs(t *testing.T, key string, body []byte) []string {
	t.Helper()
	var ids []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 8<<20)
	for sc.Scan() {
		var row struct {
			EventID string `json:"event_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil || row.EventID == "" {
			t.Fatalf("%s: not a lake row: %q", key, sc.Bytes())
		}
		ids = append(ids, row.EventID)
	}
	return ids
}

// TestLocalToDirectory runs the README's main job: the valid samples land under the output
// directory with the S3 keys of a deployed stack.
func TestLocalToDirectory(t *testing.T) {
	chdirRepo(t)
	dir := t.TempDir()
	out := captureStdout(t, func() error { return runLocal([]string{"-out", dir}) })
	if !strings.Contains(out, "0 rejected, 0 failed") || strings.Contains(out, "processing-failed, 1") {
		t.Errorf("valid samples did not all pass:\n%s", out)
	}
	n := 0
	err := filepath.WalkDir(filepath.Join(dir, "events"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		n += len(rowIDs(t, p, b))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatalf("no rows under %s/events:\n%s", dir, out)
	}
}

// TestLocalToMoto points the main job at moto's S3: the same delivery emulation writes GZIPped
// objects under the same keys into the bucket.
func TestLocalToMoto(t *testing.T) {
	chdirRepo(t)
	url := moto.StartMoto(t)
	out := captureStdout(t, func() error {
		return runLocal([]string{"-s3-endpoint", url, "-bucket", "lake", "events/ingest/valid-batch.json", "events/ingest/invalid-mixed.json"})
	})
	keys, bodies := moto.S3Objects(t, url, "lake", "")
	ids := map[string]bool{}
	rejected := 0
	for i, k := range keys {
		if !strings.HasSuffix(k, ".gz") {
			t.Errorf("object %s is not GZIPped", k)
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(bodies[i]))
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		body, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		switch {
		case strings.HasPrefix(k, "events/event_type="):
			for _, id := range rowIDs(t, k, body) {
				ids[id] = true
			}
		case strings.HasPrefix(k, "rejected/stage=ingest/"):
			rejected += bytes.Count(body, []byte("\n"))
		default:
			t.Errorf("unexpected object %s", k)
		}
	}
	// valid-batch.json: 3 events; invalid-mixed.json: 1 accepted, 3 rejected.
	if len(ids) != 4 || rejected != 3 {
		t.Errorf("bucket holds %d distinct events and %d rejected, want 4 and 3:\n%s", len(ids), rejected, out)
	}
}
