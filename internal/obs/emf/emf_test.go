package emf_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firelane/firelane/internal/obs/emf"
	"github.com/firelane/firelane/internal/obs/emf/emftest"
)

var ts = time.Date(2026, 11, 25, 9, 1, 1, 0, time.UTC)

func doc() emf.Document {
	return emf.Document{
		Namespace:  "firelane",
		Timestamp:  ts,
		Dimensions: []emf.Dimension{{"FunctionName", "ingest"}},
		Metrics:    []emf.Metric{{Name: "Accepted", Unit: emf.Count, Values: []float64{3}}},
	}
}

func TestEncodeGolden(t *testing.T) {
	d := doc()
	d.Dimensions = append(d.Dimensions, emf.Dimension{"EventType", "com.acme.web.page_view"})
	d.DimensionSets = [][]string{{"FunctionName"}, {"FunctionName", "EventType"}}
	d.Metrics = append(d.Metrics, emf.Metric{Name: "Lateness", Unit: emf.Milliseconds, StorageResolution: 1, Values: []float64{12, 0.5}})
	d.Properties = map[string]any{"request_id": "r-1"}
	got, err := d.Encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Accepted":3,"EventType":"com.acme.web.page_view","FunctionName":"ingest","Lateness":[12,0.5],` +
		`"_aws":{"Timestamp":1795597261000,"CloudWatchMetrics":[{"Namespace":"firelane",` +
		`"Dimensions":[["FunctionName"],["FunctionName","EventType"]],` +
		`"Metrics":[{"Name":"Accepted","Unit":"Count"},{"Name":"Lateness","Unit":"Milliseconds","StorageResolution":1}]}]},` +
		`"request_id":"r-1"}` + "\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if err := emftest.Verify(got); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

func TestNoDimensions(t *testing.T) {
	d := doc()
	d.Dimensions = nil
	got, err := d.Encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(got, []byte(`"Dimensions":[[]]`)) {
		t.Errorf("got %s, want one empty dimension set", got)
	}
	if err := emftest.Verify(got); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

func TestValidate(t *testing.T) {
	many := func(n int, f func(i int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	tests := []struct {
		name   string
		change func(d *emf.Document)
		want   string // a fragment of the error; empty when valid
	}{
		{"valid", func(d *emf.Document) {}, ""},
		{"empty namespace", func(d *emf.Document) { d.Namespace = "" }, "namespace"},
		{"long namespace", func(d *emf.Document) { d.Namespace = strings.Repeat("n", 256) }, "namespace"},
		{"255-character namespace", func(d *emf.Document) { d.Namespace = strings.Repeat("n", 255) }, ""},
		{"reserved namespace", func(d *emf.Document) { d.Namespace = "AWS/Lambda" }, "reserved"},
		{"no timestamp", func(d *emf.Document) { d.Timestamp = time.Time{} }, "timestamp"},
		{"no metrics", func(d *emf.Document) { d.Metrics = nil }, "no metrics"},
		{"101 metrics", func(d *emf.Document) {
			for i := range 100 {
				d.Metrics = append(d.Metrics, emf.Metric{Name: fmt.Sprint("m", i), Values: []float64{1}})
			}
		}, "at most 100"},
		{"100 metrics", func(d *emf.Document) {
			for i := range 99 {
				d.Metrics = append(d.Metrics, emf.Metric{Name: fmt.Sprint("m", i), Values: []float64{1}})
			}
		}, ""},
		{"31 dimensions", func(d *emf.Document) {
			d.Dimensions = nil
			for _, n := range many(31, func(i int) string { return fmt.Sprint("d", i) }) {
				d.Dimensions = append(d.Dimensions, emf.Dimension{n, "v"})
			}
		}, "at most 30"},
		{"30 dimensions", func(d *emf.Document) {
			d.Dimensions = nil
			for _, n := range many(30, func(i int) string { return fmt.Sprint("d", i) }) {
				d.Dimensions = append(d.Dimensions, emf.Dimension{n, "v"})
			}
		}, ""},
		{"set names an unknown dimension", func(d *emf.Document) { d.DimensionSets = [][]string{{"Nope"}} }, "no value"},
		{"set names a dimension twice", func(d *emf.Document) { d.DimensionSets = [][]string{{"FunctionName", "FunctionName"}} }, "twice"},
		{"empty dimension value", func(d *emf.Document) { d.Dimensions[0].Value = "" }, "value"},
		{"blank dimension value", func(d *emf.Document) { d.Dimensions[0].Value = "   " }, "value"},
		{"1025-character dimension value", func(d *emf.Document) { d.Dimensions[0].Value = strings.Repeat("v", 1025) }, "value"},
		{"1024-character dimension value", func(d *emf.Document) { d.Dimensions[0].Value = strings.Repeat("v", 1024) }, ""},
		{"non-ASCII dimension value", func(d *emf.Document) { d.Dimensions[0].Value = "café" }, "value"},
		{"control character in dimension value", func(d *emf.Document) { d.Dimensions[0].Value = "a\nb" }, "value"},
		{"dimension name with colon", func(d *emf.Document) { d.Dimensions[0].Name = ":x" }, "colon"},
		{"metric name clashes with a dimension", func(d *emf.Document) { d.Metrics[0].Name = "FunctionName" }, "twice"},
		{"metric name clashes with a property", func(d *emf.Document) { d.Properties = map[string]any{"Accepted": 1} }, "twice"},
		{"metric named _aws", func(d *emf.Document) { d.Metrics[0].Name = "_aws" }, "twice"},
		{"duplicate metric", func(d *emf.Document) { d.Metrics = append(d.Metrics, d.Metrics[0]) }, "twice"},
		{"invalid unit", func(d *emf.Document) { d.Metrics[0].Unit = "Requests" }, "unit"},
		{"high resolution", func(d *emf.Document) { d.Metrics[0].StorageResolution = 1 }, ""},
		{"standard resolution", func(d *emf.Document) { d.Metrics[0].StorageResolution = 60 }, ""},
		{"invalid resolution", func(d *emf.Document) { d.Metrics[0].StorageResolution = 30 }, "resolution"},
		{"no values", func(d *emf.Document) { d.Metrics[0].Values = nil }, "no values"},
		{"101 values", func(d *emf.Document) { d.Metrics[0].Values = make([]float64, 101) }, "at most 100"},
		{"NaN", func(d *emf.Document) { d.Metrics[0].Values = []float64{math.NaN()} }, "finite"},
		{"infinity", func(d *emf.Document) { d.Metrics[0].Values = []float64{math.Inf(-1)} }, "finite"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := doc()
			tt.change(&d)
			err := d.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("got %v, want no error", err)
			case tt.want != "" && err == nil:
				t.Fatalf("got no error, want one about %q", tt.want)
			case tt.want != "" && (!errors.Is(err, emf.ErrInvalid) || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("got %v, want an ErrInvalid about %q", err, tt.want)
			}
			out, encErr := d.Encode(nil)
			if tt.want == "" {
				if encErr != nil {
					t.Fatalf("Encode: %v", encErr)
				}
				for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
					if err := emftest.Verify(line); err != nil {
						t.Errorf("Verify: %v", err)
					}
				}
			}
		})
	}
}

// TestSplit checks that documents beyond the limits are spread over valid documents that carry
// every value exactly once.
func TestSplit(t *testing.T) {
	tests := []struct {
		name              string
		metrics, values   int
		wantDocs, wantMax int
	}{
		{"fits", 100, 100, 1, 100},
		{"250 metrics", 250, 1, 3, 100},
		{"250 values", 1, 250, 3, 1},
		{"150 metrics of 150 values", 150, 150, 4, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := doc()
			d.Metrics = nil
			want := map[string][]float64{}
			for i := range tt.metrics {
				m := emf.Metric{Name: fmt.Sprint("m", i), Unit: emf.Count}
				for j := range tt.values {
					m.Values = append(m.Values, float64(i*1000+j))
				}
				d.Metrics = append(d.Metrics, m)
				want[m.Name] = m.Values
			}
			out, err := d.Encode(nil)
			if err != nil {
				t.Fatal(err)
			}
			lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
			if len(lines) != tt.wantDocs {
				t.Errorf("got %d documents, want %d", len(lines), tt.wantDocs)
			}
			got := map[string][]float64{}
			most := 0
			for _, line := range lines {
				if err := emftest.Verify(line); err != nil {
					t.Fatalf("Verify: %v", err)
				}
				var root map[string]any
				if err := json.Unmarshal(line, &root); err != nil {
					t.Fatal(err)
				}
				n := 0
				for k, v := range root {
					if !strings.HasPrefix(k, "m") {
						continue
					}
					n++
					switch v := v.(type) {
					case float64:
						got[k] = append(got[k], v)
					case []any:
						for _, x := range v {
							got[k] = append(got[k], x.(float64))
						}
					}
				}
				most = max(most, n)
			}
			if most != tt.wantMax {
				t.Errorf("got at most %d metrics in a document, want %d", most, tt.wantMax)
			}
			for k, v := range want {
				if !slices.Equal(got[k], v) {
					t.Errorf("metric %s: got %d values, want %d, in order", k, len(got[k]), len(v))
				}
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	ok := `{"FunctionName":"f","A":1,"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["FunctionName"]],"Metrics":[{"Name":"A","Unit":"Count"}]}]}}`
	if err := emftest.Verify([]byte(ok)); err != nil {
		t.Fatalf("valid line: %v", err)
	}
	tests := []struct{ name, line string }{
		{"not JSON", `{"_aws":`},
		{"no _aws", `{"A":1}`},
		{"no timestamp", `{"A":1,"_aws":{"CloudWatchMetrics":[]}}`},
		{"fractional timestamp", `{"A":1,"_aws":{"Timestamp":1.5,"CloudWatchMetrics":[]}}`},
		{"no directives", `{"A":1,"_aws":{"Timestamp":1}}`},
		{"unknown directive member", `{"A":1,"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[{"Name":"A"}],"X":1}]}}`},
		{"dimension value missing", `{"A":1,"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["D"]],"Metrics":[{"Name":"A"}]}]}}`},
		{"dimension value not a string", `{"D":3,"A":1,"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["D"]],"Metrics":[{"Name":"A"}]}]}}`},
		{"metric value missing", `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[{"Name":"A"}]}]}}`},
		{"metric value a string", `{"A":"1","_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[{"Name":"A"}]}]}}`},
		{"empty value array", `{"A":[],"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[{"Name":"A"}]}]}}`},
		{"bad unit", `{"A":1,"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[{"Name":"A","Unit":"Things"}]}]}}`},
		{"bad resolution", `{"A":1,"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[{"Name":"A","StorageResolution":5}]}]}}`},
		{"31 dimensions", `{"A":1,"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[` + strings.Repeat(`"A",`, 30) + `"A"]],"Metrics":[{"Name":"A"}]}]}}`},
		{"101 values", `{"A":[` + strings.Repeat(`1,`, 100) + `1],"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[{"Name":"A"}]}]}}`},
		{"101 metrics", `{"A":1,"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[` + strings.Repeat(`{"Name":"A"},`, 100) + `{"Name":"A"}]}]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := emftest.Verify([]byte(tt.line)); !errors.Is(err, emf.ErrInvalid) {
				t.Errorf("got %v, want an ErrInvalid", err)
			}
		})
	}
}

func TestCleanValue(t *testing.T) {
	tests := []struct{ in, want string }{
		{"com.acme.web.page_view", "com.acme.web.page_view"},
		{"café", "caf__"},
		{"", "none"},
		{"  ", "none"},
		{"\x00\x01", "none"},
		{strings.Repeat("x", 2000), strings.Repeat("x", 1024)},
	}
	for _, tt := range tests {
		if got := emf.CleanValue(tt.in); got != tt.want {
			t.Errorf("CleanValue(%q): got %q, want %q", tt.in, got, tt.want)
		}
		if emf.CheckValue("d", emf.CleanValue(tt.in)) != nil {
			t.Errorf("CleanValue(%q) is not a valid value", tt.in)
		}
	}
}

// FuzzEncode asserts the encoder's contract: whatever it is given, it either refuses the
// document or writes lines that all pass Verify and carry every value.
func FuzzEncode(f *testing.F) {
	f.Add("firelane", "EventType", "com.acme.x", "Accepted", "Count", 3, 1.5)
	f.Add("", ":d", "café", "_aws", "Things", 250, math.Inf(1))
	f.Add("n", "d", " ", "m", "", 101, 0.25)
	f.Fuzz(func(t *testing.T, ns, dim, val, metric, unit string, n int, v float64) {
		n = max(1, min(n, 1000))
		d := emf.Document{Namespace: ns, Timestamp: ts, Dimensions: []emf.Dimension{{dim, val}},
			Metrics: []emf.Metric{{Name: metric, Unit: emf.Unit(unit), Values: slices.Repeat([]float64{v}, n)}}}
		out, err := d.Encode(nil)
		if err != nil {
			if len(out) != 0 {
				t.Fatalf("Encode failed but wrote %q", out)
			}
			return
		}
		count := 0
		for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
			if err := emftest.Verify(line); err != nil {
				t.Fatalf("Verify(%s): %v", line, err)
			}
			var root map[string]json.RawMessage
			_ = json.Unmarshal(line, &root)
			var vals []float64
			if json.Unmarshal(root[metric], &vals) != nil {
				vals = []float64{0}
			}
			count += len(vals)
		}
		if count != n {
			t.Fatalf("got %d values, want %d", count, n)
		}
	})
}

func ExampleDocument_Encode() {
	d := emf.Document{
		Namespace:  "firelane",
		Timestamp:  time.UnixMilli(1764061261000),
		Dimensions: []emf.Dimension{{Name: "FunctionName", Value: "firelane-ingest"}},
		Metrics: []emf.Metric{
			{Name: "Accepted", Unit: emf.Count, Values: []float64{498}},
			{Name: "Rejected", Unit: emf.Count, Values: []float64{2}},
		},
	}
	out, err := d.Encode(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	os.Stdout.Write(out)
	// Output:
	// {"Accepted":498,"FunctionName":"firelane-ingest","Rejected":2,"_aws":{"Timestamp":1764061261000,"CloudWatchMetrics":[{"Namespace":"firelane","Dimensions":[["FunctionName"]],"Metrics":[{"Name":"Accepted","Unit":"Count"},{"Name":"Rejected","Unit":"Count"}]}]}}
}

// FuzzVerify asserts Verify's contract on arbitrary log lines: it never panics, and a line it
// accepts is a JSON object whose _aws member holds a numeric Timestamp.
func FuzzVerify(f *testing.F) {
	f.Add([]byte(`{"FunctionName":"f","A":1,"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["FunctionName"]],"Metrics":[{"Name":"A","Unit":"Count"}]}]}}`))
	f.Add([]byte(`{"A":[1,2],"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[{"Name":"A"}]}]}}`))
	f.Add([]byte(`{"_aws":{"Timestamp":-1}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"_aws":null}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		if emftest.Verify(line) != nil {
			return
		}
		var root struct {
			AWS struct {
				Timestamp json.Number
			} `json:"_aws"`
		}
		if err := json.Unmarshal(line, &root); err != nil {
			t.Fatalf("accepted a line that is not a JSON object: %q: %v", line, err)
		}
		if _, err := root.AWS.Timestamp.Int64(); err != nil {
			t.Fatalf("accepted a line without an integer Timestamp: %q", line)
		}
	})
}

// BenchmarkEncode encodes a summary-sized document: a dozen counts and a 100-value distribution.
func BenchmarkEncode(b *testing.B) {
	d := doc()
	for i := range 12 {
		d.Metrics = append(d.Metrics, emf.Metric{Name: fmt.Sprint("Count", i), Unit: emf.Count, Values: []float64{float64(i)}})
	}
	lateness := emf.Metric{Name: "Lateness", Unit: emf.Milliseconds}
	for i := range 100 {
		lateness.Values = append(lateness.Values, float64(i*37))
	}
	d.Metrics = append(d.Metrics, lateness)
	out, err := d.Encode(nil)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		out, _ = d.Encode(out[:0])
	}
}
