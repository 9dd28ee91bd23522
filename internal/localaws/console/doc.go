// Package console is the JSON API of `firelane up` under /_console/api/: what became of each
// event sent to the local pipeline (accepted, rejected with its reasons, delivered with its lake
// row and S3 key, or failed with its reasons), counts, and a reset, so that an app's own tests can
// drive the app against the local pipeline and assert what it sent. A web page can build on the
// same API.
//
// The [Recorder] learns of an event at three places, none of which changes what the pipeline
// does: the API's answer to each request (ingest's per-event results), the objects the delivery
// streams write (lake rows, rejected and failed envelopes, Firehose error records), and the
// batches the event source mapping discards. It keeps ids, types, reasons and rows in memory and
// logs counts only.
package console
