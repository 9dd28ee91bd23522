package fastschema

import (
	"errors"
	"fmt"
	"testing"
)

// TestResolve compiles schemas whose $ref take every path of the resolver with jsonschema/v5 and
// the fast path from the same documents, and checks that the fast path compiles exactly the ones
// it should, deciding each instance as v5 does, and declines the others.
func TestResolve(t *testing.T) {
	i := 0
	for _, tc := range []struct {
		name      string
		deps      map[string]string // more documents, by URL, added to both compilers first
		schema    string
		instances []string
		declined  string // the DeclinedError keyword expected; "" when the schema must compile
	}{
		{
			name: "relative refs against nested $id",
			schema: `{"$id":"http://x.test/root.json","$ref":"dir/a.json",
				"$defs":{"a":{"$id":"dir/a.json","$ref":"b.json","$defs":{"b":{"$id":"b.json","type":"integer"}}}}}`,
			instances: []string{`1`, `1.0`, `"x"`},
		},
		{
			name:      "dot segments",
			schema:    `{"$id":"http://x.test/a/b/c.json","$defs":{"t":{"$id":"../t.json","type":"integer"}},"$ref":"http://x.test/a/t.json"}`,
			instances: []string{`1`, `"x"`},
		},
		{
			name: "pointer tokens with ~0 and ~1",
			schema: `{"$defs":{"a/b":{"type":"string"},"c~d":{"minimum":3}},
				"properties":{"p":{"$ref":"#/$defs/a~1b"},"q":{"$ref":"#/$defs/c~0d"}}}`,
			instances: []string{`{"p":"s","q":3}`, `{"p":1}`, `{"q":2}`},
		},
		{
			name: "percent-encoded pointer tokens",
			schema: `{"$defs":{"a b":{"type":"string"},"%":{"type":"null"},"é":{"const":1}},
				"properties":{"p":{"$ref":"#/$defs/a%20b"},"q":{"$ref":"#/$defs/%25"},"r":{"$ref":"#/$defs/%C3%A9"}}}`,
			instances: []string{`{"p":"s","q":null,"r":1}`, `{"p":1}`, `{"q":0}`, `{"r":2}`},
		},
		{
			name:      "~ unescaped before percent-decoding",
			schema:    `{"$defs":{"a~1":{"type":"string"},"a/":{"type":"integer"}},"$ref":"#/$defs/a%7E1"}`,
			instances: []string{`"s"`, `1`},
		},
		{
			name:      "array index in a pointer",
			schema:    `{"allOf":[{"type":"integer"},{"minimum":2}],"properties":{"p":{"$ref":"#/allOf/1"}}}`,
			instances: []string{`2`, `{"p":1}`, `{"p":3}`},
		},
		{
			name:      "anchor",
			schema:    `{"$defs":{"x":{"$anchor":"foo","type":"boolean"}},"$ref":"#foo"}`,
			instances: []string{`true`, `1`},
		},
		{
			name:      "anchor of an embedded resource",
			schema:    `{"$id":"http://x.test/r","$defs":{"x":{"$id":"inner","$defs":{"y":{"$anchor":"foo","type":"null"}}}},"$ref":"inner#foo"}`,
			instances: []string{`null`, `0`},
		},
		{
			name:      "dynamic anchor answers a plain $ref",
			schema:    `{"$defs":{"a":{"$dynamicAnchor":"m","type":"string"}},"$ref":"#m"}`,
			instances: []string{`"s"`, `1`},
		},
		{
			name:      "URN base",
			schema:    `{"$id":"urn:uuid:deadbeef-1234-ffff-ffff-4321feebdaed","$defs":{"a":{"type":"integer"}},"$ref":"urn:uuid:deadbeef-1234-ffff-ffff-4321feebdaed#/$defs/a"}`,
			instances: []string{`1`, `"x"`},
		},
		{
			name:      "empty fragments",
			schema:    `{"$defs":{"a":{"$id":"http://x.test/a","type":"string"}},"properties":{"p":{"$ref":"http://x.test/a#"},"q":{"$ref":"http://x.test/a#/"}}}`,
			instances: []string{`{"p":"s","q":"t"}`, `{"p":1}`, `{"q":1}`},
		},
		{
			name:      "another document by the URL it was added under",
			deps:      map[string]string{"firelane:///common.json": `{"$defs":{"id":{"type":"string","pattern":"^a"}}}`},
			schema:    `{"properties":{"id":{"$ref":"common.json#/$defs/id"}}}`,
			instances: []string{`{"id":"ab"}`, `{"id":"b"}`, `{"id":1}`},
		},
		{
			name: "another document whose $id is its base",
			deps: map[string]string{"firelane:///other.json": `{"$id":"https://x.test/lib/other.json",
				"$defs":{"n":{"$ref":"#/$defs/m"},"m":{"$id":"m.json","maximum":5}}}`},
			schema:    `{"$ref":"firelane:///other.json#/$defs/n"}`,
			instances: []string{`5`, `6`, `"x"`},
		},
		{
			name:      "pointer into an unknown keyword",
			schema:    `{"x-lib":{"s":{"type":"string","maxLength":2}},"$ref":"#/x-lib/s"}`,
			instances: []string{`"ab"`, `"abc"`, `1`},
		},
		{
			name:      "custom metaschema without the validation vocabulary",
			deps:      map[string]string{"http://x.test/meta.json": `{"$schema":"https://json-schema.org/draft/2020-12/schema","$id":"http://x.test/meta.json","$vocabulary":{"https://json-schema.org/draft/2020-12/vocab/core":true,"https://json-schema.org/draft/2020-12/vocab/applicator":true}}`},
			schema:    `{"$schema":"http://x.test/meta.json","properties":{"n":{"minimum":10,"type":"string"},"f":false}}`,
			instances: []string{`{"n":1}`, `{"f":1}`, `{}`},
		},
		{
			name:      "custom metaschema with an optional vocabulary",
			deps:      map[string]string{"http://x.test/meta2.json": `{"$id":"http://x.test/meta2.json","$vocabulary":{"https://json-schema.org/draft/2020-12/vocab/core":true,"https://json-schema.org/draft/2020-12/vocab/validation":false,"https://json-schema.org/draft/2020-12/vocab/applicator":true}}`},
			schema:    `{"$schema":"http://x.test/meta2.json","type":"string","items":false}`,
			instances: []string{`1`, `[]`, `[1]`},
		},
		{
			name:     "$id inside an unknown keyword reached by a pointer",
			schema:   `{"x-lib":{"s":{"$id":"http://x.test/s","type":"string"}},"$ref":"#/x-lib/s"}`,
			declined: "an $id or anchor inside a keyword that holds no schema",
		},
		{
			name:     "anchor defined twice",
			schema:   `{"$defs":{"a":{"$anchor":"x","type":"string"},"b":{"$anchor":"x","type":"integer"}},"$ref":"#x"}`,
			declined: "an anchor defined twice",
		},
		{
			name:     "the draft's metaschema",
			schema:   `{"$ref":"https://json-schema.org/draft/2020-12/schema"}`,
			declined: "$dynamicRef (the draft 2020-12 metaschema)",
		},
		{
			name:     "a vocabulary metaschema",
			schema:   `{"$ref":"https://json-schema.org/draft/2020-12/meta/validation"}`,
			declined: "a vocabulary metaschema",
		},
		{
			name:     "another draft",
			schema:   `{"$schema":"http://json-schema.org/draft-07/schema#","type":"string"}`,
			declined: "a draft other than 2020-12",
		},
		{
			name:     "a referenced document of another draft",
			deps:     map[string]string{"firelane:///old.json": `{"$schema":"http://json-schema.org/draft-07/schema#","type":"string"}`},
			schema:   `{"$ref":"old.json"}`,
			declined: "a draft other than 2020-12",
		},
	} {
		i++
		t.Run(tc.name, func(t *testing.T) {
			c := newV5Compiler("")
			for u, src := range tc.deps {
				// The dependencies are added to both; whether they compile alone does not matter.
				_, _, _ = compileBoth(t, c, u, []byte(src))
			}
			s5, fast, err := compileBoth(t, c, fmt.Sprintf("firelane:///case-%d.json", i), []byte(tc.schema))
			if s5 == nil {
				t.Fatalf("v5 cannot compile the schema: %v", err)
			}
			if tc.declined != "" {
				var de *DeclinedError
				if !errors.As(err, &de) || de.Keyword != tc.declined {
					t.Fatalf("got %v, want the fast path to decline for %q", err, tc.declined)
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v, want the schema compiled", err)
			}
			valid := 0
			for _, inst := range tc.instances {
				want, _ := v5Valid(s5, []byte(inst))
				if got := fast.Validate([]byte(inst)); got != want {
					t.Errorf("%s: got valid=%v, want %v as v5", inst, got, want)
				}
				if want {
					valid++
				}
			}
			if valid == 0 || valid == len(tc.instances) {
				t.Errorf("got %d of %d instances valid: each case needs both outcomes", valid, len(tc.instances))
			}
		})
	}
}
