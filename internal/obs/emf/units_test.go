package emf

import "testing"

func TestUnits(t *testing.T) {
	if len(units) != 27 {
		t.Errorf("got %d units, want the 27 CloudWatch lists", len(units))
	}
	for _, u := range []Unit{"", Count, BytesPerSecond, None} {
		if !u.Valid() {
			t.Errorf("%q: got invalid, want valid", u)
		}
	}
	for _, u := range []Unit{"count", "Requests", "Bytes/Minute"} {
		if u.Valid() {
			t.Errorf("%q: got valid, want invalid", u)
		}
	}
}
