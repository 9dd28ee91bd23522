package awsbatch

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// KinesisAPI is the one Kinesis Data Streams method the writer needs.
type KinesisAPI interface {
	PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, opts ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error)
}

// KinesisLimits are PutRecords' documented limits.
var KinesisLimits = Limits{MaxRecords: 500, MaxCallBytes: 5 << 20, MaxRecordBytes: 1 << 20, KeyCounts: true}

// KinesisWriter writes records to one Kinesis data stream with PutRecords.
type KinesisWriter struct{ w writer }

// NewKinesisWriter returns a writer to the stream with the given name.
func NewKinesisWriter(api KinesisAPI, stream string, retry Retry) (*KinesisWriter, error) {
	if stream == "" {
		return nil, fmt.Errorf("kinesis writer: %w", ErrEmptyName)
	}
	put := func(ctx context.Context, recs []Record) ([]entryResult, error) {
		in := &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: make([]types.PutRecordsRequestEntry, len(recs))}
		for i, r := range recs {
			in.Records[i] = types.PutRecordsRequestEntry{Data: r.Data, PartitionKey: aws.String(r.PartitionKey)}
		}
		out, err := api.PutRecords(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("put records to %s: %w", stream, err)
		}
		res := make([]entryResult, len(out.Records))
		for i, e := range out.Records {
			if e.ErrorCode != nil {
				res[i] = refused(*e.ErrorCode, aws.ToString(e.ErrorMessage))
				continue
			}
			res[i] = acknowledged(aws.ToString(e.SequenceNumber), entryResult{seq: aws.ToString(e.SequenceNumber), shard: aws.ToString(e.ShardId)})
		}
		return res, nil
	}
	return &KinesisWriter{writer{
		name: "Kinesis", put: put, limits: KinesisLimits, retry: retry, sleep: sleepCtx,
		retryable: func(code string) bool {
			return code == "ProvisionedThroughputExceededException" || code == "InternalFailure"
		},
	}}, nil
}

// Write writes recs and returns one Result per record, in order. A record is OK only when Kinesis
// acknowledged it.
func (k *KinesisWriter) Write(ctx context.Context, recs []Record) []Result {
	return k.w.write(ctx, recs)
}
