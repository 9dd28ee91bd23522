package schema

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/fastschema"
)

// MaxExactExponent bounds the numbers jsonschema/v5 computes with exactly. v5 turns every number a
// keyword looks at into a math/big rational, so 1e999999 costs it a million-digit integer (about a
// tenth of a second each): an event of a few kilobytes took seconds to explain. No keyword of a
// schema needs such a number's digits: a number whose magnitude is beyond 10^MaxExactExponent, or a
// nonzero one below 10^-MaxExactExponent, compares with every bound a schema writes (all within
// ±1e400, far past float64's 1.8e308) and is an integer or not exactly as a proxy of the same sign
// at 10^(±(MaxExactExponent+1)) is. The proxy replaces it before v5 sees it; reasons name it as
// "a number beyond ±1e400". enum, const and multipleOf are the keywords a proxy can judge
// differently from the number itself; the fast path, which decides acceptance whenever it compiled
// the schema, computes with the exact decimal.
const MaxExactExponent = 400

var proxyText = regexp.MustCompile(`-?1e-?` + strconv.Itoa(MaxExactExponent+1) + `\b`)

// proxied returns the proxy of a JSON number's text when its magnitude is out of exact range.
func proxied(n json.Number) (json.Number, bool) {
	s := string(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, expText, hasExp := strings.Cut(strings.ToLower(s), "e")
	if !hasExp {
		return n, false // every digit is written out, so v5's work is linear in the text
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	// k is the decimal exponent of the leading nonzero digit, before the written exponent.
	k, found := 0, false
	if j := strings.IndexFunc(intPart, func(r rune) bool { return r != '0' }); j >= 0 {
		k, found = len(intPart)-j-1, true
	} else if j := strings.IndexFunc(frac, func(r rune) bool { return r != '0' }); j >= 0 {
		k, found = -(j + 1), true
	}
	if !found {
		return "0", true // 0e999999 is 0
	}
	expNeg := strings.HasPrefix(expText, "-")
	expText = strings.TrimLeft(strings.TrimLeft(expText, "+-"), "0")
	if len(expText) > 9 { // beyond any bound, and beyond int32
		expText = "999999999"
	}
	exp, _ := strconv.Atoi(expText) // the decoder accepted the text, so the digits are digits
	if expNeg {
		exp = -exp
	}
	k += exp
	if k >= -MaxExactExponent && k <= MaxExactExponent {
		return n, false
	}
	p := "1e" + strconv.Itoa(MaxExactExponent+1)
	if k < 0 {
		p = "1e-" + strconv.Itoa(MaxExactExponent+1)
	}
	if neg {
		p = "-" + p
	}
	return json.Number(p), true
}

// bound replaces, in a value encoding/json decoded with UseNumber, every number out of exact range
// by its proxy, and reports whether it replaced any.
func bound(v any) (any, bool) {
	switch t := v.(type) {
	case json.Number:
		return proxied(t)
	case map[string]any:
		any := false
		for k, e := range t {
			if b, ok := bound(e); ok {
				t[k], any = b, true
			}
		}
		return t, any
	case []any:
		any := false
		for i, e := range t {
			if b, ok := bound(e); ok {
				t[i], any = b, true
			}
		}
		return t, any
	}
	return v, false
}

// renameProxies rewrites the proxies in v5's messages as what they stand for.
func renameProxies(rs []event.Reason) {
	for i := range rs {
		rs[i].Message = proxyText.ReplaceAllLiteralString(rs[i].Message, "a number beyond ±1e"+strconv.Itoa(MaxExactExponent))
	}
}

// KeywordUnexplained is the keyword of the one reason an event gets when it was rejected without
// its reasons being computed (see [Registry.Decide]).
const KeywordUnexplained = "unexplained"

// Decide validates raw with the fast path alone, when it can decide: ok is false when the event's
// data schema is one the fast path declined, or the registry has no fast path, and the caller must
// use [Registry.ValidateJSON]. A rejected event's Result carries one reason with keyword
// [KeywordUnexplained] instead of v5's details, for a caller whose time for explaining is spent.
func (r *Registry) Decide(raw []byte) (res Result, ok bool) {
	if r.fast == nil {
		return Result{}, false
	}
	var a event.Attrs
	switch r.fast.Validate(raw, &a) {
	case fastschema.Valid:
		return Result{Entry: r.entries[Key{a.Type, event.MajorVersion(a.DataSchema)}], Attrs: a}, true
	case fastschema.Invalid:
		return Result{
			Entry: r.entries[Key{a.Type, event.MajorVersion(a.DataSchema)}], Attrs: a,
			Reasons: []event.Reason{{Keyword: KeywordUnexplained,
				Message: "rejected by its schema; the reasons were not computed because the request's time for explaining rejections ran out: send fewer invalid events at once to see them"}},
		}, true
	}
	return Result{}, false
}
