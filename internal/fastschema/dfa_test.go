package fastschema

import (
	"math/rand/v2"
	"regexp"
	"testing"
)

var dfaPatterns = []string{
	`^[a-z0-9]+(\.[a-z0-9_]+)+$`, `^dev-[0-9a-f]{8}$`, `^[0-9]+\.[0-9]+\.[0-9]+$`, `^ord_[A-Za-z0-9]{12}$`,
	`^[A-Z]{3}$`, `^[A-Z]{2}$`, `a`, `^a`, `a$`, `^$`, `^a*$`, `(?i)^ab$`, `a|b$`, `^(a|ab)(c|bcd)(d*)$`,
	`\d+`, `^\w+$`, `^.{2}$`, `[^a]`, `^a?b+c*$`, `x*`, `^(ab)*$`, `\s`, `^[\x00-\x1f]$`, `^\\$`, `.`,
	`(?s)^.$`, `^a{2,3}$`, `^(?:a|b)*c$`, `b$|^a`, `\bword\b`, `(?m)^a$`,
}

// TestDFAAgreesWithRegexp compares the DFA with regexp on random ASCII strings over the patterns'
// alphabets.
func TestDFAAgreesWithRegexp(t *testing.T) {
	alphabet := []byte("abcdxyzABCZ_.-0123456789 \n\t\\\x00\x7f")
	r := rand.New(rand.NewPCG(1, 2))
	built := 0
	for _, p := range dfaPatterns {
		re := regexp.MustCompile(p)
		m := newMatcher(re)
		if m.dfa != nil {
			built++
		}
		for k := 0; k < 3000; k++ {
			s := make([]byte, r.IntN(16))
			for i := range s {
				s[i] = alphabet[r.IntN(len(alphabet))]
			}
			if got, want := m.match(s), re.Match(s); got != want {
				t.Fatalf("pattern %q on %q: got %v, want %v", p, s, got, want)
			}
		}
	}
	if built < len(dfaPatterns)-3 {
		t.Errorf("only %d of %d patterns got a DFA", built, len(dfaPatterns))
	}
}

// FuzzPattern compares the DFA with regexp on any pattern regexp accepts and any text.
func FuzzPattern(f *testing.F) {
	for _, p := range dfaPatterns {
		f.Add(p, []byte("dev-0ed90475"))
	}
	f.Add(`^a`, []byte("\xffa"))
	f.Fuzz(func(t *testing.T, pattern string, s []byte) {
		re, err := regexp.Compile(pattern)
		if err != nil {
			return
		}
		m := newMatcher(re)
		if got, want := m.match(s), re.Match(s); got != want {
			t.Fatalf("pattern %q on %q: got %v, want %v", pattern, s, got, want)
		}
	})
}
