package vtl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// ParseJSON reads JSON text into template values as Jackson does for API Gateway: objects keep
// their members' order (a repeated name keeps its first place and its last value), integers are
// Integer, Long or BigInteger by size, other numbers BigDecimal. Text after the value is an error.
func ParseJSON(text string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	v, err := readJSON(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("JSON: trailing text after the value")
	}
	return v, nil
}

func readJSON(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("JSON: %w", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := NewMap()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, fmt.Errorf("JSON: %w", err)
				}
				v, err := readJSON(dec)
				if err != nil {
					return nil, err
				}
				_, _ = m.Put(kt.(string), v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, fmt.Errorf("JSON: %w", err)
			}
			return m, nil
		case '[':
			l := &List{json: true}
			for dec.More() {
				v, err := readJSON(dec)
				if err != nil {
					return nil, err
				}
				l.items = append(l.items, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, fmt.Errorf("JSON: %w", err)
			}
			return l, nil
		}
	case json.Number:
		return number(string(t))
	case string, bool, nil:
		return t, nil
	}
	return nil, fmt.Errorf("JSON: unexpected %v", tok)
}

func number(s string) (any, error) {
	if !strings.ContainsAny(s, ".eE") {
		n, ok := new(big.Int).SetString(s, 10)
		if !ok {
			return nil, fmt.Errorf("JSON: bad number %s", s)
		}
		return narrow(n, kInt), nil
	}
	d, ok := parseDecimal(s)
	if !ok {
		return nil, fmt.Errorf("JSON: bad number %s", s)
	}
	return d, nil
}

// WriteJSON writes v as Jackson does: compact, members in order, strings with " \ and control
// characters escaped (\b \t \n \f \r by name, others as \u00XX), nothing else.
func WriteJSON(v any) string {
	var b bytes.Buffer
	writeJSON(&b, v)
	return b.String()
}

func writeJSON(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		writeJSONString(b, x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			b.WriteByte('"')
			b.WriteString(javaDouble(x))
			b.WriteByte('"')
			return
		}
		b.WriteString(javaDouble(x))
	case *Map:
		b.WriteByte('{')
		for i, k := range x.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, k)
			b.WriteByte(':')
			writeJSON(b, x.vals[k])
		}
		b.WriteByte('}')
	case *List:
		b.WriteByte('[')
		for i, it := range x.items {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, it)
		}
		b.WriteByte(']')
	case int32, int64, *big.Int, Decimal:
		b.WriteString(toString(x))
	default:
		writeJSONString(b, toString(x))
	}
}

func writeJSONString(b *bytes.Buffer, s string) {
	const hex = "0123456789ABCDEF"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			switch c {
			case '\b':
				b.WriteString(`\b`)
			case '\t':
				b.WriteString(`\t`)
			case '\n':
				b.WriteString(`\n`)
			case '\f':
				b.WriteString(`\f`)
			case '\r':
				b.WriteString(`\r`)
			default:
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xF])
			}
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// pathStep is one step of a JSONPath: a member name or an array index.
type pathStep struct {
	name  string
	index int
	isIdx bool
}

// compilePath reads the JSONPath forms mapping templates use: $, .name, ['name'] and [n].
// Wildcards, deep scans, slices and filters are refused.
func compilePath(p string) ([]pathStep, error) {
	p = strings.TrimSpace(p)
	if !strings.HasPrefix(p, "$") {
		return nil, fmt.Errorf("InvalidPathException: path %q does not start with $", p)
	}
	var steps []pathStep
	for i := 1; i < len(p); {
		switch p[i] {
		case '.':
			i++
			j := i
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			name := p[i:j]
			if name == "" || name == "*" || strings.ContainsAny(name, " ()?@*") {
				return nil, fmt.Errorf("InvalidPathException: unsupported path %q", p)
			}
			steps = append(steps, pathStep{name: name})
			i = j
		case '[':
			j := strings.IndexByte(p[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("InvalidPathException: unterminated [ in %q", p)
			}
			inner := strings.TrimSpace(p[i+1 : i+j])
			i += j + 1
			if len(inner) >= 2 && (inner[0] == '\'' && inner[len(inner)-1] == '\'' || inner[0] == '"' && inner[len(inner)-1] == '"') {
				steps = append(steps, pathStep{name: inner[1 : len(inner)-1]})
				continue
			}
			n, err := strconv.Atoi(inner)
			if err != nil {
				return nil, fmt.Errorf("InvalidPathException: unsupported path %q", p)
			}
			steps = append(steps, pathStep{index: n, isIdx: true})
		default:
			return nil, fmt.Errorf("InvalidPathException: unsupported path %q", p)
		}
	}
	return steps, nil
}

// evalPath walks doc as Jayway JsonPath does with its default options: a missing member, an
// index out of range or a member of a non-object yields null; an index into an object or a
// scalar is an error.
func evalPath(doc any, steps []pathStep) (any, error) {
	v := doc
	for _, s := range steps {
		if v == nil {
			return nil, nil
		}
		if s.isIdx {
			l, ok := v.(*List)
			if !ok {
				return nil, fmt.Errorf("InvalidPathException: Filter: [%d] can only be applied to arrays", s.index)
			}
			if s.index < 0 || s.index >= len(l.items) {
				return nil, nil
			}
			v = l.items[s.index]
			continue
		}
		m, ok := v.(*Map)
		if !ok {
			return nil, nil
		}
		v = m.Get(s.name)
	}
	return v, nil
}
