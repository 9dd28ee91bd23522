package fastschema

import (
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"regexp"
	"sort"
	"strconv"

	"github.com/santhosh-tekuri/jsonschema/v5"
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

// node is one compiled subschema. Fields mirror the assertions of jsonschema/v5's Schema; absent
// limits are -1 and absent subschemas nil.
type node struct {
	loc    string
	always int8 // +1 for the schema true, -1 for false, 0 otherwise

	types    uint8
	intFirst bool // "integer" precedes "number" in type, so v5 checks integer-ness first

	// enum and const, as canonical forms (see canonical); enumNum says a number occurs among
	// them, enumComposite that an object or array does.
	hasConst      bool
	constCanon    string
	constVal      any   // the const value as v5 holds it
	enumVals      []any // the enum values as v5 holds them, in order
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

// Compile builds the fast validator of a schema that jsonschema/v5 has compiled with Draft2020 and
// AssertFormat set, so that both read the document, its $ref and $defs identically. It returns a
// *DeclinedError when the schema uses an assertion outside the supported subset.
func Compile(s *jsonschema.Schema) (*Schema, error) {
	c := &compiler{nodes: map[*jsonschema.Schema]*node{}}
	root, err := c.node(s)
	if err != nil {
		return nil, err
	}
	if err := checkLoops(root); err != nil {
		return nil, err
	}
	return &Schema{root: root}, nil
}

type compiler struct {
	nodes map[*jsonschema.Schema]*node
}

// unexportedSet reports whether an unexported function field of v5's Schema is set, which is how
// v5 records that it asserts a format, content encoding or media type.
func unexportedSet(s *jsonschema.Schema, field string) bool {
	f := reflect.ValueOf(s).Elem().FieldByName(field)
	return f.IsValid() && !f.IsNil()
}

func (c *compiler) node(s *jsonschema.Schema) (*node, error) {
	if n, ok := c.nodes[s]; ok {
		return n, nil
	}
	n := &node{loc: s.Location, minProps: -1, maxProps: -1, minItems: -1, maxItems: -1, minLen: -1, maxLen: -1, minContains: -1, maxContains: -1}
	c.nodes[s] = n
	decline := func(kw string) error { return &DeclinedError{Location: s.Location, Keyword: kw} }

	if s.Draft != jsonschema.Draft2020 {
		return nil, decline("a draft other than 2020-12")
	}
	switch {
	case s.RecursiveRef != nil:
		return nil, decline("$recursiveRef")
	case s.DynamicRef != nil:
		return nil, decline("$dynamicRef")
	case s.Dependencies != nil:
		return nil, decline("dependencies")
	case len(s.DependentSchemas) > 0:
		return nil, decline("dependentSchemas")
	case s.UnevaluatedProperties != nil:
		return nil, decline("unevaluatedProperties")
	case s.UnevaluatedItems != nil:
		return nil, decline("unevaluatedItems")
	case s.Items != nil || s.AdditionalItems != nil:
		return nil, decline("items in its draft 2019-09 form")
	case s.RegexProperties:
		return nil, decline("regex property names")
	case s.ContentEncoding != "" || s.ContentMediaType != "" || s.ContentSchema != nil ||
		unexportedSet(s, "decoder") || unexportedSet(s, "mediaType"):
		return nil, decline("contentEncoding/contentMediaType")
	case len(s.Extensions) > 0:
		return nil, decline("a keyword extension")
	}
	if s.Always != nil {
		if *s.Always {
			n.always = 1
		} else {
			n.always = -1
		}
		return n, nil
	}

	for _, t := range s.Types {
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

	if len(s.Constant) > 0 {
		canon, err := canonicalOf(s.Constant[0])
		if err != nil {
			return nil, decline("const " + err.Error())
		}
		n.hasConst, n.constCanon, n.constVal = true, canon, s.Constant[0]
		n.constNum = canon[0] == 'n'
	}
	if len(s.Enum) > 0 {
		n.hasEnum = true
		n.enum = map[string]struct{}{}
		n.enumVals = s.Enum
		for _, v := range s.Enum {
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
		if n.hasConst && (n.constCanon[0] == '[' || n.constCanon[0] == '{') {
			n.enumComposite = true
		}
	}
	if n.hasConst && (n.constCanon[0] == '[' || n.constCanon[0] == '{') {
		n.enumComposite = true
	}

	if unexportedSet(s, "format") {
		f, ok := formatFor(s.Format)
		if !ok {
			return nil, decline("format " + s.Format + " checked by a custom function")
		}
		n.format = f
	}

	// objects
	n.minProps, n.maxProps = s.MinProperties, s.MaxProperties
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
	names := make([]string, 0, len(s.Properties))
	for name := range s.Properties {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		sub, err := c.node(s.Properties[name])
		if err != nil {
			return nil, err
		}
		n.propNode[addKnown(name)] = sub
	}
	for _, name := range s.Required {
		n.required = append(n.required, addKnown(name))
	}
	depNames := make([]string, 0, len(s.DependentRequired))
	for name := range s.DependentRequired {
		depNames = append(depNames, name)
	}
	sort.Strings(depNames)
	for _, name := range depNames {
		d := depRequired{name: addKnown(name)}
		for _, r := range s.DependentRequired[name] {
			d.req = append(d.req, addKnown(r))
		}
		n.depRequired = append(n.depRequired, d)
	}
	pats := make([]*regexp.Regexp, 0, len(s.PatternProperties))
	for re := range s.PatternProperties {
		pats = append(pats, re)
	}
	sort.Slice(pats, func(i, j int) bool { return pats[i].String() < pats[j].String() })
	for _, re := range pats {
		sub, err := c.node(s.PatternProperties[re])
		if err != nil {
			return nil, err
		}
		n.patterns = append(n.patterns, patternProp{newMatcher(re), sub})
	}
	switch a := s.AdditionalProperties.(type) {
	case bool:
		n.addlFalse = !a
	case *jsonschema.Schema:
		sub, err := c.node(a)
		if err != nil {
			return nil, err
		}
		if sub.always == -1 {
			n.addlFalse = true
		} else if sub.always != 1 {
			n.addl = sub
		}
	}
	if s.PropertyNames != nil {
		sub, err := c.node(s.PropertyNames)
		if err != nil {
			return nil, err
		}
		n.propNames = sub
	}
	n.countDistinct = n.minProps >= 0 || n.maxProps >= 0
	n.trackUnknown = n.countDistinct || len(n.patterns) > 0 || n.addl != nil
	n.hasObject = len(n.knownNames) > 0 || len(n.patterns) > 0 || n.addl != nil || n.addlFalse ||
		n.propNames != nil || n.countDistinct

	// arrays
	n.minItems, n.maxItems, n.unique = s.MinItems, s.MaxItems, s.UniqueItems
	for _, p := range s.PrefixItems {
		sub, err := c.node(p)
		if err != nil {
			return nil, err
		}
		n.prefix = append(n.prefix, sub)
	}
	if s.Items2020 != nil {
		sub, err := c.node(s.Items2020)
		if err != nil {
			return nil, err
		}
		n.items = sub
	}
	if s.Contains != nil && (s.MinContains != -1 || s.MaxContains != -1) {
		sub, err := c.node(s.Contains)
		if err != nil {
			return nil, err
		}
		n.contains = sub
		n.minContains, n.maxContains = s.MinContains, s.MaxContains
	}
	n.hasArray = len(n.prefix) > 0 || n.items != nil || n.contains != nil || n.minItems >= 0 ||
		n.maxItems >= 0 || n.unique

	// strings
	n.minLen, n.maxLen = s.MinLength, s.MaxLength
	if s.Pattern != nil {
		n.pattern = newMatcher(s.Pattern)
	}
	n.hasString = n.minLen >= 0 || n.maxLen >= 0 || n.pattern != nil || n.format != nil

	// numbers
	var err error
	if n.min, err = ratLimit(s.Minimum); err == nil {
		if n.max, err = ratLimit(s.Maximum); err == nil {
			if n.exMin, err = ratLimit(s.ExclusiveMinimum); err == nil {
				if n.exMax, err = ratLimit(s.ExclusiveMaximum); err == nil {
					n.multiple, err = ratLimit(s.MultipleOf)
				}
			}
		}
	}
	if err != nil {
		return nil, decline(err.Error())
	}
	n.hasNumber = n.min != nil || n.max != nil || n.exMin != nil || n.exMax != nil || n.multiple != nil

	// in-place applicators
	sub := func(x *jsonschema.Schema) (*node, error) {
		if x == nil {
			return nil, nil
		}
		return c.node(x)
	}
	subs := func(xs []*jsonschema.Schema) ([]*node, error) {
		var out []*node
		for _, x := range xs {
			y, err := c.node(x)
			if err != nil {
				return nil, err
			}
			out = append(out, y)
		}
		return out, nil
	}
	if n.ref, err = sub(s.Ref); err != nil {
		return nil, err
	}
	if n.not, err = sub(s.Not); err != nil {
		return nil, err
	}
	if n.allOf, err = subs(s.AllOf); err != nil {
		return nil, err
	}
	if n.anyOf, err = subs(s.AnyOf); err != nil {
		return nil, err
	}
	if n.oneOf, err = subs(s.OneOf); err != nil {
		return nil, err
	}
	if s.If != nil {
		if n.ifN, err = sub(s.If); err != nil {
			return nil, err
		}
		if n.thenN, err = sub(s.Then); err != nil {
			return nil, err
		}
		if n.elseN, err = sub(s.Else); err != nil {
			return nil, err
		}
	}
	n.inPlace = n.ref != nil || n.not != nil || len(n.allOf) > 0 || len(n.anyOf) > 0 || len(n.oneOf) > 0 || n.ifN != nil
	return n, nil
}

// ratLimit converts a numeric limit of v5's schema; nil stays nil.
func ratLimit(r *big.Rat) (*decimal, error) {
	if r == nil {
		return nil, nil
	}
	d, ok := decimalOfRat(r)
	if !ok {
		return nil, fmt.Errorf("numeric limit %s", r.RatString())
	}
	return &d, nil
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
