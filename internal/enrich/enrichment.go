package enrich

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"sync"
	"time"

	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/schema"
)

// Item is one event on its way through the enrichment chain.
type Item struct {
	Event  *event.CloudEvent
	SentAt string // the event's sentat extension attribute, when it has one
	// Raw is the event's bytes; an enrichment that changes the event replaces it.
	Raw       json.RawMessage
	Context   *event.ServerContext // ingest's server context; nil for a bare CloudEvent
	ArrivedAt time.Time            // Kinesis approximate arrival time
	Schema    *schema.Entry        // the data schema the event selects; nil when unknown
	// Enrichment is what the chain adds. Its Context is set from Context after the chain ran.
	Enrichment event.Enrichment
}

// Enricher is one step of the chain. An error makes the record a poison record: it is set aside
// with the error as its reason. An Enricher must be safe for concurrent use.
type Enricher interface {
	Name() string
	Enrich(it *Item) error
}

// Timestamps sets the receive, arrival and processing times, the event's lateness, and its derived
// time: the event time corrected for the client's clock skew.
//
// The derivation follows the one Snowplow uses for its derived_tstamp. A client stamps an event
// with its own clock twice: time when the event happened and sentat when it sent it. Both come from
// the same, possibly wrong, clock, so their difference is trustworthy even when they are not; the
// event happened that long before the server received it:
//
//	derived_time = received - (sentat - time)
//
// Without sentat the event time is taken as it is, except that an event time after the receive time
// (a clock running ahead) is replaced by the receive time; without either, the receive time is used.
// A sentat that is not an RFC 3339 timestamp is ignored rather than costing the event.
type Timestamps struct{ Now func() time.Time }

// Name implements [Enricher].
func (Timestamps) Name() string { return "timestamps" }

// Enrich implements [Enricher].
func (t Timestamps) Enrich(it *Item) error {
	e := &it.Enrichment
	e.ArrivedAt = event.FormatTime(it.ArrivedAt)
	e.ProcessedAt = event.FormatTime(t.Now())
	received := it.ArrivedAt
	if it.Context != nil && it.Context.ReceivedAt != "" {
		if r, ok := event.ParseTime(it.Context.ReceivedAt); ok {
			received = r
			e.ReceivedAt = event.FormatTime(r)
		}
	}
	et, hasTime, err := it.Event.EventTime()
	if err != nil {
		return err
	}
	if hasTime {
		late := received.Sub(et).Milliseconds()
		e.LatenessMS = &late
	}
	sent, hasSent := time.Time{}, false
	if it.SentAt != "" {
		if s, ok := event.ParseTime(it.SentAt); ok {
			sent, hasSent = s, true
			e.SentAt = event.FormatTime(s)
			skew := s.Sub(received).Milliseconds()
			e.ClockSkewMS = &skew
		}
	}
	derived := received
	switch {
	case hasTime && hasSent:
		// A client that says it sent an event before it happened has a broken clock or queue:
		// no delay is then the safest reading.
		derived = received.Add(-max(sent.Sub(et), 0))
	case hasTime && !et.After(received):
		derived = et
	}
	e.DerivedTime = event.FormatTime(derived)
	return nil
}

// Identity sets the event's fingerprint: a hash of its CloudEvents identity (source and id), which
// is the same for every delivery of the same event, so the lake can deduplicate on it.
type Identity struct{}

// Name implements [Enricher].
func (Identity) Name() string { return "identity" }

// Enrich implements [Enricher].
func (Identity) Enrich(it *Item) error {
	it.Enrichment.Fingerprint = Fingerprint(it.Event.Source, it.Event.ID)
	return nil
}

// Fingerprint returns the first 32 hex digits of SHA-256(source NUL id). CloudEvents 1.0 makes
// source and id together unique per distinct event, so every delivery of one event has the same
// fingerprint and two different events have different ones.
func Fingerprint(source, id string) string { return event.Fingerprint(source, id) }

// SchemaInfo records the type and major version that selected the event's schema.
type SchemaInfo struct{}

// Name implements [Enricher].
func (SchemaInfo) Name() string { return "schema" }

// Enrich implements [Enricher].
func (SchemaInfo) Enrich(it *Item) error {
	it.Enrichment.SchemaType = it.Event.Type
	it.Enrichment.SchemaVersion = it.Event.Version()
	return nil
}

// Privacy applies the schema's "x-pii" annotations to the event's data: "hash" replaces a value with
// the hex HMAC-SHA-256 under Key of the value (of a string's characters, without quotes or escapes;
// of any other value's compact JSON text), "redact" removes the property (or, under an array's
// "items", every item). Only the annotated values change: the rest of the event, extension
// attributes and member order included, keeps its bytes.
//
// A string hashes to the HMAC of its own text so that a data team can compute the hash of a known
// value (a user id, an e-mail address) with any HMAC tool and look it up.
type Privacy struct {
	Key []byte
	// macs reuses HMAC states between values; [NewPrivacy] sets it, and without it every value gets
	// a new one.
	macs *sync.Pool
}

// NewPrivacy returns the privacy step hashing with key.
func NewPrivacy(key []byte) Privacy {
	k := bytes.Clone(key)
	return Privacy{Key: k, macs: &sync.Pool{New: func() any { return hmac.New(sha256.New, k) }}}
}

// ErrNoKey reports that hashing was asked for without a key. [Config.Chain] refuses to build a
// chain that could meet it.
var ErrNoKey = errors.New("x-pii hash needs a key, and none is configured")

// Name implements [Enricher].
func (Privacy) Name() string { return "privacy" }

// Enrich implements [Enricher].
func (p Privacy) Enrich(it *Item) error {
	if it.Schema == nil || len(it.Schema.PII) == 0 || len(it.Event.Data) == 0 {
		return nil
	}
	tree, err := treeOf(it.Schema)
	if err != nil {
		return err
	}
	var start, end int
	found := false
	err = members(it.Raw, func(key []byte, s, e int) bool {
		if memberIs(key, "data") { // as event.View reads it: "d\u0061ta" is data too
			start, end, found = s, e, true
		}
		return true // the last "data" member is the one encoding/json decoded
	})
	if err != nil {
		return fmt.Errorf("find data: %w", err)
	}
	if !found {
		return nil
	}
	raw := make([]byte, 0, len(it.Raw)+len(it.Schema.PII)*64)
	raw = append(raw, it.Raw[:start]...)
	raw, changed, err := p.rewrite(raw, it.Raw[start:end], tree)
	if err != nil {
		return err
	}
	if !changed {
		return nil
	}
	dataEnd := len(raw)
	raw = append(raw, it.Raw[end:]...)
	it.Event.Data, it.Raw = raw[start:dataEnd:dataEnd], raw
	return nil
}

// hash appends the hex HMAC-SHA-256 of the JSON value v to dst.
func (p Privacy) hash(dst, v []byte) []byte {
	text := v
	switch {
	case len(v) >= 2 && v[0] == '"' && bytes.IndexByte(v, '\\') < 0:
		text = v[1 : len(v)-1]
	case len(v) >= 2 && v[0] == '"':
		var s string
		if json.Unmarshal(v, &s) == nil {
			text = []byte(s)
		}
	case bytes.ContainsAny(v, " \t\r\n"):
		var b bytes.Buffer
		if json.Compact(&b, v) == nil {
			text = b.Bytes()
		}
	}
	var mac hash.Hash
	if p.macs != nil {
		mac = p.macs.Get().(hash.Hash)
		defer p.macs.Put(mac)
		mac.Reset()
	} else {
		mac = hmac.New(sha256.New, p.Key)
	}
	mac.Write(text)
	var sum [sha256.Size]byte
	return hex.AppendEncode(dst, mac.Sum(sum[:0]))
}
