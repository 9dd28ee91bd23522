package kinesis

import (
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kt "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

func TestStreamCheckpoint(t *testing.T) {
	s := NewStream("k")
	in := &kinesis.PutRecordsInput{StreamName: aws.String("k")}
	for _, d := range []string{"a", "b", "c", "d"} {
		in.Records = append(in.Records, kt.PutRecordsRequestEntry{Data: []byte(d), PartitionKey: aws.String("p")})
	}
	if _, err := s.PutRecords(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	batch, _ := s.Next(3)
	if len(batch.Records) != 3 {
		t.Fatalf("batch of %d, want 3", len(batch.Records))
	}
	failed, err := s.Checkpoint(batch, events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{{ItemIdentifier: batch.Records[1].Kinesis.SequenceNumber}}})
	if err != nil || !failed {
		t.Fatalf("checkpoint: %v %v", failed, err)
	}
	again, _ := s.Next(3)
	if string(again.Records[0].Kinesis.Data) != "b" {
		t.Errorf("redelivery starts at %q, want b", again.Records[0].Kinesis.Data)
	}
	if _, err := s.Checkpoint(again, events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{{ItemIdentifier: "nope"}}}); err == nil {
		t.Error("a failure naming no record of the batch was accepted")
	}
}
