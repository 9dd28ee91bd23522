package settings

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestList(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"empty", "", nil},
		{"blanks", " , ,", nil},
		{"trimmed", " a, b ,c ", []string{"a", "b", "c"}},
		{"one", "com.example.*", []string{"com.example.*"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := List(tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNumbers(t *testing.T) {
	tests := []struct {
		name, value string
		want        int
		wantErr     bool
	}{
		{"unset", "", 7, false},
		{"set", " 12 ", 12, false},
		{"zero", "0", 0, true},
		{"negative", "-3", 0, true},
		{"not a number", "ten", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := envOf(map[string]string{"N": tt.value})
			got, err := PositiveInt(env, "N", 7)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("got %d, %v, want %d, error %v", got, err, tt.want, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "N") {
				t.Errorf("got error %q, want one naming N", err)
			}
			d, err := Millis(env, "N", 7*time.Millisecond)
			if (err != nil) != tt.wantErr || d != time.Duration(tt.want)*time.Millisecond {
				t.Errorf("got %s, %v, want %dms", d, err, tt.want)
			}
		})
	}
}

func TestRequired(t *testing.T) {
	if _, err := Required(envOf(nil), "STREAM_NAME"); err == nil || !strings.Contains(err.Error(), "STREAM_NAME") {
		t.Errorf("got %v, want an error naming STREAM_NAME", err)
	}
	if got, err := Required(envOf(map[string]string{"STREAM_NAME": " s "}), "STREAM_NAME"); got != "s" || err != nil {
		t.Errorf("got %q, %v, want s", got, err)
	}
}
