package schema

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/firelane/firelane/internal/fastschema"
)

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
