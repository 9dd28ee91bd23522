// Package kinesis stands in for Amazon Kinesis Data Streams: an in-memory stream that takes the
// PutRecords calls of the ingest writer and hands its records out as the Kinesis events Lambda's
// event source mapping delivers, checkpointing at the first failure a ReportBatchItemFailures
// response names (https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html).
package kinesis

import (
	"context"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// Stream is an in-memory Kinesis data stream with one shard. It implements the PutRecords method
// that the ingest function's writer uses, and hands out its records as the Kinesis events Lambda's
// event source mapping would deliver.
type Stream struct {
	Name   string
	Region string
	Now    func() time.Time

	mu      sync.Mutex
	records []events.KinesisEventRecord
	next    int // index of the first record not yet delivered
	seq     *big.Int
}

// NewStream returns an empty stream.
func NewStream(name string) *Stream {
	seq, _ := new(big.Int).SetString("49650000000000000000000000000000000000000000000000000000", 10)
	return &Stream{Name: name, Region: "us-east-1", Now: time.Now, seq: seq}
}

// PutRecords stores the records and acknowledges every one of them.
func (s *Stream) PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	if aws.ToString(in.StreamName) != s.Name {
		return nil, fmt.Errorf("ResourceNotFoundException: stream %s not found", aws.ToString(in.StreamName))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &kinesis.PutRecordsOutput{Records: make([]types.PutRecordsResultEntry, len(in.Records))}
	arn := fmt.Sprintf("arn:aws:kinesis:%s:123456789012:stream/%s", s.Region, s.Name)
	for i, r := range in.Records {
		s.seq.Add(s.seq, big.NewInt(1))
		seq := s.seq.String()
		s.records = append(s.records, events.KinesisEventRecord{
			AwsRegion: s.Region, EventID: "shardId-000000000000:" + seq, EventName: "aws:kinesis:record",
			EventSource: "aws:kinesis", EventSourceArn: arn, EventVersion: "1.0",
			InvokeIdentityArn: "arn:aws:iam::123456789012:role/enrich",
			Kinesis: events.KinesisRecord{
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: s.Now().UTC().Truncate(time.Millisecond)},
				Data:                        append([]byte(nil), r.Data...), KinesisSchemaVersion: "1.0",
				PartitionKey: aws.ToString(r.PartitionKey), SequenceNumber: seq,
			},
		})
		out.Records[i] = types.PutRecordsResultEntry{SequenceNumber: aws.String(seq), ShardId: aws.String("shardId-000000000000")}
	}
	return out, nil
}

// Next returns the next batch of at most size records not yet delivered, as a Kinesis event, and
// false when there is none. It does not move the checkpoint: call [Stream.Checkpoint].
func (s *Stream) Next(size int) (events.KinesisEvent, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.next >= len(s.records) {
		return events.KinesisEvent{}, false
	}
	end := min(s.next+size, len(s.records))
	return events.KinesisEvent{Records: append([]events.KinesisEventRecord(nil), s.records[s.next:end]...)}, true
}

// Checkpoint handles the response to a batch as Lambda does with ReportBatchItemFailures: with no
// failure the checkpoint moves past the batch; otherwise it moves to just before the lowest failed
// sequence number, so that delivery resumes there. It reports whether the batch had failures.
func (s *Stream) Checkpoint(batch events.KinesisEvent, resp events.KinesisEventResponse) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(resp.BatchItemFailures) == 0 {
		s.next += len(batch.Records)
		return false, nil
	}
	for i, r := range batch.Records {
		for _, f := range resp.BatchItemFailures {
			if f.ItemIdentifier == r.Kinesis.SequenceNumber {
				s.next += i
				return true, nil
			}
		}
	}
	return true, fmt.Errorf("batch item failure %q names no record of the batch", resp.BatchItemFailures[0].ItemIdentifier)
}

// Len returns the number of records ever put.
func (s *Stream) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.records)
}
