package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/firelane/firelane/internal/jsonbytes"
)

// Format markers. Every record firelane writes between stages carries one in its "firelane" member,
// so that a reader can tell an ingest record from an enriched one or from a bare CloudEvent written by
// a direct API Gateway integration. The number after the slash is the format's version: a reader
// rejects a version it does not know rather than guess.
const (
	FormatIngest   = "ingest/1"
	FormatEnriched = "enriched/1"
	FormatFailed   = "failed/2" // what every stage writes; readers still read FormatFailedV1
	// FormatFailedV1 is the failed-event envelope without the server context, as stages wrote it
	// before [FormatFailed]: readers read both.
	FormatFailedV1 = "failed/1"
)

// IsFailedFormat tells whether format marks a failed-event envelope of a version a reader knows
// ([FormatFailed] or [FormatFailedV1]).
func IsFailedFormat(format string) bool { return format == FormatFailed || format == FormatFailedV1 }

// TimeLayout is the layout of every timestamp firelane writes: RFC 3339, UTC, milliseconds.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// FormatTime formats t in [TimeLayout] after converting it to UTC.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// ServerContext is what the edge knows about a request that the client cannot forge. It comes from
// API Gateway's request context, never from the event body.
type ServerContext struct {
	ReceivedAt string `json:"received_at"`          // when API Gateway received the request
	RequestID  string `json:"request_id,omitempty"` // API Gateway's request id
	SourceIP   string `json:"source_ip,omitempty"`
	UserAgent  string `json:"user_agent,omitempty"`
	APIKeyID   string `json:"api_key_id,omitempty"`
	Principal  string `json:"principal,omitempty"` // IAM user ARN or authorizer principal, when known
	Stage      string `json:"stage,omitempty"`     // API Gateway stage
}

// IngestRecord is the Kinesis record that the ingest function writes for each accepted event.
// Event is the event exactly as received (never re-encoded).
type IngestRecord struct {
	Format  string          `json:"firelane"`
	Context ServerContext   `json:"context"`
	Event   json.RawMessage `json:"event"`
}

// Enrichment holds what the enrich function adds to an event. Fields it could not derive (a bare
// CloudEvent has no request context) are left empty and omitted.
type Enrichment struct {
	ReceivedAt    string         `json:"received_at,omitempty"` // from ingest's server context
	ArrivedAt     string         `json:"arrived_at"`            // Kinesis approximate arrival time
	ProcessedAt   string         `json:"processed_at"`          // when enrich handled the record
	LatenessMS    *int64         `json:"lateness_ms,omitempty"` // received (else arrived) minus event time
	Fingerprint   string         `json:"fingerprint"`           // stable hash of the event's identity
	SchemaType    string         `json:"schema_type"`           // the event type that selected the schema
	SchemaVersion int            `json:"schema_version"`        // the major version that selected it
	Context       *ServerContext `json:"context,omitempty"`     // ingest's server context, when present
	Extra         map[string]any `json:"extra,omitempty"`       // fields later enrichments add

	SentAt      string       `json:"sent_at,omitempty"`       // the client's clock when it sent the event (sentat)
	DerivedTime string       `json:"derived_time,omitempty"`  // the event time corrected for the client's clock skew
	ClockSkewMS *int64       `json:"clock_skew_ms,omitempty"` // sent_at minus received (else arrived): how far ahead the client's clock runs
	Client      *ClientInfo  `json:"client,omitempty"`        // parsed from the context's user agent
	Network     *NetworkInfo `json:"network,omitempty"`       // from the context's source IP
}

// ClientInfo is what the enrich function reads from a request's User-Agent header.
type ClientInfo struct {
	Browser        string `json:"browser,omitempty"`
	BrowserVersion string `json:"browser_version,omitempty"`
	OS             string `json:"os,omitempty"`
	Device         string `json:"device,omitempty"` // desktop, mobile, tablet, tv, bot or unknown
	Bot            bool   `json:"bot,omitempty"`
}

// NetworkInfo is what the enrich function derives from a request's source IP. IP is the anonymised
// address (the source IP with its host bits zeroed); the location comes from a GeoIP database.
type NetworkInfo struct {
	IP       string `json:"ip,omitempty"`
	Country  string `json:"country,omitempty"` // ISO 3166-1 alpha-2
	Region   string `json:"region,omitempty"`  // ISO 3166-2 subdivision code, without the country
	City     string `json:"city,omitempty"`    // English name
	TimeZone string `json:"time_zone,omitempty"`
}

// EnrichedRecord is the Firehose record that the enrich function writes for each event.
type EnrichedRecord struct {
	Format     string          `json:"firelane"`
	Enrichment Enrichment      `json:"enrichment"`
	Event      json.RawMessage `json:"event"`
}

// Failure kinds: the first path segment of the failed-events destination.
const (
	KindRejected = "rejected" // the client sent an event that breaks its schema or the envelope
	KindFailed   = "failed"   // a stage could not process a record (poison, undeliverable)
)

// Reason is one reason why a record was set aside. For a validation failure, Location is the JSON
// pointer of the failing value in the event and Keyword the schema keyword that failed.
type Reason struct {
	Location string `json:"location,omitempty"`
	Keyword  string `json:"keyword,omitempty"`
	Message  string `json:"message"`
}

// Failed is the failed-event envelope: one shape for every record any stage sets aside, written to
// the failed-events delivery stream. Original holds the record's bytes exactly as the stage got them
// (base64 in JSON), so nothing is lost even when they are not JSON.
//
// Context (failed/2) is the server context the event was received with, when the stage knows it:
// ingest's for the request, enrich's from the ingest/1 record it read. It lets a recovered event
// keep its received_at and request id; [Failed.Encode] bounds it and writes its source_ip only
// anonymised. Original stays the last member: Encode splices it in.
type Failed struct {
	Format    string         `json:"firelane"`
	Kind      string         `json:"kind"`  // KindRejected or KindFailed
	Stage     string         `json:"stage"` // "ingest", "enrich" or "transform"
	FailedAt  string         `json:"failed_at"`
	EventID   string         `json:"event_id,omitempty"`
	EventType string         `json:"event_type,omitempty"`
	Context   *ServerContext `json:"context,omitempty"`
	Reasons   []Reason       `json:"reasons"`
	Original  []byte         `json:"original"`
}

// Kinds of input the later stages accept.
const (
	InputUnknown  = iota
	InputBare     // a bare CloudEvent, as written by a direct API Gateway integration
	InputIngest   // an IngestRecord
	InputEnriched // an EnrichedRecord
)

// RecordError is why a record is not one that the later stages accept. Its message never quotes
// the record.
type RecordError struct{ msg string }

func (e *RecordError) Error() string { return e.msg }

// Why records are refused.
var (
	ErrNotRecord    = &RecordError{"record is not a JSON object"}
	ErrNeither      = &RecordError{"record is neither a firelane record nor a CloudEvent"}
	ErrFormat       = &RecordError{"unknown firelane record format"}
	ErrFormatType   = &RecordError{"firelane: " + msgNotString}
	ErrNoEvent      = &RecordError{"firelane record has no event object"}
	ErrNoContext    = &RecordError{FormatIngest + " record has no context object"}
	ErrNoEnrichment = &RecordError{FormatEnriched + " record has no enrichment object"}
	errRecordSpace  = &jsonbytes.SyntaxError{Msg: "data after the top-level value"}
)

// Record is a stage record read from its JSON text in one pass, without decoding it: an
// [IngestRecord], an [EnrichedRecord] or a bare CloudEvent. Its slices are views of the text.
//
// The nesting of an event is counted from its own opening brace in every record, as the edge
// counts it (the event object is level 1, and [jsonbytes.MaxDepth] levels are allowed): the level
// that a record's object adds around its event is not counted, so that an event the edge accepts
// is never too deep downstream. A bare CloudEvent is the record itself.
type Record struct {
	Kind       int    // InputBare, InputIngest or InputEnriched
	Event      *View  // the event
	Raw        []byte // the event's text
	Context    []byte // the text of an ingest record's context object
	Enrichment []byte // the text of an enriched record's enrichment object
	// Flags is the union of the flags of every string in the record.
	Flags jsonbytes.Flags

	format     Str
	top, inner View
	innerStart int // where the "event" member's object starts; -1 when there is none
	innerEnd   int
	keys, fbuf []byte
}

// Reset drops r's views of the last record's text, keeping its buffers.
func (r *Record) Reset() {
	keys, fbuf := r.keys, r.fbuf
	*r = Record{keys: keys[:0], fbuf: fbuf[:0], innerStart: -1}
}

// Parse reads data into r, which it resets; r's buffers are reused, so a Record parses one record
// after another without allocating. The error is a [*jsonbytes.SyntaxError], [jsonbytes.ErrDepth],
// or a [*RecordError]; the envelope is not checked ([CheckEnvelope] does that).
func (r *Record) Parse(data []byte) error {
	r.Reset()
	i := jsonbytes.SkipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return ErrNotRecord
	}
	obj := jsonbytes.NewObject(data, i, 0)
	for {
		key, kf, val, more, err := obj.Next()
		if err != nil {
			return err
		}
		if !more {
			break
		}
		name := memberName(key, kf, &r.keys)
		var end int
		var f jsonbytes.Flags
		switch {
		case string(name) == "event" && data[val] == '{':
			// Counted from the event's own brace; see the type's documentation.
			r.inner = View{}
			if end, err = ParseView(data, val, 0, &r.inner, &r.fbuf); err != nil {
				return err
			}
			r.innerStart, r.innerEnd = val, end
			f = r.inner.Flags
			obj.SetEnd(end)
		case string(name) == "firelane":
			if end, f, err = obj.Skip(); err != nil {
				return err
			}
			r.format.Set(data[val:end], f)
		default:
			if end, f, err = obj.Skip(); err != nil {
				return err
			}
			if data[val] == '{' {
				switch string(name) {
				case "context":
					r.Context = data[val:end]
				case "enrichment":
					r.Enrichment = data[val:end]
				}
			}
			if string(name) == "event" {
				r.innerStart = -1
			}
		}
		r.top.Member(name, data[val:end], f)
		r.Flags |= f
	}
	if jsonbytes.SkipSpace(data, obj.End()) != len(data) {
		e := *errRecordSpace
		e.Offset = obj.End()
		return &e
	}
	switch {
	case r.format.Last == Other:
		return ErrFormatType
	case !r.format.Seen && (r.top.SpecVersion.Last == String || r.top.SpecVersion.Last == Other):
		// A specversion that is not a string still makes a CloudEvent, whose envelope is then bad.
		if r.innerStart >= 0 {
			// The bare event's "event" extension is counted from the record, the event.
			if _, _, err := jsonbytes.SkipValue(data, r.innerStart, 1); err != nil {
				return err
			}
		}
		r.Kind, r.Event, r.Raw = InputBare, &r.top, data
		r.Context, r.Enrichment = nil, nil
		return nil
	case !r.format.Seen:
		return ErrNeither
	}
	switch string(r.format.Value(&r.fbuf)) {
	case FormatIngest:
		r.Kind = InputIngest
		if r.Context == nil {
			return ErrNoContext
		}
		r.Enrichment = nil
	case FormatEnriched:
		r.Kind = InputEnriched
		if r.Enrichment == nil {
			return ErrNoEnrichment
		}
		r.Context = nil
	default:
		return ErrFormat
	}
	if r.innerStart < 0 {
		return ErrNoEvent
	}
	r.Event, r.Raw = &r.inner, data[r.innerStart:r.innerEnd]
	return nil
}

// Envelope is a decoded stage record: whichever of the accepted shapes it was, Event is the
// CloudEvent's bytes and the other fields are what the earlier stages added.
type Envelope struct {
	Kind       int
	Event      json.RawMessage
	Context    *ServerContext
	Enrichment *Enrichment
}

// DecodeRecord tells which shape raw is and unpacks it with encoding/json. It accepts an
// IngestRecord, an EnrichedRecord, or a bare CloudEvent (an object with a "specversion" member).
// The stages read records with [Record], in one pass and without decoding; DecodeRecord is the
// plain reading that tools, and the tests of the stages' readers, compare with.
func DecodeRecord(raw []byte) (*Envelope, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, ErrNotObject
	}
	var probe struct {
		Format      *string          `json:"firelane"`
		SpecVersion *json.RawMessage `json:"specversion"`
		Context     *ServerContext   `json:"context"`
		Enrichment  *Enrichment      `json:"enrichment"`
		Event       json.RawMessage  `json:"event"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("decode record: %w", err)
	}
	switch {
	case probe.Format == nil && probe.SpecVersion != nil:
		return &Envelope{Kind: InputBare, Event: raw}, nil
	case probe.Format == nil:
		return nil, fmt.Errorf("record is neither a firelane record nor a CloudEvent")
	}
	if len(probe.Event) == 0 || probe.Event[0] != '{' {
		return nil, fmt.Errorf("%s record has no event object", *probe.Format)
	}
	switch *probe.Format {
	case FormatIngest:
		if probe.Context == nil {
			return nil, fmt.Errorf("%s record has no context", FormatIngest)
		}
		return &Envelope{Kind: InputIngest, Event: probe.Event, Context: probe.Context}, nil
	case FormatEnriched:
		if probe.Enrichment == nil {
			return nil, fmt.Errorf("%s record has no enrichment", FormatEnriched)
		}
		return &Envelope{Kind: InputEnriched, Event: probe.Event, Enrichment: probe.Enrichment, Context: probe.Enrichment.Context}, nil
	default:
		return nil, fmt.Errorf("unknown record format %q", *probe.Format)
	}
}
