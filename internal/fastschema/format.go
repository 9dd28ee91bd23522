package fastschema

import (
	"bytes"
	"strconv"
	"strings"
	"unsafe"

	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/jsonbytes"
	"github.com/santhosh-tekuri/jsonschema/v5"
)

// formatCheck decides one format for a decoded string. The checks for the formats events use most
// (date-time, date, time, uuid, email, uri, uri-reference) run without allocating on the values
// they accept; each either reproduces jsonschema/v5's checker step by step or recognises a subset
// of the values v5 accepts and hands everything else to v5's own checker. Every other format goes
// straight to v5's checker.
type formatCheck func(s []byte) bool

// view returns b as a string without copying. The string must not outlive the call it is passed to.
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func formatFor(name string) (formatCheck, bool) {
	v5 := jsonschema.Formats[name]
	if v5 == nil {
		return nil, false
	}
	slow := func(s []byte) bool { return v5(string(s)) }
	switch name {
	case "date-time":
		return func(s []byte) bool { return isDateTime(view(s)) }, true
	case "date":
		return func(s []byte) bool { return isDate(view(s)) }, true
	case "time":
		return func(s []byte) bool { return isTime(view(s)) }, true
	case "uuid":
		return isUUID, true
	case "email":
		return func(s []byte) bool { return simpleEmail(s) || slow(s) }, true
	case "uri", "iri":
		return func(s []byte) bool { return simpleURI(s, true) || slow(s) }, true
	case "uri-reference", "uriref", "iri-reference":
		return func(s []byte) bool { return simpleURI(s, false) || slow(s) }, true
	}
	return slow, true
}

// isDateTime follows RFC 3339 section 5.6 as jsonschema/v5 reads it.
func isDateTime(s string) bool {
	if len(s) < 20 {
		return false
	}
	if s[10] != 'T' && s[10] != 't' {
		return false
	}
	return isDate(s[:10]) && isTime(s[11:])
}

// isDate is v5's date check, time.Parse(time.DateOnly, s) == nil, without the time package's
// general parser, which cost 7% of validating an event with a time attribute.
func isDate(s string) bool { return event.ValidDate(s) }

// inRange parses s as strconv.Atoi does (a sign is allowed, as in v5) and checks its bounds. Two
// digits, what a time's fields hold, are read without the call.
func inRange(s string, lo, hi int) (int, bool) {
	var n int
	if len(s) == 2 && s[0]-'0' < 10 && s[1]-'0' < 10 {
		n = int(s[0]-'0')*10 + int(s[1]-'0')
	} else {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			return 0, false
		}
	}
	if n < lo || n > hi {
		return 0, false
	}
	return n, true
}

// isTime checks an RFC 3339 full-time, leap seconds included, the way jsonschema/v5 does.
func isTime(str string) bool {
	if len(str) < 9 || str[2] != ':' || str[5] != ':' {
		return false
	}
	h, ok := inRange(str[0:2], 0, 23)
	if !ok {
		return false
	}
	m, ok := inRange(str[3:5], 0, 59)
	if !ok {
		return false
	}
	sec, ok := inRange(str[6:8], 0, 60)
	if !ok {
		return false
	}
	str = str[8:]
	if str[0] == '.' {
		str = str[1:]
		n := 0
		for str != "" && str[0] >= '0' && str[0] <= '9' {
			n++
			str = str[1:]
		}
		if n == 0 {
			return false
		}
	}
	if len(str) == 0 {
		return false
	}
	if str[0] == 'z' || str[0] == 'Z' {
		if len(str) != 1 {
			return false
		}
	} else {
		if len(str) != 6 || str[3] != ':' {
			return false
		}
		var sign int
		switch str[0] {
		case '+':
			sign = -1
		case '-':
			sign = +1
		default:
			return false
		}
		zh, ok := inRange(str[1:3], 0, 23)
		if !ok {
			return false
		}
		zm, ok := inRange(str[4:6], 0, 59)
		if !ok {
			return false
		}
		hm := (h*60 + m) + sign*(zh*60+zm)
		if hm < 0 {
			hm += 24 * 60
		}
		h, m = hm/60, hm%60
	}
	if sec == 60 && (h != 23 || m != 59) {
		return false
	}
	return true
}

// isUUID accepts the 8-4-4-4-12 hexadecimal form of RFC 4122.
func isUUID(s []byte) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !jsonbytes.IsHex(c) {
				return false
			}
		}
	}
	return true
}

// simpleEmail recognises plain addresses (a dot-atom of letters, digits and ._%+- before the @,
// a host name after it) that v5's checker and net/mail both accept. It answers false for anything
// else, which then goes to v5's checker.
func simpleEmail(s []byte) bool {
	if len(s) > 254 {
		return false
	}
	at := -1
	for i, c := range s {
		if c == '@' {
			if at >= 0 {
				return false
			}
			at = i
		}
	}
	if at < 1 || at > 64 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	if local[0] == '.' || local[len(local)-1] == '.' {
		return false
	}
	for i, c := range local {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '_' || c == '%' || c == '+' || c == '-':
		case c == '.':
			if local[i-1] == '.' {
				return false
			}
		default:
			return false
		}
	}
	return simpleHostname(domain, true)
}

// simpleHostname accepts dot-separated labels of 1 to 63 letters, digits and inner hyphens, at most
// 253 bytes in all. With dotted, at least two labels are required (a mail domain).
func simpleHostname(h []byte, dotted bool) bool {
	if len(h) == 0 || len(h) > 253 {
		return false
	}
	labels, n := 0, 0
	for i := 0; i <= len(h); i++ {
		if i == len(h) || h[i] == '.' {
			if n == 0 || n > 63 || h[i-n] == '-' || h[i-1] == '-' {
				return false
			}
			labels++
			n = 0
			continue
		}
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
		n++
	}
	return !dotted || labels >= 2
}

// uriSafe marks the bytes that net/url accepts anywhere in a path, query or fragment without
// further checks: unreserved characters and sub-delimiters, ':', '@' and '/'. '%' is left out so
// that escapes are never judged here.
var uriSafe = func() (t [256]bool) {
	for _, c := range []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/") {
		t[c] = true
	}
	return t
}()

// simpleURI recognises the common shapes that net/url parses without error and that v5 therefore
// accepts: "scheme://host[:port]/path?query#fragment" with a plain host name, and (when abs is
// false) an absolute path "/path?query#fragment" or a relative one "seg/path?query#fragment". It answers false for anything else, which then
// goes to v5's checker.
func simpleURI(s []byte, abs bool) bool {
	if len(s) == 0 {
		return false
	}
	rest := s
	if s[0] == '/' {
		if abs || len(s) > 1 && s[1] == '/' {
			return false
		}
	} else if k := bytes.IndexAny(s, ":/?#"); !abs && (k < 0 || s[k] != ':') {
		// A relative path: without a colon before the first slash, net/url finds no scheme and
		// accepts the first segment.
	} else {
		// scheme
		i := 0
		for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' ||
			i > 0 && (s[i] >= '0' && s[i] <= '9' || s[i] == '+' || s[i] == '-' || s[i] == '.')) {
			i++
		}
		if i == 0 || i+3 > len(s) || s[i] != ':' || s[i+1] != '/' || s[i+2] != '/' {
			return false
		}
		rest = s[i+3:]
		j := 0
		for j < len(rest) && rest[j] != '/' && rest[j] != '?' && rest[j] != '#' {
			j++
		}
		host := rest[:j]
		if k := strings.LastIndexByte(view(host), ':'); k >= 0 {
			for _, c := range host[k+1:] {
				if c < '0' || c > '9' {
					return false
				}
			}
			host = host[:k]
		}
		if !simpleHostname(host, false) {
			return false
		}
		rest = rest[j:]
	}
	for _, c := range rest {
		if !uriSafe[c] && c != '?' && c != '#' {
			return false
		}
	}
	return true
}
