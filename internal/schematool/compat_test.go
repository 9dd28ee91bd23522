package schematool

import (
	"strings"
	"testing"
)

func mustDoc(t *testing.T, s string) map[string]any {
	t.Helper()
	v, err := decodeJSON([]byte(s))
	if err != nil {
		t.Fatalf("bad test schema %s: %v", s, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("test schema %s is not an object", s)
	}
	return m
}

// TestCompareEdits classifies real edits to a schema in both directions: from old to new, and the
// reverse edit from new to old.
func TestCompareEdits(t *testing.T) {
	const closed = `"type":"object","additionalProperties":false`
	tests := []struct {
		name          string
		old, new      string
		forward       bool   // whether old -> new is breaking
		reverse       bool   // whether new -> old is breaking
		forwardReason string // a word the forward change's reasons must contain
	}{
		{"optional property added to a closed object", `{` + closed + `,"properties":{"a":{"type":"string"}}}`,
			`{` + closed + `,"properties":{"a":{"type":"string"},"b":{"type":"integer"}}}`, false, true, "added"},
		{"optional property added to an open object", `{"type":"object","properties":{"a":{"type":"string"}}}`,
			`{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}}}`, true, true, "open object"},
		{"unconstrained property added to an open object", `{"type":"object","properties":{"a":{"type":"string"}}}`,
			`{"type":"object","properties":{"a":{"type":"string"},"b":{"description":"anything"}}}`, false, true, "without constraints"},
		{"property renamed", `{` + closed + `,"properties":{"user":{"type":"string"}}}`,
			`{` + closed + `,"properties":{"user_id":{"type":"string"}}}`, true, true, "removed"},
		{"property becomes required", `{` + closed + `,"required":["a"],"properties":{"a":{"type":"string"},"b":{"type":"string"}}}`,
			`{` + closed + `,"required":["a","b"],"properties":{"a":{"type":"string"},"b":{"type":"string"}}}`, true, false, "became required"},
		{"new required property", `{` + closed + `,"properties":{"a":{"type":"string"}}}`,
			`{` + closed + `,"required":["b"],"properties":{"a":{"type":"string"},"b":{"type":"string"}}}`, true, true, "became required"},
		{"type widened to nullable", `{"type":"object","properties":{"r":{"type":"string"}}}`,
			`{"type":"object","properties":{"r":{"type":["string","null"]}}}`, false, true, "widened"},
		{"integer widened to number changes the column", `{"type":"object","properties":{"n":{"type":"integer"}}}`,
			`{"type":"object","properties":{"n":{"type":"number"}}}`, true, true, "column type"},
		{"type changed", `{"type":"object","properties":{"n":{"type":"string"}}}`,
			`{"type":"object","properties":{"n":{"type":"boolean"}}}`, true, true, "narrowed"},
		{"maximum raised", `{"type":"object","properties":{"n":{"type":"integer","maximum":10}}}`,
			`{"type":"object","properties":{"n":{"type":"integer","maximum":100}}}`, false, true, "widened"},
		{"minimum lowered", `{"type":"object","properties":{"n":{"type":"number","minimum":0}}}`,
			`{"type":"object","properties":{"n":{"type":"number","minimum":-60.5}}}`, false, true, "widened"},
		{"maxLength added", `{"type":"object","properties":{"s":{"type":"string"}}}`,
			`{"type":"object","properties":{"s":{"type":"string","maxLength":32}}}`, true, false, "added"},
		{"minItems raised", `{"type":"object","properties":{"a":{"type":"array","items":{"type":"string"},"minItems":1}}}`,
			`{"type":"object","properties":{"a":{"type":"array","items":{"type":"string"},"minItems":2}}}`, true, false, "narrowed"},
		{"enum value added", `{"type":"object","properties":{"c":{"type":"string","enum":["EUR","USD"]}}}`,
			`{"type":"object","properties":{"c":{"type":"string","enum":["EUR","USD","JPY"]}}}`, false, true, "added"},
		{"enum added", `{"type":"object","properties":{"c":{"type":"string"}}}`,
			`{"type":"object","properties":{"c":{"type":"string","enum":["EUR"]}}}`, true, false, "enum"},
		{"const added", `{"type":"object","properties":{"c":{"type":"string"}}}`,
			`{"type":"object","properties":{"c":{"type":"string","const":"x"}}}`, true, false, "const"},
		{"pattern changed", `{"type":"object","properties":{"s":{"type":"string","pattern":"^a"}}}`,
			`{"type":"object","properties":{"s":{"type":"string","pattern":"^[ab]"}}}`, true, true, "cannot prove"},
		{"format added", `{"type":"object","properties":{"s":{"type":"string"}}}`,
			`{"type":"object","properties":{"s":{"type":"string","format":"email"}}}`, true, false, "format"},
		{"object closed", `{"type":"object","properties":{"a":{"type":"string"}}}`,
			`{` + closed + `,"properties":{"a":{"type":"string"}}}`, true, false, "additionalProperties"},
		{"multipleOf relaxed", `{"type":"object","properties":{"p":{"type":"number","multipleOf":0.01}}}`,
			`{"type":"object","properties":{"p":{"type":"number","multipleOf":0.001}}}`, false, true, "relaxed"},
		{"description edited", `{"type":"object","description":"old words","properties":{"a":{"type":"string","title":"A"}}}`,
			`{"type":"object","description":"new words","properties":{"a":{"type":"string","title":"The A"}}}`, false, false, "documentation"},
		{"examples edited", `{"type":"object","examples":[{"a":"x"}]}`, `{"type":"object","examples":[{"a":"y"}],"x-invalid-examples":[{"a":1}]}`, false, false, "documentation"},
		{"nested property removed from a closed object", `{"type":"object","properties":{"v":{` + closed + `,"properties":{"w":{"type":"integer"},"h":{"type":"integer"}}}}}`,
			`{"type":"object","properties":{"v":{` + closed + `,"properties":{"w":{"type":"integer"}}}}}`, true, false, "removed"},
		{"array item property added", `{"type":"object","properties":{"items":{"type":"array","items":{` + closed + `,"properties":{"sku":{"type":"string"}}}}}}`,
			`{"type":"object","properties":{"items":{"type":"array","items":{` + closed + `,"properties":{"sku":{"type":"string"},"qty":{"type":"integer"}}}}}}`, false, true, "added"},
		{"x-pii hash added on a string", `{"type":"object","properties":{"e":{"type":"string"}}}`,
			`{"type":"object","properties":{"e":{"type":"string","x-pii":"hash"}}}`, false, true, "x-pii"},
		{"x-pii hash added on a number", `{"type":"object","properties":{"n":{"type":"integer"}}}`,
			`{"type":"object","properties":{"n":{"type":"integer","x-pii":"hash"}}}`, true, true, "column type"},
		{"x-pii redact added", `{"type":"object","properties":{"b":{"type":"string"},"a":{"type":"object","properties":{"lat":{"type":"number"}}}}}`,
			`{"type":"object","properties":{"b":{"type":"string"},"a":{"type":"object","x-pii":"redact","properties":{"lat":{"type":"number"}}}}}`, false, true, "leaves the Athena table"},
		{"uniqueItems set", `{"type":"object","properties":{"a":{"type":"array"}}}`,
			`{"type":"object","properties":{"a":{"type":"array","uniqueItems":true}}}`, true, false, "uniqueItems"},
		{"anyOf added", `{"type":"object","properties":{"a":{"type":"string"}}}`,
			`{"type":"object","properties":{"a":{"type":"string","anyOf":[{"minLength":1},{"const":""}]}}}`, true, false, "anyOf"},
		{"$id changed", `{"$id":"https://firelane.dev/schemas/a.b/v1.json","type":"object"}`,
			`{"$id":"https://firelane.dev/schemas/a.b/v2.json","type":"object"}`, true, true, "$id"},
		{"string becomes an object", `{"type":"object","properties":{"loc":{"type":"string"}}}`,
			`{"type":"object","properties":{"loc":{"type":"object","properties":{"lat":{"type":"number"}}}}}`, true, true, "column type"},
	}
	if len(tests) < 20 {
		t.Fatalf("only %d edits", len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old, new := mustDoc(t, tc.old), mustDoc(t, tc.new)
			fw := Compare(old, new)
			if len(fw) == 0 {
				t.Fatalf("no change found")
			}
			if got := Breaking(fw); got != tc.forward {
				t.Errorf("forward: got breaking %v, want %v: %v", got, tc.forward, fw)
			}
			var reasons []string
			for _, c := range fw {
				reasons = append(reasons, c.Reason)
			}
			if !strings.Contains(strings.Join(reasons, "\n"), tc.forwardReason) {
				t.Errorf("forward reasons %q do not mention %q", reasons, tc.forwardReason)
			}
			rv := Compare(new, old)
			if got := Breaking(rv); got != tc.reverse {
				t.Errorf("reverse: got breaking %v, want %v: %v", got, tc.reverse, rv)
			}
			if same := Compare(old, old); len(same) != 0 {
				t.Errorf("a schema compared with itself has changes: %v", same)
			}
		})
	}
}

func TestCompareLocatesChanges(t *testing.T) {
	old := mustDoc(t, `{"type":"object","properties":{"v":{"type":"object","properties":{"w":{"type":"integer","maximum":10}}}}}`)
	new := mustDoc(t, `{"type":"object","properties":{"v":{"type":"object","properties":{"w":{"type":"integer","maximum":5}}}}}`)
	got := Compare(old, new)
	if len(got) != 1 || got[0].Pointer != "/properties/v/properties/w/maximum" || !got[0].Breaking {
		t.Fatalf("got %v, want one breaking change at /properties/v/properties/w/maximum", got)
	}
}
