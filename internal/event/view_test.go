package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/firelane/firelane/internal/jsonbytes"
)

func TestParseTime(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	tests := []struct {
		name, s string
		want    time.Time
		ok      bool
	}{
		{"UTC", "2026-11-25T09:00:04Z", utc(2026, 11, 25, 9, 0, 4, 0), true},
		{"milliseconds", "2026-11-25T09:00:04.559Z", utc(2026, 11, 25, 9, 0, 4, 559e6), true},
		{"nanoseconds", "2024-02-29T23:59:59.123456789Z", utc(2024, 2, 29, 23, 59, 59, 123456789), true},
		{"more digits than nanoseconds", "2026-11-25T09:00:04.1234567891234Z", utc(2026, 11, 25, 9, 0, 4, 123456789), true},
		{"lower-case t and z", "2026-11-25t09:00:04z", utc(2026, 11, 25, 9, 0, 4, 0), true},
		{"offset east", "2026-11-25T10:30:04+01:30", utc(2026, 11, 25, 9, 0, 4, 0), true},
		{"offset west", "2026-11-25T01:00:04-08:00", utc(2026, 11, 25, 9, 0, 4, 0), true},
		{"unknown local offset", "2026-11-25T09:00:04-00:00", utc(2026, 11, 25, 9, 0, 4, 0), true},
		{"leap second", "2016-12-31T23:59:60Z", utc(2016, 12, 31, 23, 59, 59, 999999999), true},
		{"leap second with a fraction", "2016-12-31T23:59:60.5Z", utc(2016, 12, 31, 23, 59, 59, 999999999), true},
		{"leap second east of UTC", "2017-01-01T08:59:60+09:00", utc(2016, 12, 31, 23, 59, 59, 999999999), true},
		{"leap second west of UTC", "2016-12-31T15:59:60-08:00", utc(2016, 12, 31, 23, 59, 59, 999999999), true},
		{"leap second at another minute", "2016-12-31T23:58:60Z", time.Time{}, false},
		{"year 0000", "0000-01-01T00:00:00Z", utc(0, 1, 1, 0, 0, 0, 0), true},
		{"29 February of a common year", "2023-02-29T00:00:00Z", time.Time{}, false},
		{"31 April", "2026-04-31T00:00:00Z", time.Time{}, false},
		{"month 13", "2026-13-01T00:00:00Z", time.Time{}, false},
		{"hour 24", "2026-11-25T24:00:00Z", time.Time{}, false},
		{"minute 60", "2026-11-25T09:60:00Z", time.Time{}, false},
		{"second 61", "2026-11-25T23:59:61Z", time.Time{}, false},
		{"a sign in the hour", "2026-11-25T+9:00:00Z", time.Time{}, false},
		{"a space for T", "2026-11-25 09:00:04Z", time.Time{}, false},
		{"no fraction digits", "2026-11-25T09:00:04.Z", time.Time{}, false},
		{"a comma for the point", "2026-11-25T09:00:04,5Z", time.Time{}, false},
		{"no zone", "2026-11-25T09:00:04", time.Time{}, false},
		{"offset without colon", "2026-11-25T09:00:04+0100", time.Time{}, false},
		{"offset hour 24", "2026-11-25T09:00:04+24:00", time.Time{}, false},
		{"offset minute 60", "2026-11-25T09:00:04+01:60", time.Time{}, false},
		{"text after", "2026-11-25T09:00:04Zx", time.Time{}, false},
		{"empty", "", time.Time{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseTime(tc.s)
			if ok != tc.ok || !got.Equal(tc.want) {
				t.Errorf("ParseTime(%q): got %v, %v; want %v, %v", tc.s, got, ok, tc.want, tc.ok)
			}
			if b, bok := ParseTime([]byte(tc.s)); bok != ok || !b.Equal(got) {
				t.Errorf("ParseTime of the bytes %q: got %v, %v; want %v, %v", tc.s, b, bok, got, ok)
			}
		})
	}
}

// FuzzParseTime holds ParseTime to the time package wherever RFC 3339 and Go agree: every
// timestamp time.Parse accepts in the grammar's upper-case form without a leap second is parsed
// to the same instant, and ParseTime accepts nothing that is not 20 bytes or more of that form.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-11-25T09:00:04.559Z", "2024-02-29T23:59:59.123456789Z", "2026-11-25T09:00:04+01:00",
		"2016-12-31T23:59:60Z", "2026-11-25t09:00:04z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := ParseTime(s)
		if !ok {
			return
		}
		if len(s) < 20 {
			t.Fatalf("ParseTime(%q) accepted %d bytes", s, len(s))
		}
		if got.Location() != time.UTC {
			t.Fatalf("ParseTime(%q) is not in UTC", s)
		}
		up := strings.ToUpper(s)
		if up[17:19] == "60" {
			return
		}
		want, err := time.Parse(time.RFC3339Nano, up)
		if err != nil {
			// Go keeps at most nine fraction digits; ParseTime reads any number.
			return
		}
		if !got.Equal(want) {
			t.Fatalf("ParseTime(%q) = %v, time.Parse says %v", s, got, want)
		}
	})
}

func TestRecordParse(t *testing.T) {
	ce := `{"specversion":"1.0","id":"1","source":"/s","type":"a.b","data":{"k":"é"}}`
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := []struct {
		name, record string
		kind         int
		err          string
	}{
		{"bare", ce, InputBare, ""},
		{"ingest", `{"firelane":"ingest/1","context":{"received_at":"2026-11-25T09:00:00.000Z"},"event":` + ce + `}`, InputIngest, ""},
		{"enriched", `{"firelane":"enriched/1","enrichment":{"arrived_at":"x"},"event":` + ce + `}`, InputEnriched, ""},
		{"escaped marker", `{"fire\u006cane":"ingest\/1","context":{},"event":` + ce + `}`, InputIngest, ""},
		{"a null marker is no marker", `{"firelane":null,"specversion":"1.0"}`, InputBare, ""},
		{"an event nested to the limit in a record", `{"firelane":"ingest/1","context":{},"event":{"d":` + deep(jsonbytes.MaxDepth-1) + `}}`, InputIngest, ""},
		{"an event nested beyond the limit", `{"firelane":"ingest/1","context":{},"event":{"d":` + deep(jsonbytes.MaxDepth) + `}}`, 0, "nested too deeply"},
		{"a bare event's event extension is counted from the record", `{"specversion":"1.0","event":{"d":` + deep(jsonbytes.MaxDepth-1) + `}}`, 0, "nested too deeply"},
		{"unknown version", `{"firelane":"ingest/2","context":{},"event":` + ce + `}`, 0, "unknown firelane record format"},
		{"marker not a string", `{"firelane":1}`, 0, "firelane: must be a string"},
		{"ingest without context", `{"firelane":"ingest/1","event":` + ce + `}`, 0, "no context object"},
		{"enriched without enrichment", `{"firelane":"enriched/1","event":` + ce + `}`, 0, "no enrichment object"},
		{"no event", `{"firelane":"ingest/1","context":{}}`, 0, "no event object"},
		{"an event that is not an object", `{"firelane":"ingest/1","context":{},"event":{},"event":1}`, 0, "no event object"},
		{"not an object", `[1,2]`, 0, "not a JSON object"},
		{"not JSON", "Hello World", 0, "not a JSON object"},
		{"broken JSON", `{"specversion":"1.0",}`, 0, "invalid JSON"},
		{"text after", ce + ` {}`, 0, "data after the top-level value"},
		{"neither", `{"a":1}`, 0, "neither a firelane record nor a CloudEvent"},
	}
	var r Record
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := r.Parse([]byte(tc.record))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want an error mentioning %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Kind != tc.kind {
				t.Errorf("got kind %d, want %d", r.Kind, tc.kind)
			}
			if !json.Valid(r.Raw) && !strings.Contains(tc.name, "limit") {
				t.Errorf("event %q is not JSON", r.Raw)
			}
		})
	}
}

// FuzzRecord holds Record to DecodeRecord, encoding/json's reading of a record: they accept the
// same records (except for nesting, which Record counts from the event), and find the same event.
func FuzzRecord(f *testing.F) {
	f.Add([]byte(`{"specversion":"1.0","id":"1","source":"/s","type":"a.b","data":{}}`))
	f.Add([]byte(`{"firelane":"ingest/1","context":{"received_at":"x"},"event":{"id":"1"}}`))
	f.Add([]byte(`{"firelane":"enriched/1","enrichment":{},"event":{"type":"\u0061","type":1}}`))
	f.Add([]byte(`{"firelane":"ingest/1","context":{},"event":{},"event":{"id":"2"}}`))
	f.Add([]byte("\x00\xff"))
	var r Record
	f.Fuzz(func(t *testing.T, b []byte) {
		err := r.Parse(b)
		env, werr := DecodeRecord(b)
		var depthErr bool
		if err != nil {
			depthErr = errors.Is(err, jsonbytes.ErrDepth)
		}
		if (err == nil) != (werr == nil) {
			if depthErr || bytes.Contains(b, []byte(`\`)) || !lowerASCII(b) {
				return // nesting, escaped or differently cased names: encoding/json reads them otherwise
			}
			t.Fatalf("Record: %v, DecodeRecord: %v, for %q", err, werr, b)
		}
		if err != nil {
			return
		}
		if r.Kind != env.Kind {
			t.Fatalf("kind %d, DecodeRecord says %d, for %q", r.Kind, env.Kind, b)
		}
		if !bytes.Equal(bytes.TrimSpace(r.Raw), bytes.TrimSpace(env.Event)) {
			t.Fatalf("event %q, DecodeRecord says %q", r.Raw, env.Event)
		}
		var ce CloudEvent
		if json.Unmarshal(r.Raw, &ce) == nil && lowerASCII(b) && !bytes.Contains(b, []byte(`\`)) {
			var buf []byte
			if got := string(r.Event.ID.Value(&buf)); got != ce.ID && bytes.Count(r.Raw, []byte(`"id"`)) < 2 {
				t.Fatalf("id %q, encoding/json says %q", got, ce.ID)
			}
		}
	})
}

// lowerASCII reports whether b holds no upper-case letter and no byte above 0x7f, where
// encoding/json's case-insensitive names and Record's exact ones agree.
func lowerASCII(b []byte) bool {
	for _, c := range b {
		if c >= 'A' && c <= 'Z' || c >= 0x80 {
			return false
		}
	}
	return true
}

// BenchmarkRecordParse reads an ingest record and checks its envelope, as the later stages do for
// every record.
func BenchmarkRecordParse(b *testing.B) {
	rec := []byte(`{"firelane":"ingest/1","context":{"received_at":"2026-11-25T09:00:00.000Z","source_ip":"203.0.113.7"},` +
		`"event":{"specversion":"1.0","id":"5f0c","source":"/web","type":"com.acme.web.page_view","time":"2026-11-25T09:00:04.559Z",` +
		`"dataschema":"com.acme.web.page_view/v1","data":{"url":"https://shop.acme.test/p","session_id":"8f14e45f-ceea-467f-a0f8-7c2c3c1c2d3e"}}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(rec)))
	var r Record
	for b.Loop() {
		if r.Parse(rec) != nil || CheckEnvelope(r.Event) != nil {
			b.Fatal("record refused")
		}
	}
}
