// Package ingest is firelane's API edge: it takes the API Gateway proxy request of POST /events,
// validates every event it carries (the CloudEvents envelope, then data against the schema that the
// event's type and major version select), writes the valid ones to Kinesis Data Streams and answers
// with every event's outcome.
//
// Contract (see docs/contracts.md and the README's "Answers" section): a client's mistake is an
// answer, never a Go error and never a 5xx. An event is reported accepted only when Kinesis
// acknowledged it. The handler returns a Go error only when it cannot answer at all.
//
// AWS contracts implemented here:
//   - Lambda proxy integration for REST APIs:
//     https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
//   - PutRecords: https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html
package ingest
