package ingest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/localaws/moto"
)

// TestMotoKinesis writes through the real SDK client to moto's Kinesis and reads the records
// back with GetRecords: every accepted event is in the stream, in order, in the documented format,
// under its partition key.
func TestMotoKinesis(t *testing.T) {
	endpoint := moto.StartMoto(t)
	ctx := t.Context()
	client := kinesis.New(kinesis.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  staticCreds{},
	})
	const stream = "firelane-events"
	if _, err := client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatalf("create stream: %v", err)
	}
	kw, err := awsbatch.NewKinesisWriter(client, stream, awsbatch.DefaultRetry)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, registry(t), Config{})
	f.h.Kinesis = kw
	resp, _ := f.h.Handle(ctx, post("["+pageView+","+badURL+","+sensor+"]", nil))
	if resp.StatusCode != 207 {
		t.Fatalf("got status %d, want 207: %s", resp.StatusCode, resp.Body)
	}
	r := decodeResponse(t, resp.Body)

	desc, err := client.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatal(err)
	}
	it, err := client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(stream),
		ShardId: desc.StreamDescription.Shards[0].ShardId, ShardIteratorType: ktypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	got, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ event, key, id string }{{pageView, "session-8f14e45f", r.Results[0].ID}, {sensor, "/devices/thermostat", r.Results[2].ID}}
	if len(got.Records) != len(want) || r.Accepted != len(want) {
		t.Fatalf("stream holds %d records for %d accepted events, want %d", len(got.Records), r.Accepted, len(want))
	}
	for i, w := range want {
		rec := got.Records[i]
		var ir event.IngestRecord
		if err := json.Unmarshal(rec.Data, &ir); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if ir.Format != event.FormatIngest || string(ir.Event) != w.event || ir.Context.RequestID != "req-1" {
			t.Errorf("record %d: got %s", i, rec.Data)
		}
		if aws.ToString(rec.PartitionKey) != w.key {
			t.Errorf("record %d: got partition key %q, want %q", i, aws.ToString(rec.PartitionKey), w.key)
		}
		if idOf(t, rec.Data) != w.id {
			t.Errorf("record %d holds event %s, want %s", i, idOf(t, rec.Data), w.id)
		}
	}
}

// staticCreds are the fixed credentials moto accepts.
type staticCreds struct{}

func (staticCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing", Source: "test"}, nil
}
