package kpl_test

import (
	"errors"
	"fmt"

	"github.com/firelane/firelane/internal/kpl"
)

// A stream consumer asks [kpl.IsAggregated] of every record's data and de-aggregates the ones
// that are, taking every user record or none.
func ExampleDecoder_Decode() {
	agg := kpl.Aggregate([]kpl.Record{
		{PartitionKey: []byte("user-1"), Data: []byte(`{"id":"a"}`)},
		{PartitionKey: []byte("user-2"), ExplicitHashKey: []byte("0"), Data: []byte(`{"id":"b"}`)},
	})
	var d kpl.Decoder
	for _, data := range [][]byte{agg, agg[:len(agg)-3], []byte(`{"id":"c"}`)} {
		if !kpl.IsAggregated(data) {
			fmt.Printf("plain record: %s\n", data)
			continue
		}
		recs, err := d.Decode(data)
		if err != nil {
			fmt.Println("poison:", err, errors.Is(err, kpl.ErrTruncated))
			continue
		}
		for _, r := range recs {
			fmt.Printf("user record %d, key %s: %s\n", r.SubSequence, r.PartitionKey, r.Data)
		}
	}
	// Output:
	// user record 0, key user-1: {"id":"a"}
	// user record 1, key user-2: {"id":"b"}
	// poison: KPL aggregate: truncated: AggregatedRecord.records: ends past the end of its message; the last 16 bytes are not the MD5 of the rest (at byte 39) true
	// plain record: {"id":"c"}
}
