package fastschema

import (
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strconv"
)

// Schema is a compiled validator for one schema document. It is safe for concurrent use.
type Schema struct {
	root *node
}

// DeclinedError reports that a schema uses an assertion the fast path does not implement, so that
// jsonschema/v5 must validate against it.
type DeclinedError struct {
	Location string // the absolute location of the subschema at fault
	Keyword  string // the keyword, or a short description of the feature
}

func (e *DeclinedError) Error() string {
	return fmt.Sprintf("fast path declines %s: it uses %s", e.Location, e.Keyword)
}

// Type bits of a node's type keyword.
const (
	tNull uint8 = 1 << iota
	tBoolean
	tObject
	tArray
	tNumber
	tInteger
	tString
)

type patternProp struct {
	re *matcher
	n  *node
}

type depRequired struct {
	name int   // known-name index of the property that triggers the dependency
	req  []int // known-name indexes it requires
}

// node is one compiled subschema: the assertions of its keywords as jsonschema/v5 applies them;
// absent limits are -1 and absent subschemas nil.
type node struct {
	loc    string
	always int8 // +1 for the schema true, -1 for false, 0 otherwise

	types    uint8
	intFirst bool // "integer" precedes "number" in type, so v5 checks integer-ness first

	// enum and const, as canonical forms (see canonical); enumNum says a number occurs among
	// them, enumComposite that an object or array does.
	hasConst      bool
	constCanon    string
	constVal      any   // the const value as decoded from the schema (numbers as json.Number)
	enumVals      []any // the enum values as decoded, in order
	enum          map[string]struct{}
	hasEnum       bool
	enumNum       bool
	enumComposite bool
	constNum      bool

	format formatCheck

	// objects
	hasObject     bool
	known         map[string]int // property names the node refers to, with their bit index
	knownNames    []string
	nameSlots     [64]uint8 // see lookup
	slotMul       uint64
	propNode      []*node // by known index; nil where the name has no properties entry
	required      []int
	patterns      []patternProp
	addl          *node // additionalProperties as a schema; nil when absent or a boolean
	addlFalse     bool
	propNames     *node
	minProps      int
	maxProps      int
	depRequired   []depRequired
	trackUnknown  bool // the values of properties outside known matter, or property counts do
	countDistinct bool

	// arrays
	hasArray    bool
	prefix      []*node
	items       *node
	contains    *node
	minContains int
	maxContains int
	minItems    int
	maxItems    int
	unique      bool

	// strings
	hasString bool
	minLen    int
	maxLen    int
	pattern   *matcher

	// numbers
	hasNumber                        bool
	min, max, exMin, exMax, multiple *decimal

	// in-place applicators
	inPlace           bool
	ref               *node
	not               *node
	allOf             []*node
	anyOf             []*node
	oneOf             []*node
	ifN, thenN, elseN *node
}

// Compile builds the fast validator of the schema at the absolute URL u (the URL a document was
// added under, with an optional fragment), reading its document and those it references as
// jsonschema/v5 reads them. It returns a *DeclinedError when the schema uses an assertion outside
// the supported subset, or when what it means would depend on more than its documents.
func (c *Compiler) Compile(u string) (*Schema, error) {
	if v := draftOf(u); v != 0 {
		kw := "$dynamicRef (the draft 2020-12 metaschema)"
		if v != 2020 {
			kw = "a draft other than 2020-12"
		}
		return nil, &DeclinedError{Location: u, Keyword: kw}
	}
	b, f := split(u)
	d, err := c.document(b)
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", u, err)
	}
	if d.draft != 2020 {
		return nil, &DeclinedError{Location: u, Keyword: "a draft other than 2020-12"}
	}
	t, err := c.resolve(d, "#", f, 0)
	if err != nil {
		return nil, err
	}
	bld := &builder{c: c, nodes: map[nodeKey]*node{}}
	root, err := bld.node(t.doc, t.res)
	if err != nil {
		return nil, err
	}
	if err := checkLoops(root); err != nil {
		return nil, err
	}
	return &Schema{root: root}, nil
}

// nodeKey names a subschema: jsonschema/v5 compiles each (document, fragment) once.
type nodeKey struct {
	doc  *document
	floc string
}

// builder turns the subschemas that one [Compiler.Compile] reaches into nodes. Nodes are not
// shared between calls, so that a declined schema leaves nothing half built behind.
type builder struct {
	c     *Compiler
	nodes map[nodeKey]*node
}

// malformed declines a keyword whose value jsonschema/v5's metaschema would not have let through.
func malformed(loc, kw string) error {
	return &DeclinedError{Location: loc, Keyword: "a malformed " + kw}
}

func (b *builder) node(d *document, r *resource) (*node, error) {
	key := nodeKey{d, r.floc}
	if n, ok := b.nodes[key]; ok {
		return n, nil
	}
	loc := d.url + r.floc
	n := &node{loc: loc, minProps: -1, maxProps: -1, minItems: -1, maxItems: -1, minLen: -1, maxLen: -1, minContains: -1, maxContains: -1}
	b.nodes[key] = n
	decline := func(kw string) error { return &DeclinedError{Location: loc, Keyword: kw} }

	if d.draft != 2020 {
		return nil, decline("a draft other than 2020-12")
	}
	var m map[string]any
	switch v := r.value.(type) {
	case bool:
		n.always = -1
		if v {
			n.always = 1
		}
		return n, nil
	case map[string]any:
		m = v
	default:
		return nil, decline("a schema that is neither an object nor a boolean")
	}
	validation, applicator := d.hasVocab("validation"), d.hasVocab("applicator")
	has := func(kw string) bool { _, ok := m[kw]; return ok }
	nonEmptyString := func(kw string) bool { s, _ := m[kw].(string); return s != "" }
	switch {
	case has("$recursiveRef"):
		return nil, decline("$recursiveRef")
	case has("$dynamicRef"):
		return nil, decline("$dynamicRef")
	case applicator && has("dependencies"):
		return nil, decline("dependencies")
	case applicator && func() bool { o, _ := m["dependentSchemas"].(map[string]any); return len(o) > 0 }():
		return nil, decline("dependentSchemas")
	case d.hasVocab("unevaluated") && has("unevaluatedProperties"):
		return nil, decline("unevaluatedProperties")
	case d.hasVocab("unevaluated") && has("unevaluatedItems"):
		return nil, decline("unevaluatedItems")
	case applicator && m["regexProperties"] == true:
		return nil, decline("regex property names")
	case nonEmptyString("contentEncoding") || nonEmptyString("contentMediaType"):
		return nil, decline("contentEncoding/contentMediaType")
	}

	// child compiles the subschema at a path below this one ("properties/a", "allOf/0").
	child := func(path string) (*node, error) {
		cr, err := d.pointer(r.floc + "/" + path)
		if err != nil {
			return nil, err
		}
		if cr == nil {
			return nil, decline("a subschema that cannot be found: " + path)
		}
		return b.node(d, cr)
	}
	childList := func(kw string) ([]*node, error) {
		v, ok := m[kw]
		if !ok {
			return nil, nil
		}
		a, ok := v.([]any)
		if !ok {
			return nil, malformed(loc, kw)
		}
		out := make([]*node, 0, len(a))
		for i := range a {
			sub, err := child(kw + "/" + strconv.Itoa(i))
			if err != nil {
				return nil, err
			}
			out = append(out, sub)
		}
		return out, nil
	}
	stringList := func(kw string, v any) ([]string, error) {
		a, ok := v.([]any)
		if !ok {
			return nil, malformed(loc, kw)
		}
		out := make([]string, len(a))
		for i, x := range a {
			if out[i], ok = x.(string); !ok {
				return nil, malformed(loc, kw)
			}
		}
		return out, nil
	}
	// integer reads a count as jsonschema/v5 does, through float64; -1 when absent.
	integer := func(kw string) (int, error) {
		v, ok := m[kw]
		if !ok {
			return -1, nil
		}
		num, ok := v.(json.Number)
		if !ok {
			return 0, malformed(loc, kw)
		}
		f, _ := num.Float64()
		return int(f), nil
	}
	// limit reads a numeric limit. One that math/big cannot represent is no limit at all in
	// jsonschema/v5, which ignores it.
	limit := func(kw string) (*decimal, error) {
		v, ok := m[kw]
		if !ok {
			return nil, nil
		}
		num, ok := v.(json.Number)
		if !ok {
			return nil, malformed(loc, kw)
		}
		if _, ok := new(big.Rat).SetString(string(num)); !ok {
			return nil, nil
		}
		dec, _ := parseDecimal([]byte(num), nil)
		return &dec, nil
	}
	var err error

	if validation {
		switch t := m["type"].(type) {
		case nil:
		case string:
			n.addType(t)
		case []any:
			names, err := stringList("type", t)
			if err != nil {
				return nil, err
			}
			for _, name := range names {
				n.addType(name)
			}
		default:
			return nil, malformed(loc, "type")
		}
	}

	if v, ok := m["const"]; ok {
		canon, err := canonicalOf(v)
		if err != nil {
			return nil, decline("const " + err.Error())
		}
		n.hasConst, n.constCanon, n.constVal = true, canon, v
		n.constNum = canon[0] == 'n'
	}
	if v, ok := m["enum"]; ok && validation {
		vals, ok := v.([]any)
		if !ok {
			return nil, malformed(loc, "enum")
		}
		if len(vals) > 0 {
			n.hasEnum = true
			n.enum = map[string]struct{}{}
			n.enumVals = vals
			for _, v := range vals {
				canon, err := canonicalOf(v)
				if err != nil {
					return nil, decline("enum " + err.Error())
				}
				n.enum[canon] = struct{}{}
				switch canon[0] {
				case 'n':
					n.enumNum = true
				case '[', '{':
					n.enumComposite = true
				}
			}
		}
	}
	if n.hasConst && (n.constCanon[0] == '[' || n.constCanon[0] == '{') {
		n.enumComposite = true
	}

	if v, ok := m["format"]; ok {
		name, ok := v.(string)
		if !ok {
			return nil, malformed(loc, "format")
		}
		// A format jsonschema/v5 has no checker for asserts nothing.
		if f, known := formatFor(name); known {
			n.format = f
		}
	}

	// objects
	n.known = map[string]int{}
	addKnown := func(name string) int {
		if i, ok := n.known[name]; ok {
			return i
		}
		n.known[name] = len(n.knownNames)
		n.knownNames = append(n.knownNames, name)
		n.propNode = append(n.propNode, nil)
		return len(n.knownNames) - 1
	}
	if validation {
		if n.minProps, err = integer("minProperties"); err != nil {
			return nil, err
		}
		if n.maxProps, err = integer("maxProperties"); err != nil {
			return nil, err
		}
	}
	if v, ok := m["properties"]; ok && applicator {
		props, ok := v.(map[string]any)
		if !ok {
			return nil, malformed(loc, "properties")
		}
		for _, name := range sortedKeys(props) {
			sub, err := child("properties/" + escapeToken(name))
			if err != nil {
				return nil, err
			}
			n.propNode[addKnown(name)] = sub
		}
	}
	if v, ok := m["required"]; ok && validation {
		names, err := stringList("required", v)
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			n.required = append(n.required, addKnown(name))
		}
	}
	if v, ok := m["dependentRequired"]; ok && validation {
		deps, ok := v.(map[string]any)
		if !ok {
			return nil, malformed(loc, "dependentRequired")
		}
		for _, name := range sortedKeys(deps) {
			req, err := stringList("dependentRequired", deps[name])
			if err != nil {
				return nil, err
			}
			dr := depRequired{name: addKnown(name)}
			for _, r := range req {
				dr.req = append(dr.req, addKnown(r))
			}
			n.depRequired = append(n.depRequired, dr)
		}
	}
	if v, ok := m["patternProperties"]; ok && applicator {
		pats, ok := v.(map[string]any)
		if !ok {
			return nil, malformed(loc, "patternProperties")
		}
		for _, p := range sortedKeys(pats) {
			re, err := regexp.Compile(p)
			if err != nil {
				return nil, malformed(loc, "patternProperties pattern")
			}
			sub, err := child("patternProperties/" + escapeToken(p))
			if err != nil {
				return nil, err
			}
			n.patterns = append(n.patterns, patternProp{newMatcher(re), sub})
		}
	}
	if applicator {
		switch a := m["additionalProperties"].(type) {
		case bool:
			n.addlFalse = !a
		case map[string]any:
			sub, err := child("additionalProperties")
			if err != nil {
				return nil, err
			}
			if sub.always == -1 {
				n.addlFalse = true
			} else if sub.always != 1 {
				n.addl = sub
			}
		}
		if has("propertyNames") {
			if n.propNames, err = child("propertyNames"); err != nil {
				return nil, err
			}
		}
	}
	n.setNameSlots()
	n.countDistinct = n.minProps >= 0 || n.maxProps >= 0
	n.trackUnknown = n.countDistinct || len(n.patterns) > 0 || n.addl != nil
	n.hasObject = len(n.knownNames) > 0 || len(n.patterns) > 0 || n.addl != nil || n.addlFalse ||
		n.propNames != nil || n.countDistinct

	// arrays
	minContains, maxContains := 1, -1
	if validation {
		if n.minItems, err = integer("minItems"); err != nil {
			return nil, err
		}
		if n.maxItems, err = integer("maxItems"); err != nil {
			return nil, err
		}
		if v, ok := m["uniqueItems"]; ok {
			if n.unique, ok = v.(bool); !ok {
				return nil, malformed(loc, "uniqueItems")
			}
		}
		if minContains, err = integer("minContains"); err != nil {
			return nil, err
		}
		if minContains == -1 {
			minContains = 1
		}
		if maxContains, err = integer("maxContains"); err != nil {
			return nil, err
		}
	}
	if applicator {
		if n.prefix, err = childList("prefixItems"); err != nil {
			return nil, err
		}
		if has("items") {
			if n.items, err = child("items"); err != nil {
				return nil, err
			}
		}
		if has("contains") && (minContains != -1 || maxContains != -1) {
			if n.contains, err = child("contains"); err != nil {
				return nil, err
			}
			n.minContains, n.maxContains = minContains, maxContains
		}
	}
	n.hasArray = len(n.prefix) > 0 || n.items != nil || n.contains != nil || n.minItems >= 0 ||
		n.maxItems >= 0 || n.unique

	// strings
	if validation {
		if n.minLen, err = integer("minLength"); err != nil {
			return nil, err
		}
		if n.maxLen, err = integer("maxLength"); err != nil {
			return nil, err
		}
		if v, ok := m["pattern"]; ok {
			p, ok := v.(string)
			if !ok {
				return nil, malformed(loc, "pattern")
			}
			re, err := regexp.Compile(p)
			if err != nil {
				return nil, malformed(loc, "pattern")
			}
			n.pattern = newMatcher(re)
		}
	}
	n.hasString = n.minLen >= 0 || n.maxLen >= 0 || n.pattern != nil || n.format != nil

	// numbers
	if validation {
		if n.min, err = limit("minimum"); err != nil {
			return nil, err
		}
		if n.max, err = limit("maximum"); err != nil {
			return nil, err
		}
		// The boolean forms of draft 4 turn minimum and maximum exclusive.
		switch x := m["exclusiveMinimum"].(type) {
		case bool:
			if x {
				n.min, n.exMin = nil, n.min
			}
		case nil:
		default:
			if n.exMin, err = limit("exclusiveMinimum"); err != nil {
				return nil, err
			}
		}
		switch x := m["exclusiveMaximum"].(type) {
		case bool:
			if x {
				n.max, n.exMax = nil, n.max
			}
		case nil:
		default:
			if n.exMax, err = limit("exclusiveMaximum"); err != nil {
				return nil, err
			}
		}
		if n.multiple, err = limit("multipleOf"); err != nil {
			return nil, err
		}
	}
	n.hasNumber = n.min != nil || n.max != nil || n.exMin != nil || n.exMax != nil || n.multiple != nil

	// in-place applicators
	if v, ok := m["$ref"]; ok {
		ref, ok := v.(string)
		if !ok {
			return nil, malformed(loc, "$ref")
		}
		t, err := b.c.resolve(d, r.floc, ref, 0)
		if err != nil {
			return nil, err
		}
		if n.ref, err = b.node(t.doc, t.res); err != nil {
			return nil, err
		}
	}
	if applicator {
		if has("not") {
			if n.not, err = child("not"); err != nil {
				return nil, err
			}
		}
		if n.allOf, err = childList("allOf"); err != nil {
			return nil, err
		}
		if n.anyOf, err = childList("anyOf"); err != nil {
			return nil, err
		}
		if n.oneOf, err = childList("oneOf"); err != nil {
			return nil, err
		}
		if m["if"] != nil {
			if n.ifN, err = child("if"); err != nil {
				return nil, err
			}
			if has("then") {
				if n.thenN, err = child("then"); err != nil {
					return nil, err
				}
			}
			if has("else") {
				if n.elseN, err = child("else"); err != nil {
					return nil, err
				}
			}
		}
	}
	n.inPlace = n.ref != nil || n.not != nil || len(n.allOf) > 0 || len(n.anyOf) > 0 || len(n.oneOf) > 0 || n.ifN != nil
	return n, nil
}

// addType adds a name of the type keyword; "integer" before "number" makes jsonschema/v5 check
// integer-ness first.
func (n *node) addType(t string) {
	switch t {
	case "null":
		n.types |= tNull
	case "boolean":
		n.types |= tBoolean
	case "object":
		n.types |= tObject
	case "array":
		n.types |= tArray
	case "number":
		n.types |= tNumber
	case "integer":
		if n.types&tNumber == 0 {
			n.intFirst = true
		}
		n.types |= tInteger
	case "string":
		n.types |= tString
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// checkLoops declines a schema in which applicators reach the same subschema again without moving
// into the instance ($ref to itself, for example): v5 reports those at validation time.
func checkLoops(root *node) error {
	const (
		unseen = iota
		active
		done
	)
	state := map[*node]int{}
	var visit func(n *node) error
	var walkAll func(n *node) error
	seenAll := map[*node]bool{}
	visit = func(n *node) error {
		switch state[n] {
		case active:
			return &DeclinedError{Location: n.loc, Keyword: "a reference loop that never moves into the instance"}
		case done:
			return nil
		}
		state[n] = active
		for _, m := range n.inPlaceChildren() {
			if err := visit(m); err != nil {
				return err
			}
		}
		state[n] = done
		return nil
	}
	walkAll = func(n *node) error {
		if seenAll[n] {
			return nil
		}
		seenAll[n] = true
		if err := visit(n); err != nil {
			return err
		}
		for _, m := range n.allChildren() {
			if err := walkAll(m); err != nil {
				return err
			}
		}
		return nil
	}
	return walkAll(root)
}

func (n *node) inPlaceChildren() []*node {
	var out []*node
	for _, m := range []*node{n.ref, n.not, n.ifN, n.thenN, n.elseN} {
		if m != nil {
			out = append(out, m)
		}
	}
	out = append(out, n.allOf...)
	out = append(out, n.anyOf...)
	return append(out, n.oneOf...)
}

func (n *node) allChildren() []*node {
	out := n.inPlaceChildren()
	for _, m := range n.propNode {
		if m != nil {
			out = append(out, m)
		}
	}
	for _, p := range n.patterns {
		out = append(out, p.n)
	}
	for _, m := range append([]*node{n.addl, n.propNames, n.items, n.contains}, n.prefix...) {
		if m != nil {
			out = append(out, m)
		}
	}
	return out
}

// canonicalOf returns the canonical form of a value decoded by encoding/json with UseNumber.
func canonicalOf(v any) (string, error) {
	b, err := appendCanonicalValue(nil, v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// appendCanonicalValue appends a form of v that two values share exactly when jsonschema/v5
// considers them equal: numbers by value, objects regardless of member order.
func appendCanonicalValue(buf []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(buf, 'z'), nil
	case bool:
		if v {
			return append(buf, 't'), nil
		}
		return append(buf, 'f'), nil
	case json.Number:
		d, _ := parseDecimal([]byte(v), nil)
		if d.ratBad {
			return nil, fmt.Errorf("number %s out of range", v)
		}
		return appendCanonical(buf, d), nil
	case float64:
		return appendCanonicalValue(buf, json.Number(fmt.Sprint(v)))
	case string:
		return appendCanonicalString(buf, []byte(v)), nil
	case []any:
		buf = append(buf, '[')
		for _, x := range v {
			var err error
			if buf, err = appendCanonicalValue(buf, x); err != nil {
				return nil, err
			}
		}
		return append(buf, ']'), nil
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		buf = append(buf, '{')
		for _, k := range keys {
			buf = appendCanonicalString(buf, []byte(k))
			var err error
			if buf, err = appendCanonicalValue(buf, v[k]); err != nil {
				return nil, err
			}
		}
		return append(buf, '}'), nil
	}
	return nil, fmt.Errorf("value of type %T", v)
}

// appendCanonicalString writes a string with its length first, so that no string's form is a
// prefix of another's.
func appendCanonicalString(buf, s []byte) []byte {
	buf = append(buf, 's')
	buf = strconv.AppendUint(buf, uint64(len(s)), 10)
	buf = append(buf, ':')
	return append(buf, s...)
}
