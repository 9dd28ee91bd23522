package kpl

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// workloadRecords returns n user records whose data are the shared workload's Kinesis records
// (bare CloudEvents, about 580 bytes each), taken in turn, each with a partition key of its own.
func workloadRecords(b *testing.B, n int) []Record {
	b.Helper()
	path := filepath.Join("..", "..", "..", "shared", "workload", "out", "kinesis-100.json")
	src, err := os.ReadFile(path)
	if err != nil {
		b.Skipf("shared workload not found: %v", err)
	}
	var ev struct {
		Records []struct {
			Kinesis struct {
				Data []byte `json:"data"` // base64 in the JSON, decoded by encoding/json
			} `json:"kinesis"`
		} `json:"Records"`
	}
	if err := json.Unmarshal(src, &ev); err != nil {
		b.Fatal(err)
	}
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = Record{Data: ev.Records[i%len(ev.Records)].Kinesis.Data, PartitionKey: []byte(fmt.Sprintf("%08x-4c1f-4a7e-9d2b-%012x", i, i))}
	}
	return recs
}

// BenchmarkDecode500 de-aggregates one aggregate of 500 workload events, MD5 check included.
func BenchmarkDecode500(b *testing.B) {
	agg := Aggregate(workloadRecords(b, 500))
	var d Decoder
	b.SetBytes(int64(len(agg)))
	b.ReportAllocs()
	for b.Loop() {
		recs, err := d.Decode(agg)
		if err != nil || len(recs) != 500 {
			b.Fatalf("got %d records, error %v", len(recs), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/500, "ns/record")
}

// BenchmarkIsAggregated is the cost the check adds to every plain record.
func BenchmarkIsAggregated(b *testing.B) {
	data := []byte(`{"specversion":"1.0","id":"1","source":"/","type":"t"}`)
	b.ReportAllocs()
	for b.Loop() {
		if IsAggregated(data) {
			b.Fatal("plain record taken for an aggregate")
		}
	}
}
