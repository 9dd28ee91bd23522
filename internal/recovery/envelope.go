package recovery

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/schema"
)

// Item is one event read back: from a failed-event envelope, or from a batch the event source
// mapping discarded (then Envelope is made up for it: kind [KindDiscarded], stage enrich, failed_at
// the invocation record's timestamp, one reason whose keyword is the record's condition).
type Item struct {
	Object   string       // the key of the object it was read from
	Line     int          // its line in that object (for a discarded batch, its record), from 1
	Envelope event.Failed // as decoded
	FailedAt time.Time

	// Event is the CloudEvent the original carried, and Context the server context it was
	// received with: the original record's own (an ingest/1 or enriched/1 record), else the
	// envelope's (failed/2), else nil.
	Event   []byte
	Context *event.ServerContext
	// Arrived is when Kinesis received the record of a discarded batch (zero otherwise): the
	// receive time of an event that has no server context, as the lake partitions it.
	Arrived time.Time
	// Unreadable says why the original could not be read as far as an event (a KPL aggregate
	// that does not decode, an invocation record without its payload); "" when it could.
	Unreadable string
}

// KindDiscarded selects the records of the batches the event source mapping discarded: the
// kind of their items, as rejected and failed are the kinds of envelopes.
const KindDiscarded = "discarded"

// Class is the reason class of the envelope's reasons: see [schema.Result.Class]. A cut original
// is "truncated", whatever its reasons; a discarded batch's record is the condition Lambda
// discarded it under (RetryAttemptsExhausted, RecordMaximumAgeExceeded).
func (it *Item) Class() string {
	if it.Envelope.Kind == KindDiscarded && len(it.Envelope.Reasons) > 0 {
		return it.Envelope.Reasons[0].Keyword
	}
	for _, r := range it.Envelope.Reasons {
		if r.Keyword == event.KeywordTruncated {
			return event.KeywordTruncated
		}
	}
	if c := (schema.Result{Reasons: it.Envelope.Reasons}).Class(); c != "" {
		return c
	}
	return "none"
}

// decodeObject reads the envelopes of one NDJSON object. A line that is not a failed/1 or failed/2
// envelope is returned as an error of its own, so that the run reports it rather than skip it
// silently; an envelope whose original holds several events (a Lambda invocation record) gives an
// item for each, on the same line.
func decodeObject(key string, body []byte) ([]*Item, []error) {
	var items []*Item
	var errs []error
	for n, line := range bytes.Split(body, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		its, err := decodeEnvelope(line)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s line %d: %w", key, n+1, err))
			continue
		}
		for _, it := range its {
			it.Object, it.Line = key, n+1
		}
		items = append(items, its...)
	}
	return items, errs
}

func decodeEnvelope(line []byte) ([]*Item, error) {
	var f event.Failed
	if err := json.Unmarshal(line, &f); err != nil {
		return nil, fmt.Errorf("decode failed-event envelope: %w", err)
	}
	if !event.IsFailedFormat(f.Format) {
		return nil, fmt.Errorf("unknown envelope format %q", f.Format)
	}
	at, err := time.Parse(time.RFC3339Nano, f.FailedAt)
	if err != nil {
		return nil, fmt.Errorf("failed_at is not an RFC 3339 timestamp")
	}
	var items []*Item
	for _, u := range unwrap(f.Original) {
		it := &Item{Envelope: f, FailedAt: at.UTC(), Event: u.event, Context: u.context, Arrived: u.arrived, Unreadable: u.unreadable}
		if it.Context == nil && f.Context != nil {
			c := *f.Context
			it.Context = &c
		}
		items = append(items, it)
	}
	return items, nil
}

// unwrapped is one event an original holds, with what was known of it around it.
type unwrapped struct {
	event      []byte
	context    *event.ServerContext
	arrived    time.Time
	unreadable string
}

// unwrap returns the events an envelope's original holds, at least one (docs/contracts.md,
// section 6, "Unwrapping original"):
//   - an ingest/1 record: its event and context;
//   - an enriched/1 record: its event and the context its enrichment kept, with the enrichment's
//     received_at;
//   - a Lambda invocation record from an S3 on-failure destination: each record of the Kinesis
//     event in its payload (each user record of a KPL aggregate), unwrapped as an ingest/1 or
//     enriched/1 record or a bare event, with its Kinesis arrival time;
//   - anything else: the original itself (a bare event, or bytes that validation rejects as
//     they are).
func unwrap(original []byte) []unwrapped {
	if u, ok := unwrapRecord(original); ok {
		return []unwrapped{u}
	}
	if inv, ok := asInvocationRecord(original); ok {
		return inv.unwrap()
	}
	return []unwrapped{{event: original}}
}

// unwrapRecord reads original as an ingest/1 or enriched/1 record.
func unwrapRecord(original []byte) (unwrapped, bool) {
	env, err := event.DecodeRecord(original)
	if err != nil {
		return unwrapped{}, false
	}
	switch env.Kind {
	case event.InputIngest, event.InputEnriched:
		if env.Context != nil && env.Context.ReceivedAt == "" && env.Enrichment != nil {
			env.Context.ReceivedAt = env.Enrichment.ReceivedAt
		}
		if env.Context == nil && env.Enrichment != nil && env.Enrichment.ReceivedAt != "" {
			env.Context = &event.ServerContext{ReceivedAt: env.Enrichment.ReceivedAt}
		}
		return unwrapped{event: []byte(env.Event), context: env.Context}, true
	}
	return unwrapped{}, false
}

// Filter selects envelopes. An empty list selects every value; times are of failed_at, Since
// inclusive, Until exclusive, zero for no bound.
type Filter struct {
	Since, Until time.Time
	Stages       []string // ingest, enrich, transform
	Kinds        []string // rejected, failed, discarded
	Classes      []string // the reason classes of [Item.Class]
	Types        []string // event types, as the envelope's event_type names them
}

func (f Filter) match(it *Item) bool {
	e := it.Envelope
	switch {
	case !f.Since.IsZero() && it.FailedAt.Before(f.Since):
		return false
	case !f.Until.IsZero() && !it.FailedAt.Before(f.Until):
		return false
	}
	return in(f.Stages, e.Stage) && in(f.Kinds, e.Kind) && in(f.Classes, it.Class()) && in(f.Types, typeOf(it))
}

// discardedMatch tells whether the filter can select the records of discarded batches: kind
// [KindDiscarded], stage enrich.
func (f Filter) discardedMatch() bool {
	return in(f.Kinds, KindDiscarded) && in(f.Stages, discardedStage)
}

// keyMatch tells whether an object's key can hold envelopes the filter selects: its first segment
// is the kind and its second stage=STAGE (lake.FailedPrefix).
func (f Filter) keyMatch(key string) bool {
	parts := strings.SplitN(key, "/", 3)
	if len(parts) < 3 {
		return false
	}
	return in(f.Kinds, parts[0]) && in(f.Stages, strings.TrimPrefix(parts[1], "stage="))
}

func in(list []string, v string) bool {
	if len(list) == 0 {
		return true
	}
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// typeOf is the envelope's event type, else the type its event holds.
func typeOf(it *Item) string {
	if it.Envelope.EventType != "" {
		return it.Envelope.EventType
	}
	var a struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(it.Event, &a)
	return a.Type
}
