package schematool

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"math/big"
	"path"
	"reflect"
	"sort"
	"strings"

	"github.com/firelane/firelane/internal/schema"
)

// Change is one difference between two revisions of a schema.
type Change struct {
	Pointer  string // where in the schema, as a JSON pointer
	Breaking bool   // whether it needs a new major version
	Reason   string
}

func (c Change) String() string {
	verdict := "compatible"
	if c.Breaking {
		verdict = "BREAKING"
	}
	return fmt.Sprintf("%s %s: %s", verdict, orRoot(c.Pointer), c.Reason)
}

// Compare classifies every difference between two revisions of one data schema. Within a major
// version, a change is compatible only when (1) every data value the old revision accepts is still
// accepted, so producers built against it keep working and the lake's older rows still fit the
// schema, and (2) no Athena column changes its type, so one table reads every row of the major
// version. Compare is conservative: a change it cannot prove compatible, such as an edited pattern
// or a changed combinator, is breaking.
func Compare(old, new map[string]any) []Change {
	var out []Change
	compareNode(old, new, "", &out)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Pointer < out[j].Pointer })
	return out
}

// Breaking reports whether any change is breaking.
func Breaking(changes []Change) bool {
	for _, c := range changes {
		if c.Breaking {
			return true
		}
	}
	return false
}

// Annotation keywords: changing them never changes what validates.
var annotations = map[string]bool{
	"title": true, "description": true, "$comment": true, "examples": true, "default": true,
	"deprecated": true, "readOnly": true, "writeOnly": true, InvalidExamplesKeyword: true,
}

var lowerBounds = map[string]string{"minimum": "minimum", "exclusiveMinimum": "exclusive minimum", "minLength": "minimum length",
	"minItems": "minimum item count", "minProperties": "minimum property count", "minContains": "minimum contains count"}
var upperBounds = map[string]string{"maximum": "maximum", "exclusiveMaximum": "exclusive maximum", "maxLength": "maximum length",
	"maxItems": "maximum item count", "maxProperties": "maximum property count", "maxContains": "maximum contains count"}

func compareNode(o, n any, ptr string, out *[]Change) {
	add := func(p string, breaking bool, format string, args ...any) {
		*out = append(*out, Change{Pointer: p, Breaking: breaking, Reason: fmt.Sprintf(format, args...)})
	}
	ob, oIsBool := o.(bool)
	nb, nIsBool := n.(bool)
	if oIsBool || nIsBool {
		switch {
		case reflect.DeepEqual(o, n):
		case oIsBool && !ob:
			add(ptr, false, "false schema replaced: values that were all rejected may now be accepted")
		case nIsBool && nb:
			add(ptr, false, "schema replaced by true: every value is accepted")
		default:
			add(ptr, true, "schema replaced by %v: values it accepted may now be rejected", n)
		}
		return
	}
	om, _ := o.(map[string]any)
	nm, _ := n.(map[string]any)
	if ok, nk := columnKind(om), columnKind(nm); ok != nk {
		add(ptr, true, "the Athena column type changes from %s to %s, so one table cannot read old and new rows", ok, nk)
	}
	keys := map[string]bool{}
	for k := range om {
		keys[k] = true
	}
	for k := range nm {
		keys[k] = true
	}
	for _, k := range sortedKeys(keys) {
		ov, inOld := om[k]
		nv, inNew := nm[k]
		kp := ptr + "/" + escapePointer(k)
		if k == "properties" || k == "required" || k == "additionalProperties" {
			continue // compared together below
		}
		if reflect.DeepEqual(ov, nv) {
			continue
		}
		switch {
		case annotations[k]:
			add(kp, false, "%s changed (documentation only)", k)
		case k == PIIKeyword:
			comparePII(ov, nv, inOld, inNew, nm, kp, add)
		case strings.HasPrefix(k, "x-"):
			add(kp, false, "annotation %s changed; firelane does not read it", k)
		case k == "$id":
			add(kp, true, "$id changed: it names the type and major version")
		case k == "$schema":
			add(kp, true, "$schema changed: the dialect decides what every keyword means")
		case k == "type":
			compareTypes(ov, nv, inOld, inNew, kp, add)
		case k == "enum":
			compareEnum(ov, nv, inOld, inNew, kp, add)
		case k == "const":
			switch {
			case !inNew:
				add(kp, false, "const removed: any value is accepted")
			case !inOld:
				add(kp, true, "const %s added: other values are now rejected", jsonText(nv))
			default:
				add(kp, true, "const changed from %s to %s", jsonText(ov), jsonText(nv))
			}
		case lowerBounds[k] != "":
			compareBound(ov, nv, inOld, inNew, kp, lowerBounds[k], true, add)
		case upperBounds[k] != "":
			compareBound(ov, nv, inOld, inNew, kp, upperBounds[k], false, add)
		case k == "multipleOf":
			switch {
			case !inNew:
				add(kp, false, "multipleOf removed")
			case !inOld:
				add(kp, true, "multipleOf %s added: values that are not multiples are now rejected", jsonText(nv))
			case divides(nv, ov):
				add(kp, false, "multipleOf relaxed from %s to %s (every multiple of the old is a multiple of the new)", jsonText(ov), jsonText(nv))
			default:
				add(kp, true, "multipleOf changed from %s to %s: some multiples of the old are rejected", jsonText(ov), jsonText(nv))
			}
		case k == "pattern" || k == "format":
			switch {
			case !inNew:
				add(kp, false, "%s removed", k)
			case !inOld:
				add(kp, true, "%s %s added: values that do not match are now rejected", k, jsonText(nv))
			default:
				add(kp, true, "%s changed from %s to %s: firelane cannot prove the new one accepts everything the old did", k, jsonText(ov), jsonText(nv))
			}
		case k == "uniqueItems":
			if nv == true {
				add(kp, true, "uniqueItems set: arrays with duplicates are now rejected")
			} else {
				add(kp, false, "uniqueItems dropped")
			}
		case k == "items":
			switch {
			case !inNew:
				add(kp, false, "items schema removed: any item is accepted")
			case !inOld:
				add(kp, true, "items schema added: items it rejects were accepted before")
			default:
				compareNode(ov, nv, kp, out)
			}
		default:
			// Applicators and the remaining assertions. Removing one only loosens the schema,
			// because JSON Schema keywords are a conjunction; anything else is not provable here.
			switch {
			case !inNew && k != "if" && k != "then" && k != "else" && k != "$defs" && k != "$anchor" && k != "$dynamicAnchor":
				add(kp, false, "%s removed: one constraint fewer", k)
			case !inOld:
				add(kp, true, "%s added: values it rejects were accepted before", k)
			default:
				add(kp, true, "%s changed: firelane cannot prove the change keeps every valid value valid; use a new major version", k)
			}
		}
	}
	compareObject(om, nm, ptr, out, add)
}

// compareObject compares properties, required and additionalProperties, which only make sense
// together: a property added to a closed object is harmless, added to an open one it may reject
// values old producers sent under that name.
func compareObject(om, nm map[string]any, ptr string, out *[]Change, add func(string, bool, string, ...any)) {
	oProps, _ := om["properties"].(map[string]any)
	nProps, _ := nm["properties"].(map[string]any)
	oAdd, oHasAdd := om["additionalProperties"]
	nAdd, nHasAdd := nm["additionalProperties"]
	oClosed := oHasAdd && oAdd == false
	nClosed := nHasAdd && nAdd == false
	names := map[string]bool{}
	for k := range oProps {
		names[k] = true
	}
	for k := range nProps {
		names[k] = true
	}
	for _, name := range sortedKeys(names) {
		ov, inOld := oProps[name]
		nv, inNew := nProps[name]
		pp := ptr + "/properties/" + escapePointer(name)
		switch {
		case inOld && inNew:
			compareNode(ov, nv, pp, out)
		case inNew && oClosed:
			add(pp, false, "property %q added to a closed object (additionalProperties: false)", name)
		case inNew && isTrivial(nv):
			add(pp, false, "property %q added without constraints", name)
		case inNew:
			add(pp, true, "property %q added to an open object: old producers may already send %q with values the new schema rejects (close objects with additionalProperties: false to add properties freely)", name, name)
		case nClosed:
			add(pp, true, "property %q removed (or renamed): events that carry it are now rejected and its column disappears", name)
		default:
			add(pp, true, "property %q removed (or renamed): its column disappears from the table", name)
		}
	}
	oReq := stringSet(om["required"])
	nReq := stringSet(nm["required"])
	for _, name := range sortedKeys(nReq) {
		if !oReq[name] {
			add(ptr+"/required", true, "property %q became required: events without it are now rejected", name)
		}
	}
	for _, name := range sortedKeys(oReq) {
		if !nReq[name] {
			add(ptr+"/required", false, "property %q is no longer required", name)
		}
	}
	ap := ptr + "/additionalProperties"
	switch {
	case reflect.DeepEqual(oAdd, nAdd) && oHasAdd == nHasAdd:
	case nClosed:
		add(ap, true, "additionalProperties set to false: events with other properties are now rejected")
	case oClosed && (!nHasAdd || nAdd == true):
		add(ap, false, "additionalProperties no longer false: other properties are accepted (adding a property later will then be breaking)")
	case (!oHasAdd || oAdd == true) && (!nHasAdd || nAdd == true):
	case oClosed:
		add(ap, false, "additionalProperties loosened from false to a schema")
	case !oHasAdd || oAdd == true:
		add(ap, true, "additionalProperties schema added: other properties it rejects were accepted before")
	case !nHasAdd || nAdd == true:
		add(ap, false, "additionalProperties schema removed")
	default:
		compareNode(oAdd, nAdd, ap, out)
	}
}

func comparePII(ov, nv any, inOld, inNew bool, nm map[string]any, kp string, add func(string, bool, string, ...any)) {
	switch {
	case !inNew:
		add(kp, true, "x-pii %v removed: clear values would land in a column that holds hashed or removed ones; personal data annotations can only be added or changed within a major version", ov)
	case nv == "hash" && columnKind(nm) != "string":
		add(kp, true, "x-pii hash on a %s property: enrich stores a hex string, so the column type changes", columnKind(nm))
	case !inOld && nv == "redact":
		add(kp, false, "x-pii redact added: enrich removes the value from now on and its field leaves the Athena table (rows already in the lake keep it in S3: delete them there if they must go)")
	case !inOld:
		add(kp, false, "x-pii %v added: enrich treats the value as personal data from now on (rows already in the lake keep what they hold)", nv)
	default:
		add(kp, false, "x-pii changed from %v to %v", ov, nv)
	}
}

// typeSet returns the JSON types a "type" keyword allows; absent means all of them.
func typeSet(v any, present bool) map[string]bool {
	all := map[string]bool{"null": true, "boolean": true, "object": true, "array": true, "number": true, "string": true, "integer": true}
	if !present {
		return all
	}
	s := map[string]bool{}
	switch t := v.(type) {
	case string:
		s[t] = true
	case []any:
		for _, e := range t {
			if str, ok := e.(string); ok {
				s[str] = true
			}
		}
	}
	if s["number"] {
		s["integer"] = true
	}
	return s
}

func compareTypes(ov, nv any, inOld, inNew bool, kp string, add func(string, bool, string, ...any)) {
	o, n := typeSet(ov, inOld), typeSet(nv, inNew)
	var lost, gained []string
	for t := range o {
		if !n[t] {
			lost = append(lost, t)
		}
	}
	for t := range n {
		if !o[t] {
			gained = append(gained, t)
		}
	}
	sort.Strings(lost)
	sort.Strings(gained)
	switch {
	case len(lost) > 0:
		add(kp, true, "type narrowed from %s to %s: %s values are now rejected", typeText(ov, inOld), typeText(nv, inNew), strings.Join(lost, ", "))
	case len(gained) > 0:
		add(kp, false, "type widened from %s to %s", typeText(ov, inOld), typeText(nv, inNew))
	default:
		add(kp, false, "type rewritten from %s to %s without changing what it allows", typeText(ov, inOld), typeText(nv, inNew))
	}
}

func typeText(v any, present bool) string {
	if !present {
		return "any type"
	}
	return jsonText(v)
}

func compareEnum(ov, nv any, inOld, inNew bool, kp string, add func(string, bool, string, ...any)) {
	switch {
	case !inNew:
		add(kp, false, "enum removed: any value is accepted")
		return
	case !inOld:
		add(kp, true, "enum %s added: other values are now rejected", jsonText(nv))
		return
	}
	oa, _ := ov.([]any)
	na, _ := nv.([]any)
	var removed, added []string
	for _, v := range oa {
		if !containsJSON(na, v) {
			removed = append(removed, jsonText(v))
		}
	}
	for _, v := range na {
		if !containsJSON(oa, v) {
			added = append(added, jsonText(v))
		}
	}
	switch {
	case len(removed) > 0:
		add(kp, true, "enum value(s) %s removed: events that use them are now rejected", strings.Join(removed, ", "))
	case len(added) > 0:
		add(kp, false, "enum value(s) %s added", strings.Join(added, ", "))
	default:
		add(kp, false, "enum values reordered")
	}
}

func containsJSON(list []any, v any) bool {
	for _, e := range list {
		if jsonText(e) == jsonText(v) {
			return true
		}
	}
	return false
}

func compareBound(ov, nv any, inOld, inNew bool, kp, what string, lower bool, add func(string, bool, string, ...any)) {
	switch {
	case !inNew:
		add(kp, false, "%s %s removed", what, jsonText(ov))
		return
	case !inOld:
		add(kp, true, "%s %s added: values beyond it were accepted before", what, jsonText(nv))
		return
	}
	o, ok1 := rat(ov)
	n, ok2 := rat(nv)
	if !ok1 || !ok2 {
		add(kp, true, "%s changed from %s to %s", what, jsonText(ov), jsonText(nv))
		return
	}
	c := n.Cmp(o)
	switch {
	case c == 0:
	case (c < 0) == lower:
		add(kp, false, "%s widened from %s to %s", what, jsonText(ov), jsonText(nv))
	default:
		add(kp, true, "%s narrowed from %s to %s: values between them are now rejected", what, jsonText(ov), jsonText(nv))
	}
}

func rat(v any) (*big.Rat, bool) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case float64:
		return new(big.Rat).SetFloat64(x), true
	default:
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

// divides reports whether every multiple of old is a multiple of new, that is old/new is an integer.
func divides(newer, older any) bool {
	n, ok1 := rat(newer)
	o, ok2 := rat(older)
	if !ok1 || !ok2 || n.Sign() == 0 {
		return false
	}
	return new(big.Rat).Quo(o, n).IsInt()
}

func isTrivial(v any) bool {
	if b, ok := v.(bool); ok {
		return b
	}
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	for k := range m {
		if !annotations[k] && !strings.HasPrefix(k, "x-") {
			return false
		}
	}
	return true
}

func stringSet(v any) map[string]bool {
	s := map[string]bool{}
	if a, ok := v.([]any); ok {
		for _, e := range a {
			if str, ok := e.(string); ok {
				s[str] = true
			}
		}
	}
	return s
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// FileChanges are the changes of one schema file between two revisions of a schema directory.
type FileChanges struct {
	Name    string // the file's path in the schema directory
	Key     schema.Key
	Added   bool // the file is new: a new type or major version
	Removed bool // the file is gone
	Changes []Change
}

// Breaking reports whether the file's changes need a new major version.
func (f FileChanges) Breaking() bool { return f.Removed || Breaking(f.Changes) }

// CompareDirs compares every data schema file of two revisions of a schema directory. Files are
// matched by name; unchanged files are left out.
func CompareDirs(oldFS, newFS fs.FS) ([]FileChanges, error) {
	read := func(fsys fs.FS) (map[string][]byte, error) {
		out := map[string][]byte{}
		err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if _, ok := ParseKey(path.Base(p)); !ok {
				return nil
			}
			b, err := fs.ReadFile(fsys, p)
			out[p] = b
			return err
		})
		return out, err
	}
	olds, err := read(oldFS)
	if err != nil {
		return nil, fmt.Errorf("read the old schemas: %w", err)
	}
	news, err := read(newFS)
	if err != nil {
		return nil, fmt.Errorf("read the new schemas: %w", err)
	}
	names := map[string]bool{}
	for k := range olds {
		names[k] = true
	}
	for k := range news {
		names[k] = true
	}
	var out []FileChanges
	for _, name := range sortedKeys(names) {
		key, _ := ParseKey(path.Base(name))
		fc := FileChanges{Name: name, Key: key}
		ob, inOld := olds[name]
		nb, inNew := news[name]
		switch {
		case !inOld:
			fc.Added = true
		case !inNew:
			fc.Removed = true
		default:
			ov, err := decodeJSON(ob)
			if err != nil {
				return nil, fmt.Errorf("old %s: %w", name, err)
			}
			nv, err := decodeJSON(nb)
			if err != nil {
				return nil, fmt.Errorf("new %s: %w", name, err)
			}
			om, _ := ov.(map[string]any)
			nm, _ := nv.(map[string]any)
			fc.Changes = Compare(om, nm)
			if len(fc.Changes) == 0 {
				continue
			}
		}
		out = append(out, fc)
	}
	return out, nil
}
