package fastschema

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/jsonbytes"
)

// checkSchemaAgreement compiles a generated schema with v5 and the fast path and reports any
// instance on which they disagree (a v5 panic counts as invalid).
func checkSchemaAgreement(t *testing.T, schemaText string, instances ...[]byte) {
	t.Helper()
	c := newV5Compiler("")
	s5, fast, err := compileBoth(t, c, "firelane:///gen.json", []byte(schemaText))
	if s5 == nil {
		return // v5 rejects the schema (a generated regex it cannot compile, say)
	}
	if err != nil {
		t.Fatalf("schema %s: %v", schemaText, err)
	}
	for _, inst := range instances {
		want, _ := v5Valid(s5, inst)
		if got := fast.Validate(inst); got != want {
			t.Fatalf("schema %s\ninstance %q\nfast path says valid=%v, v5 says %v", schemaText, inst, got, want)
		}
	}
}

// TestGeneratedSchemas runs a fixed sample of what FuzzSchemas explores.
func TestGeneratedSchemas(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	for i := 0; i < n; i++ {
		r := rand.New(rand.NewPCG(uint64(i), 7))
		schemaText := genSchema(r)
		var insts [][]byte
		for k := 0; k < 12; k++ {
			insts = append(insts, genInstance(r))
		}
		checkSchemaAgreement(t, schemaText, insts...)
	}
}

// FuzzSchemas compares the fast path with jsonschema/v5 on generated schemas from the supported
// subset: the seed picks the schema and a generated instance, and raw is tried as an instance too.
func FuzzSchemas(f *testing.F) {
	for i := uint64(0); i < 64; i++ {
		f.Add(i, i*31+5, []byte(`{"a":1,"a":"x","b":[1,1.0]}`))
	}
	f.Add(uint64(7), uint64(9), []byte("[\"\xff\",\"\\ud800\",1e400,12345678901234567890123]"))
	f.Fuzz(func(t *testing.T, schemaSeed, instSeed uint64, raw []byte) {
		schemaText := genSchema(rand.New(rand.NewPCG(schemaSeed, 1)))
		checkSchemaAgreement(t, schemaText, genInstance(rand.New(rand.NewPCG(instSeed, 2))), raw)
	})
}

var (
	workloadOnce   sync.Once
	workloadEvents *Events
	workloadRef    *workloadV5
	workloadLines  [][]byte
)

// FuzzEvents compares the fast path with encoding/json plus jsonschema/v5 on event text against the
// workload schemas, and checks the attributes it extracts against encoding/json's.
func FuzzEvents(f *testing.F) {
	workloadOnce.Do(func() { workloadEvents, workloadRef, workloadLines = loadWorkload(f) })
	for i := 0; i < len(workloadLines); i += len(workloadLines) / 40 {
		f.Add(workloadLines[i])
	}
	line := string(workloadLines[0])
	for _, s := range []string{
		strings.Replace(line, `"data":{`, `"data":{"device_id":"x","device_id":"dev-0ed90475",`, 1),
		strings.Replace(line, `"rssi_dbm":-56`, `"rssi_dbm":-56.0`, 1),
		strings.Replace(line, `"rssi_dbm":-56`, `"rssi_dbm":-5.6e1`, 1),
		strings.Replace(line, `"rssi_dbm":-56`, `"rssi_dbm":-12345678901234567890123`, 1),
		strings.Replace(line, `"rssi_dbm":-56`, `"rssi_dbm":-1e9999999`, 1),
		strings.Replace(line, `"subject":"s-0"`, "\"subject\":\"s-\xff\"", 1),
		strings.Replace(line, `"id":"`, `"id":"\ud800`, 1),
		strings.Replace(line, `"id":"`, `"data_base64":1,"time":"2026-11-25T+9:00:00Z","id":"`, 1),
		strings.Replace(line, `"type":"com.example.iot.telemetry"`, `"type":"com.example.iot.telemetry","type":1`, 1),
		strings.Replace(line, `"dataschema":"com.example.iot.telemetry/v1"`, `"dataschema":"com.example.iot.telemetry/v2"`, 1),
		strings.Replace(line, `"firmware":"2.1.11"`, `"firmware":`+strings.Repeat("[", 200)+strings.Repeat("]", 200), 1),
		line + " {}",
		`{"specversion":"1.0","id":"1","source":"/s","type":"com.example.web.page_view","data":{"url":"https://a.example/x","session_id":"f1d69ed6-17f5-4837-9708-20fe119a72d1","utm":{"source":"a","source":1}}}`,
		`{"specversion":"1.0","id":"1","source":"/s","type":"com.example.shop.order_placed","data":{"order_id":"ord_abcdefghijkl","currency":"EUR","total":1.50,"items":[{"sku":"a","quantity":2.0,"unit_price":0}],"customer":{"id":"c","email":"a.b@example.com"}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var a event.Attrs
		got := workloadEvents.Validate(raw, &a)
		want, _ := workloadRef.valid(raw)
		want = want && envelopeOK(raw) // the envelope rules every stage applies
		if (got == Valid) != want || got == Undecided {
			t.Fatalf("event %q: fast path says %v, v5 says valid=%v", raw, got, want)
		}
		if got != Valid {
			return
		}
		v, _ := decodeUseNumber(raw)
		m := v.(map[string]any)
		str := func(k string) string { s, _ := m[k].(string); return s }
		wantAttrs := event.Attrs{ID: str("id"), Type: str("type"), Source: str("source"), Subject: str("subject"), DataSchema: str("dataschema")}
		if a != wantAttrs {
			t.Fatalf("event %q: attributes %+v, want %+v", raw, a, wantAttrs)
		}
		if event.MajorVersion(a.DataSchema) < 1 {
			t.Fatalf("event %q: version below 1", raw)
		}
	})
}

// TestNestingLimit checks the depth at which encoding/json, and so the fast path, stop accepting
// text: 10000 nested containers are JSON, 10001 are not.
func TestNestingLimit(t *testing.T) {
	c := newV5Compiler("")
	for _, tc := range []struct {
		name   string
		schema string
	}{
		{"unconstrained", `{}`},
		{"items all the way down", `{"$defs":{"a":{"type":"array","items":{"$ref":"#/$defs/a"}}},"$ref":"#/$defs/a"}`},
	} {
		for _, depth := range []int{9999, 10000, 10001} {
			t.Run(fmt.Sprintf("%s/%d", tc.name, depth), func(t *testing.T) {
				s5, fast, err := compileBoth(t, c, fmt.Sprintf("firelane:///nesting-%d-%d.json", len(tc.schema), depth), []byte(tc.schema))
				if err != nil {
					t.Fatal(err)
				}
				text := []byte(strings.Repeat("[", depth) + strings.Repeat("]", depth))
				want, _ := v5Valid(s5, text)
				if want != (depth <= jsonbytes.MaxDepth) {
					t.Fatalf("v5 says valid=%v at depth %d", want, depth)
				}
				if got := fast.Validate(text); got != want {
					t.Errorf("got valid=%v, want %v", got, want)
				}
			})
		}
	}
}

// TestHostileInputIsLinear checks that uniqueItems, many members and long strings cost time in
// proportion to their size: doubling the input must not quadruple the work.
func TestHostileInputIsLinear(t *testing.T) {
	c := newV5Compiler("")
	_, fast, err := compileBoth(t, c, "firelane:///hostile.json", []byte(`{"type":"object","minProperties":1,
		"additionalProperties":{"type":"array","uniqueItems":true,"items":{"type":"string","maxLength":100000,"pattern":"^a*$"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	build := func(n int) []byte {
		var b bytes.Buffer
		b.WriteString("{")
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `"k%d":[`, i)
			for j := 0; j < 10; j++ {
				if j > 0 {
					b.WriteString(",")
				}
				fmt.Fprintf(&b, `"%d"`, i*10+j)
			}
			b.WriteString("]")
		}
		b.WriteString("}")
		return b.Bytes()
	}
	// The best of several runs, so that a busy machine does not decide the outcome.
	measure := func(text []byte) float64 {
		best := time.Duration(1 << 62)
		for k := 0; k < 7; k++ {
			start := time.Now()
			fast.Validate(text)
			if d := time.Since(start); d < best {
				best = d
			}
		}
		return float64(best)
	}
	small, large := build(2000), build(8000)
	if fast.Validate(small) {
		t.Fatal("the pattern ^a*$ must reject the digits")
	}
	ts, tl := measure(small), measure(large)
	if ratio := tl / ts; ratio > 10 {
		t.Errorf("4x the input took %.1fx the time (%.0f ns vs %.0f ns): not linear", ratio, tl, ts)
	}
}

// TestManyMembersWithDuplicates exercises the hash table that deduplicates member names once an
// object has many, against v5.
func TestManyMembersWithDuplicates(t *testing.T) {
	c := newV5Compiler("")
	s5, fast, err := compileBoth(t, c, "firelane:///many.json", []byte(`{"type":"object","maxProperties":40,
		"additionalProperties":{"type":"integer"},"patternProperties":{"^p":{"minimum":0}}}`))
	if err != nil {
		t.Fatal(err)
	}
	members := func(n int) []string {
		var m []string
		for i := 0; i < n; i++ {
			m = append(m, fmt.Sprintf(`"k%d":%d`, i, i))
		}
		return m
	}
	for _, tc := range []struct {
		name    string
		members []string
	}{
		{"40 distinct", members(40)},
		{"41 distinct", members(41)},
		{"40 plus a duplicate", append(members(40), `"k3":4`)},
		{"bad value replaced", append(append([]string{`"k0":"x"`}, members(30)...), `"k0":1`)},
		{"good value replaced by a bad one", append(members(30), `"k7":1.5`)},
		{"escaped duplicate", append(members(30), `"k\u0031":"x"`)},
		{"pattern member replaced", append(append([]string{`"p1":-1`}, members(20)...), `"p1":1`)},
		{"pattern member turned bad", append(append([]string{`"p1":1`}, members(20)...), `"p1":-1`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := []byte("{" + strings.Join(tc.members, ",") + "}")
			want, _ := v5Valid(s5, text)
			if got := fast.Validate(text); got != want {
				t.Errorf("got valid=%v, want %v", got, want)
			}
		})
	}
}

// TestDuplicateMembers checks that the last member of a name decides, as in a decoded map, also
// when an earlier one holds a number v5 would panic on.
func TestDuplicateMembers(t *testing.T) {
	c := newV5Compiler("")
	s5, fast, err := compileBoth(t, c, "firelane:///dups.json", []byte(`{"properties":{"a":{"minimum":0}},
		"additionalProperties":{"type":"integer"},"propertyNames":{"maxLength":1},"required":["a"]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{
		`{"a":-1,"a":1}`, `{"a":1,"a":-1}`, `{"a":1e9999999,"a":1}`, `{"a":1,"a":1e9999999}`,
		`{"b":1.5,"b":2}`, `{"b":2,"b":1.5}`, `{"b":1e9999999,"b":2}`, `{"a":1,"b":2,"b":-1e9999999}`,
		`{"a":1,"bb":1,"bb":2}`, `{"\u0061":-1,"a":2}`, `{"a":2,"\u0061":-1}`,
	} {
		want, _ := v5Valid(s5, []byte(text))
		if got := fast.Validate([]byte(text)); got != want {
			t.Errorf("%s: got valid=%v, want %v", text, got, want)
		}
	}
}

// envelopeOK reports whether event.CheckEnvelope accepts the event text, read as the stages read it.
func envelopeOK(raw []byte) bool {
	var v event.View
	_, err := event.ParseView(raw, jsonbytes.SkipSpace(raw, 0), 0, &v, new([]byte))
	return err == nil && event.CheckEnvelope(&v) == nil
}
