package fastschema

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
)

// refNames are $defs names that need every kind of escape in a fragment.
var refNames = []string{"a", "b c", "d/e", "f~g", "é", "h%i", "j~1"}

// refTokens returns the ways a reference may spell the pointer token of a $defs name: escaped as
// the resolver writes it, and other spellings that decode to the same name.
func refTokens(name string) []string {
	tilde := strings.ReplaceAll(strings.ReplaceAll(name, "~", "~0"), "/", "~1")
	forms := []string{url.PathEscape(tilde)}
	if raw := strings.ReplaceAll(tilde, "%", "%25"); raw != forms[0] {
		forms = append(forms, raw) // non-ASCII and spaces left as they are
	}
	return forms
}

// refGen writes schemas made of resources and references: a root with $defs, some of them
// resources of their own (a relative or absolute $id) with $defs and anchors inside, and
// applicators whose $ref reach them by pointer, anchor, relative URI and absolute URI.
type refGen struct {
	r *rand.Rand
	b *strings.Builder
	// refs are the references that resolve from the root resource.
	refs []string
}

func genRefSchema(r *rand.Rand) string {
	var b strings.Builder
	g := &refGen{r: r, b: &b}
	q := func(s string) string { x, _ := json.Marshal(s); return string(x) }
	// Leaves refer to "#/$defs/d0" of the resource they are in, which every resource has.
	dDefs := func() {
		b.WriteString(`"d0":`)
		g.leafSchema(1, false)
	}
	b.WriteString(`{"$id":"http://gen.test/a/root.json","$defs":{`)
	dDefs()
	b.WriteString(",")
	names := append([]string(nil), refNames...)
	r.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	names = names[:2+r.IntN(len(names)-1)]
	var inner []string // references each resource makes to its own $defs
	for i, name := range names {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(q(name) + ":")
		tok := refTokens(name)
		g.refs = append(g.refs, "#/$defs/"+tok[r.IntN(len(tok))])
		switch r.IntN(3) {
		case 0: // a plain subschema, sometimes with an anchor
			if r.IntN(2) == 0 {
				anchor := fmt.Sprintf("an%d", i)
				g.refs = append(g.refs, "#"+anchor)
				fmt.Fprintf(&b, `{"$anchor":%s,"allOf":[`, q(anchor))
				g.leafSchema(2, true)
				b.WriteString("]}")
			} else {
				g.leafSchema(2, true)
			}
		default: // a resource of its own
			var id, abs string
			if r.IntN(2) == 0 {
				id = fmt.Sprintf("sub%d/r.json", i)
				abs = "http://gen.test/a/" + id
			} else {
				id = fmt.Sprintf("http://gen.test/other/r%d.json", i)
				abs = id
			}
			rel := id
			if strings.HasPrefix(id, "http:") && r.IntN(2) == 0 {
				rel = fmt.Sprintf("../other/r%d.json", i)
			}
			g.refs = append(g.refs, rel, abs+"#/$defs/leaf", rel+"#in", abs+"#")
			fmt.Fprintf(&b, `{"$id":%s,"$defs":{`, q(id))
			dDefs()
			b.WriteString(`,"leaf":{"$anchor":"in","allOf":[`)
			g.leafSchema(2, true)
			b.WriteString(`]}},"allOf":[`)
			// Inside the resource, "#/$defs/leaf" is its own leaf, and the root is named by its
			// absolute URI.
			local := []string{"#/$defs/leaf", "#in", "http://gen.test/a/root.json#/$defs/" + tok[0]}
			inner = append(inner, local[r.IntN(2)])
			fmt.Fprintf(&b, `{"$ref":%s}`, q(inner[len(inner)-1]))
			if r.IntN(3) == 0 {
				b.WriteString(",")
				g.leafSchema(1, true)
			}
			b.WriteString("]}")
		}
	}
	b.WriteString(`},"anyOf":[`)
	n := 1 + r.IntN(3)
	for k := 0; k < n; k++ {
		if k > 0 {
			b.WriteString(",")
		}
		g.refSchema(2)
	}
	b.WriteString(`]}`)
	return b.String()
}

// leafSchema writes a small valid schema from genInstance's vocabulary; with local, it may refer
// to "#/$defs/d0".
func (g *refGen) leafSchema(depth int, local bool) {
	r, b := g.r, g.b
	q := func(s string) string { x, _ := json.Marshal(s); return string(x) }
	if depth <= 0 || r.IntN(6) == 0 {
		b.WriteString([]string{"true", "false", "{}"}[r.IntN(3)])
		return
	}
	b.WriteString("{")
	n := 1 + r.IntN(3)
	for k := 0; k < n; k++ {
		if k > 0 {
			b.WriteString(",")
		}
		switch r.IntN(12) {
		case 0, 1:
			fmt.Fprintf(b, `"type":%s`, q(genTypes[r.IntN(len(genTypes))]))
		case 2:
			fmt.Fprintf(b, `"minimum":%s`, genNumbers[r.IntN(len(genNumbers))])
		case 3:
			fmt.Fprintf(b, `"maxLength":%d`, r.IntN(4))
		case 4:
			fmt.Fprintf(b, `"pattern":%s`, q(strings.ReplaceAll(genPatterns[r.IntN(len(genPatterns))], `\\`, `\`)))
		case 5:
			fmt.Fprintf(b, `"format":%s`, q(genFormats[r.IntN(len(genFormats))]))
		case 6:
			fmt.Fprintf(b, `"enum":[%s,%s]`, genStrings[r.IntN(len(genStrings))], genInstanceNumbers[r.IntN(4)])
		case 7:
			fmt.Fprintf(b, `"required":[%s]`, q(genNames[r.IntN(len(genNames))]))
		case 8:
			fmt.Fprintf(b, `"properties":{%s:`, q(genNames[r.IntN(len(genNames))]))
			g.leafSchema(depth-1, local)
			b.WriteString("}")
		case 9:
			b.WriteString(`"items":`)
			g.leafSchema(depth-1, local)
		case 10:
			if local {
				b.WriteString(`"$ref":"#/$defs/d0"`)
			} else {
				b.WriteString(`"not":`)
				g.leafSchema(depth-1, local)
			}
		default:
			b.WriteString(`"x-note":"t"`)
		}
	}
	b.WriteString("}")
}

// refSchema writes a subschema of the root resource that uses references.
func (g *refGen) refSchema(depth int) {
	r, b := g.r, g.b
	q := func(s string) string { x, _ := json.Marshal(s); return string(x) }
	ref := func() string { return q(g.refs[r.IntN(len(g.refs))]) }
	switch k := r.IntN(6); {
	case depth <= 0 || k == 0:
		fmt.Fprintf(b, `{"$ref":%s}`, ref())
	case k == 1:
		fmt.Fprintf(b, `{"$ref":%s,`, ref())
		b.WriteString(`"not":`)
		g.refSchema(depth - 1)
		b.WriteString("}")
	case k == 2:
		fmt.Fprintf(b, `{"properties":{"a":{"$ref":%s},"b":`, ref())
		g.refSchema(depth - 1)
		b.WriteString(`},"additionalProperties":`)
		g.refSchema(depth - 1)
		b.WriteString("}")
	case k == 3:
		b.WriteString(`{"items":`)
		g.refSchema(depth - 1)
		fmt.Fprintf(b, `,"prefixItems":[{"$ref":%s}]}`, ref())
	case k == 4:
		b.WriteString(`{"oneOf":[`)
		g.refSchema(depth - 1)
		b.WriteString(",")
		g.refSchema(depth - 1)
		b.WriteString("]}")
	default:
		b.WriteString(`{"if":`)
		g.refSchema(depth - 1)
		fmt.Fprintf(b, `,"then":{"$ref":%s},"else":`, ref())
		g.refSchema(depth - 1)
		b.WriteString("}")
	}
}

// checkRefAgreement compiles a generated reference schema with v5 and the fast path and fails on
// any instance on which they disagree. It reports whether the fast path compiled the schema and
// how many instances v5 accepts.
func checkRefAgreement(t *testing.T, schemaText string, instances ...[]byte) (compiled bool, accepted int) {
	t.Helper()
	c := newV5Compiler("")
	s5, fast, err := compileBoth(t, c, "http://gen.test/a/root.json", []byte(schemaText))
	if s5 == nil {
		return false, 0
	}
	if err != nil {
		var de *DeclinedError
		if !errors.As(err, &de) {
			t.Fatalf("schema %s: got %v, want it compiled or declined", schemaText, err)
		}
		return false, 0
	}
	for _, inst := range instances {
		want, _ := v5Valid(s5, inst)
		if want {
			accepted++
		}
		if got := fast.Validate(inst); got != want {
			t.Fatalf("schema %s\ninstance %q\ngot valid=%v, want %v as v5", schemaText, inst, got, want)
		}
	}
	return true, accepted
}

// FuzzRefs explores what TestGeneratedRefs samples: the seed picks the schema and an instance,
// and raw is tried as an instance too.
func FuzzRefs(f *testing.F) {
	for i := uint64(0); i < 16; i++ {
		f.Add(i, []byte(`{"a":"b","b":[1,"x"],"c":null}`))
	}
	f.Fuzz(func(t *testing.T, seed uint64, raw []byte) {
		r := rand.New(rand.NewPCG(seed, 11))
		schemaText := genRefSchema(r)
		checkRefAgreement(t, schemaText, genInstance(r), raw)
	})
}

// TestGeneratedRefs compares the fast path with jsonschema/v5 on generated schemas whose
// subschemas reach each other through every form of reference, and checks that the fast path
// compiles most of them rather than declining.
func TestGeneratedRefs(t *testing.T) {
	n := 500
	if testing.Short() {
		n = 100
	}
	compiled, accepted := 0, 0
	for i := 0; i < n; i++ {
		r := rand.New(rand.NewPCG(uint64(i), 11))
		schemaText := genRefSchema(r)
		var insts [][]byte
		for k := 0; k < 12; k++ {
			insts = append(insts, genInstance(r))
		}
		ok, a := checkRefAgreement(t, schemaText, insts...)
		if ok {
			compiled++
			accepted += a
		}
	}
	t.Logf("%d schemas, %d compiled by the fast path; %d of %d instances valid", n, compiled, accepted, 12*compiled)
	if accepted == 0 || accepted == 12*compiled {
		t.Errorf("got %d of %d instances valid: the comparison needs both outcomes", accepted, 12*compiled)
	}
	if compiled < n/2 {
		t.Errorf("got %d of %d schemas compiled, want at least half", compiled, n)
	}
}
