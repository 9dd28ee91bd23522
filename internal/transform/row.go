package transform

import (
	"bytes"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/jsonbytes"
	"github.com/firelane/firelane/internal/lake"
)

// Keys are the dynamic-partitioning keys of one lake row: see [lake.PartitionKeyNames].
type Keys struct {
	EventType    string    // the event type, made S3-key safe by [lake.SafeValue]
	EventVersion int       // the major version of the event's data schema
	Received     time.Time // when the pipeline received the event, in UTC
}

// Map returns the keys as Firehose's metadata.partitionKeys holds them.
func (k Keys) Map() map[string]string {
	return lake.PartitionKeys(k.EventType, k.EventVersion, k.Received)
}

// appendJSON appends the keys as the JSON object of metadata.partitionKeys. Every value is made of
// S3-safe characters, so none needs escaping.
func (k Keys) appendJSON(dst []byte) []byte {
	y, m, d := k.Received.Date()
	dst = append(dst, `{"event_type":"`...)
	dst = append(dst, k.EventType...)
	dst = append(dst, `","event_version":"`...)
	dst = strconv.AppendInt(dst, int64(k.EventVersion), 10)
	dst = append(dst, `","year":"`...)
	if y >= 0 && y <= 9999 {
		dst = appendDigits(dst, y, 4)
	} else {
		dst = strconv.AppendInt(dst, int64(y), 10)
	}
	dst = append(dst, `","month":"`...)
	dst = appendDigits(dst, int(m), 2)
	dst = append(dst, `","day":"`...)
	dst = appendDigits(dst, d, 2)
	dst = append(dst, `","hour":"`...)
	dst = appendDigits(dst, k.Received.Hour(), 2)
	return append(dst, `"}`...)
}

// jsonString is a string token: raw is its body between the quotes, exactly as it appears.
type jsonString struct {
	raw  []byte
	esc  bool // raw holds at least one escape sequence
	set  bool // the member was present with a string value
	null bool // the member was present with the value null
	// unchecked: raw was delimited but not validated as a JSON string body (see dataMember).
	unchecked bool
}

// scanString scans the string token whose opening quote is s[i]. It returns the index after the
// closing quote, the token, and whether the body holds non-ASCII bytes.
func scanString(s []byte, i int) (end int, str jsonString, high bool, err error) {
	end, f, err := jsonbytes.ScanString(s, i)
	if err != nil {
		return 0, str, false, err
	}
	return end, jsonString{raw: s[i+1 : end-1], esc: f&jsonbytes.Escaped != 0, set: true}, f&jsonbytes.NonASCII != 0, nil
}

// skipValue checks the JSON value at s[i], which depth containers enclose, and returns the index
// after it and whether a string in it holds non-ASCII bytes.
func skipValue(s []byte, i, depth int) (end int, high bool, err error) {
	end, f, err := jsonbytes.SkipValue(s, i, depth)
	return end, f&jsonbytes.NonASCII != 0, err
}

// member is one member of an object: its key token's body and its raw value.
type member struct {
	key []byte
	val []byte
}

// converter turns delivery-stream records into lake rows. It keeps its buffers between records so
// that a row costs no allocation; it is not safe for concurrent use.
type converter struct {
	rec     event.Record
	scratch []byte
	keyBuf  []byte
	members []member
	safe    map[string]string // raw event type -> safe partition value, a small cache
	// textColumns are the columns written as JSON strings of their text (Handler.TextColumns).
	textColumns []string

	eventHour, receivedHour hourCache
}

// conversionError is why a record is not an event. Its message never quotes the record.
type conversionError struct{ msg string }

func (e *conversionError) Error() string { return e.msg }

func failf(msg string) error { return &conversionError{msg} }

// Row columns that the enrichment and server context cannot override.
func reservedColumn(k []byte) bool {
	switch string(k) {
	case "event_id", "event_type", "event_version", "event_time", "received_at", "source", "subject", "data", "data_base64":
		return true
	}
	return false
}

// appendRow appends the lake row of one delivery-stream record to dst. arrival is Firehose's
// approximate arrival time of the record. typ is the event's type (valid until the next call).
func (c *converter) appendRow(dst, data []byte, arrival time.Time) (out []byte, keys Keys, typ []byte, err error) {
	r := &c.rec
	if err := r.Parse(data); err != nil {
		return dst, keys, nil, err
	}
	ce := r.Event
	received, haveReceived := time.Time{}, false
	c.members = c.members[:0]
	switch r.Kind {
	case event.InputIngest:
		received, haveReceived = c.collect(r.Context, received, haveReceived)
	case event.InputEnriched:
		received, haveReceived = c.collectEnrichment(r.Enrichment)
	}
	if errs := event.CheckEnvelope(ce); errs != nil {
		return dst, keys, nil, failf(errs.Error())
	}
	eventTime, hasTime := ce.EventTime()
	if !haveReceived {
		received = arrival
	}
	received = received.UTC()
	version := 1
	if ce.DataSchema.Seen {
		version = event.MajorVersion(c.attr(&ce.DataSchema))
	}
	if !hasTime {
		eventTime = received
	}

	start := len(dst)
	dst = append(dst, `{"event_id":"`...)
	dst = append(dst, ce.ID.Body...)
	dst = append(dst, `","event_type":"`...)
	dst = append(dst, ce.Type.Body...)
	dst = append(dst, `","event_version":`...)
	dst = strconv.AppendInt(dst, int64(version), 10)
	dst = append(dst, `,"event_time":"`...)
	dst = c.eventHour.appendTime(dst, eventTime)
	dst = append(dst, `","received_at":"`...)
	dst = c.receivedHour.appendTime(dst, received)
	dst = append(dst, `","source":"`...)
	dst = append(dst, ce.Source.Body...)
	dst = append(dst, '"')
	if ce.Subject.Seen {
		dst = append(dst, `,"subject":"`...)
		dst = append(dst, ce.Subject.Body...)
		dst = append(dst, '"')
	}
	if ce.DataBase64.Seen {
		dst = append(dst, `,"data_base64":"`...)
		dst = append(dst, ce.DataBase64.Body...)
		dst = append(dst, '"')
	}
	for _, m := range c.members {
		dst = append(dst, ',', '"')
		dst = append(dst, m.key...)
		dst = append(dst, '"', ':')
		dst = c.appendValue(dst, m.key, m.val)
	}
	dst = append(dst, `,"data":`...)
	if ce.Data != nil {
		dst = c.appendValue(dst, []byte("data"), ce.Data)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, '}', '\n')
	if r.Flags&jsonbytes.NonASCII != 0 && !utf8.Valid(dst[start:]) {
		// Invalid UTF-8 can only sit inside strings (the scanner allows no other non-ASCII byte), so
		// replacing each invalid byte with U+FFFD keeps the row valid JSON and readable by Athena,
		// and gives the strings that encoding/json would decode.
		fixed := jsonbytes.AppendValidUTF8(nil, dst[start:])
		dst = append(dst[:start], fixed...)
	}

	typ = c.attr(&ce.Type)
	keys = Keys{EventType: c.safeType(typ), EventVersion: version, Received: received}
	return dst, keys, typ, nil
}

// appendValue appends the raw JSON value of the column named key: as it is, or, for one of the
// text columns and a value other than null, as a JSON string holding its text byte for byte. A raw
// value holds control characters only as whitespace between tokens, and quotes and backslashes
// only inside its strings; escaping those three keeps the string valid.
func (c *converter) appendValue(dst, key, val []byte) []byte {
	if len(c.textColumns) == 0 || string(val) == "null" || !slices.Contains(c.textColumns, string(key)) {
		return append(dst, val...)
	}
	dst = append(dst, '"')
	for _, b := range val {
		switch {
		case b == '"' || b == '\\':
			dst = append(dst, '\\', b)
		case b == '\n':
			dst = append(dst, '\\', 'n')
		case b == '\r':
			dst = append(dst, '\\', 'r')
		case b == '\t':
			dst = append(dst, '\\', 't')
		case b < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
		default:
			dst = append(dst, b)
		}
	}
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

// text returns the value of a string token: its raw body when it holds no escapes, else the body
// unescaped into a scratch buffer that the next call reuses.
func (c *converter) text(s jsonString) []byte {
	if !s.esc {
		return s.raw
	}
	c.scratch = jsonbytes.AppendUnescaped(c.scratch[:0], s.raw)
	return c.scratch
}

// attr is text for an attribute of the event's view.
func (c *converter) attr(s *event.Str) []byte {
	return c.text(jsonString{raw: s.Body, esc: s.Flags&jsonbytes.Escaped != 0})
}

func (c *converter) safeType(typ []byte) string {
	if v, ok := c.safe[string(typ)]; ok {
		return v
	}
	v := string(lake.AppendSafeValue(nil, typ))
	if c.safe == nil {
		c.safe = make(map[string]string)
	}
	if len(c.safe) < 256 {
		c.safe[string(typ)] = v
	}
	return v
}

// stringMember scans a member that must be a string or null. Like encoding/json, null leaves the
// value as it was.
func stringMember(dst *jsonString, name string, s []byte, i int) (int, error) {
	switch s[i] {
	case '"':
		end, str, _, err := scanString(s, i)
		if err == nil {
			*dst = str
		}
		return end, err
	case 'n':
		end, err := jsonbytes.ScanLiteral(s, i, "null")
		dst.null = true
		return end, err
	}
	if _, _, err := skipValue(s, i, 0); err != nil {
		return 0, err
	}
	return 0, failf("attribute " + name + " is not a string")
}

// objectIter walks the members of an object with [jsonbytes.Object]. After next reports a member,
// i is the index of its value and depth its depth, and the caller sets i to the index after the
// value.
type objectIter struct {
	obj      jsonbytes.Object
	i, depth int
	started  bool
}

// newObjectIter starts the walk of the object at s[i], which depth containers enclose.
func newObjectIter(s []byte, i, depth int) objectIter {
	return objectIter{obj: jsonbytes.NewObject(s, i, depth), i: i}
}

// next moves to the next member and returns its name (unescaped into the converter's key buffer
// when esc), or more=false at the end of the object.
func (it *objectIter) next(c *converter) (key []byte, esc, more bool, err error) {
	if it.started {
		it.obj.SetEnd(it.i)
	}
	it.started = true
	key, kf, val, more, err := it.obj.Next()
	if !more || err != nil {
		it.i = it.obj.End()
		return nil, false, false, err
	}
	it.i, it.depth = val, it.obj.Depth()
	if esc = kf&jsonbytes.Escaped != 0; esc {
		c.keyBuf = jsonbytes.AppendUnescaped(c.keyBuf[:0], key)
		key = c.keyBuf
	}
	return key, esc, true, nil
}

// collectEnrichment gathers the columns of an enrichment object (validated already): every member
// but the reserved columns, then the members of its server context, flattened into the row. The
// receive time is the enrichment's received_at, else its context's.
func (c *converter) collectEnrichment(obj []byte) (received time.Time, ok bool) {
	var ctx []byte
	it := newObjectIter(obj, 0, 0)
	for {
		key, esc, more, err := it.next(c)
		if err != nil || !more {
			break
		}
		end, _, err := skipValue(obj, it.i, it.depth)
		if err != nil {
			break
		}
		switch string(key) {
		case "context":
			if obj[it.i] == '{' {
				ctx = obj[it.i:end]
			}
		case "received_at":
			if obj[it.i] == '"' {
				_, str, _, _ := scanString(obj, it.i)
				received, ok = event.ParseTime(c.text(str))
			}
		default:
			c.addMember(key, esc, obj[it.i:end])
		}
		it.i = end
	}
	if ctx != nil {
		return c.collect(ctx, received, ok)
	}
	return received, ok
}

// collect gathers the columns of a server-context object (validated already), and its received_at
// as the receive time unless ok says that one was found already.
func (c *converter) collect(obj []byte, received time.Time, ok bool) (time.Time, bool) {
	it := newObjectIter(obj, 0, 0)
	for {
		key, esc, more, err := it.next(c)
		if err != nil || !more {
			return received, ok
		}
		end, _, err := skipValue(obj, it.i, it.depth)
		if err != nil {
			return received, ok
		}
		if string(key) == "received_at" {
			if !ok && obj[it.i] == '"' {
				_, str, _, _ := scanString(obj, it.i)
				received, ok = event.ParseTime(c.text(str))
			}
		} else {
			c.addMember(key, esc, obj[it.i:end])
		}
		it.i = end
	}
}

// addMember adds a column unless its key names a reserved column or one added already. A key
// written with escapes is left out: firelane's stages never write one, and it could spell a
// reserved name.
func (c *converter) addMember(key []byte, esc bool, val []byte) {
	if esc || reservedColumn(key) {
		return
	}
	for _, m := range c.members {
		if bytes.Equal(m.key, key) {
			return
		}
	}
	c.members = append(c.members, member{key: key, val: val})
}

// Convert turns one delivery-stream record (an enriched record, an ingest record or a bare
// CloudEvent) into its lake row, a newline-terminated JSON object, and its partition keys. arrival
// is Firehose's approximate arrival time of the record: the receive time of an event whose record
// carries none. The error says why the record is not an event, without quoting it.
func Convert(data []byte, arrival time.Time) (row []byte, keys Keys, err error) {
	var c converter
	row, keys, _, err = c.appendRow(nil, data, arrival)
	return row, keys, err
}
