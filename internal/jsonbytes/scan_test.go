package jsonbytes

import (
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestWordMarks holds the eight-byte tests to what the string scan relies on: the lowest mark is
// exactly the first byte that does not stand for itself, whatever the bytes after it.
func TestWordMarks(t *testing.T) {
	tests := []struct {
		name     string
		mark     func(uint64) uint64
		standsIn func(c byte) bool // the bytes the test must not mark
	}{
		{"special", special, func(c byte) bool { return plainByte[c] }},
		{"quoteOrEscape", quoteOrEscape, func(c byte) bool { return plainByte[c] || c >= 0x80 }},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w [8]byte
			for p := range 8 {
				for c := range 256 {
					for range 64 {
						for k := range w {
							switch {
							case k < p:
								// Bytes before p stand for themselves.
								for w[k] = byte(rng.Uint32()); !tt.standsIn(w[k]); w[k] = byte(rng.Uint32()) {
								}
							case k == p:
								w[k] = byte(c)
							default:
								w[k] = byte(rng.Uint32())
							}
						}
						m := tt.mark(binary.LittleEndian.Uint64(w[:]))
						first := bits.TrailingZeros64(m) >> 3 // 8 when nothing is marked
						if tt.standsIn(byte(c)) && first == p || !tt.standsIn(byte(c)) && first != p {
							t.Fatalf("%q: got the first mark at %d, want byte %d (%#x) marked: %v", w, first, p, c, !tt.standsIn(byte(c)))
						}
					}
				}
			}
		})
	}
}

// TestScanString checks the string scan at every length around the eight-byte steps and at every
// place of the byte that ends or breaks it, against encoding/json.
func TestScanString(t *testing.T) {
	breaks := []struct {
		name, text string
	}{
		{"quote", `"`},
		{"escape", `\n`},
		{"unicode escape", `\u00e9`},
		{"bad escape", `\x`},
		{"short unicode escape", `\u00`},
		{"control", "\x01"},
		{"non-ASCII", "é"},
		{"invalid UTF-8", "\xff"},
		{"backslash at end", `\`},
	}
	for _, br := range breaks {
		t.Run(br.name, func(t *testing.T) {
			for before := range 20 {
				for after := range 20 {
					for _, closed := range []bool{true, false} {
						tok := `"` + strings.Repeat("a", before) + br.text + strings.Repeat("b", after)
						if closed {
							tok += `"`
						}
						b := []byte(tok + ` ,`)[:len(tok)]
						var v string
						want := json.Unmarshal(b, &v) == nil
						end, f, err := ScanString(b, 0)
						got := err == nil && end == len(b)
						if got != want {
							t.Fatalf("%q: ScanString accepts it: %v (end %d, %v), want %v", tok, got, end, err, want)
						}
						if send, sf := SkipString(b, 0); send != end || sf != f {
							t.Fatalf("%q: SkipString gives %d %v, ScanString %d %v", tok, send, sf, end, f)
						}
						if (err == nil) != (end >= 0) {
							t.Fatalf("%q: got end %d with error %v", tok, end, err)
						}
						if !want {
							continue
						}
						if escaped := strings.Contains(tok, `\`); escaped != (f&Escaped != 0) {
							t.Fatalf("%q: got Escaped %v, want %v", tok, f&Escaped != 0, escaped)
						}
						if nonASCII := strings.ContainsFunc(tok, func(r rune) bool { return r >= 0x80 }); nonASCII != (f&NonASCII != 0) {
							t.Fatalf("%q: got NonASCII %v, want %v", tok, f&NonASCII != 0, nonASCII)
						}
					}
				}
			}
		})
	}
}
