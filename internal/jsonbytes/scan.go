package jsonbytes

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"
)

// MaxDepth is encoding/json's nesting limit: text nested deeper is not JSON to it, so it is not
// JSON here either.
const MaxDepth = 10000

// Flags describe the strings of a scanned value.
type Flags uint8

const (
	// Escaped: a string holds at least one escape sequence, so its body is not its value.
	Escaped Flags = 1 << iota
	// NonASCII: a string holds a byte of 0x80 or above, which may be invalid UTF-8 (encoding/json
	// decodes an invalid byte as U+FFFD).
	NonASCII
)

// SyntaxError is a JSON syntax error. Its message never quotes the input, so that it can be logged
// without payload values.
type SyntaxError struct {
	Offset int    // the byte at which the text stops being JSON
	Msg    string // what is wrong there
}

func (e *SyntaxError) Error() string {
	return "invalid JSON at byte " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

func syntaxErr(msg string, off int) error { return &SyntaxError{Offset: off, Msg: msg} }

// ErrDepth reports a value nested deeper than [MaxDepth].
var ErrDepth = errors.New("invalid JSON: nested too deeply")

// IsSpace reports whether c is JSON white space.
func IsSpace(c byte) bool { return c <= ' ' && (c == ' ' || c == '\t' || c == '\n' || c == '\r') }

// SkipSpace returns the index of the first byte of b at or after i that is not white space.
func SkipSpace(b []byte, i int) int {
	for i < len(b) && IsSpace(b[i]) {
		i++
	}
	return i
}

const (
	lows  = 0x0101010101010101
	highs = 0x8080808080808080
)

// special marks, in the high bit of each byte of the result, the bytes of x that are '"', '\\', a
// control character or non-ASCII. Bytes above the first marked one may be marked wrongly (a
// borrow), the first one never is, so the lowest mark is exactly the first such byte of x.
func special(x uint64) uint64 {
	q := x ^ (lows * '"')
	s := x ^ (lows * '\\')
	return ((q-lows)&^q | (s-lows)&^s | (x - lows*0x20) | x) & highs
}

// quoteOrEscape is special without the mark for non-ASCII bytes, for a string already known to
// hold one; its lowest mark is as exact.
func quoteOrEscape(x uint64) uint64 {
	q := x ^ (lows * '"')
	s := x ^ (lows * '\\')
	return ((q-lows)&^q | (s-lows)&^s | (x-lows*0x20)&^x) & highs
}

// plainByte marks the bytes that stand for themselves in a string body.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// ScanString scans the string token whose opening quote is b[i]: it returns the index after the
// closing quote and the flags of its body, b[i+1:end-1]. It accepts what encoding/json accepts:
// every escape complete, no control character; bytes that are not UTF-8 are allowed (and flagged
// [NonASCII]).
func ScanString(b []byte, i int) (end int, f Flags, err error) {
	end, f = scanString(b, i, &err)
	return end, f, err
}

// SkipString is [ScanString] for the scanners that need a verdict, not a message: end is -1 where
// ScanString reports an error.
func SkipString(b []byte, i int) (end int, f Flags) { return scanString(b, i, nil) }

// scanString is [ScanString], with its error set through errp when errp is not nil. A string of
// ASCII bytes that stand for themselves (most strings of an event) is read eight bytes at a time
// up to its closing quote.
func scanString(b []byte, i int, errp *error) (end int, f Flags) {
	j := i + 1
	for j+8 <= len(b) {
		if m := special(binary.LittleEndian.Uint64(b[j:])); m != 0 {
			j += bits.TrailingZeros64(m) >> 3
			if b[j] == '"' {
				return j + 1, 0
			}
			return scanRest(b, i, j, 0, errp)
		}
		j += 8
	}
	for j < len(b) && plainByte[b[j]] {
		j++
	}
	if j < len(b) && b[j] == '"' {
		return j + 1, 0
	}
	return scanRest(b, i, j, 0, errp)
}

// scanRest goes on with the scan of the string whose opening quote is b[start] at b[i], with the
// flags f of the body before i. On a malformed string it returns -1 and, when errp is not nil,
// sets *errp to the syntax error.
func scanRest(b []byte, start, i int, f Flags, errp *error) (int, Flags) {
	for {
		if i >= len(b) {
			return failString(errp, "unterminated string", start), f
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, f
		case c == '\\':
			f |= Escaped
			if i+1 >= len(b) {
				return failString(errp, "unterminated string", start), f
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !IsHex(b[i+2]) || !IsHex(b[i+3]) || !IsHex(b[i+4]) || !IsHex(b[i+5]) {
					return failString(errp, `invalid \u escape`, i), f
				}
				i += 6
			default:
				return failString(errp, "invalid escape", i), f
			}
		case c < 0x20:
			return failString(errp, "control character in string", i), f
		default:
			if c >= 0x80 {
				f |= NonASCII
			}
			i++
		}
		// On to the next byte that does not stand for itself (or, once the body is known to hold
		// non-ASCII bytes, the next quote, backslash or control character).
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			var m uint64
			if f&NonASCII == 0 {
				m = special(x)
			} else {
				m = quoteOrEscape(x)
			}
			if m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		for i < len(b) && plainByte[b[i]] {
			i++
		}
	}
}

// failString sets *errp, when errp is not nil, to the syntax error msg at off, and returns -1.
func failString(errp *error, msg string, off int) int {
	if errp != nil {
		*errp = syntaxErr(msg, off)
	}
	return -1
}

// ScanNumber returns the end of the number that starts at b[i], following RFC 8259's grammar as
// encoding/json does. It does not look past the number: a letter right after it is the next
// token's syntax error.
func ScanNumber(b []byte, i int) (int, error) {
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i]-'1' < 9:
		i = digits(b, i+1)
	default:
		return -1, syntaxErr("invalid number", start)
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return -1, syntaxErr("invalid number", start)
		}
		i = j
	}
	if i < len(b) && b[i]|0x20 == 'e' {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return -1, syntaxErr("invalid number", start)
		}
		i = j
	}
	return i, nil
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i]-'0' < 10 {
		i++
	}
	return i
}

// ScanLiteral returns the end of the literal lit ("true", "false" or "null") at b[i].
func ScanLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return -1, syntaxErr("invalid literal", i)
	}
	return i + len(lit), nil
}

// SkipValue checks the JSON value that starts at b[i] (no space before it) and returns the index
// after it and the union of its strings' flags. depth is the number of containers that enclose i;
// a value that makes it exceed [MaxDepth] is an error ([ErrDepth]). Containers are walked with an
// explicit stack, so deep nesting costs no recursion.
func SkipValue(b []byte, i, depth int) (end int, f Flags, err error) {
	if i >= len(b) {
		return -1, 0, syntaxErr("unexpected end of input", i)
	}
	if c := b[i]; c != '{' && c != '[' {
		return skipScalar(b, i)
	}
	var small [64]byte
	stack := small[:0]
	for {
		// i is at the start of a value.
		if c := b[i]; c == '{' || c == '[' {
			if depth++; depth > MaxDepth {
				return -1, 0, ErrDepth
			}
			closer := c + 2 // '}' and ']' follow '{' and '[' by two
			i = SkipSpace(b, i+1)
			if i < len(b) && b[i] == closer {
				i++
				depth--
			} else {
				stack = append(stack, closer)
				var kf Flags
				if i, kf, err = startMember(b, i, closer); err != nil {
					return -1, 0, err
				}
				f |= kf
				continue
			}
		} else {
			var sf Flags
			if i, sf, err = skipScalar(b, i); err != nil {
				return -1, 0, err
			}
			f |= sf
		}
		// After a value: close containers or move to the next member.
		for {
			if len(stack) == 0 {
				return i, f, nil
			}
			closer := stack[len(stack)-1]
			var closed bool
			if i, closed, err = AfterValue(b, i, closer); err != nil {
				return -1, 0, err
			}
			if !closed {
				var kf Flags
				if i, kf, err = startMember(b, i, closer); err != nil {
					return -1, 0, err
				}
				f |= kf
				break
			}
			stack = stack[:len(stack)-1]
			depth--
		}
	}
}

// AfterValue reads what follows a member or an item that ends before b[i] in a container that
// closer closes: a comma, after which next is where the next member or item starts (space
// skipped), or closer, after which next is the index after it and closed is true.
func AfterValue(b []byte, i int, closer byte) (next int, closed bool, err error) {
	i = SkipSpace(b, i)
	if i >= len(b) {
		return -1, false, syntaxErr("unexpected end of input", i)
	}
	switch b[i] {
	case ',':
		return SkipSpace(b, i+1), false, nil
	case closer:
		return i + 1, true, nil
	}
	return -1, false, syntaxErr("expected comma or end of container", i)
}

// startMember moves from the start of a member of an object (closer '}'), past its name and
// colon, to its value, or checks that an item of an array starts at b[i].
func startMember(b []byte, i int, closer byte) (int, Flags, error) {
	var f Flags
	if closer == '}' {
		if i >= len(b) || b[i] != '"' {
			return -1, 0, syntaxErr("expected object key", i)
		}
		end, kf, err := ScanString(b, i)
		if err != nil {
			return -1, 0, err
		}
		if i, err = colon(b, end); err != nil {
			return -1, 0, err
		}
		f = kf
	}
	if i >= len(b) {
		return -1, 0, syntaxErr("unexpected end of input", i)
	}
	return i, f, nil
}

// colon skips the space, colon and space after a member name that ends before b[i].
func colon(b []byte, i int) (int, error) {
	i = SkipSpace(b, i)
	if i >= len(b) || b[i] != ':' {
		return -1, syntaxErr("expected colon", i)
	}
	return SkipSpace(b, i+1), nil
}

func skipScalar(b []byte, i int) (int, Flags, error) {
	var end int
	var err error
	switch c := b[i]; {
	case c == '"':
		return ScanString(b, i)
	case c == 't':
		end, err = ScanLiteral(b, i, "true")
	case c == 'f':
		end, err = ScanLiteral(b, i, "false")
	case c == 'n':
		end, err = ScanLiteral(b, i, "null")
	case c == '-' || c-'0' < 10:
		end, err = ScanNumber(b, i)
	default:
		return -1, 0, syntaxErr("unexpected character", i)
	}
	return end, 0, err
}

// Valid reports whether b is one JSON value, with optional space around it, exactly as
// json.Valid does. It asks go-json-experiment's jsontext, with the options under which it accepts
// what encoding/json accepts (duplicate names, invalid UTF-8), because that validates a whole text
// as fast as [SkipValue] (see the package documentation).
func Valid(b []byte) bool { return jsontext.Value(b).IsValid(v1Options...) }

// v1Options make jsontext accept what encoding/json accepts; its nesting limit is encoding/json's.
var v1Options = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}

// AppendUnquoted appends the value of the string token tok (quotes included, nothing around them)
// to dst as encoding/json decodes it, and reports whether tok is a valid string token. It decodes
// and checks in one pass with jsontext's AppendUnquote, which is faster than [ScanString]
// followed by [AppendUnescaped] on a long string (see the package documentation); jsontext reports a lone surrogate or invalid
// UTF-8, which encoding/json accepts, as an error after decoding the whole token as encoding/json
// does, so only an error is checked again.
func AppendUnquoted(dst, tok []byte) ([]byte, bool) {
	out, err := jsontext.AppendUnquote(dst, tok)
	if err != nil {
		if end, _, serr := ScanString(tok, 0); serr != nil || end != len(tok) {
			return dst, false
		}
	}
	return out, true
}

// IsHex reports whether c is a hexadecimal digit.
func IsHex(c byte) bool { return c-'0' < 10 || (c|0x20)-'a' < 6 }
