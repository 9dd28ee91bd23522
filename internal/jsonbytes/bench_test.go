package jsonbytes

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

// The benchmarks compare each hand-written piece with encoding/json and with
// github.com/go-json-experiment/json/jsontext (the standard library's encoding/json/jsontext still
// needs GOEXPERIMENT=jsonv2), on the shared workload: the figures in the package documentation.

func workload(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "workload", "out", name))
	if err != nil {
		tb.Skipf("shared workload not found (it sits beside the repository as ../shared): %v", err)
	}
	return b
}

// events returns the first n events of events.ndjson.
func events(tb testing.TB, n int) (lines [][]byte, size int64) {
	for _, l := range bytes.SplitN(workload(tb, "events.ndjson"), []byte("\n"), n+1)[:n] {
		lines = append(lines, l)
		size += int64(len(l))
	}
	return lines, size
}

// apigwBody returns the body member of an API Gateway batch request: a long string full of
// escaped quotes.
func apigwBody(tb testing.TB) []byte {
	payload := workload(tb, "apigw-batch-500.json")
	i := bytes.Index(payload, []byte(`"body": "`)) + len(`"body": `)
	end, _, err := ScanString(payload, i)
	if err != nil {
		tb.Fatal(err)
	}
	return payload[i:end]
}

func BenchmarkValid(b *testing.B) {
	lines, size := events(b, 2000)
	valid := map[string]func([]byte) bool{
		"jsonbytes": func(l []byte) bool {
			end, _, err := SkipValue(l, 0, 0)
			return err == nil && end == len(l)
		},
		"encoding-json": json.Valid,
		"jsontext":      func(l []byte) bool { return jsontext.Value(l).IsValid(v1Options...) },
	}
	for _, name := range []string{"jsonbytes", "encoding-json", "jsontext"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(size)
			for b.Loop() {
				for _, l := range lines {
					if !valid[name](l) {
						b.Fatal("invalid event")
					}
				}
			}
		})
	}
}

// BenchmarkMembers walks the top-level members of each event, keys decoded and values skipped, as
// the stages read records.
func BenchmarkMembers(b *testing.B) {
	lines, size := events(b, 2000)
	b.Run("jsonbytes", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(size)
		var buf []byte
		for b.Loop() {
			for _, l := range lines {
				o := NewObject(l, 0, 0)
				for {
					key, kf, _, more, err := o.Next()
					if err != nil {
						b.Fatal(err)
					}
					if !more {
						break
					}
					_ = Value(key, kf, &buf)
					if _, _, err := o.Skip(); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
	})
	b.Run("jsontext", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(size)
		r := bytes.NewReader(nil)
		dec := jsontext.NewDecoder(r, v1Options...)
		for b.Loop() {
			for _, l := range lines {
				r.Reset(l)
				dec.Reset(r, v1Options...)
				if _, err := dec.ReadToken(); err != nil {
					b.Fatal(err)
				}
				for dec.PeekKind() != '}' {
					if _, err := dec.ReadValue(); err != nil { // the name, unquoted on demand
						b.Fatal(err)
					}
					if err := dec.SkipValue(); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
	})
}

func BenchmarkString(b *testing.B) {
	body := apigwBody(b)
	b.Run("ScanString", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if end, _, err := ScanString(body, 0); err != nil || end != len(body) {
				b.Fatal(end, err)
			}
		}
	})
	b.Run("StringEnd", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if end := StringEnd(body, 0); end != len(body) {
				b.Fatal(end)
			}
		}
	})
	b.Run("encoding-json-Valid", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if !json.Valid(body) {
				b.Fatal("invalid")
			}
		}
	})
}

func BenchmarkUnquote(b *testing.B) {
	body := apigwBody(b)
	b.Run("jsonbytes", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		var dst []byte
		for b.Loop() {
			end, f, err := ScanString(body, 0)
			if err != nil {
				b.Fatal(err)
			}
			dst = Value(body[1:end-1], f, &dst)
		}
	})
	b.Run("AppendUnquoted", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		var dst []byte
		for b.Loop() {
			var ok bool
			if dst, ok = AppendUnquoted(dst[:0], body); !ok {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var s string
			if err := json.Unmarshal(body, &s); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("jsontext", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		var dst []byte
		for b.Loop() {
			var err error
			if dst, err = jsontext.AppendUnquote(dst[:0], body); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkUnescape unescapes a token already known to be valid, as the scanners do once they
// have scanned it: the long body, and the short strings of an event.
func BenchmarkUnescape(b *testing.B) {
	tokens := map[string][]byte{
		"body":  apigwBody(b),
		"short": []byte(`"com.example.web.page_view \u00e9\"quoted\""`),
	}
	for _, name := range []string{"body", "short"} {
		tok := tokens[name]
		b.Run(name+"/AppendUnescaped", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(tok)))
			var dst []byte
			for b.Loop() {
				dst = AppendUnescaped(dst[:0], tok[1:len(tok)-1])
			}
		})
		b.Run(name+"/jsontext", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(tok)))
			var dst []byte
			for b.Loop() {
				dst, _ = jsontext.AppendUnquote(dst[:0], tok)
			}
		})
	}
}
