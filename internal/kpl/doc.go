// Package kpl reads the aggregated records that the Kinesis Producer Library (KPL) and the tools
// built on it write to a stream, so that the stream consumer can treat each user record in them as
// a record of its own.
//
// The format is KPL's aggregation format document,
// https://github.com/awslabs/amazon-kinesis-producer/blob/master/aggregation-format.md: the four
// magic bytes F3 89 9A C2, a protobuf (proto2) AggregatedRecord, and the 16-byte MD5 of that
// protobuf as a trailer.
//
//	message AggregatedRecord {
//	  repeated string partition_key_table     = 1;
//	  repeated string explicit_hash_key_table = 2;
//	  repeated Record records                 = 3;
//	}
//	message Record {
//	  required uint64 partition_key_index     = 1;
//	  optional uint64 explicit_hash_key_index = 2;
//	  required bytes  data                    = 3;
//	  repeated Tag    tags                    = 4;
//	}
//
// Lambda does not de-aggregate: a consumer must
// (https://docs.aws.amazon.com/streams/latest/dev/kinesis-record-deaggregation.html). Every user
// record of an aggregate carries the aggregate's sequence number, and its place in the aggregate
// (from 0) is its sub-sequence number
// (https://docs.aws.amazon.com/kinesis/latest/dev/kinesis-kpl-consumer-deaggregation.html).
//
// # Why the decoder is written here
//
// AWS's Go de-aggregation module (github.com/awslabs/kinesis-aggregation/go) cannot be fetched
// through the module proxy this project builds with, and it has no aggregator for tests. Generated
// protobuf code would need protoc and would allocate a message, a slice of records and a copy of
// every key for each aggregate. The message has six fields, so [Decoder] reads them with
// google.golang.org/protobuf/encoding/protowire, the wire-format layer of the protobuf module, and
// hands out slices of the aggregate's own bytes: after its first aggregate a Decoder allocates
// nothing.
//
// # What is an error
//
// [Decoder.Decode] checks the whole aggregate before it returns any user record, so an aggregate
// is either de-aggregated whole or refused whole with an [*Error] naming what is wrong and where.
// It follows protobuf's parsing rules: fields may come in any order and tables may be split or
// interleaved with records; an unknown field, or a known one with another wire type, is skipped; a
// scalar that occurs twice keeps its last value. It is stricter than a protobuf parser where the
// format is: a user record must have its two required fields, its indices must fall inside the
// tables, and an aggregate must hold at least one user record (KPL never writes an empty one, and
// an aggregate that yields nothing would leave no trace of the stream record it came in). Tags,
// which neither KPL nor KCL implement, are skipped. Keys are returned as bytes, unchecked: Kinesis
// already required them to be Unicode when the aggregate was put.
//
// # An MD5 that does not match
//
// AWS's own de-aggregators do not agree. KCL's AggregatorUtil and the Python and Go modules of
// awslabs/kinesis-aggregation pass such a record on as a plain record (KCL and the Python module
// do the same with one whose protobuf does not parse); the Node.js module reports an error. This package reports
// [ErrChecksum], and the stream consumer sets the record aside as poison with that reason, for
// three reasons. Passing it on fits consumers of opaque bytes, where a plain record may begin with
// the magic bytes by chance; a firelane record cannot, since it must be a JSON object and F3 89
// 9A C2 is not even valid UTF-8, so passed on it would become poison anyway, under a reason ("not
// a JSON object") that hides the real one. Decoding it regardless of the checksum would put user
// records into the lake whose bytes are known to be damaged. And set aside, nothing is lost: the
// failed-event envelope keeps the aggregate's bytes.
//
// A checksum that does not match is diagnosed once more: when the protobuf then ends inside a
// field, the aggregate was cut short and the error is [ErrTruncated] instead.
//
// Error messages hold field names, offsets and counts, never keys or data, so they can be logged.
package kpl
