package ingest

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/firelane/firelane/internal/event"
)

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func TestBodyForms(t *testing.T) {
	jsonCT := map[string]string{"Content-Type": "application/json"}
	bomb := gz(t, bytes.Repeat([]byte(" "), 2<<20)) // 2 MiB of spaces in about 2 KiB
	tests := []struct {
		name    string
		req     events.APIGatewayProxyRequest
		cfg     Config
		status  int
		results []string // per-event statuses; nil for an answer about the request
		errCode string   // the ErrorBody's error for an answer about the request
	}{
		{name: "one object", req: post(pageView, jsonCT), status: 200, results: []string{"accepted"}},
		{name: "array", req: post("[\n"+pageView+" , "+sensor+"]\n", jsonCT), status: 200, results: []string{"accepted", "accepted"}},
		{name: "no content type is JSON", req: post(pageView, nil), status: 200, results: []string{"accepted"}},
		{name: "charset utf-8", req: post(pageView, map[string]string{"content-type": "application/json; charset=UTF-8"}), status: 200, results: []string{"accepted"}},
		{name: "ndjson with blank and CRLF lines", req: post(pageView+"\r\n\r\n"+sensor+"\n", map[string]string{"Content-Type": "application/x-ndjson"}), status: 200, results: []string{"accepted", "accepted"}},
		{name: "ndjson broken line is one rejection", req: post(pageView+"\n{\"specversion\":\n"+sensor, map[string]string{"Content-Type": "application/x-ndjson"}), status: 207, results: []string{"accepted", "rejected", "accepted"}},
		{name: "cloudevents json", req: post(pageView, map[string]string{"Content-Type": "application/cloudevents+json"}), status: 200, results: []string{"accepted"}},
		{name: "cloudevents batch", req: post("["+pageView+","+sensor+"]", map[string]string{"Content-Type": "application/cloudevents-batch+json; charset=utf-8"}), status: 200, results: []string{"accepted", "accepted"}},
		{name: "binary mode", req: post(`{"url":"https://shop.acme.test/","session_id":"8f14e45f-ceea-467f-a0f8-7c2c3c1c2d3e"}`, map[string]string{
			"Content-Type": "application/json", "ce-specversion": "1.0", "ce-id": "b-1", "ce-source": "/web/shop",
			"ce-type": "com.acme.web.page_view", "ce-time": "2026-11-25T09:00:40.004Z", "ce-subject": "s%20one"}), status: 200, results: []string{"accepted"}},
		{name: "binary mode invalid data", req: post(`{"url":"nope"}`, map[string]string{
			"Content-Type": "application/json", "ce-specversion": "1.0", "ce-id": "b-2", "ce-source": "/web/shop", "ce-type": "com.acme.web.page_view"}), status: 422, results: []string{"rejected"}},
		{name: "binary mode non-JSON data", req: post(`hello`, map[string]string{"Content-Type": "text/plain", "ce-specversion": "1.0"}), status: 415, errCode: "unsupported_media_type"},
		{name: "binary mode bad percent-encoding", req: post(`{}`, map[string]string{"Content-Type": "application/json", "ce-specversion": "1.0", "ce-id": "%zz"}), status: 400, errCode: "bad_header"},
		{name: "base64", req: func() events.APIGatewayProxyRequest {
			r := post(b64([]byte(pageView)), jsonCT)
			r.IsBase64Encoded = true
			return r
		}(), status: 200, results: []string{"accepted"}},
		{name: "gzip base64", req: func() events.APIGatewayProxyRequest {
			r := post(b64(gz(t, []byte("["+pageView+","+sensor+"]"))), map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"})
			r.IsBase64Encoded = true
			return r
		}(), status: 200, results: []string{"accepted", "accepted"}},
		{name: "mixed", req: post("["+pageView+","+badURL+"]", jsonCT), status: 207, results: []string{"accepted", "rejected"}},
		{name: "array broken element", req: post(`[`+pageView+`,{"id":1,]`, jsonCT), status: 400, errCode: "bad_body"},
		{name: "array scalar element", req: post(`[`+pageView+`,42]`, jsonCT), status: 207, results: []string{"accepted", "rejected"}},
		{name: "all rejected", req: post("["+badURL+","+badURL+"]", jsonCT), status: 422, results: []string{"rejected", "rejected"}},
		{name: "gzip bomb", req: func() events.APIGatewayProxyRequest {
			r := post(b64(bomb), map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"})
			r.IsBase64Encoded = true
			return r
		}(), cfg: Config{MaxDecodedBytes: 1 << 20}, status: 413, errCode: "decoded_body_too_large"},
		{name: "bad gzip", req: func() events.APIGatewayProxyRequest {
			r := post(b64([]byte("\x1f\x8bnot gzip")), map[string]string{"Content-Encoding": "gzip"})
			r.IsBase64Encoded = true
			return r
		}(), status: 400, errCode: "bad_encoding"},
		// A REST API decompresses the body itself and may pass the header on.
		{name: "gzip header on a decompressed body", req: post(pageView, map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"}),
			status: 200, results: []string{"accepted"}},
		{name: "gzip header on a decompressed body over the cap", req: post(pageView, map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"}),
			cfg: Config{MaxDecodedBytes: 64}, status: 413, errCode: "decoded_body_too_large"},
		{name: "truncated gzip", req: func() events.APIGatewayProxyRequest {
			z := gz(t, []byte(pageView))
			r := post(b64(z[:len(z)-6]), map[string]string{"Content-Encoding": "gzip"})
			r.IsBase64Encoded = true
			return r
		}(), status: 400, errCode: "bad_encoding"},
		{name: "bad base64", req: func() events.APIGatewayProxyRequest {
			r := post("***", jsonCT)
			r.IsBase64Encoded = true
			return r
		}(), status: 400, errCode: "bad_encoding"},
		{name: "unsupported encoding", req: post(pageView, map[string]string{"Content-Encoding": "br"}), status: 415, errCode: "unsupported_encoding"},
		{name: "unsupported media type", req: post(pageView, map[string]string{"Content-Type": "text/plain"}), status: 415, errCode: "unsupported_media_type"},
		{name: "form", req: post("a=b", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}), status: 415, errCode: "unsupported_media_type"},
		{name: "unsupported charset", req: post(pageView, map[string]string{"Content-Type": "application/json; charset=latin1"}), status: 415, errCode: "unsupported_charset"},
		{name: "unparsable content type", req: post(pageView, map[string]string{"Content-Type": "application/json; ==="}), status: 415, errCode: "unsupported_media_type"},
		{name: "empty body", req: post("  ", jsonCT), status: 400, errCode: "empty_body"},
		{name: "empty array", req: post("[ ]", jsonCT), status: 400, errCode: "empty_batch"},
		{name: "invalid json", req: post(`{"specversion":"1.0", "id": `, jsonCT), status: 400, errCode: "bad_body"},
		{name: "body too large", req: post("["+pageView+","+pageView+"]", jsonCT), cfg: Config{MaxBodyBytes: 600}, status: 413, errCode: "body_too_large"},
		{name: "base64 body too large", req: func() events.APIGatewayProxyRequest {
			r := post(b64([]byte("["+pageView+","+pageView+"]")), jsonCT)
			r.IsBase64Encoded = true
			return r
		}(), cfg: Config{MaxBodyBytes: 600}, status: 413, errCode: "body_too_large"},
		{name: "too many events", req: post("["+pageView+","+pageView+","+pageView+"]", jsonCT), cfg: Config{MaxEvents: 2}, status: 413, errCode: "too_many_events"},
		{name: "too many ndjson events", req: post(pageView+"\n"+pageView+"\n"+pageView, map[string]string{"Content-Type": "application/x-ndjson"}), cfg: Config{MaxEvents: 2}, status: 413, errCode: "too_many_events"},
		{name: "event too large", req: post("["+sensor+","+pageView+"]", jsonCT), cfg: Config{MaxEventBytes: 300}, status: 413, errCode: "event_too_large"},
		{name: "GET", req: func() events.APIGatewayProxyRequest { r := post("", nil); r.HTTPMethod = "GET"; return r }(), status: 405, errCode: "method_not_allowed"},
		{name: "OPTIONS without preflight headers", req: func() events.APIGatewayProxyRequest { r := post("", nil); r.HTTPMethod = "OPTIONS"; return r }(), status: 405, errCode: "method_not_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, registry(t), tt.cfg)
			resp, err := f.h.Handle(t.Context(), tt.req)
			if err != nil {
				t.Fatalf("Handle returned error %v", err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("got status %d, want %d: %s", resp.StatusCode, tt.status, resp.Body)
			}
			if got := resp.Headers["Content-Type"]; got != "application/json" {
				t.Errorf("got Content-Type %q, want application/json", got)
			}
			if tt.results == nil {
				var eb ErrorBody
				if err := json.Unmarshal([]byte(resp.Body), &eb); err != nil || eb.Error != tt.errCode || eb.Message == "" {
					t.Fatalf("got error body %s, want error %q with a message", resp.Body, tt.errCode)
				}
				if tt.status == 405 && resp.Headers["Allow"] != "OPTIONS, POST" {
					t.Errorf("got Allow %q, want \"OPTIONS, POST\"", resp.Headers["Allow"])
				}
				if n := len(f.streamed.all()) + len(f.setAside.all()); n != 0 {
					t.Errorf("an answer about the request wrote %d records, want 0", n)
				}
				return
			}
			r := decodeResponse(t, resp.Body)
			if got := statuses(r); !slices.Equal(got, tt.results) {
				t.Fatalf("got statuses %v, want %v: %s", got, tt.results, resp.Body)
			}
			if got := len(f.streamed.all()); got != r.Accepted {
				t.Errorf("Kinesis holds %d records, want %d (the accepted events)", got, r.Accepted)
			}
			if got := len(f.setAside.all()); got != r.Rejected {
				t.Errorf("failed-events stream holds %d records, want %d (the rejected events)", got, r.Rejected)
			}
		})
	}
}

func TestIngestRecord(t *testing.T) {
	f := newFixture(t, registry(t), Config{})
	req := post("["+pageView+",\n  "+sensor+"]", map[string]string{"Content-Type": "application/json"})
	req.RequestContext.Authorizer = map[string]any{"principalId": "user-42"}
	resp, _ := f.h.Handle(t.Context(), req)
	if resp.StatusCode != 200 {
		t.Fatalf("got status %d, want 200: %s", resp.StatusCode, resp.Body)
	}
	recs := f.streamed.all()
	if len(recs) != 2 {
		t.Fatalf("got %d records, want 2", len(recs))
	}
	// Normal operation logs one summary line per invocation (an EMF document) and the EMF lines
	// of its dimensioned metrics; no payload.
	lines := strings.Split(strings.TrimSpace(f.logs.String()), "\n")
	if !strings.Contains(lines[0], `"msg":"invocation"`) || !strings.Contains(lines[0], `"Accepted":2`) || !strings.Contains(lines[0], `"status":200`) {
		t.Errorf("got first log line %q, want the invocation summary", lines[0])
	}
	for _, l := range lines[1:] {
		if !strings.Contains(l, `"msg":"metrics"`) {
			t.Errorf("got log line %q, want only metrics lines after the summary", l)
		}
	}
	if strings.Contains(f.logs.String(), "session-8f14e45f") {
		t.Errorf("logs carry event values: %s", f.logs.String())
	}
	wantCtx := event.ServerContext{ReceivedAt: "2026-11-25T09:01:01.000Z", RequestID: "req-1", SourceIP: "198.51.100.23",
		UserAgent: "test/1.0", APIKeyID: "key-1", Principal: "user-42", Stage: "prod"}
	for i, want := range []struct{ event, key string }{{pageView, "session-8f14e45f"}, {sensor, "/devices/thermostat"}} {
		var rec event.IngestRecord
		if err := json.Unmarshal(recs[i].Data, &rec); err != nil {
			t.Fatalf("record %d is not JSON: %v", i, err)
		}
		if rec.Format != event.FormatIngest || rec.Context != wantCtx {
			t.Errorf("record %d: got %s %+v, want %s %+v", i, rec.Format, rec.Context, event.FormatIngest, wantCtx)
		}
		if !bytes.Contains(recs[i].Data, []byte(`,"event":`+want.event+`}`)) {
			t.Errorf("record %d does not hold the event byte for byte: %s", i, recs[i].Data)
		}
		if recs[i].PartitionKey != want.key {
			t.Errorf("record %d: got partition key %q, want %q", i, recs[i].PartitionKey, want.key)
		}
	}
}

func TestPartitionKey(t *testing.T) {
	long := strings.Repeat("é", 300)
	tests := []struct {
		name  string
		attrs [4]string // id, type, source, subject
		keys  []string
		want  string
	}{
		{"subject first", [4]string{"i", "t", "s", "sub"}, []string{"subject", "source"}, "sub"},
		{"source without subject", [4]string{"i", "t", "s", ""}, []string{"subject", "source"}, "s"},
		{"type", [4]string{"i", "t", "s", "sub"}, []string{"type"}, "t"},
		{"id when all empty", [4]string{"i", "", "", ""}, []string{"subject", "source"}, "i"},
		{"dash when nothing", [4]string{}, []string{"subject"}, "-"},
		{"cut to 256 characters", [4]string{"i", "t", long, ""}, []string{"source"}, strings.Repeat("é", 256)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := attrsOf(tt.attrs)
			if got := partitionKey(a, tt.keys); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHTTPAPIv2(t *testing.T) {
	f := newFixture(t, registry(t), Config{})
	payload := `{"version":"2.0","routeKey":"POST /events","rawPath":"/events","headers":{"content-type":"application/json","user-agent":"test/2.0"},
"requestContext":{"requestId":"v2-req","stage":"$default","timeEpoch":1795597261000,"authorizer":{"jwt":{"claims":{"sub":"user-7"}}},
"http":{"method":"POST","path":"/events","sourceIp":"203.0.113.9","userAgent":"test/2.0"}},
"body":` + mustJSON(t, "["+pageView+","+badURL+"]") + `,"isBase64Encoded":false}`
	out, err := f.h.Invoke(t.Context(), []byte(payload))
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("answer is not an HTTP API response: %v", err)
	}
	if resp.StatusCode != 207 {
		t.Fatalf("got status %d, want 207: %s", resp.StatusCode, resp.Body)
	}
	r := decodeResponse(t, resp.Body)
	if r.RequestID != "v2-req" || !slices.Equal(statuses(r), []string{"accepted", "rejected"}) {
		t.Fatalf("got %+v", r)
	}
	var rec event.IngestRecord
	if err := json.Unmarshal(f.streamed.all()[0].Data, &rec); err != nil {
		t.Fatal(err)
	}
	want := event.ServerContext{ReceivedAt: "2026-11-25T09:01:01.000Z", RequestID: "v2-req", SourceIP: "203.0.113.9", UserAgent: "test/2.0", Principal: "user-7", Stage: "$default"}
	if rec.Context != want {
		t.Errorf("got context %+v, want %+v", rec.Context, want)
	}

	// The same handler answers a REST API event in the REST API shape.
	v1, _ := json.Marshal(post(pageView, nil))
	out, err = f.h.Invoke(t.Context(), v1)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var resp1 events.APIGatewayProxyResponse
	if err := json.Unmarshal(out, &resp1); err != nil || resp1.StatusCode != 200 {
		t.Fatalf("got %s, %v; want a 200 REST API response", out, err)
	}
	if _, err := f.h.Invoke(t.Context(), []byte(`[1,2]`)); err == nil {
		t.Error("Invoke of a payload that is no API Gateway event returned no error")
	}
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCORS(t *testing.T) {
	preflight := func(origin string) events.APIGatewayProxyRequest {
		r := post("", map[string]string{"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type, x-api-key"})
		r.HTTPMethod = "OPTIONS"
		return r
	}
	tests := []struct {
		name    string
		origins []string
		req     events.APIGatewayProxyRequest
		status  int
		allow   string // Access-Control-Allow-Origin
	}{
		{"preflight allowed", []string{"https://shop.example.com"}, preflight("https://shop.example.com"), 204, "https://shop.example.com"},
		{"preflight any", []string{"*"}, preflight("https://x.example"), 204, "*"},
		{"preflight denied", []string{"https://shop.example.com"}, preflight("https://evil.example"), 403, ""},
		{"preflight without configuration", nil, preflight("https://shop.example.com"), 403, ""},
		{"post allowed", []string{"https://shop.example.com"}, post(pageView, map[string]string{"origin": "https://shop.example.com"}), 200, "https://shop.example.com"},
		{"post other origin", []string{"https://shop.example.com"}, post(pageView, map[string]string{"origin": "https://evil.example"}), 200, ""},
		{"error answer allowed", []string{"https://shop.example.com"}, post("", map[string]string{"origin": "https://shop.example.com"}), 400, "https://shop.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, registry(t), Config{AllowedOrigins: tt.origins})
			resp, _ := f.h.Handle(t.Context(), tt.req)
			if resp.StatusCode != tt.status {
				t.Fatalf("got status %d, want %d: %s", resp.StatusCode, tt.status, resp.Body)
			}
			if got := resp.Headers["Access-Control-Allow-Origin"]; got != tt.allow {
				t.Errorf("got Access-Control-Allow-Origin %q, want %q", got, tt.allow)
			}
			if tt.status == 204 {
				if resp.Headers["Access-Control-Allow-Methods"] != "POST, OPTIONS" || resp.Headers["Access-Control-Allow-Headers"] != "content-type, x-api-key" {
					t.Errorf("got preflight headers %v", resp.Headers)
				}
			}
			if tt.allow != "" && tt.status != 204 && resp.Headers["Access-Control-Expose-Headers"] != "Retry-After" {
				t.Errorf("got headers %v, want Retry-After exposed", resp.Headers)
			}
		})
	}
}

func TestValidationMessages(t *testing.T) {
	manyErrors := `{"specversion":"1.0","id":"e-1","source":"/devices/x","type":"com.acme.iot.sensor_reading","data":{"device_id":"x","firmware":"y","readings":{"temperature_c":500,"humidity_pct":-1,"battery_v":9},"location":{"lat":100,"lon":200},"extra":1}}`
	tests := []struct {
		name      string
		event     string
		maxErrors int
		want      []event.Reason // compared by location, keyword and a substring of the message
	}{
		{"unknown type", `{"specversion":"1.0","id":"u-1","source":"/x","type":"com.acme.nope","data":{}}`, 10,
			[]event.Reason{{Location: "/type", Keyword: "type-version", Message: `"com.acme.nope"`}}},
		{"unknown version", `{"specversion":"1.0","id":"u-2","source":"/x","type":"com.acme.web.page_view","dataschema":"com.acme.web.page_view/v7","data":{}}`, 10,
			[]event.Reason{{Location: "/type", Keyword: "type-version", Message: "version 7"}}},
		{"format asserted", badURL, 10,
			[]event.Reason{{Location: "/data/session_id", Keyword: "format", Message: "uuid"}, {Location: "/data/url", Keyword: "format", Message: "uri"}}},
		{"time is RFC 3339", `{"specversion":"1.0","id":"t-1","source":"/x","type":"com.acme.web.page_view","time":"yesterday","data":{}}`, 10,
			[]event.Reason{{Location: "/time", Keyword: "format", Message: "date-time"}}},
		{"specversion", `{"specversion":"0.3","id":"s-1","source":"/x","type":"com.acme.web.page_view","data":{}}`, 10,
			[]event.Reason{{Location: "/specversion", Keyword: "const", Message: ""}}},
		{"max errors", manyErrors, 3, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, registry(t), Config{MaxErrors: tt.maxErrors})
			resp, _ := f.h.Handle(t.Context(), post(tt.event, nil))
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("got status %d, want 422: %s", resp.StatusCode, resp.Body)
			}
			got := decodeResponse(t, resp.Body).Results[0].Errors
			if tt.want == nil {
				if len(got) != tt.maxErrors {
					t.Fatalf("got %d errors, want %d: %+v", len(got), tt.maxErrors, got)
				}
				return
			}
			for _, w := range tt.want {
				if !slices.ContainsFunc(got, func(g event.Reason) bool {
					return g.Location == w.Location && g.Keyword == w.Keyword && strings.Contains(g.Message, w.Message) && g.Message != ""
				}) {
					t.Errorf("errors %+v lack %+v", got, w)
				}
			}
		})
	}
}

// TestAnswerBounded sends the most events a request may carry, each with long invalid values,
// and checks that the answer stays small.
func TestAnswerBounded(t *testing.T) {
	long := strings.Repeat("x", 2000)
	ev := `{"specversion":"1.0","id":"` + long + `","source":"` + long + `","type":"` + long + `","time":"` + long + `","data":{}}`
	body := "[" + strings.TrimSuffix(strings.Repeat(ev+",", 500), ",") + "]"
	f := newFixture(t, registry(t), Config{MaxErrors: MaxErrorsLimit})
	resp, _ := f.h.Handle(t.Context(), post(body, nil))
	if resp.StatusCode != 422 {
		t.Fatalf("got status %d, want 422", resp.StatusCode)
	}
	r := decodeResponse(t, resp.Body)
	if len(resp.Body) > 512<<10 {
		t.Errorf("answer is %d bytes for 500 rejected events, want at most 512 KiB", len(resp.Body))
	}
	if !r.Results[499].ErrorsTruncated || len(r.Results[499].Errors) != 1 {
		t.Errorf("last result has %d errors (truncated %v), want 1 and truncated", len(r.Results[499].Errors), r.Results[499].ErrorsTruncated)
	}
	if r.Results[0].ID != "" {
		t.Errorf("an id of %d bytes was echoed", len(long))
	}
}

func TestRejectedEnvelope(t *testing.T) {
	f := newFixture(t, registry(t), Config{})
	resp, _ := f.h.Handle(t.Context(), post("["+pageView+","+badURL+"]", nil))
	if resp.StatusCode != 207 {
		t.Fatalf("got status %d, want 207", resp.StatusCode)
	}
	recs := f.setAside.all()
	if len(recs) != 1 {
		t.Fatalf("failed-events stream got %d records, want 1", len(recs))
	}
	if !bytes.HasSuffix(recs[0].Data, []byte("}\n")) {
		t.Errorf("record does not end with a newline: %q", recs[0].Data)
	}
	var got event.Failed
	if err := json.Unmarshal(recs[0].Data, &got); err != nil {
		t.Fatal(err)
	}
	if got.Format != event.FormatFailed || got.Kind != event.KindRejected || got.Stage != "ingest" || got.FailedAt != "2026-11-25T09:01:02.000Z" ||
		got.EventID != "5a5a5a5a-0000-4000-8000-000000000001" || got.EventType != "com.acme.web.page_view" || string(got.Original) != badURL {
		t.Errorf("got %+v", got)
	}
	r := decodeResponse(t, resp.Body)
	if !slices.Equal(got.Reasons, r.Results[1].Errors) {
		t.Errorf("record reasons %+v differ from the answer's %+v", got.Reasons, r.Results[1].Errors)
	}
	// failed/2: the request's server context, the source IP anonymised as a lake row holds it.
	want := event.ServerContext{ReceivedAt: "2026-11-25T09:01:01.000Z", RequestID: "req-1", SourceIP: "198.51.100.0",
		UserAgent: "test/1.0", APIKeyID: "key-1", Stage: "prod"}
	if got.Context == nil || *got.Context != want {
		t.Errorf("got context %+v, want %+v", got.Context, want)
	}
	if bytes.Contains(recs[0].Data, []byte("198.51.100.23")) {
		t.Error("the envelope holds the whole source IP")
	}
	var accepted event.IngestRecord
	if err := json.Unmarshal(f.streamed.all()[0].Data, &accepted); err != nil || accepted.Context.SourceIP != "198.51.100.23" {
		t.Errorf("got the accepted event's record context %+v (%v), want the whole source IP, which enrich needs", accepted.Context, err)
	}
}

// TestRejectedNotWritten checks that a rejected event the failed-events stream does not take is
// counted, told to the client (archived false) and logged without its record; and that without a
// stream, rejected events are logged by their reasons' keywords, never by their values.
func TestRejectedNotWritten(t *testing.T) {
	f := newFixture(t, registry(t), Config{})
	f.firehose.put = firehoseAck(f.setAside, func([]byte) string { return "InvalidArgumentException" })
	resp, _ := f.h.Handle(t.Context(), post("["+pageView+","+badURL+"]", nil))
	if resp.StatusCode != 207 {
		t.Fatalf("got status %d, want 207", resp.StatusCode)
	}
	r := decodeResponse(t, resp.Body)
	if a := r.Results[1].Archived; a == nil || *a {
		t.Errorf("got archived %v for the rejected event, want false", a)
	}
	if r.Results[0].Archived != nil {
		t.Errorf("got archived %v for an accepted event, want none", *r.Results[0].Archived)
	}
	var found, counted bool
	for _, line := range strings.Split(strings.TrimSpace(f.logs.String()), "\n") {
		var l map[string]any
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatal(err)
		}
		switch l["msg"] {
		case "rejected event not archived":
			found = true
			if l["level"] != "ERROR" || l["error_code"] != "InvalidArgumentException" || l["index"] != 1.0 ||
				l["fingerprint"] != event.Fingerprint("/web/shop", "5a5a5a5a-0000-4000-8000-000000000001") {
				t.Errorf("log line lacks what names the event: %s", line)
			}
		case "invocation":
			counted = l["Unarchived"] == 1.0
		}
		if strings.Contains(line, b64([]byte(badURL))) || strings.Contains(line, "not a url") || strings.Contains(line, "5a5a5a5a-") {
			t.Errorf("log line holds the event's values: %s", line)
		}
	}
	if !found || !counted {
		t.Fatalf("got logged %v and counted %v, want both: %s", found, counted, f.logs.String())
	}

	// When the stream takes it, the answer says so.
	f = newFixture(t, registry(t), Config{})
	resp, _ = f.h.Handle(t.Context(), post(badURL, nil))
	if a := decodeResponse(t, resp.Body).Results[0].Archived; a == nil || !*a {
		t.Errorf("got archived %v, want true", a)
	}

	// Without a failed-events stream, nothing is archived and the answer says nothing about it.
	f = newFixture(t, registry(t), Config{})
	f.h.Rejected = nil
	resp, _ = f.h.Handle(t.Context(), post(badURL, nil))
	if a := decodeResponse(t, resp.Body).Results[0].Archived; a != nil {
		t.Errorf("got archived %v without a stream, want none", *a)
	}
	logs := f.logs.String()
	if !strings.Contains(logs, `"msg":"rejected event"`) || !strings.Contains(logs, `"keywords":["format"`) {
		t.Errorf("rejected event not logged with its reasons' keywords: %s", logs)
	}
	if strings.Contains(logs, b64([]byte(badURL))) || strings.Contains(logs, "not a url") || strings.Contains(logs, "/data/url") {
		t.Errorf("rejected event logged with its payload or members: %s", logs)
	}
}

func TestConfigCheck(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"default", DefaultConfig, true},
		{"zero", Config{}, true},
		{"event too large", Config{MaxEventBytes: MaxEventBytesLimit + 1}, false},
		{"body above Lambda", Config{MaxBodyBytes: 7 << 20}, false},
		{"too many errors", Config{MaxErrors: 1000}, false},
		{"unknown key", Config{PartitionKey: []string{"data"}}, false},
		{"bad origin", Config{AllowedOrigins: []string{"shop.example.com"}}, false},
		{"margin too large", Config{SafetyMargin: 30 * time.Second}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Check(); (err == nil) != tt.ok {
				t.Errorf("got %v, want ok %v", err, tt.ok)
			}
		})
	}
}
