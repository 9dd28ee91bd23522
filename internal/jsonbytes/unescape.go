package jsonbytes

import (
	"slices"
	"unicode/utf16"
	"unicode/utf8"
)

// AppendUnescaped appends the value of a well-formed JSON string token's body (the bytes between
// the quotes) to dst as encoding/json decodes it: escapes resolved, a lone or mismatched UTF-16
// surrogate becomes U+FFFD, and so does every byte that is not part of valid UTF-8. The body must
// already be known to be well formed: every backslash starts a complete escape. Runs of bytes that
// stand for themselves are copied whole.
func AppendUnescaped(dst, body []byte) []byte {
	dst = slices.Grow(dst, len(body))
	run := 0 // the start of the bytes not yet copied
	for i := 0; i < len(body); {
		c := body[i]
		if c < utf8.RuneSelf && c != '\\' {
			i++
			continue
		}
		if c != '\\' {
			r, n := utf8.DecodeRune(body[i:])
			if r != utf8.RuneError || n > 1 {
				i += n
				continue
			}
			dst = append(dst, body[run:i]...)
			dst = append(dst, "\uFFFD"...)
			i++
			run = i
			continue
		}
		dst = append(dst, body[run:i]...)
		n := 2
		switch body[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(body[i+2:])
			n = 6
			if utf16.IsSurrogate(r) {
				r = utf8.RuneError
				if i+12 <= len(body) && body[i+6] == '\\' && body[i+7] == 'u' {
					if d := utf16.DecodeRune(hex4(body[i+2:]), hex4(body[i+8:])); d != utf8.RuneError {
						r, n = d, 12
					}
				}
			}
			dst = utf8.AppendRune(dst, r)
		default: // '"', '\\', '/'
			dst = append(dst, body[i+1])
		}
		i += n
		run = i
	}
	return append(dst, body[run:]...)
}

// appendUTF8 appends s with every byte that is not part of valid UTF-8 replaced by U+FFFD.
func appendUTF8(dst, s []byte) []byte {
	if utf8.Valid(s) {
		return append(dst, s...)
	}
	for len(s) > 0 {
		r, n := utf8.DecodeRune(s)
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, "\uFFFD"...)
		} else {
			dst = append(dst, s[:n]...)
		}
		s = s[n:]
	}
	return dst
}

// AppendValidUTF8 appends s to dst with every byte that is not part of valid UTF-8 replaced by
// U+FFFD: the strings encoding/json would decode, where s is JSON text.
func AppendValidUTF8(dst, s []byte) []byte { return appendUTF8(dst, s) }

// Plain reports whether the body of a string whose flags are f is its own value: no escapes, and
// valid UTF-8.
func Plain(body []byte, f Flags) bool {
	return f&Escaped == 0 && (f&NonASCII == 0 || utf8.Valid(body))
}

// Value returns the value of the string whose body and flags a scan reported: the body itself
// when it is [Plain], else the body decoded into *buf, whose storage it reuses.
func Value(body []byte, f Flags, buf *[]byte) []byte {
	if Plain(body, f) {
		return body
	}
	*buf = AppendUnescaped((*buf)[:0], body)
	return *buf
}

// hex4 returns the value of the four hexadecimal digits that start b.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		if c <= '9' {
			r = r<<4 | rune(c-'0')
		} else {
			r = r<<4 | (rune(c|0x20-'a') + 10)
		}
	}
	return r
}
