package awsbatch

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/smithy-go"
)

// Record is one record to write. PartitionKey is used by Kinesis only.
type Record struct {
	Data         []byte
	PartitionKey string
}

// Result is what became of one record.
type Result struct {
	OK             bool
	SequenceNumber string // Kinesis: the sequence number AWS assigned
	ShardID        string // Kinesis: the shard that took the record
	RecordID       string // Firehose: the record id AWS assigned
	ErrorCode      string // the last error code when !OK
	ErrorMessage   string
	Attempts       int
}

// entryResult is one entry's answer within one API call. The writers build it with [acknowledged]
// or [refused], which decide what an answer means once for both APIs.
type entryResult struct {
	ok        bool
	seq       string // Kinesis sequence number
	shard     string // Kinesis shard id
	recordID  string // Firehose record id
	code, msg string
}

// acknowledged is the result of an entry that AWS answered without an error code: written, when it
// carries the id AWS gives a written record, else not acknowledged.
func acknowledged(id string, r entryResult) entryResult {
	if id == "" {
		return entryResult{code: ErrNotAcknowledged, msg: "the answer's entry carried neither an error code nor the id of a written record"}
	}
	r.ok = true
	return r
}

// refused is the result of an entry that AWS answered with an error code.
func refused(code, msg string) entryResult {
	if code == "" {
		code = "UnknownError"
		if msg == "" {
			msg = "the answer's entry carried an empty error code"
		}
	}
	return entryResult{code: code, msg: msg}
}

// putFunc makes one API call with records that fit its limits.
type putFunc func(ctx context.Context, recs []Record) ([]entryResult, error)

// Limits are the documented limits of one API.
type Limits struct {
	MaxRecords     int  // records per call
	MaxCallBytes   int  // bytes per call
	MaxRecordBytes int  // bytes per record
	KeyCounts      bool // whether the partition key counts towards the byte limits
}

// Retry bounds the retries of failed entries.
type Retry struct {
	MaxAttempts int           // attempts per record, the first included
	BaseDelay   time.Duration // the first backoff's upper bound
	MaxDelay    time.Duration // the largest backoff
	// Margin is kept free before the context's deadline: no attempt starts after deadline-Margin.
	Margin time.Duration
}

// DefaultRetry retries a failed entry up to 7 more times, backing off from 50 ms to 2 s.
var DefaultRetry = Retry{MaxAttempts: 8, BaseDelay: 50 * time.Millisecond, MaxDelay: 2 * time.Second, Margin: 500 * time.Millisecond}

// ErrTooLarge is the error code of a record larger than the API takes; it is never sent.
const ErrTooLarge = "RecordTooLarge"

// ErrDeadline is the error code of a record that was still failing when the deadline left no
// room for another attempt.
const ErrDeadline = "DeadlineExceeded"

type writer struct {
	name      string
	put       putFunc
	limits    Limits
	retry     Retry
	retryable func(code string) bool
	sleep     func(ctx context.Context, d time.Duration) error
}

func (w *writer) size(r Record) int {
	if w.limits.KeyCounts {
		return len(r.Data) + len(r.PartitionKey)
	}
	return len(r.Data)
}

// write sends recs and returns one Result per record, in order. A record that was never sent
// because the deadline or ctx ended first carries ErrDeadline.
//
// The budget is ctx's deadline minus Retry.Margin: no call starts after it, no backoff sleeps past
// it, and every call is cancelled when it ends, so that the caller keeps Margin to answer. A call
// that fails as a whole is retried like a retryable entry unless its API error code says that
// retrying cannot help (see [CallRetryable]); its records then carry that code.
func (w *writer) write(ctx context.Context, recs []Record) []Result {
	res := make([]Result, len(recs))
	pending := make([]int, 0, len(recs))
	for i, r := range recs {
		if n := w.size(r); n > w.limits.MaxRecordBytes {
			res[i] = Result{ErrorCode: ErrTooLarge, ErrorMessage: fmt.Sprintf("record is %d bytes, %s takes at most %d", n, w.name, w.limits.MaxRecordBytes)}
			continue
		}
		pending = append(pending, i)
	}
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-w.retry.Margin))
		defer cancel()
	}
	budget, hasBudget := ctx.Deadline()
	for attempt := 1; len(pending) > 0; attempt++ {
		if attempt > 1 {
			d := backoff(w.retry, attempt-1)
			if hasBudget && time.Now().Add(d).After(budget) {
				break
			}
			if err := w.sleep(ctx, d); err != nil {
				break
			}
		}
		if ctx.Err() != nil {
			break
		}
		var failed []int
		for _, chunk := range w.chunks(recs, pending) {
			if ctx.Err() != nil {
				// The budget ended between two calls: the records of the remaining chunks were
				// never sent and stay pending.
				failed = append(failed, chunk...)
				continue
			}
			batch := make([]Record, len(chunk))
			for j, i := range chunk {
				batch[j] = recs[i]
			}
			out, err := w.put(ctx, batch)
			if err == nil && len(out) != len(batch) {
				err = fmt.Errorf("%s answered %d entries for %d records", w.name, len(out), len(batch))
			}
			code, retryCall := callErrorCode(err), CallRetryable(err)
			for j, i := range chunk {
				res[i].Attempts = attempt
				switch {
				case err != nil:
					// A call that the budget's end cut off says less than an earlier attempt's
					// answer (a throttled entry says "slow down, retry soon"): keep that answer.
					if ctx.Err() == nil || res[i].ErrorCode == "" {
						res[i].ErrorCode, res[i].ErrorMessage = code, err.Error()
					}
					if retryCall {
						failed = append(failed, i)
					}
				case out[j].ok:
					res[i] = Result{OK: true, SequenceNumber: out[j].seq, ShardID: out[j].shard, RecordID: out[j].recordID, Attempts: attempt}
				default:
					res[i].ErrorCode, res[i].ErrorMessage = out[j].code, out[j].msg
					if out[j].code == ErrNotAcknowledged || w.retryable(out[j].code) {
						failed = append(failed, i)
					}
				}
			}
		}
		pending = failed
		if attempt >= w.retry.MaxAttempts || ctx.Err() != nil {
			break
		}
	}
	for _, i := range pending {
		if res[i].ErrorCode == "" {
			res[i].ErrorCode, res[i].ErrorMessage = ErrDeadline, "no time left to send the record"
		}
	}
	return res
}

// ErrNotAcknowledged is the error code of a record whose entry in an answer carried neither an
// error code nor the id AWS gives a record it wrote (a Kinesis sequence number, a Firehose record
// id). Such a record was not acknowledged, so it is retried like a throttled one: a retry may write
// it twice, which at-least-once delivery allows and the fingerprint removes, where counting it as
// written could lose it.
const ErrNotAcknowledged = "NotAcknowledged"

// CallFailed is the error code of records whose whole call failed without an API error code (a
// network error, a cancelled context, an answer that did not match the request).
const CallFailed = "CallFailed"

// callErrorCode returns the API error code of a failed call, or [CallFailed].
func callErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() != "" {
		return ae.ErrorCode()
	}
	return CallFailed
}

// nonRetryableCalls are the API error codes of calls that fail the same way however often they are
// made: the stream does not exist, the request is malformed, or access is denied.
var nonRetryableCalls = map[string]bool{
	"ResourceNotFoundException":      true,
	"InvalidArgumentException":       true,
	"InvalidParameterValueException": true,
	"ValidationException":            true,
	"AccessDeniedException":          true,
	"UnrecognizedClientException":    true,
	"KMSAccessDeniedException":       true,
	"KMSDisabledException":           true,
	"KMSInvalidStateException":       true,
	"KMSNotFoundException":           true,
	"KMSOptInRequired":               true,
	"InvalidKMSResourceException":    true,
	"InvalidSourceException":         true,
	"IncompleteSignature":            true,
	"MissingAuthenticationToken":     true,
	"InvalidClientTokenId":           true,
}

// CallRetryable reports whether a call that failed with err may succeed when made again. Errors
// without an API error code (network errors, timeouts) are retryable.
func CallRetryable(err error) bool {
	if err == nil {
		return false
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return !nonRetryableCalls[ae.ErrorCode()]
	}
	return true
}

// chunks splits the pending record indexes into calls within the API's limits, keeping order.
func (w *writer) chunks(recs []Record, pending []int) [][]int {
	var out [][]int
	var cur []int
	bytes := 0
	for _, i := range pending {
		n := w.size(recs[i])
		if len(cur) > 0 && (len(cur) == w.limits.MaxRecords || bytes+n > w.limits.MaxCallBytes) {
			out = append(out, cur)
			cur, bytes = nil, 0
		}
		cur = append(cur, i)
		bytes += n
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// backoff returns a random delay in [0, min(MaxDelay, BaseDelay*2^(retry-1))]: exponential
// backoff with full jitter, which spreads the retries of many writers apart.
func backoff(r Retry, retry int) time.Duration {
	d := r.BaseDelay << min(retry-1, 20)
	if d <= 0 || d > r.MaxDelay {
		d = r.MaxDelay
	}
	return time.Duration(rand.Int64N(int64(d) + 1))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ErrEmptyName reports a writer configured without a stream name.
var ErrEmptyName = errors.New("stream name is empty")
