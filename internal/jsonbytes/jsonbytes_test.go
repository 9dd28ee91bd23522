package jsonbytes

import (
	"bytes"
	"encoding/json"
	"strings"
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
		{"high at end", `"a\ud83d"`},
		{"invalid utf-8", "\"a\xffb\xc3\""},
		{"invalid utf-8 by escape", "\"\xff\\n\xfe\""},
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

func TestSkipValue(t *testing.T) {
	tests := []struct {
		name, text string
		wantEnd    int // -1: an error
		wantFlags  Flags
	}{
		{"number", `-12.5e+3,`, 8, 0},
		{"leading zero", `01`, 1, 0},
		{"bare minus", `-`, -1, 0},
		{"string", `"a\nb" x`, 6, Escaped},
		{"non-ASCII key", `{"é":1}`, 8, NonASCII},
		{"nested", `{"a":[1,{"b":null}],"c":"x"}`, 28, 0},
		{"empty containers", `[{},[]]`, 7, 0},
		{"trailing comma", `[1,]`, -1, 0},
		{"missing colon", `{"a" 1}`, -1, 0},
		{"unclosed", `{"a":1`, -1, 0},
		{"control character", "\"a\tb\"", -1, 0},
		{"bad escape", `"\x"`, -1, 0},
		{"short unicode escape", `"\u12"`, -1, 0},
		{"bad literal", `nul`, -1, 0},
		{"too deep", strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), -1, 0},
		{"deepest", strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth), 2 * MaxDepth, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			end, f, err := SkipValue([]byte(tt.text), 0, 0)
			if tt.wantEnd < 0 {
				if err == nil {
					t.Fatalf("got end %d, want an error", end)
				}
				return
			}
			if err != nil || end != tt.wantEnd || f != tt.wantFlags {
				t.Errorf("got %d %b %v, want %d %b", end, f, err, tt.wantEnd, tt.wantFlags)
			}
		})
	}
}

func TestObject(t *testing.T) {
	text := []byte(` { "a" : 1 , "b\u0063":{"x":[]}, "a":"two" } `)
	o := NewObject(text, 1, 0)
	var got []string
	for {
		key, kf, _, more, err := o.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !more {
			break
		}
		if _, _, err := o.Skip(); err != nil {
			t.Fatal(err)
		}
		var buf []byte
		got = append(got, string(Value(key, kf, &buf)))
	}
	if want := "a bc a"; strings.Join(got, " ") != want {
		t.Errorf("got %q, want %q", strings.Join(got, " "), want)
	}
	if o.End() != len(text)-1 {
		t.Errorf("got end %d, want %d", o.End(), len(text)-1)
	}
}

func TestSkipLoose(t *testing.T) {
	tests := []struct {
		name, text string
		want       int
	}{
		{"string with escaped quote", `"a\"b" ,`, 6},
		{"string with escaped backslash", `"a\\" ,`, 5},
		{"object with brackets in strings", `{"a":"]}"} x`, 10},
		{"number", `123,`, 3},
		{"unclosed", `[1,2`, -1},
		{"missing", `,`, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SkipLoose([]byte(tt.text), 0); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

// FuzzAppendUnescaped checks that ScanString accepts exactly the string tokens encoding/json
// accepts, and every one of them against its decoding.
func FuzzAppendUnescaped(f *testing.F) {
	for _, s := range []string{`"a"`, `"\ud83d\ude00"`, `"\ud83d"`, "\"\xff\"", `"\n\u0000"`, `"\u00"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		b := []byte(token)
		if len(b) < 2 || b[0] != '"' {
			return
		}
		var want string
		jsonErr := json.Unmarshal(b, &want)
		end, flags, err := ScanString(b, 0)
		if scanned := err == nil && SkipSpace(b, end) == len(b); scanned != (jsonErr == nil) {
			t.Fatalf("%q: ScanString accepts it: %v, encoding/json: %v", token, scanned, jsonErr)
		}
		if _, ok := AppendUnquoted(nil, b); ok != (jsonErr == nil && end == len(b)) {
			t.Fatalf("%q: AppendUnquoted accepts it: %v", token, ok)
		}
		if jsonErr != nil {
			return
		}
		b = b[:end]
		body := b[1 : end-1]
		if got := string(AppendUnescaped(nil, body)); got != want {
			t.Fatalf("%q: got %q, want %q", token, got, want)
		}
		if (flags&Escaped != 0) != bytes.ContainsRune(body, '\\') {
			t.Fatalf("%q: Escaped flag is %v", token, flags&Escaped != 0)
		}
		var buf []byte
		if got := string(Value(body, flags, &buf)); got != want {
			t.Fatalf("%q: Value gives %q, want %q", token, got, want)
		}
		if Plain(body, flags) != (string(body) == want) {
			t.Fatalf("%q: Plain is %v", token, Plain(body, flags))
		}
		if got, ok := AppendUnquoted(nil, b); !ok || string(got) != want {
			t.Fatalf("%q: AppendUnquoted gives %q %v, want %q", token, got, ok, want)
		}
		if StringEnd(b, 0) != len(b) {
			t.Fatalf("%q: StringEnd is %d, want %d", token, StringEnd(b, 0), len(b))
		}
	})
}

// FuzzSkipValue holds the scanner to encoding/json: the same texts are valid, a value ends where
// encoding/json's decoder ends it, and an object's members are the ones encoding/json decodes.
func FuzzSkipValue(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":"c"}],"d":null}`, `[1e5,-0.5,"x\u00e9"]`, ` "a" `, `{"a":1,"a":2}`,
		`[1,]`, `{"a" 1}`, "\"\x01\"", `01`, `{"\u0061":true} false`, "[\"\xff\"]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if Valid(b) != json.Valid(b) {
			t.Fatalf("%q: Valid is %v, json.Valid %v", b, Valid(b), json.Valid(b))
		}
		i := SkipSpace(b, 0)
		end, flags, err := SkipValue(b, i, 0)
		dec := json.NewDecoder(bytes.NewReader(b))
		var raw json.RawMessage
		decErr := dec.Decode(&raw)
		if err != nil {
			if decErr == nil {
				t.Fatalf("%q: SkipValue rejects %q (%v), which encoding/json decodes", b, raw, err)
			}
			return
		}
		// encoding/json's decoder reads one value and ends it where SkipValue does, unless what
		// follows makes it refuse the value (as "1x" does).
		if !json.Valid(b[i:end]) {
			t.Fatalf("%q: SkipValue accepts %q, which is not JSON", b, b[i:end])
		}
		if decErr == nil && !bytes.Equal(raw, b[i:end]) {
			t.Fatalf("%q: value is %q, encoding/json's is %q", b, b[i:end], raw)
		}
		if (flags&NonASCII != 0) != bytes.ContainsFunc(b[i:end], func(r rune) bool { return r >= 0x80 || r == 0xFFFD }) {
			t.Fatalf("%q: NonASCII flag is %v", b, flags&NonASCII != 0)
		}
		if b[i] == '{' || b[i] == '[' {
			if loose := SkipLoose(b, i); loose != end {
				t.Fatalf("%q: SkipLoose ends the value at %d, want %d", b, loose, end)
			}
		}
		if b[i] != '{' {
			return
		}
		var want map[string]json.RawMessage
		if err := json.Unmarshal(b[i:end], &want); err != nil {
			t.Fatalf("%q: encoding/json does not decode the object: %v", b[i:end], err)
		}
		got := map[string]json.RawMessage{}
		o := NewObject(b, i, 0)
		for {
			key, kf, val, more, err := o.Next()
			if err != nil {
				t.Fatalf("%q: Next: %v", b, err)
			}
			if !more {
				break
			}
			vend, _, err := o.Skip()
			if err != nil {
				t.Fatalf("%q: Skip: %v", b, err)
			}
			var buf []byte
			got[string(Value(key, kf, &buf))] = b[val:vend]
		}
		if o.End() != end || len(got) != len(want) {
			t.Fatalf("%q: got %d members ending at %d, want %d ending at %d", b, len(got), o.End(), len(want), end)
		}
		for k, v := range want {
			if !bytes.Equal(got[k], v) {
				t.Fatalf("%q: member %q is %q, want %q", b, k, got[k], v)
			}
		}
	})
}
