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
	"unicode/utf8"
)

// Forms keeps the forms an event takes on its way that the [Recorder] does not: the event as the
// app sent it, and the enriched record the events delivery stream hands to the transform. The lake
// row (the converted form) is the Recorder's.
//
// It keeps the request bodies and the records as they came, up to [MaxFormBytes] of each (the
// newest), and reads them only when asked: on the API's path it costs one copy, no parse, so that
// `up`'s throughput figures stay what they were without the console.
type Forms struct {
	mu      sync.Mutex
	version int64
	bodies  ring // request bodies
	records ring // records handed to the transform
}

// MaxFormBytes bounds the request bodies, and the records, that [Forms] keeps.
const MaxFormBytes = 8 << 20

// ring keeps the newest byte slices up to a total size.
type ring struct {
	items [][]byte
	at    []time.Time
	head  int // items before head are forgotten
	size  int
}

func (r *ring) add(b []byte, at time.Time) {
	r.items = append(r.items, b)
	r.at = append(r.at, at)
	r.size += len(b)
	for r.size > MaxFormBytes && r.head < len(r.items)-1 {
		r.size -= len(r.items[r.head])
		r.items[r.head] = nil
		r.head++
	}
	// Compact once half is forgotten, so that each add costs O(1) on average.
	if r.head > len(r.items)/2 {
		r.items = append([][]byte(nil), r.items[r.head:]...)
		r.at = append([]time.Time(nil), r.at[r.head:]...)
		r.head = 0
	}
}

// kept returns the slices kept and their times, oldest first.
func (r *ring) kept() ([][]byte, []time.Time) {
	return append([][]byte(nil), r.items[r.head:]...), append([]time.Time(nil), r.at[r.head:]...)
}

// Enriched is one record a delivery stream handed to its transform.
type Enriched struct {
	ID     string          `json:"id"`
	Type   string          `json:"type,omitempty"`
	At     time.Time       `json:"at"`
	Record json.RawMessage `json:"record"`
}

// NewForms returns an empty store.
func NewForms() *Forms { return &Forms{} }

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
	f.bodies, f.records = ring{}, ring{}
	f.version++
}

// Wrap returns next with every POST body kept. It goes inside [Recorder.Wrap], which has already
// made the body readable twice.
func (f *Forms) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.ContentLength <= maxBody {
			b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b), r.Body))
			if err == nil && len(b) <= maxBody {
				if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
					b = gunzip(b)
				}
				if b != nil {
					f.mu.Lock()
					f.bodies.add(b, time.Now().UTC())
					f.version++
					f.mu.Unlock()
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

func gunzip(b []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil
	}
	out, err := io.ReadAll(io.LimitReader(zr, 6*maxBody))
	if err != nil {
		return nil
	}
	return out
}

// Record keeps one record a delivery stream hands to its transform, as the enriched form of its
// event.
func (f *Forms) Record(data []byte) {
	b := append([]byte(nil), data...)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.records.add(b, time.Now().UTC())
	f.version++
}

// events splits a request body (a JSON array of events or NDJSON) into its events; what cannot
// be read is left to the API, which answers for it.
func events(body []byte) []json.RawMessage {
	body = bytes.TrimSpace(body)
	var evs []json.RawMessage
	if len(body) > 0 && body[0] == '[' {
		if json.Unmarshal(body, &evs) != nil {
			return nil
		}
		return evs
	}
	lines(body, func(l []byte) { evs = append(evs, l) })
	return evs
}

func idOf(ev []byte) string {
	var e struct {
		ID string `json:"id"`
	}
	// Unmarshal fails on text that is not JSON, so an event with an id is valid JSON.
	if json.Unmarshal(ev, &e) != nil {
		return ""
	}
	return e.ID
}

// mayHold reports whether b can hold the id needle: it has it as is, or it has escapes or text
// that is not UTF-8, which a decoder would read differently from the bytes.
func mayHold(b, needle []byte) bool {
	return bytes.Contains(b, needle) || bytes.IndexByte(b, '\\') >= 0 || !utf8.Valid(b)
}

// Raw returns the event with id as it was last sent.
func (f *Forms) Raw(id string) (json.RawMessage, bool) {
	if id == "" {
		return nil, false
	}
	f.mu.Lock()
	bodies, _ := f.bodies.kept()
	f.mu.Unlock()
	needle := []byte(id)
	for i := len(bodies) - 1; i >= 0; i-- {
		if !mayHold(bodies[i], needle) {
			continue
		}
		evs := events(bodies[i])
		for j := len(evs) - 1; j >= 0; j-- {
			if mayHold(evs[j], needle) && idOf(evs[j]) == id {
				return append(json.RawMessage(nil), evs[j]...), true
			}
		}
	}
	return nil, false
}

// enrichedAt reads a kept record; ok is false for one that is not a stage record (a failed
// envelope).
func enrichedAt(b []byte, at time.Time) (Enriched, bool) {
	id, typ := recordEvent(b)
	if id == "" || !json.Valid(b) {
		return Enriched{}, false
	}
	return Enriched{ID: id, Type: typ, At: at, Record: b}, true
}

// EnrichedOf returns the last enriched record of the event with id.
func (f *Forms) EnrichedOf(id string) (Enriched, bool) {
	if id == "" {
		return Enriched{}, false
	}
	f.mu.Lock()
	recs, ats := f.records.kept()
	f.mu.Unlock()
	needle := []byte(id)
	for i := len(recs) - 1; i >= 0; i-- {
		if !mayHold(recs[i], needle) {
			continue
		}
		if e, ok := enrichedAt(recs[i], ats[i]); ok && e.ID == id {
			return e, true
		}
	}
	return Enriched{}, false
}

// LatestEnriched returns the newest n enriched records, newest first.
func (f *Forms) LatestEnriched(n int) []Enriched {
	f.mu.Lock()
	recs, ats := f.records.kept()
	f.mu.Unlock()
	out := []Enriched{}
	for i := len(recs) - 1; i >= 0 && len(out) < n; i-- {
		if e, ok := enrichedAt(recs[i], ats[i]); ok {
			out = append(out, e)
		}
	}
	return out
}
