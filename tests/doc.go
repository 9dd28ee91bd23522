// Package tests holds firelane's end-to-end tests: the whole pipeline run locally, and against
// local AWS endpoints. They run in the default `go test ./...`.
package tests
