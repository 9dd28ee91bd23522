package fastschema

import (
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
