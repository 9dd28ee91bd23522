package fastschema_test

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/firelane/firelane/internal/schema"
)

func workloadPaths(t testing.TB) (schemas, events string) {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	wl := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "workload")
	if _, err := os.Stat(filepath.Join(wl, "out", "events.ndjson")); err != nil {
		t.Skipf("shared workload not found at %s (it sits beside the repository in CI): %v", wl, err)
	}
	return filepath.Join(wl, "schemas"), filepath.Join(wl, "out", "events.ndjson")
}

func lines(t testing.TB, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<26)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			out = append(out, bytes.Clone(sc.Bytes()))
		}
	}
	return out
}

// TestRegistryWorkload loads the workload's schemas as the edge does and checks that the fast path
// and jsonschema/v5 accept exactly the reference 19,626 of 20,000 events, with the same results.
func TestRegistryWorkload(t *testing.T) {
	dir, file := workloadPaths(t)
	reg, err := schema.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := reg.Validator(); got != schema.ValidatorFast {
		t.Fatalf("default validator %q, want %q", got, schema.ValidatorFast)
	}
	if d := reg.FastDeclined(); len(d) != 0 {
		t.Fatalf("the fast path declines workload schemas: %v", d)
	}
	evs := lines(t, file)
	if len(evs) != 20000 {
		t.Fatalf("got %d events, want 20000", len(evs))
	}
	fast := make([]schema.Result, len(evs))
	for i, ev := range evs {
		fast[i] = reg.ValidateJSON(ev, 10)
	}
	if err := reg.SetValidator(schema.ValidatorV5); err != nil {
		t.Fatal(err)
	}
	validFast, validV5 := 0, 0
	for i, ev := range evs {
		v5 := reg.ValidateJSON(ev, 10)
		if fast[i].Valid() {
			validFast++
		}
		if v5.Valid() {
			validV5++
		}
		if !reflect.DeepEqual(fast[i], v5) {
			t.Errorf("event %d: fast result %+v, v5 result %+v", i+1, fast[i], v5)
		}
	}
	if validFast != 19626 || validV5 != 19626 {
		t.Errorf("valid events: fast %d, v5 %d, want 19626", validFast, validV5)
	}
}

// TestDeclinedSchemaFallsBack checks that a data schema outside the supported subset is listed and
// validated by v5, while the others keep the fast path.
func TestDeclinedSchemaFallsBack(t *testing.T) {
	dir, _ := workloadPaths(t)
	tmp := t.TempDir()
	for _, f := range []string{"cloudevent.json", "com.example.web.page_view.v1.json"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tmp, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	declined := `{"type":"object","properties":{"n":{"type":"integer"}},"unevaluatedProperties":false}`
	if err := os.WriteFile(filepath.Join(tmp, "com.example.x.v1.json"), []byte(declined), 0o644); err != nil {
		t.Fatal(err)
	}
	reg, err := schema.LoadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	d := reg.FastDeclined()
	if len(d) != 1 || !strings.Contains(d[0], "com.example.x.v1.json") || !strings.Contains(d[0], "unevaluatedProperties") {
		t.Fatalf("declined %v, want com.example.x.v1.json for unevaluatedProperties", d)
	}
	for _, tc := range []struct {
		name  string
		event string
		valid bool
	}{
		{"declined schema, valid", `{"specversion":"1.0","id":"1","source":"/s","type":"com.example.x","data":{"n":1}}`, true},
		{"declined schema, unevaluated member", `{"specversion":"1.0","id":"1","source":"/s","type":"com.example.x","data":{"n":1,"m":2}}`, false},
		{"fast schema, valid", `{"specversion":"1.0","id":"1","source":"/s","type":"com.example.web.page_view","data":{"url":"https://a.example/","session_id":"f1d69ed6-17f5-4837-9708-20fe119a72d1"}}`, true},
		{"fast schema, bad uuid", `{"specversion":"1.0","id":"1","source":"/s","type":"com.example.web.page_view","data":{"url":"https://a.example/","session_id":"x"}}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := reg.ValidateJSON([]byte(tc.event), 0)
			if res.Valid() != tc.valid {
				t.Errorf("got valid=%v (%v), want %v", res.Valid(), res.Reasons, tc.valid)
			}
			if res.Attrs.ID != "1" || res.Attrs.Source != "/s" {
				t.Errorf("got attributes %+v", res.Attrs)
			}
		})
	}
}

// TestOutOfRangeNumberIsARejection checks that an exponent beyond math/big's range, on which
// jsonschema/v5 panics, is a rejection on both paths.
func TestOutOfRangeNumberIsARejection(t *testing.T) {
	dir, _ := workloadPaths(t)
	reg, err := schema.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	ev := []byte(`{"specversion":"1.0","id":"1","source":"/s","type":"com.example.iot.telemetry","data":{"device_id":"dev-0ed90475","readings":{"rssi_dbm":-1e9999999}}}`)
	for _, v := range []schema.Validator{schema.ValidatorFast, schema.ValidatorV5} {
		if err := reg.SetValidator(v); err != nil {
			t.Fatal(err)
		}
		res := reg.ValidateJSON(ev, 0)
		if res.Valid() || len(res.Reasons) == 0 {
			t.Errorf("%s: got %+v, want a rejection", v, res)
		}
	}
}

// BenchmarkRegistryValidateJSON measures the edge's call per event, valid and invalid alike, with
// each validator.
func BenchmarkRegistryValidateJSON(b *testing.B) {
	dir, file := workloadPaths(b)
	evs := lines(b, file)
	size := 0
	for _, ev := range evs {
		size += len(ev)
	}
	for _, v := range []schema.Validator{schema.ValidatorFast, schema.ValidatorV5} {
		b.Run(string(v), func(b *testing.B) {
			reg, err := schema.LoadDir(dir)
			if err != nil {
				b.Fatal(err)
			}
			if err := reg.SetValidator(v); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size / len(evs)))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				reg.ValidateJSON(evs[i%len(evs)], 10)
			}
		})
	}
}

// TestValidateJSONAllocations checks the cost of a valid event on the edge's call: at most one
// allocation, for the attribute strings of the Result (a block that later events share).
func TestValidateJSONAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop entries, so allocations are not counted")
	}
	dir, file := workloadPaths(t)
	reg, err := schema.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	evs := lines(t, file)[:200]
	for _, ev := range evs {
		if !reg.ValidateJSON(ev, 10).Valid() {
			continue
		}
		if n := testing.AllocsPerRun(20, func() { reg.ValidateJSON(ev, 10) }); n > 1 {
			t.Fatalf("%s: %v allocations, want at most 1", ev, n)
		}
	}
}
