package enrich

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/kpl"
	"github.com/firelane/firelane/internal/obs"
)

// handEncoded is an aggregate of two user records written byte by byte from KPL's format document
// (aggregation-format.md), not by kpl.Aggregate: one partition key, one explicit hash key (2^127)
// that only the second user record names, and the MD5 of bytes 4 to 216 (computed apart, with
// Python's hashlib). A tag byte is field<<3 | wire type (0 varint, 2 length-delimited).
var handEncoded = string(slices.Concat(
	[]byte{0xF3, 0x89, 0x9A, 0xC2},     // magic
	[]byte{0x0A, 0x04}, []byte("pk-a"), // partition_key_table[0]
	[]byte{0x12, 0x27}, []byte("170141183460469231731687303715884105728"), // explicit_hash_key_table[0], 39 bytes
	[]byte{0x1A, 0x50, 0x08, 0x00, 0x1A, 0x4C}, // records[0], 80 bytes: partition_key_index 0, data of 76 bytes
	[]byte(`{"specversion":"1.0","id":"hand-0","source":"/kpl","type":"com.example.kpl"}`),
	[]byte{0x1A, 0x52, 0x08, 0x00, 0x10, 0x00, 0x1A, 0x4C}, // records[1], 82 bytes: pk 0, explicit_hash_key_index 0, data
	[]byte(`{"specversion":"1.0","id":"hand-1","source":"/kpl","type":"com.example.kpl"}`),
	[]byte{0x4E, 0x4A, 0x81, 0xBC, 0x5E, 0xFC, 0x64, 0xF9, 0xB2, 0xFC, 0x87, 0xC2, 0x73, 0xB5, 0xFC, 0x0B}, // MD5
))

// aggregateOf returns the KPL aggregate of user records with the given data, each with a
// partition key of its own and, when ehk is set, explicit hash keys that some of them share.
func aggregateOf(ehk bool, data ...string) string {
	recs := make([]kpl.Record, len(data))
	for i, d := range data {
		recs[i] = kpl.Record{Data: []byte(d), PartitionKey: []byte("user-" + strconv.Itoa(i))}
		if ehk && i%2 == 1 {
			recs[i].ExplicitHashKey = []byte(strconv.Itoa(i % 3 * 1000))
		}
	}
	return string(kpl.Aggregate(recs))
}

// bareEvents returns bare CloudEvents with ids prefix0, prefix1, ...
func bareEvents(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = bareEvent(prefix + strconv.Itoa(i))
	}
	return out
}

// failedEnvelopes returns the failed-event envelopes a stream acknowledged.
func failedEnvelopes(t *testing.T, r *recorder) []event.Failed {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []event.Failed
	for _, b := range r.acked {
		var f event.Failed
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatalf("acknowledged record is not a failed-event envelope: %v", err)
		}
		out = append(out, f)
	}
	return out
}

func TestProcessAggregates(t *testing.T) {
	W, P, D := Written, Poison, Duplicate
	five := bareEvents("u", 5)
	many := bareEvents("m", 500)
	agg := aggregateOf(false, five...)
	truncated := agg[:len(agg)-7]
	wrongMD5 := agg[:len(agg)-1] + string(agg[len(agg)-1]^0x01)
	type reason struct{ keyword, message string }
	tests := []struct {
		name             string
		records          []string
		want             []Outcome
		wantAggregates   int
		wantUserRecords  int
		wantIDs          []string
		wantOriginals    []string
		wantReasons      []reason // of the failed-event envelopes, in order
		wantUnsetEventID bool
	}{
		{
			name:    "aggregate of one user record between plain records",
			records: []string{bareEvent("a"), aggregateOf(false, bareEvent("b")), bareEvent("c")},
			want:    []Outcome{W, W, W}, wantAggregates: 1, wantUserRecords: 1,
			wantIDs: []string{"a", "b", "c"},
		},
		{
			name:    "aggregate of 500 user records",
			records: []string{aggregateOf(false, many...)},
			want:    slices.Repeat([]Outcome{W}, 500), wantAggregates: 1, wantUserRecords: 500,
			wantIDs: func() []string {
				var ids []string
				for i := range 500 {
					ids = append(ids, "m"+strconv.Itoa(i))
				}
				return ids
			}(),
		},
		{
			name:    "explicit hash keys and plain records mixed",
			records: []string{aggregateOf(true, five[:3]...), bareEvent("p"), aggregateOf(true, five[3:]...)},
			want:    []Outcome{W, W, W, W, W, W}, wantAggregates: 2, wantUserRecords: 5,
			wantIDs: []string{"u0", "u1", "u2", "p", "u3", "u4"},
		},
		{
			name:    "hand-encoded aggregate",
			records: []string{handEncoded, bareEvent("z")},
			want:    []Outcome{W, W, W}, wantAggregates: 1, wantUserRecords: 2,
			wantIDs: []string{"hand-0", "hand-1", "z"},
		},
		{
			name:    "truncated aggregate is set aside whole",
			records: []string{bareEvent("a"), truncated, bareEvent("b")},
			want:    []Outcome{W, P, W},
			wantIDs: []string{"a", "b"}, wantOriginals: []string{truncated},
			wantReasons: []reason{{"aggregate", "KPL aggregate: truncated"}},
		},
		{
			name:    "aggregate with a wrong MD5 is set aside whole",
			records: []string{wrongMD5, bareEvent("a")},
			want:    []Outcome{P, W},
			wantIDs: []string{"a"}, wantOriginals: []string{wrongMD5},
			wantReasons: []reason{{"aggregate", "KPL aggregate: MD5 does not match"}},
		},
		{
			name:    "magic bytes alone are a truncated aggregate",
			records: []string{kpl.Magic},
			want:    []Outcome{P}, wantOriginals: []string{kpl.Magic},
			wantReasons: []reason{{"aggregate", "KPL aggregate: truncated"}},
		},
		{
			name:    "a poison user record is set aside alone, its sub-sequence number in the reason",
			records: []string{aggregateOf(false, bareEvent("a"), "\x00junk", `{"specversion":"1.0","id":"t"}`, bareEvent("b"))},
			want:    []Outcome{W, P, P, W}, wantAggregates: 1, wantUserRecords: 4,
			wantIDs: []string{"a", "b"}, wantOriginals: []string{"\x00junk", `{"specversion":"1.0","id":"t"}`},
			wantReasons: []reason{
				{"decode", "user record 1 of the KPL aggregate at sequence number 1: "},
				{"envelope", "user record 2 of the KPL aggregate at sequence number 1: invalid CloudEvent"},
			},
		},
		{
			name: "duplicates within the batch: plain and user records, across aggregates",
			records: []string{bareEvent("a"), aggregateOf(false, bareEvent("a"), bareEvent("b")),
				aggregateOf(false, bareEvent("b"), bareEvent("c"))},
			want: []Outcome{W, D, W, D, W}, wantAggregates: 2, wantUserRecords: 4,
			wantIDs: []string{"a", "b", "c"},
		},
		{
			name:    "an aggregate put twice (a producer's retry) is written once",
			records: []string{agg, bareEvent("x"), agg},
			want:    []Outcome{W, W, W, W, W, W, D, D, D, D, D}, wantAggregates: 2, wantUserRecords: 10,
			wantIDs: []string{"u0", "u1", "u2", "u3", "u4", "x"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, failed := &recorder{}, &recorder{}
			h := newHandler(t, out, failed)
			res := h.Process(t.Context(), Records(batchOf(tc.records...)))
			if fmt.Sprint(res.Outcomes) != fmt.Sprint(tc.want) {
				t.Errorf("got outcomes %v, want %v", res.Outcomes, tc.want)
			}
			if res.Reported != "" {
				t.Errorf("got reported %q, want none", res.Reported)
			}
			if res.Aggregates != tc.wantAggregates || res.UserRecords != tc.wantUserRecords {
				t.Errorf("got %d aggregates of %d user records, want %d of %d", res.Aggregates, res.UserRecords, tc.wantAggregates, tc.wantUserRecords)
			}
			if n := len(tc.records) - res.Aggregates + res.UserRecords; len(res.Outcomes) != n {
				t.Errorf("got %d outcomes, want %d (records - aggregates + user records)", len(res.Outcomes), n)
			}
			if got := out.ackedIDs(t); !slices.Equal(got, tc.wantIDs) {
				t.Errorf("events stream acknowledged %v, want %v", got, tc.wantIDs)
			}
			if got := failed.ackedOriginals(t); !slices.Equal(got, tc.wantOriginals) {
				t.Errorf("failed-events stream acknowledged %q, want %q", got, tc.wantOriginals)
			}
			envs := failedEnvelopes(t, failed)
			for i, want := range tc.wantReasons {
				if i >= len(envs) {
					break
				}
				r := envs[i].Reasons[0]
				if r.Keyword != want.keyword || !strings.HasPrefix(r.Message, want.message) {
					t.Errorf("envelope %d: got reason %q %q, want keyword %q and a message beginning %q", i, r.Keyword, r.Message, want.keyword, want.message)
				}
			}
		})
	}
}

// TestProcessAggregateWriteFailure fails a user record at Firehose and checks that the aggregate's
// sequence number is reported, that nothing of the aggregate from there on is set aside now, and
// that the redelivery (the aggregate and every later record, to a Firehose that works) writes each
// event once within the batch, rewriting what the first attempt wrote of the aggregate, as
// docs/enrich.md says.
func TestProcessAggregateWriteFailure(t *testing.T) {
	W, R, U := Written, Reported, Unprocessed
	agg := aggregateOf(false, bareEvent("a"), bareEvent("b"), bareEvent("c"), bareEvent("d"), bareEvent("e"))
	withPoison := aggregateOf(false, bareEvent("a"), "\x00junk", bareEvent("b"), bareEvent("c"))
	tests := []struct {
		name          string
		records       []string
		maxRecords    int
		failOn        string
		want          []Outcome
		wantReported  string
		wantIDs       []string // acknowledged in the first attempt
		wantOriginals []string
		wantRetryIDs  []string // acknowledged on redelivery from the reported record
		wantRetryOrig []string
	}{
		{
			name:    "failure in a later window than the aggregate's first user records",
			records: []string{bareEvent("p1"), agg, bareEvent("p2")}, maxRecords: 2, failOn: "c",
			// Windows {p1,a} {b,c}: a and b are acknowledged, c is not; {d,e} and {p2} are never sent.
			want:         []Outcome{W, R, U, U, U, U, U},
			wantReported: "2",
			wantIDs:      []string{"p1", "a", "b"},
			wantRetryIDs: []string{"a", "b", "c", "d", "e", "p2"},
		},
		{
			name:    "failure in the aggregate's first window: its poison user record is not set aside yet",
			records: []string{bareEvent("p1"), withPoison}, maxRecords: 500, failOn: "b",
			want:         []Outcome{W, R, U, U, U},
			wantReported: "2",
			wantIDs:      []string{"p1", "a", "c"},
			wantRetryIDs: []string{"a", "b", "c"}, wantRetryOrig: []string{"\x00junk"},
		},
		{
			name:    "a poison user record set aside in an earlier window is set aside again",
			records: []string{withPoison, bareEvent("p2")}, maxRecords: 1, failOn: "b",
			// One event a window: {a} with {junk} to the failed-events stream, then {b}, which fails.
			want:         []Outcome{R, U, U, U, U},
			wantReported: "1",
			wantIDs:      []string{"a"}, wantOriginals: []string{"\x00junk"},
			wantRetryIDs: []string{"a", "b", "c", "p2"}, wantRetryOrig: []string{"\x00junk"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := &recorder{failEntry: dataHasID(tc.failOn)}
			failed := &recorder{}
			var logs bytes.Buffer
			h := newHandler(t, out, failed)
			h.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
			h.Limits = awsbatch.Limits{MaxRecords: tc.maxRecords, MaxCallBytes: 4 << 20, MaxRecordBytes: 1000 << 10}
			batch := batchOf(tc.records...)
			res := h.Process(t.Context(), Records(batch))
			if fmt.Sprint(res.Outcomes) != fmt.Sprint(tc.want) {
				t.Errorf("got outcomes %v, want %v", res.Outcomes, tc.want)
			}
			if res.Reported != tc.wantReported {
				t.Errorf("got reported %q, want %q", res.Reported, tc.wantReported)
			}
			if got := out.ackedIDs(t); !slices.Equal(got, tc.wantIDs) {
				t.Errorf("events stream acknowledged %v, want %v", got, tc.wantIDs)
			}
			if got := failed.ackedOriginals(t); !slices.Equal(got, tc.wantOriginals) {
				t.Errorf("failed-events stream acknowledged %q, want %q", got, tc.wantOriginals)
			}
			if !strings.Contains(logs.String(), `"msg":"record not written","stream":"events","sequence_number":"`+tc.wantReported+`","sub_sequence_number":`) {
				t.Errorf("no record-not-written line with the aggregate's sequence number and a sub-sequence number:\n%s", logs.String())
			}
			for _, r := range tc.records {
				if strings.Contains(logs.String(), `"id":`) || strings.Contains(logs.String(), r) {
					t.Errorf("the log holds a payload:\n%s", logs.String())
				}
			}

			// Lambda delivers the reported record and every later one again.
			from := slices.IndexFunc(batch.Records, func(r events.KinesisEventRecord) bool { return r.Kinesis.SequenceNumber == tc.wantReported })
			out2, failed2 := &recorder{}, &recorder{}
			h2 := newHandler(t, out2, failed2)
			h2.Limits = h.Limits
			res2 := h2.Process(t.Context(), Records(events.KinesisEvent{Records: batch.Records[from:]}))
			if res2.Reported != "" || res2.Count(Duplicate) != 0 || res2.Count(Unprocessed) != 0 {
				t.Errorf("redelivery: got %v reported %q, want every event written or set aside once", res2.Outcomes, res2.Reported)
			}
			if got := out2.ackedIDs(t); !slices.Equal(got, tc.wantRetryIDs) {
				t.Errorf("redelivery: events stream acknowledged %v, want %v", got, tc.wantRetryIDs)
			}
			if got := failed2.ackedOriginals(t); !slices.Equal(got, tc.wantRetryOrig) {
				t.Errorf("redelivery: failed-events stream acknowledged %q, want %q", got, tc.wantRetryOrig)
			}
			// What the first attempt wrote of the aggregate is written again.
			for _, id := range out.ackedIDs(t) {
				if strings.HasPrefix(id, "p") {
					continue
				}
				if !slices.Contains(out2.ackedIDs(t), id) {
					t.Errorf("user record %s, written before the failure, is not written again", id)
				}
			}
		})
	}
}

// cancelAfter is a Writer that cancels the invocation's context once it has written calls calls,
// as a deadline passing between two windows would.
type cancelAfter struct {
	w      Writer
	calls  int
	cancel context.CancelFunc
}

func (c *cancelAfter) Write(ctx context.Context, recs []awsbatch.Record) []awsbatch.Result {
	res := c.w.Write(ctx, recs)
	if c.calls--; c.calls == 0 {
		c.cancel()
	}
	return res
}

// TestProcessAggregateDeadline runs out of time between two windows of one aggregate: the report
// names the aggregate, from its first user record, although that one was written.
func TestProcessAggregateDeadline(t *testing.T) {
	out, failed := &recorder{}, &recorder{}
	h := newHandler(t, out, failed)
	h.Limits = awsbatch.Limits{MaxRecords: 2, MaxCallBytes: 4 << 20, MaxRecordBytes: 1000 << 10}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	h.Firehose = &cancelAfter{w: h.Firehose, calls: 2, cancel: cancel}
	agg := aggregateOf(false, bareEvent("b"), bareEvent("c"), bareEvent("d"), bareEvent("e"))
	res := h.Process(ctx, Records(batchOf(bareEvent("a"), agg)))
	// Windows {a,b} {c,d}, then no time for {e}.
	if want := []Outcome{Written, Reported, Unprocessed, Unprocessed, Unprocessed}; !slices.Equal(res.Outcomes, want) {
		t.Errorf("got outcomes %v, want %v", res.Outcomes, want)
	}
	if res.Reported != "2" {
		t.Errorf("got reported %q, want the aggregate's sequence number 2", res.Reported)
	}
	if got, want := out.ackedIDs(t), []string{"a", "b", "c", "d"}; !slices.Equal(got, want) {
		t.Errorf("events stream acknowledged %v, want %v", got, want)
	}
}

// TestHandleAggregatesSummary checks the invocation's summary line: it counts the aggregates and
// their user records, and names no key or data.
func TestHandleAggregatesSummary(t *testing.T) {
	var logs bytes.Buffer
	out, failed := &recorder{}, &recorder{}
	h := newHandler(t, out, failed)
	h.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	agg := aggregateOf(true, bareEvents("s", 3)...)
	resp, err := h.Handle(t.Context(), batchOf(bareEvent("p"), agg, agg[:len(agg)-2]))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("got %+v, %v", resp, err)
	}
	var summary map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(logs.Bytes()), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		if m["msg"] == "invocation" {
			summary = m
		}
	}
	if summary == nil {
		t.Fatalf("no summary line in:\n%s", logs.String())
	}
	// Three records: one plain, one aggregate of three user records, one aggregate set aside.
	for key, want := range map[string]float64{obs.Received: 3, obs.Accepted: 4, "aggregates": 1, "user_records": 3} {
		if got, _ := summary[key].(float64); got != want {
			t.Errorf("summary %s: got %v, want %v", key, summary[key], want)
		}
	}
	if strings.Contains(logs.String(), "user-") || strings.Contains(logs.String(), `"s0"`) {
		t.Errorf("the log names a partition key or an event:\n%s", logs.String())
	}
}

// eventCount counts the events [Process] makes of a batch's records, by its own de-aggregation:
// one per plain record, one per user record of a valid aggregate, one per invalid aggregate.
func eventCount(recs []Record) int {
	var d kpl.Decoder
	n := 0
	for _, r := range recs {
		if !kpl.IsAggregated(r.Data) {
			n++
			continue
		}
		urs, err := d.Decode(r.Data)
		var kerr *kpl.Error
		switch {
		case err == nil:
			n += len(urs)
		case errors.As(err, &kerr):
			n++
		default:
			panic(err)
		}
	}
	return n
}
