package lake

import (
	"path"
	"regexp"
	"strings"
	"testing"
	"time"
)

var segment = regexp.MustCompile(`^[a-z0-9_-]([a-z0-9_.-]*[a-z0-9_-])?$`)

func TestSafeValueKeepsHostileValuesInTheirPrefix(t *testing.T) {
	long := strings.Repeat("a", 1<<20)
	for _, tc := range []struct{ name, in, want string }{
		{"safe type unchanged", "com.example.web.page_view", "com.example.web.page_view"},
		{"upper case", "Com.Example.X", "com.example.x"},
		{"slash", "a/b", "a_b"},
		{"parent", "..", "__"},
		{"parent path", "../../etc/passwd", "_._.__etc_passwd"},
		{"dots", "a..b...c", "a._b._.c"},
		{"leading and trailing dots", ".a.", "_a_"},
		{"single dot", ".", "_"},
		{"empty", "", "_"},
		{"control characters", "a\x00b\nc\x7f", "a_b_c_"},
		{"non-ASCII", "é/ü", "_____"},
		{"prefix expression", "!{timestamp:yyyy}", "__timestamp_yyyy_"},
		{"overlong", long, ""},
		{"overlong with hostile tail", strings.Repeat("b", MaxTypeLength) + "/../x", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := SafeValue(tc.in)
			if tc.want != "" && got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if len(got) > MaxTypeLength || !segment.MatchString(got) || strings.Contains(got, "..") {
				t.Fatalf("got %q, which is not one safe segment", got)
			}
			if string(AppendSafeValue([]byte("x"), []byte(tc.in))) != "x"+got {
				t.Errorf("AppendSafeValue disagrees with SafeValue")
			}
			keys := PartitionKeys(tc.in, 1, time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))
			key, err := Expand(EventsPrefix, keys, "", time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if want := "events/event_type=" + got + "/event_version=1/year=2026/month=11/day=25/hour=09/"; key != want {
				t.Fatalf("got prefix %q, want %q", key, want)
			}
			if path.Clean(key)+"/" != key || strings.Count(key, "/") != 7 {
				t.Fatalf("prefix %q does not stay where it belongs", key)
			}
		})
	}
	a, b := SafeValue(long), SafeValue(long+"x")
	if a == b || len(a) != MaxTypeLength {
		t.Errorf("overlong values that share a prefix: got %q and %q, want distinct values of %d bytes", a, b, MaxTypeLength)
	}
}

func TestSafeValueDoesNotAllocateForSafeValues(t *testing.T) {
	v := strings.Clone("com.example.iot.telemetry")
	if n := testing.AllocsPerRun(100, func() { _ = SafeValue(v) }); n != 0 {
		t.Errorf("got %v allocations, want 0", n)
	}
}

func FuzzSafeValue(f *testing.F) {
	for _, s := range []string{"", ".", "..", "a/b", "com.example.x", "\x00", strings.Repeat(".", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got := SafeValue(v)
		if len(got) > MaxTypeLength || !segment.MatchString(got) || strings.Contains(got, "..") {
			t.Fatalf("SafeValue(%q) = %q, which is not one safe segment", v, got)
		}
		if SafeValue(got) != got {
			t.Fatalf("SafeValue is not idempotent on %q", got)
		}
	})
}
