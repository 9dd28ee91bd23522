package fastschema

import (
	"encoding/binary"
	"unicode/utf8"

	"github.com/firelane/firelane/internal/jsonbytes"
)

// maxDepth is encoding/json's nesting limit: text nested deeper is not JSON to it, so it is not
// valid here either.
const maxDepth = 10000

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(raw []byte, i int) int {
	for i < len(raw) && isSpace(raw[i]) {
		i++
	}
	return i
}

// scanNumber returns the end of the number literal that starts at i, or -1 when the text there
// is not one (the grammar of RFC 8259, as encoding/json's scanner applies it).
func scanNumber(raw []byte, i int) int {
	if i < len(raw) && raw[i] == '-' {
		i++
	}
	if i >= len(raw) {
		return -1
	}
	switch c := raw[i]; {
	case c == '0':
		i++
	case c >= '1' && c <= '9':
		i++
		for i < len(raw) && raw[i] >= '0' && raw[i] <= '9' {
			i++
		}
	default:
		return -1
	}
	if i < len(raw) && raw[i] == '.' {
		i++
		if i >= len(raw) || raw[i] < '0' || raw[i] > '9' {
			return -1
		}
		for i < len(raw) && raw[i] >= '0' && raw[i] <= '9' {
			i++
		}
	}
	if i < len(raw) && (raw[i] == 'e' || raw[i] == 'E') {
		i++
		if i < len(raw) && (raw[i] == '+' || raw[i] == '-') {
			i++
		}
		if i >= len(raw) || raw[i] < '0' || raw[i] > '9' {
			return -1
		}
		for i < len(raw) && raw[i] >= '0' && raw[i] <= '9' {
			i++
		}
	}
	// encoding/json needs a delimiter after a number; a letter right after one is a syntax error
	// that the caller reports when it looks for the next token.
	return i
}

const (
	lows  = 0x0101010101010101
	highs = 0x8080808080808080
)

// hasSpecial reports whether any byte of x is '"', '\\', below 0x20 or at least 0x80.
func hasSpecial(x uint64) bool {
	q := x ^ (lows * '"')
	b := x ^ (lows * '\\')
	return ((q-lows)&^q|(b-lows)&^b|(x-lows*0x20)|x)&highs != 0
}

// scanString returns the end (after the closing quote) of the string that starts with the quote at
// i, and whether its contents are already what encoding/json decodes them to (no escapes, valid
// UTF-8). end is -1 when the string is malformed.
func scanString(raw []byte, i int) (end int, plain bool) {
	i++
	plain = true
	// Eight bytes at a time while none of them is a quote, a backslash, a control character or
	// outside ASCII.
	for i+8 <= len(raw) {
		x := binary.LittleEndian.Uint64(raw[i:])
		if hasSpecial(x) {
			break
		}
		i += 8
	}
	for i < len(raw) {
		c := raw[i]
		switch {
		case c == '"':
			return i + 1, plain
		case c == '\\':
			plain = false
			i++
			if i >= len(raw) {
				return -1, false
			}
			switch raw[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+4 >= len(raw) || !jsonbytes.IsHex(raw[i+1]) || !jsonbytes.IsHex(raw[i+2]) || !jsonbytes.IsHex(raw[i+3]) || !jsonbytes.IsHex(raw[i+4]) {
					return -1, false
				}
				i += 5
			default:
				return -1, false
			}
		case c < 0x20:
			return -1, false
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 {
				plain = false
			}
			i += size
		}
	}
	return -1, false
}

// unquoteAppend appends the decoded contents of the well-formed string token s (quotes included)
// to dst exactly as encoding/json decodes it.
func unquoteAppend(dst, s []byte) []byte { return jsonbytes.AppendUnescaped(dst, s[1:len(s)-1]) }

// skipValue returns the end of the well-formed JSON value that starts at i (after any space), or -1
// when the text there is not JSON or nests deeper than maxDepth. depth counts the containers that
// enclose i.
func skipValue(raw []byte, i, depth int) int {
	i = skipSpace(raw, i)
	if i >= len(raw) {
		return -1
	}
	switch c := raw[i]; c {
	case '{', '[':
	default:
		return skipScalar(raw, i)
	}
	// Containers are walked with an explicit stack of their kinds so that deep nesting costs no
	// recursion. The stack lives in a fixed array for the common shallow case.
	var small [64]byte
	stack := small[:0]
	for {
		// i is at the start of a value.
		c := raw[i]
		if c == '{' || c == '[' {
			depth++
			if depth > maxDepth {
				return -1
			}
			stack = append(stack, c)
			i = skipSpace(raw, i+1)
			if i >= len(raw) {
				return -1
			}
			if (c == '{' && raw[i] == '}') || (c == '[' && raw[i] == ']') {
				i++
				stack = stack[:len(stack)-1]
				depth--
			} else {
				if c == '{' {
					if i = skipKey(raw, i); i < 0 {
						return -1
					}
				}
				continue
			}
		} else {
			if i = skipScalar(raw, i); i < 0 {
				return -1
			}
		}
		// After a value: close containers or move to the next member.
		for {
			if len(stack) == 0 {
				return i
			}
			i = skipSpace(raw, i)
			if i >= len(raw) {
				return -1
			}
			top := stack[len(stack)-1]
			if raw[i] == ',' {
				i = skipSpace(raw, i+1)
				if top == '{' {
					if i = skipKey(raw, i); i < 0 {
						return -1
					}
				}
				if i >= len(raw) {
					return -1
				}
				break
			}
			if (top == '{' && raw[i] == '}') || (top == '[' && raw[i] == ']') {
				i++
				stack = stack[:len(stack)-1]
				depth--
				continue
			}
			return -1
		}
	}
}

// skipKey skips a member name and its colon, returning the start of the member's value.
func skipKey(raw []byte, i int) int {
	if i >= len(raw) || raw[i] != '"' {
		return -1
	}
	end, _ := scanString(raw, i)
	if end < 0 {
		return -1
	}
	i = skipSpace(raw, end)
	if i >= len(raw) || raw[i] != ':' {
		return -1
	}
	i = skipSpace(raw, i+1)
	if i >= len(raw) {
		return -1
	}
	return i
}

func skipScalar(raw []byte, i int) int {
	switch c := raw[i]; {
	case c == '"':
		end, _ := scanString(raw, i)
		return end
	case c == 't':
		return skipLiteral(raw, i, "true")
	case c == 'f':
		return skipLiteral(raw, i, "false")
	case c == 'n':
		return skipLiteral(raw, i, "null")
	case c == '-' || c >= '0' && c <= '9':
		return scanNumber(raw, i)
	}
	return -1
}

func skipLiteral(raw []byte, i int, lit string) int {
	if len(raw)-i < len(lit) || string(raw[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}
