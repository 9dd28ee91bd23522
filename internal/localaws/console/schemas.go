package console

import (
	"encoding/json"
	"net/http"
)

// Schema is one data schema the pipeline validates with, and its examples.
type Schema struct {
	Type        string            `json:"type"`
	Version     int               `json:"version"`
	ID          string            `json:"id,omitempty"`
	Path        string            `json:"path"`
	Title       string            `json:"title,omitempty"`
	Description string            `json:"description,omitempty"`
	PII         map[string]string `json:"pii,omitempty"`
	Examples    []json.RawMessage `json:"examples"`
	Invalid     []json.RawMessage `json:"invalid_examples"`
	Source      json.RawMessage   `json:"source"`
}

// schemas answers GET schemas: every data schema loaded, by type and version, with its examples
// (the schema's "examples" and "x-invalid-examples", docs/schemas.md).
func (c *Console) schemas(w http.ResponseWriter, _ *http.Request) {
	out := []Schema{}
	if c.Registry != nil {
		for _, k := range c.Registry.Keys() {
			e, ok := c.Registry.Lookup(k.Type, k.Version)
			if !ok {
				continue
			}
			s := Schema{Type: k.Type, Version: k.Version, ID: e.ID, Path: e.Path, PII: e.PII,
				Examples: []json.RawMessage{}, Invalid: []json.RawMessage{}}
			var doc struct {
				Title       string            `json:"title"`
				Description string            `json:"description"`
				Examples    []json.RawMessage `json:"examples"`
				Invalid     []json.RawMessage `json:"x-invalid-examples"`
			}
			if json.Unmarshal(e.Source, &doc) == nil {
				s.Title, s.Description = doc.Title, doc.Description
				s.Examples = append(s.Examples, doc.Examples...)
				s.Invalid = append(s.Invalid, doc.Invalid...)
			}
			if json.Valid(e.Source) {
				s.Source = e.Source
			}
			out = append(out, s)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"schemas": out, "count": len(out)})
}
