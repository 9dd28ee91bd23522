package enrich

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/obs"
	"github.com/firelane/firelane/internal/obs/emf"
	"github.com/firelane/firelane/internal/obs/trace"
	"github.com/firelane/firelane/internal/schema"
)

// Writer writes records to a Firehose delivery stream and reports each one's result, in order.
// [awsbatch.FirehoseWriter] is the one the function uses.
type Writer interface {
	Write(ctx context.Context, recs []awsbatch.Record) []awsbatch.Result
}

// Handler is the enrich stage. Its zero Margin means [DefaultMargin].
type Handler struct {
	Registry *schema.Registry
	Chain    []Enricher
	Firehose Writer // the events delivery stream
	Failed   Writer // the failed-events delivery stream
	Logger   *slog.Logger
	Now      func() time.Time
	// Margin is kept free before the invocation's deadline: no window of records is started after
	// deadline-Margin; its first record is reported for retry instead.
	Margin time.Duration
	// Limits bound one window of writes; zero means [awsbatch.FirehoseLimits].
	Limits awsbatch.Limits
}

// DefaultMargin is the time before the deadline after which the handler starts no more writes.
const DefaultMargin = time.Second

// Outcome is what became of one record of a batch.
type Outcome int

// Outcomes of a record. Every record of a batch ends in exactly one of them.
const (
	// Unprocessed records come at or after the reported one: Lambda delivers them again.
	Unprocessed Outcome = iota
	Written             // enriched and acknowledged by the events delivery stream
	Poison              // set aside and acknowledged by the failed-events delivery stream
	Duplicate           // an earlier record of the batch was the same event, and it was written
	Reported            // could not be written: its sequence number is in BatchItemFailures
)

// Record is one record of a Kinesis batch, as the core reads it.
type Record struct {
	Data           []byte
	SequenceNumber string
	PartitionKey   string
	ArrivalTime    time.Time // when Kinesis received the record
}

// Result is what one invocation did, record by record, for the invocation's log line and tests.
type Result struct {
	Outcomes []Outcome // one per record of the batch, in order
	// Reported is the sequence number of the record from which Lambda must deliver the batch
	// again (the one [Reported] record), "" when every record is settled.
	Reported string
}

// Count returns how many records ended with o.
func (r Result) Count(o Outcome) int {
	n := 0
	for _, x := range r.Outcomes {
		if x == o {
			n++
		}
	}
	return n
}

// prepared is a record made ready to write: either an enriched record for the events delivery
// stream, a failed-event envelope for the failed-events delivery stream, or a duplicate.
type prepared struct {
	data   []byte
	poison bool
	dup    bool
}

// Process enriches and writes the batch in order and says what became of every record.
//
// Records are written window by window, each window one PutRecordBatch call per destination within
// Firehose's limits. When a record of a window cannot be written (after the writer's retries), it
// is reported and no later window is started: Lambda checkpoints before the reported record and
// delivers it and every later one again, so writing them now would only make duplicates. Records
// after it within the same window were already sent together with it; they are duplicated on the
// next delivery and the lake deduplicates them by fingerprint.
func (h *Handler) Process(ctx context.Context, recs []Record) Result {
	// An empty list rather than null: both mean success to Lambda, and the empty one says so plainly.
	res := Result{Outcomes: make([]Outcome, len(recs))}
	if len(recs) == 0 {
		return res
	}
	// Records are enriched as their window is filled rather than all at once: a window's records
	// are dropped once written, so memory stays at about one window whatever the batch size, and
	// nothing past a failure is enriched for nothing.
	inv := obs.FromContext(ctx)
	preps := make([]prepared, len(recs))
	seen := make(map[string]struct{}, len(recs))
	strs := interner{}
	next := 0 // records before next are prepared
	prepare := func(i int) {
		for ; next <= i; next++ {
			k := &recs[next]
			data, fp, err := h.enrich(k, strs, inv)
			switch {
			case err != nil:
				h.logger().WarnContext(ctx, "poison record", "sequence_number", k.SequenceNumber, "reason", err.Error())
				preps[next] = prepared{data: h.failedRecord(k, err), poison: true}
			default:
				if _, dup := seen[fp]; dup {
					preps[next] = prepared{dup: true}
					continue
				}
				seen[fp] = struct{}{}
				preps[next] = prepared{data: data}
			}
		}
	}
	limits := h.Limits
	if limits.MaxRecords == 0 {
		limits = awsbatch.FirehoseLimits
	}
	margin := h.Margin
	if margin == 0 {
		margin = DefaultMargin
	}
	deadline, hasDeadline := ctx.Deadline()
	var out, failed []awsbatch.Record
	var outIdx, failedIdx []int
	for start := 0; start < len(preps); {
		if ctx.Err() != nil || (hasDeadline && time.Until(deadline) < margin) {
			h.logger().ErrorContext(ctx, "no time left to write the rest of the batch", "sequence_number", recs[start].SequenceNumber)
			h.report(&res, recs, start, start)
			return res
		}
		end, outBytes, failedBytes := start, 0, 0
		out, failed, outIdx, failedIdx = out[:0], failed[:0], outIdx[:0], failedIdx[:0]
		for ; end < len(preps); end++ {
			prepare(end)
			p := preps[end]
			if p.dup {
				continue
			}
			n := len(p.data)
			if p.poison {
				// A record always goes into an empty call: enrich keeps each within the record limit,
				// which is below the call limit.
				if len(failed) > 0 && (len(failed) == limits.MaxRecords || failedBytes+n > limits.MaxCallBytes) {
					break
				}
				failed, failedIdx, failedBytes = append(failed, awsbatch.Record{Data: p.data}), append(failedIdx, end), failedBytes+n
				continue
			}
			if len(out) > 0 && (len(out) == limits.MaxRecords || outBytes+n > limits.MaxCallBytes) {
				break
			}
			out, outIdx, outBytes = append(out, awsbatch.Record{Data: p.data}), append(outIdx, end), outBytes+n
		}
		first := -1 // the first record of the window that was not acknowledged
		note := func(idx []int, results []awsbatch.Result, stream string, o Outcome) {
			written, retried := 0, 0
			defer func() {
				inv.Count(obs.Written, written, obs.Destination(stream))
				inv.Count(obs.Retried, retried, obs.Destination(stream))
			}()
			for j, r := range results {
				i := idx[j]
				retried += max(r.Attempts-1, 0)
				if r.OK {
					written++
					res.Outcomes[i] = o
					continue
				}
				h.logger().ErrorContext(ctx, "record not written", "stream", stream, "sequence_number", recs[i].SequenceNumber,
					"error_code", r.ErrorCode, "error", r.ErrorMessage, "attempts", r.Attempts)
				if first < 0 || i < first {
					first = i
				}
			}
		}
		if len(out) > 0 {
			note(outIdx, h.write(ctx, h.Firehose, out, "events"), "events", Written)
		}
		if first >= 0 {
			// Poison records after the first failed event would be delivered again anyway.
			n := 0
			for n < len(failedIdx) && failedIdx[n] < first {
				n++
			}
			failed, failedIdx = failed[:n], failedIdx[:n]
		}
		if len(failed) > 0 {
			note(failedIdx, h.write(ctx, h.Failed, failed, "failed-events"), "failed-events", Poison)
		}
		if first >= 0 {
			h.report(&res, recs, start, first)
			return res
		}
		for i := start; i < end; i++ {
			if preps[i].dup {
				res.Outcomes[i] = Duplicate
			}
			preps[i].data = nil
		}
		start = end
	}
	return res
}

// write writes one window of records to a delivery stream in a trace span of its own.
func (h *Handler) write(ctx context.Context, w Writer, recs []awsbatch.Record, stream string) []awsbatch.Result {
	ctx, span := trace.Start(ctx, "write")
	defer span.End()
	span.Annotate("stream", stream)
	span.Annotate("records", len(recs))
	return w.Write(ctx, recs)
}

// report names record first in the response. Records from first on that the window did not see
// written stay Unprocessed; duplicates before first are settled, their original having been written.
func (h *Handler) report(res *Result, recs []Record, start, first int) {
	for i := start; i < first; i++ {
		if res.Outcomes[i] == Unprocessed {
			res.Outcomes[i] = Duplicate
		}
	}
	for i := first; i < len(res.Outcomes); i++ {
		res.Outcomes[i] = Unprocessed
	}
	res.Outcomes[first] = Reported
	res.Reported = recs[first].SequenceNumber
}

// enrich turns one Kinesis record into the bytes of its enriched record and its fingerprint. An
// error makes it a poison record.
func (h *Handler) enrich(k *Record, strs interner, inv *obs.Invocation) ([]byte, string, error) {
	in, err := decodeInput(k.Data, strs) // a poison reason: decode or envelope
	if err != nil {
		return nil, "", err
	}
	ce := &in.event
	it := &Item{Event: ce, SentAt: in.sentAt, Raw: in.raw, Context: in.context, ArrivedAt: k.ArrivalTime.UTC()}
	if h.Registry != nil {
		it.Schema, _ = h.Registry.Lookup(ce.Type, ce.Version())
	}
	for _, step := range h.Chain {
		if err := step.Enrich(it); err != nil {
			return nil, "", poison(step.Name(), fmt.Errorf("%s: %w", step.Name(), err))
		}
	}
	if l := it.Enrichment.LatenessMS; l != nil {
		inv.Observe(obs.Lateness, emf.Milliseconds, float64(*l), obs.EventType(ce.Type, it.Schema != nil))
	}
	if it.Enrichment.Fingerprint == "" {
		// The fingerprint is what duplicates are recognised by, here and in the lake: it is written
		// even when the identity step is left out of the chain.
		it.Enrichment.Fingerprint = Fingerprint(ce.Source, ce.ID)
	}
	it.Enrichment.Context = it.Context
	b, err := encodeEnriched(&it.Enrichment, it.Raw)
	if err != nil {
		return nil, "", err
	}
	if max := awsbatch.FirehoseLimits.MaxRecordBytes; len(b) > max {
		return nil, "", poison("too-large", fmt.Errorf("enriched record is %d bytes, Firehose takes at most %d", len(b), max))
	}
	return b, it.Enrichment.Fingerprint, nil
}

// encodeEnriched writes an [event.EnrichedRecord]. The event's bytes are already known to be JSON,
// so they are copied rather than re-encoded; line breaks are taken out so that one record is one line.
func encodeEnriched(e *event.Enrichment, raw json.RawMessage) ([]byte, error) {
	const head, mid = `{"firelane":"` + event.FormatEnriched + `","enrichment":`, `,"event":`
	buf := make([]byte, 0, len(head)+1024+len(mid)+len(raw)+1)
	buf, err := appendEnrichment(append(buf, head...), e)
	if err != nil {
		return nil, err
	}
	buf = append(buf, mid...)
	if bytes.ContainsAny(raw, "\r\n") {
		b := bytes.NewBuffer(buf)
		if err := json.Compact(b, raw); err != nil {
			return nil, fmt.Errorf("encode event: %w", err)
		}
		buf = b.Bytes()
	} else {
		buf = append(buf, raw...)
	}
	return append(buf, '}'), nil
}

// failedOverhead bounds the bytes of a failed-event envelope besides its original.
const failedOverhead = 16 << 10

// failedRecord returns the failed-event envelope of a poison record. Its original is the record's
// data; when that would not fit in one Firehose record once base64-encoded, the original is cut and
// a reason says so and names the sequence number, under which the whole record stays in the stream
// for its retention period.
func (h *Handler) failedRecord(k *Record, reason error) []byte {
	msg := reason.Error()
	if len(msg) > 4096 {
		msg = msg[:4096]
	}
	f := event.Failed{
		Format: event.FormatFailed, Kind: event.KindFailed, Stage: "enrich",
		FailedAt: event.FormatTime(h.now()), Reasons: []event.Reason{{Keyword: keywordOf(reason), Message: msg}}, Original: k.Data,
	}
	if max := (awsbatch.FirehoseLimits.MaxRecordBytes - failedOverhead) / 4 * 3; len(k.Data) > max {
		f.Original = k.Data[:max]
		f.Reasons = append(f.Reasons, event.Reason{Keyword: "truncated", Message: fmt.Sprintf(
			"original cut from %d to %d bytes to fit one Firehose record; the whole record is Kinesis sequence number %s",
			len(k.Data), max, k.SequenceNumber)})
	}
	var attrs struct {
		ID    json.RawMessage `json:"id"`
		Type  json.RawMessage `json:"type"`
		Event struct {
			ID   json.RawMessage `json:"id"`
			Type json.RawMessage `json:"type"`
		} `json:"event"`
	}
	if json.Unmarshal(k.Data, &attrs) == nil {
		if len(attrs.Event.ID) > 0 || len(attrs.Event.Type) > 0 {
			attrs.ID, attrs.Type = attrs.Event.ID, attrs.Event.Type
		}
		f.EventID, f.EventType = stringOf(attrs.ID, 256), stringOf(attrs.Type, 256)
	}
	b, _ := json.Marshal(f) // a Failed of strings and bytes always encodes
	return append(b, '\n')  // Firehose concatenates records; the newline keeps S3 objects NDJSON
}

// stringOf returns raw as a string when it is a JSON string of at most max bytes, else "".
func stringOf(raw json.RawMessage, max int) string {
	var s string
	if json.Unmarshal(raw, &s) != nil || len(s) > max {
		return ""
	}
	return s
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

// poisonError is why a record is poison, with the keyword its failed-event reason carries: the
// step that failed ("decode", "envelope", "too-large", or an enrichment's name), so that failures
// can be counted by kind.
type poisonError struct {
	keyword string
	err     error
}

func (e *poisonError) Error() string { return e.err.Error() }
func (e *poisonError) Unwrap() error { return e.err }

func poison(keyword string, err error) error { return &poisonError{keyword: keyword, err: err} }

// keywordOf returns the keyword of a poison record's reason.
func keywordOf(err error) string {
	var p *poisonError
	if errors.As(err, &p) {
		return p.keyword
	}
	return ""
}
