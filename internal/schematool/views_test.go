package schematool

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/firelane/firelane/internal/cfn"
	"github.com/firelane/firelane/internal/lake"
	"github.com/firelane/firelane/internal/localaws/pipeline"
	"github.com/firelane/firelane/internal/schema"
)

// TestTextColumnsAreTheJSONTextColumns checks that the columns the transform writes as JSON text
// under Parquet output are exactly the generic table's JSON-text columns.
func TestTextColumnsAreTheJSONTextColumns(t *testing.T) {
	var got []string
	for _, c := range GenericColumns() {
		if c.Type.JSONText {
			got = append(got, c.Name)
		}
	}
	if !slices.Equal(got, lake.TextColumns) {
		t.Errorf("got JSON-text columns %v, want lake.TextColumns %v", got, lake.TextColumns)
	}
}

// TestViewMismatch checks the JSON cast rules against one schema.
func TestViewMismatch(t *testing.T) {
	f, err := ParseFile("t.v1.json", []byte(`{"type":"object","properties":{
		"s":{"type":"string"},"i":{"type":"integer"},"x":{"type":"number"},"b":{"type":"boolean"},
		"free":{"type":"object"},"arr":{"type":"array","items":{"type":"integer"}},
		"o":{"type":"object","properties":{"n":{"type":"integer"}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	f.Key = schema.Key{Type: "t", Version: 1}
	tests := []struct {
		name, text, want string
	}{
		{"all null or missing", `{"s":null}`, ""},
		{"every type", `{"s":"a","i":-9223372036854775808,"x":1.5e3,"b":true,"free":{"a":[1]},"arr":[1,null],"o":{"N":2}}`, ""},
		{"number and boolean to varchar", `{"s":12.5}`, ""},
		{"integer to double", `{"x":3}`, ""},
		{"extra members", `{"zzz":{"y":1}}`, ""},
		{"row from an array", `{"o":[7]}`, ""},
		{"object to varchar", `{"s":{"a":1}}`, "data.s: CAST of a JSON object to varchar fails"},
		{"string to bigint", `{"i":"1"}`, "data.i: CAST of a JSON string to bigint"},
		{"fraction to bigint", `{"i":1.5}`, "data.i: CAST of a JSON number to bigint"},
		{"bigint overflow", `{"i":9223372036854775808}`, "out of range"},
		{"string to double", `{"x":"1"}`, "data.x: CAST of a JSON string to double"},
		{"number to boolean", `{"b":1}`, "data.b: CAST of a JSON integer to boolean"},
		{"scalar to array", `{"arr":1}`, "data.arr: CAST of a JSON integer to array(bigint) fails"},
		{"array element", `{"arr":[1,"2"]}`, "data.arr[1]: CAST of a JSON string to bigint"},
		{"nested field", `{"o":{"n":true}}`, "data.o.n: CAST of a JSON boolean to bigint"},
		{"not JSON", `{"s":`, "json_parse fails"},
		{"two values", `{} {}`, "json_parse fails"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ViewMismatch(f, tc.text)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// memSink keeps the objects a delivery writes.
type memSink struct {
	mu   sync.Mutex
	objs map[string][]byte
}

func (m *memSink) Put(_ context.Context, key string, body []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.objs == nil {
		m.objs = map[string][]byte{}
	}
	m.objs[key] = append([]byte(nil), body...)
	return nil
}

// parquetLake sends inputs through the local chain with Parquet output, with the schemas of dir,
// and returns the data text of every stored row by event type partition.
func parquetLake(t *testing.T, dir string, inputs []string) map[string][]string {
	t.Helper()
	reg, err := schema.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	table := ParquetTable("firelane")
	chain, err := pipeline.New(pipeline.Config{Registry: reg, Sink: sink, Parquet: &table, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	reqs, err := pipeline.LoadRequests(inputs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reqs {
		if _, err := chain.SendRequest(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := chain.Drain(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Events.OtherFailed != 0 || rep.Events.ProcessingFailed != 0 {
		t.Fatalf("got %+v, want every event delivered", rep.Events)
	}
	out := map[string][]string{}
	for key, body := range sink.objs {
		if !strings.HasPrefix(key, "events/") {
			continue
		}
		if !strings.HasSuffix(key, ".parquet") {
			t.Fatalf("object %s is not a Parquet object", key)
		}
		typ := strings.TrimPrefix(strings.Split(key, "/")[1], lake.KeyEventType+"=")
		f, err := parquet.OpenFile(bytes.NewReader(body), int64(len(body)))
		if err != nil {
			t.Fatal(err)
		}
		r := parquet.NewReader(f)
		for {
			row := map[string]any{}
			if err := r.Read(&row); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			text, _ := row["data"].(string)
			out[typ] = append(out[typ], text)
		}
		r.Close()
	}
	return out
}

// TestParquetViewsOverWorkload converts the shared workload to a Parquet lake and checks, for every
// typed column of every per-type view, that each stored data text casts to the view's type.
func TestParquetViewsOverWorkload(t *testing.T) {
	dir := filepath.Join(repoRoot(t), "..", "shared", "workload")
	if _, err := os.Stat(filepath.Join(dir, "out", "events.ndjson")); err != nil {
		t.Skipf("the shared workload is not at %s: %v", dir, err)
	}
	files, _, err := LoadFiles(filepath.Join(dir, "schemas"))
	if err != nil {
		t.Fatal(err)
	}
	byType := map[string]*File{}
	for _, f := range files {
		if f.Key.Type != "" {
			byType[lake.SafeValue(f.Key.Type)] = f
		}
	}
	rows := parquetLake(t, filepath.Join(dir, "schemas"), []string{filepath.Join(dir, "out", "events.ndjson")})
	n := 0
	for typ, texts := range rows {
		f := byType[typ]
		if f == nil {
			t.Fatalf("partition %s has no schema", typ)
		}
		for _, text := range texts {
			n++
			if m := ViewMismatch(f, text); m != "" {
				t.Fatalf("view %s: a stored row does not cast: %s", TableName(f.Key), m)
			}
		}
	}
	if n != 19626 {
		t.Errorf("checked %d rows, want the workload's 19,626 accepted events", n)
	}
}

// TestTypeChangeBreaksTheView changes a field's type within a major version without regenerating
// the template: conversion still succeeds (data is text), `schema check` warns that the Parquet
// table and the views no longer match, and the view check fails on the rows already stored.
func TestTypeChangeBreaksTheView(t *testing.T) {
	root := repoRoot(t)
	src := filepath.Join(root, "schemas")
	tpl, err := cfn.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	files, _, err := LoadFiles(src)
	if err != nil {
		t.Fatal(err)
	}
	if d := CheckTemplate(src, files, tpl); len(d) != 0 {
		t.Fatalf("got %v for the repository's schemas, want no warning", d)
	}
	// The rows stored under the current schema: the examples, through the local chain.
	stored := parquetLake(t, src, []string{filepath.Join(root, "events", "ingest", "valid-com.acme.web.page_view-v1.json")})
	texts := stored["com.acme.web.page_view"]
	if len(texts) == 0 {
		t.Fatalf("no stored page views: %v", stored)
	}

	changed := t.TempDir()
	for _, f := range files {
		b := f.Src
		if f.Key.Type == "com.acme.web.page_view" {
			b = bytes.Replace(b, []byte(`"width": {"type": "integer", "minimum": 0, "maximum": 100000}`), []byte(`"width": {"type": "boolean"}`), 1)
		}
		p := filepath.Join(changed, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{schema.EnvelopeFile} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(changed, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	newFiles, _, err := LoadFiles(changed)
	if err != nil {
		t.Fatal(err)
	}
	var pv *File
	for _, f := range newFiles {
		if f.Key.Type == "com.acme.web.page_view" {
			pv = f
		}
	}
	if _, now := ViewParameter(pv); !strings.Contains(now, `"width" boolean`) {
		t.Fatalf("the edit did not change width's type: %s", now)
	}
	diags := CheckTemplate(changed, newFiles, tpl)
	if len(diags) != 1 || !diags[0].Warning || !strings.Contains(diags[0].Message, "no longer match") ||
		!strings.HasSuffix(diags[0].File, "com.acme.web.page_view.v1.json") {
		t.Fatalf("got %v, want one warning that the table and the page view no longer match", diags)
	}
	failed := 0
	for _, text := range texts {
		if m := ViewMismatch(pv, text); m != "" {
			if !strings.Contains(m, "data.viewport.width") {
				t.Errorf("got %q, want the width field named", m)
			}
			failed++
		}
	}
	if failed == 0 {
		t.Errorf("every stored page view still casts to the changed view; want the view check to fail")
	}
}
