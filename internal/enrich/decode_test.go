package enrich

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/jsonbytes"
)

// refEvent is a CloudEvent with the sentat extension, as encoding/json decodes it.
type refEvent struct {
	event.CloudEvent
	SentAt string `json:"sentat"`
}

// refInput is what referenceDecode finds.
type refInput struct {
	event   refEvent
	raw     json.RawMessage
	context *event.ServerContext
}

// referenceDecode decodes a record the straightforward way, with event.DecodeRecord and
// encoding/json, for comparison with decodeInput, and checks the envelope rules on what it
// decoded: the values a struct decodes, and a string or null in the last member of each string
// attribute, as a decoded map has it.
func referenceDecode(data []byte) (*refInput, error) {
	env, err := event.DecodeRecord(data)
	if err != nil {
		return nil, err
	}
	if env.Kind != event.InputBare && env.Kind != event.InputIngest {
		return nil, errEnriched
	}
	in := &refInput{raw: env.Event, context: env.Context}
	var typeErr *json.UnmarshalTypeError
	if err := json.Unmarshal(env.Event, &in.event); err != nil && !errors.As(err, &typeErr) {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(env.Event, &m); err != nil {
		return nil, err
	}
	for _, k := range []string{"specversion", "id", "source", "type", "time", "subject", "dataschema", "datacontenttype", "sentat", "data_base64"} {
		switch m[k].(type) {
		case nil, string:
		default:
			return nil, fmt.Errorf("%s: must be a string", k)
		}
	}
	e := &in.event
	if e.SpecVersion != event.SpecVersion || e.ID == "" || e.Source == "" || e.Type == "" {
		return nil, errAny
	}
	if _, ok := event.ParseTime(e.Time); e.Time != "" && !ok {
		return nil, errAny
	}
	return in, nil
}

// lowerKeys reports whether every member name of the record and its event is lower case, where
// encoding/json's case-insensitive matching and decodeInput's exact one agree.
func lowerKeys(data []byte) bool {
	ok := true
	var walk func(v []byte, depth int)
	walk = func(v []byte, depth int) {
		_ = members(v, func(key []byte, start, end int) bool {
			if string(bytes.ToLower(key)) != string(key) {
				ok = false
			}
			if depth == 0 && (string(key) == `"event"` || string(key) == `"context"`) && v[start] == '{' {
				walk(v[start:end], 1)
			}
			return ok
		})
	}
	walk(bytes.TrimSpace(data), 0)
	return ok
}

func FuzzDecodeInput(f *testing.F) {
	f.Add([]byte(bareEvent("a")))
	f.Add([]byte(`{"firelane":"ingest/1","context":{"received_at":"2026-11-25T09:01:01Z","source_ip":"::1","user_agent":"x\u00e9"},"event":` + bareEvent("b") + `}`))
	f.Add([]byte(`{"specversion":"1.0","id":null,"id":"2","s\u006furce":"/x","type":"t.t","data":[1],"sentat":"2026-11-25T09:01:01Z"}`))
	f.Add([]byte(`{"firelane":"enriched/1","enrichment":{},"event":{}}`))
	f.Add([]byte(`{"specversion":1}`))
	if b, err := os.ReadFile(filepath.Join("..", "..", "events", "enrich", "kinesis-batch.json")); err == nil {
		var ev events.KinesisEvent
		if json.Unmarshal(b, &ev) == nil {
			for _, r := range ev.Records {
				f.Add(r.Kinesis.Data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := decodeInput(data, nil)
		want, werr := referenceDecode(data)
		if (err == nil) != (werr == nil) {
			if !lowerKeys(data) || !json.Valid(data) {
				return
			}
			// Both reject what is not a record; the reasons may differ. Only acceptance must agree.
			t.Fatalf("decodeInput error %v, reference error %v for %q", err, werr, data)
		}
		if err != nil || !lowerKeys(data) {
			return
		}
		if got.event.SpecVersion != want.event.SpecVersion || got.event.ID != want.event.ID || got.event.Source != want.event.Source ||
			got.event.Type != want.event.Type || got.event.Time != want.event.Time || got.event.Subject != want.event.Subject ||
			got.event.DataSchema != want.event.DataSchema || got.event.DataContentType != want.event.DataContentType || got.sentAt != want.event.SentAt {
			t.Fatalf("attributes differ:\ngot  %+v\nwant %+v", got.event, want.event)
		}
		if !bytes.Equal(bytes.TrimSpace(got.event.Data), bytes.TrimSpace(want.event.Data)) {
			t.Fatalf("data differs: got %q, want %q", got.event.Data, want.event.Data)
		}
		if !bytes.Equal(bytes.TrimSpace(got.raw), bytes.TrimSpace(want.raw)) {
			t.Fatalf("event bytes differ")
		}
		if (got.context == nil) != (want.context == nil) || (got.context != nil && *got.context != *want.context) {
			t.Fatalf("context differs: got %+v, want %+v", got.context, want.context)
		}
	})
}

func TestDecodeInputErrors(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"empty", "", "not a JSON object"},
		{"array", "[]", "not a JSON object"},
		{"invalid JSON", `{"a":}`, "decode record"},
		{"attribute of the wrong type", `{"specversion":"1.0","id":7}`, "invalid CloudEvent: id: must be a string"},
		{"no event in an ingest record", `{"firelane":"ingest/1","context":{}}`, "no event object"},
		{"an event nested to the limit in an ingest record", `{"firelane":"ingest/1","context":{},"event":{"specversion":"1.0","id":"1","source":"/s","type":"a.b","data":` + strings.Repeat("[", jsonbytes.MaxDepth) + strings.Repeat("]", jsonbytes.MaxDepth) + `}}`, "nested too deeply"},
		{"context of the wrong type", `{"firelane":"ingest/1","context":{"source_ip":1},"event":{}}`, "source_ip: must be a string"},
		{"enriched without enrichment", `{"firelane":"enriched/1","event":{}}`, "has no enrichment"},
		{"format not a string", `{"firelane":1}`, "firelane: must be a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeInput([]byte(tc.data), interner{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}
