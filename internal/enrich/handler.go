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
	"github.com/firelane/firelane/internal/kpl"
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

// Outcome is what became of one event of a batch.
type Outcome int

// Outcomes of an event. Every event of a batch ends in exactly one of them.
const (
	// Unprocessed events come at or after the reported one: Lambda delivers them again.
	Unprocessed Outcome = iota
	Written             // enriched and acknowledged by the events delivery stream
	Poison              // set aside and acknowledged by the failed-events delivery stream
	Duplicate           // an earlier event of the batch was the same event, and it was written
	// Reported is the event from which Lambda delivers the batch again, its record's sequence
	// number in BatchItemFailures: the event that could not be written or, when that one is a user
	// record of a KPL aggregate, the aggregate's first user record.
	Reported
)

// Record is one record of a Kinesis batch, as the core reads it.
type Record struct {
	Data           []byte
	SequenceNumber string
	PartitionKey   string
	ArrivalTime    time.Time // when Kinesis received the record
}

// Result is what one invocation did, event by event, for the invocation's log line and tests.
//
// An event is a plain record of the batch, a user record of a KPL aggregate, or an aggregate that
// cannot be de-aggregated (set aside whole). A batch without aggregates has one event per record.
type Result struct {
	// Outcomes has one entry per event of the batch, in order: a record's events in its place,
	// an aggregate's user records in the order of their sub-sequence numbers.
	Outcomes []Outcome
	// Reported is the sequence number of the record from which Lambda must deliver the batch
	// again (the record of the one [Reported] event), "" when every event is settled.
	Reported string
	// Aggregates is how many records of the batch were KPL aggregates that were de-aggregated, and
	// UserRecords how many user records they held; an aggregate set aside whole counts in
	// neither. len(Outcomes) is the number of records minus Aggregates plus UserRecords.
	Aggregates, UserRecords int
	// Events and FailedEvents count what the events and the failed-events delivery streams
	// acknowledged, and the extra attempts it took.
	Events, FailedEvents Writes
	// Lateness holds an entry for each event that went through the whole enrichment chain with a
	// lateness, in the order they were enriched.
	Lateness []Lateness
}

// Writes counts the records one delivery stream acknowledged in an invocation and the extra
// attempts their writes took (beyond the first of each record).
type Writes struct {
	Written, Retried int
}

// Lateness is one event's lateness (its receive time minus its event time) in milliseconds, with
// its event type and whether the schema registry knows that type.
type Lateness struct {
	Type  string
	Known bool
	MS    int64
}

// Count returns how many events ended with o.
func (r Result) Count(o Outcome) int {
	n := 0
	for _, x := range r.Outcomes {
		if x == o {
			n++
		}
	}
	return n
}

// unit is one event of a batch, as [expand] finds it.
type unit struct {
	rec  int    // the index of its record in the batch
	sub  int    // its sub-sequence number in its aggregate; -1 for a plain record or a whole aggregate
	data []byte // its data: the record's, or the user record's, which aliases the record's
	err  error  // why the aggregate cannot be de-aggregated: it is set aside whole
}

// expand returns the events of a batch in order, with how many records were de-aggregated and how
// many user records they held. A plain record costs a check of its first four bytes; a KPL
// aggregate is decoded whole, so that it yields either every user record or one event that is set
// aside with the decoder's reason.
func expand(recs []Record) (units []unit, aggregates, userRecords int) {
	units = make([]unit, 0, len(recs))
	var d *kpl.Decoder // one per invocation, made at the first aggregate; it reuses its buffers
	for i := range recs {
		data := recs[i].Data
		if !kpl.IsAggregated(data) {
			units = append(units, unit{rec: i, sub: -1, data: data})
			continue
		}
		if d == nil {
			d = new(kpl.Decoder)
		}
		urs, err := d.Decode(data)
		if err != nil {
			units = append(units, unit{rec: i, sub: -1, data: data, err: poison("aggregate", err)})
			continue
		}
		aggregates, userRecords = aggregates+1, userRecords+len(urs)
		for _, u := range urs {
			// u.Data aliases data, not the decoder's buffers, so it outlives the next Decode.
			units = append(units, unit{rec: i, sub: u.SubSequence, data: u.Data})
		}
	}
	return units, aggregates, userRecords
}

// prepared is an event made ready to write: either an enriched record for the events delivery
// stream, a failed-event envelope for the failed-events delivery stream, or a duplicate.
type prepared struct {
	data   []byte
	poison bool
	dup    bool
}

// Process enriches and writes the batch in order and says what became of every event.
//
// A record that is a KPL aggregate is de-aggregated first: each of its user records is an event of
// its own, at the aggregate's place, with the aggregate's sequence number and arrival time. An
// aggregate that cannot be de-aggregated is one poison event, set aside whole.
//
// Events are written window by window, each window one PutRecordBatch call per destination within
// Firehose's limits. When an event of a window cannot be written (after the writer's retries), its
// record is reported and no later window is started: Lambda checkpoints before the reported record
// and delivers it and every later one again, so writing them now would only make duplicates.
// Events after it within the same window were already sent together with it; they are duplicated
// on the next delivery and the lake deduplicates them by fingerprint. A user record's failure
// reports its aggregate, the smallest thing Lambda can deliver again, so the aggregate's user
// records that were written already are written again too.
func (h *Handler) Process(ctx context.Context, recs []Record) Result {
	units, aggregates, userRecords := expand(recs)
	res := Result{Outcomes: make([]Outcome, len(units)), Aggregates: aggregates, UserRecords: userRecords}
	if len(units) == 0 {
		return res
	}
	// Events are enriched as their window is filled rather than all at once: a window's events
	// are dropped once written, so memory stays at about one window whatever the batch size, and
	// nothing past a failure is enriched for nothing.
	preps := make([]prepared, len(units))
	seen := make(map[string]struct{}, len(units))
	strs := interner{}
	next := 0 // events before next are prepared
	prepare := func(i int) {
		for ; next <= i; next++ {
			u := &units[next]
			k := &recs[u.rec]
			var user Record
			if u.sub >= 0 {
				// A user record is enriched and set aside as a record of its own data.
				user = *k
				user.Data = u.data
				k = &user
			}
			data, fp, err := []byte(nil), "", u.err
			if err == nil {
				data, fp, err = h.enrich(k, strs, &res)
			}
			if err != nil && u.sub >= 0 {
				err = fmt.Errorf("user record %d of the KPL aggregate at sequence number %s: %w", u.sub, k.SequenceNumber, err)
			}
			switch {
			case err != nil:
				preps[next] = prepared{data: h.failedRecord(ctx, k, err), poison: true}
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
			h.logger().ErrorContext(ctx, "no time left to write the rest of the batch", "sequence_number", recs[units[start].rec].SequenceNumber)
			h.report(&res, recs, units, start, start)
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
		first := -1 // the first event of the window that was not acknowledged
		note := func(idx []int, results []awsbatch.Result, stream string, w *Writes, o Outcome) {
			for j, r := range results {
				i := idx[j]
				w.Retried += max(r.Attempts-1, 0)
				if r.OK {
					w.Written++
					res.Outcomes[i] = o
					continue
				}
				attrs := []any{"stream", stream, "sequence_number", recs[units[i].rec].SequenceNumber}
				if units[i].sub >= 0 {
					attrs = append(attrs, "sub_sequence_number", units[i].sub)
				}
				h.logger().ErrorContext(ctx, "record not written", append(attrs,
					"error_code", r.ErrorCode, "error", event.ClipMark(r.ErrorMessage, 512), "attempts", r.Attempts)...)
				if first < 0 || i < first {
					first = i
				}
			}
		}
		if len(out) > 0 {
			note(outIdx, h.write(ctx, h.Firehose, out, "events"), "events", &res.Events, Written)
		}
		if first >= 0 {
			// Poison events from the first failed event's record on would be delivered again anyway.
			first = recordStart(units, first)
			n := 0
			for n < len(failedIdx) && failedIdx[n] < first {
				n++
			}
			failed, failedIdx = failed[:n], failedIdx[:n]
		}
		if len(failed) > 0 {
			note(failedIdx, h.write(ctx, h.Failed, failed, "failed-events"), "failed-events", &res.FailedEvents, Poison)
		}
		if first >= 0 {
			h.report(&res, recs, units, start, first)
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

// recordStart returns the first event of the record of event i: i itself for a plain record, the
// first user record for one of an aggregate's.
func recordStart(units []unit, i int) int {
	for i > 0 && units[i-1].rec == units[i].rec {
		i--
	}
	return i
}

// write writes one window of records to a delivery stream in a trace span of its own.
func (h *Handler) write(ctx context.Context, w Writer, recs []awsbatch.Record, stream string) []awsbatch.Result {
	ctx, span := trace.Start(ctx, "write")
	defer span.End()
	span.Annotate("stream", stream)
	span.Annotate("records", len(recs))
	return w.Write(ctx, recs)
}

// report names the record of event first in the response. Lambda delivers a record whole, so
// when first is a user record of an aggregate the report starts at the aggregate's first user
// record, even one written in an earlier window. Events from there on stay (or become) Unprocessed,
// the first of them Reported; duplicates before it are settled, their original having been written.
func (h *Handler) report(res *Result, recs []Record, units []unit, start, first int) {
	first = recordStart(units, first)
	for i := start; i < first; i++ {
		if res.Outcomes[i] == Unprocessed {
			res.Outcomes[i] = Duplicate
		}
	}
	for i := first; i < len(res.Outcomes); i++ {
		res.Outcomes[i] = Unprocessed
	}
	res.Outcomes[first] = Reported
	res.Reported = recs[units[first].rec].SequenceNumber
}

// enrich turns one Kinesis record into the bytes of its enriched record and its fingerprint, and
// adds the event's lateness to res. An error makes it a poison record.
func (h *Handler) enrich(k *Record, strs interner, res *Result) ([]byte, string, error) {
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
		if res.Lateness == nil {
			res.Lateness = make([]Lateness, 0, len(res.Outcomes))
		}
		res.Lateness = append(res.Lateness, Lateness{Type: ce.Type, Known: it.Schema != nil, MS: *l})
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

// failedRecord returns the failed-event envelope of a poison record, which always fits one
// Firehose record whatever the record held (see [event.Failed.Encode]): its reason is cut after
// encoding, and its original is the record's data, cut with a reason that names the record's
// sequence number when the whole would not fit; under that number the whole record stays in the
// stream for its retention period. It logs the poison record, without any of its values.
func (h *Handler) failedRecord(ctx context.Context, k *Record, reason error) []byte {
	f := event.Failed{
		Format: event.FormatFailed, Kind: event.KindFailed, Stage: "enrich",
		FailedAt: event.FormatTime(h.now()), Reasons: []event.Reason{{Keyword: keywordOf(reason), Message: reason.Error()}}, Original: k.Data,
	}
	var attrs struct {
		ID      json.RawMessage `json:"id"`
		Type    json.RawMessage `json:"type"`
		Format  json.RawMessage `json:"firelane"`
		Context json.RawMessage `json:"context"`
		Event   struct {
			ID   json.RawMessage `json:"id"`
			Type json.RawMessage `json:"type"`
		} `json:"event"`
	}
	if json.Unmarshal(k.Data, &attrs) == nil {
		if len(attrs.Event.ID) > 0 || len(attrs.Event.Type) > 0 {
			attrs.ID, attrs.Type = attrs.Event.ID, attrs.Event.Type
		}
		f.EventID, f.EventType = stringOf(attrs.ID, event.MaxFailedAttr), stringOf(attrs.Type, event.MaxFailedAttr)
		// failed/2: an ingest record's server context, as far as it reads (Encode bounds it).
		var sc event.ServerContext
		if string(attrs.Format) == `"`+event.FormatIngest+`"` && json.Unmarshal(attrs.Context, &sc) == nil {
			f.Context = &sc
		}
	}
	seq := event.ClipJSON(k.SequenceNumber, 128) // Kinesis' are at most 128 digits
	b, kept := f.Encode(awsbatch.FirehoseLimits.MaxRecordBytes, "Kinesis sequence number "+seq)
	// The reason's message may quote the record's values: only its keyword is logged.
	log := h.logger()
	log.WarnContext(ctx, "poison record", "sequence_number", seq, "keyword", f.Reasons[0].Keyword, "bytes", len(k.Data))
	if kept < len(k.Data) {
		log.ErrorContext(ctx, "poison record cut to fit one Firehose record", "sequence_number", seq, "bytes", len(k.Data), "kept", kept)
	}
	return b
}

// stringOf returns raw as a string when it is a JSON string whose JSON encoding takes at most max
// bytes, else "": an id cut short would name another event.
func stringOf(raw json.RawMessage, max int) string {
	var s string
	if json.Unmarshal(raw, &s) != nil || event.JSONLen(s) > max {
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
