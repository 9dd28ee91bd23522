// Package awsbatch writes records to Kinesis Data Streams (PutRecords) and Kinesis Data Firehose
// (PutRecordBatch) without losing any: it splits a batch into calls within every documented limit,
// reads every entry's result, retries only the entries that failed for a retryable reason with
// exponential backoff and full jitter inside the caller's deadline, and reports per record whether
// AWS acknowledged it.
//
// Limits and per-entry error codes:
//   - https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html
//     (500 records, 5 MiB per request, 1 MiB per record including the partition key;
//     ProvisionedThroughputExceededException and InternalFailure per entry)
//   - https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html
//     (500 records, 4 MiB per request, 1,000 KiB per record; ServiceUnavailableException and
//     InternalFailure per entry)
package awsbatch
