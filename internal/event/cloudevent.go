package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/firelane/firelane/internal/jsonbytes"
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

// MajorVersion returns the major version that a dataschema value names, by the rules of
// [DataSchemaVersion] (an absolute URI, a schema's $id ending .vN.json or /vN.json, or the relative
// form): every stage selects a schema with it. It takes the value as a string or as bytes, so that
// byte-level scanners need no copy.
func MajorVersion[T ~string | ~[]byte](dataschema T) int { return DataSchemaVersion(dataschema) }

// Attrs are the string attributes of an event that the edge keeps after validating it, as
// encoding/json decodes them; an attribute that is absent or not a string is empty.
type Attrs struct {
	ID, Type, Source, Subject, DataSchema string
}

// EventTime parses the event's time attribute with [ParseTime]. ok is false when the event has
// none.
func (e *CloudEvent) EventTime() (t time.Time, ok bool, err error) {
	if e.Time == "" {
		return time.Time{}, false, nil
	}
	t, valid := ParseTime(e.Time)
	if !valid {
		return time.Time{}, true, errors.New(msgTime) // no value: reasons reach the logs
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
	Message   string // what is wrong with it; it never quotes the event
}

func (e EnvelopeError) Error() string { return e.Attribute + ": " + e.Message }

// InvalidEnvelope is every way an event breaks the envelope rules, in the order of [CheckEnvelope].
type InvalidEnvelope []EnvelopeError

// Error joins the faults: "invalid CloudEvent: id: required attribute is missing or empty; ...".
func (e InvalidEnvelope) Error() string {
	b := []byte("invalid CloudEvent: ")
	for i, f := range e {
		if i > 0 {
			b = append(b, "; "...)
		}
		b = append(b, f.Error()...)
	}
	return string(b)
}

// The messages of envelope faults, the same in every stage.
const (
	msgMissing     = "required attribute is missing"
	msgMissingOr   = "required attribute is missing or empty"
	msgSpecVersion = `must be "` + SpecVersion + `"`
	msgNotString   = "must be a string"
	msgTime        = "not an RFC 3339 timestamp"
)

// CheckEnvelope reports every way the event v views breaks the envelope rules that every stage
// enforces, nil when there is none: the required attributes specversion ("1.0"), id, source and
// type are strings and not empty; time, when present and not empty, is an RFC 3339 timestamp
// ([ParseTime]); and every attribute a stage reads as a string (subject, dataschema,
// datacontenttype, sentat, data_base64 too) is a string or null in its last member. The edge
// applies it after the envelope schema, and enrich and transform apply it again, so that an event
// the edge accepts passes it downstream. It keeps the time it parsed for [View.EventTime].
func CheckEnvelope(v *View) InvalidEnvelope {
	var errs InvalidEnvelope
	switch {
	case v.SpecVersion.Last == Other:
		errs = append(errs, EnvelopeError{"specversion", msgNotString})
	case !v.SpecVersion.Seen:
		errs = append(errs, EnvelopeError{"specversion", msgMissing})
	case string(plainValue(&v.SpecVersion)) != SpecVersion:
		errs = append(errs, EnvelopeError{"specversion", msgSpecVersion})
	}
	errs = required(errs, "id", &v.ID)
	errs = required(errs, "source", &v.Source)
	errs = required(errs, "type", &v.Type)
	v.when, v.hasTime, v.timeChecked = time.Time{}, false, true
	switch {
	case v.Time.Last == Other:
		errs = append(errs, EnvelopeError{"time", msgNotString})
	case v.Time.Seen && len(v.Time.Body) > 0:
		t, ok := ParseTime(plainValue(&v.Time))
		if !ok {
			errs = append(errs, EnvelopeError{"time", msgTime})
		}
		v.when, v.hasTime = t, ok
	}
	errs = stringOrNull(errs, "subject", &v.Subject)
	errs = stringOrNull(errs, "dataschema", &v.DataSchema)
	errs = stringOrNull(errs, "datacontenttype", &v.DataContentType)
	errs = stringOrNull(errs, "sentat", &v.SentAt)
	return stringOrNull(errs, "data_base64", &v.DataBase64)
}

// required checks an attribute that must be a non-empty string.
func required(errs InvalidEnvelope, name string, a *Str) InvalidEnvelope {
	switch {
	case a.Last == Other:
		return append(errs, EnvelopeError{name, msgNotString})
	case len(a.Body) == 0: // an escape always stands for at least one byte
		return append(errs, EnvelopeError{name, msgMissingOr})
	}
	return errs
}

// stringOrNull checks an optional attribute, which must be a string or null.
func stringOrNull(errs InvalidEnvelope, name string, a *Str) InvalidEnvelope {
	if a.Last == Other {
		return append(errs, EnvelopeError{name, msgNotString})
	}
	return errs
}

// plainValue is [Str.Value] for the short attributes the envelope check reads: only a value that
// needs decoding costs an allocation.
func plainValue(a *Str) []byte {
	if jsonbytes.Plain(a.Body, a.Flags) {
		return a.Body
	}
	return jsonbytes.AppendUnescaped(nil, a.Body)
}
