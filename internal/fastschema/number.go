package fastschema

import (
	"bytes"
	"math/big"
	"math/bits"
	"strconv"
)

// decimal is a JSON number reduced to an exact decimal: its value is
// (-1)^neg × int(digits) × 10^exp, with digits free of leading and trailing zeros (empty for zero).
// Comparing two decimals never rounds, so 1.0 equals 1 and 0.1 is exactly one tenth, as with the
// big.Rat arithmetic of jsonschema/v5.
type decimal struct {
	neg    bool
	digits []byte
	exp    int64
	// ratBad reports that math/big.Rat.SetString rejects the literal (its exponent, net of the
	// fraction digits, is beyond ±1e6). jsonschema/v5 then dereferences a nil *big.Rat and panics
	// wherever it needs the number's value; the fast path answers invalid there instead.
	ratBad bool
}

// maxRatExp is the largest net decimal exponent that math/big.Rat.SetString accepts.
const maxRatExp = 1_000_000

// parseDecimal reads a number literal that the scanner has already found well formed. The digits
// are appended to buf, whose new value is returned.
func parseDecimal(lit []byte, buf []byte) (decimal, []byte) {
	var d decimal
	i := 0
	if i < len(lit) && lit[i] == '-' {
		d.neg = true
		i++
	}
	start := len(buf)
	fcount := int64(0)
	for ; i < len(lit) && lit[i] >= '0' && lit[i] <= '9'; i++ {
		buf = append(buf, lit[i])
	}
	if i < len(lit) && lit[i] == '.' {
		i++
		for ; i < len(lit) && lit[i] >= '0' && lit[i] <= '9'; i++ {
			buf = append(buf, lit[i])
			fcount++
		}
	}
	// The exponent and the checks on it follow math/big.Rat.SetString: an exponent outside int64
	// fails even for zero; otherwise zero succeeds, and any other mantissa fails when the net
	// exponent (computed with int64 wrap-around, as there) is beyond ±1e6.
	var e int64
	overflow := false
	if i < len(lit) && (lit[i] == 'e' || lit[i] == 'E') {
		i++
		eneg := false
		if i < len(lit) && (lit[i] == '+' || lit[i] == '-') {
			eneg = lit[i] == '-'
			i++
		}
		var u uint64
		for ; i < len(lit); i++ {
			if u > (1<<63)/10 {
				overflow = true
				continue
			}
			u = u*10 + uint64(lit[i]-'0')
		}
		switch {
		case overflow || u > 1<<63 || u == 1<<63 && !eneg:
			overflow = true
		case eneg:
			e = -int64(u)
		default:
			e = int64(u)
		}
	}
	d.exp = -fcount + e
	zero := true
	for _, c := range buf[start:] {
		if c != '0' {
			zero = false
			break
		}
	}
	if n := d.exp; overflow {
		d.ratBad = true
	} else if !zero {
		if n < 0 {
			n = -n
		}
		d.ratBad = n < 0 || n > maxRatExp
	}
	digits := buf[start:]
	k := 0
	for k < len(digits) && digits[k] == '0' {
		k++
	}
	digits = digits[k:]
	for len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		d.exp++
	}
	d.digits = digits
	if len(digits) == 0 {
		d.neg = false
		d.exp = 0
	}
	return d, buf
}

func (d decimal) isZero() bool { return len(d.digits) == 0 }

func (d decimal) sign() int {
	switch {
	case len(d.digits) == 0:
		return 0
	case d.neg:
		return -1
	}
	return 1
}

// isInt reports whether d has no fractional part.
func (d decimal) isInt() bool { return len(d.digits) == 0 || d.exp >= 0 }

// cmpDecimal returns -1, 0 or +1 as a is less than, equal to or greater than b.
func cmpDecimal(a, b decimal) int {
	sa, sb := a.sign(), b.sign()
	if sa != sb {
		if sa < sb {
			return -1
		}
		return 1
	}
	if sa == 0 {
		return 0
	}
	c := cmpMagnitude(a, b)
	if sa < 0 {
		return -c
	}
	return c
}

func cmpMagnitude(a, b decimal) int {
	oa, ob := int64(len(a.digits))+a.exp, int64(len(b.digits))+b.exp
	if oa != ob {
		if oa < ob {
			return -1
		}
		return 1
	}
	return bytes.Compare(a.digits, b.digits)
}

// isMultipleOf reports whether a divided by m (positive) is an integer.
func isMultipleOf(a, m decimal) bool {
	if a.isZero() {
		return true
	}
	if m.isZero() {
		return false
	}
	if a.exp < m.exp {
		// a's last digit is not zero, so no power of ten above one divides it.
		return false
	}
	k := a.exp - m.exp
	if len(m.digits) <= 19 {
		dm, _ := strconv.ParseUint(string(m.digits), 10, 64)
		if dm == 0 {
			return false
		}
		r := uint64(0)
		for _, c := range a.digits {
			hi, lo := bits.Mul64(r, 10)
			lo, carry := bits.Add64(lo, uint64(c-'0'), 0)
			hi += carry
			r = bits.Rem64(hi, lo, dm)
		}
		p := powMod10(k, dm)
		hi, lo := bits.Mul64(r, p)
		return bits.Rem64(hi, lo, dm) == 0
	}
	// A divisor of more than 19 digits is rare enough to afford big integers.
	na, _ := new(big.Int).SetString(string(a.digits), 10)
	nm, _ := new(big.Int).SetString(string(m.digits), 10)
	na.Mul(na, new(big.Int).Exp(big.NewInt(10), big.NewInt(k), nm))
	return na.Mod(na, nm).Sign() == 0
}

// powMod10 returns 10^k mod m.
func powMod10(k int64, m uint64) uint64 {
	result := uint64(1) % m
	base := uint64(10) % m
	for k > 0 {
		if k&1 == 1 {
			hi, lo := bits.Mul64(result, base)
			result = bits.Rem64(hi, lo, m)
		}
		hi, lo := bits.Mul64(base, base)
		base = bits.Rem64(hi, lo, m)
		k >>= 1
	}
	return result
}

// appendCanonical appends a form of d that two numbers share exactly when they are equal.
func appendCanonical(buf []byte, d decimal) []byte {
	buf = append(buf, 'n')
	if d.neg {
		buf = append(buf, '-')
	}
	buf = append(buf, d.digits...)
	buf = append(buf, 'e')
	return strconv.AppendInt(buf, d.exp, 10)
}
