package awsbatch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
)

// fakeKinesis is a function-field fake of the PutRecords API.
type fakeKinesis struct {
	put func(ctx context.Context, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error)
}

func (f *fakeKinesis) PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	return f.put(ctx, in)
}

var quick = Retry{MaxAttempts: 5, BaseDelay: 100 * time.Microsecond, MaxDelay: time.Millisecond, Margin: time.Millisecond}

// answer acknowledges every entry except those for which code returns an error code.
func answer(in *kinesis.PutRecordsInput, code func(i int, r types.PutRecordsRequestEntry) string) *kinesis.PutRecordsOutput {
	out := &kinesis.PutRecordsOutput{Records: make([]types.PutRecordsResultEntry, len(in.Records))}
	for i, r := range in.Records {
		if c := code(i, r); c != "" {
			out.Records[i] = types.PutRecordsResultEntry{ErrorCode: aws.String(c), ErrorMessage: aws.String("injected")}
			continue
		}
		out.Records[i] = types.PutRecordsResultEntry{SequenceNumber: aws.String(string(r.Data)), ShardId: aws.String("shardId-000000000000")}
	}
	return out
}

func TestChunksWithinLimits(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 1<<20-300) // with its key, just under the 1 MiB record limit
	tests := []struct {
		name  string
		recs  []Record
		calls int
	}{
		{"501 small records", records(501, []byte("x"), "k"), 2},
		{"six records near 1 MiB", records(6, big, strings.Repeat("k", 256)), 2},
		{"one record", records(1, []byte("x"), "k"), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			api := &fakeKinesis{put: func(_ context.Context, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
				calls++
				size := 0
				for _, r := range in.Records {
					size += len(r.Data) + len(aws.ToString(r.PartitionKey))
				}
				if len(in.Records) > 500 || size > 5<<20 {
					return nil, &smithy.GenericAPIError{Code: "ValidationException", Message: fmt.Sprintf("%d records, %d bytes", len(in.Records), size)}
				}
				return answer(in, func(int, types.PutRecordsRequestEntry) string { return "" }), nil
			}}
			w, _ := NewKinesisWriter(api, "s", quick)
			for i, r := range w.Write(t.Context(), tt.recs) {
				if !r.OK {
					t.Fatalf("record %d: %s %s", i, r.ErrorCode, r.ErrorMessage)
				}
			}
			if calls != tt.calls {
				t.Errorf("got %d calls, want %d", calls, tt.calls)
			}
		})
	}
}

func records(n int, data []byte, key string) []Record {
	out := make([]Record, n)
	for i := range out {
		out[i] = Record{Data: data, PartitionKey: key}
	}
	return out
}

func TestRecordTooLarge(t *testing.T) {
	api := &fakeKinesis{put: func(_ context.Context, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		return answer(in, func(int, types.PutRecordsRequestEntry) string { return "" }), nil
	}}
	w, _ := NewKinesisWriter(api, "s", quick)
	// The partition key counts towards Kinesis' 1 MiB record limit.
	res := w.Write(t.Context(), []Record{{Data: make([]byte, 1<<20-1), PartitionKey: "ab"}, {Data: []byte("x"), PartitionKey: "k"}})
	if res[0].OK || res[0].ErrorCode != ErrTooLarge || !res[1].OK {
		t.Errorf("got %+v", res)
	}
}

func TestRetryOnlyRetryable(t *testing.T) {
	sent := map[string]int{}
	api := &fakeKinesis{put: func(_ context.Context, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		return answer(in, func(_ int, r types.PutRecordsRequestEntry) string {
			d := string(r.Data)
			sent[d]++
			switch {
			case d == "throttled-once" && sent[d] == 1:
				return "ProvisionedThroughputExceededException"
			case d == "internal-twice" && sent[d] <= 2:
				return "InternalFailure"
			case d == "denied":
				return "KMSAccessDeniedException"
			case d == "always-throttled":
				return "ProvisionedThroughputExceededException"
			}
			return ""
		}), nil
	}}
	w, _ := NewKinesisWriter(api, "s", quick)
	recs := []Record{{Data: []byte("ok")}, {Data: []byte("throttled-once")}, {Data: []byte("internal-twice")}, {Data: []byte("denied")}, {Data: []byte("always-throttled")}}
	for i := range recs {
		recs[i].PartitionKey = "k"
	}
	res := w.Write(t.Context(), recs)
	want := []struct {
		ok       bool
		code     string
		attempts int
		sent     int
	}{{true, "", 1, 1}, {true, "", 2, 2}, {true, "", 3, 3}, {false, "KMSAccessDeniedException", 1, 1}, {false, "ProvisionedThroughputExceededException", 5, 5}}
	for i, w := range want {
		r := res[i]
		if r.OK != w.ok || r.ErrorCode != w.code || r.Attempts != w.attempts || sent[string(recs[i].Data)] != w.sent {
			t.Errorf("record %s: got ok=%v code=%q attempts=%d sent=%d, want %+v", recs[i].Data, r.OK, r.ErrorCode, r.Attempts, sent[string(recs[i].Data)], w)
		}
		if r.OK && r.SequenceNumber != string(recs[i].Data) {
			t.Errorf("record %s: got sequence number %q of another record", recs[i].Data, r.SequenceNumber)
		}
	}
}

func TestCallErrors(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		code  string
		calls int
	}{
		{"throttled call is retried", &smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException"}, "ProvisionedThroughputExceededException", 5},
		{"missing stream is not retried", &smithy.GenericAPIError{Code: "ResourceNotFoundException"}, "ResourceNotFoundException", 1},
		{"access denied is not retried", fmt.Errorf("put: %w", &smithy.GenericAPIError{Code: "AccessDeniedException"}), "AccessDeniedException", 1},
		{"network error is retried", errors.New("connection reset by peer"), CallFailed, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			api := &fakeKinesis{put: func(context.Context, *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
				calls++
				return nil, tt.err
			}}
			w, _ := NewKinesisWriter(api, "s", quick)
			res := w.Write(t.Context(), []Record{{Data: []byte("a"), PartitionKey: "k"}})
			if res[0].OK || res[0].ErrorCode != tt.code {
				t.Errorf("got %+v, want error code %s", res[0], tt.code)
			}
			if calls != tt.calls {
				t.Errorf("got %d calls, want %d", calls, tt.calls)
			}
		})
	}
}

// TestBudget checks that the writer stops retrying at the context's deadline minus the margin and
// cancels a call that is still running then. The bounds leave room for a loaded machine.
func TestBudget(t *testing.T) {
	t.Run("retries stop", func(t *testing.T) {
		calls := 0
		api := &fakeKinesis{put: func(_ context.Context, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
			calls++
			return answer(in, func(int, types.PutRecordsRequestEntry) string { return "ProvisionedThroughputExceededException" }), nil
		}}
		w, _ := NewKinesisWriter(api, "s", Retry{MaxAttempts: 1000, BaseDelay: 10 * time.Millisecond, MaxDelay: 20 * time.Millisecond, Margin: 300 * time.Millisecond})
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start := time.Now()
		res := w.Write(ctx, []Record{{Data: []byte("a"), PartitionKey: "k"}})
		took := time.Since(start)
		if took >= 900*time.Millisecond {
			t.Errorf("took %s, want to stop at the 700ms budget", took)
		}
		if took < 500*time.Millisecond || calls < 5 {
			t.Errorf("stopped after %s and %d calls, want retries until the budget ends", took, calls)
		}
		if res[0].OK || res[0].ErrorCode != "ProvisionedThroughputExceededException" || res[0].Attempts != calls {
			t.Errorf("got %+v after %d calls", res[0], calls)
		}
	})
	t.Run("hanging call is cancelled", func(t *testing.T) {
		api := &fakeKinesis{put: func(ctx context.Context, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}}
		w, _ := NewKinesisWriter(api, "s", Retry{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond, Margin: 300 * time.Millisecond})
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start := time.Now()
		res := w.Write(ctx, []Record{{Data: []byte("a"), PartitionKey: "k"}})
		if took := time.Since(start); took >= 900*time.Millisecond || took < 650*time.Millisecond {
			t.Errorf("took %s, want about 700ms (deadline minus margin)", took)
		}
		if res[0].OK || res[0].ErrorCode != CallFailed {
			t.Errorf("got %+v, want a CallFailed record", res[0])
		}
	})
}

// TestThrottledToTheDeadline: when every call is throttled until the budget ends, the call that the
// deadline cuts off must not replace the throttling code, which tells the client to slow down and
// retry soon, with a bare call failure.
func TestThrottledToTheDeadline(t *testing.T) {
	calls := 0
	api := &fakeKinesis{put: func(ctx context.Context, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		calls++
		if calls > 1 {
			// The next attempt hangs until the budget's context ends, as a stalled call does.
			<-ctx.Done()
			return nil, fmt.Errorf("put records: %w", ctx.Err())
		}
		return answer(in, func(int, types.PutRecordsRequestEntry) string { return "ProvisionedThroughputExceededException" }), nil
	}}
	w, _ := NewKinesisWriter(api, "s", Retry{MaxAttempts: 8, BaseDelay: time.Microsecond, MaxDelay: time.Microsecond, Margin: time.Millisecond})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	res := w.Write(ctx, []Record{{Data: []byte("a"), PartitionKey: "k"}})
	if calls != 2 {
		t.Fatalf("got %d calls, want 2 (the second cut off by the deadline)", calls)
	}
	if res[0].OK || res[0].ErrorCode != "ProvisionedThroughputExceededException" {
		t.Errorf("got %+v, want the throttling code kept", res[0])
	}
}

// TestAcknowledgedOnlyWithAnID: an entry that carries neither an error code nor the id AWS assigns
// (a sequence number from Kinesis, a record id from Firehose) was not acknowledged: it is retried
// and, when it never is, failed with a reason.
func TestAcknowledgedOnlyWithAnID(t *testing.T) {
	t.Run("kinesis", func(t *testing.T) {
		calls := 0
		api := &fakeKinesis{put: func(_ context.Context, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
			calls++
			out := &kinesis.PutRecordsOutput{Records: make([]types.PutRecordsResultEntry, len(in.Records))}
			if calls > 1 {
				out = answer(in, func(int, types.PutRecordsRequestEntry) string { return "" })
			}
			return out, nil
		}}
		w, _ := NewKinesisWriter(api, "s", quick)
		res := w.Write(t.Context(), []Record{{Data: []byte("1"), PartitionKey: "k"}})
		if !res[0].OK || res[0].SequenceNumber != "1" || calls != 2 {
			t.Errorf("got %+v after %d calls, want the record acknowledged on the second call", res[0], calls)
		}
		never := &fakeKinesis{put: func(_ context.Context, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
			return &kinesis.PutRecordsOutput{Records: make([]types.PutRecordsResultEntry, len(in.Records))}, nil
		}}
		w, _ = NewKinesisWriter(never, "s", quick)
		res = w.Write(t.Context(), []Record{{Data: []byte("1"), PartitionKey: "k"}})
		if res[0].OK || res[0].ErrorCode != ErrNotAcknowledged || res[0].ErrorMessage == "" {
			t.Errorf("got %+v, want failed with %s and a reason", res[0], ErrNotAcknowledged)
		}
	})
	t.Run("firehose", func(t *testing.T) {
		never := &fakeFirehose{put: func(_ context.Context, in *firehose.PutRecordBatchInput) (*firehose.PutRecordBatchOutput, error) {
			return &firehose.PutRecordBatchOutput{RequestResponses: make([]fhtypes.PutRecordBatchResponseEntry, len(in.Records))}, nil
		}}
		w, _ := NewFirehoseWriter(never, "s", quick)
		res := w.Write(t.Context(), []Record{{Data: []byte("1")}})
		if res[0].OK || res[0].ErrorCode != ErrNotAcknowledged {
			t.Errorf("got %+v, want failed with %s", res[0], ErrNotAcknowledged)
		}
	})
	t.Run("empty error code", func(t *testing.T) {
		api := &fakeKinesis{}
		api.put = func(_ context.Context, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
			out := &kinesis.PutRecordsOutput{Records: make([]types.PutRecordsResultEntry, len(in.Records))}
			for i := range out.Records {
				out.Records[i].ErrorCode = aws.String("")
			}
			return out, nil
		}
		w, _ := NewKinesisWriter(api, "s", quick)
		res := w.Write(t.Context(), []Record{{Data: []byte("1"), PartitionKey: "k"}})
		if res[0].OK || res[0].ErrorCode == "" {
			t.Errorf("got %+v, want failed with a code", res[0])
		}
	})
}

// fakeFirehose is a function-field fake of the PutRecordBatch API.
type fakeFirehose struct {
	put func(ctx context.Context, in *firehose.PutRecordBatchInput) (*firehose.PutRecordBatchOutput, error)
}

func (f *fakeFirehose) PutRecordBatch(ctx context.Context, in *firehose.PutRecordBatchInput, _ ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	return f.put(ctx, in)
}
