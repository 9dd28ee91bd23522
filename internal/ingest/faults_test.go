package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/firelane/firelane/internal/event"
)

// eventN returns a valid page view whose id is n.
func eventN(n int) string {
	return strings.Replace(pageView, "9d8c7b6a-5f4e-4d3c-8b2a-190817161514", fmt.Sprintf("ev-%04d", n), 1)
}

func batchOf(n int) string {
	evs := make([]string, n)
	for i := range evs {
		evs[i] = eventN(i)
	}
	return "[" + strings.Join(evs, ",") + "]"
}

// idOf returns the event id inside an ingest record.
func idOf(t testing.TB, rec []byte) string {
	t.Helper()
	var r event.IngestRecord
	if err := json.Unmarshal(rec, &r); err != nil {
		t.Fatalf("record is not an ingest record: %v", err)
	}
	var ev struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(r.Event, &ev); err != nil {
		t.Fatal(err)
	}
	return ev.ID
}

func TestKinesisFaults(t *testing.T) {
	throttle := &smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException", Message: "Rate exceeded"}
	notFound := &smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "Stream events not found"}
	tests := []struct {
		name       string
		fail       func(call int, id string) (entry string, whole error) // the fault of one entry or of the whole call
		status     int
		retryAfter string
		accepted   int
		maxCalls   int // 0: not checked
	}{
		{name: "entries throttled once then taken", status: 200, accepted: 3,
			fail: func(call int, id string) (string, error) {
				if call == 1 && id != "ev-0001" {
					return "ProvisionedThroughputExceededException", nil
				}
				return "", nil
			}},
		{name: "internal failure once then taken", status: 200, accepted: 3,
			fail: func(call int, id string) (string, error) {
				if call == 1 {
					return "InternalFailure", nil
				}
				return "", nil
			}},
		{name: "one entry always throttled", status: 429, retryAfter: "1", accepted: 2,
			fail: func(call int, id string) (string, error) {
				if id == "ev-0002" {
					return "ProvisionedThroughputExceededException", nil
				}
				return "", nil
			}},
		{name: "whole call throttled every time", status: 429, retryAfter: "1", accepted: 0,
			fail: func(int, string) (string, error) { return "", throttle }},
		{name: "whole call throttled once", status: 200, accepted: 3,
			fail: func(call int, id string) (string, error) {
				if call == 1 {
					return "", throttle
				}
				return "", nil
			}},
		{name: "internal failure always", status: 503, retryAfter: "5", accepted: 1,
			fail: func(call int, id string) (string, error) {
				if id != "ev-0000" {
					return "InternalFailure", nil
				}
				return "", nil
			}},
		{name: "stream missing is not retried", status: 503, retryAfter: "5", accepted: 0, maxCalls: 1,
			fail: func(int, string) (string, error) { return "", notFound }},
		{name: "network error", status: 503, retryAfter: "5", accepted: 0,
			fail: func(int, string) (string, error) { return "", errors.New("dial tcp: connection refused") }},
		{name: "unknown entry code is not retried", status: 503, retryAfter: "5", accepted: 2, maxCalls: 1,
			fail: func(call int, id string) (string, error) {
				if id == "ev-0000" {
					return "KMSAccessDeniedException", nil
				}
				return "", nil
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, registry(t), Config{})
			calls := 0
			f.kinesis.put = func(ctx context.Context, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
				calls++
				if _, whole := tt.fail(calls, ""); whole != nil {
					return nil, whole
				}
				return kinesisAck(f.streamed, func(data []byte) string {
					code, _ := tt.fail(calls, idOf(t, data))
					return code
				})(ctx, in)
			}
			resp, _ := f.h.Handle(t.Context(), post(batchOf(3), nil))
			if resp.StatusCode != tt.status {
				t.Fatalf("got status %d, want %d: %s", resp.StatusCode, tt.status, resp.Body)
			}
			if got := resp.Headers["Retry-After"]; got != tt.retryAfter {
				t.Errorf("got Retry-After %q, want %q", got, tt.retryAfter)
			}
			r := decodeResponse(t, resp.Body)
			if r.Accepted != tt.accepted {
				t.Errorf("got %d accepted, want %d", r.Accepted, tt.accepted)
			}
			checkAcknowledged(t, r, f.streamed.all())
			if tt.maxCalls > 0 && calls > tt.maxCalls {
				t.Errorf("got %d calls, want at most %d", calls, tt.maxCalls)
			}
		})
	}
}

// checkAcknowledged asserts that the accepted events are exactly the ones Kinesis acknowledged,
// each once.
func checkAcknowledged(t testing.TB, r Response, acked []stored) {
	t.Helper()
	ackedIDs := map[string]int{}
	for _, s := range acked {
		ackedIDs[idOf(t, s.Data)]++
	}
	for _, e := range r.Results {
		n := ackedIDs[e.ID]
		switch {
		case e.Status == StatusAccepted && n != 1:
			t.Errorf("event %d (%s) reported accepted, acknowledged %d times", e.Index, e.ID, n)
		case e.Status != StatusAccepted && n != 0:
			t.Errorf("event %d (%s) reported %s, but Kinesis acknowledged it", e.Index, e.ID, e.Status)
		}
	}
}

// TestNoEventAcceptedWithoutAck injects random faults (entry failures of every kind, whole calls
// failing, answers with missing entries) and checks on every request that an event is reported
// accepted exactly when Kinesis acknowledged it, and that every event is accounted for.
func TestNoEventAcceptedWithoutAck(t *testing.T) {
	codes := []string{"ProvisionedThroughputExceededException", "InternalFailure", "KMSThrottlingException"}
	for seed := range 60 {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		f := newFixture(t, registry(t), Config{})
		var mu sync.Mutex
		f.kinesis.put = func(ctx context.Context, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
			mu.Lock()
			p := rng.Float64()
			mu.Unlock()
			switch {
			case p < 0.1:
				return nil, &smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException"}
			case p < 0.15:
				return nil, errors.New("connection reset")
			case p < 0.2:
				// An answer that lacks entries must fail the whole call, not shift results.
				return &kinesis.PutRecordsOutput{Records: make([]ktypes.PutRecordsResultEntry, len(in.Records)/2)}, nil
			}
			return kinesisAck(f.streamed, func([]byte) string {
				mu.Lock()
				defer mu.Unlock()
				if rng.Float64() < 0.3 {
					return codes[rng.IntN(len(codes))]
				}
				return ""
			})(ctx, in)
		}
		n := 1 + rng.IntN(40)
		resp, _ := f.h.Handle(t.Context(), post(batchOf(n), nil))
		r := decodeResponse(t, resp.Body)
		if len(r.Results) != n {
			t.Fatalf("seed %d: got %d results, want %d", seed, len(r.Results), n)
		}
		checkAcknowledged(t, r, f.streamed.all())
		if want := map[bool]bool{true: resp.StatusCode == 200, false: resp.StatusCode == 429 || resp.StatusCode == 503}[r.Failed == 0]; !want {
			t.Errorf("seed %d: status %d for %d failed events", seed, resp.StatusCode, r.Failed)
		}
	}
}

// TestDeadline checks that a throttled stream does not keep the answer past the budget: the
// writer keeps retrying until the Lambda deadline minus the safety margin, then the handler answers
// 429 before the deadline.
func TestDeadline(t *testing.T) {
	f := newFixture(t, registry(t), Config{SafetyMargin: 300 * time.Millisecond})
	kw, _ := newKinesisWriterForTest(f, 1000)
	f.h.Kinesis = kw
	calls := 0
	f.kinesis.put = func(ctx context.Context, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		calls++
		return nil, &smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException"}
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	start := time.Now()
	resp, _ := f.h.Handle(ctx, post(batchOf(2), nil))
	took := time.Since(start)
	if took >= 900*time.Millisecond {
		t.Errorf("answered after %s, want before the deadline (1s) with time to spare", took)
	}
	if took < 500*time.Millisecond || calls < 5 {
		t.Errorf("gave up after %s and %d calls, want retries until the budget (700ms) ends", took, calls)
	}
	if resp.StatusCode != 429 || resp.Headers["Retry-After"] != "1" {
		t.Errorf("got status %d, Retry-After %q; want 429 and 1", resp.StatusCode, resp.Headers["Retry-After"])
	}
}

// TestThrottledUntilTheBudgetEnds throttles every entry of three PutRecords calls; the fourth
// hangs until the request's budget cuts it off. The answer
// must keep the throttling as the cause: 429 with Retry-After 1, as docs/ingest.md promises, not
// the 503 that the cut-off call alone would say.
func TestThrottledUntilTheBudgetEnds(t *testing.T) {
	f := newFixture(t, registry(t), Config{SafetyMargin: 100 * time.Millisecond})
	kw, err := newKinesisWriterForTest(f, 1000)
	if err != nil {
		t.Fatal(err)
	}
	f.h.Kinesis = kw
	calls, cut := 0, 0
	f.kinesis.put = func(ctx context.Context, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		calls++
		if calls > 3 {
			// The fourth call hangs until the budget's end cancels it.
			<-ctx.Done()
			cut++
			return nil, fmt.Errorf("operation error Kinesis: PutRecords: %w", ctx.Err())
		}
		return kinesisAck(f.streamed, func([]byte) string { return "ProvisionedThroughputExceededException" })(ctx, in)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 600*time.Millisecond)
	defer cancel()
	resp, _ := f.h.Handle(ctx, post(batchOf(3), nil))
	if cut != 1 || calls != 4 {
		t.Fatalf("got %d calls, %d cut off by the budget; want 4 and the last one cut off", calls, cut)
	}
	if resp.StatusCode != 429 || resp.Headers["Retry-After"] != "1" {
		t.Fatalf("got status %d, Retry-After %q; want 429 and 1: %s", resp.StatusCode, resp.Headers["Retry-After"], resp.Body)
	}
	r := decodeResponse(t, resp.Body)
	for _, e := range r.Results {
		if e.Status != StatusFailed || e.Errors[0].Keyword != "ProvisionedThroughputExceededException" {
			t.Errorf("event %d: got %s %+v, want failed with the throttling code", e.Index, e.Status, e.Errors)
		}
	}
}
