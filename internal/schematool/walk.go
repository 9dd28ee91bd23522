package schematool

import (
	"sort"
	"strconv"
)

// Keywords of JSON Schema draft 2020-12, by vocabulary
// (https://json-schema.org/draft/2020-12/json-schema-core and json-schema-validation).
var knownKeywords = map[string]bool{
	// core
	"$schema": true, "$id": true, "$ref": true, "$anchor": true, "$dynamicRef": true, "$dynamicAnchor": true,
	"$vocabulary": true, "$comment": true, "$defs": true,
	// applicator
	"allOf": true, "anyOf": true, "oneOf": true, "not": true, "if": true, "then": true, "else": true,
	"dependentSchemas": true, "prefixItems": true, "items": true, "contains": true, "properties": true,
	"patternProperties": true, "additionalProperties": true, "propertyNames": true,
	// unevaluated
	"unevaluatedItems": true, "unevaluatedProperties": true,
	// validation
	"type": true, "enum": true, "const": true, "multipleOf": true, "maximum": true, "exclusiveMaximum": true,
	"minimum": true, "exclusiveMinimum": true, "maxLength": true, "minLength": true, "pattern": true,
	"maxItems": true, "minItems": true, "uniqueItems": true, "maxContains": true, "minContains": true,
	"maxProperties": true, "minProperties": true, "required": true, "dependentRequired": true,
	// format, content, meta-data
	"format": true, "contentEncoding": true, "contentMediaType": true, "contentSchema": true,
	"title": true, "description": true, "default": true, "deprecated": true, "readOnly": true,
	"writeOnly": true, "examples": true,
}

// Keywords whose value is one subschema, a map of subschemas, or an array of subschemas.
var (
	schemaKeywords = []string{"items", "contains", "additionalProperties", "propertyNames", "unevaluatedItems",
		"unevaluatedProperties", "not", "if", "then", "else", "contentSchema"}
	schemaMapKeywords   = []string{"properties", "patternProperties", "$defs", "dependentSchemas"}
	schemaArrayKeywords = []string{"allOf", "anyOf", "oneOf", "prefixItems"}
)

// place says where a subschema sits, for the checks that depend on it.
type place int

const (
	placeRoot     place = iota
	placeProperty       // a member of properties
	placeItems          // the items schema
	placeOther
)

// walkSchemas calls fn for the schema object s at pointer ptr and for every subschema object in it,
// in a stable order. Boolean schemas are skipped.
func walkSchemas(s map[string]any, ptr string, at place, fn func(s map[string]any, ptr string, at place)) {
	fn(s, ptr, at)
	for _, k := range schemaKeywords {
		if sub, ok := s[k].(map[string]any); ok {
			p := placeOther
			if k == "items" {
				p = placeItems
			}
			walkSchemas(sub, ptr+"/"+k, p, fn)
		}
	}
	for _, k := range schemaMapKeywords {
		m, ok := s[k].(map[string]any)
		if !ok {
			continue
		}
		for _, name := range sortedKeys(m) {
			if sub, ok := m[name].(map[string]any); ok {
				p := placeOther
				if k == "properties" {
					p = placeProperty
				}
				walkSchemas(sub, ptr+"/"+k+"/"+escapePointer(name), p, fn)
			}
		}
	}
	for _, k := range schemaArrayKeywords {
		a, ok := s[k].([]any)
		if !ok {
			continue
		}
		for i, e := range a {
			if sub, ok := e.(map[string]any); ok {
				walkSchemas(sub, ptr+"/"+k+"/"+strconv.Itoa(i), placeOther, fn)
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
