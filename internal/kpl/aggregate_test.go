package kpl

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// TestAggregateMatchesHandEncoding holds the encoder to the bytes written by hand from the format
// document: fields in number order, tables in order of first use.
func TestAggregateMatchesHandEncoding(t *testing.T) {
	many, manyRecs := manyRecords(500)
	tests := []struct {
		name string
		recs []Record
		want []byte
	}{
		{"one user record", []Record{rec(0, "pk-1", "-", `{"a":1}`)}, oneRecord},
		{"explicit hash keys", []Record{rec(0, "a", maxHashKey, "x"), rec(1, "b", "-", "y"), rec(2, "a", "0", "z")}, frame(withHashKeys)},
		{"500 user records", manyRecs, frame(many)},
		{"no user records", nil, frame()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Aggregate(tt.recs); !bytes.Equal(got, tt.want) {
				t.Errorf("got\n% x\nwant\n% x", got, tt.want)
			}
		})
	}
}

func TestAggregateSharesKeys(t *testing.T) {
	recs := make([]Record, 100)
	for i := range recs {
		recs[i] = Record{Data: []byte(fmt.Sprint(i)), PartitionKey: []byte("same-key")}
		if i%2 == 0 {
			recs[i].ExplicitHashKey = []byte(maxHashKey)
		}
	}
	agg := Aggregate(recs)
	if n := bytes.Count(agg, []byte("same-key")); n != 1 {
		t.Errorf("got the partition key %d times, want once", n)
	}
	if n := bytes.Count(agg, []byte(maxHashKey)); n != 1 {
		t.Errorf("got the explicit hash key %d times, want once", n)
	}
	var d Decoder
	got, err := d.Decode(agg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		recs[i].SubSequence = i
		if !equalRecord(got[i], recs[i]) {
			t.Fatalf("record %d: got %s, want %s", i, show(got[i]), show(recs[i]))
		}
	}
}

func TestAggregateEmptyIsRefused(t *testing.T) {
	var d Decoder
	if _, err := d.Decode(Aggregate(nil)); !errors.Is(err, ErrEmpty) {
		t.Errorf("got %v, want %v", err, ErrEmpty)
	}
}
