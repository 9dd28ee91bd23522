// Package transform is firelane's Firehose data-transformation hook: it turns each record of the
// events delivery stream into one lake row (a newline-terminated JSON object) and gives Firehose the
// partition keys of dynamic partitioning.
//
// Contract (https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html and
// https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-status-model.html): every input
// recordId comes back exactly once, in input order, with result Ok, Dropped or ProcessingFailed and
// base64 data. A record that is not an event is ProcessingFailed with its data unchanged, so
// Firehose writes it under the processing-failed error prefix. A Go error from the handler makes
// Firehose retry the whole invocation.
package transform
