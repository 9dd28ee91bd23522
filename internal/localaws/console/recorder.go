package console

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/firelane/firelane/internal/event"
)

// Statuses of an event, as GET events filters them.
const (
	Accepted  = "accepted"  // the API answered accepted: the event is in the stream
	Rejected  = "rejected"  // the API answered rejected, with its reasons
	Delivered = "delivered" // its lake row was written
	Failed    = "failed"    // a stage set it aside, or the API could not write it
)

// MaxItems bounds the events the recorder keeps; older ones are forgotten (the counts keep them).
const MaxItems = 200000

// Item is one event as the console shows it.
type Item struct {
	Seq        int64           `json:"seq"`
	ID         string          `json:"id"`
	Type       string          `json:"type,omitempty"`
	Status     string          `json:"status"`
	Reasons    []event.Reason  `json:"reasons,omitempty"`
	RequestID  string          `json:"request_id,omitempty"`
	ReceivedAt time.Time       `json:"received_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
	Row        json.RawMessage `json:"row,omitempty"`
	S3Key      string          `json:"s3_key,omitempty"`
}

// Counts are the events seen per status since the last reset.
type Counts struct {
	Events    int `json:"events"`
	Accepted  int `json:"accepted"` // accepted and not delivered yet
	Rejected  int `json:"rejected"`
	Delivered int `json:"delivered"`
	Failed    int `json:"failed"`
}

// Recorder keeps what became of each event.
type Recorder struct {
	Now func() time.Time

	mu      sync.Mutex
	seq     int64
	items   []*Item
	waiting map[string][]*Item // accepted items per event id, oldest first, not yet delivered or failed
	counts  Counts
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder {
	return &Recorder{Now: time.Now, waiting: map[string][]*Item{}}
}

func (r *Recorder) now() time.Time { return r.Now().UTC() }

func (r *Recorder) bump(status string, d int) {
	switch status {
	case Accepted:
		r.counts.Accepted += d
	case Rejected:
		r.counts.Rejected += d
	case Delivered:
		r.counts.Delivered += d
	case Failed:
		r.counts.Failed += d
	}
}

// add records a new event; r.mu is held.
func (r *Recorder) add(it *Item) {
	r.seq++
	it.Seq = r.seq
	it.ReceivedAt, it.UpdatedAt = r.now(), r.now()
	r.items = append(r.items, it)
	if len(r.items) > MaxItems {
		r.items = r.items[len(r.items)-MaxItems:]
	}
	r.counts.Events++
	r.bump(it.Status, 1)
	if it.Status == Accepted {
		r.waiting[it.ID] = append(r.waiting[it.ID], it)
	}
}

func (r *Recorder) set(it *Item, status string) {
	r.bump(it.Status, -1)
	it.Status = status
	it.UpdatedAt = r.now()
	r.bump(status, 1)
}

// settle moves the oldest accepted item with id to status; it returns the item, nil when no
// accepted item waits with that id (an event sent before a reset, or a redelivery).
func (r *Recorder) settle(id, status string) *Item {
	q := r.waiting[id]
	if len(q) == 0 {
		return nil
	}
	it := q[0]
	if len(q) == 1 {
		delete(r.waiting, id)
	} else {
		r.waiting[id] = q[1:]
	}
	r.set(it, status)
	return it
}

// Answer records one API answer: the results of ingest's per-event answer, with the types read
// from the request's events (by index; "" where unknown).
func (r *Recorder) Answer(requestID string, results []Result, types []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, res := range results {
		it := &Item{ID: res.ID, Status: res.Status, Reasons: res.Errors, RequestID: requestID}
		if res.Index >= 0 && res.Index < len(types) {
			it.Type = types[res.Index]
		}
		if it.Status != Accepted && it.Status != Rejected {
			it.Status = Failed
		}
		r.add(it)
	}
}

// Result is one event's outcome in ingest's answer (ingest.EventResult's JSON).
type Result struct {
	Index  int            `json:"index"`
	ID     string         `json:"id"`
	Status string         `json:"status"`
	Errors []event.Reason `json:"errors"`
}

// Object records an object a delivery stream wrote: lake rows under events/, rejected and failed
// envelopes, and Firehose's error records.
func (r *Recorder) Object(key string, body []byte) {
	switch {
	case strings.HasPrefix(key, "events/"):
		r.rows(key, body)
	case strings.HasPrefix(key, event.KindRejected+"/"), strings.HasPrefix(key, event.KindFailed+"/"):
		r.envelopes(body)
	case strings.HasPrefix(key, "errors/"):
		r.errorRecords(key, body)
	}
}

func lines(body []byte, f func(line []byte)) {
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64<<10), 8<<20)
	for sc.Scan() {
		if l := bytes.TrimSpace(sc.Bytes()); len(l) > 0 {
			f(l)
		}
	}
}

func (r *Recorder) rows(key string, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	lines(body, func(l []byte) {
		var row struct {
			ID   string `json:"event_id"`
			Type string `json:"event_type"`
		}
		if json.Unmarshal(l, &row) != nil || row.ID == "" {
			return // not a JSON row (a Parquet object): the events stay accepted
		}
		if it := r.settle(row.ID, Delivered); it != nil {
			it.Row, it.S3Key = append(json.RawMessage(nil), l...), key
			if it.Type == "" {
				it.Type = row.Type
			}
		}
	})
}

func (r *Recorder) envelopes(body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	lines(body, func(l []byte) {
		var f event.Failed
		if json.Unmarshal(l, &f) != nil || f.EventID == "" {
			return
		}
		if f.Kind == event.KindRejected {
			// The API already said rejected; the envelope brings the type when the request's body
			// could not be read for it.
			for i := len(r.items) - 1; i >= 0; i-- {
				if it := r.items[i]; it.ID == f.EventID && it.Status == Rejected && it.Type == "" {
					it.Type = f.EventType
					break
				}
			}
			return
		}
		if it := r.settle(f.EventID, Failed); it != nil {
			it.Reasons = append(it.Reasons, prefixed(f.Stage, f.Reasons)...)
			if it.Type == "" {
				it.Type = f.EventType
			}
		}
	})
}

func prefixed(stage string, rs []event.Reason) []event.Reason {
	out := make([]event.Reason, len(rs))
	for i, x := range rs {
		out[i] = x
		if stage != "" {
			out[i].Message = stage + ": " + x.Message
		}
	}
	return out
}

func (r *Recorder) errorRecords(key string, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	lines(body, func(l []byte) {
		var rec struct {
			ErrorCode    string `json:"errorCode"`
			ErrorMessage string `json:"errorMessage"`
			RawData      []byte `json:"rawData"`
		}
		if json.Unmarshal(l, &rec) != nil {
			return
		}
		id, typ := recordEvent(rec.RawData)
		if it := r.settle(id, Failed); it != nil {
			it.Reasons = append(it.Reasons, event.Reason{Message: "firehose: " + rec.ErrorCode + ": " + rec.ErrorMessage})
			it.S3Key = key
			if it.Type == "" {
				it.Type = typ
			}
		}
	})
}

// recordEvent returns the id and type of the event inside a stage record.
func recordEvent(raw []byte) (string, string) {
	env, err := event.DecodeRecord(raw)
	if err != nil {
		return "", ""
	}
	var ev struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	_ = json.Unmarshal(env.Event, &ev)
	return ev.ID, ev.Type
}

// Discarded records the records of a batch the event source mapping gave up on.
func (r *Recorder) Discarded(condition string, records [][]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, raw := range records {
		id, typ := recordEvent(raw)
		if it := r.settle(id, Failed); it != nil {
			it.Reasons = append(it.Reasons, event.Reason{Message: "event source mapping discarded the batch: " + condition})
			if it.Type == "" {
				it.Type = typ
			}
		}
	}
}

// Filter selects events for [Recorder.Events].
type Filter struct {
	Status string
	Type   string
	Since  time.Time // events whose status changed at or after Since
	Limit  int       // the newest Limit events; 0 for all
}

// Events returns copies of the events that f selects, oldest first.
func (r *Recorder) Events(f Filter) []Item {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Item
	for _, it := range r.items {
		if (f.Status != "" && it.Status != f.Status) || (f.Type != "" && it.Type != f.Type) || it.UpdatedAt.Before(f.Since) {
			continue
		}
		out = append(out, *it)
	}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[len(out)-f.Limit:]
	}
	return out
}

// Counts returns the counts since the last reset.
func (r *Recorder) Counts() Counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts
}

// Reset forgets every event and count.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.items, r.waiting, r.counts = nil, map[string][]*Item{}, Counts{}
}
