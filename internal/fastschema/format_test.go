package fastschema

import (
	"strconv"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// TestDateAgreesWithV5 checks the hand-written date check against v5's on the edges of the format.
func TestDateAgreesWithV5(t *testing.T) {
	v5 := jsonschema.Formats["date"]
	for _, s := range []string{"2026-11-25", "2024-02-29", "2023-02-29", "2100-02-29", "2000-02-29", "0000-01-01", "9999-12-31",
		"2026-04-31", "2026-13-01", "2026-00-10", "2026-01-00", "2026-1-01", "+026-01-01", "2026-01-+1", "2026/01/01",
		"2026-01-01T", "2026-01-0a", "", "20260101", "2026-12-32"} {
		if got, want := isDate(s), v5(s); got != want {
			t.Errorf("isDate(%q): got %v, v5 says %v", s, got, want)
		}
	}
}

// TestInRangeIsAtoi checks inRange against strconv.Atoi on every string of two bytes, and on a few
// others.
func TestInRangeIsAtoi(t *testing.T) {
	check := func(s string) {
		n, err := strconv.Atoi(s)
		wantOK := err == nil && n >= 0 && n <= 59
		if !wantOK {
			n = 0
		}
		if got, ok := inRange(s, 0, 59); got != n || ok != wantOK {
			t.Fatalf("inRange(%q, 0, 59): got %d %v, want %d %v", s, got, ok, n, wantOK)
		}
	}
	for a := range 256 {
		for b := range 256 {
			check(string([]byte{byte(a), byte(b)}))
		}
	}
	for _, s := range []string{"", "5", "+5", "-0", "059", "60", "007", " 5"} {
		check(s)
	}
}
