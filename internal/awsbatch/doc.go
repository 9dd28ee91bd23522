// Package awsbatch writes records to Kinesis Data Streams (PutRecords) and Kinesis Data Firehose
// (PutRecordBatch) without losing any: it splits a batch into calls within every documented limit,
// reads every entry's result, retries only the entries that failed for a retryable reason with
// exponential backoff and full jitter inside the caller's deadline, and reports per record whether
// AWS acknowledged it.
//
// The writer is the only layer that retries. The SDK's standard retryer would otherwise retry
// every failed call up to 3 times beneath each of the writer's attempts, so that one record could
// be sent up to 3 × [Retry.MaxAttempts] times, each SDK retry sleeping a backoff the writer does not
// see: the deadline arithmetic of [Retry.Margin] would be false. [NewKinesisClient] and
// [NewFirehoseClient] build the functions' clients with the SDK's retries off ([aws.NopRetryer]),
// and a call that fails as a whole is retried by the writer like a failed entry (see
// [CallRetryable]). SDK retry behaviour:
// https://docs.aws.amazon.com/sdk-for-go/v2/developer-guide/configure-retries-timeouts.html
//
// A retried call may write its records twice: neither PutRecords nor PutRecordBatch is idempotent,
// and a call whose answer is lost may have committed. Kinesis documents these producer retries as
// a source of duplicate records, each with its own sequence number
// (https://docs.aws.amazon.com/streams/latest/dev/kinesis-record-processor-duplicates.html), and
// the fingerprint every enriched record carries is what removes them downstream. The writer
// retries all the same, since not retrying could lose the records. What it must not do is fail a
// call that was answered: the clients' HTTP client ([OneAnswerHTTPClient]) keeps net/http from
// closing a connection under an answer being read, as it otherwise does when a request's writer
// finishes after the answer arrived (a busy machine).
//
// Limits and per-entry error codes:
//   - https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html
//     (500 records, 5 MiB per request, 1 MiB per record including the partition key;
//     ProvisionedThroughputExceededException and InternalFailure per entry)
//   - https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html
//     (500 records, 4 MiB per request, 1,000 KiB per record; ServiceUnavailableException and
//     InternalFailure per entry)
package awsbatch
