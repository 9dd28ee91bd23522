package recovery

import (
	"bytes"
	"testing"

	"github.com/firelane/firelane/internal/event"
)

// FuzzDecodeObject asserts the reader's contract: no panic, and every non-blank line is either an
// envelope or an error, never skipped.
func FuzzDecodeObject(f *testing.F) {
	env, _ := event.Failed{Format: event.FormatFailed, Kind: event.KindRejected, Stage: "ingest", FailedAt: "2026-11-25T09:01:01.120Z",
		Reasons: []event.Reason{{Keyword: "required", Location: "/data"}}, Original: []byte(`{"specversion":"1.0"}`)}.Encode(event.MinFailedLimit, "")
	f.Add(env)
	f.Add(append(append([]byte(nil), env...), []byte("not json\n{\"firelane\":\"failed/9\"}\n")...))
	f.Add([]byte(`{"firelane":"failed/1","failed_at":"x","original":"!!"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		items, errs := decodeObject("k", body)
		lines := 0
		for _, l := range bytes.Split(body, []byte("\n")) {
			if len(bytes.TrimSpace(l)) > 0 {
				lines++
			}
		}
		if got := len(items) + len(errs); got != lines {
			t.Fatalf("got %d envelopes and errors, want %d (one per line)", got, lines)
		}
		for _, it := range items {
			_ = it.Class()
			_ = typeOf(it)
		}
	})
}

func TestUnwrap(t *testing.T) {
	tests := []struct {
		name, original, wantEvent, wantReceived string
	}{
		{"bare event", `{"specversion":"1.0","id":"a"}`, `{"specversion":"1.0","id":"a"}`, ""},
		{"ingest record", `{"firelane":"ingest/1","context":{"received_at":"2026-01-01T00:00:00.000Z"},"event":{"id":"b"}}`, `{"id":"b"}`, "2026-01-01T00:00:00.000Z"},
		{"enriched record", `{"firelane":"enriched/1","enrichment":{"received_at":"2026-01-02T00:00:00.000Z","arrived_at":"","processed_at":"","fingerprint":"","schema_type":"","schema_version":1,"context":{"request_id":"r"}},"event":{"id":"c"}}`, `{"id":"c"}`, "2026-01-02T00:00:00.000Z"},
		{"not JSON", `abc`, `abc`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, ctx := unwrap([]byte(tt.original))
			if string(ev) != tt.wantEvent {
				t.Errorf("got event %s, want %s", ev, tt.wantEvent)
			}
			got := ""
			if ctx != nil {
				got = ctx.ReceivedAt
			}
			if got != tt.wantReceived {
				t.Errorf("got received_at %q, want %q", got, tt.wantReceived)
			}
		})
	}
}
