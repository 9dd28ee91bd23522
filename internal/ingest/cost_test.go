package ingest

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user and system CPU time so far.
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestNoRequestCostsMoreThanASecond sends requests at the edge's limits made of the events that are
// dearest to explain (every item of an order breaking its bounds, numbers with enormous exponents,
// nesting to the depth limit) and checks that each is answered within a second of CPU: the time for
// explaining rejections is bounded (explainBudget), and v5 never computes with numbers no keyword
// can use (schema.MaxExactExponent).
func TestNoRequestCostsMoreThanASecond(t *testing.T) {
	if testing.Short() {
		t.Skip("sends requests of several megabytes")
	}
	reg := registry(t)
	order := func(items int, qty string) string {
		item := `{"sku":"","quantity":` + qty + `,"unit_price":-0.001,"x":1},`
		return `{"specversion":"1.0","id":"o","source":"/s","type":"com.acme.shop.order_placed","data":{"order_id":"bad","customer_email":"no","currency":"XXX","total":-1,"items":[` +
			strings.Repeat(item, items) + `{"sku":"a","quantity":1,"unit_price":1}]}}`
	}
	deep := `{"specversion":"1.0","id":"d","source":"/s","type":"com.acme.web.page_view","data":{"url":` +
		strings.Repeat("[", 9990) + strings.Repeat("]", 9990) + `}}`
	array := func(ev string, n int) string { return "[" + strings.Repeat(ev+",", n-1) + ev + "]" }
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(array(order(560, "1e999999"), 500)))
	_ = zw.Close()
	tests := []struct {
		name    string
		body    string
		headers map[string]string
		base64  bool
	}{
		{"500 orders of 200 broken items", array(order(200, "0"), 500), nil, false},
		{"500 orders with huge exponents", array(order(190, "1e999999"), 500), nil, false},
		{"events nested to the depth limit", array(deep, 300), nil, false},
		{"gzip to 15 MiB of broken orders", base64.StdEncoding.EncodeToString(gz.Bytes()), map[string]string{"Content-Encoding": "gzip"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.body) > DefaultConfig.MaxBodyBytes {
				t.Fatalf("body of %d bytes is over the limit it is meant to sit at", len(tt.body))
			}
			f := newFixture(t, reg, DefaultConfig)
			headers := map[string]string{"Content-Type": "application/json"}
			for k, v := range tt.headers {
				headers[k] = v
			}
			req := post(tt.body, headers)
			req.IsBase64Encoded = tt.base64
			before := cpuTime(t)
			resp, err := f.h.Handle(t.Context(), req)
			spent := cpuTime(t) - before
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d-byte body: HTTP %d in %v of CPU", len(tt.body), resp.StatusCode, spent)
			if resp.StatusCode != 422 {
				t.Fatalf("got HTTP %d, want 422: %.300s", resp.StatusCode, resp.Body)
			}
			if spent > time.Second {
				t.Errorf("answering took %v of CPU, more than a second", spent)
			}
			r := decodeResponse(t, resp.Body)
			if r.Rejected != len(r.Results) {
				t.Errorf("rejected %d of %d", r.Rejected, len(r.Results))
			}
		})
	}
}
