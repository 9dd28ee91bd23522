package fastschema

import (
	"bytes"
	"io/fs"
	"testing"

	"github.com/firelane/firelane/schemas"
)

// shippedSchemas reads the schema files the functions embed.
func shippedSchemas(tb testing.TB) map[string][]byte {
	tb.Helper()
	files, err := fs.Glob(schemas.FS, "*.json")
	if err != nil || len(files) == 0 {
		tb.Fatalf("got %d schema files (%v), want some", len(files), err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := fs.ReadFile(schemas.FS, f)
		if err != nil {
			tb.Fatal(err)
		}
		out[f] = b
	}
	return out
}

// compileShipped builds the fast validator of the shipped schemas as the registry does at
// start-up: every document added, the envelope and each data schema compiled.
func compileShipped(tb testing.TB, docs map[string][]byte) *Events {
	c := NewCompiler()
	for f, src := range docs {
		if err := c.AddResource("firelane:///"+f, src); err != nil {
			tb.Fatal(err)
		}
	}
	env, err := c.Compile("firelane:///cloudevent.json")
	if err != nil {
		tb.Fatal(err)
	}
	events, err := NewEvents(env)
	if err != nil {
		tb.Fatal(err)
	}
	for f := range docs {
		m := schemaFile.FindStringSubmatch(f)
		if m == nil {
			continue
		}
		s, err := c.Compile("firelane:///" + f)
		if err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		events.Add(m[1], 1, s)
	}
	return events
}

// BenchmarkCompile measures the start-up cost of the shipped schemas: the fast path's compilation
// from the documents, and jsonschema/v5's for comparison (the registry does both).
func BenchmarkCompile(b *testing.B) {
	docs := shippedSchemas(b)
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			compileShipped(b, docs)
		}
	})
	b.Run("v5", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c := newV5Compiler("")
			for f, src := range docs {
				if err := c.AddResource("firelane:///"+f, bytes.NewReader(src)); err != nil {
					b.Fatal(err)
				}
			}
			for f := range docs {
				if _, err := c.Compile("firelane:///" + f); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
