// Package fastschema decides whether JSON text is valid against a JSON Schema (draft 2020-12) in
// one pass over its bytes, without decoding it and without allocating once warm, and decides
// exactly as jsonschema/v5 does for the value encoding/json (with UseNumber) decodes from the same
// text. The edge uses it for the accept decision and asks v5 for the reasons only when an event
// is rejected (see internal/schema and docs/validation.md).
//
// [Compile] takes the schema that jsonschema/v5 has compiled, so both read the document, $ref and
// $defs identically, and turns it into a tree of checks that a recursive scanner applies while
// it walks the text: type, properties, required, additionalProperties, patternProperties,
// propertyNames, items, prefixItems, contains/minContains/maxContains, enum, const, the numeric
// limits, multipleOf, minLength/maxLength, pattern, format, minItems/maxItems, uniqueItems,
// minProperties/maxProperties, dependentRequired, $ref, allOf/anyOf/oneOf/not and if/then/else.
// A schema that uses any other assertion ($dynamicRef, unevaluatedProperties, dependentSchemas,
// content keywords, ...) is declined with a [*DeclinedError], and v5 validates against it.
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
