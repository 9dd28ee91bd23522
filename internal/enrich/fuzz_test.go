package enrich

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/kpl"
)

// FuzzHandle feeds arbitrary record data to the handler, split into records at 0xFF bytes, with
// the events stream failing entries chosen by the input and the failed-events stream refusing, as
// Firehose does, any record over 1,000 KiB. aggMask packs records into KPL aggregates: a run of
// records whose place has its bit set (place mod 8) becomes one aggregate; the fuzzer's own bytes
// may also begin with the magic bytes. Whatever the bytes, the handler must not panic and must
// account for every event: written once, set aside once, a duplicate of an earlier event, or at or
// after the one reported.
func FuzzHandle(f *testing.F) {
	f.Add([]byte(bareEvent("a")), byte(0), byte(0))
	f.Add([]byte(bareEvent("a")+"\xff"+bareEvent("a")+"\xff\x00junk\xff"+bareEvent("b")), byte(3), byte(0))
	f.Add([]byte(bareEvent("a")+"\xff"+bareEvent("b")+"\xff\x00junk\xff"+bareEvent("c")+"\xff"+bareEvent("a")), byte(5), byte(0b10110))
	f.Add([]byte(kpl.Magic+"\x0a\x01k\x1a\x05\x08\x00\x1a\x01x"), byte(0), byte(0))
	f.Add([]byte(`{"firelane":"ingest/1","context":{"source_ip":"::1","user_agent":"curl/8"},"event":`+bareEvent("c")+`}`), byte(1), byte(0))
	f.Add([]byte(`{"specversion":"1.0","id":"1","source":"/","type":"com.acme.shop.order_placed","data":{"customer_email":{"a":[1,{"b":"\"}"}]},"shipping_address":null}}`), byte(0), byte(0))
	f.Add([]byte(`{"specversion":"1.0","id":"1","source":"/","type":"com.acme.iot.sensor_reading","data":{"location":1,"location":{"lat":1}}}`), byte(0), byte(0))
	if b, err := os.ReadFile(filepath.Join("..", "..", "events", "enrich", "kinesis-batch.json")); err == nil {
		var ev events.KinesisEvent
		if json.Unmarshal(b, &ev) == nil {
			var parts [][]byte
			for _, r := range ev.Records {
				parts = append(parts, r.Kinesis.Data)
			}
			f.Add(bytes.Join(parts, []byte{0xff}), byte(2), byte(0))
			f.Add(bytes.Join(parts, []byte{0xff}), byte(2), byte(0xff))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, failMask, aggMask byte) {
		var strs []string
		var run []kpl.Record
		flush := func() {
			if len(run) > 0 {
				strs = append(strs, string(kpl.Aggregate(run)))
				run = nil
			}
		}
		for i, p := range bytes.Split(data, []byte{0xff}) {
			if (aggMask>>(i%8))&1 == 1 {
				run = append(run, kpl.Record{Data: p, PartitionKey: []byte{'k', byte('0' + i%8)}})
				continue
			}
			flush()
			strs = append(strs, string(p))
		}
		flush()
		entry := 0
		out := &recorder{failEntry: func(int, []byte) bool {
			entry++
			return failMask != 0 && (failMask>>(entry%8))&1 == 1
		}}
		failed := &recorder{}
		h := newHandler(t, out, failed)
		h.Failed = newWriter(t, strictFirehose{failed}, "failed")
		// Small windows, chosen by the input too, so that batches take several calls.
		h.Limits = awsbatch.Limits{MaxRecords: 1 + int(failMask%4), MaxCallBytes: 4 << 20, MaxRecordBytes: 1000 << 10}
		batch := batchOf(strs...)
		recs := Records(batch)
		res := h.Process(t.Context(), recs)
		if want := eventCount(recs); len(res.Outcomes) != want {
			t.Fatalf("got %d outcomes for %d events of %d records", len(res.Outcomes), want, len(batch.Records))
		}
		if want := len(batch.Records) - res.Aggregates + res.UserRecords; len(res.Outcomes) != want {
			t.Fatalf("got %d outcomes, want records - aggregates + user records = %d", len(res.Outcomes), want)
		}
		reported := -1 // the first event of the reported record
		switch len(failuresOf(res)) {
		case 0:
		case 1:
			for i, n := 0, 0; i < len(recs); i++ {
				if recs[i].SequenceNumber == res.Reported {
					reported = n
					break
				}
				n += eventCount(recs[i : i+1])
			}
			if reported < 0 || res.Outcomes[reported] != Reported {
				t.Fatalf("reported %+v, which is not the first event of a record of the batch, or not Reported", failuresOf(res))
			}
		default:
			t.Fatalf("got %d batch item failures", len(failuresOf(res)))
		}
		written, poison := 0, 0
		for i, o := range res.Outcomes {
			switch {
			case reported >= 0 && i > reported:
				if o != Unprocessed {
					t.Fatalf("event %d after the reported one is %v", i, o)
				}
			case i == reported:
			case o == Written:
				written++
			case o == Poison:
				poison++
			case o == Duplicate:
			default:
				t.Fatalf("event %d before the reported one is %v", i, o)
			}
		}
		// Records written after the reported one share its call; the rest must match one to one.
		if len(out.acked) < written || len(failed.acked) < poison {
			t.Fatalf("%d written and %d poison, but %d and %d acknowledged", written, poison, len(out.acked), len(failed.acked))
		}
		if reported < 0 && (len(out.acked) != written || len(failed.acked) != poison) {
			t.Fatalf("%d written and %d poison, but %d and %d acknowledged", written, poison, len(out.acked), len(failed.acked))
		}
		for _, b := range out.acked {
			var rec map[string]json.RawMessage
			if err := json.Unmarshal(b, &rec); err != nil || rec["event"] == nil || rec["enrichment"] == nil {
				t.Fatalf("written record is not an enriched record: %q", b)
			}
		}
		for _, b := range failed.acked {
			if !json.Valid(b) || len(b) > awsbatch.FirehoseLimits.MaxRecordBytes {
				t.Fatalf("failed-event record of %d bytes is not JSON or over Firehose's record: %q", len(b), b)
			}
		}
	})
}
