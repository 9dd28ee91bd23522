package event

import (
	"time"

	"github.com/firelane/firelane/internal/jsonbytes"
)

// Kind is what the last member of a name held.
type Kind uint8

// Kinds of member values.
const (
	Absent Kind = iota // no member of the name
	String
	Null
	Other // a number, a boolean, an object or an array
)

// Str is one string attribute of a [View], as written in the event's text.
//
// The two ways encoding/json reads a repeated or null member both have a use: decoded into a struct
// (the later stages), the last string wins and null leaves the field as it was, which Body and Seen
// give; decoded into a map (the validators, and so the edge's acceptance), the last member wins
// whatever it holds, which Last gives.
type Str struct {
	Body  []byte          // the body, between the quotes, of the last string member of the name
	Flags jsonbytes.Flags // Body's flags
	Seen  bool            // some member of the name held a string
	Last  Kind            // what the last member of the name held
}

// Set records a member of the attribute's name whose value's text is val (a string with its
// quotes) and whose strings' flags are f.
func (a *Str) Set(val []byte, f jsonbytes.Flags) {
	switch val[0] {
	case '"':
		a.Body, a.Flags, a.Seen, a.Last = val[1:len(val)-1], f, true, String
	case 'n':
		a.Last = Null
	default:
		a.Last = Other
	}
}

// Value returns the attribute's value as a struct decodes it: Body when it is its own value, else
// Body decoded into *buf; nil when no member held a string.
func (a *Str) Value(buf *[]byte) []byte {
	if !a.Seen {
		return nil
	}
	return jsonbytes.Value(a.Body, a.Flags, buf)
}

// MapValue returns the attribute's value as a map decodes it: the last member's string, nil when
// the last member held none.
func (a *Str) MapValue(buf *[]byte) []byte {
	if a.Last != String {
		return nil
	}
	return jsonbytes.Value(a.Body, a.Flags, buf)
}

// View is a CloudEvent read from its JSON text without decoding it: every attribute a stage reads
// is a slice of the text, as written, with what a decoder would make of it (see [Str]). Whichever
// scanner walks the event's object feeds it with [View.Member]; [ParseView] is the plain one. It
// is the one view of an event that the stages share: ingest's validators, enrich and transform
// read events through it, and [CheckEnvelope] judges it.
type View struct {
	SpecVersion, ID, Source, Type, Time, Subject, DataSchema, DataContentType Str
	SentAt                                                                    Str // the sentat extension: the client's clock when it sent the event
	DataBase64                                                                Str // data_base64, the CloudEvents JSON format's binary data

	Data  []byte          // the text of the last data member's value; nil when there is none
	Flags jsonbytes.Flags // the union of the flags of every value the view was fed

	when                 time.Time // the time CheckEnvelope parsed
	hasTime, timeChecked bool
}

// Attr returns the string attribute that a member name (decoded) names, or nil.
func (v *View) Attr(key []byte) *Str {
	switch string(key) {
	case "specversion":
		return &v.SpecVersion
	case "id":
		return &v.ID
	case "source":
		return &v.Source
	case "type":
		return &v.Type
	case "time":
		return &v.Time
	case "subject":
		return &v.Subject
	case "dataschema":
		return &v.DataSchema
	case "datacontenttype":
		return &v.DataContentType
	case "sentat":
		return &v.SentAt
	case "data_base64":
		return &v.DataBase64
	}
	return nil
}

// Member records one member of the event's object: key is its name, decoded; val the text of its
// value (a string with its quotes); f the flags of the strings in val. A caller that scans only
// what it needs may pass no flags for a member whose [View.Attr] is nil.
func (v *View) Member(key, val []byte, f jsonbytes.Flags) {
	v.Flags |= f
	if string(key) == "data" {
		v.Data = val
		return
	}
	if a := v.Attr(key); a != nil {
		a.Set(val, f)
	}
}

// ParseView reads the event object whose '{' is b[i] into v, checking its syntax as
// encoding/json does, and returns the index after it. depth is the number of containers that
// enclose the object. Member names with escapes are decoded into *keys, whose storage it reuses.
func ParseView(b []byte, i, depth int, v *View, keys *[]byte) (int, error) {
	obj := jsonbytes.NewObject(b, i, depth)
	for {
		key, kf, val, more, err := obj.Next()
		if err != nil || !more {
			return obj.End(), err
		}
		end, f, err := obj.Skip()
		if err != nil {
			return 0, err
		}
		v.Member(memberName(key, kf, keys), b[val:end], f)
	}
}

// memberName returns a member name's value: its body, or the body decoded into *keys.
func memberName(key []byte, kf jsonbytes.Flags, keys *[]byte) []byte {
	if kf&jsonbytes.Escaped == 0 {
		return key
	}
	*keys = jsonbytes.AppendUnescaped((*keys)[:0], key)
	return *keys
}

// EventTime returns the event's time as [CheckEnvelope] parsed it; ok is false when the event has
// no time or its time is not a timestamp.
func (v *View) EventTime() (t time.Time, ok bool) {
	if !v.timeChecked {
		CheckEnvelope(v)
	}
	return v.when, v.hasTime
}
