package schematool

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/firelane/firelane/internal/schema"
)

func addSchemaSeeds(f *testing.F) {
	f.Add([]byte(baseSchema))
	f.Add([]byte(`{"a":[1,{"b":[]}],"c":{"d~/e":null}}`))
	f.Add([]byte(`[{"x":1}]`))
	f.Add([]byte(`{"a":`))
	if m, err := filepath.Glob(filepath.Join("..", "..", "schemas", "*.json")); err == nil {
		for _, p := range m {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
}

// FuzzParseFile checks that any text parses without a panic and that every line the index gives
// exists in the text.
func FuzzParseFile(f *testing.F) {
	addSchemaSeeds(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		file, err := ParseFile("com.acme.fuzz.v1.json", src)
		if err != nil {
			return
		}
		lines := lineOf(src, int64(len(src)))
		for ptr, l := range file.lines {
			if l < 1 || l > lines {
				t.Fatalf("pointer %q on line %d of a %d-line text", ptr, l, lines)
			}
		}
	})
}

// FuzzCompare checks that the classifier never panics, finds no change between a schema and
// itself, and calls every change between two schemas something.
func FuzzCompare(f *testing.F) {
	addSchemaSeeds(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		v, err := decodeJSON(src)
		if err != nil {
			return
		}
		doc, ok := v.(map[string]any)
		if !ok {
			return
		}
		if c := Compare(doc, doc); len(c) != 0 {
			t.Fatalf("a schema compared with itself has changes: %v", c)
		}
		base := mustDocF(baseSchema)
		for _, c := range append(Compare(base, doc), Compare(doc, base)...) {
			if c.Reason == "" {
				t.Fatalf("change at %s has no reason", c.Pointer)
			}
		}
		_ = dataType(nil, doc, "").Hive()
		_, _ = json.Marshal(Catalogue([]*File{{Key: schema.Key{Type: "com.acme.fuzz", Version: 1}, Name: "com.acme.fuzz.v1.json", Src: src, Doc: doc}}))
	})
}

func mustDocF(s string) map[string]any {
	v, err := decodeJSON([]byte(s))
	if err != nil {
		panic(err)
	}
	return v.(map[string]any)
}
