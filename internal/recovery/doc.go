// Package recovery brings back the events firelane set aside: it reads the failed-event envelopes
// of a lake's rejected/ and failed/ prefixes (docs/contracts.md, section 6), unwraps each
// envelope's original to the CloudEvent it carried and the server context it was received with,
// selects them, applies a per-type fix (a JSON Patch, RFC 6902), validates them against the
// current schemas, and writes those that now pass as ingest/1 records to a Kinesis writer, so that
// they partition and deduplicate as the originals would have.
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
// github.com/evanphx/json-patch/v5.
package recovery
