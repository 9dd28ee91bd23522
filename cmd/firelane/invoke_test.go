package main

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/firelane/firelane/internal/localaws/moto"
)

// TestInvokeSAMNames runs `firelane invoke -sam` on IngestFunction against moto and finds the
// event in the stream whose name sam local invoke would give the function: EventStream (Ref to a
// resource is its logical ID) without an --env-vars file, and with events/env.json the local
// chain's firelane-events, which the default resolution gives as well.
func TestInvokeSAMNames(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the ingest function and the runtime emulator; skipped with -short")
	}
	chdirRepo(t)
	// The shell's values of declared variables would win under -sam, as under sam local invoke.
	for _, k := range []string{"STREAM_NAME", "FAILED_DELIVERY_STREAM_NAME", "AWS_ENDPOINT_URL", "LOG_LEVEL"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	url := moto.StartMoto(t)
	kc := kinesis.NewFromConfig(moto.AWSConfig(url))
	for _, s := range []string{"EventStream", "firelane-events"} {
		if _, err := kc.CreateStream(t.Context(), &kinesis.CreateStreamInput{StreamName: aws.String(s), ShardCount: aws.Int32(1)}); err != nil {
			t.Fatalf("create stream %s: %v", s, err)
		}
	}
	tests := []struct {
		name   string
		args   []string
		stream string
	}{
		{"sam without env vars", []string{"-sam"}, "EventStream"},
		{"sam with events/env.json", []string{"-sam", "-env-vars", "events/env.json"}, "firelane-events"},
		{"default", nil, "firelane-events"},
	}
	counts := map[string]int{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-function", "IngestFunction", "-event", "events/ingest/valid-single.json", "-endpoint", url}, tc.args...)
			out := captureStdout(t, func() error { return runInvoke(args) })
			var answer struct {
				StatusCode int    `json:"statusCode"`
				Body       string `json:"body"`
			}
			if err := json.Unmarshal([]byte(out), &answer); err != nil || answer.StatusCode != 200 {
				t.Fatalf("got %s, want a 200 proxy response", out)
			}
			counts[tc.stream]++
			if got := streamRecords(t, kc, tc.stream); got != counts[tc.stream] {
				t.Errorf("stream %s holds %d records, want %d", tc.stream, got, counts[tc.stream])
			}
		})
	}
	if err := runInvoke([]string{"-sam", "-stack", "other", "-function", "IngestFunction", "-event", "events/ingest/valid-single.json"}); err == nil {
		t.Error("-sam with -stack: got no error")
	}
}

// streamRecords counts the records of a one-shard stream.
func streamRecords(t *testing.T, kc *kinesis.Client, stream string) int {
	t.Helper()
	it, err := kc.GetShardIterator(t.Context(), &kinesis.GetShardIteratorInput{
		StreamName: aws.String(stream), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		t.Fatalf("shard iterator of %s: %v", stream, err)
	}
	recs, err := kc.GetRecords(t.Context(), &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatalf("records of %s: %v", stream, err)
	}
	return len(recs.Records)
}
