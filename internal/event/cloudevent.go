package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// SpecVersion is the only CloudEvents specification version firelane accepts.
const SpecVersion = "1.0"

// CloudEvent is a CloudEvents 1.0 event in structured JSON mode. Data holds the event's data
// exactly as the client sent it, so that accepted events are passed on without re-encoding.
type CloudEvent struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Time            string          `json:"time,omitempty"`
	Subject         string          `json:"subject,omitempty"`
	DataSchema      string          `json:"dataschema,omitempty"`
	DataContentType string          `json:"datacontenttype,omitempty"`
	Data            json.RawMessage `json:"data,omitempty"`
}

// Version is the major version of the event's data schema; see [MajorVersion].
func (e *CloudEvent) Version() int { return MajorVersion(e.DataSchema) }

// MajorVersion returns the major version that a dataschema value names: the digits that end it
// after "/v" ("com.example.web.page_view/v2" is 2). Any other value, the empty one included, selects
// version 1, so that events that carry no dataschema select the first version of their type. It
// takes the value as a string or as bytes, so that byte-level scanners need no copy.
func MajorVersion[T ~string | ~[]byte](dataschema T) int {
	i := lastV(dataschema)
	if i < 0 || i+2 == len(dataschema) || len(dataschema)-i > 11 {
		return 1
	}
	n := 0
	for k := i + 2; k < len(dataschema); k++ {
		c := dataschema[k]
		if c < '0' || c > '9' {
			return 1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// lastV returns the index of the last "/v" in s, or -1.
func lastV[T ~string | ~[]byte](s T) int {
	for i := len(s) - 2; i >= 0; i-- {
		if s[i] == '/' && s[i+1] == 'v' {
			return i
		}
	}
	return -1
}

// Attrs are the string attributes of an event that the edge keeps after validating it, as
// encoding/json decodes them; an attribute that is absent or not a string is empty.
type Attrs struct {
	ID, Type, Source, Subject, DataSchema string
}

// EventTime parses the event's time attribute. ok is false when the event has none.
func (e *CloudEvent) EventTime() (t time.Time, ok bool, err error) {
	if e.Time == "" {
		return time.Time{}, false, nil
	}
	t, err = time.Parse(time.RFC3339Nano, e.Time)
	if err != nil {
		return time.Time{}, true, errors.New("time is not an RFC 3339 timestamp") // no value: reasons reach the logs
	}
	return t, true, nil
}

// ErrNotObject reports that an event is not a JSON object.
var ErrNotObject = errors.New("event is not a JSON object")

// Parse decodes one structured-mode CloudEvent. It only decodes: [CheckEnvelope] says whether the
// envelope is well formed.
func Parse(raw []byte) (*CloudEvent, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, ErrNotObject
	}
	var ev CloudEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, fmt.Errorf("decode CloudEvent: %w", err)
	}
	return &ev, nil
}

// EnvelopeError is one way an event breaks the CloudEvents 1.0 envelope rules.
type EnvelopeError struct {
	Attribute string // the attribute at fault, such as "time"
	Message   string
}

func (e EnvelopeError) Error() string { return e.Attribute + ": " + e.Message }

// CheckEnvelope reports every way ev breaks the CloudEvents 1.0 rules that firelane enforces: the
// required attributes specversion ("1.0"), id, source and type are present and non-empty, and time,
// when present, is an RFC 3339 timestamp. It returns nil for a well-formed envelope.
func CheckEnvelope(ev *CloudEvent) []EnvelopeError {
	var errs []EnvelopeError
	switch ev.SpecVersion {
	case SpecVersion:
	case "":
		errs = append(errs, EnvelopeError{"specversion", "required attribute is missing"})
	default:
		errs = append(errs, EnvelopeError{"specversion", fmt.Sprintf("must be %q, got %q", SpecVersion, ev.SpecVersion)})
	}
	if ev.ID == "" {
		errs = append(errs, EnvelopeError{"id", "required attribute is missing or empty"})
	}
	if ev.Source == "" {
		errs = append(errs, EnvelopeError{"source", "required attribute is missing or empty"})
	}
	if ev.Type == "" {
		errs = append(errs, EnvelopeError{"type", "required attribute is missing or empty"})
	}
	if _, _, err := ev.EventTime(); err != nil {
		errs = append(errs, EnvelopeError{"time", err.Error()})
	}
	return errs
}
