// Package recovery brings back the events firelane set aside: it reads the failed-event envelopes
// (failed/1 and failed/2) of a lake's rejected/ and failed/ prefixes (docs/contracts.md, section
// 6) and the batches the enrich event source mapping discarded to its S3 on-failure destination
// (objects under [DiscardedPrefix]), unwraps each original to the CloudEvents it carried and the
// server context they were received with (docs/contracts.md, "Unwrapping original"), selects
// them, applies a per-type fix (a JSON Patch, RFC 6902), validates them against the current
// schemas, and writes those that now pass as ingest/1 records to a Kinesis writer, so that they
// partition and deduplicate as the originals would have.
//
// A run writes a manifest under [ManifestPrefix] (never under rejected/ or failed/) naming the
// objects it read and the fingerprints it sent; a later run skips every fingerprint a manifest
// names, and every event whose row is already in the lake, found by reading only its own partition
// (type, version, hour of received_at). An event the stream did not take after the writer's
// retries is reported with its error code and left out of the manifest, so that the next run
// sends it. docs/recovery.md says what this guarantees and what not.
//
// A lake is a [Store]: a directory ([DirStore], the layout `firelane local -out DIR` writes) or a
// bucket ([S3Store]), read with ListObjectsV2 (at most 1,000 keys a page, followed by continuation
// token), GetObject and, for the manifest, one PutObject (at most 5 GB; keys at most 1,024 bytes
// of UTF-8, prefix included):
//   - https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
//   - https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
//   - https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
//   - https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html
//   - https://docs.aws.amazon.com/AmazonS3/latest/userguide/upload-objects.html
//
// Records go to Kinesis with PutRecords through [awsbatch], whose limits follow
// https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html (500 records and
// 5 MiB a call, 1 MiB a record with its partition key); the JSON Patch library is
// github.com/evanphx/json-patch/v5. A discarded batch is the invocation record Lambda writes to an
// S3 on-failure destination, metadata and the invocation's Kinesis event
// (https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html), read with
// aws-lambda-go's events.KinesisEvent; KPL aggregates among its records are de-aggregated with
// [kpl.Decoder].
package recovery
