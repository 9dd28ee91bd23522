package eventsource

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// KinesisAPI is what [APIShard] calls: a Kinesis endpoint (a moto_server, or AWS).
type KinesisAPI interface {
	ListShards(ctx context.Context, in *kinesis.ListShardsInput, opts ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error)
	GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, opts ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, opts ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error)
}

// APIShard reads one shard of a stream at a Kinesis endpoint with a shard iterator, as the
// mapping's standard-iterator consumer does, and turns its records into the event's records.
type APIShard struct {
	API       KinesisAPI
	StreamARN string
	Region    string
	Shard     string

	mu       sync.Mutex
	iterator *string
	caughtUp bool // the last GetRecords returned nothing and was 0 ms behind the tip
}

// APIShards opens every shard of the stream named streamARN at the starting position.
func APIShards(ctx context.Context, api KinesisAPI, streamARN, position string) ([]Shard, error) {
	out, err := api.ListShards(ctx, &kinesis.ListShardsInput{StreamARN: aws.String(streamARN)})
	if err != nil {
		return nil, fmt.Errorf("list shards of %s: %w", streamARN, err)
	}
	var shards []Shard
	for _, s := range out.Shards {
		it, err := api.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamARN: aws.String(streamARN), ShardId: s.ShardId, ShardIteratorType: types.ShardIteratorType(position),
		})
		if err != nil {
			return nil, fmt.Errorf("shard iterator of %s %s: %w", streamARN, aws.ToString(s.ShardId), err)
		}
		shards = append(shards, &APIShard{API: api, StreamARN: streamARN, Region: "us-east-1", Shard: aws.ToString(s.ShardId), iterator: it.ShardIterator})
	}
	return shards, nil
}

// ID implements [Shard].
func (a *APIShard) ID() string { return a.Shard }

// Read implements [Shard] with one GetRecords call (at most 10,000 records, its limit).
func (a *APIShard) Read(ctx context.Context, max int) ([]events.KinesisEventRecord, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.iterator == nil {
		return nil, nil // the shard is closed
	}
	out, err := a.API.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: a.iterator, Limit: aws.Int32(int32(min(max, 10000))), StreamARN: aws.String(a.StreamARN)})
	if err != nil {
		return nil, fmt.Errorf("get records of %s: %w", a.Shard, err)
	}
	a.iterator = out.NextShardIterator
	a.caughtUp = len(out.Records) == 0 && aws.ToInt64(out.MillisBehindLatest) == 0
	recs := make([]events.KinesisEventRecord, len(out.Records))
	for i, r := range out.Records {
		recs[i] = events.KinesisEventRecord{
			AwsRegion: a.Region, EventID: a.Shard + ":" + aws.ToString(r.SequenceNumber), EventName: "aws:kinesis:record",
			EventSource: "aws:kinesis", EventSourceArn: a.StreamARN, EventVersion: "1.0",
			InvokeIdentityArn: "arn:aws:iam::123456789012:role/enrich",
			Kinesis: events.KinesisRecord{
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: aws.ToTime(r.ApproximateArrivalTimestamp)},
				Data:                        r.Data, KinesisSchemaVersion: "1.0", PartitionKey: aws.ToString(r.PartitionKey),
				SequenceNumber: aws.ToString(r.SequenceNumber),
			},
		}
	}
	return recs, nil
}

// Unread implements [Shard]: 0 once a read came back empty at the tip of the shard, else
// unknown (-1), as GetRecords tells how far behind, not how many.
func (a *APIShard) Unread() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.caughtUp || a.iterator == nil {
		return 0
	}
	return -1
}
