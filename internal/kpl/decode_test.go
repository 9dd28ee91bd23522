package kpl

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// The fixtures below are protobuf bytes written by hand from the format document, field number
// and wire type by field number and wire type, and not by [Aggregate]. A tag byte is
// field<<3 | wire type: wire type 0 is a varint, 1 fixed64, 2 length-delimited, 3 and 4 start and
// end a group, 5 fixed32.
//
//	AggregatedRecord: 0x0A partition_key_table (1, len)   0x12 explicit_hash_key_table (2, len)
//	                  0x1A records (3, len)
//	Record:           0x08 partition_key_index (1, varint) 0x10 explicit_hash_key_index (2, varint)
//	                  0x1A data (3, len)                   0x22 tags (4, len)

// oneRecord is the whole of an aggregate of one user record, MD5 included (computed apart, with
// Python's hashlib, over bytes 4 to 22).
var oneRecord = []byte{
	0xF3, 0x89, 0x9A, 0xC2, // magic
	0x0A, 0x04, 'p', 'k', '-', '1', // partition_key_table[0] = "pk-1"
	0x1A, 0x0B, // records[0], 11 bytes:
	0x08, 0x00, //   partition_key_index = 0
	0x1A, 0x07, '{', '"', 'a', '"', ':', '1', '}', //   data = {"a":1}
	0x93, 0x71, 0xAA, 0x8D, 0x52, 0xDC, 0x6F, 0x91, 0x09, 0xCA, 0x77, 0x0A, 0x5A, 0x89, 0xC9, 0x97, // MD5
}

// maxHashKey is 2^128-1, the largest explicit hash key, 39 digits.
const maxHashKey = "340282366920938463463374607431768211455"

// withHashKeys is the message of three user records, two with explicit hash keys, one without;
// tables in order of first use, as [Aggregate] writes them.
var withHashKeys = cat(
	[]byte{0x0A, 0x01, 'a'},        // partition_key_table[0] = "a"
	[]byte{0x0A, 0x01, 'b'},        // partition_key_table[1] = "b"
	[]byte{0x12, 0x27}, maxHashKey, // explicit_hash_key_table[0], 39 bytes
	[]byte{0x12, 0x01, '0'}, // explicit_hash_key_table[1] = "0"
	[]byte{0x1A, 0x07, 0x08, 0x00, 0x10, 0x00, 0x1A, 0x01, 'x'}, // records[0]: pk 0, ehk 0, data "x"
	[]byte{0x1A, 0x05, 0x08, 0x01, 0x1A, 0x01, 'y'},             // records[1]: pk 1, no ehk, data "y"
	[]byte{0x1A, 0x07, 0x08, 0x00, 0x10, 0x01, 0x1A, 0x01, 'z'}, // records[2]: pk 0, ehk 1, data "z"
)

// cat joins byte slices and strings.
func cat(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch p := p.(type) {
		case []byte:
			b = append(b, p...)
		case string:
			b = append(b, p...)
		default:
			panic(fmt.Sprintf("cat: %T", p))
		}
	}
	return b
}

// frame returns the aggregate of message msg: the magic bytes, msg, and msg's MD5.
func frame(msg ...any) []byte {
	m := cat(msg...)
	sum := md5.Sum(m)
	return cat([]byte{0xF3, 0x89, 0x9A, 0xC2}, m, sum[:])
}

// field returns a length-delimited field with a one-byte tag, its length written as a varint.
func field(tag byte, v ...any) []byte {
	b := cat(v...)
	return cat([]byte{tag}, binary.AppendUvarint(nil, uint64(len(b))), b)
}

// manyRecords returns the message of n user records, each with its own partition key, written
// by hand: the tables first, then the records, whose indices take two varint bytes from 128 on.
func manyRecords(n int) ([]byte, []Record) {
	var msg []byte
	want := make([]Record, n)
	for i := range n {
		pk := fmt.Sprintf("pk-%d", i)
		msg = append(msg, field(0x0A, pk)...)
		want[i].PartitionKey = []byte(pk)
	}
	for i := range n {
		data := fmt.Sprintf(`{"specversion":"1.0","id":"%d","source":"/kpl","type":"com.example.test"}`, i)
		rec := cat([]byte{0x08}, binary.AppendUvarint(nil, uint64(i)), field(0x1A, data))
		msg = append(msg, field(0x1A, rec)...)
		want[i].Data, want[i].SubSequence = []byte(data), i
	}
	return msg, want
}

func rec(i int, pk, ehk, data string) Record {
	r := Record{Data: []byte(data), PartitionKey: []byte(pk), SubSequence: i}
	if ehk != "-" {
		r.ExplicitHashKey = []byte(ehk)
	}
	return r
}

func TestDecode(t *testing.T) {
	many, manyWant := manyRecords(500)
	tests := []struct {
		name string
		data []byte
		want []Record
	}{
		{"one user record, literal bytes", oneRecord, []Record{rec(0, "pk-1", "-", `{"a":1}`)}},
		{"one user record, framed", frame(oneRecord[4 : len(oneRecord)-16]), []Record{rec(0, "pk-1", "-", `{"a":1}`)}},
		{"explicit hash keys", frame(withHashKeys), []Record{rec(0, "a", maxHashKey, "x"), rec(1, "b", "-", "y"), rec(2, "a", "0", "z")}},
		{"500 user records", frame(many), manyWant},
		{"records before tables, tables split", frame(
			field(0x1A, []byte{0x08, 0x01, 0x10, 0x00, 0x1A, 0x01, 'x'}),
			field(0x0A, "a"), field(0x12, "7"),
			field(0x1A, []byte{0x08, 0x00, 0x1A, 0x01, 'y'}),
			field(0x0A, "b"),
		), []Record{rec(0, "b", "7", "x"), rec(1, "a", "-", "y")}},
		{"keys shared and repeated in the tables", frame(
			field(0x0A, "k"), field(0x0A, "k"),
			field(0x1A, []byte{0x08, 0x01, 0x1A, 0x01, '1'}),
			field(0x1A, []byte{0x08, 0x01, 0x1A, 0x01, '2'}),
			field(0x1A, []byte{0x08, 0x00, 0x1A, 0x01, '3'}),
		), []Record{rec(0, "k", "-", "1"), rec(1, "k", "-", "2"), rec(2, "k", "-", "3")}},
		{"unknown fields of every wire type are skipped", frame(
			[]byte{0x28, 0x96, 0x01},                   // field 5, varint 150
			[]byte{0x31, 1, 2, 3, 4, 5, 6, 7, 8},       // field 6, fixed64
			[]byte{0x3D, 1, 2, 3, 4},                   // field 7, fixed32
			[]byte{0x43, 0x08, 0x01, 0x4B, 0x4C, 0x44}, // field 8, a group holding a varint and an empty group 9
			field(0x7A, "hi"),                          // field 15, length-delimited
			[]byte{0xC0, 0x3E, 0x01},                   // field 1000, varint
			field(0x0A, "a"),
			field(0x1A, []byte{0x48, 0x07, 0x08, 0x00, 0x55, 1, 2, 3, 4, 0x1A, 0x01, 'x', 0x7A, 0x00}), // Record fields 9, 10, 15 unknown
		), []Record{rec(0, "a", "-", "x")}},
		{"tags are skipped", frame(
			field(0x0A, "a"),
			field(0x1A, []byte{0x08, 0x00, 0x1A, 0x01, 'x'}, field(0x22, []byte{0x0A, 0x01, 'k', 0x12, 0x01, 'v'}), field(0x22, []byte{0x0A, 0x01, 'j'})),
		), []Record{rec(0, "a", "-", "x")}},
		{"known fields with another wire type are unknown fields", frame(
			[]byte{0x08, 0x05}, // partition_key_table as a varint
			field(0x0A, "a"),
			[]byte{0x18, 0x01}, // records as a varint
			field(0x1A, []byte{0x08, 0x00}, field(0x12, "9"), []byte{0x18, 0x02}, field(0x1A, "x")), // ehk index as bytes, data as a varint
		), []Record{rec(0, "a", "-", "x")}},
		{"a scalar given twice keeps its last value", frame(
			field(0x0A, "a"), field(0x0A, "b"), field(0x12, "1"), field(0x12, "2"),
			field(0x1A, []byte{0x08, 0x01, 0x10, 0x00, 0x1A, 0x01, 'x', 0x08, 0x00, 0x10, 0x01, 0x1A, 0x01, 'y'}),
		), []Record{rec(0, "a", "2", "y")}},
		{"empty data, key and hash key", frame(
			field(0x0A), field(0x12),
			field(0x1A, []byte{0x08, 0x00, 0x10, 0x00, 0x1A, 0x00}),
		), []Record{{Data: []byte{}, PartitionKey: []byte{}, ExplicitHashKey: []byte{}}}},
		{"a varint index in non-minimal form", frame(
			field(0x0A, "a"),
			field(0x1A, []byte{0x08, 0x80, 0x80, 0x00, 0x1A, 0x01, 'x'}),
		), []Record{rec(0, "a", "-", "x")}},
	}
	var d Decoder
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.Decode(tt.data)
			if err != nil {
				t.Fatalf("got error %v, want %d records", err, len(tt.want))
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d records, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if !equalRecord(got[i], tt.want[i]) {
					t.Errorf("record %d: got %s, want %s", i, show(got[i]), show(tt.want[i]))
				}
			}
		})
	}
}

// equalRecord compares records, telling a nil explicit hash key (none) from an empty one.
func equalRecord(a, b Record) bool {
	return bytes.Equal(a.Data, b.Data) && bytes.Equal(a.PartitionKey, b.PartitionKey) &&
		(a.ExplicitHashKey == nil) == (b.ExplicitHashKey == nil) && bytes.Equal(a.ExplicitHashKey, b.ExplicitHashKey) &&
		a.SubSequence == b.SubSequence
}

func show(r Record) string {
	ehk := "none"
	if r.ExplicitHashKey != nil {
		ehk = fmt.Sprintf("%q", r.ExplicitHashKey)
	}
	return fmt.Sprintf("{sub %d, pk %q, ehk %s, data %q}", r.SubSequence, r.PartitionKey, ehk, r.Data)
}

// secret is in the keys and data of the error fixtures: no error message may repeat it.
const secret = "SECRET"

func TestDecodeErrors(t *testing.T) {
	many, _ := manyRecords(500)
	manyAgg := frame(many)
	flipped := bytes.Clone(oneRecord)
	flipped[len(flipped)-1] ^= 1
	alteredData := bytes.Clone(oneRecord)
	alteredData[21] = '2' // {"a":2}: the message parses, the MD5 is the old one
	secretKey := field(0x0A, secret)
	tests := []struct {
		name       string
		data       []byte
		want       error
		wantRecord int
		wantOffset int // -2: any
	}{
		{"JSON", []byte(`{"specversion":"1.0"}`), ErrNotAggregated, -1, 0},
		{"empty", nil, ErrNotAggregated, -1, 0},
		{"three bytes of the magic", []byte{0xF3, 0x89, 0x9A}, ErrNotAggregated, -1, 0},
		{"other magic", cat([]byte{0xF3, 0x89, 0x9A, 0xC3}, oneRecord[4:]), ErrNotAggregated, -1, 0},
		{"magic alone", []byte(Magic), ErrTruncated, -1, -1},
		{"shorter than the trailer", cat(Magic, make([]byte, 15)), ErrTruncated, -1, -1},
		{"truncated one record", oneRecord[:len(oneRecord)-5], ErrTruncated, -1, 10},
		{"truncated 500 records", manyAgg[:len(manyAgg)/2], ErrTruncated, -1, -2},
		{"truncated inside a record, MD5 right", frame(secretKey, field(0x1A, []byte{0x08, 0x00, 0x1A, 0x0A, 'S', 'E', 'C'})), ErrTruncated, 0, 16},
		{"MD5 trailer altered", flipped, ErrChecksum, -1, len(flipped) - 16},
		{"data altered", alteredData, ErrChecksum, -1, len(alteredData) - 16},
		{"no user records", frame(secretKey, field(0x12, "1")), ErrEmpty, -1, -1},
		{"empty message", frame(), ErrEmpty, -1, -1},
		{"records only as unknown fields", frame(secretKey, []byte{0x18, 0x00}), ErrEmpty, -1, -1},
		{"partition key index past the table", frame(secretKey, field(0x1A, []byte{0x08, 0x00, 0x1A, 0x01, 'x'}), field(0x1A, []byte{0x08, 0x01, 0x1A, 0x01, 'y'})), ErrIndex, 1, 21},
		{"partition key index 2^64-1", frame(secretKey, field(0x1A, []byte{0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x1A, 0x01, 'x'})), ErrIndex, 0, 14},
		{"explicit hash key index with no table", frame(secretKey, field(0x1A, []byte{0x08, 0x00, 0x10, 0x00, 0x1A, 0x01, 'x'})), ErrIndex, 0, 14},
		{"explicit hash key index past the table", frame(secretKey, field(0x12, secret), field(0x1A, []byte{0x08, 0x00, 0x10, 0x01, 0x1A, 0x01, 'x'})), ErrIndex, 0, 22},
		{"no partition key index", frame(secretKey, field(0x1A, []byte{0x10, 0x00, 0x1A, 0x01, 'x'})), ErrMalformed, 0, 14},
		{"no data", frame(secretKey, field(0x1A, []byte{0x08, 0x00})), ErrMalformed, 0, 14},
		{"second record has no data", frame(secretKey, field(0x1A, []byte{0x08, 0x00, 0x1A, 0x01, 'x'}), field(0x1A, []byte{0x08, 0x00})), ErrMalformed, 1, 21},
		{"reserved wire type 6", frame(secretKey, []byte{0x0E, 0x00}), ErrMalformed, -1, 12},
		{"field number 0", frame([]byte{0x02, 0x00}, secretKey), ErrMalformed, -1, 4},
		{"field number 2^29", frame(secretKey, []byte{0x80, 0x80, 0x80, 0x80, 0x10, 0x00}), ErrMalformed, -1, 12},
		{"stray end group", frame(secretKey, []byte{0x0C}), ErrMalformed, -1, 12},
		{"group ended by another field's marker", frame(secretKey, []byte{0x43, 0x4C}), ErrMalformed, -1, 12},
		{"varint of 11 bytes", frame(secretKey, []byte{0x28, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}), ErrMalformed, -1, 12},
		{"stray end group in a record", frame(secretKey, field(0x1A, []byte{0x08, 0x00, 0x1A, 0x01, 'x', 0x24})), ErrMalformed, 0, 19},
	}
	var d Decoder
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.Decode(tt.data)
			if err == nil {
				t.Fatalf("got %d records and no error, want %v", len(got), tt.want)
			}
			if got != nil {
				t.Errorf("got %d records with the error, want none", len(got))
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("got error %v, want %v", err, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got error of type %T, want *Error", err)
			}
			if e.Record != tt.wantRecord {
				t.Errorf("got record %d, want %d (%v)", e.Record, tt.wantRecord, err)
			}
			if tt.wantOffset != -2 && e.Offset != tt.wantOffset {
				t.Errorf("got offset %d, want %d (%v)", e.Offset, tt.wantOffset, err)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "SEC") {
				t.Errorf("error %q repeats a key or data", err)
			}
		})
	}
}

// TestDecoderReuse decodes aggregates one after another with one Decoder: each answer is the
// aggregate's own, and an error leaves the next decode unharmed.
func TestDecoderReuse(t *testing.T) {
	many, manyWant := manyRecords(500)
	var d Decoder
	for i, step := range []struct {
		data []byte
		want []Record
	}{
		{frame(many), manyWant},
		{oneRecord, []Record{rec(0, "pk-1", "-", `{"a":1}`)}},
		{oneRecord[:30], nil},
		{frame(withHashKeys), []Record{rec(0, "a", maxHashKey, "x"), rec(1, "b", "-", "y"), rec(2, "a", "0", "z")}},
	} {
		got, err := d.Decode(step.data)
		if step.want == nil {
			if err == nil {
				t.Fatalf("step %d: got no error, want one", i)
			}
			continue
		}
		if err != nil {
			t.Fatalf("step %d: got error %v", i, err)
		}
		if len(got) != len(step.want) {
			t.Fatalf("step %d: got %d records, want %d", i, len(got), len(step.want))
		}
		for j := range got {
			if !equalRecord(got[j], step.want[j]) {
				t.Fatalf("step %d, record %d: got %s, want %s", i, j, show(got[j]), show(step.want[j]))
			}
		}
	}
}

// TestDecodeAllocs holds the decoder to its promise: once its buffers have grown, decoding a
// 500-record aggregate allocates nothing.
func TestDecodeAllocs(t *testing.T) {
	many, _ := manyRecords(500)
	agg := frame(many)
	var d Decoder
	if _, err := d.Decode(agg); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(20, func() { _, _ = d.Decode(agg) }); n != 0 {
		t.Errorf("got %v allocations per decode, want 0", n)
	}
}

func TestIsAggregated(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want bool
	}{
		{"aggregate", oneRecord, true},
		{"magic alone", []byte(Magic), true},
		{"JSON object", []byte(`{"id":"1"}`), false},
		{"JSON with leading space", []byte(" {}"), false},
		{"empty", nil, false},
		{"three bytes of the magic", []byte(Magic[:3]), false},
		{"magic not at the start", cat(" ", oneRecord), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsAggregated(tt.data); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	var d Decoder
	_, err := d.Decode(frame(field(0x0A, "a"), field(0x1A, []byte{0x08, 0x03, 0x1A, 0x01, 'x'})))
	want := "KPL aggregate: key index out of range: user record 0: partition_key_index 3, table of 1 (at byte 9)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	if reflect.TypeOf(err) != reflect.TypeOf(&Error{}) {
		t.Errorf("got %T, want *Error", err)
	}
}
