// Package local runs the whole firelane pipeline on one machine without AWS: the real ingest,
// enrich and transform handlers, joined by an in-memory Kinesis stream and in-memory Firehose
// delivery streams that buffer records, invoke the transform as Firehose does, apply the S3 prefixes
// of template.yaml (dynamic partitioning included) and write the delivered objects through a
// [Sink], such as a directory laid out exactly like the S3 keys.
//
// The delivery emulation follows
// https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html (the invocation, the
// record results, processing-failed records and their error format) and
// https://docs.aws.amazon.com/firehose/latest/dev/s3-object-name.html (object names).
package local
