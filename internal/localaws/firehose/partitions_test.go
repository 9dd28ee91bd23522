package firehose

import (
	"fmt"
	"strings"
	"testing"
)

// TestActivePartitionLimit checks Firehose's active-partition quota: records for partitions beyond
// the limit in one buffer go under the error prefix as partitioning-failed; none is lost.
func TestActivePartitionLimit(t *testing.T) {
	tests := []struct {
		name       string
		limit      int
		partitions int
		wantFailed int
	}{
		{"under the limit", 3, 3, 0},
		{"over the limit", 3, 5, 2},
		{"default 500", 0, 502, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink := &memSink{}
			d := &Delivery{Name: "f", Prefix: "!{partitionKeyFromQuery:kind}/", ErrorPrefix: "e/!{firehose:error-output-type}/",
				QueryKeys: []string{"kind"}, MaxActivePartitions: tc.limit, Sink: sink}
			var recs []string
			for i := range tc.partitions {
				recs = append(recs, fmt.Sprintf(`{"kind":"k%d"}`+"\n", i))
			}
			put(t, d, recs...)
			rep, err := d.Flush(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if rep.OtherFailed != tc.wantFailed || rep.Delivered != tc.partitions-tc.wantFailed {
				t.Errorf("got delivered %d, failed %d; want %d, %d", rep.Delivered, rep.OtherFailed, tc.partitions-tc.wantFailed, tc.wantFailed)
			}
			errs := sink.byPrefix("e/partitioning-failed/")
			if got := strings.Count(errs, "ActivePartitionsLimitExceeded"); got != tc.wantFailed {
				t.Errorf("got %d ActivePartitionsLimitExceeded error records, want %d", got, tc.wantFailed)
			}
		})
	}
}
