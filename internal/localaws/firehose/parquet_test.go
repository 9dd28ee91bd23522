package firehose

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/parquet-go/parquet-go"
)

var testTable = Table{CatalogID: "123456789012", Database: "db", Name: "events", Region: "us-east-1", VersionID: "LATEST", Columns: []Column{
	{"id", "string"}, {"n", "int"}, {"big", "bigint"}, {"x", "double"}, {"ok", "boolean"},
	{"client", "struct<browser:string,bot:boolean>"}, {"tags", "array<string>"},
	{"items", "array<struct<sku:string,q:bigint>>"}, {"data", "string"},
}}

// readParquet reads every row of a Parquet file back with parquet-go's own reader, into maps.
func readParquet(t *testing.T, body []byte) []map[string]any {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("open parquet: %v", err)
	}
	r := parquet.NewReader(f)
	defer r.Close()
	var out []map[string]any
	for {
		m := map[string]any{}
		if err := r.Read(&m); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatalf("read parquet row: %v", err)
		}
		out = append(out, m)
	}
}

// TestConversionRows checks the OpenX rules the conversion applies, record by record: members are
// matched to columns ignoring case, unknown members are ignored, a missing member or null is NULL,
// an empty string stays an empty string, numbers fill int, bigint and double columns, and several
// objects in one record are several rows. It reads the file back with parquet-go.
func TestConversionRows(t *testing.T) {
	c, err := NewConversion(testTable)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"ID":"a","n":7,"big":9007199254740993,"x":1.5,"ok":false,"client":{"Browser":"","bot":true},"tags":["t1",""],` +
		`"items":[{"sku":"s","q":2},{"sku":null}],"data":"{\"k\":1}","unknown":{"deep":[1]}}` + "\n" +
		`{"id":"","n":null,"x":3,"tags":[],"items":null}{"id":"c","client":null}`
	key, out, err := c.Object("p/o", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "p/o.parquet" {
		t.Errorf("got key %s, want p/o.parquet", key)
	}
	got := readParquet(t, out)
	want := []map[string]any{
		{"id": "a", "n": int32(7), "big": int64(9007199254740993), "x": 1.5, "ok": false,
			"client": map[string]any{"browser": "", "bot": true}, "tags": []any{"t1", ""},
			"items": []any{map[string]any{"sku": "s", "q": int64(2)}, map[string]any{"sku": nil, "q": nil}}, "data": `{"k":1}`},
		{"id": "", "n": nil, "big": nil, "x": 3.0, "ok": nil, "client": nil, "tags": []any{}, "items": nil, "data": nil},
		{"id": "c", "n": nil, "big": nil, "x": nil, "ok": nil, "client": nil, "tags": nil, "items": nil, "data": nil},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d", len(got), len(want))
	}
	for i := range want {
		for col, w := range want[i] {
			if g := got[i][col]; !reflect.DeepEqual(normal(g), normal(w)) {
				t.Errorf("row %d column %s: got %#v, want %#v", i, col, g, w)
			}
		}
	}
	// The file's schema is the table's, in the table's order, every column optional.
	f, _ := parquet.OpenFile(bytes.NewReader(out), int64(len(out)))
	var names []string
	for _, fld := range f.Schema().Fields() {
		names = append(names, fld.Name())
		if !fld.Optional() {
			t.Errorf("column %s is not optional", fld.Name())
		}
	}
	if strings.Join(names, ",") != "id,n,big,x,ok,client,tags,items,data" {
		t.Errorf("got columns %v, want the table's order", names)
	}
	for _, col := range f.Metadata().RowGroups[0].Columns {
		if col.MetaData.Codec.String() != "SNAPPY" {
			t.Errorf("column %v is compressed with %s, want SNAPPY", col.MetaData.PathInSchema, col.MetaData.Codec)
		}
	}
}

// normal makes a nil slice and a nil map compare like reflect's typed nils do not.
func normal(v any) any {
	if v == nil {
		return nil
	}
	if rv := reflect.ValueOf(v); (rv.Kind() == reflect.Slice || rv.Kind() == reflect.Map) && rv.IsNil() {
		return nil
	}
	return v
}

// TestConversionFailures checks that a record that does not fit the table is refused with
// Firehose's codes, and that its error record has the documented fields.
func TestConversionFailures(t *testing.T) {
	c, err := NewConversion(testTable)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, record, code, msg string
	}{
		{"fits", `{"id":"a"}`, "", ""},
		{"not JSON", `{"id":`, codeParseError, "malformed"},
		{"garbage after an object", `{"id":"a"} x`, codeParseError, "malformed"},
		{"empty", " \n", codeMalformedData, "empty"},
		{"top-level array", `[{"id":"a"}]`, codeMalformedData, "top level"},
		{"top-level string", `"a"`, codeMalformedData, "top level"},
		{"number in a string column", `{"id":1}`, codeMalformedData, "id: a number in a string column"},
		{"object in a string column", `{"data":{"k":1}}`, codeMalformedData, "data: an object in a string column"},
		{"string in an int column", `{"n":"7"}`, codeMalformedData, "n: a string"},
		{"fraction in an int column", `{"n":7.5}`, codeMalformedData, "n: a number"},
		{"int out of range", `{"n":2147483648}`, codeMalformedData, "n: a number"},
		{"string in a boolean column", `{"ok":"true"}`, codeMalformedData, "ok: a string in a boolean column"},
		{"scalar for a struct", `{"client":42}`, codeMalformedData, "client: a number"},
		{"struct field mismatch", `{"client":{"bot":"no"}}`, codeMalformedData, "client.bot: a string"},
		{"object for an array", `{"tags":{"a":1}}`, codeMalformedData, "tags: an object"},
		{"array element mismatch", `{"items":[{"q":"2"}]}`, codeMalformedData, "items[].q: a string"},
	}
	arrival := time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)
	now := arrival.Add(time.Second)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := c.Failure([]byte(tc.record), arrival, now)
			if tc.code == "" {
				if rec != nil {
					t.Fatalf("got error record %s, want none", rec)
				}
				return
			}
			var got struct {
				AttemptsMade           int    `json:"attemptsMade"`
				ArrivalTimestamp       int64  `json:"arrivalTimestamp"`
				LastErrorCode          string `json:"lastErrorCode"`
				LastErrorMessage       string `json:"lastErrorMessage"`
				AttemptEndingTimestamp int64  `json:"attemptEndingTimestamp"`
				RawData                []byte `json:"rawData"`
				DataCatalogTable       struct {
					CatalogID, DatabaseName, TableName, Region, VersionID string
				} `json:"dataCatalogTable"`
			}
			if !bytes.HasSuffix(rec, []byte("\n")) || json.Unmarshal(rec, &got) != nil {
				t.Fatalf("error record %q is not one JSON line", rec)
			}
			if got.LastErrorCode != tc.code || !strings.Contains(got.LastErrorMessage, tc.msg) {
				t.Errorf("got %s %q, want %s with %q", got.LastErrorCode, got.LastErrorMessage, tc.code, tc.msg)
			}
			if string(got.RawData) != tc.record || got.AttemptsMade != 1 || got.ArrivalTimestamp != arrival.UnixMilli() || got.AttemptEndingTimestamp != now.UnixMilli() {
				t.Errorf("got %+v, want the record, one attempt and the two times", got)
			}
			if tbl := got.DataCatalogTable; tbl.DatabaseName != "db" || tbl.TableName != "events" || tbl.VersionID != "LATEST" || tbl.CatalogID != "123456789012" {
				t.Errorf("got catalog table %+v", tbl)
			}
		})
	}
}

// TestNewConversionRefuses checks the table checks.
func TestNewConversionRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		cols []Column
		want string
	}{
		{"no columns", nil, "no columns"},
		{"timestamp", []Column{{"t", "timestamp"}}, "unsupported type"},
		{"map", []Column{{"m", "map<string,string>"}}, "unsupported type"},
		{"unclosed struct", []Column{{"s", "struct<a:string"}}, "not closed"},
		{"repeated column", []Column{{"a", "string"}, {"A", "int"}}, "repeated"},
		{"trailing text", []Column{{"a", "string>"}}, "unexpected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewConversion(Table{Name: "t", Columns: tc.cols})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error about %q", err, tc.want)
			}
		})
	}
}

// TestDeliveryConverts runs a delivery stream with a conversion: rows that fit are delivered as
// one .parquet object per partition, a row whose top-level column does not fit the table goes under
// the error prefix as format-conversion-failed with Firehose's error record, and none is lost.
func TestDeliveryConverts(t *testing.T) {
	at := time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)
	c, err := NewConversion(testTable)
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	d := &Delivery{
		Name: "s", Prefix: "events/t=!{partitionKeyFromLambda:t}/", ErrorPrefix: "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/",
		Sink: sink, Now: func() time.Time { return at }, Conversion: c,
		Transform: func(_ context.Context, ev events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error) {
			var resp events.KinesisFirehoseResponse
			for _, r := range ev.Records {
				resp.Records = append(resp.Records, events.KinesisFirehoseResponseRecord{RecordID: r.RecordID, Result: "Ok",
					Data: append(r.Data, '\n'), Metadata: events.KinesisFirehoseResponseRecordMetadata{PartitionKeys: map[string]string{"t": "a"}}})
			}
			return resp, nil
		},
	}
	put(t, d, `{"id":"1","n":1}`, `{"id":"2","n":"two"}`, `{"id":"3","data":""}`)
	rep, err := d.Flush(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records != 3 || rep.Delivered != 2 || rep.OtherFailed != 1 {
		t.Fatalf("got %+v, want 2 delivered and 1 failed", rep)
	}
	var objects, failed []string
	for k, v := range sink.objs {
		switch {
		case strings.HasPrefix(k, "events/t=a/s-1-2026-11-25-09-30-00-") && strings.HasSuffix(k, ".parquet"):
			rows := readParquet(t, v)
			if len(rows) != 2 || rows[0]["id"] != "1" || rows[0]["n"] != int32(1) || rows[1]["data"] != "" {
				t.Errorf("got rows %v", rows)
			}
			objects = append(objects, k)
		case strings.HasPrefix(k, "errors/format-conversion-failed/2026/11/25/09/s-1-") && !strings.HasSuffix(k, ".parquet"):
			if !strings.Contains(string(v), `"lastErrorCode":"DataFormatConversion.MalformedData"`) || !strings.Contains(string(v), `"rawData":"eyJpZCI6IjIiLCJuIjoidHdvIn0K"`) {
				t.Errorf("error record %s", v)
			}
			failed = append(failed, k)
		default:
			t.Errorf("unexpected object %s", k)
		}
	}
	if len(objects) != 1 || len(failed) != 1 {
		t.Errorf("got objects %v and error objects %v, want one of each", objects, failed)
	}
}

// TestFromTemplateParquet checks that OutputFormat=PARQUET gives the events stream the Glue table
// of template.yaml, and that JSON gives it none.
func TestFromTemplateParquet(t *testing.T) {
	for _, tc := range []struct {
		format string
		want   bool
	}{{"PARQUET", true}, {"JSON", false}} {
		t.Run(tc.format, func(t *testing.T) {
			configs, err := FromTemplate(loadTemplate(t), "my-stack", map[string]string{"OutputFormat": tc.format})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range configs {
				if c.LogicalID != "EventsDeliveryStream" {
					if c.Parquet != nil {
						t.Errorf("stream %s converts, want only the events stream to", c.LogicalID)
					}
					continue
				}
				if (c.Parquet != nil) != tc.want {
					t.Fatalf("got table %+v, want one: %v", c.Parquet, tc.want)
				}
				if !tc.want {
					return
				}
				if c.Parquet.Name != "events" || c.Parquet.Database != "my_stack" || c.GZIP || len(c.Parquet.Columns) == 0 || c.Parquet.Columns[len(c.Parquet.Columns)-1] != (Column{"data", "string"}) {
					t.Errorf("got %+v (GZIP %v)", c.Parquet, c.GZIP)
				}
				if _, err := NewStream(c, &memSink{}, func(context.Context, events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error) {
					return events.KinesisFirehoseResponse{}, nil
				}); err != nil {
					t.Error(err)
				}
			}
		})
	}
}
