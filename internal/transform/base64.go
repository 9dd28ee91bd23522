package transform

import (
	"encoding/base64"
	"encoding/binary"
	"slices"
)

// Firehose moves every record as standard base64 (RFC 4648, padded). Encoding is a large share of
// a transform's cost, so rows are encoded twelve bits at a time from a 4,096-entry table of
// character pairs, which halves the table look-ups of encoding/base64; the last bytes and the
// padding are left to encoding/base64, and a test checks that both agree on every length.

const stdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// pairs[v] holds the two characters that encode the twelve bits v, first character in the low byte.
var pairs = func() (t [4096]uint16) {
	for v := range t {
		t[v] = uint16(stdAlphabet[v>>6]) | uint16(stdAlphabet[v&63])<<8
	}
	return t
}()

// appendBase64 appends the standard base64 encoding of src to dst.
func appendBase64(dst, src []byte) []byte {
	n := base64.StdEncoding.EncodedLen(len(src))
	dst = slices.Grow(dst, n)
	out := dst[len(dst) : len(dst)+n]
	si, di := 0, 0
	for ; len(src)-si >= 8; si, di = si+6, di+8 {
		v := binary.BigEndian.Uint64(src[si:])
		binary.LittleEndian.PutUint64(out[di:], uint64(pairs[v>>52&0xfff])|
			uint64(pairs[v>>40&0xfff])<<16|uint64(pairs[v>>28&0xfff])<<32|uint64(pairs[v>>16&0xfff])<<48)
	}
	base64.StdEncoding.Encode(out[di:], src[si:])
	return dst[:len(dst)+n]
}

// quads[c1<<8|c2] holds the twelve bits that the character pair c1 c2 decodes to, or badPair when
// either is not in the standard alphabet.
var quads = func() *[1 << 16]uint16 {
	var t [1 << 16]uint16
	var val [256]int
	for i := range val {
		val[i] = -1
	}
	for i := 0; i < len(stdAlphabet); i++ {
		val[stdAlphabet[i]] = i
	}
	for i := range t {
		a, b := val[i>>8], val[i&0xff]
		if a < 0 || b < 0 {
			t[i] = badPair
			continue
		}
		t[i] = uint16(a<<6 | b)
	}
	return &t
}()

const badPair = 0x8000

// decodeBase64 decodes standard base64 src into dst, which has room for
// base64.StdEncoding.DecodedLen(len(src)) bytes, and returns the decoded length. It accepts and
// rejects exactly what base64.StdEncoding.Decode does: eight characters at a time go through the
// pair table, and anything else (the padded end, line breaks, invalid characters) is left to
// encoding/base64.
func decodeBase64(dst, src []byte) (int, error) {
	si, di := 0, 0
	for ; len(src)-si >= 9 && len(dst)-di >= 8; si, di = si+8, di+6 {
		w := binary.BigEndian.Uint64(src[si:])
		a, b := quads[w>>48], quads[w>>32&0xffff]
		c, d := quads[w>>16&0xffff], quads[w&0xffff]
		if (a|b|c|d)&badPair != 0 {
			break
		}
		binary.BigEndian.PutUint64(dst[di:], uint64(a)<<52|uint64(b)<<40|uint64(c)<<28|uint64(d)<<16)
	}
	n, err := base64.StdEncoding.Decode(dst[di:], src[si:])
	if err != nil {
		if e, ok := err.(base64.CorruptInputError); ok {
			err = base64.CorruptInputError(int64(e) + int64(si))
		}
	}
	return di + n, err
}
