package transform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/jsonbytes"
	"github.com/firelane/firelane/internal/lake"
)

var arrival = time.Date(2026, 11, 25, 9, 30, 15, 123456789, time.UTC)

const bare = `{"specversion":"1.0","id":"e-1","source":"/clients/ios","type":"com.example.web.page_view",` +
	`"time":"2026-11-25T09:00:04.559Z","subject":"s-0","dataschema":"com.example.web.page_view/v2",` +
	`"datacontenttype":"application/json","data":{"url":"https://x.example/a?b=c","n":[1,2.5e3,-0.1,true,null]}}`

func TestConvert(t *testing.T) {
	for _, tc := range []struct {
		name    string
		record  string
		want    map[string]any // columns that must hold these values (as JSON)
		absent  []string       // columns that must not be there
		keys    string         // event_type/event_version/year/month/day/hour
		wantErr string         // part of the failure reason
	}{
		{
			name:   "bare CloudEvent from a direct integration",
			record: bare,
			want: map[string]any{"event_id": "e-1", "event_type": "com.example.web.page_view", "event_version": 2,
				"event_time": "2026-11-25T09:00:04.559Z", "received_at": "2026-11-25T09:30:15.123Z", "source": "/clients/ios",
				"subject": "s-0", "data": map[string]any{"url": "https://x.example/a?b=c", "n": []any{1, json.Number("2.5e3"), -0.1, true, nil}}},
			absent: []string{"request_id", "fingerprint", "specversion", "datacontenttype"},
			keys:   "com.example.web.page_view/2/2026/11/25/09",
		},
		{
			name: "enriched record",
			record: `{"firelane":"enriched/1","enrichment":{"received_at":"2026-11-24T23:59:59.999Z","arrived_at":"2026-11-25T00:00:01.000Z",` +
				`"processed_at":"2026-11-25T00:00:02.000Z","lateness_ms":42,"fingerprint":"f00d","schema_type":"com.example.t","schema_version":1,` +
				`"context":{"received_at":"2026-11-20T00:00:00.000Z","request_id":"req-1","source_ip":"192.0.2.1","user_agent":"ua","api_key_id":"k1","stage":"prod"},` +
				`"extra":{"geo":{"country":"DE"}},"event_id":"forged","data":"forged"},` +
				`"event":{"specversion":"1.0","id":"e-2","source":"/s","type":"com.example.t","data":{"a":1}}}`,
			want: map[string]any{"event_id": "e-2", "received_at": "2026-11-24T23:59:59.999Z", "event_time": "2026-11-24T23:59:59.999Z",
				"arrived_at": "2026-11-25T00:00:01.000Z", "processed_at": "2026-11-25T00:00:02.000Z", "lateness_ms": 42,
				"fingerprint": "f00d", "schema_type": "com.example.t", "schema_version": 1, "request_id": "req-1", "source_ip": "192.0.2.1",
				"user_agent": "ua", "api_key_id": "k1", "stage": "prod", "extra": map[string]any{"geo": map[string]any{"country": "DE"}},
				"data": map[string]any{"a": 1}},
			absent: []string{"context", "subject"},
			keys:   "com.example.t/1/2026/11/24/23",
		},
		{
			name: "enriched record without received_at takes its context's",
			record: `{"event":{"specversion":"1.0","id":"e-3","source":"/s","type":"t"},"firelane":"enriched/1",` +
				`"enrichment":{"arrived_at":"x","context":{"received_at":"2026-01-02T03:04:05.006+01:00"}}}`,
			want: map[string]any{"received_at": "2026-01-02T02:04:05.006Z", "arrived_at": "x", "data": nil},
			keys: "t/1/2026/01/02/02",
		},
		{
			name: "ingest record",
			record: `{"firelane":"ingest/1","context":{"received_at":"2026-11-25T10:00:00Z","request_id":"r"},` +
				`"event":{"specversion":"1.0","id":"e-4","source":"/s","type":"t","time":"2020-01-01T00:00:00Z"}}`,
			want: map[string]any{"received_at": "2026-11-25T10:00:00.000Z", "event_time": "2020-01-01T00:00:00.000Z", "request_id": "r"},
			keys: "t/1/2026/11/25/10",
		},
		{
			name:   "escapes, null subject and an extension named event",
			record: `{"specversion":"1\u002e0","id":"\u00e9\"","source":"/s","type":"Com.Ex\/AMPLE","subject":null,"event":{"id":5},"data":"\ud83d\ude00"}`,
			want:   map[string]any{"event_id": "é\"", "event_type": "Com.Ex/AMPLE", "data": "😀", "event_time": "2026-11-25T09:30:15.123Z"},
			absent: []string{"subject"},
			keys:   "com.ex_ample/1/2026/11/25/09",
		},
		{
			name:   "invalid UTF-8 in data becomes U+FFFD",
			record: "{\"specversion\":\"1.0\",\"id\":\"i\",\"source\":\"/s\",\"type\":\"t\",\"data\":{\"s\":\"a\xffb\"}}",
			want:   map[string]any{"data": map[string]any{"s": "a\uFFFDb"}},
			keys:   "t/1/2026/11/25/09",
		},
		{
			name:   "data_base64",
			record: `{"specversion":"1.0","id":"i","source":"/s","type":"t","data_base64":"AAEC"}`,
			want:   map[string]any{"data_base64": "AAEC", "data": nil},
			keys:   "t/1/2026/11/25/09",
		},
		{name: "not JSON", record: `Hello World`, wantErr: "not a JSON object"},
		{name: "array", record: `[1]`, wantErr: "not a JSON object"},
		{name: "truncated", record: `{"specversion":"1.0","id":"i"`, wantErr: "invalid JSON"},
		{name: "trailing data", record: bare + ` {}`, wantErr: "data after"},
		{name: "invalid data", record: `{"specversion":"1.0","id":"i","source":"/s","type":"t","data":{"a":01}}`, wantErr: "invalid JSON"},
		{name: "missing attributes", record: `{"specversion":"0.3"}`, wantErr: `specversion: must be "1.0"; id: required attribute is missing or empty; source`},
		{name: "empty type", record: `{"specversion":"1.0","id":"i","source":"/s","type":""}`, wantErr: "type: required"},
		{name: "id not a string", record: `{"specversion":"1.0","id":7,"source":"/s","type":"t"}`, wantErr: "invalid CloudEvent: id: must be a string"},
		{name: "bad time", record: `{"specversion":"1.0","id":"i","source":"/s","type":"t","time":"yesterday"}`, wantErr: "time: not an RFC 3339"},
		{name: "neither", record: `{"id":"i"}`, wantErr: "neither a firelane record nor a CloudEvent"},
		{name: "unknown format", record: `{"firelane":"enriched/2","enrichment":{},"event":{}}`, wantErr: "unknown firelane record format"},
		{name: "enriched without enrichment", record: `{"firelane":"enriched/1","event":{"specversion":"1.0","id":"i","source":"/s","type":"t"}}`, wantErr: "no enrichment"},
		{name: "ingest without context", record: `{"firelane":"ingest/1","event":{"specversion":"1.0","id":"i","source":"/s","type":"t"}}`, wantErr: "no context"},
		{name: "firelane record without event", record: `{"firelane":"ingest/1","context":{}}`, wantErr: "no event object"},
		{name: "firelane record with a bad event", record: `{"firelane":"ingest/1","context":{},"event":{"id":1}}`, wantErr: "id: must be a string"},
		{name: "too deep", record: `{"specversion":"1.0","id":"i","source":"/s","type":"t","data":` + strings.Repeat("[", jsonbytes.MaxDepth+1) + strings.Repeat("]", jsonbytes.MaxDepth+1) + `}`, wantErr: "nested too deeply"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			row, keys, err := Convert([]byte(tc.record), arrival)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %q, %v; want an error containing %q", row, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasSuffix(row, []byte("}\n")) || bytes.Count(row, []byte("\n")) != 1 {
				t.Fatalf("row %q is not one newline-terminated line", row)
			}
			got := decodeRow(t, row)
			for k, v := range tc.want {
				if g, w := marshal(t, got[k]), marshal(t, v); !bytes.Equal(g, w) {
					t.Errorf("column %s: got %s, want %s", k, g, w)
				}
			}
			for _, k := range tc.absent {
				if _, ok := got[k]; ok {
					t.Errorf("column %s is there, want it absent", k)
				}
			}
			m := keys.Map()
			if g := strings.Join([]string{m["event_type"], m["event_version"], m["year"], m["month"], m["day"], m["hour"]}, "/"); g != tc.keys {
				t.Errorf("got keys %s, want %s", g, tc.keys)
			}
			var fromJSON map[string]string
			if err := json.Unmarshal(keys.appendJSON(nil), &fromJSON); err != nil || fmt.Sprint(fromJSON) != fmt.Sprint(m) {
				t.Errorf("appendJSON %s disagrees with Map %v (%v)", keys.appendJSON(nil), m, err)
			}
		})
	}
}

// TestReasonsQuoteNoPayload checks that failure reasons, which are logged, never carry a value of
// the record.
func TestReasonsQuoteNoPayload(t *testing.T) {
	for _, rec := range []string{
		`SECRET`, `{"SECRET":1`, `{"specversion":"SECRET","id":"i","source":"/s","type":"t"}`,
		`{"specversion":"1.0","id":"i","source":"/s","type":"t","time":"SECRET"}`,
		`{"specversion":"1.0","id":"i","source":"/s","type":"t","data":{"SECRET":SECRET}}`,
		`{"firelane":"SECRET","event":{}}`, `{"specversion":"1.0","id":["SECRET"],"source":"/s","type":"t"}`,
	} {
		_, _, err := Convert([]byte(rec), arrival)
		if err == nil || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("Convert(%s): got reason %v, want one without the record's values", rec, err)
		}
	}
}

// TestRowCarriesEveryEnrichmentField fills every field of event.Enrichment and event.ServerContext,
// whatever fields they have when the test runs, and checks that each lands in the row under its
// JSON name (the server context flattened into the row).
func TestRowCarriesEveryEnrichmentField(t *testing.T) {
	var enr event.Enrichment
	fill(reflect.ValueOf(&enr).Elem())
	enr.ReceivedAt = "2026-11-25T08:00:00.000Z"
	if enr.Context != nil {
		enr.Context.ReceivedAt = "2026-11-25T07:00:00.000Z"
	}
	rec := event.EnrichedRecord{Format: event.FormatEnriched, Enrichment: enr,
		Event: json.RawMessage(`{"specversion":"1.0","id":"i","source":"/s","type":"t","data":{}}`)}
	row, keys, err := Convert(marshal(t, rec), arrival)
	if err != nil {
		t.Fatal(err)
	}
	got := decodeRow(t, row)
	want := map[string]any{}
	collectTags(t, reflect.ValueOf(enr), want)
	if enr.Context != nil {
		collectTags(t, reflect.ValueOf(*enr.Context), want)
	}
	want["received_at"] = enr.ReceivedAt
	for k, v := range want {
		if g, w := marshal(t, got[k]), marshal(t, v); !bytes.Equal(g, w) {
			t.Errorf("column %s: got %s, want %s", k, g, w)
		}
	}
	if keys.Received.Hour() != 8 {
		t.Errorf("got receive hour %d, want the enrichment's 8", keys.Received.Hour())
	}
}

// fill sets every settable field of v to a non-zero value.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("v-" + v.Type().Name())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(7)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k)
		if e.Kind() == reflect.Interface {
			e.Set(reflect.ValueOf("x"))
		} else {
			fill(e)
		}
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0))
		v.Set(s)
	}
}

// collectTags records each field of the struct v under its JSON name, except nested contexts.
func collectTags(t *testing.T, v reflect.Value, into map[string]any) {
	for i := range v.NumField() {
		f := v.Type().Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" || name == "context" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		var val any
		if err := json.Unmarshal(marshal(t, v.Field(i).Interface()), &val); err != nil {
			t.Fatal(err)
		}
		into[name] = val
	}
}

func TestDropTypes(t *testing.T) {
	h := quietHandler()
	h.DropTypes = []string{"com.example.test.ping", "synthetic.*"}
	mk := func(typ string) []byte {
		return []byte(fmt.Sprintf(`{"specversion":"1.0","id":"i","source":"/s","type":%q}`, typ))
	}
	in := firehoseEvent(arrival, mk("com.example.test.ping"), mk("com.example.test.ping2"), mk("synthetic.a.b"), mk("synthetic"), []byte("x"))
	out, err := h.Invoke(t.Context(), marshal(t, in))
	if err != nil {
		t.Fatal(err)
	}
	resp := checkContract(t, in, out)
	want := []string{ResultDropped, ResultOk, ResultDropped, ResultOk, ResultProcessingFailed}
	for i, r := range resp.Records {
		if r.Result != want[i] {
			t.Errorf("record %d: got %s, want %s", i, r.Result, want[i])
		}
	}
}

// TestAppendTime checks the row's timestamps against the time package's formatting.
func TestAppendTime(t *testing.T) {
	for _, s := range []string{"2026-11-25T09:00:04.559Z", "2026-11-25T09:00:04Z", "2024-02-29T23:59:59.123456789Z",
		"2026-11-25T09:00:04+01:00", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z", "2016-12-31T23:59:60.5Z", "2026-11-25t09:00:04z"} {
		checkParseTime(t, s)
	}
}

// checkParseTime checks that a timestamp every stage accepts is written in the row as the time
// package formats it, with and without the hour cache.
func checkParseTime(t *testing.T, s string) {
	got, ok := event.ParseTime(s)
	if !ok {
		return
	}
	want := event.FormatTime(got)
	if b := string(appendTime(nil, got)); b != want {
		t.Errorf("appendTime(%v): got %s, want %s", got, b, want)
	}
	var c hourCache
	if b := string(c.appendTime(nil, got)); b != want {
		t.Errorf("hourCache.appendTime(%v): got %s, want %s", got, b, want)
	}
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-11-25T09:00:04.559Z", "2024-02-29T23:59:59.123456789Z", "2026-11-25T09:00:04+01:00"} {
		f.Add(s)
	}
	f.Fuzz(checkParseTime)
}

func ExampleConvert() {
	record := []byte(`{"specversion":"1.0","id":"42","source":"/shop","type":"com.example.shop.order_placed",` +
		`"dataschema":"com.example.shop.order_placed/v1","data":{"order_id":"o-1","total":12.5}}`)
	row, keys, err := Convert(record, time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC))
	if err != nil {
		panic(err)
	}
	fmt.Print(string(row))
	fmt.Println(lake.PartitionKeyNames)
	fmt.Println(keys.Map())
	// Output:
	// {"event_id":"42","event_type":"com.example.shop.order_placed","event_version":1,"event_time":"2026-11-25T09:30:00.000Z","received_at":"2026-11-25T09:30:00.000Z","source":"/shop","data":{"order_id":"o-1","total":12.5}}
	// [event_type event_version year month day hour]
	// map[day:25 event_type:com.example.shop.order_placed event_version:1 hour:09 month:11 year:2026]
}

func TestHourCacheAgreesWithFormatting(t *testing.T) {
	var c hourCache
	times := []time.Time{
		time.Date(2026, 11, 25, 9, 59, 59, 999_999_999, time.UTC), time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 25, 9, 0, 0, 1_000_000, time.FixedZone("x", 3600)), time.UnixMilli(-1), time.UnixMilli(0),
		time.UnixMilli(-3_600_001), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 23, 30, 1, 0, time.UTC),
	}
	for i := range 2000 {
		times = append(times, time.UnixMilli(1795597205330+int64(i)*7_777_777))
	}
	for _, tm := range times {
		if g, w := string(c.appendTime(nil, tm)), event.FormatTime(tm); g != w {
			t.Fatalf("appendTime(%v): got %s, want %s", tm, g, w)
		}
		k := Keys{EventType: "t", EventVersion: 3, Received: tm.UTC()}
		if g, w := string(c.appendKeys(nil, k)), string(k.appendJSON(nil)); g != w {
			t.Fatalf("appendKeys(%v): got %s, want %s", tm, g, w)
		}
	}
}
