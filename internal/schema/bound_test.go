package schema

import (
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"
)

func TestProxied(t *testing.T) {
	tests := []struct {
		in, want string
		replaced bool
	}{
		{"1", "1", false},
		{"1e400", "1e400", false},
		{"9.99e400", "9.99e400", false},
		{"10e400", "1e401", true},
		{"1e401", "1e401", true},
		{"1e999999", "1e401", true},
		{"-1e999999", "-1e401", true},
		{"1e-400", "1e-400", false},
		{"0.1e-400", "1e-401", true},
		{"1e-999999", "1e-401", true},
		{"-0.000e-999999", "0", true},
		{"0e999999", "0", true},
		{"123456.5E+000000000000000000000003", "123456.5E+000000000000000000000003", false},
		{"1E+0000000000000000000000000999999", "1e401", true},
		{"0.0001e404", "0.0001e404", false},
		{"0.0001e405", "1e401", true},
		{strings.Repeat("9", 500), strings.Repeat("9", 500), false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := proxied(json.Number(tt.in))
			if string(got) != tt.want || ok != tt.replaced {
				t.Errorf("got %s %v, want %s %v", got, ok, tt.want, tt.replaced)
			}
		})
	}
}

// TestHugeExponentsAreExplainedQuickly: an event whose numbers have enormous exponents, where a
// keyword needs their value, used to take seconds (v5 builds a million-digit integer per number);
// it is explained at once, with the reasons v5 gives for the proxy, named for what it stands for.
func TestHugeExponentsAreExplainedQuickly(t *testing.T) {
	reg, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	item := `{"sku":"a","quantity":1e999999,"unit_price":-1e999999},`
	ev := `{"specversion":"1.0","id":"1","source":"/s","type":"com.acme.shop.order_placed","data":{"order_id":"ord-abcdef","customer_email":"a@b.c","currency":"EUR","total":1e-999999,"items":[` +
		strings.Repeat(item, 400) + `{"sku":"a","quantity":1,"unit_price":1}]}}`
	for _, v := range []Validator{ValidatorFast, ValidatorV5} {
		t.Run(string(v), func(t *testing.T) {
			if err := reg.SetValidator(v); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			res := reg.ValidateJSON([]byte(ev), 0)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v for a %d-byte event", d, len(ev))
			}
			if res.Valid() || len(res.Reasons) < 800 {
				t.Fatalf("got %d reasons, want the 800+ the items break", len(res.Reasons))
			}
			for _, r := range res.Reasons {
				if strings.Contains(r.Message, "1e401") || strings.Contains(r.Message, "999999") {
					t.Fatalf("reason %+v names the proxy or quotes the number", r)
				}
			}
		})
	}
}

// FuzzProxied checks the stand-in rule on any number text encoding/json accepts: a number left as
// it is has a magnitude within 10^±MaxExactExponent (or is written without an exponent); a stand-in
// keeps the sign, and stands only for a number out of that range (or for zero).
func FuzzProxied(f *testing.F) {
	for _, s := range []string{"1", "1e400", "10e400", "-1e999999", "0.1e-400", "0e5", "123.456e-7", "9e-401"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var n json.Number
		if json.Unmarshal([]byte(s), &n) != nil || !strings.ContainsAny(string(n), "eE") || len(s) > 64 {
			return
		}
		got, replaced := proxied(n)
		v, _, err := big.ParseFloat(string(n), 10, 64, big.ToNearestEven)
		if err != nil || v.IsInf() {
			if !replaced {
				t.Fatalf("%s is beyond big.Float's exponent range, yet left for v5", n)
			}
			return
		}
		if !replaced {
			if got != n {
				t.Fatalf("%s: left as %s", n, got)
			}
			if v.Sign() != 0 {
				e := v.MantExp(nil)
				if e > 4*MaxExactExponent || e < -4*MaxExactExponent { // 2^e; |log10| ≤ 400 ⇒ |e| ≤ 1330
					t.Fatalf("%s kept though its binary exponent is %d", n, e)
				}
			}
			return
		}
		if got == "0" {
			if v.Sign() != 0 {
				t.Fatalf("%s stood in for by 0", n)
			}
			return
		}
		if (got[0] == '-') != (v.Sign() < 0) {
			t.Fatalf("%s stood in for by %s: the sign changed", n, got)
		}
		if e := v.MantExp(nil); e > -1300 && e < 1300 {
			t.Fatalf("%s (binary exponent %d) stood in for by %s though it is within range", n, e, got)
		}
	})
}
