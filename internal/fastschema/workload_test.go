package fastschema

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/firelane/firelane/internal/event"
)

// wantValid is the reference number of valid events in the shared workload's events.ndjson.
const wantValid = 19626

// workloadV5 holds the workload's schemas compiled by v5, keyed like the registry's.
type workloadV5 struct {
	envelope *jsonschema.Schema
	data     map[string]*jsonschema.Schema // "type/vN"
}

var schemaFile = regexp.MustCompile(`^(.+)\.v([0-9]+)\.json$`)

// loadWorkload compiles the schemas of dir with v5 and the fast path, and reads the events.
func loadWorkload(t testing.TB) (*Events, *workloadV5, [][]byte) {
	t.Helper()
	shared := sharedDir(t)
	dir := filepath.Join(shared, "workload", "schemas")
	c := newV5Compiler("")
	src, err := os.ReadFile(filepath.Join(dir, "cloudevent.json"))
	if err != nil {
		t.Fatal(err)
	}
	envV5, envFast, err := compileBoth(t, c, "firelane:///cloudevent.json", src)
	if err != nil {
		t.Fatalf("cloudevent.json: %v", err)
	}
	events, err := NewEvents(envFast)
	if err != nil {
		t.Fatal(err)
	}
	w := &workloadV5{envelope: envV5, data: map[string]*jsonschema.Schema{}}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	for _, f := range files {
		m := schemaFile.FindStringSubmatch(filepath.Base(f))
		if m == nil {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s5, fast, err := compileBoth(t, c, "firelane:///"+filepath.Base(f), src)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		v, _ := strconv.Atoi(m[2])
		events.Add(m[1], v, fast)
		w.data[m[1]+"/v"+m[2]] = s5
	}
	return events, w, readLines(t, filepath.Join(shared, "workload", "out", "events.ndjson"))
}

func readLines(t testing.TB, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("workload not found: %v", err)
	}
	defer f.Close()
	var lines [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			lines = append(lines, bytes.Clone(sc.Bytes()))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// valid decides an event the way internal/schema does with v5 alone.
func (w *workloadV5) valid(raw []byte) (ok, panicked bool) {
	v, decoded := decodeUseNumber(raw)
	if !decoded {
		return false, false
	}
	if v5ok, p := v5Valid(w.envelope, raw); !v5ok {
		return false, p
	}
	obj := v.(map[string]any)
	typ, _ := obj["type"].(string)
	ds, _ := obj["dataschema"].(string)
	s, found := w.data[typ+"/v"+strconv.Itoa(event.MajorVersion(ds))]
	if !found {
		return false, false
	}
	defer func() {
		if r := recover(); r != nil {
			ok, panicked = false, true
		}
	}()
	return s.Validate(obj["data"]) == nil, false
}

func TestWorkload(t *testing.T) {
	events, w, lines := loadWorkload(t)
	fastValid, v5Valid := 0, 0
	kept := make([]event.Attrs, len(lines))
	for i, line := range lines {
		got := events.Validate(line, &kept[i])
		want, _ := w.valid(line)
		if got == Valid {
			fastValid++
		}
		if want {
			v5Valid++
		}
		if (got == Valid) != want {
			t.Errorf("line %d: fast path says %v, v5 says valid=%v: %s", i+1, got, want, line)
		}
		if got == Undecided {
			t.Errorf("line %d: undecided, but no workload schema is declined", i+1)
		}
	}
	if fastValid != wantValid || v5Valid != wantValid {
		t.Errorf("valid events: fast path %d, v5 %d, want %d", fastValid, v5Valid, wantValid)
	}
	// The attributes of every event, kept while the later ones were validated, are still its own
	// (the events' attribute strings share blocks of memory).
	for i, line := range lines {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			continue
		}
		str := func(k string) string { s, _ := m[k].(string); return s }
		want := event.Attrs{ID: str("id"), Type: str("type"), Source: str("source"), Subject: str("subject"), DataSchema: str("dataschema")}
		if kept[i] != want {
			t.Fatalf("line %d: got attributes %+v, want %+v", i+1, kept[i], want)
		}
	}
}

// TestValidEventsDoNotAllocate checks the fast path's promise: no allocation for a valid event
// once warm.
func TestValidEventsDoNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop entries, so allocations are not counted")
	}
	events, _, lines := loadWorkload(t)
	checked := 0
	for _, line := range lines[:500] {
		if events.Validate(line, nil) != Valid {
			continue
		}
		checked++
		if n := testing.AllocsPerRun(20, func() { events.Validate(line, nil) }); n != 0 {
			t.Fatalf("%s: %v allocations, want 0", line, n)
		}
	}
	if checked == 0 {
		t.Fatal("no valid event among the first 500")
	}
}

// TestConcurrentValidation validates the workload from several goroutines at once: verdicts and
// attributes must not depend on what the others are doing (run it with -race too).
func TestConcurrentValidation(t *testing.T) {
	events, _, lines := loadWorkload(t)
	lines = lines[:2000]
	want := make([]Verdict, len(lines))
	wantAttrs := make([]event.Attrs, len(lines))
	for i, l := range lines {
		want[i] = events.Validate(l, &wantAttrs[i])
	}
	done := make(chan error)
	for g := 0; g < 4; g++ {
		go func(g int) {
			for k := range lines {
				i := (k*7 + g*131) % len(lines)
				var a event.Attrs
				if got := events.Validate(lines[i], &a); got != want[i] || a != wantAttrs[i] {
					done <- fmt.Errorf("line %d: got %v %+v, want %v %+v", i+1, got, a, want[i], wantAttrs[i])
					return
				}
			}
			done <- nil
		}(g)
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
