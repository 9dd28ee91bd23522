package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/parquet-go/parquet-go"

	"github.com/firelane/firelane/internal/lake"
	localfirehose "github.com/firelane/firelane/internal/localaws/firehose"
	"github.com/firelane/firelane/internal/localaws/pipeline"
	"github.com/firelane/firelane/internal/schema"
	"github.com/firelane/firelane/internal/schematool"
	"github.com/firelane/firelane/internal/transform"
)

// lakeRow is one row the transform produced for a Parquet stack, with the row the JSON lake holds
// for the same record (transform.Convert, the JSON output) and its partition.
type lakeRow struct {
	parquetRow map[string]any // decoded with UseNumber
	jsonRow    map[string]json.RawMessage
	partition  string
}

// TestParquetLakeReadBack runs the shared workload through the local chain with OutputFormat=PARQUET
// and reads every Parquet object back with parquet-go: each of the 19,626 accepted events is one
// row, under the partition its JSON row names, and every column holds what the transform's row
// held, with its type, its nulls (an empty string stays empty), its timestamps in UTC, and data and
// extra as the exact JSON text the JSON lake holds. DuckDB, an independent reader, then checks
// the Parquet objects against the same rows written as a JSON lake, partition by partition.
func TestParquetLakeReadBack(t *testing.T) {
	shared := sharedDir(t)
	reg, err := schema.LoadDir(filepath.Join(shared, "workload", "schemas"))
	if err != nil {
		t.Fatal(err)
	}
	pqDir, jsonDir := t.TempDir(), t.TempDir()
	table := schematool.ParquetTable("firelane")
	chain, err := pipeline.New(pipeline.Config{Registry: reg, Sink: localfirehose.DirSink{Dir: pqDir}, Logger: quiet, Parquet: &table})
	if err != nil {
		t.Fatal(err)
	}
	// Record what the transform answers, and the JSON lake's row for each record it converts.
	var mu sync.Mutex
	rows := map[string][]lakeRow{} // by event_id
	jsonLake := map[string]*bytes.Buffer{}
	inner := chain.Events.Transform
	chain.Events.Transform = func(ctx context.Context, ev events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error) {
		resp, err := inner(ctx, ev)
		if err != nil {
			return resp, err
		}
		mu.Lock()
		defer mu.Unlock()
		for i, r := range resp.Records {
			if r.Result != transform.ResultOk {
				continue
			}
			in := ev.Records[i]
			jrow, keys, err := transform.Convert(in.Data, in.ApproximateArrivalTimestamp.Time)
			if err != nil {
				return resp, fmt.Errorf("JSON conversion of an Ok record failed: %w", err)
			}
			var lr lakeRow
			dec := json.NewDecoder(bytes.NewReader(r.Data))
			dec.UseNumber()
			if err := dec.Decode(&lr.parquetRow); err != nil {
				return resp, err
			}
			if err := json.Unmarshal(jrow, &lr.jsonRow); err != nil {
				return resp, err
			}
			p, err := lake.Expand(lake.EventsPrefix, r.Metadata.PartitionKeys, "", time.Time{})
			if err != nil {
				return resp, err
			}
			if jp, _ := lake.Expand(lake.EventsPrefix, keys.Map(), "", time.Time{}); jp != p {
				return resp, fmt.Errorf("JSON output partition %s, Parquet output %s", jp, p)
			}
			lr.partition = strings.TrimSuffix(p, "/")
			id, _ := lr.parquetRow["event_id"].(string)
			rows[id] = append(rows[id], lr)
			b := jsonLake[lr.partition]
			if b == nil {
				b = &bytes.Buffer{}
				jsonLake[lr.partition] = b
			}
			b.Write(jrow)
		}
		return resp, nil
	}
	reqs, err := pipeline.LoadRequests([]string{filepath.Join(shared, "workload", "out", "events.ndjson")})
	if err != nil {
		t.Fatal(err)
	}
	got := sendAll(t, chain, reqs)
	rep, err := chain.Drain(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Events.Delivered != 19626 || rep.Events.OtherFailed != 0 || rep.Events.ProcessingFailed != 0 || len(got.accepted) == 0 {
		t.Fatalf("got %+v, want the workload's 19,626 accepted events delivered", rep.Events)
	}

	cols := map[string]string{} // column -> Hive type
	for _, c := range table.Columns {
		cols[c.Name] = c.Type
	}
	read, partitions := 0, map[string]int{}
	err = filepath.WalkDir(filepath.Join(pqDir, "events"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(pqDir, filepath.Dir(path))
		part := filepath.ToSlash(rel)
		if !strings.HasSuffix(path, ".parquet") || !strings.HasPrefix(filepath.Base(path), pipeline.DeliveryStreamName+"-1-") {
			t.Errorf("object %s is not named as Firehose names Parquet objects", path)
		}
		body, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parquet.OpenFile(bytes.NewReader(body), int64(len(body)))
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		r := parquet.NewReader(f)
		defer r.Close()
		for {
			pr := map[string]any{}
			if err := r.Read(&pr); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			read++
			partitions[part]++
			id, _ := pr["event_id"].(string)
			cands := rows[id]
			if len(cands) == 0 {
				return fmt.Errorf("row with event_id %q was not produced by the transform", id)
			}
			// An event id may repeat (duplicates in the workload): take the first row that matches.
			var lastMsg string
			matched := -1
			for i, lr := range cands {
				if lr.partition != part {
					lastMsg = fmt.Sprintf("partition %s, want %s", part, lr.partition)
					continue
				}
				if msg := compareRow(cols, table.Columns, lr, pr); msg != "" {
					lastMsg = msg
					continue
				}
				matched = i
				break
			}
			if matched < 0 {
				return fmt.Errorf("event %s: %s", id, lastMsg)
			}
			rows[id] = append(cands[:matched], cands[matched+1:]...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if read != 19626 {
		t.Errorf("read %d rows back, want 19,626", read)
	}
	for id, left := range rows {
		if len(left) > 0 {
			t.Errorf("event %s: %d rows the transform produced are not in the Parquet lake", id, len(left))
		}
	}

	// The JSON lake of the same rows, for DuckDB.
	var parts []string
	for p, b := range jsonLake {
		parts = append(parts, p)
		dst := filepath.Join(jsonDir, filepath.FromSlash(p))
		if err := os.MkdirAll(dst, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, "rows"), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(parts)
	duckDBCheck(t, jsonDir, pqDir, parts, table.Columns, partitions)
}

// compareRow compares one Parquet row with the transform's rows, column by column of the table.
func compareRow(cols map[string]string, order []localfirehose.Column, lr lakeRow, pr map[string]any) string {
	for _, c := range order {
		want := lr.parquetRow[c.Name]
		if msg := compareValue(c.Type, want, pr[c.Name], c.Name); msg != "" {
			return msg
		}
		if slicesContain(lake.TextColumns, c.Name) {
			// The text is the JSON lake's value, byte for byte; JSON null and no member are NULL.
			raw, ok := lr.jsonRow[c.Name]
			s, isString := pr[c.Name].(string)
			switch {
			case !ok || string(raw) == "null":
				if pr[c.Name] != nil {
					return c.Name + ": got a value where the JSON lake has none"
				}
			case !isString || s != string(raw):
				return fmt.Sprintf("%s: got %.60q, want the JSON lake's text %.60q", c.Name, s, raw)
			}
		}
		if strings.HasSuffix(c.Name, "_at") || strings.HasSuffix(c.Name, "_time") {
			if s, ok := pr[c.Name].(string); ok {
				ts, err := time.Parse(time.RFC3339Nano, s)
				if err != nil || ts.Location() != time.UTC || !strings.HasSuffix(s, "Z") {
					return fmt.Sprintf("%s: %q is not an RFC 3339 time in UTC", c.Name, s)
				}
			}
		}
	}
	typ, _ := lr.parquetRow[lake.KeyEventType].(string)
	ver, _ := lr.parquetRow[lake.KeyEventVersion].(json.Number)
	if !strings.Contains(lr.partition, "/"+lake.KeyEventType+"="+lake.SafeValue(typ)+"/"+lake.KeyEventVersion+"="+string(ver)+"/") {
		return fmt.Sprintf("partition %s does not hold event type %q version %s", lr.partition, typ, ver)
	}
	return ""
}

func slicesContain(s []string, v string) bool {
	for _, e := range s {
		if e == v {
			return true
		}
	}
	return false
}

// compareValue compares a JSON value of the transform's row (numbers as json.Number) with what
// parquet-go read back for a column of Hive type typ.
func compareValue(typ string, want, got any, at string) string {
	if want == nil {
		if got != nil {
			return fmt.Sprintf("%s: got %v, want NULL", at, got)
		}
		return ""
	}
	if got == nil {
		return fmt.Sprintf("%s: got NULL, want %v", at, want)
	}
	switch {
	case typ == "string":
		if w, ok := want.(string); !ok || got != w {
			return fmt.Sprintf("%s: got %#v, want %#v", at, got, want)
		}
	case typ == "int" || typ == "bigint":
		var g int64
		switch x := got.(type) {
		case int32:
			if typ != "int" {
				return fmt.Sprintf("%s: got an int32 in a bigint column", at)
			}
			g = int64(x)
		case int64:
			if typ != "bigint" {
				return fmt.Sprintf("%s: got an int64 in an int column", at)
			}
			g = x
		default:
			return fmt.Sprintf("%s: got %T, want an integer", at, got)
		}
		if w, err := want.(json.Number).Int64(); err != nil || w != g {
			return fmt.Sprintf("%s: got %d, want %v", at, g, want)
		}
	case typ == "double":
		w, err := want.(json.Number).Float64()
		if g, ok := got.(float64); !ok || err != nil || (g != w && !(math.IsNaN(g) && math.IsNaN(w))) {
			return fmt.Sprintf("%s: got %v, want %v", at, got, want)
		}
	case typ == "boolean":
		if got != want {
			return fmt.Sprintf("%s: got %v, want %v", at, got, want)
		}
	case strings.HasPrefix(typ, "struct<"):
		w, ok1 := want.(map[string]any)
		g, ok2 := got.(map[string]any)
		if !ok1 || !ok2 {
			return fmt.Sprintf("%s: got %T, want an object", at, got)
		}
		for _, f := range structFields(typ) {
			if msg := compareValue(f[1], w[f[0]], g[f[0]], at+"."+f[0]); msg != "" {
				return msg
			}
		}
	default:
		return fmt.Sprintf("%s: type %s is not compared", at, typ)
	}
	return ""
}

// structFields splits struct<a:t1,b:t2> of scalar fields into name and type pairs.
func structFields(typ string) [][2]string {
	var out [][2]string
	for _, f := range strings.Split(strings.TrimSuffix(strings.TrimPrefix(typ, "struct<"), ">"), ",") {
		name, t, _ := strings.Cut(f, ":")
		out = append(out, [2]string{name, t})
	}
	return out
}

// duckDBTypes are the types DuckDB reads Hive's Parquet types as.
var duckDBTypes = map[string]string{"string": "VARCHAR", "int": "INTEGER", "bigint": "BIGINT", "double": "DOUBLE", "boolean": "BOOLEAN"}

func duckDBType(hive string) string {
	if t, ok := duckDBTypes[hive]; ok {
		return t
	}
	var parts []string
	for _, f := range structFields(hive) {
		parts = append(parts, f[0]+" "+duckDBType(f[1]))
	}
	return "STRUCT(" + strings.Join(parts, ", ") + ")"
}

// duckDBCheck runs tests/duckdb/lake.mjs over both lakes and compares, per partition, the row
// counts, the Parquet columns' types with the Glue table's, and each column's non-null count and
// type family with the JSON lake's.
func duckDBCheck(t *testing.T, jsonDir, pqDir string, parts []string, columns []localfirehose.Column, wantRows map[string]int) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("the DuckDB cross-check needs Node.js (node on PATH): %v; .ci/run installs what the tests need", err)
	}
	script := filepath.Join(repoRoot(t), "tests", "duckdb", "lake.mjs")
	if _, err := os.Stat(filepath.Join(repoRoot(t), "tests", "duckdb", "node_modules", "@duckdb", "node-api")); err != nil {
		t.Fatalf("the DuckDB cross-check needs @duckdb/node-api: run `npm ci --prefix tests/duckdb` (as .ci/run does): %v", err)
	}
	var names []string
	for _, c := range columns {
		names = append(names, c.Name)
	}
	in, _ := json.Marshal(map[string]any{"json": jsonDir, "parquet": pqDir, "partitions": parts, "columns": names})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("DuckDB check failed: %v: %s", err, stderr.String())
	}
	type side struct {
		Rows    int               `json:"rows"`
		Types   map[string]string `json:"types"`
		NonNull map[string]int    `json:"nonNull"`
	}
	var res map[string]struct{ JSON, Parquet side }
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("DuckDB check printed %.200s: %v", out, err)
	}
	if len(res) != len(wantRows) || len(res) == 0 {
		t.Errorf("DuckDB read %d partitions, want %d", len(res), len(wantRows))
	}
	total := 0
	for part, r := range res {
		total += r.Parquet.Rows
		if r.Parquet.Rows != r.JSON.Rows || r.Parquet.Rows != wantRows[part] {
			t.Errorf("%s: DuckDB counts %d Parquet rows and %d JSON rows, want %d", part, r.Parquet.Rows, r.JSON.Rows, wantRows[part])
		}
		if len(r.Parquet.Types) != len(columns) {
			t.Errorf("%s: DuckDB sees %d Parquet columns, want the table's %d", part, len(r.Parquet.Types), len(columns))
		}
		for _, c := range columns {
			if got, want := r.Parquet.Types[c.Name], duckDBType(c.Type); got != want {
				t.Errorf("%s: column %s: DuckDB reads %s from Parquet, want %s", part, c.Name, got, want)
			}
			jt, inJSON := r.JSON.Types[c.Name]
			if !inJSON {
				if r.Parquet.NonNull[c.Name] != 0 {
					t.Errorf("%s: column %s: %d values in Parquet, none in the JSON lake", part, c.Name, r.Parquet.NonNull[c.Name])
				}
				continue
			}
			if r.JSON.NonNull[c.Name] != r.Parquet.NonNull[c.Name] {
				t.Errorf("%s: column %s: %d non-null values in the JSON lake, %d in Parquet", part, c.Name, r.JSON.NonNull[c.Name], r.Parquet.NonNull[c.Name])
			}
			if !slicesContain(lake.TextColumns, c.Name) && family(jt) != family(r.Parquet.Types[c.Name]) {
				t.Errorf("%s: column %s: DuckDB reads %s from JSON and %s from Parquet", part, c.Name, jt, r.Parquet.Types[c.Name])
			}
		}
	}
	if total != 19626 {
		t.Errorf("DuckDB counts %d Parquet rows in all, want 19,626", total)
	}
}

// family groups DuckDB types the way JSON inference and Parquet can agree on: DuckDB reads a
// JSON string that looks like a time or a UUID as one, where the Parquet column is VARCHAR.
func family(t string) string {
	switch {
	case t == "VARCHAR" || t == "UUID" || t == "DATE" || strings.HasPrefix(t, "TIMESTAMP") || strings.HasPrefix(t, "TIME"):
		return "string"
	case strings.HasPrefix(t, "STRUCT"):
		return "struct"
	case t == "INTEGER" || t == "BIGINT" || t == "UBIGINT" || t == "SMALLINT" || t == "TINYINT":
		return "integer"
	}
	return t
}
