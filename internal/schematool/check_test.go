package schematool

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// repoRoot returns the repository's root: the nearest directory above the test with a go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// TestRepositorySchemas is `firelane schema check -strict` over the repository's schemas/, run in CI:
// warnings fail it too, so that a scaffold's placeholders are never merged.
func TestRepositorySchemas(t *testing.T) {
	rep, err := Check(filepath.Join(repoRoot(t), "schemas"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range rep.Diagnostics {
		t.Error(d)
	}
	if rep.Files == 0 || rep.Examples < rep.Files {
		t.Errorf("checked %d schemas and %d examples; want every schema to have an example", rep.Files, rep.Examples)
	}
}

const baseSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://firelane.dev/schemas/com.acme.test.thing/v1.json",
  "title": "Thing",
  "description": "A thing happened.",
  "type": "object",
  "required": ["name"],
  "additionalProperties": false,
  "properties": {
    "name": {"type": "string", "maxLength": 10},
    "tags": {"type": "array", "items": {"type": "string"}}
  },
  "examples": [
    {"name": "a", "tags": ["x"]}
  ],
  "x-invalid-examples": [
    {"tags": ["x"]}
  ]
}
`

func TestCheckFindsMistakes(t *testing.T) {
	const file = "com.acme.test.thing.v1.json"
	tests := []struct {
		name      string
		file      string // default: file
		from, to  string // the edit to baseSchema
		wantLine  int
		want      string // a part of the message
		wantError bool   // false: a warning
	}{
		{"wrong $id", "", `thing/v1.json"`, `thing/v2.json"`, 3, "$id must be", true},
		{"wrong dialect", "", `draft/2020-12/schema`, `draft-07/schema#`, 2, "$schema must be", true},
		{"keyword typo", "", `"required": ["name"]`, `"requird": ["name"]`, 7, `unknown keyword "requird"`, true},
		{"old keyword", "", `"properties": {
    "name"`, `"definitions": {},
  "properties": {
    "name"`, 9, `"$defs"`, true},
		{"invalid example", "", `{"name": "a", "tags": ["x"]}`, `{"name": "far too long a name", "tags": ["x"]}`, 14, "examples[0] is invalid", true},
		{"valid counter-example", "", `{"tags": ["x"]}`, `{"name": "b"}`, 17, "must be rejected", true},
		{"bad x-pii value", "", `"maxLength": 10}`, `"maxLength": 10, "x-pii": "encrypt"}`, 10, `"hash" or "redact"`, true},
		{"x-pii on items", "", `"items": {"type": "string"}`, `"items": {"type": "string", "x-pii": "hash"}`, 11, "array items is not supported", true},
		{"x-pii at the root", "", `"type": "object",`, `"type": "object", "x-pii": "redact",`, 6, "only applies to a member of properties", true},
		{"upper-case property", "", `"tags": {`, `"Tags": {`, 11, "Athena lower-cases", true},
		{"metaschema violation", "", `"maxLength": 10`, `"maxLength": "10"`, 10, "not a valid draft 2020-12 schema", true},
		{"not JSON", "", `"title": "Thing",`, `"title": "Thing"`, 5, "not JSON", true},
		{"no examples", "", `"examples": [
    {"name": "a", "tags": ["x"]}
  ],`, ``, 1, "examples must be a non-empty array", true},
		{"not an object type", "", `"type": "object",`, `"type": "array",`, 6, `type must be "object"`, true},
		{"empty description", "", `"A thing happened."`, `""`, 5, "description must be a non-empty string", true},
		{"placeholder left", "", `"A thing happened."`, `"FIXME: say what happened."`, 5, "placeholder", false},
		{"file name without version", "com.acme.test.thing.json", "", "", 1, "TYPE.vMAJOR.json", true},
		{"upper-case type", "Com.Acme.test.thing.v1.json", "", "", 1, "lower-case dot-separated", true},
		{"leading zero version", "com.acme.test.thing.v01.json", "", "", 1, "without leading zeros", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			src := baseSchema
			if tc.from != "" {
				if !strings.Contains(src, tc.from) {
					t.Fatalf("the edit's text %q is not in the base schema", tc.from)
				}
				src = strings.Replace(src, tc.from, tc.to, 1)
			}
			name := file
			if tc.file != "" {
				name = tc.file
			}
			if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			rep, err := Check(dir)
			if err != nil {
				t.Fatal(err)
			}
			var found *Diagnostic
			for i, d := range rep.Diagnostics {
				if strings.Contains(d.Message, tc.want) {
					found = &rep.Diagnostics[i]
					break
				}
			}
			if found == nil {
				t.Fatalf("no diagnostic mentions %q; got %v", tc.want, rep.Diagnostics)
			}
			if found.Line != tc.wantLine {
				t.Errorf("got line %d, want %d: %s", found.Line, tc.wantLine, found)
			}
			if found.Warning == tc.wantError {
				t.Errorf("got warning %v, want %v: %s", found.Warning, !tc.wantError, found)
			}
			if want := filepath.Join(dir, name) + ":"; !strings.HasPrefix(found.String(), want) {
				t.Errorf("got %q, want it to start with %q", found.String(), want)
			}
			if tc.wantError && rep.Errors() == 0 {
				t.Errorf("the check passes")
			}
		})
	}
}

func TestCheckPassesTheBase(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "com.acme.test.thing.v1.json"), []byte(baseSchema), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Diagnostics) != 0 || rep.Examples != 1 || rep.CounterExamples != 1 {
		t.Fatalf("got %+v, want a clean check of one example and one counter-example", rep)
	}
}
