// Package firehose stands in for Amazon Data Firehose: in-memory delivery streams ([Delivery]) that
// buffer records, invoke the transform function as Firehose does, check its answer, apply the S3
// prefixes of template.yaml (dynamic partitioning, error prefixes, the 500 active partitions) and
// write the delivered objects through a [Sink]; and a [Server] that serves the Firehose API
// (PutRecord, PutRecordBatch) on loopback in front of them, buffering by size and interval, so that
// functions reach it through AWS_ENDPOINT_URL_FIREHOSE while Kinesis and S3 go elsewhere (moto).
//
// The transformation contract:
// https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html (the invocation, the
// record results, processing-failed records and their error format); object names:
// https://docs.aws.amazon.com/firehose/latest/dev/s3-object-name.html; the API:
// https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html (JSON 1.1
// protocol, X-Amz-Target Firehose_20150804.<Operation>); buffering and prefixes:
// https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning.html; record format
// conversion to Parquet ([Conversion], parquet.go):
// https://docs.aws.amazon.com/firehose/latest/dev/record-format-conversion.html and its error
// records: https://docs.aws.amazon.com/firehose/latest/dev/record-format-conversion-error-handling.html
package firehose
