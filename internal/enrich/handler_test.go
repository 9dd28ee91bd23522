package enrich

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/schema"
)

// recorder is a Firehose delivery stream that remembers every record it acknowledged. failEntry
// picks entries to fail with ServiceUnavailableException; failCall fails whole calls.
type recorder struct {
	mu        sync.Mutex
	calls     int
	acked     [][]byte
	failEntry func(call int, data []byte) bool
	failCall  func(call int) error
}

func (r *recorder) PutRecordBatch(_ context.Context, in *firehose.PutRecordBatchInput, _ ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if len(in.Records) > awsbatch.FirehoseLimits.MaxRecords {
		return nil, fmt.Errorf("InvalidArgumentException: %d records", len(in.Records))
	}
	if r.failCall != nil {
		if err := r.failCall(r.calls); err != nil {
			return nil, err
		}
	}
	out := &firehose.PutRecordBatchOutput{RequestResponses: make([]types.PutRecordBatchResponseEntry, len(in.Records))}
	failed := int32(0)
	for i, rec := range in.Records {
		if r.failEntry != nil && r.failEntry(r.calls, rec.Data) {
			out.RequestResponses[i] = types.PutRecordBatchResponseEntry{ErrorCode: aws.String("ServiceUnavailableException"), ErrorMessage: aws.String("slow down")}
			failed++
			continue
		}
		r.acked = append(r.acked, append([]byte(nil), rec.Data...))
		out.RequestResponses[i] = types.PutRecordBatchResponseEntry{RecordId: aws.String(strconv.Itoa(len(r.acked)))}
	}
	out.FailedPutCount = aws.Int32(failed)
	return out, nil
}

// ackedIDs returns the event ids of the enriched records acknowledged, in order.
func (r *recorder) ackedIDs(t testing.TB) []string {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for _, b := range r.acked {
		var rec struct {
			Format string `json:"firelane"`
			Event  struct {
				ID string `json:"id"`
			} `json:"event"`
		}
		if err := json.Unmarshal(b, &rec); err != nil || rec.Format != event.FormatEnriched {
			t.Fatalf("acknowledged record is not an enriched record: %s", b)
		}
		ids = append(ids, rec.Event.ID)
	}
	return ids
}

// ackedOriginals returns the original data of the failed-event envelopes acknowledged, in order.
func (r *recorder) ackedOriginals(t testing.TB) []string {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, b := range r.acked {
		var f event.Failed
		if err := json.Unmarshal(b, &f); err != nil || f.Format != event.FormatFailed || f.Stage != "enrich" || len(f.Reasons) == 0 {
			t.Fatalf("acknowledged record is not a failed-event envelope: %s", b)
		}
		out = append(out, string(f.Original))
	}
	return out
}

// bareEvent returns a valid bare CloudEvent with the given id.
func bareEvent(id string) string {
	return `{"specversion":"1.0","id":"` + id + `","source":"/test","type":"com.acme.web.page_view","time":"2026-11-25T09:00:58.000Z",` +
		`"dataschema":"com.acme.web.page_view/v1","data":{"url":"https://x.test/","session_id":"8f14e45f-ceea-467f-a0f8-7c2c3c1c2d3e","user_id":"u-` + id + `"}}`
}

// batchOf builds a Kinesis event of the given record data, numbered 1, 2, ... as moto numbers them.
func batchOf(data ...string) events.KinesisEvent {
	ev := events.KinesisEvent{Records: make([]events.KinesisEventRecord, len(data))}
	for i, d := range data {
		seq := strconv.Itoa(i + 1)
		ev.Records[i] = events.KinesisEventRecord{
			EventSource: "aws:kinesis", EventID: "shardId-000000000000:" + seq, EventName: "aws:kinesis:record", EventVersion: "1.0", AwsRegion: "us-east-1",
			Kinesis: events.KinesisRecord{Data: []byte(d), SequenceNumber: seq, PartitionKey: "p", KinesisSchemaVersion: "1.0",
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: time.Date(2026, 11, 25, 9, 1, 1, 0, time.UTC)}},
		}
	}
	return ev
}

// sharedRegistry compiles the embedded schemas once for every test.
var sharedRegistry = sync.OnceValues(schema.Default)

func newHandler(t testing.TB, out, failed *recorder) *Handler {
	t.Helper()
	reg, err := sharedRegistry()
	if err != nil {
		t.Fatal(err)
	}
	return &Handler{Registry: reg, Chain: DefaultChain(nowFunc, testKey), Firehose: newWriter(t, out, "events"),
		Failed: newWriter(t, failed, "failed"), Logger: quietLogger(), Now: nowFunc}
}

func dataHasID(id string) func(int, []byte) bool {
	return func(_ int, b []byte) bool { return strings.Contains(string(b), `"id":"`+id+`"`) }
}

func TestHandleOrderedFailures(t *testing.T) {
	const poison = "\x00not json"
	W, P, D, R, U := Written, Poison, Duplicate, Reported, Unprocessed
	tests := []struct {
		name          string
		records       []string
		limits        awsbatch.Limits // zero: Firehose's
		failOut       func(int, []byte) bool
		failFailed    func(int, []byte) bool
		failCall      func(int) error
		want          []Outcome
		wantReported  string
		wantIDs       []string // acknowledged by the events stream, in order
		wantOriginals []string // acknowledged by the failed-events stream
	}{
		{
			name:          "every record accounted for",
			records:       []string{bareEvent("a"), poison, bareEvent("b"), bareEvent("a"), bareEvent("c")},
			want:          []Outcome{W, P, W, D, W},
			wantIDs:       []string{"a", "b", "c"},
			wantOriginals: []string{poison},
		},
		{
			name:    "a record the events stream keeps failing stops the batch",
			records: []string{bareEvent("a"), bareEvent("b"), bareEvent("c"), bareEvent("d"), bareEvent("e"), bareEvent("f"), bareEvent("g")},
			limits:  awsbatch.Limits{MaxRecords: 2, MaxCallBytes: 4 << 20, MaxRecordBytes: 1000 << 10},
			failOut: dataHasID("d"),
			// Windows are {a,b} {c,d} {e,f} {g}: c went out with d and is written before the
			// checkpoint; {e,f} and {g} are never sent.
			want:         []Outcome{W, W, W, R, U, U, U},
			wantReported: "4",
			wantIDs:      []string{"a", "b", "c"},
		},
		{
			name:          "a poison record the failed-events stream keeps failing is reported in order",
			records:       []string{bareEvent("a"), poison, bareEvent("b"), bareEvent("c")},
			failFailed:    func(int, []byte) bool { return true },
			want:          []Outcome{W, R, U, U},
			wantReported:  "2",
			wantIDs:       []string{"a", "b", "c"},
			wantOriginals: nil,
		},
		{
			name:         "the earliest failure of either stream is the one reported",
			records:      []string{bareEvent("a"), bareEvent("b"), poison, bareEvent("c")},
			failOut:      dataHasID("c"),
			failFailed:   func(int, []byte) bool { return true },
			want:         []Outcome{W, W, R, U},
			wantReported: "3",
			wantIDs:      []string{"a", "b"},
		},
		{
			name:         "a duplicate of a failed record is retried with it",
			records:      []string{bareEvent("a"), bareEvent("b"), bareEvent("c"), bareEvent("b")},
			failOut:      dataHasID("b"),
			want:         []Outcome{W, R, U, U},
			wantReported: "2",
			wantIDs:      []string{"a", "c"},
		},
		{
			name:    "whole calls failing in the second window",
			records: []string{bareEvent("a"), bareEvent("b"), bareEvent("c"), bareEvent("a"), bareEvent("d")},
			limits:  awsbatch.Limits{MaxRecords: 2, MaxCallBytes: 4 << 20, MaxRecordBytes: 1000 << 10},
			failCall: func(call int) error {
				if call > 1 {
					return errors.New("ThrottlingException")
				}
				return nil
			},
			want:         []Outcome{W, W, R, U, U},
			wantReported: "3",
			wantIDs:      []string{"a", "b"},
		},
		{
			name:    "a record larger than a call's byte limit still goes out alone",
			records: []string{bareEvent("a"), bareEvent("b")},
			limits:  awsbatch.Limits{MaxRecords: 500, MaxCallBytes: 100, MaxRecordBytes: 1000 << 10},
			want:    []Outcome{W, W},
			wantIDs: []string{"a", "b"},
		},
		{
			name:    "windows are cut by bytes too",
			records: []string{bareEvent("a"), bareEvent("b"), bareEvent("c")},
			limits:  awsbatch.Limits{MaxRecords: 500, MaxCallBytes: 900, MaxRecordBytes: 1000 << 10},
			failOut: dataHasID("b"),
			// Each enriched record is over 450 bytes: one per window, so c is never sent.
			want:         []Outcome{W, R, U},
			wantReported: "2",
			wantIDs:      []string{"a"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := &recorder{failEntry: tc.failOut, failCall: tc.failCall}
			failed := &recorder{failEntry: tc.failFailed}
			h := newHandler(t, out, failed)
			h.Limits = tc.limits
			res := h.Process(t.Context(), Records(batchOf(tc.records...)))
			if fmt.Sprint(res.Outcomes) != fmt.Sprint(tc.want) {
				t.Errorf("got outcomes %v, want %v", res.Outcomes, tc.want)
			}
			var reported string
			if n := len(failuresOf(res)); n > 1 {
				t.Fatalf("got %d batch item failures, want at most 1", n)
			} else if n == 1 {
				reported = failuresOf(res)[0].ItemIdentifier
			}
			if reported != tc.wantReported {
				t.Errorf("got reported %q, want %q", reported, tc.wantReported)
			}
			if got := out.ackedIDs(t); fmt.Sprint(got) != fmt.Sprint(tc.wantIDs) {
				t.Errorf("events stream acknowledged %v, want %v", got, tc.wantIDs)
			}
			if got := failed.ackedOriginals(t); fmt.Sprint(got) != fmt.Sprint(tc.wantOriginals) {
				t.Errorf("failed-events stream acknowledged %q, want %q", got, tc.wantOriginals)
			}
			resp, err := h.Handle(t.Context(), events.KinesisEvent{})
			if err != nil || len(resp.BatchItemFailures) != 0 {
				t.Errorf("empty batch: got %+v, %v", resp, err)
			}
		})
	}
}

func TestHandleDeadline(t *testing.T) {
	out, failed := &recorder{}, &recorder{}
	h := newHandler(t, out, failed)
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(100*time.Millisecond))
	defer cancel()
	resp, err := h.Handle(ctx, batchOf(bareEvent("a"), bareEvent("b")))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "1" {
		t.Errorf("got %+v, want the first record reported: less than the margin was left", resp.BatchItemFailures)
	}
	if out.calls+failed.calls != 0 {
		t.Errorf("got %d calls, want none", out.calls+failed.calls)
	}
}

func TestHandlePoisonReasons(t *testing.T) {
	huge := `{"specversion":"1.0","id":"big","source":"/t","type":"com.acme.web.page_view","data":{"pad":"` + strings.Repeat("x", 1000<<10) + `"}}`
	const ctx = `{"received_at":"2026-11-25T09:01:01.000Z","request_id":"r-1","source_ip":"198.51.100.23","stage":"prod"}`
	tests := []struct {
		name, data, reason string
		eventID            string
		wantCtx            *event.ServerContext // failed/2's context
	}{
		{"not JSON", "\x00\x01", "not a JSON object", "", nil},
		{"bad event time", `{"specversion":"1.0","id":"t1","source":"/t","type":"t.t","time":"noon"}`, "time", "t1", nil},
		{"truncated JSON", `{"specversion":"1.0",`, "decode record", "", nil},
		{"JSON but not an object", `[1,2]`, "not a JSON object", "", nil},
		{"no specversion", `{"id":"1"}`, "neither a firelane record nor a CloudEvent", "1", nil},
		{"bad envelope", `{"specversion":"1.0","id":"x1","type":"t.t"}`, "source", "x1", nil},
		{"unknown format", `{"firelane":"ingest/9","context":{},"event":{}}`, "unknown firelane record format", "", nil},
		{"ingest record without context", `{"firelane":"ingest/1","event":` + bareEvent("n") + `}`, "no context", "n", nil},
		{"already enriched", `{"firelane":"enriched/1","enrichment":{},"event":` + bareEvent("e") + `}`, "already enriched", "e", nil},
		{"x-pii on a value of the wrong shape", `{"specversion":"1.0","id":"w","source":"/t","type":"com.acme.web.page_view","data":{"user_id":"u"}}`, "", "w", nil},
		{"too large once enriched", huge, "Firehose takes at most", "big", nil},
		{"ingest record with a bad event", `{"firelane":"ingest/1","context":` + ctx + `,"event":{"specversion":"1.0","id":"c1","type":"t.t"}}`, "source", "c1",
			&event.ServerContext{ReceivedAt: "2026-11-25T09:01:01.000Z", RequestID: "r-1", SourceIP: "198.51.100.0", Stage: "prod"}},
		{"ingest record whose context is not one", `{"firelane":"ingest/1","context":{"received_at":1},"event":{"specversion":"1.0","id":"c2","type":"t.t"}}`, "received_at", "c2", nil},
		{"bare event with a context extension", `{"specversion":"1.0","id":"c3","type":"t.t","context":` + ctx + `}`, "source", "c3", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, failed := &recorder{}, &recorder{}
			h := newHandler(t, out, failed)
			res := h.Process(t.Context(), Records(batchOf(tc.data)))
			if tc.reason == "" {
				// A well-formed event that the chain handles is written.
				if res.Outcomes[0] != Written {
					t.Errorf("got %v, want Written", res.Outcomes[0])
				}
				return
			}
			if res.Outcomes[0] != Poison || len(failuresOf(res)) != 0 {
				t.Fatalf("got %v %+v, want Poison and nothing reported", res.Outcomes[0], failuresOf(res))
			}
			var f event.Failed
			if err := json.Unmarshal(failed.acked[0], &f); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(f.Reasons[0].Message, tc.reason) {
				t.Errorf("got reason %q, want it to mention %q", f.Reasons[0].Message, tc.reason)
			}
			wantKeyword := map[bool]string{true: "envelope", false: "decode"}[strings.Contains(f.Reasons[0].Message, "invalid CloudEvent")]
			if strings.Contains(tc.reason, "Firehose takes") {
				wantKeyword = "too-large"
			}
			if f.Reasons[0].Keyword != wantKeyword {
				t.Errorf("got keyword %q, want %q", f.Reasons[0].Keyword, wantKeyword)
			}
			if f.EventID != tc.eventID || f.Kind != event.KindFailed || f.FailedAt != "2026-11-25T09:01:02.000Z" {
				t.Errorf("got %+v", f)
			}
			if (f.Context == nil) != (tc.wantCtx == nil) || (f.Context != nil && *f.Context != *tc.wantCtx) {
				t.Errorf("got context %+v, want %+v", f.Context, tc.wantCtx)
			}
			if !strings.HasPrefix(tc.data, string(f.Original)) || (len(f.Original) < len(tc.data) && len(f.Reasons) != 2) {
				t.Errorf("original is not the record's data, nor a prefix of it with a reason saying so")
			}
			if !strings.HasSuffix(string(failed.acked[0]), "\n") {
				t.Error("failed-event record does not end with a newline")
			}
		})
	}
}

func TestFailedRecordTruncatesOriginal(t *testing.T) {
	h := &Handler{Now: nowFunc, Logger: quietLogger()}
	data := []byte(strings.Repeat("y", 1<<20))
	b := h.failedRecord(t.Context(), &Record{Data: data, SequenceNumber: "42"}, errors.New("too large"))
	if len(b) > awsbatch.FirehoseLimits.MaxRecordBytes {
		t.Fatalf("got a %d-byte failed-event record, want at most %d", len(b), awsbatch.FirehoseLimits.MaxRecordBytes)
	}
	var f event.Failed
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Reasons) != 2 || f.Reasons[1].Keyword != "truncated" || !strings.Contains(f.Reasons[1].Message, "sequence number 42") {
		t.Errorf("got reasons %+v, want a truncated reason naming the sequence number", f.Reasons)
	}
}

// TestProcessResultCounts checks what Process reports for the invocation's summary: each delivery
// stream's acknowledged records and extra attempts, and the lateness of every event enriched
// (duplicates included: they were enriched before they were recognised).
func TestProcessResultCounts(t *testing.T) {
	late := Lateness{Type: "com.acme.web.page_view", Known: true, MS: 3000} // arrived 09:01:01, event time 09:00:58
	tests := []struct {
		name           string
		data           []string
		failEntry      func(call int, data []byte) bool
		events, failed Writes
		lateness       []Lateness
	}{
		{"written and set aside", []string{bareEvent("a"), bareEvent("b"), "not json"}, nil, Writes{2, 0}, Writes{1, 0}, []Lateness{late, late}},
		{"retried once", []string{bareEvent("a"), bareEvent("b")}, func(call int, b []byte) bool { return call == 1 && dataHasID("b")(call, b) }, Writes{2, 1}, Writes{}, []Lateness{late, late}},
		{"duplicate", []string{bareEvent("a"), bareEvent("a")}, nil, Writes{1, 0}, Writes{}, []Lateness{late, late}},
		{"poison only", []string{"not json"}, nil, Writes{}, Writes{1, 0}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(t, &recorder{failEntry: tt.failEntry}, &recorder{})
			res := h.Process(t.Context(), Records(batchOf(tt.data...)))
			if res.Events != tt.events || res.FailedEvents != tt.failed {
				t.Errorf("got writes %+v to events and %+v to failed-events, want %+v and %+v", res.Events, res.FailedEvents, tt.events, tt.failed)
			}
			if !slices.Equal(res.Lateness, tt.lateness) {
				t.Errorf("got lateness %+v, want %+v", res.Lateness, tt.lateness)
			}
		})
	}
}
