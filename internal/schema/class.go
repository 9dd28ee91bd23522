package schema

import "strings"

// Reason classes of a rejection: what [Result.Class] returns, and the values of the Reason metric
// dimension for rejected events (docs/operations.md).
const (
	ClassSchema      = "schema"       // the event's data breaks its schema
	ClassEnvelope    = "envelope"     // the CloudEvent envelope is invalid
	ClassUnknownType = "unknown_type" // no schema is registered for the event's type and version
	ClassDecode      = "decode"       // the event is not JSON, or cannot be validated at all
)

// Class returns the reason class of a rejection, "" for a valid event. It is decided by what the
// validator reported: the "type-version" keyword for an unknown type and version, a reason without
// a keyword for text that could not be validated, a selected data schema or a reason located in
// data for a failure of data, and the envelope otherwise.
func (r Result) Class() string {
	if r.Valid() {
		return ""
	}
	for _, reason := range r.Reasons {
		switch reason.Keyword {
		case "type-version": // the reason Registry.Validate gives when no data schema exists
			return ClassUnknownType
		case "":
			return ClassDecode
		}
	}
	// The envelope schema's own check of the data member ("data" must be an object) counts as the
	// data's failure, as a failure under a data schema does.
	if loc := r.Reasons[0].Location; r.Entry != nil || loc == "/data" || strings.HasPrefix(loc, "/data/") {
		return ClassSchema
	}
	return ClassEnvelope
}
