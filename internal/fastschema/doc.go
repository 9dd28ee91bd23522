// Package fastschema decides whether JSON text is valid against a JSON Schema (draft 2020-12) in
// one pass over its bytes, without decoding it and without allocating once warm, and decides
// exactly as jsonschema/v5 does for the value encoding/json (with UseNumber) decodes from the same
// text. The edge uses it for the accept decision and asks v5 for the reasons only when an event
// is rejected (see internal/schema and docs/validation.md).
//
// A [Compiler] reads the schema documents themselves (the JSON of each schema and of the
// documents its $ref names, loaded through the same no-network loader as internal/schema's
// jsonschema/v5 compiler) and resolves $id, $anchor, $ref and $defs by the rules v5 applies to
// draft 2020-12 (see resolve.go), so that both reach the same subschemas. Nothing of v5 is read
// but its public format checkers: the fast path does not depend on how v5 stores a compiled
// schema. Each subschema becomes a node of checks that a recursive scanner applies while
// it walks the text: type, properties, required, additionalProperties, patternProperties,
// propertyNames, items, prefixItems, contains/minContains/maxContains, enum, const, the numeric
// limits, multipleOf, minLength/maxLength, pattern, format, minItems/maxItems, uniqueItems,
// minProperties/maxProperties, dependentRequired, $ref, allOf/anyOf/oneOf/not and if/then/else,
// each read only where the document's metaschema enables its vocabulary. A schema that uses any
// other assertion ($dynamicRef, unevaluatedProperties, dependentSchemas, content keywords, ...),
// another draft, a metaschema the fast path has no copy of, or whose meaning would depend on the
// order in which v5 happened to compile it, is declined with a [*DeclinedError], and v5
// validates against it.
//
// What makes the answer v5's:
//   - JSON syntax, nesting depth (10000) and trailing text follow encoding/json's scanner.
//   - Strings are compared, measured and matched as encoding/json decodes them: escapes resolved,
//     invalid UTF-8 and lone surrogates replaced by U+FFFD.
//   - A member name that occurs twice counts once, with its last value, as in a decoded map.
//   - Numbers are exact decimals, as v5's big.Rat arithmetic: 1.0 is an integer, 0.3 is a
//     multiple of 0.1, and integers of any length compare exactly. Where v5 would panic (an
//     exponent beyond math/big's range that a keyword needs), the answer is invalid.
//   - Formats either reproduce v5's checker or recognise a subset of what it accepts and ask the
//     checker itself about everything else.
//
// Work is bounded on hostile input: every value is scanned once per subschema that applies to it,
// member names are deduplicated through a hash table once an object has many, uniqueItems sorts
// hashes, and patterns run as a DFA over ASCII built at compile time (Go's regexp otherwise).
package fastschema
