package ingest

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/event"
)

// answerStatuses are every status code the edge may give when the stream takes every record.
var answerStatuses = []int{200, 204, 207, 400, 403, 405, 413, 415, 422}

// FuzzHandle sends arbitrary bodies, content types, encodings, methods and binary-mode headers
// and asserts the contract: no panic, no 5xx for anything a client sends (the fake stream takes
// every record), a JSON answer that is either a Response accounting for every event or an
// ErrorBody, a record in Kinesis for exactly each accepted event, and an archived failed-event
// record within Firehose's record limit for exactly each rejected one.
func FuzzHandle(f *testing.F) {
	seeds := []struct {
		body, ct, enc, method string
		b64                   bool
		ceType                string
	}{
		{pageView, "application/json", "", "POST", false, ""},
		{"[" + pageView + "," + badURL + "]", "", "", "POST", false, ""},
		{pageView + "\n" + sensor, "application/x-ndjson", "", "POST", false, ""},
		{pageView, "application/cloudevents+json", "", "POST", false, ""},
		{"[" + sensor + "]", "application/cloudevents-batch+json", "", "POST", false, ""},
		{`{"url":"https://a.test/","session_id":"8f14e45f-ceea-467f-a0f8-7c2c3c1c2d3e"}`, "application/json", "", "POST", false, "com.acme.web.page_view"},
		{b64(gz(f, []byte(pageView))), "application/json", "gzip", "POST", true, ""},
		{"H4sIAAAAAAAA/w==", "application/json", "gzip", "POST", true, ""},
		{`[{"a":"\"]"},]`, "application/json", "", "POST", false, ""},
		{`[1,"x",null,true,{}]`, "", "", "POST", false, ""},
		{`[[[[[[`, "", "", "POST", false, ""},
		{"\xef\xbb\xbf" + pageView, "application/json; charset=utf-8", "identity", "POST", false, ""},
		{"", "", "", "GET", false, ""},
		{"", "", "", "OPTIONS", false, ""},
		{"x", "text/plain", "br", "PUT", false, ""},
	}
	for _, s := range seeds {
		f.Add(s.body, s.ct, s.enc, s.method, s.b64, s.ceType)
	}
	reg := registry(f)
	f.Fuzz(func(t *testing.T, body, ct, enc, method string, isB64 bool, ceType string) {
		fx := newFixture(t, reg, Config{MaxEvents: 50, MaxDecodedBytes: 1 << 20, AllowedOrigins: []string{"https://a.test"}})
		headers := map[string]string{"Content-Type": ct, "Content-Encoding": enc, "Origin": "https://a.test", "Access-Control-Request-Method": "POST"}
		if ceType != "" {
			headers["ce-specversion"] = "1.0"
			headers["ce-id"] = "fuzz"
			headers["ce-source"] = "/fuzz"
			headers["ce-type"] = ceType
		}
		req := post(body, headers)
		req.HTTPMethod = method
		req.IsBase64Encoded = isB64
		resp, err := fx.h.Handle(t.Context(), req)
		if err != nil {
			t.Fatalf("Handle returned error %v", err)
		}
		checkAnswer(t, resp, fx)

		// The same request as an HTTP API event, through Invoke.
		v2 := events.APIGatewayV2HTTPRequest{Version: "2.0", Headers: headers, Body: body, IsBase64Encoded: isB64}
		v2.RequestContext.HTTP.Method = method
		payload, _ := json.Marshal(v2)
		out, err := fx.h.Invoke(t.Context(), payload)
		if err != nil {
			t.Fatalf("Invoke returned error %v", err)
		}
		var resp2 events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(out, &resp2); err != nil || resp2.StatusCode != resp.StatusCode {
			t.Fatalf("HTTP API answer %s differs from the REST API answer %d", out, resp.StatusCode)
		}
	})
}

func checkAnswer(t *testing.T, resp events.APIGatewayProxyResponse, fx *fixture) {
	t.Helper()
	if !slices.Contains(answerStatuses, resp.StatusCode) {
		t.Fatalf("got status %d: %s", resp.StatusCode, resp.Body)
	}
	if resp.StatusCode == http.StatusNoContent {
		if resp.Body != "" {
			t.Fatalf("204 with a body: %q", resp.Body)
		}
		return
	}
	if resp.Headers["Content-Type"] != "application/json" || !json.Valid([]byte(resp.Body)) {
		t.Fatalf("answer is not JSON: %q", resp.Body)
	}
	if !strings.Contains(resp.Body, `"results"`) {
		var eb ErrorBody
		if err := json.Unmarshal([]byte(resp.Body), &eb); err != nil || eb.Error == "" || eb.Message == "" {
			t.Fatalf("answer is neither a Response nor an ErrorBody: %s", resp.Body)
		}
		if n := len(fx.streamed.all()); n != 0 {
			t.Fatalf("an answer about the request wrote %d records", n)
		}
		return
	}
	r := decodeResponse(t, resp.Body)
	if len(r.Results) == 0 {
		t.Fatalf("a Response without results: %s", resp.Body)
	}
	if r.Failed != 0 {
		t.Fatalf("%d events failed although the stream takes everything", r.Failed)
	}
	if got := len(fx.streamed.all()); got != r.Accepted {
		t.Fatalf("Kinesis holds %d records for %d accepted events", got, r.Accepted)
	}
	// Every rejected event is archived, whole, in an envelope that fits one Firehose record.
	archived := fx.setAside.all()
	if len(archived) != r.Rejected {
		t.Fatalf("the failed-events stream holds %d records for %d rejected events", len(archived), r.Rejected)
	}
	for _, a := range archived {
		var f event.Failed
		if len(a.Data) > awsbatch.FirehoseLimits.MaxRecordBytes || json.Unmarshal(a.Data, &f) != nil || len(f.Reasons) == 0 {
			t.Fatalf("a %d-byte failed-event record that is over Firehose's record, not JSON or without a reason", len(a.Data))
		}
	}
	for _, e := range r.Results {
		if (e.Status == StatusRejected) != (e.Archived != nil && *e.Archived) {
			t.Fatalf("result %d is %s with archived %v", e.Index, e.Status, e.Archived)
		}
	}
}

// FuzzSplitArray checks the array splitter against encoding/json: on every valid JSON array it
// finds the same elements, byte for byte; on anything else it answers without panicking.
func FuzzSplitArray(f *testing.F) {
	for _, s := range []string{`[1, "a,]", {"b":[1,{"c":"}"}]}, null ]`, `[]`, `[{"a":"\\"}]`, `[1 2]`, `["\u005d"]`, `[[],[[]],{}]`, `[-1.5e3,true]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, rerr := splitArray(b, 1000)
		var want []json.RawMessage
		if json.Unmarshal(b, &want) != nil || len(want) == 0 || len(want) > 1000 {
			return
		}
		if rerr != nil {
			t.Fatalf("valid array %q: %v", b, rerr)
		}
		if len(got) != len(want) {
			t.Fatalf("%q: got %d elements, want %d", b, len(got), len(want))
		}
		for i := range got {
			if string(got[i]) != strings.TrimSpace(string(want[i])) {
				t.Fatalf("%q: element %d is %q, want %q", b, i, got[i], want[i])
			}
		}
	})
}

// FuzzDecodePayload checks the payload decoder against encoding/json: the same payload for every
// input encoding/json decodes, and an error for every input it rejects.
func FuzzDecodePayload(f *testing.F) {
	f.Add([]byte(`{"version":"2.0","body":"[{\"a\":\"b\\\\n\"}]\n","headers":{"Content-Type":"application/json"},"requestContext":{"http":{"method":"POST"}},"isBase64Encoded":false}`))
	f.Add([]byte(`{"httpMethod":"POST","Body":"x","body":null,"multiValueHeaders":{"a":["1","2"]},"extra":[1,{"b":"}"}]}`))
	f.Add([]byte(`{"body":"\u00e9\ud83d\ude00","BODY":"y"}`))
	f.Add([]byte(`{"body":"caf\xc3","headers":null}`))
	f.Add([]byte(` { } `))
	f.Add([]byte(`{"body":5}`))
	f.Add([]byte(`{"body":"a\tb"}`))
	f.Add([]byte("{\"body\":\"0123456789abcdef\\\\\\\"\x1f\x7f\xff\"}"))
	f.Add([]byte(`{"headers":{"a":"1"},"headers":{"b":"2"}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, gotErr := decodePayload(raw)
		var want payload
		wantErr := json.Unmarshal(raw, &want)
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("%q: got error %v, encoding/json %v", raw, gotErr, wantErr)
		}
		if wantErr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: got %+v, want %+v", raw, got, want)
		}
	})
}

// TestHasControl compares the eight-bytes-at-a-time test with the plain one for every byte value
// at every position of a buffer that spans two words and a tail.
func TestHasControl(t *testing.T) {
	for c := range 256 {
		for pos := range 19 {
			b := []byte(strings.Repeat("a", 19))
			b[pos] = byte(c)
			if got, want := hasControl(b), c < 0x20; got != want {
				t.Fatalf("byte %#x at %d: got %v, want %v", c, pos, got, want)
			}
		}
	}
	if hasControl([]byte(strings.Repeat("\x7f\x80\xff ", 8))) {
		t.Error("bytes at or above 0x20 reported as control characters")
	}
}
