package enrich

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/schema"
)

// Item is one event on its way through the enrichment chain.
type Item struct {
	Event      *event.CloudEvent
	Raw        json.RawMessage      // the event's bytes; replaced when an enrichment changes the event
	Context    *event.ServerContext // ingest's server context; nil for a bare CloudEvent
	ArrivedAt  time.Time            // Kinesis approximate arrival time
	Schema     *schema.Entry        // the data schema the event selects; nil when unknown
	Enrichment event.Enrichment
}

// Enricher is one step of the chain. An error makes the record a poison record: it is set aside
// with the error as its reason.
type Enricher interface {
	Name() string
	Enrich(it *Item) error
}

// Timestamps sets the receive, arrival and processing times and the event's lateness.
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
		if r, err := time.Parse(time.RFC3339Nano, it.Context.ReceivedAt); err == nil {
			received = r
			e.ReceivedAt = event.FormatTime(r)
		}
	}
	if et, ok, err := it.Event.EventTime(); ok && err == nil {
		late := received.Sub(et).Milliseconds()
		e.LatenessMS = &late
	}
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

// Fingerprint returns the hex SHA-256 of source and id, 32 characters long.
func Fingerprint(source, id string) string {
	h := sha256.New()
	h.Write([]byte(source))
	h.Write([]byte{0})
	h.Write([]byte(id))
	return hex.EncodeToString(h.Sum(nil))[:32]
}

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
// the hex HMAC-SHA-256 of its JSON text under Key, "redact" removes the property.
type Privacy struct{ Key []byte }

// ErrNoKey reports that hashing was asked for without a key.
var ErrNoKey = errors.New("x-pii hash needs a key, and none is configured")

// Name implements [Enricher].
func (Privacy) Name() string { return "privacy" }

// Enrich implements [Enricher].
func (p Privacy) Enrich(it *Item) error {
	if it.Schema == nil || len(it.Schema.PII) == 0 || len(it.Event.Data) == 0 {
		return nil
	}
	var data any
	if err := json.Unmarshal(it.Event.Data, &data); err != nil {
		return fmt.Errorf("privacy: decode data: %w", err)
	}
	changed := false
	for ptr, action := range it.Schema.PII {
		c, err := p.apply(&data, splitPointer(ptr), action)
		if err != nil {
			return fmt.Errorf("privacy: %s: %w", ptr, err)
		}
		changed = changed || c
	}
	if !changed {
		return nil
	}
	b, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("privacy: encode data: %w", err)
	}
	// Replace data within the event's own members so that extension attributes are kept.
	var members map[string]json.RawMessage
	if err := json.Unmarshal(it.Raw, &members); err != nil {
		return fmt.Errorf("privacy: decode event: %w", err)
	}
	members["data"] = b
	raw, err := json.Marshal(members)
	if err != nil {
		return fmt.Errorf("privacy: encode event: %w", err)
	}
	it.Event.Data, it.Raw = b, raw
	return nil
}

func splitPointer(ptr string) []string {
	parts := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	for i, s := range parts {
		parts[i] = strings.NewReplacer("~1", "/", "~0", "~").Replace(s)
	}
	return parts
}

// apply walks path in v and applies action to what it names; "*" stands for every array item.
func (p Privacy) apply(v *any, path []string, action string) (bool, error) {
	if len(path) == 0 {
		return false, nil
	}
	switch node := (*v).(type) {
	case map[string]any:
		child, ok := node[path[0]]
		if !ok {
			return false, nil
		}
		if len(path) > 1 {
			c, err := p.apply(&child, path[1:], action)
			node[path[0]] = child
			return c, err
		}
		switch action {
		case "redact":
			delete(node, path[0])
		case "hash":
			if len(p.Key) == 0 {
				return false, ErrNoKey
			}
			b, _ := json.Marshal(child)
			mac := hmac.New(sha256.New, p.Key)
			mac.Write(b)
			node[path[0]] = hex.EncodeToString(mac.Sum(nil))
		default:
			return false, fmt.Errorf("unknown x-pii action %q", action)
		}
		return true, nil
	case []any:
		if path[0] != "*" {
			i, err := strconv.Atoi(path[0])
			if err != nil || i < 0 || i >= len(node) {
				return false, nil
			}
			return p.apply(&node[i], path[1:], action)
		}
		changed := false
		for i := range node {
			if len(path) == 1 {
				return false, fmt.Errorf("x-pii on array items is not supported; annotate the array")
			}
			c, err := p.apply(&node[i], path[1:], action)
			if err != nil {
				return false, err
			}
			changed = changed || c
		}
		return changed, nil
	}
	return false, nil
}
