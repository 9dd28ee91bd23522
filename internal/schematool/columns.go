package schematool

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"

	"github.com/firelane/firelane/internal/event"
)

// ColumnType is the Athena type of a lake column or of a field inside one.
type ColumnType struct {
	Kind   string // string, int, bigint, double, boolean, struct or array
	Elem   *ColumnType
	Fields []Field
	// JSONText marks a string column that holds a nested JSON value as its text: the OpenX JSON
	// SerDe reads an object or array into a string column that way.
	JSONText bool
}

// Field is one field of a struct, or one column of a table.
type Field struct {
	Name string
	Type *ColumnType
}

// Hive returns the type as Glue and Athena DDL write it: struct<a:string,b:array<bigint>>.
func (t *ColumnType) Hive() string {
	switch t.Kind {
	case "array":
		return "array<" + t.Elem.Hive() + ">"
	case "struct":
		parts := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			parts[i] = f.Name + ":" + f.Type.Hive()
		}
		return "struct<" + strings.Join(parts, ",") + ">"
	}
	return t.Kind
}

// SQL returns the type as Athena's SQL engine writes it, for CAST: row(a varchar, b array(bigint)).
// A JSON-text field is json: Trino casts a JSON value into a json field whatever it holds, while
// a JSON object or array cannot be cast to varchar
// (https://trino.io/docs/current/functions/json.html#cast-from-json).
func (t *ColumnType) SQL() string {
	switch t.Kind {
	case "string":
		if t.JSONText {
			return "json"
		}
		return "varchar"
	case "int":
		return "integer"
	case "array":
		return "array(" + t.Elem.SQL() + ")"
	case "struct":
		parts := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			parts[i] = `"` + f.Name + `" ` + f.Type.SQL()
		}
		return "row(" + strings.Join(parts, ", ") + ")"
	}
	return t.Kind
}

var (
	stringType   = &ColumnType{Kind: "string"}
	jsonTextType = &ColumnType{Kind: "string", JSONText: true}
)

// dataType returns the column type of the data a schema describes. f and ptr (the schema's pointer
// in f) keep the author's property order; f may be nil. Properties that enrich redacts have no
// field, since the lake never holds them; hashed ones are strings.
func dataType(f *File, s map[string]any, ptr string) *ColumnType {
	if s == nil {
		return jsonTextType
	}
	if pii, _ := s[PIIKeyword].(string); pii == "hash" {
		return stringType
	}
	types := map[string]bool{}
	switch t := s["type"].(type) {
	case string:
		types[t] = true
	case []any:
		for _, e := range t {
			if str, ok := e.(string); ok {
				types[str] = true
			}
		}
	default:
		var values []any
		if e, ok := s["enum"].([]any); ok {
			values = e
		} else if c, ok := s["const"]; ok {
			values = []any{c}
		}
		for _, v := range values {
			types[jsonType(v)] = true
		}
	}
	delete(types, "null")
	if types["number"] && types["integer"] {
		delete(types, "integer")
	}
	if len(types) != 1 {
		if types["object"] || types["array"] || len(types) == 0 {
			return jsonTextType
		}
		return stringType
	}
	switch {
	case types["string"]:
		return stringType
	case types["integer"]:
		return &ColumnType{Kind: "bigint"}
	case types["number"]:
		return &ColumnType{Kind: "double"}
	case types["boolean"]:
		return &ColumnType{Kind: "boolean"}
	case types["array"]:
		items, _ := s["items"].(map[string]any)
		if items == nil {
			return &ColumnType{Kind: "array", Elem: jsonTextType}
		}
		return &ColumnType{Kind: "array", Elem: dataType(f, items, ptr+"/items")}
	}
	props, _ := s["properties"].(map[string]any)
	if len(props) == 0 {
		return jsonTextType
	}
	t := &ColumnType{Kind: "struct"}
	for _, name := range f.Members(ptr+"/properties", props) {
		sub, _ := props[name].(map[string]any)
		if pii, _ := sub[PIIKeyword].(string); pii == "redact" {
			continue
		}
		t.Fields = append(t.Fields, Field{Name: strings.ToLower(name), Type: dataType(f, sub, ptr+"/properties/"+escapePointer(name))})
	}
	if len(t.Fields) == 0 {
		return jsonTextType
	}
	return t
}

func jsonType(v any) string {
	switch x := v.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return "integer"
		}
		return "number"
	case float64:
		if x == float64(int64(x)) {
			return "integer"
		}
		return "number"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return "null"
}

// columnKind returns the kind of the column a schema maps to, for the compatibility rule that no
// column may change its type within a major version.
func columnKind(s map[string]any) string {
	t := dataType(nil, s, "")
	if t.JSONText {
		return "string (JSON text)"
	}
	return t.Kind
}

// RowColumns returns the columns of the lake row that the transform writes (internal/transform,
// docs/lake.md), in order: the event's attributes, then every member of the enrichment and of the
// server context except the receive time, which is a column already, read from the JSON names and
// Go types of [event.Enrichment] and [event.ServerContext], then data, typed as given.
func RowColumns(data *ColumnType) []Field {
	out := []Field{
		{"event_id", stringType}, {"event_type", stringType}, {"event_version", &ColumnType{Kind: "int"}},
		{"event_time", stringType}, {"received_at", stringType}, {"source", stringType}, {"subject", stringType},
		{"data_base64", stringType},
	}
	skip := map[string]bool{"received_at": true, "context": true}
	for _, t := range []reflect.Type{reflect.TypeOf(event.Enrichment{}), reflect.TypeOf(event.ServerContext{})} {
		for _, f := range goColumns(t, nil) {
			if !skip[f.Name] {
				skip[f.Name] = true
				out = append(out, f)
			}
		}
	}
	return append(out, Field{"data", data})
}

func goColumns(t reflect.Type, data *ColumnType) []Field {
	var out []Field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(sf.Name)
		}
		typ := goType(sf.Type)
		if name == "data" && data != nil {
			typ = data
		}
		out = append(out, Field{Name: name, Type: typ})
	}
	return out
}

var rawMessageType = reflect.TypeOf(json.RawMessage(nil))

func goType(t reflect.Type) *ColumnType {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rawMessageType {
		return jsonTextType
	}
	switch t.Kind() {
	case reflect.String:
		return stringType
	case reflect.Bool:
		return &ColumnType{Kind: "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Uint8, reflect.Uint16:
		return &ColumnType{Kind: "int"}
	case reflect.Int64, reflect.Uint32, reflect.Uint64, reflect.Uint:
		return &ColumnType{Kind: "bigint"}
	case reflect.Float32, reflect.Float64:
		return &ColumnType{Kind: "double"}
	case reflect.Slice, reflect.Array:
		return &ColumnType{Kind: "array", Elem: goType(t.Elem())}
	case reflect.Struct:
		if t.PkgPath() == "time" {
			return stringType
		}
		fields := goColumns(t, nil)
		if len(fields) == 0 {
			return jsonTextType
		}
		return &ColumnType{Kind: "struct", Fields: fields}
	}
	return jsonTextType // maps and interfaces: their JSON text
}

// Mismatch checks a decoded JSON value (numbers as json.Number) against a column type and returns
// where and how it does not fit, or "" when it fits. A null fits every type, as the SerDe reads it
// as NULL. A member of an object that the struct has no field for is a mismatch, because its data
// would be in the lake but not in the table.
func Mismatch(t *ColumnType, v any, at string) string {
	if v == nil {
		return ""
	}
	switch t.Kind {
	case "string":
		if t.JSONText {
			return ""
		}
		if _, ok := v.(string); !ok {
			return at + ": " + jsonType(v) + " value in a string column"
		}
	case "int", "bigint":
		if jsonType(v) != "integer" {
			return at + ": " + jsonType(v) + " value in a " + t.Kind + " column"
		}
	case "double":
		if k := jsonType(v); k != "integer" && k != "number" {
			return at + ": " + k + " value in a double column"
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return at + ": " + jsonType(v) + " value in a boolean column"
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			return at + ": " + jsonType(v) + " value in an array column"
		}
		for _, e := range a {
			if m := Mismatch(t.Elem, e, at+"[]"); m != "" {
				return m
			}
		}
	case "struct":
		obj, ok := v.(map[string]any)
		if !ok {
			return at + ": " + jsonType(v) + " value in a struct column"
		}
		fields := map[string]*ColumnType{}
		for _, f := range t.Fields {
			fields[f.Name] = f.Type
		}
		names := make([]string, 0, len(obj))
		for k := range obj {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			ft, ok := fields[strings.ToLower(k)]
			if !ok {
				return at + "." + k + ": no column or field holds it"
			}
			if m := Mismatch(ft, obj[k], at+"."+k); m != "" {
				return m
			}
		}
	}
	return ""
}
