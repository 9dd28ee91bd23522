package fastschema

import (
	"testing"
)

// BenchmarkEvents measures the fast path alone on the shared workload: one pass per event over its
// text, envelope and data schema, valid and invalid events alike.
func BenchmarkEvents(b *testing.B) {
	events, _, lines := loadWorkload(b)
	size := 0
	for _, l := range lines {
		size += len(l)
	}
	b.SetBytes(int64(size) / int64(len(lines)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		events.Validate(lines[i%len(lines)], nil)
	}
}

// BenchmarkEventsValid measures valid events only; it must report 0 allocs/op.
func BenchmarkEventsValid(b *testing.B) {
	events, _, lines := loadWorkload(b)
	var valid [][]byte
	size := 0
	for _, l := range lines {
		if events.Validate(l, nil) == Valid {
			valid = append(valid, l)
			size += len(l)
		}
	}
	b.SetBytes(int64(size) / int64(len(valid)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		events.Validate(valid[i%len(valid)], nil)
	}
}

// BenchmarkV5 measures what the fast path replaces: encoding/json decoding plus jsonschema/v5.
func BenchmarkV5(b *testing.B) {
	_, w, lines := loadWorkload(b)
	size := 0
	for _, l := range lines {
		size += len(l)
	}
	b.SetBytes(int64(size) / int64(len(lines)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.valid(lines[i%len(lines)])
	}
}
