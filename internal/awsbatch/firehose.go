package awsbatch

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// FirehoseAPI is the one Firehose method the writer needs.
type FirehoseAPI interface {
	PutRecordBatch(ctx context.Context, in *firehose.PutRecordBatchInput, opts ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error)
}

// FirehoseLimits are PutRecordBatch's documented limits. A record may be up to 1,000 KiB.
var FirehoseLimits = Limits{MaxRecords: 500, MaxCallBytes: 4 << 20, MaxRecordBytes: 1000 << 10}

// FirehoseWriter writes records to one Firehose delivery stream with PutRecordBatch.
type FirehoseWriter struct{ w writer }

// NewFirehoseWriter returns a writer to the delivery stream with the given name.
func NewFirehoseWriter(api FirehoseAPI, stream string, retry Retry) (*FirehoseWriter, error) {
	if stream == "" {
		return nil, fmt.Errorf("firehose writer: %w", ErrEmptyName)
	}
	put := func(ctx context.Context, recs []Record) ([]entryResult, error) {
		in := &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(stream), Records: make([]types.Record, len(recs))}
		for i, r := range recs {
			in.Records[i] = types.Record{Data: r.Data}
		}
		out, err := api.PutRecordBatch(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("put record batch to %s: %w", stream, err)
		}
		res := make([]entryResult, len(out.RequestResponses))
		for i, e := range out.RequestResponses {
			if e.ErrorCode != nil {
				res[i] = refused(*e.ErrorCode, aws.ToString(e.ErrorMessage))
				continue
			}
			res[i] = acknowledged(aws.ToString(e.RecordId), entryResult{recordID: aws.ToString(e.RecordId)})
		}
		return res, nil
	}
	return &FirehoseWriter{writer{
		name: "Firehose", put: put, limits: FirehoseLimits, retry: retry, sleep: sleepCtx,
		retryable: func(code string) bool {
			return code == "ServiceUnavailableException" || code == "InternalFailure"
		},
	}}, nil
}

// Write writes recs and returns one Result per record, in order. A record is OK only when Firehose
// acknowledged it.
func (f *FirehoseWriter) Write(ctx context.Context, recs []Record) []Result {
	return f.w.write(ctx, recs)
}
