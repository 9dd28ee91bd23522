package jsontext

import (
	"encoding/json"
	"testing"
)

func TestAppendUnescaped(t *testing.T) {
	tests := []struct{ name, token string }{
		{"plain", `"abc"`},
		{"escapes", `"a\"b\\c\/d\be\ff\ng\rh\ti"`},
		{"unicode", `"\u00e9\u4e2d"`},
		{"pair", `"\ud83d\ude00"`},
		{"lone high", `"\ud83dx"`},
		{"lone low", `"\ude00"`},
		{"high then non-low", `"\ud83d\u0041"`},
		{"invalid utf-8", "\"a\xffb\xc3\""},
		{"raw multibyte", `"héllo 中"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want string
			if err := json.Unmarshal([]byte(tt.token), &want); err != nil {
				t.Fatal(err)
			}
			got := string(AppendUnescaped(nil, []byte(tt.token[1:len(tt.token)-1])))
			if got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

// FuzzAppendUnescaped checks every string token encoding/json accepts against its decoding.
func FuzzAppendUnescaped(f *testing.F) {
	for _, s := range []string{`"a"`, `"\ud83d\ude00"`, `"\ud83d"`, "\"\xff\"", `"\n\u0000"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		var want string
		if len(token) < 2 || token[0] != '"' || token[len(token)-1] != '"' || json.Unmarshal([]byte(token), &want) != nil {
			return
		}
		if got := string(AppendUnescaped(nil, []byte(token[1:len(token)-1]))); got != want {
			t.Fatalf("%q: got %q, want %q", token, got, want)
		}
	})
}
