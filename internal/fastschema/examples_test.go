package fastschema

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/firelane/firelane/schemas"
)

// replacements are the values put in place of each member and item of a seed instance.
var replacements = []any{
	nil, true, false, "", "x", "dev-0a1b2c3d", "2026-11-18T18:03:30Z", "ada@example.com",
	"https://a.example/x", "8f14e45f-ceea-467f-a0f8-7c2c3c1c2d3e", json.Number("0"), json.Number("-1"),
	json.Number("1.5"), json.Number("2.0"), json.Number("0.01"), json.Number("100000000000000000000001"),
	json.Number("1e9999999"), []any{}, map[string]any{},
}

// mutations returns the text of v and, for every member and item inside it, of v with that member
// or item removed and with it replaced by each of the replacements.
func mutations(v any) [][]byte {
	out := [][]byte{marshal(v)}
	var walk func(cur any, set func(any), remove func())
	walk = func(cur any, set func(any), remove func()) {
		if remove != nil {
			remove()
			out = append(out, marshal(v))
			set(cur)
			for _, r := range replacements {
				set(r)
				out = append(out, marshal(v))
			}
			set(cur)
		}
		switch x := cur.(type) {
		case map[string]any:
			for _, k := range sortedKeys(x) {
				val := x[k]
				walk(val, func(nv any) { x[k] = nv }, func() { delete(x, k) })
			}
		case []any:
			for i := range x {
				val := x[i]
				walk(val, func(nv any) { x[i] = nv }, func() { x[i] = "removed" })
			}
		}
	}
	walk(v, nil, nil)
	return out
}

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func cloneValue(v any) any {
	b := marshal(v)
	c, ok := decodeUseNumber(b)
	if !ok {
		panic("cannot decode " + string(b))
	}
	return c
}

// maxMutations bounds the mutations tried per seed, so that a seed with many values (a crash's
// stack trace) keeps the test short; the ones tried are spread over all of them.
const maxMutations = 300

// spread returns at most n of xs, evenly spaced, the first always among them.
func spread[T any](xs []T, n int) []T {
	if len(xs) <= n {
		return xs
	}
	out := make([]T, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, xs[i*len(xs)/n])
	}
	return out
}

// TestSchemaExamples compares the fast path with jsonschema/v5 on every schema the project ships
// and every workload schema: on the examples and x-invalid-examples each schema carries, on
// workload events (the envelopes) and their data (the data schemas), and on every mutation of
// those that removes or replaces one value. It also checks that v5 accepts each example and
// rejects each invalid one.
func TestSchemaExamples(t *testing.T) {
	lines := readLines(t, filepath.Join(sharedDir(t), "workload", "out", "events.ndjson"))
	// The first thousand events hold every workload type several times.
	var events []map[string]any
	for _, line := range lines[:min(1000, len(lines))] {
		if v, ok := decodeUseNumber(line); ok {
			if ev, ok := v.(map[string]any); ok {
				events = append(events, ev)
			}
		}
	}
	type dir struct {
		name string
		fsys fs.FS
	}
	dirs := []dir{
		{"schemas", schemas.FS},
		{"workload", os.DirFS(filepath.Join(sharedDir(t), "workload", "schemas"))},
	}
	totalSchemas, totalInstances, totalExamples := 0, 0, 0
	for _, dd := range dirs {
		files, err := fs.Glob(dd.fsys, "*.json")
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range files {
			src, err := fs.ReadFile(dd.fsys, file)
			if err != nil {
				t.Fatal(err)
			}
			t.Run(dd.name+"/"+file, func(t *testing.T) {
				c := newV5Compiler("")
				s5, fast, err := compileBoth(t, c, "firelane:///"+file, src)
				if err != nil {
					t.Fatalf("compile: %v", err)
				}
				doc, _ := decodeUseNumber(src)
				m, _ := doc.(map[string]any)
				valid, _ := m["examples"].([]any)
				invalid, _ := m["x-invalid-examples"].([]any)
				for i, ex := range valid {
					text, _ := json.Marshal(ex)
					if ok, _ := v5Valid(s5, text); !ok {
						t.Errorf("examples[%d]: got invalid from v5, want valid: %s", i, text)
					}
				}
				for i, ex := range invalid {
					text, _ := json.Marshal(ex)
					if ok, _ := v5Valid(s5, text); ok {
						t.Errorf("x-invalid-examples[%d]: got valid from v5, want invalid: %s", i, text)
					}
				}
				seeds := append(append([]any{}, valid...), invalid...)
				totalExamples += len(seeds)
				seeds = append(seeds, workloadSeeds(t, file, events, 5)...)
				if len(seeds) == 0 {
					t.Fatal("no examples and no workload events to seed the comparison")
				}
				instances, accepted := 0, 0
				for _, seed := range seeds {
					for _, text := range spread(mutations(cloneValue(seed)), maxMutations) {
						want, _ := v5Valid(s5, text)
						if got := fast.Validate(text); got != want {
							t.Errorf("got valid=%v from the fast path, want %v as v5: %s", got, want, text)
						}
						instances++
						if want {
							accepted++
						}
					}
				}
				if accepted == 0 || accepted == instances {
					t.Errorf("got %d of %d instances valid: the comparison needs both outcomes", accepted, instances)
				}
				totalSchemas++
				totalInstances += instances
			})
		}
	}
	t.Logf("%d schemas, %d examples, %d instances compared with v5", totalSchemas, totalExamples, totalInstances)
}

// workloadSeeds returns up to n workload events for an envelope schema, or the data of up to n
// events of the type a data schema's file name gives.
func workloadSeeds(t *testing.T, file string, events []map[string]any, n int) []any {
	t.Helper()
	typ := ""
	if m := schemaFile.FindStringSubmatch(file); m != nil {
		typ = m[1]
	} else if file != "cloudevent.json" {
		return nil
	}
	var out []any
	for _, ev := range events {
		if len(out) == n {
			break
		}
		switch {
		case typ == "":
			out = append(out, ev)
		case ev["type"] == typ:
			out = append(out, ev["data"])
		}
	}
	return out
}

// TestMutationsCoverEveryValue checks the mutation helper itself: every member and item is removed
// once and replaced by every replacement once, and the seed is left as it was.
func TestMutationsCoverEveryValue(t *testing.T) {
	seed := map[string]any{"a": []any{json.Number("1"), "b"}, "c": map[string]any{"d": nil}}
	before := marshal(seed)
	got := mutations(seed)
	after := marshal(seed)
	if string(before) != string(after) {
		t.Fatalf("got seed %s after mutations, want %s", after, before)
	}
	// Five values ("a", its two items, "c", "d"), each removed once and replaced len(replacements)
	// times, plus the seed itself.
	if want := 1 + 5*(1+len(replacements)); len(got) != want {
		t.Errorf("got %d mutations, want %d", len(got), want)
	}
	seen := map[string]bool{}
	for _, m := range got {
		seen[string(m)] = true
	}
	var keys []string
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, want := range []string{`{"a":[1,"b"]}`, `{"a":["removed","b"],"c":{"d":null}}`, `{"a":[1,"b"],"c":{"d":"x"}}`, `{"a":{},"c":{"d":null}}`} {
		if !seen[want] {
			t.Errorf("got no mutation %s among %d:\n%s", want, len(keys), strings.Join(keys[:min(5, len(keys))], "\n"))
		}
	}
}
