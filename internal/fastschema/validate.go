package fastschema

import (
	"bytes"
	"encoding/json"
	"hash/maphash"
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/firelane/firelane/internal/jsonbytes"
)

// state is the scratch space of one validation. Every buffer is a stack that a container pushes
// onto and pops when it ends, so a pooled state serves any number of validations without
// allocating once its buffers have grown to the workload's size.
type state struct {
	raw []byte
	// bad reports that encoding/json rejects the text: a syntax error, or nesting beyond jsonbytes.MaxDepth.
	bad bool
	// panicked reports that jsonschema/v5 would panic on the text (see decimal.ratBad).
	panicked bool
	// typeFailed passes a number's type mismatch from checkNumber to value.
	typeFailed bool
	// strAt is where the string value that value scanned last starts, and strFlags its flags, so
	// that the envelope's attributes need no second scan; strAt is -1 before the first one.
	strAt    int
	strFlags jsonbytes.Flags

	sbuf   []byte   // the decoded string being checked
	nbuf   []byte   // the digits of the number being checked
	cbuf   []byte   // the canonical form being compared with enum or const
	karena []byte   // decoded member names that must outlive their member
	attrs  []byte   // the block that Events.Validate copies attributes into: only appended to
	bits   []uint64 // per object: the known names seen, then the known names whose value failed
	ents   []keyEntry
	uents  []uniqueEntry
	ubuf   []byte
	maps   []map[uint64]int32 // per depth: the index of tracked names once an object has many

	env envelopeScan
}

type keyEntry struct {
	h        uint64
	off      int32 // where the name is: raw[off:off+n] when inRaw, else karena[off:off+n]
	n        int32
	next     int32 // the previous entry with the same hash, once the object uses its map
	inRaw    bool
	ok       bool
	panicked bool
}

type uniqueEntry struct {
	h      uint64
	off, n int32 // canonical form in ubuf
}

// mapThreshold is the number of tracked member names beyond which duplicates are looked up in a
// hash map rather than by a linear scan, which keeps objects with many members linear.
const mapThreshold = 16

var (
	seed      = maphash.MakeSeed()
	statePool = sync.Pool{New: func() any { return new(state) }}
	nullText  = []byte("null")
)

func getState(raw []byte) *state {
	st := statePool.Get().(*state)
	st.raw, st.bad, st.panicked, st.strAt = raw, false, false, -1
	return st
}

func putState(st *state) {
	// Drop every view of the caller's text, so that the pool does not keep it alive.
	st.raw = nil
	st.env.reset()
	st.env.events = nil
	statePool.Put(st)
}

func (st *state) fail() (int, bool) {
	st.bad = true
	return len(st.raw), false
}

func (st *state) skip(i, depth int) int {
	end, _, err := jsonbytes.SkipValue(st.raw, jsonbytes.SkipSpace(st.raw, i), depth)
	if err != nil {
		st.bad = true
		return len(st.raw)
	}
	return end
}

// Validate reports whether the JSON text raw is valid against s exactly as jsonschema/v5 decides
// for the value that encoding/json (with UseNumber) decodes from it. Text that is not JSON is
// invalid, and so is text on which v5 would panic (a number beyond math/big's exponent range
// where v5 needs its value).
func (s *Schema) Validate(raw []byte) bool {
	st := getState(raw)
	defer putState(st)
	i := jsonbytes.SkipSpace(raw, 0)
	end, ok := st.value(s.root, i, 0)
	if st.bad || st.panicked || !ok {
		return false
	}
	return jsonbytes.SkipSpace(raw, end) == len(raw)
}

func (n *node) allows(t uint8) bool { return n.types == 0 || n.types&t != 0 }

// value validates the value that starts at i (no space before it) against n and returns its end.
// depth counts the containers that enclose i. The value is always scanned to its end, whatever
// the outcome, so that callers can go on with the text.
func (st *state) value(n *node, i, depth int) (int, bool) {
	raw := st.raw
	if st.bad || i >= len(raw) {
		return st.fail()
	}
	if n.always != 0 {
		return st.skip(i, depth), n.always > 0 && !st.bad
	}
	var end int
	ok := true
	switch c := raw[i]; {
	case c == '{':
		if !n.allows(tObject) {
			return st.skip(i, depth), false
		}
		if n.hasObject {
			end, ok = st.object(n, i, depth, false)
		} else {
			end = st.skip(i, depth)
		}
		if st.bad {
			return st.fail()
		}
		if n.hasConst || n.hasEnum {
			ok = st.compositeEnum(n, raw[i:end]) && ok
		}
	case c == '[':
		if !n.allows(tArray) {
			return st.skip(i, depth), false
		}
		if n.hasArray {
			end, ok = st.array(n, i, depth)
		} else {
			end = st.skip(i, depth)
		}
		if st.bad {
			return st.fail()
		}
		if n.hasConst || n.hasEnum {
			ok = st.compositeEnum(n, raw[i:end]) && ok
		}
	case c == '"':
		var f jsonbytes.Flags
		if end, f = jsonbytes.SkipString(raw, i); end < 0 {
			return st.fail()
		}
		st.strAt, st.strFlags = i, f
		if !n.allows(tString) {
			return end, false
		}
		if n.hasString || n.hasConst || n.hasEnum {
			s := raw[i+1 : end-1]
			if !jsonbytes.Plain(s, f) {
				st.sbuf = jsonbytes.AppendUnescaped(st.sbuf[:0], s)
				s = st.sbuf
			}
			ok = st.checkString(n, s)
		}
	case c == 't' || c == 'f' || c == 'n':
		var t uint8
		var canon byte
		switch c {
		case 't':
			end, _ = jsonbytes.ScanLiteral(raw, i, "true")
			t, canon = tBoolean, 't'
		case 'f':
			end, _ = jsonbytes.ScanLiteral(raw, i, "false")
			t, canon = tBoolean, 'f'
		default:
			end, _ = jsonbytes.ScanLiteral(raw, i, "null")
			t, canon = tNull, 'z'
		}
		if end < 0 {
			return st.fail()
		}
		if !n.allows(t) {
			return end, false
		}
		if n.hasConst || n.hasEnum {
			st.cbuf = append(st.cbuf[:0], canon)
			ok = st.matchCanonical(n, st.cbuf)
		}
	default:
		end, _ = jsonbytes.ScanNumber(raw, i)
		if end < 0 {
			return st.fail()
		}
		ok = st.checkNumber(n, raw[i:end])
		if !ok && st.typeFailed {
			st.typeFailed = false
			return end, false
		}
	}
	if n.inPlace {
		ok = st.applicators(n, i, depth) && ok
	}
	return end, ok && !st.bad
}

// matchCanonical compares a scalar's canonical form with const and enum.
func (st *state) matchCanonical(n *node, canon []byte) bool {
	ok := true
	if n.hasConst && n.constCanon != string(canon) {
		ok = false
	}
	if n.hasEnum {
		if _, found := n.enum[string(canon)]; !found {
			ok = false
		}
	}
	return ok
}

func (st *state) checkString(n *node, s []byte) bool {
	ok := true
	if n.hasConst || n.hasEnum {
		st.cbuf = appendCanonicalString(st.cbuf[:0], s)
		ok = st.matchCanonical(n, st.cbuf)
	}
	if n.format != nil && !n.format(s) {
		ok = false
	}
	if n.minLen >= 0 || n.maxLen >= 0 {
		// A string has at most as many code points as bytes, so short strings need no count.
		if n.minLen > len(s) {
			ok = false
		} else if n.maxLen >= 0 && len(s) > n.maxLen || n.minLen > 0 {
			count := utf8.RuneCount(s)
			if n.minLen >= 0 && count < n.minLen || n.maxLen >= 0 && count > n.maxLen {
				ok = false
			}
		}
	}
	if n.pattern != nil && !n.pattern.match(s) {
		ok = false
	}
	return ok
}

// checkNumber checks a number literal. It sets st.typeFailed when the type keyword rejects it, so
// that the caller skips the in-place applicators as v5 does.
func (st *state) checkNumber(n *node, lit []byte) bool {
	needValue := n.hasNumber || n.hasConst && n.constNum || n.hasEnum && n.enumNum || n.intFirst
	var d decimal
	if needValue {
		d, st.nbuf = parseDecimal(lit, st.nbuf[:0])
	}
	if n.types != 0 {
		matched := false
		if n.intFirst {
			if d.ratBad {
				st.panicked = true
				return false
			}
			matched = d.isInt() || n.types&tNumber != 0
		} else {
			matched = n.types&tNumber != 0
			if !matched && n.types&tInteger != 0 {
				matched = d.isInt()
			}
		}
		if !matched {
			st.typeFailed = true
			return false
		}
	}
	if !needValue {
		if n.hasConst || n.hasEnum {
			// Neither const nor enum holds a number, so no number matches them.
			return false
		}
		return true
	}
	if d.ratBad {
		// v5 needs the value here and cannot get it.
		st.panicked = true
		return false
	}
	ok := true
	if n.hasConst || n.hasEnum {
		st.cbuf = appendCanonical(st.cbuf[:0], d)
		ok = st.matchCanonical(n, st.cbuf)
	}
	if n.min != nil && cmpDecimal(d, *n.min) < 0 {
		ok = false
	}
	if n.exMin != nil && cmpDecimal(d, *n.exMin) <= 0 {
		ok = false
	}
	if n.max != nil && cmpDecimal(d, *n.max) > 0 {
		ok = false
	}
	if n.exMax != nil && cmpDecimal(d, *n.exMax) >= 0 {
		ok = false
	}
	if n.multiple != nil && !isMultipleOf(d, *n.multiple) {
		ok = false
	}
	return ok
}

// compositeEnum compares an object or array with const and enum through encoding/json and v5's
// notion of equality, which happens only for schemas whose const or enum holds objects or arrays.
func (st *state) compositeEnum(n *node, text []byte) bool {
	if !n.enumComposite {
		return false
	}
	v, ok := decodeUseNumber(text)
	if !ok {
		st.bad = true
		return false
	}
	ok = true
	if n.hasConst {
		eq, p := v5Equal(v, n.constVal)
		if p {
			st.panicked = true
		}
		ok = eq
	}
	if n.hasEnum {
		matched := false
		for _, item := range n.enumVals {
			eq, p := v5Equal(v, item)
			if p {
				st.panicked = true
				return false
			}
			if eq {
				matched = true
				break
			}
		}
		ok = ok && matched
	}
	return ok
}

func decodeUseNumber(text []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	return v, true
}

func (st *state) applicators(n *node, i, depth int) bool {
	ok := true
	if n.ref != nil {
		_, r := st.value(n.ref, i, depth)
		ok = ok && r
	}
	if n.not != nil {
		if _, r := st.value(n.not, i, depth); r {
			ok = false
		}
	}
	for _, m := range n.allOf {
		_, r := st.value(m, i, depth)
		ok = ok && r
	}
	if len(n.anyOf) > 0 {
		// Every branch runs, as in v5, so that the outcome on text v5 would panic on is the same.
		matched := false
		for _, m := range n.anyOf {
			if _, r := st.value(m, i, depth); r {
				matched = true
			}
		}
		ok = ok && matched
	}
	if len(n.oneOf) > 0 {
		matched := 0
		for _, m := range n.oneOf {
			if _, r := st.value(m, i, depth); r {
				if matched++; matched == 2 {
					break
				}
			}
		}
		ok = ok && matched == 1
	}
	if n.ifN != nil {
		if _, r := st.value(n.ifN, i, depth); r {
			if n.thenN != nil {
				_, r := st.value(n.thenN, i, depth)
				ok = ok && r
			}
		} else if n.elseN != nil {
			_, r := st.value(n.elseN, i, depth)
			ok = ok && r
		}
	}
	return ok
}

// object validates the object that starts at i. root marks the event envelope, whose attributes
// and data are recorded in st.env on the way.
func (st *state) object(n *node, i, depth int, root bool) (int, bool) {
	raw := st.raw
	depth++
	if depth > jsonbytes.MaxDepth {
		return st.fail()
	}
	// Three bitsets over the known names: seen, failed, and made v5 panic. The last two hold the
	// outcome of the latest member of each name, which is the one a decoded map keeps.
	words := (len(n.knownNames) + 63) / 64
	bitBase := len(st.bits)
	for k := 0; k < 3*words; k++ {
		st.bits = append(st.bits, 0)
	}
	entBase, karBase := len(st.ents), len(st.karena)
	distinct := 0
	ok := true
	panickedBefore := st.panicked
	i = jsonbytes.SkipSpace(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		i++
	} else {
		for {
			if i >= len(raw) || raw[i] != '"' {
				return st.fail()
			}
			kend, kf := jsonbytes.SkipString(raw, i)
			if kend < 0 {
				return st.fail()
			}
			keyStart := i
			key := raw[i+1 : kend-1]
			mark := len(st.karena)
			plain := jsonbytes.Plain(key, kf)
			if !plain {
				st.karena = jsonbytes.AppendUnescaped(st.karena, key)
				key = st.karena[mark:]
			}
			i = jsonbytes.SkipSpace(raw, kend)
			if i >= len(raw) || raw[i] != ':' {
				return st.fail()
			}
			vstart := jsonbytes.SkipSpace(raw, i+1)
			idx := -1
			if len(n.knownNames) > 0 {
				idx = n.lookup(key)
			}
			memberOK := true
			end := -1
			handled := false
			st.panicked = false
			if root && idx >= 0 && idx == st.env.events.dataIdx {
				end, memberOK, handled = st.env.speculate(st, n.propNode[idx], vstart)
			}
			if handled {
				// data's member is decided; nothing else in the envelope applies to it.
			} else if n.propNames != nil {
				_, r := st.value(n.propNames, keyStart, depth)
				memberOK = r
			}
			matched := handled
			if !handled && idx >= 0 && n.propNode[idx] != nil {
				matched = true
				e, r := st.value(n.propNode[idx], vstart, depth)
				end, memberOK = e, memberOK && r
			}
			for _, p := range n.patterns {
				if p.re.match(key) {
					matched = true
					e, r := st.value(p.n, vstart, depth)
					end, memberOK = e, memberOK && r
				}
			}
			if !matched {
				if n.addlFalse {
					memberOK = false
				} else if n.addl != nil {
					e, r := st.value(n.addl, vstart, depth)
					end, memberOK = e, memberOK && r
				}
			}
			if end < 0 {
				end = st.skip(vstart, depth)
			}
			if st.bad {
				return st.fail()
			}
			if root {
				st.env.member(st, key, vstart, end)
			}
			kept := false
			switch {
			case idx >= 0:
				w, b := bitBase+idx/64, uint64(1)<<(idx%64)
				if st.bits[w]&b == 0 {
					st.bits[w] |= b
					distinct++
				}
				if memberOK {
					st.bits[w+words] &^= b
				} else {
					st.bits[w+words] |= b
				}
				if st.panicked {
					st.bits[w+2*words] |= b
				} else {
					st.bits[w+2*words] &^= b
				}
			case n.trackUnknown:
				var isNew bool
				isNew, kept = st.track(entBase, depth, key, plain, keyStart+1, mark, memberOK, st.panicked)
				if isNew {
					distinct++
				}
			default:
				// Without tracking, a member's outcome depends on its name alone, so a
				// later duplicate could not change it.
				if !memberOK {
					ok = false
				}
				panickedBefore = panickedBefore || st.panicked
			}
			if !plain && !kept {
				st.karena = st.karena[:mark]
			}
			if end < len(raw) && raw[end] == ',' {
				// The common case, no space before the comma, costs no call.
				i = jsonbytes.SkipSpace(raw, end+1)
				continue
			}
			next, closed, err := jsonbytes.AfterValue(raw, end, '}')
			if err != nil {
				return st.fail()
			}
			if i = next; !closed {
				continue
			}
			break
		}
	}
	seen := func(k int) bool { return st.bits[bitBase+k/64]&(1<<(k%64)) != 0 }
	for w := 0; w < words; w++ {
		if st.bits[bitBase+words+w] != 0 {
			ok = false
		}
		if st.bits[bitBase+2*words+w] != 0 {
			panickedBefore = true
		}
	}
	for _, e := range st.ents[entBase:] {
		if !e.ok {
			ok = false
		}
		panickedBefore = panickedBefore || e.panicked
	}
	st.panicked = panickedBefore
	for _, k := range n.required {
		if !seen(k) {
			ok = false
		}
	}
	if n.minProps >= 0 && distinct < n.minProps || n.maxProps >= 0 && distinct > n.maxProps {
		ok = false
	}
	for _, d := range n.depRequired {
		if seen(d.name) {
			for _, k := range d.req {
				if !seen(k) {
					ok = false
				}
			}
		}
	}
	st.bits = st.bits[:bitBase]
	st.ents = st.ents[:entBase]
	st.karena = st.karena[:karBase]
	return i, ok
}

// lookup returns the known-name index of key, or -1. Most names are found, or known to be
// unknown, in one probe of the node's name slots: the slot of a hash of the name's length and three
// of its bytes holds the index plus one of the one known name that hashes there, 0 when none does
// (see setNameSlots). Where several do, a short list is searched directly, which beats hashing the
// name, and a long one through the map.
func (n *node) lookup(key []byte) int {
	switch k := n.nameSlots[nameSlot(key, n.slotMul)]; k {
	case 0:
		return -1
	case slotMany:
	default:
		if n.knownNames[k-1] == string(key) {
			return int(k - 1)
		}
		return -1
	}
	if len(n.knownNames) > 12 {
		if x, found := n.known[string(key)]; found {
			return x
		}
		return -1
	}
	for k, name := range n.knownNames {
		if len(name) == len(key) && name == string(key) {
			return k
		}
	}
	return -1
}

// slotMany marks a name slot that several known names hash to, or one whose index does not fit.
const slotMany = 0xff

// nameSlot is the slot of a node's name slots where a name belongs: its length, first, middle and
// last bytes, mixed by the node's multiplier.
func nameSlot[T ~string | ~[]byte](name T, mul uint64) int {
	n := len(name)
	h := uint64(n)
	if n > 0 {
		h |= uint64(name[0])<<8 | uint64(name[n>>1])<<16 | uint64(name[n-1])<<24
	}
	return int((h * mul) >> 58)
}

// setNameSlots fills the node's name slots with the multiplier, of the first few tried, under
// which the fewest known names share a slot: most nodes get one where none does.
func (n *node) setNameSlots() {
	best, bestShared := uint64(0), len(n.knownNames)+1
	for try := uint64(1); try <= 64 && bestShared > 0; try++ {
		mul := (try*0x9e3779b97f4a7c15)*2 + 1 // odd, and spread over the word
		var used [64]uint8
		shared := 0
		for _, name := range n.knownNames {
			if used[nameSlot(name, mul)]++; used[nameSlot(name, mul)] > 1 {
				shared++
			}
		}
		if shared < bestShared {
			best, bestShared = mul, shared
		}
	}
	n.slotMul = best
	for k, name := range n.knownNames {
		switch slot := &n.nameSlots[nameSlot(name, best)]; {
		case *slot == 0 && k+1 < slotMany:
			*slot = uint8(k + 1)
		default:
			*slot = slotMany
		}
	}
}

func (st *state) entryName(e *keyEntry) []byte {
	if e.inRaw {
		return st.raw[e.off : e.off+e.n]
	}
	return st.karena[e.off : e.off+e.n]
}

// track records the outcome of a member whose name is outside the node's known names; a later
// member of the same name replaces it, as encoding/json keeps the last. It reports whether the name
// is new and whether the decoded name in karena must be kept.
func (st *state) track(base, depth int, key []byte, inRaw bool, rawOff, karOff int, ok, panicked bool) (isNew, kept bool) {
	h := maphash.Bytes(seed, key)
	count := len(st.ents) - base
	if count < mapThreshold {
		for j := base; j < len(st.ents); j++ {
			e := &st.ents[j]
			if e.h == h && bytes.Equal(st.entryName(e), key) {
				e.ok, e.panicked = ok, panicked
				return false, false
			}
		}
	} else {
		for len(st.maps) <= depth {
			st.maps = append(st.maps, nil)
		}
		m := st.maps[depth]
		if m == nil {
			m = map[uint64]int32{}
			st.maps[depth] = m
		}
		if count == mapThreshold {
			clear(m)
			for j := base; j < len(st.ents); j++ {
				e := &st.ents[j]
				if prev, found := m[e.h]; found {
					e.next = prev
				} else {
					e.next = -1
				}
				m[e.h] = int32(j)
			}
		}
		if j, found := m[h]; found {
			for ; j >= 0; j = st.ents[j].next {
				e := &st.ents[j]
				if e.h == h && bytes.Equal(st.entryName(e), key) {
					e.ok = ok
					return false, false
				}
			}
		}
	}
	e := keyEntry{h: h, n: int32(len(key)), inRaw: inRaw, ok: ok, panicked: panicked, next: -1}
	if inRaw {
		e.off = int32(rawOff)
	} else {
		e.off = int32(karOff)
		kept = true
	}
	if count >= mapThreshold {
		m := st.maps[depth]
		if prev, found := m[h]; found {
			e.next = prev
		}
		m[h] = int32(len(st.ents))
	}
	st.ents = append(st.ents, e)
	return true, kept
}

func (st *state) array(n *node, i, depth int) (int, bool) {
	raw := st.raw
	start := i
	depth++
	if depth > jsonbytes.MaxDepth {
		return st.fail()
	}
	ok := true
	count, matched := 0, 0
	uBase, ubufBase := len(st.uents), len(st.ubuf)
	composite, badNumber, numbers := false, false, 0
	i = jsonbytes.SkipSpace(raw, i+1)
	if i < len(raw) && raw[i] == ']' {
		i++
	} else {
		for {
			vstart := i
			end := -1
			sub := n.items
			if count < len(n.prefix) {
				sub = n.prefix[count]
			}
			if sub != nil {
				e, r := st.value(sub, vstart, depth)
				end, ok = e, ok && r
			}
			if n.contains != nil {
				e, r := st.value(n.contains, vstart, depth)
				end = e
				if r {
					matched++
				}
			}
			if n.unique && !composite && vstart < len(raw) {
				switch c := raw[vstart]; {
				case c == '{' || c == '[':
					composite = true
				default:
					e, isNum, bad := st.uniqueItem(vstart)
					if e < 0 {
						return st.fail()
					}
					end = e
					if isNum {
						numbers++
						badNumber = badNumber || bad
					}
				}
			}
			if end < 0 {
				end = st.skip(vstart, depth)
			}
			if st.bad {
				return st.fail()
			}
			count++
			if end < len(raw) && raw[end] == ',' {
				i = jsonbytes.SkipSpace(raw, end+1)
				continue
			}
			next, closed, err := jsonbytes.AfterValue(raw, end, ']')
			if err != nil {
				return st.fail()
			}
			if i = next; !closed {
				continue
			}
			break
		}
	}
	if n.minItems >= 0 && count < n.minItems || n.maxItems >= 0 && count > n.maxItems {
		ok = false
	}
	if n.contains != nil {
		if n.minContains != -1 && matched < n.minContains || n.maxContains != -1 && matched > n.maxContains {
			ok = false
		}
	}
	if n.unique {
		switch {
		case composite:
			ok = st.uniqueDecoded(raw[start:i]) && ok
		case st.uniqueScalars(uBase):
			// v5 compares (up to 20 items) or hashes (beyond) every number with the others, and
			// panics on one it cannot convert.
			if badNumber && (count > 20 || numbers >= 2) {
				st.panicked = true
				ok = false
			}
		default:
			ok = false
		}
	}
	st.uents = st.uents[:uBase]
	st.ubuf = st.ubuf[:ubufBase]
	return i, ok
}

// uniqueItem records the canonical form of the scalar array item at i and returns its end (-1 for
// malformed text).
func (st *state) uniqueItem(i int) (end int, isNum, bad bool) {
	raw := st.raw
	off := len(st.ubuf)
	switch c := raw[i]; {
	case c == '"':
		var f jsonbytes.Flags
		if end, f = jsonbytes.SkipString(raw, i); end < 0 {
			return -1, false, false
		}
		s := raw[i+1 : end-1]
		if !jsonbytes.Plain(s, f) {
			st.sbuf = jsonbytes.AppendUnescaped(st.sbuf[:0], s)
			s = st.sbuf
		}
		st.ubuf = appendCanonicalString(st.ubuf, s)
	case c == 't':
		end, _ = jsonbytes.ScanLiteral(raw, i, "true")
		st.ubuf = append(st.ubuf, 't')
	case c == 'f':
		end, _ = jsonbytes.ScanLiteral(raw, i, "false")
		st.ubuf = append(st.ubuf, 'f')
	case c == 'n':
		end, _ = jsonbytes.ScanLiteral(raw, i, "null")
		st.ubuf = append(st.ubuf, 'z')
	default:
		end, _ = jsonbytes.ScanNumber(raw, i)
		if end < 0 {
			return -1, false, false
		}
		var d decimal
		d, st.nbuf = parseDecimal(raw[i:end], st.nbuf[:0])
		st.ubuf = appendCanonical(st.ubuf, d)
		isNum, bad = true, d.ratBad
	}
	if end < 0 {
		return -1, false, false
	}
	canon := st.ubuf[off:]
	st.uents = append(st.uents, uniqueEntry{h: maphash.Bytes(seed, canon), off: int32(off), n: int32(len(canon))})
	return end, isNum, bad
}

// uniqueScalars reports whether the recorded items from base on are pairwise distinct, in
// O(n log n) whatever their number.
func (st *state) uniqueScalars(base int) bool {
	items := st.uents[base:]
	slices.SortFunc(items, func(a, b uniqueEntry) int {
		switch {
		case a.h < b.h:
			return -1
		case a.h > b.h:
			return 1
		}
		return 0
	})
	for k := 1; k < len(items); k++ {
		for j := k - 1; j >= 0 && items[j].h == items[k].h; j-- {
			a, b := items[j], items[k]
			if bytes.Equal(st.ubuf[a.off:a.off+a.n], st.ubuf[b.off:b.off+b.n]) {
				return false
			}
		}
	}
	return true
}

// uniqueDecoded checks uniqueItems on an array that holds objects or arrays through encoding/json:
// duplicate member names and number forms then follow v5's view exactly.
func (st *state) uniqueDecoded(text []byte) bool {
	v, ok := decodeUseNumber(text)
	if !ok {
		st.bad = true
		return false
	}
	items, _ := v.([]any)
	if len(items) <= 20 {
		// v5 compares every pair, in this order, up to the first equal one.
		for i := 1; i < len(items); i++ {
			for j := 0; j < i; j++ {
				eq, p := v5Equal(items[i], items[j])
				if p {
					st.panicked = true
					return false
				}
				if eq {
					return false
				}
			}
		}
		return true
	}
	// Beyond 20 items v5 hashes each item in turn, which converts every number in it.
	seenForms := make(map[string]struct{}, len(items))
	for _, item := range items {
		if hasBadNumber(item) {
			st.panicked = true
			return false
		}
		canon, err := appendCanonicalValue(nil, item)
		if err != nil {
			st.panicked = true
			return false
		}
		if _, dup := seenForms[string(canon)]; dup {
			return false
		}
		seenForms[string(canon)] = struct{}{}
	}
	return true
}
