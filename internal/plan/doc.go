// Package plan answers, before deploying, how much of each AWS service a traffic needs, which
// documented limit it meets first and at what rate, and what it costs a month: `firelane plan`.
//
// The inputs are the traffic (average and peak events per second, events per API request), the
// deployed configuration (template.yaml's parameters, samconfig.toml's deploy overrides, and the
// functions' memory sizes, alarms and dashboards, evaluated with internal/cfn), a sample of events,
// and a dated price file (prices.json, embedded) whose every price names the page it was quoted
// from, or is unknown. [MeasureSample] runs firelane's own ingest, enrich and transform on the
// sample, with AWS writes acknowledged in process, so that record sizes, the accepted share, the
// partition keys and the lake partitions are the stages' own; [Build] turns them into the plan.
//
// Limits and the pages they come from (docs/plan.md lists every assumption):
//   - Kinesis shard writes 1 MiB/s or 1,000 records/s, reads 2 MiB/s; on-demand capacity modes:
//     https://docs.aws.amazon.com/streams/latest/dev/working-with-streams.html,
//     https://docs.aws.amazon.com/streams/latest/dev/how-do-i-size-a-stream.html
//   - Lambda concurrency, payloads, CPU in proportion to memory:
//     https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html,
//     https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html,
//     https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html
//   - API Gateway throttles and integration timeout:
//     https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
//   - Firehose Direct PUT quotas and active partitions:
//     https://docs.aws.amazon.com/firehose/latest/dev/limits.html,
//     https://docs.aws.amazon.com/firehose/latest/dev/buffering.html
//
// The hash-to-shard rule is internal/shardmap's and the active-partition rule internal/lake's, the
// same code `firelane schema check` uses.
package plan
