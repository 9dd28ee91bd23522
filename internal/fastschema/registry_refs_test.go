package fastschema_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/firelane/firelane/internal/schema"
)

// TestRegistryCrossFileRefs loads a schema directory whose data schema refers to another file's
// $defs, as the edge does: the fast path must compile it from the documents (nothing declined) and
// give the same result as v5 on every event.
func TestRegistryCrossFileRefs(t *testing.T) {
	dir, _ := workloadPaths(t)
	tmp := t.TempDir()
	env, err := os.ReadFile(filepath.Join(dir, "cloudevent.json"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"cloudevent.json": string(env),
		// The registry compiles files in lexical order, so a file may refer to those before it.
		"com.example.base.v1.json": `{"$defs":{"name":{"type":"string","minLength":1,"maxLength":8},
			"tags":{"type":"array","items":{"$ref":"#/$defs/name"},"uniqueItems":true}}}`,
		"com.example.user.v1.json": `{"type":"object","required":["name"],"additionalProperties":false,
			"properties":{"name":{"$ref":"com.example.base.v1.json#/$defs/name"},
				"tags":{"$ref":"firelane:///com.example.base.v1.json#/$defs/tags"}}}`,
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(tmp, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	reg, err := schema.LoadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if d := reg.FastDeclined(); len(d) != 0 {
		t.Fatalf("got declined %v, want none", d)
	}
	const head = `{"specversion":"1.0","id":"1","source":"/s","type":"com.example.user","data":`
	for _, tc := range []struct {
		name  string
		data  string
		valid bool
	}{
		{"valid", `{"name":"ada","tags":["a","b"]}`, true},
		{"name too long", `{"name":"adalovelace"}`, false},
		{"empty tag", `{"name":"ada","tags":[""]}`, false},
		{"repeated tag", `{"name":"ada","tags":["a","a"]}`, false},
		{"unknown member", `{"name":"ada","x":1}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := []byte(head + tc.data + "}")
			if err := reg.SetValidator(schema.ValidatorFast); err != nil {
				t.Fatal(err)
			}
			fast := reg.ValidateJSON(ev, 0)
			if err := reg.SetValidator(schema.ValidatorV5); err != nil {
				t.Fatal(err)
			}
			v5 := reg.ValidateJSON(ev, 0)
			if fast.Valid() != tc.valid {
				t.Errorf("got valid=%v (%v), want %v", fast.Valid(), fast.Reasons, tc.valid)
			}
			if !reflect.DeepEqual(fast, v5) {
				t.Errorf("got fast result %+v, want v5's %+v", fast, v5)
			}
		})
	}
}
