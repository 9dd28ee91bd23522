package enrich

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// TestInjectedFaults runs batches against Firehose streams that fail a fraction of entries (and
// throttle some whole calls), delivering every batch again from the reported record on, as Lambda
// does. Each invocation must account for every record in order: everything before the reported
// record acknowledged exactly once (or a poison record set aside, or a duplicate of an earlier
// one), the reported record not acknowledged, and nothing after its window sent. In the end every
// event is in the lake, and deduplicating by fingerprint leaves exactly the events sent.
func TestInjectedFaults(t *testing.T) {
	t.Parallel()
	for _, rate := range []float64{0.01, 0.10, 0.50} {
		t.Run(fmt.Sprintf("%g%% of entries fail", rate*100), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(rate*1000)))
			var mu sync.Mutex
			chance := func(p float64) bool { mu.Lock(); defer mu.Unlock(); return rng.Float64() < p }
			failEntry := func(int, []byte) bool { return chance(rate) }
			failCall := func(int) error {
				if chance(rate / 5) {
					return errors.New("ThrottlingException: rate exceeded")
				}
				return nil
			}
			out := &recorder{failEntry: failEntry, failCall: failCall}
			failed := &recorder{failEntry: failEntry, failCall: failCall}
			h := newHandler(t, out, failed)
			h.Limits.MaxRecords, h.Limits.MaxCallBytes, h.Limits.MaxRecordBytes = maxRecords, 4<<20, 1000<<10

			// 600 records: 500 distinct events, 60 duplicate deliveries and 40 poison records.
			var data []string
			want := map[string]bool{}
			for i := range 600 {
				switch {
				case i%15 == 7:
					data = append(data, "poison-"+strconv.Itoa(i))
				case i%10 == 3 && i > 20:
					data = append(data, bareEvent("e"+strconv.Itoa(i-20)))
				default:
					id := "e" + strconv.Itoa(i)
					data = append(data, bareEvent(id))
				}
			}
			all := batchOf(data...)
			for _, r := range all.Records {
				if in, err := decodeInput(r.Kinesis.Data, nil); err == nil {
					want[in.event.ID] = true
				}
			}
			pos, invocations := 0, 0
			for pos < len(all.Records) {
				invocations++
				if invocations > 500 {
					t.Fatalf("no progress after %d invocations at record %d", invocations, pos)
				}
				batch := events.KinesisEvent{Records: all.Records[pos:min(pos+100, len(all.Records))]}
				outBefore, failedBefore := len(out.acked), len(failed.acked)
				res := h.Process(t.Context(), Records(batch))
				checkInvocation(t, batch, res, out.ackedIDs(t)[outBefore:], failed.ackedOriginals(t)[failedBefore:])
				if len(failuresOf(res)) == 0 {
					pos += len(batch.Records)
					continue
				}
				seq, _ := strconv.Atoi(failuresOf(res)[0].ItemIdentifier)
				pos = seq - 1 // moto-style sequence numbers: record i has number i+1
			}
			got := map[string]int{}
			for _, id := range out.ackedIDs(t) {
				got[id]++
			}
			for id := range want {
				if got[id] == 0 {
					t.Errorf("event %s never reached the events stream", id)
				}
			}
			for id := range got {
				if !want[id] {
					t.Errorf("the events stream got %s, which was never sent", id)
				}
			}
			poison := map[string]bool{}
			for _, o := range failed.ackedOriginals(t) {
				poison[o] = true
			}
			if len(poison) != 40 {
				t.Errorf("got %d distinct poison records set aside, want 40", len(poison))
			}
			dups := len(out.acked) - len(got)
			t.Logf("%d invocations; %d events written %d times (%d redelivered after a reported failure); %d events-stream calls",
				invocations, len(got), len(out.acked), dups, out.calls)
		})
	}
}

// maxRecords is the fault tests' window: small, so that a batch takes several calls.
const maxRecords = 40

// checkInvocation asserts the ordered contract of one invocation against what the streams
// acknowledged during it.
func checkInvocation(t *testing.T, batch events.KinesisEvent, res Result, ackedIDs, originals []string) {
	t.Helper()
	acked := map[string]int{}
	for _, id := range ackedIDs {
		acked[id]++
	}
	poisonAcked := map[string]int{}
	for _, o := range originals {
		poisonAcked[o]++
	}
	reported := -1
	if len(failuresOf(res)) == 1 {
		for i, r := range batch.Records {
			if r.Kinesis.SequenceNumber == failuresOf(res)[0].ItemIdentifier {
				reported = i
			}
		}
		if reported < 0 {
			t.Fatalf("reported %q, which is not in the batch", failuresOf(res)[0].ItemIdentifier)
		}
	} else if len(failuresOf(res)) > 1 {
		t.Fatalf("got %d batch item failures, want at most 1", len(failuresOf(res)))
	}
	for id, n := range acked {
		if n > 1 {
			t.Errorf("event %s acknowledged %d times in one invocation", id, n)
		}
	}
	ids := make([]string, len(batch.Records)) // "" for a poison record
	for i, r := range batch.Records {
		if in, err := decodeInput(r.Kinesis.Data, nil); err == nil {
			ids[i] = in.event.ID
		}
	}
	seen := map[string]bool{}
	for i, r := range batch.Records {
		id := ids[i]
		switch {
		case reported >= 0 && i == reported:
			if res.Outcomes[i] != Reported {
				t.Errorf("record %d: got %v, want Reported", i, res.Outcomes[i])
			}
			if id != "" && acked[id] > 0 && !seen[id] {
				t.Errorf("record %d (%s) was acknowledged, yet reported", i, id)
			}
		case reported >= 0 && i > reported:
			if res.Outcomes[i] != Unprocessed {
				t.Errorf("record %d after the reported one: got %v, want Unprocessed", i, res.Outcomes[i])
			}
		case id == "":
			if res.Outcomes[i] != Poison || poisonAcked[string(r.Kinesis.Data)] != 1 {
				t.Errorf("poison record %d: got %v, acknowledged %d times, want Poison once", i, res.Outcomes[i], poisonAcked[string(r.Kinesis.Data)])
			}
		case seen[id]:
			if res.Outcomes[i] != Duplicate {
				t.Errorf("record %d repeats %s: got %v, want Duplicate", i, id, res.Outcomes[i])
			}
		default:
			if res.Outcomes[i] != Written || acked[id] != 1 {
				t.Errorf("record %d (%s): got %v, acknowledged %d times, want Written once", i, id, res.Outcomes[i], acked[id])
			}
		}
		if id != "" {
			seen[id] = true
		}
	}
	if reported < 0 {
		return
	}
	// Nothing past the reported record's window was sent: a record written after the reported one
	// shared a call with it, so at most a window's worth of events lie between them.
	events, seenAfter := 0, map[string]bool{}
	for i := reported + 1; i < len(ids); i++ {
		id := ids[i]
		if id != "" && !seenAfter[id] {
			seenAfter[id] = true
			events++
		}
		written := (id != "" && acked[id] > 0 && !seenBefore(ids[:reported+1], id)) || (id == "" && poisonAcked[string(batch.Records[i].Kinesis.Data)] > 0)
		if written && events > maxRecords {
			t.Errorf("record %d was written although %d events lie between it and the reported record", i, events)
		}
	}
}

func seenBefore(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
