package console

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Forms keeps the forms an event takes on its way that the [Recorder] does not: the event as the
// app sent it, and the enriched record the events delivery stream hands to the transform. The lake
// row (the converted form) is the Recorder's. It keeps the last [MaxItems] of each, by event id
// (the latest when an id is sent twice).
type Forms struct {
	mu       sync.Mutex
	version  int64
	raw      map[string]json.RawMessage
	rawOrder []string
	enriched map[string]Enriched
	enrOrder []string
}

// Enriched is one record a delivery stream handed to its transform.
type Enriched struct {
	ID     string          `json:"id"`
	Type   string          `json:"type,omitempty"`
	At     time.Time       `json:"at"`
	Record json.RawMessage `json:"record"`
}

// NewForms returns an empty store.
func NewForms() *Forms {
	return &Forms{raw: map[string]json.RawMessage{}, enriched: map[string]Enriched{}}
}

// Version changes whenever the store does.
func (f *Forms) Version() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.version
}

// Reset forgets everything.
func (f *Forms) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.raw, f.rawOrder = map[string]json.RawMessage{}, nil
	f.enriched, f.enrOrder = map[string]Enriched{}, nil
	f.version++
}

// remember appends id to order and forgets the oldest ids past MaxItems; f.mu is held.
func remember[V any](m map[string]V, order []string, id string, v V) []string {
	if _, ok := m[id]; !ok {
		order = append(order, id)
	}
	m[id] = v
	if len(order) > MaxItems {
		for _, old := range order[:len(order)-MaxItems] {
			delete(m, old)
		}
		order = append([]string(nil), order[len(order)-MaxItems:]...)
	}
	return order
}

// Wrap returns next with the events of every POST body kept by id. It goes inside
// [Recorder.Wrap], which has already made the body readable twice.
func (f *Forms) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.ContentLength <= maxBody {
			b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b), r.Body))
			if err == nil && len(b) <= maxBody {
				f.request(b, r.Header.Get("Content-Encoding"))
			}
		}
		next.ServeHTTP(w, r)
	})
}

// request keeps each event of a body (a JSON object, a JSON array or NDJSON, possibly gzipped)
// that has an id; what cannot be read is left to the API, which answers for it.
func (f *Forms) request(body []byte, encoding string) {
	if strings.EqualFold(encoding, "gzip") {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return
		}
		b, err := io.ReadAll(io.LimitReader(zr, 6*maxBody))
		if err != nil {
			return
		}
		body = b
	}
	body = bytes.TrimSpace(body)
	var evs []json.RawMessage
	if len(body) > 0 && body[0] == '[' {
		if json.Unmarshal(body, &evs) != nil {
			return
		}
	} else {
		lines(body, func(l []byte) { evs = append(evs, append(json.RawMessage(nil), l...)) })
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ev := range evs {
		var e struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(ev, &e) != nil || e.ID == "" || !json.Valid(ev) {
			continue
		}
		f.rawOrder = remember(f.raw, f.rawOrder, e.ID, ev)
		f.version++
	}
}

// Record keeps one record a delivery stream hands to its transform as the enriched form of its
// event; a record that is not a stage record (a failed envelope) is not kept.
func (f *Forms) Record(data []byte) {
	id, typ := recordEvent(data)
	if id == "" || !json.Valid(data) {
		return
	}
	now := time.Now().UTC()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.enrOrder = remember(f.enriched, f.enrOrder, id, Enriched{ID: id, Type: typ, At: now, Record: append(json.RawMessage(nil), data...)})
	f.version++
}

// Raw returns the event with id as it was sent.
func (f *Forms) Raw(id string) (json.RawMessage, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.raw[id]
	return v, ok
}

// EnrichedOf returns the enriched record of the event with id.
func (f *Forms) EnrichedOf(id string) (Enriched, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.enriched[id]
	return v, ok
}

// LatestEnriched returns the newest n enriched records, newest first.
func (f *Forms) LatestEnriched(n int) []Enriched {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []Enriched{}
	for i := len(f.enrOrder) - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, f.enriched[f.enrOrder[i]])
	}
	return out
}
