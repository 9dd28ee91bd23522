package schematool

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firelane/firelane/internal/lake"
)

func repoFiles(t *testing.T) []*File {
	t.Helper()
	files, errs, err := LoadFiles(filepath.Join(repoRoot(t), "schemas"))
	if err != nil || len(errs) > 0 {
		t.Fatal(err, errs)
	}
	return files
}

// TestTablesReadWhereFirehoseWrites fills each table's storage location template with the
// partition values the transform gives an event and compares it with the prefix Firehose expands.
func TestTablesReadWhereFirehoseWrites(t *testing.T) {
	received := time.Date(2026, 3, 7, 5, 0, 0, 0, time.UTC)
	for _, format := range []string{FormatJSON, FormatParquet} {
		tables := AthenaTables(repoFiles(t), AthenaOptions{Location: "s3://lake-bucket/", Format: format})
		for _, tb := range tables {
			if !strings.Contains(tb.SQL, "storage.location.template") {
				continue // a view
			}
			keys := lake.PartitionKeys("com.acme.web.page_view", 1, received)
			if tb.Key.Type != "" {
				keys = lake.PartitionKeys(tb.Key.Type, tb.Key.Version, received)
			}
			want, err := lake.Expand(lake.EventsPrefix, keys, "", received)
			if err != nil {
				t.Fatal(err)
			}
			i := strings.Index(tb.SQL, "'storage.location.template'='")
			tmpl := tb.SQL[i+len("'storage.location.template'='"):]
			tmpl = tmpl[:strings.IndexByte(tmpl, '\'')]
			for k, v := range keys {
				tmpl = strings.ReplaceAll(tmpl, "${"+k+"}", v)
			}
			if tmpl != "s3://lake-bucket/"+want {
				t.Errorf("%s (%s): template gives %s, Firehose writes s3://lake-bucket/%s", tb.Name, format, tmpl, want)
			}
			if !strings.Contains(tb.SQL, "'projection.enabled'='true'") {
				t.Errorf("%s: no partition projection", tb.Name)
			}
		}
	}
}

func TestTypeColumns(t *testing.T) {
	byType := map[string]*File{}
	for _, f := range repoFiles(t) {
		byType[f.Key.Type] = f
	}
	tests := []struct {
		typ, want string
	}{
		{"com.acme.web.page_view", "struct<url:string,referrer:string,title:string,session_id:string,user_id:string,viewport:struct<width:bigint,height:bigint>>"},
		{"com.acme.shop.order_placed", "struct<order_id:string,customer_email:string,items:array<struct<sku:string,quantity:bigint,unit_price:double>>,total:double,currency:string,coupon:string>"},
		// location is redacted by enrich, so it has no field.
		{"com.acme.iot.sensor_reading", "struct<device_id:string,firmware:string,readings:struct<temperature_c:double,humidity_pct:double,battery_v:double>>"},
	}
	for _, tc := range tests {
		t.Run(tc.typ, func(t *testing.T) {
			f := byType[tc.typ]
			if f == nil {
				t.Fatalf("no schema for %s", tc.typ)
			}
			cols := TypeColumns(f)
			last := cols[len(cols)-1]
			if last.Name != "data" || last.Type.Hive() != tc.want {
				t.Errorf("got %s %s, want data %s", last.Name, last.Type.Hive(), tc.want)
			}
		})
	}
}

func TestDataTypes(t *testing.T) {
	tests := []struct {
		schema, want string
	}{
		{`{"type":"string","format":"date-time"}`, "string"},
		{`{"type":["integer","null"]}`, "bigint"},
		{`{"type":["integer","number"]}`, "double"},
		{`{"type":["string","integer"]}`, "string"},
		{`{"enum":[1,2,3]}`, "bigint"},
		{`{"const":true}`, "boolean"},
		{`{"type":"array"}`, "array<string>"},
		{`{"type":"object"}`, "string"},
		{`{"type":"integer","x-pii":"hash"}`, "string"},
		{`{}`, "string"},
		{`{"type":"object","properties":{"A":{"type":"boolean"},"gone":{"type":"string","x-pii":"redact"}}}`, "struct<a:boolean>"},
	}
	for _, tc := range tests {
		t.Run(tc.schema, func(t *testing.T) {
			if got := dataType(nil, mustDoc(t, tc.schema), "").Hive(); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func ExampleCompare() {
	old := map[string]any{"type": "object", "additionalProperties": false, "required": []any{"url"},
		"properties": map[string]any{"url": map[string]any{"type": "string"}}}
	new := map[string]any{"type": "object", "additionalProperties": false, "required": []any{"url", "title"},
		"properties": map[string]any{"url": map[string]any{"type": "string"}, "title": map[string]any{"type": "string"}}}
	for _, c := range Compare(old, new) {
		fmt.Println(c)
	}
	// Output:
	// compatible /properties/title: property "title" added to a closed object (additionalProperties: false)
	// BREAKING /required: property "title" became required: events without it are now rejected
}
