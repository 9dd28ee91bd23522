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

// Item is one failed-event envelope read back, with what its original unwraps to.
type Item struct {
	Object   string       // the key of the object it was read from
	Line     int          // its line in that object, from 1
	Envelope event.Failed // as decoded
	FailedAt time.Time

	// Event is the CloudEvent the original carried, and Context the server context it was
	// received with when the original holds one (an ingest/1 or enriched/1 record).
	Event   []byte
	Context *event.ServerContext
}

// Class is the reason class of the envelope's reasons: see [schema.Result.Class]. A cut original
// is "truncated", whatever its reasons.
func (it *Item) Class() string {
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

// decodeObject reads the envelopes of one NDJSON object. A line that is not a failed/1 envelope
// is returned as an error of its own, so that the run reports it rather than skip it silently.
func decodeObject(key string, body []byte) ([]*Item, []error) {
	var items []*Item
	var errs []error
	for n, line := range bytes.Split(body, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		it, err := decodeEnvelope(line)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s line %d: %w", key, n+1, err))
			continue
		}
		it.Object, it.Line = key, n+1
		items = append(items, it)
	}
	return items, errs
}

func decodeEnvelope(line []byte) (*Item, error) {
	var f event.Failed
	if err := json.Unmarshal(line, &f); err != nil {
		return nil, fmt.Errorf("decode failed-event envelope: %w", err)
	}
	if f.Format != event.FormatFailed {
		return nil, fmt.Errorf("unknown envelope format %q", f.Format)
	}
	at, err := time.Parse(time.RFC3339Nano, f.FailedAt)
	if err != nil {
		return nil, fmt.Errorf("failed_at is not an RFC 3339 timestamp")
	}
	it := &Item{Envelope: f, FailedAt: at.UTC()}
	it.Event, it.Context = unwrap(f.Original)
	return it, nil
}

// unwrap returns the CloudEvent an envelope's original holds and its server context: an ingest/1
// record's event and context, an enriched/1 record's event and the context its enrichment kept,
// else the original itself (a bare event, or bytes that validation will reject as they are).
func unwrap(original []byte) ([]byte, *event.ServerContext) {
	env, err := event.DecodeRecord(original)
	if err != nil {
		return original, nil
	}
	switch env.Kind {
	case event.InputIngest, event.InputEnriched:
		ev := []byte(env.Event)
		if env.Context != nil && env.Context.ReceivedAt == "" && env.Enrichment != nil {
			env.Context.ReceivedAt = env.Enrichment.ReceivedAt
		}
		return ev, env.Context
	}
	return original, nil
}

// Filter selects envelopes. An empty list selects every value; times are of failed_at, Since
// inclusive, Until exclusive, zero for no bound.
type Filter struct {
	Since, Until time.Time
	Stages       []string // ingest, enrich, transform
	Kinds        []string // rejected, failed
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
