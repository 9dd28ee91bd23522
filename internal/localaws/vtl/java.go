package vtl

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Java strings are sequences of UTF-16 code units; a template's length(), substring() and
// codePointAt() count them. Strings are held in WTF-8 so that a substring that cuts a surrogate
// pair stays what Java holds: a lone surrogate, encoded as its three-byte form.

// units returns s as UTF-16 code units.
func units(s string) []uint16 {
	out := make([]uint16, 0, len(s))
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			out = append(out, uint16(b))
			i++
			continue
		}
		if u, ok := loneSurrogate(s[i:]); ok {
			out = append(out, u)
			i += 3
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r >= 0x10000 {
			a, b := utf16.EncodeRune(r)
			out = append(out, uint16(a), uint16(b))
		} else {
			out = append(out, uint16(r))
		}
		i += n
	}
	return out
}

// loneSurrogate decodes the three-byte WTF-8 form of a surrogate at the start of s.
func loneSurrogate(s string) (uint16, bool) {
	if len(s) >= 3 && s[0] == 0xED && s[1] >= 0xA0 && s[1] <= 0xBF && s[2] >= 0x80 && s[2] <= 0xBF {
		return uint16(0xD000 | uint16(s[1]&0x3F)<<6 | uint16(s[2]&0x3F)), true
	}
	return 0, false
}

// fromUnits encodes code units as WTF-8.
func fromUnits(u []uint16) string {
	var b strings.Builder
	b.Grow(len(u))
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch {
		case c < utf8.RuneSelf:
			b.WriteByte(byte(c))
		case c >= 0xD800 && c < 0xDC00 && i+1 < len(u) && u[i+1] >= 0xDC00 && u[i+1] < 0xE000:
			b.WriteRune(utf16.DecodeRune(rune(c), rune(u[i+1])))
			i++
		case c >= 0xD800 && c < 0xE000:
			b.WriteByte(0xED)
			b.WriteByte(byte(0x80 | (c>>6)&0x3F))
			b.WriteByte(byte(0x80 | c&0x3F))
		default:
			b.WriteRune(rune(c))
		}
	}
	return b.String()
}

// ToUTF8 turns a rendered string into UTF-8 as Java's encoder does: a lone surrogate becomes '?'.
func ToUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if _, ok := loneSurrogate(s[i:]); ok {
			b.WriteByte('?')
			i += 3
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r)
		i += n
	}
	return b.String()
}

// isASCII reports whether s needs no UTF-16 conversion for index arithmetic.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func length(s string) int {
	if isASCII(s) {
		return len(s)
	}
	return len(units(s))
}

func substring(s string, begin, end int) (string, error) {
	if isASCII(s) {
		if begin < 0 || end > len(s) || begin > end {
			return "", fmt.Errorf("StringIndexOutOfBoundsException: begin %d, end %d, length %d", begin, end, len(s))
		}
		return s[begin:end], nil
	}
	u := units(s)
	if begin < 0 || end > len(u) || begin > end {
		return "", fmt.Errorf("StringIndexOutOfBoundsException: begin %d, end %d, length %d", begin, end, len(u))
	}
	return fromUnits(u[begin:end]), nil
}

func codePointAt(s string, i int) (int32, error) {
	u := units(s)
	if i < 0 || i >= len(u) {
		return 0, fmt.Errorf("StringIndexOutOfBoundsException: index %d, length %d", i, len(u))
	}
	c := u[i]
	if c >= 0xD800 && c < 0xDC00 && i+1 < len(u) && u[i+1] >= 0xDC00 && u[i+1] < 0xE000 {
		return int32(utf16.DecodeRune(rune(c), rune(u[i+1]))), nil
	}
	return int32(c), nil
}

// indexOf is String.indexOf(str, from) in code units; lastIndexOf when last.
func indexOf(s, sub string, from int, last bool) int32 {
	if isASCII(s) && isASCII(sub) {
		if last {
			return int32(strings.LastIndex(s, sub))
		}
		from = max(from, 0)
		if from > len(s) {
			return -1
		}
		i := strings.Index(s[from:], sub)
		if i < 0 {
			return -1
		}
		return int32(i + from)
	}
	u, v := units(s), units(sub)
	match := func(i int) bool {
		for j := range v {
			if u[i+j] != v[j] {
				return false
			}
		}
		return true
	}
	if last {
		for i := len(u) - len(v); i >= 0; i-- {
			if match(i) {
				return int32(i)
			}
		}
		return -1
	}
	for i := max(from, 0); i+len(v) <= len(u); i++ {
		if match(i) {
			return int32(i)
		}
	}
	return -1
}

// trim is String.trim: it strips every code unit up to U+0020 from both ends.
func trim(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
}

var regexps sync.Map

// javaRegexp compiles a java.util.regex pattern. The patterns templates use (literal text,
// classes, escaped punctuation, quantifiers, groups) mean the same in Go's RE2; the constructs that
// differ (possessive quantifiers, lookaround, backreferences) fail to compile, which a template
// sees as the method's exception.
func javaRegexp(p string) (*regexp.Regexp, error) {
	if r, ok := regexps.Load(p); ok {
		return r.(*regexp.Regexp), nil
	}
	r, err := regexp.Compile(p)
	if err != nil {
		return nil, fmt.Errorf("PatternSyntaxException: %v", err)
	}
	regexps.Store(p, r)
	return r, nil
}

// replaceAll is String.replaceAll: in the replacement, $n is group n and a backslash quotes the
// next character.
func replaceAll(s, pattern, repl string, first bool) (string, error) {
	re, err := javaRegexp(pattern)
	if err != nil {
		return "", err
	}
	n := -1
	if first {
		n = 1
	}
	matches := re.FindAllStringSubmatchIndex(s, n)
	if len(matches) == 0 {
		return s, nil
	}
	var b strings.Builder
	last := 0
	for _, m := range matches {
		b.WriteString(s[last:m[0]])
		for i := 0; i < len(repl); i++ {
			c := repl[i]
			switch {
			case c == '\\':
				i++
				if i >= len(repl) {
					return "", fmt.Errorf("IllegalArgumentException: character to be escaped is missing")
				}
				b.WriteByte(repl[i])
			case c == '$':
				i++
				if i >= len(repl) || repl[i] < '0' || repl[i] > '9' {
					return "", fmt.Errorf("IllegalArgumentException: illegal group reference")
				}
				g := int(repl[i] - '0')
				if 2*g+1 >= len(m) {
					return "", fmt.Errorf("IndexOutOfBoundsException: no group %d", g)
				}
				if m[2*g] >= 0 {
					b.WriteString(s[m[2*g]:m[2*g+1]])
				}
			default:
				b.WriteByte(c)
			}
		}
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String(), nil
}

// split is String.split(regex): trailing empty strings are removed; an empty input gives [""].
func split(s, pattern string) (*List, error) {
	var parts []string
	if len(pattern) == 1 && !strings.ContainsAny(pattern, `.$|()[{^?*+\`) {
		parts = strings.Split(s, pattern)
	} else {
		re, err := javaRegexp(pattern)
		if err != nil {
			return nil, err
		}
		parts = re.Split(s, -1)
		// Java never yields a leading empty string for a zero-width match at the start.
		if len(parts) > 1 && parts[0] == "" {
			if loc := re.FindStringIndex(s); loc != nil && loc[1] == 0 {
				parts = parts[1:]
			}
		}
	}
	if s != "" {
		for len(parts) > 0 && parts[len(parts)-1] == "" {
			parts = parts[:len(parts)-1]
		}
	}
	l := &List{array: true}
	for _, p := range parts {
		l.items = append(l.items, p)
	}
	return l, nil
}

func toLower(s string) string { return strings.Map(unicode.ToLower, s) }
func toUpper(s string) string { return strings.Map(unicode.ToUpper, s) }

// escapeJavaScript is commons-lang 2's StringEscapeUtils.escapeJavaScript, which API Gateway's
// $util.escapeJavaScript follows: ' " \ and / are escaped with a backslash, \b \f \n \r \t by
// name, other control characters and everything above U+007F as \uXXXX (upper-case hex, one per
// UTF-16 code unit).
func escapeJavaScript(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	const hex = "0123456789ABCDEF"
	u4 := func(c uint16) {
		b.WriteString(`\u`)
		b.WriteByte(hex[c>>12&0xF])
		b.WriteByte(hex[c>>8&0xF])
		b.WriteByte(hex[c>>4&0xF])
		b.WriteByte(hex[c&0xF])
	}
	for _, c := range units(s) {
		switch {
		case c > 0x7F:
			u4(c)
		case c < 32:
			switch c {
			case '\b':
				b.WriteString(`\b`)
			case '\n':
				b.WriteString(`\n`)
			case '\t':
				b.WriteString(`\t`)
			case '\f':
				b.WriteString(`\f`)
			case '\r':
				b.WriteString(`\r`)
			default:
				u4(c)
			}
		case c == '\'' || c == '"' || c == '\\' || c == '/':
			b.WriteByte('\\')
			b.WriteByte(byte(c))
		default:
			b.WriteByte(byte(c))
		}
	}
	return b.String()
}

// urlEncode is java.net.URLEncoder.encode(s, "UTF-8"): letters, digits and .-*_ stay, space is
// +, every other byte is %XX (upper-case).
func urlEncode(s string) string {
	var b strings.Builder
	const hex = "0123456789ABCDEF"
	for _, c := range []byte(ToUTF8(s)) {
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-*_", c) >= 0:
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xF])
		}
	}
	return b.String()
}

// urlDecode is java.net.URLDecoder.decode(s, "UTF-8").
func urlDecode(s string) (string, error) {
	var out []byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			out = append(out, ' ')
		case '%':
			if i+2 >= len(s) {
				return "", fmt.Errorf("IllegalArgumentException: URLDecoder: Incomplete trailing escape (%%) pattern")
			}
			var v byte
			for _, h := range []byte{s[i+1], s[i+2]} {
				switch {
				case h >= '0' && h <= '9':
					v = v<<4 | (h - '0')
				case h >= 'a' && h <= 'f':
					v = v<<4 | (h - 'a' + 10)
				case h >= 'A' && h <= 'F':
					v = v<<4 | (h - 'A' + 10)
				default:
					return "", fmt.Errorf("IllegalArgumentException: URLDecoder: Illegal hex characters in escape (%%) pattern")
				}
			}
			out = append(out, v)
			i += 2
		default:
			out = append(out, c)
		}
	}
	return strings.ToValidUTF8(string(out), "\uFFFD"), nil
}
