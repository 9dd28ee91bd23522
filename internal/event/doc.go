// Package event defines the CloudEvents 1.0 envelope that firelane carries and the records that
// the stages hand to each other: the ingest record written to Kinesis, the enriched record written
// to Firehose, and the failed-event envelope shared by every stage.
//
// It is also the one definition of a valid event that every stage applies. [View] is the
// byte-level view of an event that the edge's validators, enrich and transform read it through,
// [Record] the one-pass reading of a stage record, [CheckEnvelope] the envelope rules and
// [ParseTime] the RFC 3339 timestamp; docs/contracts.md writes the definition down, and a
// differential test in internal/localaws/pipeline holds the stages to it.
//
// The envelope follows the CloudEvents 1.0 JSON format
// (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/formats/json-format.md); the
// records are documented in docs/contracts.md, which is their source of truth.
package event
