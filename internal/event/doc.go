// Package event defines the CloudEvents 1.0 envelope that firelane carries and the records that
// the stages hand to each other: the ingest record written to Kinesis, the enriched record written
// to Firehose, and the failed-event envelope shared by every stage.
//
// The envelope follows the CloudEvents 1.0 JSON format
// (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/formats/json-format.md); the
// records are documented in docs/contracts.md, which is their source of truth.
package event
