// Package pipeline stands in for a deployed stack: it runs the whole firelane pipeline on one
// machine without AWS, the real ingest, enrich and transform stages joined by an in-memory Kinesis
// stream (package kinesis beside it) and in-memory Firehose delivery streams (package firehose
// beside it), and writes the objects Firehose would deliver through a [firehose.Sink], such as a
// directory laid out exactly like the S3 keys.
package pipeline
