package recovery

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/kpl"
)

// FuzzDecodeObject asserts the reader's contract: no panic, and every non-blank line is either
// envelopes or an error, never skipped.
func FuzzDecodeObject(f *testing.F) {
	env, _ := event.Failed{Format: event.FormatFailed, Kind: event.KindRejected, Stage: "ingest", FailedAt: "2026-11-25T09:01:01.120Z",
		Context: &event.ServerContext{ReceivedAt: "2026-11-25T09:01:01.000Z"},
		Reasons: []event.Reason{{Keyword: "required", Location: "/data"}}, Original: []byte(`{"specversion":"1.0"}`)}.Encode(event.MinFailedLimit, "")
	f.Add(env)
	f.Add(append(append([]byte(nil), env...), []byte("not json\n{\"firelane\":\"failed/9\"}\n")...))
	f.Add([]byte(`{"firelane":"failed/1","failed_at":"x","original":"!!"}`))
	inv, _ := event.Failed{Format: event.FormatFailed, Kind: event.KindFailed, Stage: "enrich", FailedAt: "2026-11-25T09:01:01.120Z",
		Reasons: []event.Reason{{Message: "m"}}, Original: invocationRecordOf(`"payload":"{\"Records\":[]}"`)}.Encode(event.MinFailedLimit, "")
	f.Add(inv)
	f.Fuzz(func(t *testing.T, body []byte) {
		items, errs := decodeObject("k", body)
		lines := map[int]bool{}
		for n, l := range bytes.Split(body, []byte("\n")) {
			if len(bytes.TrimSpace(l)) > 0 {
				lines[n+1] = true
			}
		}
		got := map[int]bool{}
		for _, it := range items {
			if !lines[it.Line] {
				t.Fatalf("got an item of line %d, which is blank or absent", it.Line)
			}
			got[it.Line] = true
			_ = it.Class()
			_ = typeOf(it)
		}
		if len(got)+len(errs) != len(lines) {
			t.Fatalf("got %d lines with envelopes and %d errors, want %d (one per line)", len(got), len(errs), len(lines))
		}
	})
}

const (
	ctx1      = `{"received_at":"2026-01-01T00:00:00.000Z","request_id":"r-1","source_ip":"198.51.100.23"}`
	ingestRec = `{"firelane":"ingest/1","context":` + ctx1 + `,"event":{"id":"b"}}`
)

// invocationRecordOf is an invocation record of an S3 on-failure destination, with the given
// payload member.
func invocationRecordOf(payload string) []byte {
	return []byte(`{"requestContext":{"requestId":"q-1","functionArn":"arn:aws:lambda:us-east-1:123456789012:function:enrich",` +
		`"condition":"RetryAttemptsExhausted","approximateInvokeCount":3},` +
		`"responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},` +
		`"version":"1.0","timestamp":"2026-01-03T00:00:00.000Z",` +
		`"KinesisBatchInfo":{"shardId":"shardId-000000000000","startSequenceNumber":"1","endSequenceNumber":"3",` +
		`"approximateArrivalOfFirstRecord":"2026-01-02T23:59:00.000Z","approximateArrivalOfLastRecord":"2026-01-02T23:59:01.000Z",` +
		`"batchSize":3,"streamArn":"arn:aws:kinesis:us-east-1:123456789012:stream/events"},` + payload + `}`)
}

// kinesisPayload is a payload member holding the Kinesis event of records of data, as a JSON
// string (asString) or as the object.
func kinesisPayload(t *testing.T, asString bool, data ...[]byte) string {
	t.Helper()
	var ev events.KinesisEvent
	for i, d := range data {
		ev.Records = append(ev.Records, events.KinesisEventRecord{EventSource: "aws:kinesis", Kinesis: events.KinesisRecord{
			Data: d, SequenceNumber: string(rune('1' + i)), PartitionKey: "p",
			ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: time.Date(2026, 1, 2, 23, 59, i, 0, time.UTC)}}})
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	if asString {
		b, _ = json.Marshal(string(b))
	}
	return `"payload":` + string(b)
}

func TestUnwrap(t *testing.T) {
	aggregate := kpl.Aggregate([]kpl.Record{{Data: []byte(ingestRec), PartitionKey: []byte("p")}, {Data: []byte(`{"specversion":"1.0","id":"k2"}`), PartitionKey: []byte("p")}})
	type want struct{ event, received, requestID, arrived, unreadable string }
	tests := []struct {
		name     string
		original []byte
		want     []want
	}{
		{"bare event", []byte(`{"specversion":"1.0","id":"a"}`), []want{{event: `{"specversion":"1.0","id":"a"}`}}},
		{"ingest/1 record", []byte(ingestRec), []want{{event: `{"id":"b"}`, received: "2026-01-01T00:00:00.000Z", requestID: "r-1"}}},
		{"enriched/1 record", []byte(`{"firelane":"enriched/1","enrichment":{"received_at":"2026-01-02T00:00:00.000Z","arrived_at":"","processed_at":"","fingerprint":"","schema_type":"","schema_version":1,"context":{"request_id":"r"}},"event":{"id":"c"}}`),
			[]want{{event: `{"id":"c"}`, received: "2026-01-02T00:00:00.000Z", requestID: "r"}}},
		{"enriched/1 record without context", []byte(`{"firelane":"enriched/1","enrichment":{"received_at":"2026-01-02T00:00:00.000Z"},"event":{"id":"c"}}`),
			[]want{{event: `{"id":"c"}`, received: "2026-01-02T00:00:00.000Z"}}},
		{"invocation record, payload as a string", invocationRecordOf(kinesisPayload(t, true, []byte(ingestRec), []byte(`{"specversion":"1.0","id":"d"}`))), []want{
			{event: `{"id":"b"}`, received: "2026-01-01T00:00:00.000Z", requestID: "r-1", arrived: "2026-01-02T23:59:00Z"},
			{event: `{"specversion":"1.0","id":"d"}`, arrived: "2026-01-02T23:59:01Z"},
		}},
		{"invocation record, payload as an object", invocationRecordOf(kinesisPayload(t, false, []byte(ingestRec))), []want{
			{event: `{"id":"b"}`, received: "2026-01-01T00:00:00.000Z", requestID: "r-1", arrived: "2026-01-02T23:59:00Z"},
		}},
		{"invocation record, KPL aggregate", invocationRecordOf(kinesisPayload(t, true, aggregate)), []want{
			{event: `{"id":"b"}`, received: "2026-01-01T00:00:00.000Z", requestID: "r-1", arrived: "2026-01-02T23:59:00Z"},
			{event: `{"specversion":"1.0","id":"k2"}`, arrived: "2026-01-02T23:59:00Z"},
		}},
		{"invocation record, aggregate cut short", invocationRecordOf(kinesisPayload(t, true, aggregate[:len(aggregate)-3])), []want{
			{event: string(aggregate[:len(aggregate)-3]), arrived: "2026-01-02T23:59:00Z", unreadable: "KPL aggregate at sequence number 1"},
		}},
		{"invocation record without payload (SQS)", invocationRecordOf(`"x":1`), []want{{unreadable: "invocation record has no payload"}}},
		{"invocation record with no records", invocationRecordOf(`"payload":"{\"Records\":[]}"`), []want{{unreadable: "holds no records"}}},
		{"not JSON", []byte(`abc`), []want{{event: `abc`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := unwrap(tt.original)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d events, want %d", len(got), len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				var received, requestID, arrived string
				if g.context != nil {
					received, requestID = g.context.ReceivedAt, g.context.RequestID
				}
				if !g.arrived.IsZero() {
					arrived = g.arrived.Format(time.RFC3339)
				}
				if string(g.event) != w.event || received != w.received || requestID != w.requestID || arrived != w.arrived ||
					!strings.Contains(g.unreadable, w.unreadable) || (w.unreadable == "") != (g.unreadable == "") {
					t.Errorf("event %d: got %s (received_at %q, request id %q, arrived %q, unreadable %q), want %s (%q, %q, %q, %q)",
						i, g.event, received, requestID, arrived, g.unreadable, w.event, w.received, w.requestID, w.arrived, w.unreadable)
				}
			}
		})
	}
}

// TestEnvelopeContext checks which server context an item keeps: the original record's own, else
// the failed/2 envelope's, else none (failed/1).
func TestEnvelopeContext(t *testing.T) {
	envCtx := &event.ServerContext{ReceivedAt: "2026-01-05T00:00:00.000Z", RequestID: "from-envelope", SourceIP: "198.51.100.23"}
	tests := []struct {
		name, format, original string
		ctx                    *event.ServerContext
		wantRequestID, wantIP  string
	}{
		{"failed/2 with a bare event", event.FormatFailed, `{"specversion":"1.0","id":"a"}`, envCtx, "from-envelope", "198.51.100.0"},
		{"failed/2 with an ingest record", event.FormatFailed, ingestRec, envCtx, "r-1", "198.51.100.23"},
		{"failed/1 with a bare event", event.FormatFailedV1, `{"specversion":"1.0","id":"a"}`, nil, "", ""},
		{"failed/1 with an ingest record", event.FormatFailedV1, ingestRec, nil, "r-1", "198.51.100.23"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line, _ := event.Failed{Format: tt.format, Kind: event.KindRejected, Stage: "ingest", FailedAt: "2026-01-06T00:00:00.000Z",
				Context: tt.ctx, Reasons: []event.Reason{{Message: "m"}}, Original: []byte(tt.original)}.Encode(event.MinFailedLimit, "")
			items, errs := decodeObject("k", line)
			if len(errs) != 0 || len(items) != 1 {
				t.Fatalf("got %d items and errors %v, want one item", len(items), errs)
			}
			var id, ip string
			if c := items[0].Context; c != nil {
				id, ip = c.RequestID, c.SourceIP
			}
			if id != tt.wantRequestID || ip != tt.wantIP {
				t.Errorf("got request id %q and source IP %q, want %q and %q", id, ip, tt.wantRequestID, tt.wantIP)
			}
		})
	}
}

func TestDecodeDiscarded(t *testing.T) {
	body := invocationRecordOf(kinesisPayload(t, true, []byte(ingestRec), []byte("\x00poison")))
	items, errs := decodeDiscarded("aws/lambda/m/shardId-000000000000/2026/01/03/x", body)
	if len(errs) != 0 || len(items) != 2 {
		t.Fatalf("got %d items and errors %v, want 2 items", len(items), errs)
	}
	it := items[0]
	if it.Envelope.Kind != KindDiscarded || it.Envelope.Stage != "enrich" || it.Class() != "RetryAttemptsExhausted" ||
		!it.FailedAt.Equal(time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)) || it.Envelope.EventID != "b" {
		t.Errorf("got item %+v, want kind discarded, stage enrich, class RetryAttemptsExhausted, failed at the record's timestamp, event b", it.Envelope)
	}
	msg := it.Envelope.Reasons[0].Message
	for _, want := range []string{"3 records", "shardId-000000000000", "1 to 3", "3 invocations", "Unhandled"} {
		if !strings.Contains(msg, want) {
			t.Errorf("got reason %q, want %q in it", msg, want)
		}
	}
	if items[1].Line != 2 || string(items[1].Event) != "\x00poison" {
		t.Errorf("got second item line %d, event %q, want line 2 and the poison record", items[1].Line, items[1].Event)
	}
	for _, bad := range [][]byte{[]byte(`{"firelane":"failed/2"}`), []byte(`not json`), invocationRecordOf(`"timestamp":"x"`)[:40]} {
		if items, errs := decodeDiscarded("k", bad); len(items) != 0 || len(errs) != 1 {
			t.Errorf("%.40s: got %d items and %d errors, want one error", bad, len(items), len(errs))
		}
	}
}

// FuzzDecodeDiscarded asserts the contract of reading an on-failure destination's object: no
// panic, and either items (each with an event or a reason it is unreadable) or one error.
func FuzzDecodeDiscarded(f *testing.F) {
	f.Add(invocationRecordOf(`"payload":"{\"Records\":[{\"kinesis\":{\"data\":\"eyJzcGVjdmVyc2lvbiI6IjEuMCJ9\",\"sequenceNumber\":\"1\",\"approximateArrivalTimestamp\":1.5}}]}"`))
	f.Add(invocationRecordOf(`"payload":{"Records":[{"kinesis":{"data":"84mawg==","sequenceNumber":"1"}}]}`))
	f.Add(invocationRecordOf(`"payload":null`))
	f.Add([]byte(`{"requestContext":{},"KinesisBatchInfo":{}}`))
	f.Add(invocationRecordOf(`"payload":{"Records":[{"kinesis":{"sequenceNumber":"7"}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		items, errs := decodeDiscarded("aws/lambda/k", body)
		if (len(items) == 0) == (len(errs) == 0) || len(errs) > 1 {
			t.Fatalf("got %d items and %d errors, want items or one error", len(items), len(errs))
		}
		for _, it := range items {
			if it.Event == nil && it.Unreadable == "" {
				t.Fatalf("item %d has neither an event nor a reason it is unreadable", it.Line)
			}
			if it.Envelope.Kind != KindDiscarded || it.Class() == "" {
				t.Fatalf("got kind %q class %q, want discarded and a class", it.Envelope.Kind, it.Class())
			}
		}
	})
}

func TestUnreadableClass(t *testing.T) {
	tests := []struct{ name, msg, want string }{
		{"aggregate", "KPL aggregate at sequence number 4960: truncated: 3 bytes", "KPL aggregate"},
		{"no data", "Kinesis record at sequence number 7 has no data", "Kinesis record has no data"},
		{"no payload", "invocation record has no payload (an SQS or SNS destination's record names the batch, it does not hold it)",
			"invocation record has no payload (an SQS or SNS destination's record names the batch, it does not hold it)"},
		{"payload", "invocation record's payload is not a Kinesis event: invalid character", "invocation record's payload is not a Kinesis event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unreadableClass(tt.msg); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
