package vtl

import (
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Values are Go forms of the Java objects a Velocity template sees:
//
//	nil                null
//	string             java.lang.String (WTF-8: a lone surrogate is kept, as a Java string keeps it)
//	int32, int64       Integer, Long
//	*big.Int           BigInteger
//	Decimal            BigDecimal (JSON numbers with a fraction or an exponent, as Jackson reads them)
//	float64            Double (a template's 1.5)
//	bool               Boolean
//	*Map               LinkedHashMap
//	*List              ArrayList (JSON arrays, list literals and ranges), or String[] from split
//	Object             anything with properties and methods ($input, $util, $foreach)

// Map is an insertion-ordered map, as java.util.LinkedHashMap.
type Map struct {
	keys []string
	vals map[string]any
	// final, when set, refuses a second assignment of a key (API Gateway's overrides are final).
	final func(key string) error
	fixed map[string]bool
}

// NewMap returns an empty map.
func NewMap() *Map { return &Map{vals: map[string]any{}} }

// Get returns the value of key, nil when absent.
func (m *Map) Get(key string) any { return m.vals[key] }

// Has reports whether key is present.
func (m *Map) Has(key string) bool { _, ok := m.vals[key]; return ok }

// Keys returns the keys in insertion order.
func (m *Map) Keys() []string { return append([]string(nil), m.keys...) }

// Len returns the number of entries.
func (m *Map) Len() int { return len(m.keys) }

// Put sets key, keeping its position when it is already present.
func (m *Map) Put(key string, v any) (any, error) {
	old, had := m.vals[key]
	if m.final != nil && (had || m.fixed[key]) {
		return nil, m.final(key)
	}
	if !had {
		m.keys = append(m.keys, key)
	}
	m.vals[key] = v
	return old, nil
}

// List is a java.util.List (or an array, for split's String[]).
type List struct {
	items []any
	json  bool // a JSON array: it has count(), as the mapping template reference shows
	array bool // a Java array: no methods
}

// Decimal is a java.math.BigDecimal: unscaled × 10^-scale.
type Decimal struct {
	unscaled *big.Int
	scale    int
}

// parseDecimal reads a JSON number with a fraction or an exponent as BigDecimal's constructor does.
func parseDecimal(s string) (Decimal, bool) {
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+"))
		if err != nil {
			return Decimal{}, false
		}
		mant, exp = s[:i], e
	}
	scale := 0
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		scale = len(mant) - i - 1
		mant = mant[:i] + mant[i+1:]
	}
	u, ok := new(big.Int).SetString(mant, 10)
	if !ok {
		return Decimal{}, false
	}
	return Decimal{unscaled: u, scale: scale - exp}, true
}

// String is BigDecimal.toString: plain notation unless the exponent is positive or the adjusted
// exponent is below -6.
func (d Decimal) String() string {
	neg := d.unscaled.Sign() < 0
	digits := new(big.Int).Abs(d.unscaled).String()
	adjusted := -d.scale + len(digits) - 1
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	if d.scale >= 0 && adjusted >= -6 {
		if d.scale == 0 {
			b.WriteString(digits)
			return b.String()
		}
		if len(digits) > d.scale {
			b.WriteString(digits[:len(digits)-d.scale])
			b.WriteByte('.')
			b.WriteString(digits[len(digits)-d.scale:])
		} else {
			b.WriteString("0.")
			b.WriteString(strings.Repeat("0", d.scale-len(digits)))
			b.WriteString(digits)
		}
		return b.String()
	}
	b.WriteString(digits[:1])
	if len(digits) > 1 {
		b.WriteByte('.')
		b.WriteString(digits[1:])
	}
	b.WriteByte('E')
	if adjusted >= 0 {
		b.WriteByte('+')
	}
	b.WriteString(strconv.Itoa(adjusted))
	return b.String()
}

func (d Decimal) rat() *big.Rat {
	r := new(big.Rat).SetInt(d.unscaled)
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(d.scale))), nil)
	if d.scale > 0 {
		return r.Quo(r, new(big.Rat).SetInt(p))
	}
	return r.Mul(r, new(big.Rat).SetInt(p))
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// toString is Java's String.valueOf for the values a template sees.
func toString(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case *big.Int:
		return x.String()
	case Decimal:
		return x.String()
	case float64:
		return javaDouble(x)
	case bool:
		return strconv.FormatBool(x)
	case *Map:
		var b strings.Builder
		b.WriteByte('{')
		for i, k := range x.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k)
			b.WriteByte('=')
			b.WriteString(toString(x.vals[k]))
		}
		b.WriteByte('}')
		return b.String()
	case *List:
		var b strings.Builder
		b.WriteByte('[')
		for i, it := range x.items {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(toString(it))
		}
		b.WriteByte(']')
		return b.String()
	case Object:
		return x.String()
	}
	return "?"
}

// javaDouble is Double.toString for the values templates hold: plain between 10^-3 and 10^7,
// else computerized scientific notation, always with a fraction.
func javaDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	a := math.Abs(f)
	if a == 0 || a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'E', -1, 64)
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	return mant + "E" + strings.TrimPrefix(strings.TrimLeft(strings.TrimPrefix(exp, "+"), "0"), "")
}

// number kinds, narrowest first, as Velocity 1.7's MathUtils widens them.
const (
	kInt = iota
	kLong
	kBigInt
	kDecimal
	kDouble
	kNone
)

func kindOf(v any) int {
	switch v.(type) {
	case int32:
		return kInt
	case int64:
		return kLong
	case *big.Int:
		return kBigInt
	case Decimal:
		return kDecimal
	case float64:
		return kDouble
	}
	return kNone
}

func bigOf(v any) *big.Int {
	switch x := v.(type) {
	case int32:
		return big.NewInt(int64(x))
	case int64:
		return big.NewInt(x)
	case *big.Int:
		return x
	}
	return nil
}

func ratOf(v any) *big.Rat {
	switch x := v.(type) {
	case Decimal:
		return x.rat()
	case float64:
		r, _ := new(big.Rat).SetString(strconv.FormatFloat(x, 'g', -1, 64))
		return r
	}
	if b := bigOf(v); b != nil {
		return new(big.Rat).SetInt(b)
	}
	return nil
}

// narrow returns n as the narrowest kind at least k that holds it.
func narrow(n *big.Int, k int) any {
	if k <= kInt && n.IsInt64() && n.Int64() >= math.MinInt32 && n.Int64() <= math.MaxInt32 {
		return int32(n.Int64())
	}
	if k <= kLong && n.IsInt64() {
		return n.Int64()
	}
	return n
}

func decimalOf(v any) (Decimal, bool) {
	switch x := v.(type) {
	case Decimal:
		return x, true
	case float64:
		return parseDecimal(strconv.FormatFloat(x, 'g', -1, 64))
	}
	if b := bigOf(v); b != nil {
		return Decimal{unscaled: b, scale: 0}, true
	}
	return Decimal{}, false
}

func floatOf(v any) float64 {
	if r := ratOf(v); r != nil {
		f, _ := r.Float64()
		return f
	}
	return 0
}

// arith applies + - * / % to two numbers as Velocity 1.7 does; ok is false when it yields null
// (a division by zero, or an operand that is not a number).
func arith(op string, l, r any) (any, bool) {
	kl, kr := kindOf(l), kindOf(r)
	if kl == kNone || kr == kNone {
		return nil, false
	}
	k := max(kl, kr)
	switch k {
	case kDouble:
		a, b := floatOf(l), floatOf(r)
		switch op {
		case "+":
			return a + b, true
		case "-":
			return a - b, true
		case "*":
			return a * b, true
		case "/":
			if b == 0 {
				return nil, false
			}
			return a / b, true
		case "%":
			if b == 0 {
				return nil, false
			}
			return math.Mod(a, b), true
		}
	case kDecimal:
		a, _ := decimalOf(l)
		b, _ := decimalOf(r)
		switch op {
		case "+", "-":
			s := max(a.scale, b.scale)
			x, y := rescale(a, s), rescale(b, s)
			if op == "+" {
				return Decimal{unscaled: x.Add(x, y), scale: s}, true
			}
			return Decimal{unscaled: x.Sub(x, y), scale: s}, true
		case "*":
			return Decimal{unscaled: new(big.Int).Mul(a.unscaled, b.unscaled), scale: a.scale + b.scale}, true
		}
		return nil, false
	}
	a, b := bigOf(l), bigOf(r)
	n := new(big.Int)
	switch op {
	case "+":
		n.Add(a, b)
	case "-":
		n.Sub(a, b)
	case "*":
		n.Mul(a, b)
	case "/":
		if b.Sign() == 0 {
			return nil, false
		}
		n.Quo(a, b)
	case "%":
		if b.Sign() == 0 {
			return nil, false
		}
		n.Rem(a, b)
	}
	return narrow(n, k), true
}

func rescale(d Decimal, scale int) *big.Int {
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale-d.scale)), nil)
	return new(big.Int).Mul(d.unscaled, p)
}

// compareNumbers compares two numbers; ok is false when either is not one.
func compareNumbers(l, r any) (int, bool) {
	a, b := ratOf(l), ratOf(r)
	if a == nil || b == nil {
		return 0, false
	}
	return a.Cmp(b), true
}

// equal is Velocity 1.7's ==: numbers by value, objects of one class by equals, others by their
// string forms; null equals only null.
func equal(l, r any) bool {
	if l == nil || r == nil {
		return l == nil && r == nil
	}
	if c, ok := compareNumbers(l, r); ok {
		return c == 0
	}
	if sameClass(l, r) {
		return javaEquals(l, r)
	}
	return toString(l) == toString(r)
}

func sameClass(l, r any) bool {
	switch l.(type) {
	case string:
		_, ok := r.(string)
		return ok
	case bool:
		_, ok := r.(bool)
		return ok
	case *Map:
		_, ok := r.(*Map)
		return ok
	case *List:
		_, ok := r.(*List)
		return ok
	}
	return false
}

func javaEquals(l, r any) bool {
	switch x := l.(type) {
	case *Map:
		y := r.(*Map)
		if len(x.keys) != len(y.keys) {
			return false
		}
		for _, k := range x.keys {
			if !y.Has(k) || !javaEqualsAny(x.vals[k], y.vals[k]) {
				return false
			}
		}
		return true
	case *List:
		y := r.(*List)
		if x.array || y.array {
			return x == y
		}
		if len(x.items) != len(y.items) {
			return false
		}
		for i := range x.items {
			if !javaEqualsAny(x.items[i], y.items[i]) {
				return false
			}
		}
		return true
	}
	return l == r
}

// javaEqualsAny is Object.equals between any two values: numbers equal only within one class.
func javaEqualsAny(l, r any) bool {
	if l == nil || r == nil {
		return l == nil && r == nil
	}
	if kindOf(l) != kNone || kindOf(r) != kNone {
		if kindOf(l) != kindOf(r) {
			return false
		}
		switch x := l.(type) {
		case Decimal:
			y := r.(Decimal)
			return x.scale == y.scale && x.unscaled.Cmp(y.unscaled) == 0
		case *big.Int:
			return x.Cmp(r.(*big.Int)) == 0
		}
		return l == r
	}
	if sameClass(l, r) {
		return javaEquals(l, r)
	}
	return false
}

// truth is a value's truth in #if: null is false, a Boolean is itself, anything else is true.
func truth(v any) bool {
	if v == nil {
		return false
	}
	if b, ok := v.(bool); ok {
		return b
	}
	return true
}
