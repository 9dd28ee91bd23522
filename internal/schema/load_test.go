package schema

import (
	"strings"
	"testing"
	"testing/fstest"
)

const pageView = `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","required":["url"],
 "properties":{"url":{"type":"string","format":"uri"},"user":{"type":"string","x-pii":"hash"},
 "items":{"type":"array","items":{"type":"object","properties":{"email":{"type":"string","x-pii":"redact"}}}}}}`

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		files fstest.MapFS
		want  string
	}{
		{"not JSON", fstest.MapFS{"a.b.v1.json": {Data: []byte("{")}}, "a.b.v1.json"},
		{"does not compile", fstest.MapFS{"a.b.v1.json": {Data: []byte(`{"type":"nothing"}`)}}, "a.b.v1.json"},
		{"duplicate", fstest.MapFS{"x/a.b.v1.json": {Data: []byte(`{}`)}, "y/a.b.v1.json": {Data: []byte(`{}`)}}, "already defined"},
		{"version zero", fstest.MapFS{"a.b.v0.json": {Data: []byte(`{}`)}}, "positive"},
		{"remote ref", fstest.MapFS{"a.b.v1.json": {Data: []byte(`{"$ref":"https://example.com/s.json"}`)}}, "outside the schema directory"},
		{"bad envelope", fstest.MapFS{"cloudevent.json": {Data: []byte(`[`)}}, "cloudevent.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.files)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestDefaultRegistry(t *testing.T) {
	r, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Keys()) < 3 {
		t.Fatalf("got %d embedded schemas, want at least 3", len(r.Keys()))
	}
	for _, k := range r.Keys() {
		e, _ := r.Lookup(k.Type, k.Version)
		if e.ID == "" {
			t.Errorf("%s has no $id", k)
		}
	}
}

func TestValidate(t *testing.T) {
	r, err := Load(fstest.MapFS{"com.acme.page_view.v1.json": {Data: []byte(pageView)}})
	if err != nil {
		t.Fatal(err)
	}
	env := `"specversion":"1.0","id":"e1","source":"/s","type":"com.acme.page_view"`
	tests := []struct {
		name  string
		event string
		want  []string // location keyword pairs
	}{
		{"valid", `{` + env + `,"data":{"url":"https://a.test/"}}`, nil},
		{"valid v1 named", `{` + env + `,"dataschema":"com.acme.page_view/v1","data":{"url":"https://a.test/"}}`, nil},
		{"data invalid", `{` + env + `,"data":{"url":"nope"}}`, []string{"/data/url format"}},
		{"data missing property", `{` + env + `,"data":{}}`, []string{"/data required"}},
		{"unknown version", `{` + env + `,"dataschema":"com.acme.page_view/v2","data":{}}`, []string{"/type type-version"}},
		{"unknown type", `{"specversion":"1.0","id":"e1","source":"/s","type":"com.acme.nope","data":{}}`, []string{"/type type-version"}},
		{"envelope first", `{"specversion":"1.0","id":"","source":"/s","type":"com.acme.page_view","data":{"url":"nope"}}`, []string{"/id minLength"}},
		{"not an object", `[1]`, []string{" type"}},
		{"not JSON", `{"a":`, []string{" "}},
		{"trailing text", `{} {}`, []string{" "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := r.ValidateJSON([]byte(tt.event), 10)
			var got []string
			for _, e := range res.Reasons {
				got = append(got, e.Location+" "+e.Keyword)
				if e.Message == "" {
					t.Errorf("reason %s has no message", e.Location)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("got reasons %q, want %q", got, tt.want)
			}
			if tt.want == nil && (res.Entry == nil || res.Entry.Type != "com.acme.page_view") {
				t.Errorf("valid event selected entry %v", res.Entry)
			}
		})
	}
}

func TestUnknownVersionNamesIt(t *testing.T) {
	r, err := Load(fstest.MapFS{"com.acme.page_view.v1.json": {Data: []byte(pageView)}})
	if err != nil {
		t.Fatal(err)
	}
	res := r.ValidateJSON([]byte(`{"specversion":"1.0","id":"e1","source":"/s","type":"com.acme.page_view","dataschema":"x/v7","data":{}}`), 10)
	if len(res.Reasons) != 1 || !strings.Contains(res.Reasons[0].Message, `"com.acme.page_view"`) || !strings.Contains(res.Reasons[0].Message, "version 7") {
		t.Fatalf("got %+v, want a reason naming the type and version 7", res.Reasons)
	}
}

func TestMaxErrors(t *testing.T) {
	r, err := Load(fstest.MapFS{"a.b.v1.json": {Data: []byte(`{"properties":{"a":{"type":"string"},"b":{"type":"string"},"c":{"type":"string"}}}`)}})
	if err != nil {
		t.Fatal(err)
	}
	ev := `{"specversion":"1.0","id":"e1","source":"/s","type":"a.b","data":{"a":1,"b":2,"c":3}}`
	if got := len(r.ValidateJSON([]byte(ev), 2).Reasons); got != 2 {
		t.Errorf("got %d reasons with max 2, want 2", got)
	}
	if got := len(r.ValidateJSON([]byte(ev), 0).Reasons); got != 3 {
		t.Errorf("got %d reasons with no max, want 3", got)
	}
}

func TestPIIAnnotations(t *testing.T) {
	r, err := Load(fstest.MapFS{"a.b.v1.json": {Data: []byte(pageView)}})
	if err != nil {
		t.Fatal(err)
	}
	e, _ := r.Lookup("a.b", 1)
	want := map[string]string{"/user": "hash", "/items/*/email": "redact"}
	if len(e.PII) != len(want) {
		t.Fatalf("got %v, want %v", e.PII, want)
	}
	for k, v := range want {
		if e.PII[k] != v {
			t.Errorf("PII[%s] = %q, want %q", k, e.PII[k], v)
		}
	}
}
