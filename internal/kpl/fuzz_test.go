package kpl

import (
	"bytes"
	"errors"
	"testing"
	"unsafe"
)

// checkDecode asserts the decoder's contract on data: no panic; either an *Error of a known kind,
// with an offset inside data and no record, or at least one record, numbered in order, whose
// slices lie inside data, and which [Aggregate] writes back into an aggregate that decodes to the
// same records.
func checkDecode(t *testing.T, data []byte) {
	var d Decoder
	recs, err := d.Decode(data)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("got error of type %T, want *Error", err)
		}
		known := false
		for _, k := range []error{ErrNotAggregated, ErrTruncated, ErrChecksum, ErrMalformed, ErrIndex, ErrEmpty} {
			known = known || e.Err == k
		}
		if !known {
			t.Fatalf("got error kind %v, want a sentinel", e.Err)
		}
		if e.Offset < -1 || e.Offset > len(data) || e.Record < -1 {
			t.Fatalf("got offset %d, record %d for %d bytes", e.Offset, e.Record, len(data))
		}
		if recs != nil {
			t.Fatalf("got %d records with error %v", len(recs), err)
		}
		if !IsAggregated(data) != errors.Is(err, ErrNotAggregated) {
			t.Fatalf("got %v for data that IsAggregated says is %v", err, IsAggregated(data))
		}
		return
	}
	if len(recs) == 0 {
		t.Fatal("got no records and no error")
	}
	for i, r := range recs {
		if r.SubSequence != i {
			t.Fatalf("record %d has sub-sequence number %d", i, r.SubSequence)
		}
		for _, s := range [][]byte{r.Data, r.PartitionKey, r.ExplicitHashKey} {
			if len(s) > 0 && !inside(s, data) {
				t.Fatalf("record %d holds bytes from outside the aggregate", i)
			}
		}
	}
	var d2 Decoder
	again, err := d2.Decode(Aggregate(recs))
	if err != nil {
		t.Fatalf("decode of the re-encoded aggregate: %v", err)
	}
	if len(again) != len(recs) {
		t.Fatalf("re-encoded: got %d records, want %d", len(again), len(recs))
	}
	for i := range recs {
		if !equalRecord(again[i], recs[i]) {
			t.Fatalf("re-encoded record %d: got %s, want %s", i, show(again[i]), show(recs[i]))
		}
	}
}

// inside reports whether the non-empty s lies within b.
func inside(s, b []byte) bool {
	if len(b) == 0 {
		return false
	}
	lo, hi := uintptr(unsafe.Pointer(&b[0])), uintptr(unsafe.Pointer(&b[len(b)-1]))
	first, last := uintptr(unsafe.Pointer(&s[0])), uintptr(unsafe.Pointer(&s[len(s)-1]))
	return lo <= first && last <= hi
}

func seeds() [][]byte {
	many, _ := manyRecords(20)
	return [][]byte{
		oneRecord[4 : len(oneRecord)-16],
		withHashKeys,
		many,
		cat(field(0x1A, []byte{0x08, 0x01, 0x10, 0x00, 0x1A, 0x01, 'x'}), field(0x0A, "a"), field(0x12, "7"), field(0x0A, "b")),
		cat([]byte{0x28, 0x96, 0x01, 0x43, 0x08, 0x01, 0x4B, 0x4C, 0x44}, field(0x0A, "a"), field(0x1A, []byte{0x08, 0x00, 0x1A, 0x01, 'x'}, field(0x22, []byte{0x0A, 0x01, 'k'}))),
		cat(field(0x0A, "a"), field(0x1A, []byte{0x08, 0x03, 0x1A, 0x01, 'x'})),
		{},
	}
}

// FuzzDecode decodes arbitrary bytes, the seeds being whole aggregates. Mutations mostly break
// the MD5, which still runs the parser through the truncation diagnosis.
func FuzzDecode(f *testing.F) {
	for _, s := range seeds() {
		f.Add(frame(s))
	}
	f.Add([]byte(`{"specversion":"1.0"}`))
	f.Add(oneRecord[:len(oneRecord)-5])
	f.Fuzz(func(t *testing.T, data []byte) { checkDecode(t, data) })
}

// FuzzDecodeMessage decodes an arbitrary protobuf message framed with its right MD5, so that every
// input reaches the parser and the key tables.
func FuzzDecodeMessage(f *testing.F) {
	for _, s := range seeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg []byte) { checkDecode(t, frame(msg)) })
}

// FuzzRoundTrip aggregates records made from the input and decodes them: decode(Aggregate(x)) is
// x. The input is split into records at 0xFF; a record's first byte says whether it has an
// explicit hash key and where its keys end.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("\x01pk-1{\"a\":1}"))
	f.Add([]byte("\x13a340282366920938463463374607431768211455x\xff\x02by\xff\x13a0z"))
	f.Add([]byte("\x00\xff\x00\xff\x11"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var want []Record
		for i, p := range bytes.Split(in, []byte{0xff}) {
			r := Record{SubSequence: i, Data: []byte{}, PartitionKey: []byte{}}
			if len(p) > 0 {
				flags := p[0]
				p = p[1:]
				pk := min(int(flags>>1&7), len(p))
				r.PartitionKey, p = p[:pk], p[pk:]
				if flags&1 == 1 {
					ehk := min(int(flags>>4), len(p))
					r.ExplicitHashKey, p = p[:ehk], p[ehk:]
				}
				r.Data = p
			}
			want = append(want, r)
		}
		var d Decoder
		got, err := d.Decode(Aggregate(want))
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if len(got) != len(want) {
			t.Fatalf("got %d records, want %d", len(got), len(want))
		}
		for i := range want {
			if !equalRecord(got[i], want[i]) {
				t.Fatalf("record %d: got %s, want %s", i, show(got[i]), show(want[i]))
			}
		}
	})
}
