package fastschema

import (
	"fmt"

	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/jsonbytes"
)

// Verdict is the fast path's answer for one event.
type Verdict uint8

const (
	// Invalid means jsonschema/v5 rejects the event (or encoding/json cannot decode it), or
	// [event.CheckEnvelope] does; the caller asks v5, and the envelope check, for the reasons.
	Invalid Verdict = iota
	// Valid means jsonschema/v5 accepts the event.
	Valid
	// Undecided means the event selects a data schema that the fast path declined, so only v5 can
	// decide.
	Undecided
)

func (v Verdict) String() string {
	switch v {
	case Valid:
		return "valid"
	case Invalid:
		return "invalid"
	}
	return "undecided"
}

// Events validates CloudEvents the way the edge does: the envelope against one schema, then data
// against the schema that the event's type and the major version of its dataschema select (see
// [event.MajorVersion]). It is safe for concurrent use once built.
type Events struct {
	envelope *Schema
	byType   map[string]map[int]*Schema // nil *Schema: declined, v5 decides
	// dataIdx is the known-name index of "data" in the envelope when its subschema there checks
	// nothing but a non-numeric type, so that the envelope's check of data is decided by its
	// first byte and data can be validated against its own schema in the same pass; else -1.
	dataIdx int
}

// NewEvents returns the event validator for an envelope schema. The envelope must not be declined.
func NewEvents(envelope *Schema) (*Events, error) {
	if envelope == nil || envelope.root.always != 0 {
		return nil, fmt.Errorf("the envelope schema must be a compiled object schema")
	}
	e := &Events{envelope: envelope, byType: map[string]map[int]*Schema{}, dataIdx: -1}
	root := envelope.root
	if idx, found := root.known["data"]; found && root.propNode[idx] != nil && len(root.patterns) == 0 && root.propNames == nil {
		d := root.propNode[idx]
		typeOnly := d.always == 0 && !d.hasObject && !d.hasArray && !d.hasString && !d.hasNumber &&
			!d.hasConst && !d.hasEnum && !d.inPlace && d.types&(tNumber|tInteger) == 0
		if typeOnly {
			e.dataIdx = idx
		}
	}
	return e, nil
}

// Add registers the data schema of an event type and major version. A nil s registers a schema
// that the fast path declined: events that select it are [Undecided].
func (e *Events) Add(typ string, version int, s *Schema) {
	if e.byType[typ] == nil {
		e.byType[typ] = map[int]*Schema{}
	}
	e.byType[typ][version] = s
}

// envelopeScan records, during the scan of the envelope, what the data schema's selection and the
// caller need: the event's [event.View] and where the value of data starts. The selection reads
// the view as a decoded map does (the last member of a name wins), as jsonschema/v5 does.
type envelopeScan struct {
	view    event.View
	typeBuf []byte    // the type, when it needed decoding
	dsBuf   []byte    // the dataschema, when it needed decoding
	bufs    [5][]byte // the attributes Validate returns, when they needed decoding
	data    int       // start of data's value; -1 when absent
	events  *Events
	// sel is what selected last returned; it stands until a member named type or dataschema
	// comes (selected is asked once when data comes and once at the end).
	sel struct {
		byVersion map[int]*Schema
		version   int
		found     bool
		valid     bool
	}
	// spec is the outcome of validating data while the envelope is scanned, against the schema
	// that the attributes seen so far select; it stands if the final selection is the same.
	spec struct {
		schema   *Schema
		start    int
		ok       bool
		panicked bool
	}
}

// selected returns the data schema that the type and dataschema seen so far select, and whether
// a schema is registered for the type at all.
func (env *envelopeScan) selected() (byVersion map[int]*Schema, version int, found bool) {
	if sel := &env.sel; sel.valid {
		return sel.byVersion, sel.version, sel.found
	}
	if typ := env.view.Type.MapValue(&env.typeBuf); typ != nil {
		byVersion, found = env.events.byType[string(typ)]
		version = event.MajorVersion(env.view.DataSchema.MapValue(&env.dsBuf))
	}
	env.sel.byVersion, env.sel.version, env.sel.found, env.sel.valid = byVersion, version, found, true
	return byVersion, version, found
}

func (env *envelopeScan) reset() {
	env.view = event.View{}
	env.data = -1
	env.spec.schema = nil
	env.sel.valid = false
}

// speculate validates data, at vstart, against the data schema that the attributes seen so far
// select, and decides the envelope's type check of data by its first byte. handled is false when
// no schema is selected yet; the caller then scans data as usual.
func (env *envelopeScan) speculate(st *state, envData *node, vstart int) (end int, ok, handled bool) {
	if vstart >= len(st.raw) {
		return 0, false, false
	}
	byVersion, version, _ := env.selected()
	s := byVersion[version]
	if s == nil {
		return 0, false, false
	}
	var t uint8
	switch st.raw[vstart] {
	case '{':
		t = tObject
	case '[':
		t = tArray
	case '"':
		t = tString
	case 't', 'f':
		t = tBoolean
	case 'n':
		t = tNull
	default:
		t = tNumber
	}
	before := st.panicked
	end, valid := st.value(s.root, vstart, 1)
	env.spec.schema, env.spec.start, env.spec.ok, env.spec.panicked = s, vstart, valid, st.panicked
	st.panicked = before
	return end, envData.allows(t), true
}

func (env *envelopeScan) member(st *state, key []byte, vstart, vend int) {
	raw := st.raw
	if string(key) == "data" {
		env.data = vstart
		env.view.Data = raw[vstart:vend]
		return
	}
	a := env.view.Attr(key)
	if a == nil {
		return
	}
	var f jsonbytes.Flags
	if raw[vstart] == '"' {
		if st.strAt == vstart {
			f = st.strFlags
		} else {
			_, f = jsonbytes.SkipString(raw, vstart) // scanned already: well formed
		}
	}
	a.Set(raw[vstart:vend], f)
	if a == &env.view.Type || a == &env.view.DataSchema {
		env.sel.valid = false
	}
}

// Validate decides whether one event, as JSON text, is valid: the schemas accept it and so does
// [event.CheckEnvelope], the envelope rules every stage applies. When attrs is not nil, it
// receives the event's string attributes, copied into blocks of [attrBlock] bytes that the
// attributes of the events validated after it share (so one allocation serves some 25 events of
// the shared workload, and an attribute that is kept keeps its block alive); otherwise Validate
// does not allocate on valid events once warm.
func (e *Events) Validate(raw []byte, attrs *event.Attrs) Verdict {
	st := getState(raw)
	defer putState(st)
	env := &st.env
	env.reset()
	env.events = e
	verdict := e.validate(st)
	if verdict == Valid && event.CheckEnvelope(&env.view) != nil {
		verdict = Invalid
	}
	if attrs != nil {
		v := &env.view
		var vals [5][]byte
		total := 0
		for k, a := range [...]*event.Str{&v.ID, &v.Type, &v.Source, &v.Subject, &v.DataSchema} {
			vals[k] = a.MapValue(&env.bufs[k])
			total += len(vals[k])
		}
		all := st.attrBytes(total)
		var out [5]string
		for k := range vals {
			off := len(all)
			all = append(all, vals[k]...)
			out[k] = view(all[off:])
		}
		*attrs = event.Attrs{ID: out[0], Type: out[1], Source: out[2], Subject: out[3], DataSchema: out[4]}
	}
	return verdict
}

// attrBlock is the size of the blocks that the attribute strings of successive events share.
const attrBlock = 4096

// attrBytes returns an empty slice with room for n bytes that nothing else will write: the next n
// bytes of the state's current block of attribute strings, or of a new block. An event whose
// attributes would fill more than a quarter of a block gets its own allocation.
func (st *state) attrBytes(n int) []byte {
	if n > attrBlock/4 {
		return make([]byte, 0, n)
	}
	if cap(st.attrs)-len(st.attrs) < n {
		st.attrs = make([]byte, 0, attrBlock)
	}
	off := len(st.attrs)
	st.attrs = st.attrs[:off+n]
	return st.attrs[off : off : off+n]
}

func (e *Events) validate(st *state) Verdict {
	raw, env, root := st.raw, &st.env, e.envelope.root
	i := jsonbytes.SkipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' || !root.allows(tObject) {
		return Invalid
	}
	end, ok := st.object(root, i, 0, true)
	if st.bad {
		return Invalid
	}
	if root.hasConst || root.hasEnum {
		ok = st.compositeEnum(root, raw[i:end]) && ok
	}
	if root.inPlace {
		ok = st.applicators(root, i, 0) && ok
	}
	if !ok || st.bad || st.panicked || jsonbytes.SkipSpace(raw, end) != len(raw) {
		return Invalid
	}
	byVersion, version, found := env.selected()
	if !found {
		return Invalid
	}
	data, found := byVersion[version]
	if !found {
		return Invalid
	}
	if data == nil {
		return Undecided
	}
	if env.spec.schema == data && env.spec.start == env.data {
		ok = env.spec.ok
		st.panicked = st.panicked || env.spec.panicked
	} else if env.data < 0 {
		// v5 validates the missing data as null.
		st.raw = nullText
		_, ok = st.value(data.root, 0, 0)
		st.raw = raw
	} else {
		_, ok = st.value(data.root, env.data, 1)
	}
	if !ok || st.bad || st.panicked {
		return Invalid
	}
	return Valid
}
