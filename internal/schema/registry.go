package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/fastschema"
	"github.com/firelane/firelane/schemas"
)

// EnvelopeFile is the name of the envelope schema in a schema directory.
const EnvelopeFile = "cloudevent.json"

var fileName = regexp.MustCompile(`^(.+)\.v([0-9]+)\.json$`)

// Key selects a data schema: an event type and a major version.
type Key struct {
	Type    string
	Version int
}

func (k Key) String() string { return k.Type + "/v" + strconv.Itoa(k.Version) }

// Entry is one compiled data schema.
type Entry struct {
	Key
	ID     string // the schema's $id, when it has one
	Path   string // the file it was loaded from, relative to the schema directory
	Source []byte // the schema document as loaded
	// PII maps the JSON pointer (within data) of every property annotated with "x-pii" to the
	// annotation's value ("hash" or "redact"). Array items appear with "*" as their index.
	PII    map[string]string
	schema *jsonschema.Schema
}

// Registry holds the compiled envelope schema and data schemas. It is safe for concurrent use.
type Registry struct {
	envelope *jsonschema.Schema
	entries  map[Key]*Entry

	// fast decides validity in one pass over an event's text (see internal/fastschema); nil when
	// the registry validates with jsonschema/v5 alone.
	fast *fastschema.Events
	// fastAll is the fast validator built at load, kept so that [Registry.SetValidator] can switch
	// back to it; fastDeclined lists the schema files it leaves to v5.
	fastAll      *fastschema.Events
	fastDeclined []string
}

// Validator names the implementation that decides whether an event is valid.
type Validator string

// The validators a registry can use. With [ValidatorFast] (the default) the one-pass validator of
// internal/fastschema decides, and jsonschema/v5 only explains rejections and validates against the
// schemas the fast path declines; with [ValidatorV5], v5 does everything. Both accept exactly the
// same events.
const (
	ValidatorFast Validator = "fast"
	ValidatorV5   Validator = "v5"
)

// ValidatorEnv is the environment variable that [Load] reads to choose the validator: "fast" (the
// default when it is unset or empty) or "v5".
const ValidatorEnv = "FIRELANE_VALIDATOR"

// SetValidator chooses the validator. It is not safe to call while events are being validated.
func (r *Registry) SetValidator(v Validator) error {
	switch v {
	case ValidatorFast:
		r.fast = r.fastAll
	case ValidatorV5:
		r.fast = nil
	default:
		return fmt.Errorf("unknown validator %q (want %q or %q)", v, ValidatorFast, ValidatorV5)
	}
	return nil
}

// Validator reports the validator in use. It is [ValidatorV5] when the envelope schema itself is
// outside what the fast path supports.
func (r *Registry) Validator() Validator {
	if r.fast != nil {
		return ValidatorFast
	}
	return ValidatorV5
}

// FastDeclined lists the schema files, sorted, that use assertions the fast path does not support,
// each with the reason; events that select them are validated by jsonschema/v5 alone.
func (r *Registry) FastDeclined() []string { return append([]string(nil), r.fastDeclined...) }

// Default returns the registry of the schemas embedded from the repository's schemas/ directory.
func Default() (*Registry, error) { return Load(schemas.FS) }

// LoadDir loads the schemas of a directory on disk.
func LoadDir(dir string) (*Registry, error) {
	r, err := Load(os.DirFS(dir))
	if err != nil {
		return nil, fmt.Errorf("load schemas from %s: %w", dir, err)
	}
	return r, nil
}

// FromEnv returns the registry of the directory named by SCHEMAS_DIR, or the embedded one when it
// is unset.
func FromEnv() (*Registry, error) {
	if dir := os.Getenv("SCHEMAS_DIR"); dir != "" {
		return LoadDir(dir)
	}
	return Default()
}

// Load compiles every schema in fsys. It fails on the first schema that does not parse or compile,
// naming its file, and when two files define the same type and version.
func Load(fsys fs.FS) (*Registry, error) {
	c := newCompiler()
	r := &Registry{entries: map[Key]*Entry{}}
	envelope := schemas.Envelope
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := path.Base(p)
		if name == EnvelopeFile {
			b, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			envelope = b
			return nil
		}
		m := fileName.FindStringSubmatch(name)
		if m == nil {
			return nil
		}
		v, err := strconv.Atoi(m[2])
		if err != nil || v < 1 {
			return fmt.Errorf("%s: major version must be a positive integer", p)
		}
		key := Key{Type: m[1], Version: v}
		if old, dup := r.entries[key]; dup {
			return fmt.Errorf("%s: %s is already defined by %s", p, key, old.Path)
		}
		src, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		e, err := compileEntry(c, p, src)
		if err != nil {
			return err
		}
		e.Key = key
		r.entries[key] = e
		return nil
	})
	if err != nil {
		return nil, err
	}
	env, err := compile(c, "firelane:///"+EnvelopeFile, envelope)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvelopeFile, err)
	}
	r.envelope = env
	if err := r.buildFast(); err != nil {
		return nil, err
	}
	return r, nil
}

// buildFast compiles the fast validator from the v5 schemas, chooses the validator that
// [ValidatorEnv] names, and logs once which schemas fall back to v5.
func (r *Registry) buildFast() error {
	choice := Validator(os.Getenv(ValidatorEnv))
	if choice == "" {
		choice = ValidatorFast
	}
	if choice != ValidatorFast && choice != ValidatorV5 {
		return fmt.Errorf("%s=%q: want %q or %q", ValidatorEnv, choice, ValidatorFast, ValidatorV5)
	}
	env, err := fastschema.Compile(r.envelope)
	if err == nil {
		var events *fastschema.Events
		if events, err = fastschema.NewEvents(env); err == nil {
			for _, k := range r.Keys() {
				e := r.entries[k]
				s, derr := fastschema.Compile(e.schema)
				if derr != nil {
					r.fastDeclined = append(r.fastDeclined, e.Path+": "+derr.Error())
					s = nil
				}
				events.Add(k.Type, k.Version, s)
			}
			r.fastAll = events
		}
	}
	if err != nil {
		r.fastDeclined = []string{EnvelopeFile + ": " + err.Error()}
	}
	sort.Strings(r.fastDeclined)
	if len(r.fastDeclined) > 0 {
		slog.Info("schemas validated by jsonschema/v5 alone", "schemas", r.fastDeclined)
	}
	return r.SetValidator(choice)
}

func newCompiler() *jsonschema.Compiler {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	// No schema may reach the network or the file system: every $ref resolves within the loaded
	// documents.
	c.LoadURL = func(s string) (_ io.ReadCloser, err error) {
		return nil, fmt.Errorf("schema reference %s is outside the schema directory", s)
	}
	return c
}

func compile(c *jsonschema.Compiler, url string, src []byte) (*jsonschema.Schema, error) {
	if err := c.AddResource(url, bytes.NewReader(src)); err != nil {
		return nil, fmt.Errorf("parse schema: %w", err)
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("compile schema: %w", err)
	}
	return s, nil
}

func compileEntry(c *jsonschema.Compiler, p string, src []byte) (*Entry, error) {
	s, err := compile(c, "firelane:///"+p, src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	id, _ := doc["$id"].(string)
	e := &Entry{ID: id, Path: p, Source: src, PII: map[string]string{}, schema: s}
	collectPII(doc, "", e.PII)
	return e, nil
}

// collectPII records the "x-pii" annotations of the properties and items of a schema object.
func collectPII(s map[string]any, ptr string, out map[string]string) {
	if v, ok := s["x-pii"].(string); ok && ptr != "" {
		out[ptr] = v
	}
	if props, ok := s["properties"].(map[string]any); ok {
		for name, sub := range props {
			if m, ok := sub.(map[string]any); ok {
				collectPII(m, ptr+"/"+escapePointer(name), out)
			}
		}
	}
	if items, ok := s["items"].(map[string]any); ok {
		collectPII(items, ptr+"/*", out)
	}
}

func escapePointer(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

// Lookup returns the data schema that an event type and major version select.
func (r *Registry) Lookup(typ string, version int) (*Entry, bool) {
	e, ok := r.entries[Key{typ, version}]
	return e, ok
}

// Keys lists the type and version of every data schema, sorted.
func (r *Registry) Keys() []Key {
	keys := make([]Key, 0, len(r.entries))
	for k := range r.entries {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Type != keys[j].Type {
			return keys[i].Type < keys[j].Type
		}
		return keys[i].Version < keys[j].Version
	})
	return keys
}

// Result is the outcome of validating one event.
type Result struct {
	Entry   *Entry         // the data schema the event selected, nil when none was found
	Reasons []event.Reason // empty when the event is valid
	Attrs   Attrs          // the event's envelope attributes, as far as they are strings
}

// Attrs are the envelope attributes the edge needs after validation, so that it never decodes an
// event twice.
type Attrs struct {
	ID, Type, Source, Subject, DataSchema string
}

// ValidateJSON decodes one event's JSON text and validates it like [Registry.Validate]. Text that is
// not JSON is a rejection whose reason says so.
//
// With the fast validator, a valid event costs one pass over its text and no decoding; an event the
// fast path rejects, or one whose data schema it declined, goes through encoding/json and
// jsonschema/v5, so the reasons of a rejection are always v5's.
func (r *Registry) ValidateJSON(raw []byte, max int) Result {
	if r.fast != nil {
		var a fastschema.Attrs
		if r.fast.Validate(raw, &a) == fastschema.Valid {
			return Result{Entry: r.entries[Key{a.Type, event.MajorVersion(a.DataSchema)}], Attrs: Attrs(a)}
		}
	}
	return r.validateJSONv5(raw, max)
}

func (r *Registry) validateJSONv5(raw []byte, max int) (res Result) {
	defer func() {
		// jsonschema/v5 dereferences a nil big.Rat, and panics, when a number's exponent is beyond
		// math/big's range and a keyword needs its value: a client's mistake, so a rejection.
		if p := recover(); p != nil {
			res = Result{Reasons: []event.Reason{{Message: "event cannot be validated: a number is out of range"}}}
		}
	}()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return Result{Reasons: []event.Reason{{Message: "event is not valid JSON: " + err.Error()}}}
	}
	if _, err := dec.Token(); err != io.EOF {
		return Result{Reasons: []event.Reason{{Message: "event is not valid JSON: text after the value"}}}
	}
	return r.Validate(v, max)
}

func attrsOf(v any) Attrs {
	m, _ := v.(map[string]any)
	str := func(k string) string { s, _ := m[k].(string); return s }
	return Attrs{ID: str("id"), Type: str("type"), Source: str("source"), Subject: str("subject"), DataSchema: str("dataschema")}
}

// Valid reports whether the event passed every check.
func (r Result) Valid() bool { return len(r.Reasons) == 0 }

// Validate checks one decoded event (the value encoding/json produces with UseNumber): the envelope
// against the envelope schema, then data against the schema that its type and major version select.
// It reports at most max reasons (all when max <= 0); data locations are prefixed with "/data".
func (r *Registry) Validate(ev any, max int) Result {
	attrs := attrsOf(ev)
	if err := r.envelope.Validate(ev); err != nil {
		return Result{Reasons: explain(err, "", max), Attrs: attrs}
	}
	obj := ev.(map[string]any) // the envelope schema requires an object
	typ, _ := obj["type"].(string)
	ds, _ := obj["dataschema"].(string)
	key := Key{typ, event.MajorVersion(ds)}
	e, ok := r.entries[key]
	if !ok {
		msg := fmt.Sprintf("no schema for event type %q version %d", key.Type, key.Version)
		if r.hasType(typ) {
			msg = fmt.Sprintf("event type %q has no schema for version %d", key.Type, key.Version)
		}
		return Result{Reasons: []event.Reason{{Location: "/type", Keyword: "type-version", Message: msg}}, Attrs: attrs}
	}
	if err := e.schema.Validate(obj["data"]); err != nil {
		return Result{Entry: e, Reasons: explain(err, "/data", max), Attrs: attrs}
	}
	return Result{Entry: e, Attrs: attrs}
}

// ValidateData checks a decoded data value against this schema alone.
func (e *Entry) ValidateData(data any, max int) []event.Reason {
	if err := e.schema.Validate(data); err != nil {
		return explain(err, "", max)
	}
	return nil
}

func (r *Registry) hasType(typ string) bool {
	for k := range r.entries {
		if k.Type == typ {
			return true
		}
	}
	return false
}

// explain turns a validation error into its leaf causes: the failures a person can act on.
func explain(err error, prefix string, max int) []event.Reason {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []event.Reason{{Location: prefix, Message: err.Error()}}
	}
	var out []event.Reason
	var walk func(*jsonschema.ValidationError)
	walk = func(v *jsonschema.ValidationError) {
		if max > 0 && len(out) >= max {
			return
		}
		if len(v.Causes) == 0 {
			out = append(out, event.Reason{
				Location: prefix + v.InstanceLocation,
				Keyword:  keyword(v.KeywordLocation),
				Message:  v.Message,
			})
			return
		}
		for _, c := range v.Causes {
			walk(c)
		}
	}
	walk(ve)
	return out
}

// keyword returns the last keyword of a keyword location such as "/properties/url/format".
func keyword(loc string) string {
	if i := strings.LastIndexByte(loc, '/'); i >= 0 {
		return loc[i+1:]
	}
	return loc
}
