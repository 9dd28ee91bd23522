package fastschema

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"unicode/utf8"
)

// genSchema writes a random schema from the supported subset, with the names, numbers and strings
// of genInstance so that instances often come close to the limits.
func genSchema(r *rand.Rand) string {
	var b strings.Builder
	g := &schemaGen{r: r, b: &b}
	b.WriteString(`{"$defs":{"d0":`)
	g.schema(2)
	b.WriteString(`,"d1":`)
	g.schema(2)
	b.WriteString(`},"allOf":[`)
	g.schema(3)
	b.WriteString(`]}`)
	return b.String()
}

type schemaGen struct {
	r *rand.Rand
	b *strings.Builder
}

var (
	genNames    = []string{"a", "b", "c", "é", "a/b", "~", "id", "data"}
	genNumbers  = []string{"0", "1", "-1", "1.5", "0.1", "2", "10", "1e2", "0.01", "3", "-2.5", "100", "1.0", "12345678901234567890"}
	genMultiple = []string{"0.1", "2", "0.01", "1.5", "3", "1", "0.3", "1e-2", "12345678901234567890123"}
	genPatterns = []string{"^a", "b$", "\\\\d", "^[a-z]+$", "é", "^$", "^.{2}$", "[^a]"}
	genFormats  = []string{"date-time", "date", "time", "uuid", "email", "uri", "uri-reference", "ipv4", "ipv6", "hostname", "duration", "json-pointer", "regex", "unknown-format"}
	genTypes    = []string{"null", "boolean", "object", "array", "number", "integer", "string"}
)

func (g *schemaGen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

func (g *schemaGen) schema(depth int) {
	r, b := g.r, g.b
	if depth <= 0 || r.IntN(8) == 0 {
		switch r.IntN(4) {
		case 0:
			b.WriteString("true")
		case 1:
			b.WriteString("false")
		default:
			b.WriteString(`{}`)
		}
		return
	}
	b.WriteString("{")
	n := 1 + r.IntN(4)
	first := true
	for k := 0; k < n; k++ {
		if !first {
			b.WriteString(",")
		}
		first = false
		g.keyword(depth)
	}
	b.WriteString("}")
}

func (g *schemaGen) list(xs []string, quote bool) {
	g.b.WriteString("[")
	n := 1 + g.r.IntN(3)
	for k := 0; k < n; k++ {
		if k > 0 {
			g.b.WriteString(",")
		}
		x := g.pick(xs)
		if quote {
			q, _ := json.Marshal(x)
			x = string(q)
		}
		g.b.WriteString(x)
	}
	g.b.WriteString("]")
}

func (g *schemaGen) subschemas(depth int) {
	g.b.WriteString("[")
	n := 1 + g.r.IntN(3)
	for k := 0; k < n; k++ {
		if k > 0 {
			g.b.WriteString(",")
		}
		g.schema(depth - 1)
	}
	g.b.WriteString("]")
}

func (g *schemaGen) keyword(depth int) {
	r, b := g.r, g.b
	w := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	q := func(s string) string { x, _ := json.Marshal(s); return string(x) }
	switch r.IntN(34) {
	case 0, 1:
		w(`"type":%s`, q(g.pick(genTypes)))
	case 2:
		w(`"type":`)
		g.list(genTypes, true)
	case 3, 4:
		w(`"properties":{`)
		n := 1 + r.IntN(3)
		for k := 0; k < n; k++ {
			if k > 0 {
				w(",")
			}
			w(`%s:`, q(genNames[k*2+r.IntN(2)]))
			g.schema(depth - 1)
		}
		w("}")
	case 5:
		w(`"required":`)
		g.list(genNames, true)
	case 6:
		if r.IntN(2) == 0 {
			w(`"additionalProperties":%v`, r.IntN(2) == 0)
		} else {
			w(`"additionalProperties":`)
			g.schema(depth - 1)
		}
	case 7:
		w(`"patternProperties":{%s:`, q(strings.ReplaceAll(g.pick(genPatterns), `\\`, `\`)))
		g.schema(depth - 1)
		w("}")
	case 8:
		w(`"propertyNames":`)
		g.schema(depth - 1)
	case 9:
		w(`"items":`)
		g.schema(depth - 1)
	case 10:
		w(`"prefixItems":`)
		g.subschemas(depth)
	case 11:
		w(`"contains":`)
		g.schema(depth - 1)
		if r.IntN(2) == 0 {
			w(`,"minContains":%d`, r.IntN(3))
		}
		if r.IntN(2) == 0 {
			w(`,"maxContains":%d`, r.IntN(3))
		}
	case 12:
		w(`"enum":`)
		g.value(2)
		b.WriteString("")
	case 13:
		w(`"const":`)
		g.value(2)
	case 14:
		w(`"minimum":%s`, g.pick(genNumbers))
	case 15:
		w(`"maximum":%s`, g.pick(genNumbers))
	case 16:
		w(`"exclusiveMinimum":%s`, g.pick(genNumbers))
	case 17:
		w(`"exclusiveMaximum":%s`, g.pick(genNumbers))
	case 18:
		w(`"multipleOf":%s`, g.pick(genMultiple))
	case 19:
		w(`"minLength":%d`, r.IntN(4))
	case 20:
		w(`"maxLength":%d`, r.IntN(4))
	case 21:
		w(`"pattern":%s`, q(strings.ReplaceAll(g.pick(genPatterns), `\\`, `\`)))
	case 22:
		w(`"format":%s`, q(g.pick(genFormats)))
	case 23:
		w(`"minItems":%d,"maxItems":%d`, r.IntN(3), r.IntN(5))
	case 24:
		w(`"uniqueItems":%v`, r.IntN(4) != 0)
	case 25:
		w(`"minProperties":%d,"maxProperties":%d`, r.IntN(3), r.IntN(5))
	case 26:
		w(`"dependentRequired":{%s:`, q(g.pick(genNames)))
		g.list(genNames, true)
		w("}")
	case 27:
		w(`"$ref":"#/$defs/d%d"`, r.IntN(2))
	case 28:
		w(`"allOf":`)
		g.subschemas(depth)
	case 29:
		w(`"anyOf":`)
		g.subschemas(depth)
	case 30:
		w(`"oneOf":`)
		g.subschemas(depth)
	case 31:
		w(`"not":`)
		g.schema(depth - 1)
	case 32:
		w(`"if":`)
		g.schema(depth - 1)
		w(`,"then":`)
		g.schema(depth - 1)
		if r.IntN(2) == 0 {
			w(`,"else":`)
			g.schema(depth - 1)
		}
	default:
		w(`"title":"t","x-pii":"hash","$comment":"c","examples":[1],"default":{}`)
	}
}

var genStrings = []string{
	`""`, `"a"`, `"b"`, `"ab"`, `"é"`, `"abc"`, `"a/b"`, `"~"`, `"1"`, `"aé"`, `"\u00e9"`, `"\ud83d\ude00"`,
	`"\ud800"`, `"\udc00x"`, `"\ud800\ud800"`, "\"\xff\"", "\"a\xc3\"", `"\"\\\/\b\f\n\r\t"`,
	`"2026-11-18T18:03:30.596Z"`, `"2026-02-30T00:00:00Z"`, `"2026-11-18t23:59:60z"`, `"23:59:60+00:00"`,
	`"2026-11-18"`, `"+1:02:03Z"`, `"f1d69ed6-17f5-4837-9708-20fe119a72d1"`, `"F1D69ED6-17F5-4837-9708-20FE119A72D1x"`,
	`"a.b+c@example.com"`, `"a@b"`, `"\"q\"@example.com"`, `"a..b@example.com"`, `"a@[127.0.0.1]"`,
	`"https://shop.example.com/a/b?x=1#f"`, `"/clients/web"`, `"com.example.x/v2"`, `"http://[::1]:80/"`,
	`"http://a b"`, `"a:b"`, `"//host/p"`, `"%zz"`, `"http://h:x/"`, `"1.2.3.4"`, `"01.2.3.4"`, `"::1"`,
	`"example.com"`, `"-a.com"`, `"P1D"`, `"/a~0b"`, `"/a~2"`, `"[a-"`,
}

var genInstanceNumbers = []string{
	"0", "-0", "1", "1.0", "1.00", "-1", "1.5", "0.1", "0.3", "2", "10", "1e2", "100", "1E+2", "1e-2", "0.01",
	"12345678901234567890", "12345678901234567890123", "123456789012345678901230e-1", "1e400", "-1e400",
	"1e-400", "3.0e0", "0.30000000000000004", "1e1000001", "0e2000000", "7.5", "4.5", "99999999999999999999.5",
}

// value writes a random JSON value (with genInstance's vocabulary) as schema text.
func (g *schemaGen) value(depth int) {
	writeValue(g.r, g.b, depth, false)
}

// genInstance writes random JSON text: sometimes malformed, with duplicate member names, invalid
// UTF-8, escapes, big and decimal numbers and irregular space.
func genInstance(r *rand.Rand) []byte {
	var b strings.Builder
	writeValue(r, &b, 4, true)
	s := b.String()
	switch r.IntN(40) {
	case 0:
		s = s[:r.IntN(len(s)+1)]
	case 1:
		s += " x"
	case 2:
		s = " \n" + s + "\t "
	}
	return []byte(s)
}

func writeValue(r *rand.Rand, b *strings.Builder, depth int, hostile bool) {
	sp := func() {
		if hostile && r.IntN(6) == 0 {
			b.WriteString([]string{" ", "\n", "\t", "\r"}[r.IntN(4)])
		}
	}
	k := r.IntN(10)
	if depth <= 0 && k >= 7 {
		k = r.IntN(7)
	}
	switch k {
	case 0:
		b.WriteString([]string{"null", "true", "false"}[r.IntN(3)])
	case 1, 2:
		n := genInstanceNumbers[r.IntN(len(genInstanceNumbers))]
		if !hostile && (strings.Contains(n, "e400") || strings.Contains(n, "e1000001") || strings.Contains(n, "e2000000")) {
			n = "2"
		}
		b.WriteString(n)
	case 3, 4, 5, 6:
		s := genStrings[r.IntN(len(genStrings))]
		if !hostile && !utf8.ValidString(s) {
			s = `"a"`
		}
		b.WriteString(s)
	case 7, 8:
		b.WriteString("{")
		n := r.IntN(4)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			sp()
			name := genNames[r.IntN(len(genNames))]
			if hostile && r.IntN(8) == 0 {
				name = `\u0061` // "a", escaped
			}
			fmt.Fprintf(b, `"%s"`, name)
			sp()
			b.WriteString(":")
			sp()
			writeValue(r, b, depth-1, hostile)
		}
		b.WriteString("}")
	default:
		b.WriteString("[")
		n := r.IntN(5)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			sp()
			writeValue(r, b, depth-1, hostile)
			sp()
		}
		b.WriteString("]")
	}
}
