// Package emf encodes CloudWatch Embedded Metric Format (EMF) documents: structured log events
// that CloudWatch Logs turns into metrics, so a Lambda function publishes metrics by writing a line
// to stdout, with no API call and no extra latency.
//
// It follows the specification at
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
// and the PutMetricData limits it refers to
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_Dimension.html,
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDatum.html):
//
//   - a document has an "_aws" member holding a millisecond Timestamp and CloudWatchMetrics, an
//     array of metric directives, each with a Namespace, Dimensions (an array of dimension sets)
//     and Metrics (an array of metric definitions);
//   - a directive holds at most 100 metric definitions ([MaxMetrics]);
//   - a dimension set names at most 30 dimensions ([MaxDimensions]); every name it lists is a root
//     member whose value is a string of 1 to 1,024 ASCII characters;
//   - every metric definition names a root member whose value is a number or an array of at most
//     100 numbers ([MaxValues]); NaN and infinities are not accepted;
//   - Unit is one of CloudWatch's units ([Unit.Valid]) and StorageResolution is 1 or 60.
//
// [Document.Split] turns a document that exceeds a limit into several that do not, and
// [Document.Encode] refuses one that breaks a rule rather than write a line CloudWatch would
// silently drop. [Verify] checks any log line against the same rules, for tests.
package emf
