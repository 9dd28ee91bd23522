package plan

import (
	"os"
	"path/filepath"
	"testing"
)

// workload returns the shared workload folder, or skips when this checkout has none beside it.
func workload(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "workload")
	if _, err := os.Stat(filepath.Join(dir, "out", "events.ndjson")); err != nil {
		t.Skipf("the shared workload is not beside the repository (%v)", err)
	}
	return dir
}

func TestMeasureSample(t *testing.T) {
	dir := workload(t)
	tests := []struct {
		name         string
		file         string
		wantEvents   int
		wantAccepted int
	}{
		{"NDJSON", "events.ndjson", 20000, 19626},
		{"API request", "apigw-batch-500.json", 500, 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := MeasureSample(t.Context(), filepath.Join(dir, "out", tc.file), SampleOptions{
				Schemas: filepath.Join(dir, "schemas"), PartitionKeys: [][]string{{"subject", "source"}, {"id"}}})
			if err != nil {
				t.Fatal(err)
			}
			if s.Events != tc.wantEvents || s.Accepted != tc.wantAccepted {
				t.Errorf("got %d events, %d accepted; want %d, %d", s.Events, s.Accepted, tc.wantEvents, tc.wantAccepted)
			}
			if s.Accepted+s.Rejected != s.Events {
				t.Errorf("got %d accepted + %d rejected, want %d", s.Accepted, s.Rejected, s.Events)
			}
			if len(s.PartitionKeys["subject,source"]) != s.Accepted || len(s.PartitionKeys["id"]) != s.Accepted {
				t.Errorf("got %d and %d partition keys, want %d each", len(s.PartitionKeys["subject,source"]), len(s.PartitionKeys["id"]), s.Accepted)
			}
			if !(s.EventBytes < s.KinesisRecordBytes && s.KinesisRecordBytes < s.EnrichedBytes) {
				t.Errorf("got event %.0f, Kinesis record %.0f, enriched %.0f bytes: want each stage larger", s.EventBytes, s.KinesisRecordBytes, s.EnrichedBytes)
			}
			if s.LakeRowBytes == 0 || s.GzipRatio <= 0 || s.GzipRatio >= 1 {
				t.Errorf("got lake rows of %.0f bytes compressing to %.2f", s.LakeRowBytes, s.GzipRatio)
			}
			if s.TypeVersions != 4 {
				t.Errorf("got %d type-version partitions, want 4 (the workload's four v1 types)", s.TypeVersions)
			}
			t.Logf("%+v", *s)
		})
	}
}
