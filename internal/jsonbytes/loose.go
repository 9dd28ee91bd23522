package jsonbytes

import "bytes"

// The functions below find where a value ends without checking its syntax. They serve text that
// is checked later or elsewhere (an array of events whose elements are each validated on their
// own, text that encoding/json has accepted already), and they jump from quote to quote with
// bytes.IndexByte, which takes fewer instructions than the checking scan over long strings (see
// the package documentation).

// StringEnd returns the index after the string whose opening quote is b[i]: the first quote that
// an even number of backslashes precedes. It returns -1 when the string is not closed.
func StringEnd(b []byte, i int) int {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return -1
		}
		q := j + k
		n := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q + 1
		}
		j = q + 1
	}
}

// SkipLoose returns the end of the value that starts at b[i] (no space before it), or -1: a string
// ends at its closing quote, an object or array where its brackets balance, anything else at the
// next delimiter. Only strings and nesting are followed.
func SkipLoose(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return StringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end := StringEnd(b, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	case ',', ']', '}', ':':
		return -1
	default:
		j := i
		for j < len(b) && !isDelimiter(b[j]) {
			j++
		}
		return j
	}
}

func isDelimiter(c byte) bool {
	switch c {
	case ',', ']', '}', ':', '[', '{', '"', ' ', '\t', '\r', '\n':
		return true
	}
	return false
}
