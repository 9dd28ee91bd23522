package awsbatch

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// NewKinesisClient returns the Kinesis client a [KinesisWriter] writes with. Its SDK retryer makes
// one attempt per call ([aws.NopRetryer]): the writer is the one layer that retries, so that
// [Retry.MaxAttempts] and the deadline are the whole truth about how often and how long a record is
// tried (see the package documentation).
func NewKinesisClient(cfg aws.Config, optFns ...func(*kinesis.Options)) *kinesis.Client {
	return kinesis.NewFromConfig(cfg, append([]func(*kinesis.Options){func(o *kinesis.Options) { o.Retryer = aws.NopRetryer{} }}, optFns...)...)
}

// NewFirehoseClient returns the Firehose client a [FirehoseWriter] writes with, with the SDK's
// retries off for the same reason as [NewKinesisClient].
func NewFirehoseClient(cfg aws.Config, optFns ...func(*firehose.Options)) *firehose.Client {
	return firehose.NewFromConfig(cfg, append([]func(*firehose.Options){func(o *firehose.Options) { o.Retryer = aws.NopRetryer{} }}, optFns...)...)
}
