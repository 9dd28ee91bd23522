package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/fastschema"
	"github.com/firelane/firelane/internal/jsonbytes"
)

// Result is the outcome of validating one event.
type Result struct {
	Entry   *Entry         // the data schema the event selected, nil when none was found
	Reasons []event.Reason // empty when the event is valid
	// Attrs are the event's envelope attributes, as far as they are strings: what the edge needs
	// after validation, so that it never decodes an event twice.
	Attrs event.Attrs
}

// ValidateJSON decodes one event's JSON text and validates it like [Registry.Validate]. Text that is
// not JSON is a rejection whose reason says so.
//
// With the fast validator, a valid event costs one pass over its text and no decoding; an event the
// fast path rejects, or one whose data schema it declined, goes through encoding/json and
// jsonschema/v5, so the reasons of a rejection are always v5's. An event the schemas accept must
// also pass [event.CheckEnvelope], the envelope check that enrich and transform apply (the fast
// path applies it too): one definition of a valid event serves every stage.
func (r *Registry) ValidateJSON(raw []byte, max int) Result {
	if r.fast != nil {
		var a event.Attrs
		if r.fast.Validate(raw, &a) == fastschema.Valid {
			return Result{Entry: r.entries[Key{a.Type, event.MajorVersion(a.DataSchema)}], Attrs: a}
		}
	}
	res := r.validateJSONv5(raw, max)
	if res.Valid() {
		var v event.View
		if _, err := event.ParseView(raw, jsonbytes.SkipSpace(raw, 0), 0, &v, new([]byte)); err != nil {
			return Result{Reasons: []event.Reason{{Message: "event is not valid JSON: " + err.Error()}}, Attrs: res.Attrs}
		}
		res = checkEnvelope(&v, res)
	}
	return res
}

// checkEnvelope turns what [event.CheckEnvelope] finds wrong with an event that the schemas accept
// into its rejection, with the keyword "envelope".
func checkEnvelope(v *event.View, res Result) Result {
	errs := event.CheckEnvelope(v)
	if errs == nil {
		return res
	}
	reasons := make([]event.Reason, len(errs))
	for i, e := range errs {
		reasons[i] = event.Reason{Location: "/" + e.Attribute, Keyword: "envelope", Message: e.Error()}
	}
	return Result{Reasons: reasons, Attrs: res.Attrs}
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
	v, proxies := bound(v)
	res = r.Validate(v, max)
	if proxies {
		renameProxies(res.Reasons)
	}
	return res
}

func attrsOf(v any) event.Attrs {
	m, _ := v.(map[string]any)
	str := func(k string) string { s, _ := m[k].(string); return s }
	return event.Attrs{ID: str("id"), Type: str("type"), Source: str("source"), Subject: str("subject"), DataSchema: str("dataschema")}
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
