package transform

import (
	"encoding/binary"
	"errors"

	"github.com/firelane/firelane/internal/jsonbytes"
)

// The scanner below validates and slices JSON without building values: the transform copies an
// event's data into its row verbatim, so it only has to know where a value ends and that it is
// well formed. It accepts exactly what encoding/json accepts (RFC 8259, nesting up to maxDepth),
// except that it does not fold object keys to match case-insensitively.

// maxDepth is encoding/json's nesting limit; deeper values are rejected as encoding/json rejects them.
const maxDepth = 10000

// syntaxError is a JSON syntax error. Its message never quotes the input, so that a reason can be
// logged without payload values.
type syntaxError struct {
	msg string
	off int
}

func (e *syntaxError) Error() string { return "invalid JSON at byte " + itoa(e.off) + ": " + e.msg }

func synErr(msg string, off int) error { return &syntaxError{msg: msg, off: off} }

var errDepth = errors.New("invalid JSON: nested too deeply")

// jsonString is a string token: raw is its body between the quotes, exactly as it appears.
type jsonString struct {
	raw  []byte
	esc  bool // raw holds at least one escape sequence
	set  bool // the member was present with a string value
	null bool // the member was present with the value null
	// unchecked: raw was delimited but not validated as a JSON string body (see dataMember).
	unchecked bool
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(s []byte, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// plain reports whether no byte of w is a quote, a backslash, a control character or non-ASCII.
// Borrows between bytes can only cause a false "no", which sends the caller to its byte-wise path;
// a byte with the high bit set is caught by w itself, so the subtractions need no mask.
func plain(w uint64) bool {
	return ((w-lsb*0x20)|((w^lsb*'"')-lsb)|((w^lsb*'\\')-lsb)|w)&msb == 0
}

// scanString scans the string token whose opening quote is s[i]. It returns the index after the
// closing quote, the token, and whether the body holds non-ASCII bytes.
func scanString(s []byte, i int) (end int, str jsonString, high bool, err error) {
	start := i + 1
	i = start
	for {
		for i+8 <= len(s) && plain(binary.LittleEndian.Uint64(s[i:])) {
			i += 8
		}
		if i >= len(s) {
			return 0, str, high, synErr("unterminated string", start-1)
		}
		c := s[i]
		switch {
		case c == '"':
			str.raw, str.set = s[start:i], true
			return i + 1, str, high, nil
		case c == '\\':
			if i+1 >= len(s) {
				return 0, str, high, synErr("unterminated string", start-1)
			}
			str.esc = true
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(s) || !jsonbytes.IsHex(s[i+2]) || !jsonbytes.IsHex(s[i+3]) || !jsonbytes.IsHex(s[i+4]) || !jsonbytes.IsHex(s[i+5]) {
					return 0, str, high, synErr("invalid \\u escape", i)
				}
				i += 6
			default:
				return 0, str, high, synErr("invalid escape", i)
			}
		case c < 0x20:
			return 0, str, high, synErr("control character in string", i)
		case c >= 0x80:
			high = true
			i++
		default:
			i++
		}
	}
}

// skipString is scanString for a string whose body is not needed.
func skipString(s []byte, i int) (end int, high bool, err error) {
	start := i
	i++
	for {
		for i+8 <= len(s) && plain(binary.LittleEndian.Uint64(s[i:])) {
			i += 8
		}
		for i < len(s) && plainByte[s[i]] {
			i++
		}
		if i >= len(s) {
			return 0, high, synErr("unterminated string", start)
		}
		switch c := s[i]; {
		case c == '"':
			return i + 1, high, nil
		case c >= 0x80:
			high = true
			i++
		case c == '\\':
			end, _, h, err := scanString(s, start)
			return end, h, err
		default:
			return 0, high, synErr("control character in string", i)
		}
	}
}

// plainByte marks the bytes that a string body holds without further checks.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// unescape appends the value of a string token's body to dst, with invalid UTF-8 and unpaired
// surrogates replaced by U+FFFD as encoding/json does.
func unescape(dst, raw []byte) []byte { return jsonbytes.AppendUnescaped(dst, raw) }

// skipValue validates the JSON value that starts at s[i] (no leading space) and returns the index
// after it. high reports whether a string in the value holds non-ASCII bytes.
func skipValue(s []byte, i, depth int) (end int, high bool, err error) {
	if i >= len(s) {
		return 0, false, synErr("unexpected end of input", i)
	}
	switch c := s[i]; {
	case c == '"':
		return skipString(s, i)
	case c == '{' || c == '[':
		if depth >= maxDepth {
			return 0, false, errDepth
		}
		return skipContainer(s, i, depth+1)
	case c == 't':
		return literal(s, i, "true")
	case c == 'f':
		return literal(s, i, "false")
	case c == 'n':
		return literal(s, i, "null")
	case c == '-' || c-'0' < 10:
		end, err = scanNumber(s, i)
		return end, false, err
	default:
		return 0, false, synErr("unexpected character", i)
	}
}

func skipContainer(s []byte, i, depth int) (end int, high bool, err error) {
	object := s[i] == '{'
	closer := byte(']')
	if object {
		closer = '}'
	}
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == closer {
		return i + 1, false, nil
	}
	for {
		var h bool
		if object {
			if i >= len(s) || s[i] != '"' {
				return 0, false, synErr("expected object key", i)
			}
			if i, h, err = skipString(s, i); err != nil {
				return 0, false, err
			}
			high = high || h
			i = skipSpace(s, i)
			if i >= len(s) || s[i] != ':' {
				return 0, false, synErr("expected colon", i)
			}
			i = skipSpace(s, i+1)
		}
		if i, h, err = skipValue(s, i, depth); err != nil {
			return 0, false, err
		}
		high = high || h
		i = skipSpace(s, i)
		if i >= len(s) {
			return 0, false, synErr("unexpected end of input", i)
		}
		switch s[i] {
		case ',':
			i = skipSpace(s, i+1)
		case closer:
			return i + 1, high, nil
		default:
			return 0, false, synErr("expected comma or end of container", i)
		}
	}
}

func literal(s []byte, i int, lit string) (int, bool, error) {
	if len(s)-i < len(lit) || string(s[i:i+len(lit)]) != lit {
		return 0, false, synErr("invalid literal", i)
	}
	return i + len(lit), false, nil
}

// scanNumber validates the number at s[i] against RFC 8259's grammar.
func scanNumber(s []byte, i int) (int, error) {
	start := i
	if s[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i]-'0' < 10 {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return 0, synErr("invalid number", start)
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return 0, synErr("invalid number", start)
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return 0, synErr("invalid number", start)
		}
	}
	return i, nil
}

func itoa(n int) string {
	var b [20]byte
	return string(appendInt(b[:0], int64(n)))
}

func appendInt(dst []byte, n int64) []byte {
	if n < 0 {
		dst = append(dst, '-')
		if n == -n { // math.MinInt64
			return append(dst, "9223372036854775808"...)
		}
		n = -n
	}
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(dst, b[i:]...)
}
