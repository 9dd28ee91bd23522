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
// (type, version, hour of received_at). docs/recovery.md says what this guarantees and what not.
//
// Records go to Kinesis with PutRecords through [awsbatch], whose limits follow
// https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html; the JSON Patch
// library is github.com/evanphx/json-patch/v5.
package recovery
