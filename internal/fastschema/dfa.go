package fastschema

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
)

// matcher decides whether a pattern matches anywhere in a string, as regexp's Match does. Patterns
// whose program needs only text-start and text-end assertions get a DFA over ASCII, built once at
// compile time, which decides ASCII strings in one table step per byte; other strings, and other
// patterns, go to the regexp that v5 compiled.
type matcher struct {
	re  *regexp.Regexp
	dfa *dfa
}

func newMatcher(re *regexp.Regexp) *matcher {
	return &matcher{re: re, dfa: buildDFA(re.String())}
}

func (m *matcher) match(s []byte) bool {
	if m.dfa != nil {
		if ok, ascii := m.dfa.match(s); ascii {
			return ok
		}
	}
	return m.re.Match(s)
}

// maxDFAStates bounds the DFA; a pattern that needs more keeps regexp.
const maxDFAStates = 256

type dfa struct {
	next      [][128]int32 // next[state][byte]
	accept    []bool       // a match ends here: the pattern matches whatever follows
	acceptEnd []bool       // a match ends here if the text ends here
	dead      []bool       // no match can follow
	// emptyMatch is the answer for the empty string, the one text whose end is also its start.
	emptyMatch bool
}

// match runs the DFA; ascii is false (and the answer meaningless) when s holds a non-ASCII byte.
func (d *dfa) match(s []byte) (ok, ascii bool) {
	if len(s) == 0 {
		return d.emptyMatch, true
	}
	st := int32(0)
	if d.accept[0] {
		// Still check that the text is ASCII, so the answer is the DFA's to give.
		for _, c := range s {
			if c >= 0x80 {
				return false, false
			}
		}
		return true, true
	}
	for i, c := range s {
		if c >= 0x80 {
			return false, false
		}
		st = d.next[st][c]
		if d.accept[st] {
			for _, c := range s[i+1:] {
				if c >= 0x80 {
					return false, false
				}
			}
			return true, true
		}
		if d.dead[st] {
			for _, c := range s[i+1:] {
				if c >= 0x80 {
					return false, false
				}
			}
			return false, true
		}
	}
	return d.acceptEnd[st], true
}

// buildDFA compiles pattern as package regexp does and runs the subset construction over its
// program for the 128 ASCII bytes. It returns nil for programs with assertions other than text
// start and end, or more than maxDFAStates states.
func buildDFA(pattern string) *dfa {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil
	}
	for _, in := range prog.Inst {
		if in.Op == syntax.InstEmptyWidth && syntax.EmptyOp(in.Arg)&^(syntax.EmptyBeginText|syntax.EmptyEndText) != 0 {
			return nil
		}
	}
	// closure adds pc and everything reachable from it without consuming a byte. An end-of-text
	// assertion that does not hold yet stays in the set, to be passed at the end.
	var closure func(set []uint32, pc uint32, atStart, atEnd bool, seen map[uint32]bool) []uint32
	closure = func(set []uint32, pc uint32, atStart, atEnd bool, seen map[uint32]bool) []uint32 {
		if seen[pc] {
			return set
		}
		seen[pc] = true
		in := &prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			set = closure(set, in.Out, atStart, atEnd, seen)
			return closure(set, in.Arg, atStart, atEnd, seen)
		case syntax.InstCapture, syntax.InstNop:
			return closure(set, in.Out, atStart, atEnd, seen)
		case syntax.InstEmptyWidth:
			op := syntax.EmptyOp(in.Arg)
			if op&syntax.EmptyBeginText != 0 && !atStart {
				return set
			}
			if op&syntax.EmptyEndText != 0 && !atEnd {
				return append(set, pc)
			}
			return closure(set, in.Out, atStart, atEnd, seen)
		case syntax.InstFail:
			return set
		}
		return append(set, pc)
	}
	norm := func(set []uint32) []uint32 {
		slices.Sort(set)
		return slices.Compact(set)
	}
	key := func(set []uint32) string {
		var b strings.Builder
		for _, pc := range set {
			b.WriteString(strconv.FormatUint(uint64(pc), 10))
			b.WriteByte(',')
		}
		return b.String()
	}
	restart := norm(closure(nil, uint32(prog.Start), false, false, map[uint32]bool{}))
	hasMatch := func(set []uint32, atEnd bool) bool {
		seen := map[uint32]bool{}
		var all []uint32
		for _, pc := range set {
			if atEnd {
				all = closure(all, pc, false, true, seen)
			} else {
				all = append(all, pc)
			}
		}
		for _, pc := range all {
			if prog.Inst[pc].Op == syntax.InstMatch {
				return true
			}
		}
		return false
	}
	d := &dfa{emptyMatch: regexp.MustCompile(pattern).MatchString("")}
	var sets [][]uint32
	index := map[string]int32{}
	add := func(set []uint32) int32 {
		k := key(set)
		if i, ok := index[k]; ok {
			return i
		}
		i := int32(len(sets))
		index[k] = i
		sets = append(sets, set)
		d.next = append(d.next, [128]int32{})
		d.accept = append(d.accept, hasMatch(set, false))
		d.acceptEnd = append(d.acceptEnd, hasMatch(set, true))
		return i
	}
	start := norm(closure(nil, uint32(prog.Start), true, false, map[uint32]bool{}))
	add(start)
	for s := 0; s < len(sets); s++ {
		if len(sets) > maxDFAStates {
			return nil
		}
		for c := 0; c < 128; c++ {
			var next []uint32
			seen := map[uint32]bool{}
			for _, pc := range sets[s] {
				in := &prog.Inst[pc]
				switch in.Op {
				case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
					if in.MatchRune(rune(c)) {
						next = closure(next, in.Out, false, false, seen)
					}
				}
			}
			// A match may start at every position: unanchored search.
			next = norm(append(next, restart...))
			d.next[s][c] = add(next)
		}
	}
	d.dead = make([]bool, len(sets))
	for s, set := range sets {
		d.dead[s] = len(set) == 0
	}
	return d
}
