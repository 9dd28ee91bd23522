// Package schemas holds firelane's JSON Schemas: cloudevent.json for the CloudEvents envelope and
// one TYPE.vMAJOR.json per event type and major version (see docs/schemas.md). It is a Go package
// only so that the functions can embed the files.
package schemas

import "embed"

// FS holds every schema file of this directory.
//
//go:embed *.json
var FS embed.FS

// Envelope is the CloudEvents 1.0 envelope schema.
//
//go:embed cloudevent.json
var Envelope []byte
