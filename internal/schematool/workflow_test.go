package schematool

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	localfirehose "github.com/firelane/firelane/internal/localaws/firehose"
	"github.com/firelane/firelane/internal/localaws/pipeline"
	"github.com/firelane/firelane/internal/schema"
)

// copyDir copies the directory src to dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// tempRepo copies the repository's schemas and sample events into a temporary directory, so that a
// test can add a type without touching the real repository.
func tempRepo(t *testing.T) Layout {
	t.Helper()
	root := repoRoot(t)
	dir := t.TempDir()
	copyDir(t, filepath.Join(root, "schemas"), filepath.Join(dir, "schemas"))
	copyDir(t, filepath.Join(root, "events"), filepath.Join(dir, "events"))
	if err := os.MkdirAll(filepath.Join(dir, "docs"), 0o755); err != nil {
		t.Fatal(err)
	}
	return RepoLayout(dir)
}

// lakeRows reads every row under the events/ prefix of a local lake, by event type and version.
func lakeRows(t *testing.T, dir string) map[string][]map[string]any {
	t.Helper()
	rows := map[string][]map[string]any{}
	err := filepath.WalkDir(filepath.Join(dir, "events"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
			v, err := decodeJSON(line)
			if err != nil {
				t.Fatalf("%s: row is not JSON: %v", p, err)
			}
			row := v.(map[string]any)
			key := row["event_type"].(string) + "/v" + row["event_version"].(json.Number).String()
			rows[key] = append(rows[key], row)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// runChain sends requests through the local chain (ingest, Kinesis, enrich, Firehose, transform)
// and returns the lake directory and how many events were accepted.
func runChain(t *testing.T, reg *schema.Registry, reqs []pipeline.Request) (string, int) {
	t.Helper()
	lake := t.TempDir()
	chain, err := pipeline.New(pipeline.Config{Registry: reg, Sink: localfirehose.DirSink{Dir: lake}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	accepted := 0
	for _, r := range reqs {
		resp, err := chain.Send(t.Context(), r.Req)
		if err != nil {
			t.Fatalf("%s: %v", r.Name, err)
		}
		var body struct {
			Accepted int `json:"accepted"`
		}
		if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
			t.Fatalf("%s: answer %s", r.Name, resp.Body)
		}
		accepted += body.Accepted
	}
	rep, err := chain.Drain(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Events.Delivered != accepted || rep.Events.ProcessingFailed+rep.Events.OtherFailed != 0 {
		t.Fatalf("lake got %d rows (%d failed) for %d accepted events", rep.Events.Delivered, rep.Events.ProcessingFailed+rep.Events.OtherFailed, accepted)
	}
	return lake, accepted
}

// TestNewTypeFlowsToTheLake is the schema author's workflow in a copy of the repository: scaffold
// a type with New, check it, send its generated sample through the local chain, and find its row
// in the lake, readable by the table `athena` generates.
func TestNewTypeFlowsToTheLake(t *testing.T) {
	l := tempRepo(t)
	before, err := Check(l.Schemas)
	if err != nil {
		t.Fatal(err)
	}
	const typ = "com.example.firelane_test.widget_checked" // a type no real schema uses
	written, err := New(l, typ, NewOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		filepath.Join(l.Schemas, typ+".v1.json"),
		filepath.Join(l.Events, "ingest", "valid-"+typ+"-v1.json"),
		filepath.Join(l.Events, "ingest", "invalid-"+typ+"-v1.json"),
		filepath.Join(l.Events, "enrich", "kinesis-"+typ+"-v1.json"),
		filepath.Join(l.Events, "transform", "firehose-"+typ+"-v1.json"),
	} {
		if _, err := os.Stat(want); err != nil {
			t.Errorf("New did not write %s (wrote %v)", want, written)
		}
	}
	if _, err := New(l, typ, NewOptions{Version: 1}); err == nil {
		t.Errorf("New overwrote an existing schema")
	}

	rep, err := Check(l.Schemas)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Errors() != 0 {
		t.Fatalf("check of the scaffold fails: %v", rep.Diagnostics)
	}
	if n := rep.CounterExamples - before.CounterExamples; n != 3 {
		t.Errorf("got %d more counter-examples rejected, want the scaffold's 3", n)
	}

	reg, err := schema.LoadDir(l.Schemas)
	if err != nil {
		t.Fatal(err)
	}
	// The glob `firelane local` and the chain tests use picks the new sample up by its name.
	valid, _ := filepath.Glob(filepath.Join(l.Events, "ingest", "valid-*.json"))
	mine := filepath.Join(l.Events, "ingest", "valid-"+typ+"-v1.json")
	if !slices.Contains(valid, mine) {
		t.Fatalf("events/ingest/valid-*.json does not match %s", mine)
	}
	reqs, err := pipeline.LoadRequests([]string{mine})
	if err != nil || len(reqs) != 1 {
		t.Fatalf("load the new sample: %v (%d requests)", err, len(reqs))
	}
	lake, accepted := runChain(t, reg, reqs)
	if accepted != 1 {
		t.Fatalf("got %d events accepted, want the sample's 1", accepted)
	}
	rows := lakeRows(t, lake)[typ+"/v1"]
	if len(rows) != 1 {
		t.Fatalf("got %d rows of %s in the lake, want 1", len(rows), typ)
	}
	data := rows[0]["data"].(map[string]any)
	if data["name"] != "example" {
		t.Errorf("got data %v, want the example's name", data)
	}
	if email, _ := data["email"].(string); len(email) != 64 || strings.Contains(email, "@") {
		t.Errorf("email %q reached the lake unhashed", email)
	}

	// A rejected sample is rejected by the chain too.
	bad, err := pipeline.LoadRequests([]string{filepath.Join(l.Events, "ingest", "invalid-"+typ+"-v1.json")})
	if err != nil {
		t.Fatal(err)
	}
	if _, accepted := runChain(t, reg, bad); accepted != 0 {
		t.Errorf("got %d counter-examples accepted", accepted)
	}

	// A second major version starts as a copy of the first, with its own $id.
	if _, err := New(l, typ, NewOptions{}); err != nil {
		t.Fatal(err)
	}
	f, err := ParseFile(typ+".v2.json", mustRead(t, filepath.Join(l.Schemas, typ+".v2.json")))
	if err != nil || f.Doc["$id"] != ID(schema.Key{Type: typ, Version: 2}) {
		t.Fatalf("v2 scaffold: %v, $id %v", err, f.Doc["$id"])
	}
	if rep, _ := Check(l.Schemas); rep.Errors() != 0 {
		t.Fatalf("check after adding v2: %v", rep.Diagnostics)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewRejectsBadTypes(t *testing.T) {
	l := RepoLayout(t.TempDir())
	for _, typ := range []string{"", "cart", "Com.Acme.Cart", "com.acme/cart", "com..acme", "../etc/passwd"} {
		if _, err := New(l, typ, NewOptions{}); err == nil {
			t.Errorf("New accepted type %q", typ)
		}
	}
}

// TestDDLAgreesWithTheLake sends every example of every schema through the local chain and checks
// each lake row against the columns of the table `athena` generates for its type: every value
// fits its column's type, and every member has a column.
func TestDDLAgreesWithTheLake(t *testing.T) {
	root := repoRoot(t)
	l := RepoLayout(root)
	files, errs, err := LoadFiles(l.Schemas)
	if err != nil || len(errs) > 0 {
		t.Fatal(err, errs)
	}
	reg, err := schema.LoadDir(l.Schemas)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Fixtures(l)
	if err != nil {
		t.Fatal(err)
	}
	var reqs []pipeline.Request
	for _, f := range files {
		var req pipeline.Request
		if err := json.Unmarshal(want[ingestValidName(f.Key)], &req.Req); err != nil {
			t.Fatal(err)
		}
		req.Name = f.Name
		reqs = append(reqs, req)
	}
	lake, _ := runChain(t, reg, reqs)
	rows := lakeRows(t, lake)
	json := AthenaTables(files, AthenaOptions{})
	parquet := AthenaTables(files, AthenaOptions{Format: FormatParquet})
	for _, f := range files {
		got := rows[idSeed(f.Key)]
		examples, _ := f.Doc["examples"].([]any)
		if len(got) != len(examples) {
			t.Errorf("%s: got %d rows, want one per example (%d)", f.Key, len(got), len(examples))
		}
		for _, tables := range [][]Table{json, parquet} {
			for _, tb := range tables {
				if tb.Key != f.Key && tb.Name != GenericTable {
					continue
				}
				cols := &ColumnType{Kind: "struct", Fields: tb.Columns}
				if tb.Name == GenericTable {
					cols.Fields = append(append([]Field(nil), cols.Fields...), Field{"event_type", stringType}, Field{"event_version", &ColumnType{Kind: "int"}})
				}
				for _, row := range got {
					if m := Mismatch(cols, row, tb.Name); m != "" {
						t.Errorf("%s: %s", f.Key, m)
					}
				}
			}
		}
	}
}

func TestMismatch(t *testing.T) {
	typ := &ColumnType{Kind: "struct", Fields: []Field{
		{"n", &ColumnType{Kind: "bigint"}}, {"d", &ColumnType{Kind: "double"}}, {"s", stringType},
		{"a", &ColumnType{Kind: "array", Elem: &ColumnType{Kind: "boolean"}}}, {"j", jsonTextType},
	}}
	tests := []struct {
		name, value, want string
	}{
		{"fits", `{"n":1,"d":2.5,"s":"x","a":[true],"j":{"k":[1]}}`, ""},
		{"nulls fit", `{"n":null,"d":null,"s":null,"a":null}`, ""},
		{"integer in double", `{"d":3}`, ""},
		{"fraction in bigint", `{"n":1.5}`, "t.n: number value in a bigint column"},
		{"number in string", `{"s":1}`, "t.s: integer value in a string column"},
		{"string in array", `{"a":"x"}`, "t.a: string value in an array column"},
		{"bad element", `{"a":[1]}`, "t.a[]: integer value in a boolean column"},
		{"no column", `{"z":1}`, "t.z: no column or field holds it"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := decodeJSON([]byte(tc.value))
			if err != nil {
				t.Fatal(err)
			}
			if got := Mismatch(typ, v, "t"); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// sharedDir returns ../shared next to the repository, where CI keeps the benchmark workload.
func sharedDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "..", "shared")
	if _, err := os.Stat(filepath.Join(dir, "workload", "schemas")); err != nil {
		t.Skipf("the shared workload is not at %s: %v", dir, err)
	}
	return dir
}

// TestDDLAgreesWithTheWorkload does what TestDDLAgreesWithTheLake does with the shared workload's
// schemas and its 500-event API request: realistic data (nested objects, arrays, optional and
// nullable members) written by the real chain, read against the generated tables.
func TestDDLAgreesWithTheWorkload(t *testing.T) {
	shared := sharedDir(t)
	dir := filepath.Join(shared, "workload", "schemas")
	files, errs, err := LoadFiles(dir)
	if err != nil || len(errs) > 0 {
		t.Fatal(err, errs)
	}
	reg, err := schema.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	reqs, err := pipeline.LoadRequests([]string{filepath.Join(shared, "workload", "out", "apigw-batch-500.json")})
	if err != nil {
		t.Fatal(err)
	}
	lake, accepted := runChain(t, reg, reqs)
	if accepted < 400 {
		t.Fatalf("only %d of the workload's events were accepted", accepted)
	}
	rows := lakeRows(t, lake)
	checked := 0
	for _, tb := range AthenaTables(files, AthenaOptions{}) {
		if tb.Name == GenericTable {
			continue
		}
		cols := &ColumnType{Kind: "struct", Fields: tb.Columns}
		for _, row := range rows[idSeed(tb.Key)] {
			if m := Mismatch(cols, row, tb.Name); m != "" {
				t.Fatalf("%s: %s", tb.Key, m)
			}
			checked++
		}
	}
	if checked != accepted {
		t.Errorf("checked %d rows against their tables, want every accepted event's (%d)", checked, accepted)
	}
}
