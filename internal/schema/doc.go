// Package schema is firelane's schema registry: it loads the JSON Schemas (draft 2020-12) of the
// CloudEvents envelope and of every event type's data, compiles each once with
// github.com/santhosh-tekuri/jsonschema/v5 (formats asserted), selects a data schema by an event's
// type and major version, and explains validation failures as JSON pointers, keywords and messages.
//
// A schema directory holds cloudevent.json (the envelope; the embedded one is used when absent) and
// one file per event type and major version, named TYPE.vMAJOR.json, for example
// com.acme.web.page_view.v1.json. Files may sit in subdirectories. Draft 2020-12 is described at
// https://json-schema.org/draft/2020-12/json-schema-core.
package schema
