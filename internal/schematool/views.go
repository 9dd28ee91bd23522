package schematool

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/firelane/firelane/internal/cfn"
)

// With Parquet output the lake's data column holds the event's data as JSON text, and each
// per-type view casts it: CAST(json_parse(data) AS row(...)). A schema change within a major
// version no longer fails Firehose's conversion; it fails that cast, in Athena, for the rows
// written before it. [ViewMismatch] applies the cast rules to stored text, and the Glue table
// records each view's row type ([ViewParameter]) so that `schema check` can tell when the schemas
// and the deployed table have parted ([CheckTemplate]).
//
// The cast rules are Trino's, which Athena engine version 3 runs
// (https://docs.aws.amazon.com/athena/latest/ug/engine-versions-reference-0003.html), as
// https://trino.io/docs/current/functions/json.html#cast-from-json states them: a JSON null is
// NULL for every type; boolean from true or false; integer and bigint from a JSON number
// (CAST(JSON '9223372036854775807' AS BIGINT)); double from a JSON number; varchar from a JSON
// string, number or boolean, while a JSON object or array cannot be cast to varchar; array from a
// JSON array, element by element; row from a JSON object or a JSON array. What the page does not
// state is refused here, so that the check never passes text Athena might reject: a string or a
// boolean cast to a number, a fraction cast to an integer, a number beyond the type's range. Where
// the page is silent on a rule the check must take, it takes the one Trino's behaviour implies,
// and docs/lake.md says so: a row's fields are matched to an object's members by name,
// ignoring case, a missing member is NULL and an extra one is ignored; a JSON array fills a row's
// fields by position.

// ViewMismatch returns where and why the JSON text of one stored data value does not convert to the
// typed data of f's per-type Parquet view, or "" when it converts.
func ViewMismatch(f *File, text string) string {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return "data: json_parse fails: not one JSON value"
	}
	return castMismatch(dataType(f, f.Doc, ""), v, "data")
}

func castMismatch(t *ColumnType, v any, at string) string {
	if v == nil || t.JSONText {
		return ""
	}
	kind := jsonType(v)
	fail := func(why string) string { return fmt.Sprintf("%s: CAST of a JSON %s to %s %s", at, kind, t.SQL(), why) }
	switch t.Kind {
	case "string":
		if kind == "object" || kind == "array" {
			return fail("fails")
		}
	case "boolean":
		if kind != "boolean" {
			return fail("is not documented to succeed")
		}
	case "int", "bigint":
		n, ok := v.(json.Number)
		if !ok || strings.ContainsAny(string(n), ".eE") {
			return fail("is not documented to succeed")
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil || (t.Kind == "int" && (i < math.MinInt32 || i > math.MaxInt32)) {
			return fail("is out of range")
		}
	case "double":
		if kind != "integer" && kind != "number" {
			return fail("is not documented to succeed")
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			return fail("fails")
		}
		for i, e := range a {
			if m := castMismatch(t.Elem, e, fmt.Sprintf("%s[%d]", at, i)); m != "" {
				return m
			}
		}
	case "struct":
		switch x := v.(type) {
		case map[string]any:
			members := map[string]any{}
			for k, e := range x {
				members[strings.ToLower(k)] = e
			}
			for _, f := range t.Fields {
				if m := castMismatch(f.Type, members[f.Name], at+"."+f.Name); m != "" {
					return m
				}
			}
		case []any:
			for i, f := range t.Fields {
				if i < len(x) {
					if m := castMismatch(f.Type, x[i], at+"."+f.Name); m != "" {
						return m
					}
				}
			}
		default:
			return fail("fails")
		}
	}
	return ""
}

// viewParameterPrefix starts the Glue table parameters that record the views' row types.
const viewParameterPrefix = "firelane.view."

// ViewParameter returns the Glue table parameter that records, for f's per-type view, the row type
// its data was cast to when the table was generated: its name and its value.
func ViewParameter(f *File) (string, string) {
	return viewParameterPrefix + TableName(f.Key), dataType(f, f.Doc, "").SQL()
}

// CheckTemplate compares the per-type views that files make with the row types that template.yaml's
// Parquet table recorded when it was generated, and warns, for each view, when they differ or when
// one side lacks the other: the table then no longer matches the views, and rows stored under the
// old type may fail the new view's cast. A template without the Parquet table gives no diagnostic.
// dir is the schema directory, for the diagnostics' file names.
func CheckTemplate(dir string, files []*File, tpl cfn.Template) []Diagnostic {
	res, ok := tpl.Resource(GlueTableResource)
	if !ok {
		return nil
	}
	params, _ := cfn.Path(res, "Properties", "TableInput", "Parameters").(map[string]any)
	recorded := map[string]string{}
	for k, v := range params {
		if name, ok := strings.CutPrefix(k, viewParameterPrefix); ok {
			recorded[name] = cfn.Scalar(v)
		}
	}
	var out []Diagnostic
	seen := map[string]bool{}
	for _, f := range files {
		if f.Doc == nil || f.Key.Type == "" {
			continue
		}
		name, now := ViewParameter(f)
		view := strings.TrimPrefix(name, viewParameterPrefix)
		seen[view] = true
		file := filepath.Join(dir, filepath.FromSlash(f.Name))
		old, ok := recorded[view]
		switch {
		case !ok:
			out = append(out, Diagnostic{File: file, Line: 1, Warning: true, Message: fmt.Sprintf(
				"template.yaml's Parquet table %s has no view %s: regenerate it with `firelane schema athena -format cloudformation`", GlueTableResource, view)})
		case old != now:
			out = append(out, Diagnostic{File: file, Line: 1, Warning: true, Message: fmt.Sprintf(
				"the Parquet table and view %s no longer match: the table was generated with data as %s, the schema now makes it %s; "+
					"rows already stored may fail the view's cast (a type change within a major version is breaking: see `firelane schema diff`)", view, old, now)})
		}
	}
	var gone []string
	for view := range recorded {
		if !seen[view] {
			gone = append(gone, view)
		}
	}
	sort.Strings(gone)
	for _, view := range gone {
		out = append(out, Diagnostic{File: dir, Line: 1, Warning: true, Message: fmt.Sprintf(
			"template.yaml's Parquet table records view %s, which no schema makes any more", view)})
	}
	return out
}

// quoteYAML returns s as a single-quoted YAML scalar.
func quoteYAML(s string) string {
	var b bytes.Buffer
	b.WriteByte('\'')
	b.WriteString(strings.ReplaceAll(s, "'", "''"))
	b.WriteByte('\'')
	return b.String()
}
