package kpl

import (
	"bytes"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// Magic is the four bytes that begin every aggregated record.
const Magic = "\xf3\x89\x9a\xc2"

// digestSize is the length of the MD5 trailer.
const digestSize = md5.Size

// Field numbers of the format's messages.
const (
	fieldPartitionKeyTable    protowire.Number = 1 // AggregatedRecord.partition_key_table
	fieldExplicitHashKeyTable protowire.Number = 2 // AggregatedRecord.explicit_hash_key_table
	fieldRecords              protowire.Number = 3 // AggregatedRecord.records
	fieldPartitionKeyIndex    protowire.Number = 1 // Record.partition_key_index
	fieldExplicitHashKeyIndex protowire.Number = 2 // Record.explicit_hash_key_index
	fieldData                 protowire.Number = 3 // Record.data
)

// Record is one user record of an aggregate.
//
// A Record returned by [Decoder.Decode] aliases the aggregate's bytes: its slices stay valid as
// long as those bytes are not changed, and must not be changed themselves.
type Record struct {
	// Data is the user record's data.
	Data []byte
	// PartitionKey is the user record's partition key, from the aggregate's partition key table.
	PartitionKey []byte
	// ExplicitHashKey is the user record's explicit hash key (a decimal 128-bit integer, as
	// written), from the aggregate's explicit hash key table; nil when the user record names none.
	ExplicitHashKey []byte
	// SubSequence is the user record's index in the aggregate, from 0: its sub-sequence number.
	// [Aggregate] ignores it.
	SubSequence int
}

// Sentinel errors: the kinds of [*Error], for errors.Is.
var (
	// ErrNotAggregated reports data that does not begin with [Magic].
	ErrNotAggregated = errors.New("not an aggregated record")
	// ErrTruncated reports an aggregate cut short: too short for the magic bytes and the MD5
	// trailer, or a protobuf field that runs past the end of its message.
	ErrTruncated = errors.New("truncated")
	// ErrChecksum reports an MD5 trailer that is not the MD5 of the protobuf message.
	ErrChecksum = errors.New("MD5 does not match")
	// ErrMalformed reports a protobuf message that breaks the wire format or the format document:
	// an invalid tag or varint, a stray end-group marker, a user record without its required
	// partition_key_index or data.
	ErrMalformed = errors.New("malformed")
	// ErrIndex reports a user record whose key index falls outside its table.
	ErrIndex = errors.New("key index out of range")
	// ErrEmpty reports an aggregate with no user record.
	ErrEmpty = errors.New("no user records")
)

// Error is why an aggregate cannot be de-aggregated. It holds no key or data, so it can be logged.
type Error struct {
	// Err is the kind of error: [ErrNotAggregated], [ErrTruncated], [ErrChecksum], [ErrMalformed],
	// [ErrIndex] or [ErrEmpty].
	Err error
	// Offset is where in the aggregate's bytes (magic included) the fault was found, or -1 when
	// it concerns the aggregate as a whole.
	Offset int
	// Record is the sub-sequence number of the user record at fault, or -1 when there is none.
	Record int
	// Detail says more, in the format's terms.
	Detail string
}

// Error implements error.
func (e *Error) Error() string {
	s := "KPL aggregate: " + e.Err.Error()
	if e.Record >= 0 {
		s += fmt.Sprintf(": user record %d", e.Record)
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Offset >= 0 {
		s += fmt.Sprintf(" (at byte %d)", e.Offset)
	}
	return s
}

// Unwrap returns the kind of error, so that errors.Is(err, [ErrChecksum]) and the like work.
func (e *Error) Unwrap() error { return e.Err }

// IsAggregated reports whether data begins with [Magic], that is whether it is meant as an
// aggregate. It says nothing of whether the aggregate is whole and valid: [Decoder.Decode] does.
func IsAggregated(data []byte) bool {
	return len(data) >= len(Magic) && string(data[:len(Magic)]) == Magic
}

// Decoder de-aggregates aggregated records. Its zero value is ready to use. It keeps its buffers
// from one aggregate to the next, so that decoding allocates nothing once they have grown; it is
// not safe for concurrent use.
type Decoder struct {
	pks, ehks [][]byte
	refs      []keyRef
	recs      []Record
}

// keyRef is a user record's indices into the key tables, kept until the tables are complete.
type keyRef struct {
	pk, ehk uint64
	hasEHK  bool
	at      int // the user record's offset in the aggregate, for errors
}

// Decode checks the aggregate in data and returns its user records in order, each with its
// sub-sequence number. It returns an [*Error] and no record when data is not a whole, valid
// aggregate: a stream consumer either takes every user record or sets the aggregate aside.
//
// The records and their slices alias data and the Decoder's buffers: they are valid until the
// next call of Decode.
func (d *Decoder) Decode(data []byte) ([]Record, error) {
	if !IsAggregated(data) {
		return nil, &Error{Err: ErrNotAggregated, Offset: 0, Record: -1}
	}
	if len(data) < len(Magic)+digestSize {
		return nil, &Error{Err: ErrTruncated, Offset: -1, Record: -1,
			Detail: fmt.Sprintf("%d bytes, shorter than the magic bytes and the MD5 trailer", len(data))}
	}
	msg := data[len(Magic) : len(data)-digestSize]
	sum := md5.Sum(msg)
	if !bytes.Equal(sum[:], data[len(data)-digestSize:]) {
		// A message cut inside a field is the likelier story: its last bytes were taken for the
		// trailer. Otherwise the trailer or the message was altered.
		if err := d.scan(msg); err != nil && errors.Is(err, ErrTruncated) {
			err.Detail += "; the last 16 bytes are not the MD5 of the rest"
			return nil, err
		}
		return nil, &Error{Err: ErrChecksum, Offset: len(data) - digestSize, Record: -1}
	}
	if err := d.scan(msg); err != nil {
		return nil, err
	}
	if len(d.recs) == 0 {
		return nil, &Error{Err: ErrEmpty, Offset: -1, Record: -1}
	}
	for i, r := range d.refs {
		if r.pk >= uint64(len(d.pks)) {
			return nil, &Error{Err: ErrIndex, Offset: r.at, Record: i,
				Detail: fmt.Sprintf("partition_key_index %d, table of %d", r.pk, len(d.pks))}
		}
		d.recs[i].PartitionKey = d.pks[r.pk]
		if !r.hasEHK {
			continue
		}
		if r.ehk >= uint64(len(d.ehks)) {
			return nil, &Error{Err: ErrIndex, Offset: r.at, Record: i,
				Detail: fmt.Sprintf("explicit_hash_key_index %d, table of %d", r.ehk, len(d.ehks))}
		}
		d.recs[i].ExplicitHashKey = d.ehks[r.ehk]
	}
	return d.recs, nil
}

// scan reads the AggregatedRecord message msg into the Decoder's tables and records, leaving the
// records' keys to be resolved.
func (d *Decoder) scan(msg []byte) *Error {
	// Drop references to the previous aggregate's bytes.
	clear(d.pks)
	clear(d.ehks)
	clear(d.recs)
	d.pks, d.ehks, d.refs, d.recs = d.pks[:0], d.ehks[:0], d.refs[:0], d.recs[:0]
	for off := 0; off < len(msg); {
		at := len(Magic) + off
		num, typ, n := consumeTag(msg[off:])
		if n < 0 {
			return wireError(n, at, -1, "AggregatedRecord")
		}
		off += n
		if typ != protowire.BytesType || num > fieldRecords {
			if n = protowire.ConsumeFieldValue(num, typ, msg[off:]); n < 0 {
				return wireError(n, at, -1, fieldName(aggregatedRecordFields, num))
			}
			off += n
			continue
		}
		v, n := protowire.ConsumeBytes(msg[off:])
		if n < 0 {
			return wireError(n, at, -1, fieldName(aggregatedRecordFields, num))
		}
		vat := len(Magic) + off + n - len(v)
		off += n
		switch num {
		case fieldPartitionKeyTable:
			d.pks = append(d.pks, v)
		case fieldExplicitHashKeyTable:
			d.ehks = append(d.ehks, v)
		case fieldRecords:
			if err := d.record(v, vat); err != nil {
				return err
			}
		}
	}
	return nil
}

// record reads one Record message b, found at offset at of the aggregate.
func (d *Decoder) record(b []byte, at int) *Error {
	i := len(d.recs)
	ref := keyRef{at: at}
	var data []byte
	hasPK, hasData := false, false
	for off := 0; off < len(b); {
		fat := at + off
		num, typ, n := consumeTag(b[off:])
		if n < 0 {
			return wireError(n, fat, i, "Record")
		}
		off += n
		switch {
		case (num == fieldPartitionKeyIndex || num == fieldExplicitHashKeyIndex) && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b[off:])
			if n < 0 {
				return wireError(n, fat, i, fieldName(recordFields, num))
			}
			off += n
			if num == fieldPartitionKeyIndex {
				ref.pk, hasPK = v, true
			} else {
				ref.ehk, ref.hasEHK = v, true
			}
		case num == fieldData && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b[off:])
			if n < 0 {
				return wireError(n, fat, i, fieldName(recordFields, num))
			}
			off += n
			data, hasData = v, true
		default: // tags, unknown fields, and known ones of another wire type
			if n = protowire.ConsumeFieldValue(num, typ, b[off:]); n < 0 {
				return wireError(n, fat, i, fieldName(recordFields, num))
			}
			off += n
		}
	}
	switch {
	case !hasPK:
		return &Error{Err: ErrMalformed, Offset: at, Record: i, Detail: "no partition_key_index (a required field)"}
	case !hasData:
		return &Error{Err: ErrMalformed, Offset: at, Record: i, Detail: "no data (a required field)"}
	}
	d.refs = append(d.refs, ref)
	d.recs = append(d.recs, Record{Data: data, SubSequence: i})
	return nil
}

// Field names of the messages, for errors, by field number.
var (
	aggregatedRecordFields = []string{1: "AggregatedRecord.partition_key_table", 2: "AggregatedRecord.explicit_hash_key_table", 3: "AggregatedRecord.records"}
	recordFields           = []string{1: "Record.partition_key_index", 2: "Record.explicit_hash_key_index", 3: "Record.data", 4: "Record.tags"}
)

// fieldName names field num of a message whose field names are names.
func fieldName(names []string, num protowire.Number) string {
	if int(num) < len(names) && names[num] != "" {
		return names[num]
	}
	msg, _, _ := strings.Cut(names[1], ".")
	return fmt.Sprintf("%s field %d", msg, num)
}

// consumeTag is [protowire.ConsumeTag] that also refuses field numbers above the largest valid
// one, as protobuf's parsers do.
func consumeTag(b []byte) (protowire.Number, protowire.Type, int) {
	num, typ, n := protowire.ConsumeTag(b)
	if n >= 0 && !num.IsValid() {
		return 0, 0, codeFieldNumber
	}
	return num, typ, n
}

// codeFieldNumber is the error code of [consumeTag] for a field number above the largest valid
// one; protowire's own codes are small negative numbers.
const codeFieldNumber = -1 << 20

// wireError turns protowire's error code n, met at offset at while reading what, into an *Error.
func wireError(n, at, rec int, what string) *Error {
	err := protowire.ParseError(n)
	if n == codeFieldNumber {
		err = errors.New("invalid field number")
	}
	kind := ErrMalformed
	if errors.Is(err, io.ErrUnexpectedEOF) {
		kind = ErrTruncated
		err = errors.New("ends past the end of its message")
	}
	return &Error{Err: kind, Offset: at, Record: rec, Detail: what + ": " + err.Error()}
}
