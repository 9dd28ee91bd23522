package transform

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/firelane/firelane/internal/event"
)

var recordSeeds = []string{
	bare,
	`Hello World`,
	`{"firelane":"enriched/1","enrichment":{"arrived_at":"a","context":{"received_at":"2026-11-25T09:00:00Z","request_id":"r"}},"event":{"specversion":"1.0","id":"i","source":"/s","type":"t"}}`,
	`{"firelane":"ingest/1","context":{"received_at":"bad"},"event":{"specversion":"1.0","id":"i","source":"/s","type":"../T\u0000"}}`,
	`{"specversion":"1.0","id":"i","source":"/s","type":"t","data":[1,{"a":"\ud800"},"x\u00e9"]}`,
	"{\"specversion\":\"1.0\",\"id\":\"\xff\",\"source\":\"/s\",\"type\":\"t\"}",
	`{"specversion":"1.0","id":"i","source":"/s","type":"t","time":"2026-02-30T00:00:00Z"}`,
	`{"specversion":"1.0","id":"i","source":"/s","type":"t","data":1e999}`,
	`{"specversion":"1.0","ID":"i","source":"/s","type":"t"}`,
	``, `{}`, `[`, `"`, `{"a":}`,
}

// FuzzInvoke checks the transformation contract for any record data: every record comes back
// once, in order, Ok with one JSON line and safe keys, or ProcessingFailed with its data.
func FuzzInvoke(f *testing.F) {
	for _, s := range recordSeeds {
		f.Add([]byte(s), []byte(bare))
	}
	h := quietHandler()
	h.DropTypes = []string{"drop.*"}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		in := firehoseEvent(arrival, a, b, a)
		out, err := h.Invoke(t.Context(), marshal(t, in))
		if err != nil {
			t.Fatal(err)
		}
		resp := checkContract(t, in, out)
		for i, r := range resp.Records {
			if r.Result == ResultDropped && !strings.HasPrefix(gjsonType(in.Records[i].Data), "drop.") {
				t.Fatalf("record %d dropped", i)
			}
		}
	})
}

// gjsonType returns the type attribute that encoding/json finds in a record, or "".
func gjsonType(b []byte) string {
	env, err := event.DecodeRecord(b)
	if err != nil {
		return ""
	}
	ce, err := event.Parse(env.Event)
	if err != nil {
		return ""
	}
	return ce.Type
}

// FuzzInvokePayload feeds arbitrary invocation payloads: the handler must not panic, and when it
// answers, the answer must cover exactly the records that the payload's "records" array holds.
func FuzzInvokePayload(f *testing.F) {
	for _, s := range recordSeeds {
		f.Add(marshal(f, firehoseEvent(arrival, []byte(s))))
	}
	f.Add([]byte(`{"records":[{"recordId":"a\u0000","approximateArrivalTimestamp":-1,"data":"e30="}],"x":[{}]}`))
	f.Add([]byte(`{"records":[{"recordId":"a","data":"e3\/0="},{"recordId":"b","data":null}]}`))
	h := quietHandler()
	f.Fuzz(func(t *testing.T, payload []byte) {
		out, err := h.Invoke(t.Context(), payload)
		if err != nil {
			return
		}
		var generic struct {
			Records []map[string]json.RawMessage `json:"records"`
		}
		if err := json.Unmarshal(out, &generic); err != nil {
			t.Fatalf("response is not JSON: %v", err)
		}
		// Keys match exactly (Firehose spells them one way), so the expectation is read through
		// maps, which do not fold the case of keys as struct fields do.
		var top map[string]json.RawMessage
		if err := json.Unmarshal(payload, &top); err != nil {
			t.Fatalf("Invoke accepted a payload that encoding/json rejects: %v", err)
		}
		var in struct{ Records []map[string]json.RawMessage }
		if r, ok := top["records"]; ok {
			if err := json.Unmarshal(r, &in.Records); err != nil {
				t.Fatalf("Invoke accepted records that encoding/json rejects: %v", err)
			}
		}
		if len(in.Records) != len(generic.Records) {
			t.Fatalf("got %d response records, want %d", len(generic.Records), len(in.Records))
		}
		for i := range in.Records {
			var gotID, wantID string
			_ = json.Unmarshal(generic.Records[i]["recordId"], &gotID)
			_ = json.Unmarshal(in.Records[i]["recordId"], &wantID)
			if gotID != wantID {
				t.Fatalf("record %d: got id %q, want %q", i, gotID, wantID)
			}
		}
	})
}

// FuzzConvert checks that a record the converter accepts is one the event package accepts too,
// with the same identity, and that every row is one line of JSON.
func FuzzConvert(f *testing.F) {
	for _, s := range recordSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		row, keys, err := Convert(data, arrival)
		if err != nil {
			return
		}
		if !json.Valid(row) || bytes.Count(row, []byte("\n")) != 1 || !bytes.HasSuffix(row, []byte("\n")) {
			t.Fatalf("row %q is not one line of JSON", row)
		}
		if !safeValue.MatchString(keys.EventType) {
			t.Fatalf("unsafe event_type key %q", keys.EventType)
		}
		want, _, refErr := reference(data, arrival)
		if refErr != nil || !bytes.Equal(bytes.ToLower(data), data) {
			// encoding/json folds the case of keys ("ID" sets id); the converter does not.
			return
		}
		got := decodeRow(t, row)
		for _, k := range []string{"event_id", "event_type", "source"} {
			if got[k] != want[k] {
				t.Fatalf("column %s: got %q, want %q", k, got[k], want[k])
			}
		}
	})
}
