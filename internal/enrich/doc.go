// Package enrich is firelane's stream consumer: it takes the Kinesis event that Lambda's event
// source mapping delivers, runs every record through an ordered chain of enrichments (timestamps,
// client, network, identity, schema, privacy; see [Config]) and writes the enriched records to the
// events delivery stream with Firehose PutRecordBatch.
//
// Input: a record is either an ingest record (the event with ingest's server context) or a bare
// CloudEvent written by the direct API Gateway to Kinesis route; the enrichments use what is there.
//
// kinesis_event.go is the one file that knows aws-lambda-go's types: it turns the Kinesis event into
// [Record]s, the core ([Handler.Process]) says what became of every event in a [Result], and the
// invocation's one summary (log line, metrics, trace annotation) is taken from that Result at the
// end (summary.go).
//
// Contract: [Handler.Handle] answers with a KinesisEventResponse whose BatchItemFailures names at
// most one record, by sequence number.
//   - Records are processed in order. The first record that cannot be written for a transient
//     reason (Firehose throttling or unavailable after the writer's retries, or no time left before
//     the deadline) is reported, and no later record is sent: Lambda checkpoints before it and
//     delivers it and every later record again, so sending them now would only add duplicates.
//   - A poison record (not base64/JSON/CloudEvent, or one an enrichment cannot handle) is written to
//     the failed-events delivery stream in the failed-event envelope, with its reason, and counts as
//     processed: it never blocks the shard. Its write is part of the order like any other.
//   - A record that repeats an earlier record's event (same fingerprint) within the batch is
//     written once. Deliveries are at least once, so the lake deduplicates on the fingerprint.
//   - A record that is a KPL aggregate is de-aggregated (package kpl): each user record is an
//     event of its own, in the aggregate's place. An aggregate that cannot be de-aggregated is one
//     poison record, set aside whole. A user record that cannot be written reports its aggregate,
//     the smallest thing Lambda delivers again.
//   - A Go error would mean "retry the whole batch"; the handler never needs one, because
//     reporting the first record has that effect with less repetition.
//
// AWS contracts implemented here:
//   - Kinesis event and partial batch responses:
//     https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html and
//     https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html
//   - KPL aggregates and sub-sequence numbers:
//     https://docs.aws.amazon.com/kinesis/latest/dev/kinesis-kpl-consumer-deaggregation.html
//   - PutRecordBatch: https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html
package enrich
