package fastschema

import "encoding/json"

// v5Equal compares two values decoded with UseNumber the way jsonschema/v5's equals does, and
// reports whether v5 would panic on the way (a number it cannot convert to big.Rat). v5 walks the
// members of an object in map order; this walks them in a, then b, lookup order, which decides
// the same equality and differs from v5 only in whether a panic is reached before a mismatch
// elsewhere in the same object.
func v5Equal(a, b any) (equal, panics bool) {
	switch a := a.(type) {
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false, false
		}
		for i := range a {
			if eq, p := v5Equal(a[i], b[i]); p || !eq {
				return false, p
			}
		}
		return true, false
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false, false
		}
		for k, av := range a {
			bv, found := b[k]
			if !found {
				return false, false
			}
			if eq, p := v5Equal(av, bv); p || !eq {
				return false, p
			}
		}
		return true, false
	case json.Number:
		b, ok := b.(json.Number)
		if !ok {
			return false, false
		}
		da, _ := parseDecimal([]byte(a), nil)
		db, _ := parseDecimal([]byte(b), nil)
		if da.ratBad || db.ratBad {
			return false, true
		}
		return cmpDecimal(da, db) == 0, false
	case string:
		b, ok := b.(string)
		return ok && a == b, false
	case bool:
		b, ok := b.(bool)
		return ok && a == b, false
	case nil:
		return b == nil, false
	}
	return false, false
}

// hasBadNumber reports whether v holds a number that math/big cannot convert.
func hasBadNumber(v any) bool {
	switch v := v.(type) {
	case []any:
		for _, x := range v {
			if hasBadNumber(x) {
				return true
			}
		}
	case map[string]any:
		for _, x := range v {
			if hasBadNumber(x) {
				return true
			}
		}
	case json.Number:
		d, _ := parseDecimal([]byte(v), nil)
		return d.ratBad
	}
	return false
}
