// Package enrich is firelane's stream consumer: it takes the Kinesis event that Lambda's event
// source mapping delivers, adds server-side context to every event (timestamps, fingerprint, schema,
// privacy handling) and writes the enriched records to Firehose.
//
// Contract: the handler answers with a KinesisEventResponse. A record that can never be processed
// (a poison record) is written to the failed-events delivery stream with its reason and counts as
// processed, so it never blocks the shard. A record that could not be written for a transient reason
// is reported in BatchItemFailures by its sequence number; Lambda checkpoints before the lowest one
// reported and retries the records from it onward. A Go error from the handler means the whole batch
// must be retried.
//
// AWS contracts implemented here:
//   - Kinesis event and partial batch responses:
//     https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html and
//     https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html
//   - PutRecordBatch: https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html
package enrich
