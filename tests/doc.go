// Package tests holds firelane's end-to-end and integration tests: the whole pipeline run locally
// and against local AWS endpoints (moto's Kinesis, S3 and Secrets Manager with the local Firehose
// emulator), the SAM template's deployability, the sam build artifacts, and invocations of the
// built functions under the Lambda Runtime Interface Emulator. They run in the default
// `go test ./...` and start everything they need on 127.0.0.1.
package tests
