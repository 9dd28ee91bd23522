package schematool

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/firelane/firelane/internal/lake"
	"github.com/firelane/firelane/internal/schema"
)

// Diagnostic is one finding of [Check], located in a file.
type Diagnostic struct {
	File    string // the file's path, as the schema directory was named plus the file's name
	Line    int
	Warning bool // a warning does not fail the check
	Message string
}

// String formats d as compilers do: file:line: message.
func (d Diagnostic) String() string {
	sev := "error"
	if d.Warning {
		sev = "warning"
	}
	return fmt.Sprintf("%s:%d: %s: %s", d.File, d.Line, sev, d.Message)
}

// CheckReport is what [Check] found.
type CheckReport struct {
	Files           int // data schema files checked
	Examples        int // examples that validated
	CounterExamples int // counter-examples that were rejected
	Diagnostics     []Diagnostic
}

// Errors returns the number of diagnostics that are not warnings.
func (r CheckReport) Errors() int {
	n := 0
	for _, d := range r.Diagnostics {
		if !d.Warning {
			n++
		}
	}
	return n
}

// placeholder marks the text that `firelane schema new` leaves for the author to write.
const placeholder = "FIXME"

// Check checks every schema of dir: the envelope and each data schema must parse and compile
// against the draft 2020-12 metaschema with formats asserted (as the functions compile them), and
// each data schema must follow the conventions of docs/schemas.md, its examples must validate (also
// as whole events, through the registry the functions use) and its counter-examples must fail.
// The error is for a directory that cannot be read; everything wrong with a file is a diagnostic.
// Its active-partition warning assumes the longest buffering interval Firehose allows; [CheckFor]
// takes the events delivery stream's own.
func Check(dir string) (CheckReport, error) { return CheckFor(dir, lake.MaxBufferInterval) }

// CheckFor is [Check] for an events delivery stream whose buffering interval is interval (the
// template's BufferingHints): it warns when the (type, major version) pairs of dir, arriving in
// one buffering window of that interval, could reach Firehose's active-partition limit.
func CheckFor(dir string, interval time.Duration) (CheckReport, error) {
	var rep CheckReport
	files, parseErrs, err := LoadFiles(dir)
	if err != nil {
		return rep, err
	}
	for _, d := range parseErrs {
		d.File = filepath.Join(dir, filepath.FromSlash(d.File))
		rep.Diagnostics = append(rep.Diagnostics, d)
	}
	reg, regErr := schema.LoadDir(dir)
	versions := map[string][]int{}
	for _, f := range files {
		if f.Doc == nil && f.Src != nil {
			if len(parseErrs) == 0 || !hasFile(parseErrs, f.Name) {
				rep.add(dir, f, "", false, "the schema must be a JSON object")
			}
			continue
		}
		rep.Files++
		if f.Key.Type != "" {
			versions[f.Key.Type] = append(versions[f.Key.Type], f.Key.Version)
		}
		checkFile(&rep, dir, f, reg)
	}
	if regErr != nil && rep.Errors() == 0 {
		rep.Diagnostics = append(rep.Diagnostics, Diagnostic{File: dir, Line: 1, Message: "the functions cannot load this directory: " + regErr.Error()})
	}
	if env, err := os.ReadFile(filepath.Join(dir, schema.EnvelopeFile)); err == nil {
		if _, err := compileDoc(schema.EnvelopeFile, env); err != nil {
			f, _ := ParseFile(schema.EnvelopeFile, env)
			for _, d := range compileDiagnostics(f, err) {
				rep.add(dir, f, d.ptr, false, "%s", d.msg)
			}
		}
	}
	for typ, vs := range versions {
		sort.Ints(vs)
		for i, v := range vs {
			if v != i+1 {
				rep.Diagnostics = append(rep.Diagnostics, Diagnostic{File: filepath.Join(dir, FileName(schema.Key{Type: typ, Version: v})), Line: 1, Warning: true,
					Message: fmt.Sprintf("%s has major version %d but no version %d", typ, v, i+1)})
				break
			}
		}
	}
	partitionWarning(&rep, dir, versions, interval)
	sort.SliceStable(rep.Diagnostics, func(i, j int) bool {
		a, b := rep.Diagnostics[i], rep.Diagnostics[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	return rep, nil
}

func hasFile(ds []Diagnostic, name string) bool {
	for _, d := range ds {
		if d.File == name {
			return true
		}
	}
	return false
}

func (r *CheckReport) add(dir string, f *File, ptr string, warning bool, format string, args ...any) {
	r.Diagnostics = append(r.Diagnostics, Diagnostic{
		File: filepath.Join(dir, filepath.FromSlash(f.Name)), Line: f.Line(ptr), Warning: warning, Message: fmt.Sprintf(format, args...),
	})
}

func checkFile(rep *CheckReport, dir string, f *File, reg *schema.Registry) {
	base := filepath.Base(f.Name)
	key, ok := ParseKey(base)
	switch {
	case !ok:
		rep.add(dir, f, "", false, "file name %q must be TYPE.vMAJOR.json, for example com.acme.web.page_view.v1.json", base)
	case !typePattern.MatchString(key.Type) || len(key.Type) > 200:
		rep.add(dir, f, "", false, "event type %q must be lower-case dot-separated words (%s), at most 200 characters", key.Type, typePattern)
	case key.Version < 1 || FileName(key) != base:
		rep.add(dir, f, "", false, "major version in %q must be a positive integer without leading zeros", base)
	}
	doc := f.Doc
	if s, _ := doc["$schema"].(string); s != MetaSchema {
		rep.add(dir, f, "/$schema", false, "$schema must be %q", MetaSchema)
	}
	if ok {
		if id, _ := doc["$id"].(string); id != ID(key) {
			rep.add(dir, f, "/$id", false, "$id must be %q (it names the type and major version of the file)", ID(key))
		}
	}
	for _, k := range []string{"title", "description"} {
		if s, _ := doc[k].(string); strings.TrimSpace(s) == "" {
			rep.add(dir, f, "/"+k, false, "%s must be a non-empty string: the catalogue shows it", k)
		}
	}
	if t, _ := doc["type"].(string); t != "object" {
		rep.add(dir, f, "/type", false, `type must be "object": an event's data is a JSON object`)
	}
	walkSchemas(doc, "", placeRoot, func(s map[string]any, ptr string, at place) {
		for _, k := range sortedKeys(s) {
			switch {
			case knownKeywords[k]:
			case k == PIIKeyword:
				if v, _ := s[k].(string); v != "hash" && v != "redact" {
					rep.add(dir, f, ptr+"/"+k, false, `%s must be "hash" or "redact"`, PIIKeyword)
				}
				switch at {
				case placeProperty:
				case placeItems:
					rep.add(dir, f, ptr+"/"+k, false, "%s on array items is not supported by enrich (it would fail every event): annotate the array property instead", PIIKeyword)
				default:
					rep.add(dir, f, ptr+"/"+k, false, "%s only applies to a member of properties; enrich ignores it here", PIIKeyword)
				}
			case k == InvalidExamplesKeyword:
				if at != placeRoot {
					rep.add(dir, f, ptr+"/"+k, false, "%s is only read at the schema's root", k)
				}
			case strings.HasPrefix(k, "x-"):
				// Other x- keywords are annotations that firelane ignores.
			case k == "definitions":
				rep.add(dir, f, ptr+"/"+k, false, `unknown keyword "definitions": draft 2020-12 calls it "$defs"`)
			case k == "dependencies":
				rep.add(dir, f, ptr+"/"+k, false, `unknown keyword "dependencies": draft 2020-12 splits it into "dependentRequired" and "dependentSchemas"`)
			default:
				rep.add(dir, f, ptr+"/"+k, false, "unknown keyword %q (a typo? firelane's own keywords start with x-)", k)
			}
		}
		if props, ok := s["properties"].(map[string]any); ok {
			for _, name := range sortedKeys(props) {
				if !propertyName.MatchString(name) {
					rep.add(dir, f, ptr+"/properties/"+escapePointer(name), false,
						"property name %q must match %s: Athena lower-cases column and field names", name, propertyName)
				}
			}
		}
		for _, k := range []string{"title", "description"} {
			if s, _ := s[k].(string); strings.Contains(s, placeholder) {
				rep.add(dir, f, ptr+"/"+k, true, "%s still holds the scaffold's %s placeholder", k, placeholder)
			}
		}
	})
	compiled, err := compileDoc(f.Name, f.Src)
	if err != nil {
		for _, d := range compileDiagnostics(f, err) {
			rep.add(dir, f, d.ptr, false, "%s", d.msg)
		}
		return
	}
	examples, isArray := doc["examples"].([]any)
	if !isArray || len(examples) == 0 {
		rep.add(dir, f, "/examples", false, "examples must be a non-empty array of valid data: the samples, the catalogue and the tests use them")
	}
	for i, ex := range examples {
		ptr := fmt.Sprintf("/examples/%d", i)
		if err := compiled.Validate(ex); err != nil {
			for _, r := range leafErrors(err) {
				rep.add(dir, f, ptr, false, "examples[%d] is invalid: %s", i, r)
			}
			continue
		}
		if reg != nil && ok {
			res := reg.Validate(sampleEvent(key, i, ex), 5)
			if !res.Valid() {
				for _, r := range res.Reasons {
					rep.add(dir, f, ptr, false, "examples[%d] sent as an event with type %q and dataschema %q is rejected: %s %s", i, key.Type, DataSchema(key), r.Location, r.Message)
				}
				continue
			}
		}
		rep.Examples++
	}
	if v, present := doc[InvalidExamplesKeyword]; present {
		bad, isArray := v.([]any)
		if !isArray {
			rep.add(dir, f, "/"+InvalidExamplesKeyword, false, "%s must be an array of data values the schema rejects", InvalidExamplesKeyword)
		}
		for i, ex := range bad {
			if compiled.Validate(ex) == nil {
				rep.add(dir, f, fmt.Sprintf("/%s/%d", InvalidExamplesKeyword, i), false, "%s[%d] is valid, but a counter-example must be rejected", InvalidExamplesKeyword, i)
				continue
			}
			rep.CounterExamples++
		}
	}
}

// compileDoc compiles one schema document alone, as the registry does.
func compileDoc(name string, src []byte) (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	c.LoadURL = func(s string) (io.ReadCloser, error) {
		return nil, fmt.Errorf("schema reference %s is outside the schema directory", s)
	}
	url := "firelane:///" + name
	if err := c.AddResource(url, bytes.NewReader(src)); err != nil {
		return nil, err
	}
	return c.Compile(url)
}

type located struct{ ptr, msg string }

// compileDiagnostics explains a compile error; a metaschema violation becomes one message per
// failing keyword, located at the offending part of the schema.
func compileDiagnostics(f *File, err error) []located {
	var ve *jsonschema.ValidationError
	if errors.As(err, &ve) {
		var out []located
		var walk func(*jsonschema.ValidationError)
		walk = func(v *jsonschema.ValidationError) {
			if len(v.Causes) == 0 {
				out = append(out, located{v.InstanceLocation, fmt.Sprintf("not a valid draft 2020-12 schema at %s: %s", orRoot(v.InstanceLocation), v.Message)})
			}
			for _, c := range v.Causes {
				walk(c)
			}
		}
		walk(ve)
		return out
	}
	msg := err.Error()
	if i := strings.Index(msg, "firelane:///"+f.Name); i >= 0 {
		msg = strings.ReplaceAll(msg, "firelane:///"+f.Name, f.Name)
	}
	return []located{{"", "does not compile: " + msg}}
}

// leafErrors returns a validation error's leaf causes as "location keyword: message".
func leafErrors(err error) []string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []string{err.Error()}
	}
	var out []string
	var walk func(*jsonschema.ValidationError)
	walk = func(v *jsonschema.ValidationError) {
		if len(v.Causes) == 0 {
			kw := v.KeywordLocation
			if i := strings.LastIndexByte(kw, '/'); i >= 0 {
				kw = kw[i+1:]
			}
			out = append(out, fmt.Sprintf("%s %s: %s", orRoot(v.InstanceLocation), kw, v.Message))
		}
		for _, c := range v.Causes {
			walk(c)
		}
	}
	walk(ve)
	return out
}

func orRoot(ptr string) string {
	if ptr == "" {
		return "(root)"
	}
	return ptr
}

// partitionWarning warns when the events of every (type, major version) the directory defines,
// arriving in one buffering window of the given interval, could open [lake.MaxActivePartitions]
// partitions (the rule is [lake.ActivePartitions]). A shorter interval does not help: even the
// longest window spans two clock hours at most, and the shortest can span two.
func partitionWarning(rep *CheckReport, dir string, versions map[string][]int, interval time.Duration) {
	n := 0
	for _, vs := range versions {
		n += len(vs)
	}
	if p := lake.ActivePartitions(n, interval); p >= lake.MaxActivePartitions {
		rep.Diagnostics = append(rep.Diagnostics, Diagnostic{File: dir, Line: 1, Warning: true, Message: fmt.Sprintf(
			"%d event types and versions can open %d Firehose partitions (%d hours) in one %v buffering window of the events delivery stream (interval %v), reaching Firehose's default limit of %d active partitions; past it records go to errors/: ask for a higher limit (up to 5,000) before deploying them (docs/operations.md, 4.2)",
			n, p, lake.HoursSpanned(lake.BufferWindow(interval)), lake.BufferWindow(interval), interval, lake.MaxActivePartitions)})
	}
}
