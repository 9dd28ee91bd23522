package event

import (
	"encoding/json"
	"testing"
)

func TestMajorVersion(t *testing.T) {
	tests := []struct {
		name, dataschema string
		want             int
	}{
		{"absent", "", 1},
		{"v1", "com.acme.web.page_view/v1", 1},
		{"v2", "com.acme.web.page_view/v2", 2},
		{"url", "https://schemas.acme.test/com.acme.x/v12", 12},
		{"last /v wins", "a/v3/b/v4", 4},
		{"a schema $id selects its version", "com.acme.x/v2.json", 2},
		{"minor is no version", "com.acme.x/v2.1", 1},
		{"letters", "com.acme.x/vx", 1},
		{"bare v", "com.acme.x/v", 1},
		{"zero", "com.acme.x/v0", 0},
		{"overlong", "x/v123456789012", 1},
		{"upper case V", "x/V2", 1},
		{"leading zeros", "x/v007", 7},
		{"only the last /v counts", "a/v1/v3x", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MajorVersion(tt.dataschema); got != tt.want {
				t.Errorf("MajorVersion(%q) = %d, want %d", tt.dataschema, got, tt.want)
			}
			if got := MajorVersion([]byte(tt.dataschema)); got != tt.want {
				t.Errorf("MajorVersion of the bytes %q = %d, want %d", tt.dataschema, got, tt.want)
			}
		})
	}
}

func TestCheckEnvelope(t *testing.T) {
	const head = `{"specversion":"1.0","id":"1","source":"/s","type":"a.b"`
	tests := []struct {
		name  string
		event string
		want  string // the error, "" for none
	}{
		{"valid", head + `,"time":"2026-11-25T09:00:00Z"}`, ""},
		{"no time is fine", head + `}`, ""},
		{"an empty time is no time", head + `,"time":""}`, ""},
		{"a null time is no time", head + `,"time":null}`, ""},
		{"lower-case t and z", head + `,"time":"2026-11-25t09:00:00z"}`, ""},
		{"a leap second", head + `,"time":"2016-12-31T23:59:60.5Z"}`, ""},
		{"escaped attributes", `{"specversion":"1\u002e0","\u0069d":"1","source":"/s","type":"a.b","time":"2026-11-25T09:00:00\u005a"}`, ""},
		{"the last string wins, null leaves it", head + `,"id":null,"type":7,"type":"c.d"}`, ""},
		{"everything missing", `{}`, "invalid CloudEvent: specversion: required attribute is missing; id: required attribute is missing or empty; source: required attribute is missing or empty; type: required attribute is missing or empty"},
		{"wrong version", `{"specversion":"0.3","id":"1","source":"/s","type":"a.b"}`, `invalid CloudEvent: specversion: must be "1.0"`},
		{"bad time", head + `,"time":"yesterday"}`, "invalid CloudEvent: time: not an RFC 3339 timestamp"},
		{"not strings", `{"specversion":1,"id":{},"source":[],"type":true,"time":5,"subject":1,"dataschema":1,"datacontenttype":1,"sentat":1,"data_base64":1}`,
			"invalid CloudEvent: specversion: must be a string; id: must be a string; source: must be a string; type: must be a string; time: must be a string; subject: must be a string; dataschema: must be a string; datacontenttype: must be a string; sentat: must be a string; data_base64: must be a string"},
		{"the last member is not a string", head + `,"id":"2","id":2}`, "invalid CloudEvent: id: must be a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v View
			if _, err := ParseView([]byte(tt.event), 0, 0, &v, new([]byte)); err != nil {
				t.Fatal(err)
			}
			got := ""
			if errs := CheckEnvelope(&v); errs != nil {
				got = errs.Error()
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDecodeRecord(t *testing.T) {
	ce := `{"specversion":"1.0","id":"1","source":"/s","type":"a.b","data":{}}`
	tests := []struct {
		name     string
		record   string
		wantKind int
		wantErr  bool
	}{
		{"bare", ce, InputBare, false},
		{"ingest", `{"firelane":"ingest/1","context":{"received_at":"2026-11-25T09:00:00.000Z"},"event":` + ce + `}`, InputIngest, false},
		{"enriched", `{"firelane":"enriched/1","enrichment":{"arrived_at":"x"},"event":` + ce + `}`, InputEnriched, false},
		{"unknown version", `{"firelane":"ingest/2","context":{},"event":` + ce + `}`, 0, true},
		{"ingest without context", `{"firelane":"ingest/1","event":` + ce + `}`, 0, true},
		{"no event", `{"firelane":"enriched/1","enrichment":{}}`, 0, true},
		{"not an object", `[1,2]`, 0, true},
		{"not JSON", "Hello World", 0, true},
		{"neither", `{"a":1}`, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := DecodeRecord([]byte(tt.record))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("got kind %d, want an error", env.Kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if env.Kind != tt.wantKind {
				t.Errorf("got kind %d, want %d", env.Kind, tt.wantKind)
			}
			if ev, err := Parse(env.Event); err != nil || ev.ID != "1" {
				t.Errorf("event did not survive: %v %v", ev, err)
			}
		})
	}
}

// FuzzDecodeRecord asserts that any bytes either decode into a record whose event is a JSON object
// or give an error, never a panic.
func FuzzDecodeRecord(f *testing.F) {
	f.Add([]byte(`{"specversion":"1.0","id":"1","source":"/s","type":"a.b","data":{}}`))
	f.Add([]byte(`{"firelane":"ingest/1","context":{"received_at":"x"},"event":{"id":"1"}}`))
	f.Add([]byte(`{"firelane":"enriched/1","enrichment":{},"event":{}}`))
	f.Add([]byte("\x00\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := DecodeRecord(b)
		if err != nil {
			return
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(env.Event, &obj) != nil {
			t.Fatalf("decoded record's event is not a JSON object: %q", env.Event)
		}
	})
}
