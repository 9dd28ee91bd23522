// Package eventsource stands in for Lambda's event source mapping for Kinesis: it polls a stream's
// shards, gathers batches, invokes a function with the Kinesis event, handles its answer and its
// failures, and records what it gives up on in an on-failure destination, as the Lambda developer
// guide describes:
//
//   - polling and batching, BatchSize, MaximumBatchingWindowInSeconds, ParallelizationFactor and
//     the 6 MB synchronous payload limit:
//     https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html and
//     https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-parameters.html;
//   - partial batch responses (ReportBatchItemFailures: checkpoint at the lowest reported sequence
//     number and retry from there; an empty or unknown itemIdentifier fails the whole batch):
//     https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html;
//   - retries, MaximumRetryAttempts, MaximumRecordAgeInSeconds, BisectBatchOnFunctionError
//     ("splitting batches doesn't consume the retry quota") and the invocation record an on-failure
//     destination receives (metadata for SQS and SNS; for S3 the invocation's payload as well):
//     https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html.
//
// Where the guide leaves a behaviour open, the choice made here is written in docs/up.md
// ("The event source mapping") and on the field or function concerned.
//
// A [Mapping] reads through a [Source] (the in-memory stream of package kinesis beside it, or
// any Kinesis endpoint through GetRecords), invokes through the one [lambda.Invoker] interface
// (in process or under the Runtime Interface Emulator) and sends what it discards to a
// [Destination] ([Queue] for SQS, [S3Destination] for S3).
package eventsource
