package enrich

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/jsonbytes"
)

// cloudEvent is a CloudEvent with the sentat extension attribute, decoded in one pass.
type cloudEvent struct {
	event.CloudEvent
	SentAt string `json:"sentat"`
}

// input is a decoded Kinesis record.
type input struct {
	event   cloudEvent
	raw     json.RawMessage      // the event's bytes
	context *event.ServerContext // nil for a bare CloudEvent
}

// errEnriched reports an enriched record on the stream: it was routed to the wrong place.
var errEnriched = errors.New("record is already enriched (firelane " + event.FormatEnriched + "): it does not belong on this stream")

// decodeInput reads one Kinesis record's data: an ingest record or a bare CloudEvent, the shapes
// that [event.DecodeRecord] accepts for this stage.
//
// It checks the record is valid JSON once and then picks the members it needs out of the text
// without a reflective decode, which makes it several times cheaper than encoding/json on the
// records this stage sees. Member names match exactly (encoding/json would also take "ID" for
// "id"; CloudEvents attribute names are lower case, so "ID" is another attribute). Like
// encoding/json, the last of repeated members wins and null reads as an absent string.
func decodeInput(data []byte, strs interner) (*input, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return nil, fmt.Errorf("decode record: %w", event.ErrNotObject)
	}
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v) // only for its description of what is wrong
		return nil, fmt.Errorf("decode record: %w", err)
	}
	in := &input{}
	var format, ctxRaw, evRaw []byte
	hasFormat, hasEnrichment := false, false
	var ferr error
	err := members(data, func(key []byte, start, end int) bool {
		v := data[start:end]
		key = plainKey(key)
		switch string(key[1 : len(key)-1]) {
		case "firelane":
			hasFormat, format = true, v
		case "context":
			ctxRaw = v
		case "enrichment":
			hasEnrichment = true
		case "event":
			evRaw = v
		default:
			ferr = in.event.set(key, v, strs)
		}
		return ferr == nil
	})
	if err == nil {
		err = ferr
	}
	if err != nil {
		return nil, fmt.Errorf("decode record: %w", err)
	}
	if !hasFormat {
		if in.event.SpecVersion == "" {
			return nil, errors.New("record is neither a firelane record nor a CloudEvent (it has no specversion)")
		}
		in.raw = data
		return in, nil
	}
	f, err := jsonString(format)
	if err != nil {
		return nil, fmt.Errorf("decode record: firelane: %w", err)
	}
	switch f {
	case event.FormatIngest:
	case event.FormatEnriched:
		if hasEnrichment {
			return nil, errEnriched
		}
		return nil, fmt.Errorf("%s record has no enrichment", f)
	default:
		return nil, fmt.Errorf("unknown record format %q", f)
	}
	if len(evRaw) == 0 || evRaw[0] != '{' {
		return nil, fmt.Errorf("%s record has no event object", f)
	}
	if len(ctxRaw) == 0 || ctxRaw[0] != '{' {
		return nil, fmt.Errorf("%s record has no context object", f)
	}
	in = &input{raw: evRaw, context: new(event.ServerContext)}
	err = members(ctxRaw, func(key []byte, start, end int) bool {
		ferr = setContext(in.context, key, ctxRaw[start:end], strs)
		return ferr == nil
	})
	if err == nil {
		err = ferr
	}
	if err != nil {
		return nil, fmt.Errorf("decode %s context: %w", f, err)
	}
	err = members(evRaw, func(key []byte, start, end int) bool {
		ferr = in.event.set(key, evRaw[start:end], strs)
		return ferr == nil
	})
	if err == nil {
		err = ferr
	}
	if err != nil {
		return nil, fmt.Errorf("decode CloudEvent: %w", err)
	}
	return in, nil
}

// set stores the attribute that a member of a CloudEvent's JSON text names.
func (e *cloudEvent) set(key, v []byte, strs interner) error {
	key = plainKey(key)
	var dst *string
	repeats := false // whether the value is likely the same in many records of a batch
	switch string(key[1 : len(key)-1]) {
	case "specversion":
		dst, repeats = &e.SpecVersion, true
	case "id":
		dst = &e.ID
	case "source":
		dst, repeats = &e.Source, true
	case "type":
		dst, repeats = &e.Type, true
	case "time":
		dst = &e.Time
	case "subject":
		dst = &e.Subject
	case "dataschema":
		dst, repeats = &e.DataSchema, true
	case "datacontenttype":
		dst, repeats = &e.DataContentType, true
	case "sentat":
		dst = &e.SentAt
	case "data":
		e.Data = v
		return nil
	default:
		return nil
	}
	if !repeats {
		strs = nil
	}
	return setString(dst, key, v, strs)
}

// setString decodes the string member v named key into dst, interning it through strs (nil: no
// interning).
func setString(dst *string, key, v []byte, strs interner) error {
	s, err := strs.jsonString(v)
	if err != nil {
		return fmt.Errorf("%s: %w", key[1:len(key)-1], err)
	}
	*dst = s
	return nil
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
	return setString(dst, key, v, strs)
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
type interner map[string]string

// maxInterned bounds an interner, whatever a batch holds.
const maxInterned = 4096

// jsonString is [jsonString] with interning.
func (m interner) jsonString(v []byte) (string, error) {
	if m == nil || len(v) < 2 || len(v) > 512 || v[0] != '"' || bytes.IndexByte(v, '\\') >= 0 || !utf8.Valid(v) {
		return jsonString(v)
	}
	b := v[1 : len(v)-1]
	if s, ok := m[string(b)]; ok {
		return s, nil
	}
	s := string(b)
	if len(m) < maxInterned {
		m[s] = s
	}
	return s, nil
}
