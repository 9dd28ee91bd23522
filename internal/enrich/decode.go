package enrich

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"unicode/utf8"

	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/jsonbytes"
)

// input is a decoded Kinesis record.
type input struct {
	event   event.CloudEvent
	sentAt  string               // the event's sentat extension attribute
	raw     json.RawMessage      // the event's bytes
	context *event.ServerContext // nil for a bare CloudEvent
}

// errEnriched reports an enriched record on the stream: it was routed to the wrong place.
var errEnriched = errors.New("record is already enriched (firelane " + event.FormatEnriched + "): it does not belong on this stream")

// records holds the views decodeInput reads records with, so that reading one costs no allocation.
var records = sync.Pool{New: func() any { return new(event.Record) }}

// decodeInput reads one Kinesis record's data, an ingest record or a bare CloudEvent, with
// [event.Record] (one pass, which checks the syntax and finds the members), and checks its envelope
// with [event.CheckEnvelope], as every stage does. The error is a poison record's reason.
func decodeInput(data []byte, strs interner) (*input, error) {
	rec := records.Get().(*event.Record)
	defer func() {
		rec.Reset() // the pool must not keep the record's text alive
		records.Put(rec)
	}()
	err := rec.Parse(data)
	switch {
	case rec.Kind == event.InputEnriched && rec.Enrichment != nil:
		return nil, poison("decode", errEnriched)
	case err != nil:
		return nil, poison("decode", fmt.Errorf("decode record: %w", err))
	}
	v := rec.Event
	in := &input{raw: rec.Raw}
	var buf []byte
	e := &in.event
	e.SpecVersion = strs.value(&v.SpecVersion, &buf, true)
	e.ID = strs.value(&v.ID, &buf, false)
	e.Source = strs.value(&v.Source, &buf, true)
	e.Type = strs.value(&v.Type, &buf, true)
	e.Time = strs.value(&v.Time, &buf, false)
	e.Subject = strs.value(&v.Subject, &buf, false)
	e.DataSchema = strs.value(&v.DataSchema, &buf, true)
	e.DataContentType = strs.value(&v.DataContentType, &buf, true)
	e.Data = v.Data
	in.sentAt = strs.value(&v.SentAt, &buf, false)
	if rec.Kind == event.InputIngest {
		ctx := rec.Context
		in.context = new(event.ServerContext)
		var ferr error
		err = members(ctx, func(key []byte, start, end int) bool {
			ferr = setContext(in.context, key, ctx[start:end], strs)
			return ferr == nil
		})
		if err == nil {
			err = ferr
		}
		if err != nil {
			return nil, poison("decode", fmt.Errorf("decode %s context: %w", event.FormatIngest, err))
		}
	}
	if errs := event.CheckEnvelope(v); errs != nil {
		return nil, poison("envelope", errs)
	}
	return in, nil
}

// setContext stores the member of ingest's context that key names.
func setContext(c *event.ServerContext, key, v []byte, strs interner) error {
	key = plainKey(key)
	var dst *string
	switch string(key[1 : len(key)-1]) {
	case "received_at":
		dst = &c.ReceivedAt
	case "request_id":
		dst = &c.RequestID
	case "source_ip":
		dst = &c.SourceIP
	case "user_agent":
		dst = &c.UserAgent
	case "api_key_id":
		dst = &c.APIKeyID
	case "principal":
		dst = &c.Principal
	case "stage":
		dst = &c.Stage
	default:
		return nil
	}
	// Interned: a request's events, and a client's requests, share their context.
	s, err := strs.jsonString(v)
	if err != nil {
		return fmt.Errorf("%s: %w", key[1:len(key)-1], err)
	}
	*dst = s
	return nil
}

// errNotString reports a member that must be a string and is not.
var errNotString = errors.New("must be a string")

// jsonString reads valid JSON text that must be a string or null ("" then).
func jsonString(v []byte) (string, error) {
	switch {
	case len(v) >= 2 && v[0] == '"' && bytes.IndexByte(v, '\\') < 0 && utf8.Valid(v):
		return string(v[1 : len(v)-1]), nil
	case len(v) >= 2 && v[0] == '"':
		// Escapes to resolve, or invalid UTF-8 that encoding/json replaces with U+FFFD.
		b, ok := jsonbytes.AppendUnquoted(nil, v)
		if !ok {
			return "", errNotString
		}
		return string(b), nil
	case string(v) == "null":
		return "", nil
	}
	return "", errNotString
}

// plainKey returns a raw member name with its escapes resolved ("\u0069d" is "id").
func plainKey(key []byte) []byte {
	if bytes.IndexByte(key, '\\') < 0 {
		return key
	}
	b, _ := json.Marshal(keyString(key))
	return b
}

// interner hands out one string for each distinct value that records of a batch repeat (their
// type, source, user agent...), so that each costs one allocation per batch rather than per record.
// A nil interner interns nothing.
//
// It is a map owned by one batch rather than the standard library's unique.Make, which measured 4×
// slower on this stage's records: unique keeps one concurrent, weakly referenced map for the whole
// process, where a batch's strings need to live no longer than the batch.
type interner map[string]string

// maxInterned bounds an interner, whatever a batch holds.
const maxInterned = 4096

// jsonString is [jsonString] with interning.
func (m interner) jsonString(v []byte) (string, error) {
	if m == nil || len(v) < 2 || len(v) > 512 || v[0] != '"' || bytes.IndexByte(v, '\\') >= 0 || !utf8.Valid(v) {
		return jsonString(v)
	}
	return m.intern(v[1 : len(v)-1]), nil
}

// value returns a string attribute's value as a struct decodes it, interned when repeats says that
// records of a batch likely share it.
func (m interner) value(a *event.Str, buf *[]byte, repeats bool) string {
	b := a.Value(buf)
	if m == nil || !repeats || len(b) > 512 {
		return string(b)
	}
	return m.intern(b)
}

func (m interner) intern(b []byte) string {
	if s, ok := m[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(m) < maxInterned {
		m[s] = s
	}
	return s
}
