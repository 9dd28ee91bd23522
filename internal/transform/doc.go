// Package transform is firelane's Firehose data-transformation hook: it turns each record of the
// events delivery stream (an enriched record, an ingest record or a bare CloudEvent) into one lake
// row, a newline-terminated JSON object, and gives Firehose the row's partition keys for dynamic
// partitioning. docs/lake.md documents the row, the partitions and the failure handling.
//
// Contract (https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html and
// https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-status-model.html): every input
// recordId comes back exactly once, in input order, with result Ok, Dropped or ProcessingFailed and
// base64 data.
//   - Ok: the record is an event; data is its row and metadata.partitionKeys its keys.
//   - ProcessingFailed: the record is not an event. Its data is returned unchanged, so Firehose
//     writes the raw record under the processing-failed error prefix; the reason is logged once
//     per record, without the record's values.
//   - Dropped: the event's type matches [Handler.DropTypes], or the record did not fit in the
//     response and Firehose acknowledged its re-ingestion into the same delivery stream
//     ([MaxResponseBytes], [Handler.Firehose]). Nothing else is dropped.
//
// A Go error fails the whole invocation: Firehose retries it and, when its retries run out, writes
// every record of it under the processing-failed prefix. The handler returns one only when the
// payload is not a Firehose event or when records that do not fit in the response could not be
// handed back to Firehose ([ErrOverflow]).
//
// [Handler.Invoke] works on the raw invocation payload (aws-lambda-go's lambda.Handler): it scans
// the JSON without building values, converts records in reused buffers and writes the response by
// hand, which the shared workload's benchmarks measure. [Handler.Handle] runs the same core for
// callers that hold aws-lambda-go's event types and builds the response value directly, with no
// JSON in between. The core works on [Record]s and answers each one into the adapter's response;
// firehose_event.go is the only file that knows the Firehose event's shape.
package transform
