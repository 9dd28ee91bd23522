package transform

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"testing"
)

func TestBase64AgreesWithStandardLibrary(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 300; n++ {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(rng.IntN(256))
		}
		want := base64.StdEncoding.EncodeToString(src)
		if got := string(appendBase64([]byte("x"), src)); got != "x"+want {
			t.Fatalf("encode %d bytes: got %q, want %q", n, got, "x"+want)
		}
		dst := make([]byte, base64.StdEncoding.DecodedLen(len(want))+2)
		k, err := decodeBase64(dst, []byte(want))
		if err != nil || !bytes.Equal(dst[:k], src) {
			t.Fatalf("decode %d bytes: got %x, %v; want %x", n, dst[:k], err, src)
		}
	}
}

func FuzzDecodeBase64(f *testing.F) {
	for _, s := range []string{"", "SGVsbG8gV29ybGQ=", "SGVsbG8gV29ybGQ", "SGVs\nbG8gV29ybGQ=", "SGVsbG8*V29ybGQ=", "AAAAAAAAAAAAAAAA====", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		want := make([]byte, base64.StdEncoding.DecodedLen(len(src)))
		wn, werr := base64.StdEncoding.Decode(want, src)
		got := make([]byte, base64.StdEncoding.DecodedLen(len(src))+2)
		gn, gerr := decodeBase64(got, src)
		if (werr == nil) != (gerr == nil) || (werr == nil && !bytes.Equal(got[:gn], want[:wn])) {
			t.Fatalf("decode %q: got %x, %v; want %x, %v", src, got[:gn], gerr, want[:wn], werr)
		}
		if werr != nil && werr.Error() != gerr.Error() {
			t.Fatalf("decode %q: got error %v, want %v", src, gerr, werr)
		}
	})
}

func BenchmarkBase64(b *testing.B) {
	src := make([]byte, 3<<20)
	for i := range src {
		src[i] = byte(i * 7)
	}
	enc := []byte(base64.StdEncoding.EncodeToString(src))
	dst := make([]byte, len(src)+8)
	b.Run("decode/table", func(b *testing.B) {
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			decodeBase64(dst, enc)
		}
	})
	b.Run("decode/std", func(b *testing.B) {
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			base64.StdEncoding.Decode(dst, enc)
		}
	})
	out := make([]byte, 0, len(enc))
	b.Run("encode/table", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			appendBase64(out[:0], src)
		}
	})
	b.Run("encode/std", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			base64.StdEncoding.Encode(out[:len(enc)], src)
		}
	})
}
