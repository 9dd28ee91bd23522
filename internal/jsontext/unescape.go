// Package jsontext holds the small pieces of JSON text handling that firelane's hand-written
// scanners share (the fast validator, the transform's record scanner). Each follows encoding/json
// exactly, because every scanner is tested against encoding/json's decoding of the same bytes.
package jsontext

import (
	"unicode/utf16"
	"unicode/utf8"
)

// AppendUnescaped appends the value of a well-formed JSON string token's body (the bytes between
// the quotes) to dst as encoding/json decodes it: escapes resolved, a lone or mismatched UTF-16
// surrogate becomes U+FFFD, and so does every byte that is not part of valid UTF-8. The body must
// already be known to be well formed: every backslash starts a complete escape.
func AppendUnescaped(dst, body []byte) []byte {
	for i := 0; i < len(body); {
		c := body[i]
		if c != '\\' {
			if c < utf8.RuneSelf {
				dst = append(dst, c)
				i++
				continue
			}
			r, n := utf8.DecodeRune(body[i:])
			dst = utf8.AppendRune(dst, r) // RuneError for an invalid byte, as encoding/json
			i += n
			continue
		}
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
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(body) && body[i] == '\\' && body[i+1] == 'u' {
					if d := utf16.DecodeRune(r, hex4(body[i+2:])); d != utf8.RuneError {
						dst = utf8.AppendRune(dst, d)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, body[i+1])
		}
		i += 2
	}
	return dst
}

// IsHex reports whether c is a hexadecimal digit.
func IsHex(c byte) bool { return c-'0' < 10 || (c|0x20)-'a' < 6 }

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
