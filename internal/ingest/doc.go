// Package ingest is firelane's API edge: it takes the API Gateway proxy request of POST /events
// (REST API payload 1.0 or HTTP API payload 2.0), reads every event the body carries (one
// CloudEvent, a JSON array, NDJSON, CloudEvents structured or batch mode, or binary mode; base64
// and gzip undone within byte limits), validates each (the CloudEvents envelope, then data against
// the schema that the event's type and major version select), writes the valid ones to Kinesis Data
// Streams and the rejected ones to the failed-events delivery stream, and answers with every
// event's outcome. docs/ingest.md documents requests, answers, limits and configuration.
//
// request.go is the one file that knows aws-lambda-go's types: it turns either payload version
// into a [Request], the core ([Handler.Serve]) answers it with an [Outcome], and the outcome
// becomes the proxy response. The local chain and the benchmarks call the core the same way. The
// invocation's one summary (log line and metrics) is taken from the outcome at the end (summary.go).
//
// Contract: a client's mistake is an answer (4xx), never a Go error and never a 5xx. An event is
// reported accepted only when Kinesis acknowledged it; an event Kinesis did not take is reported
// failed and the answer is 429 or 503 with Retry-After. Writing stops at the earlier of the Lambda
// deadline and API Gateway's integration timeout, minus a safety margin, so that the answer always
// gets out. [Handler.Invoke] returns a Go error only for a payload that is not an API Gateway event.
//
// AWS contracts implemented here:
//   - Lambda proxy integration for REST APIs (payload 1.0):
//     https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
//   - Lambda integration for HTTP APIs (payload 2.0):
//     https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
//   - Integration timeouts and payload limits:
//     https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
//   - PutRecords: https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html
//   - CloudEvents HTTP binding (binary and structured modes):
//     https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/http-protocol-binding.md
package ingest
