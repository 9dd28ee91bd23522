package apigateway

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/firelane/firelane/internal/cfn"
	"github.com/firelane/firelane/internal/localaws/lambda"
)

const key = "unit-test-key-0123456789"

func loadDefinition(t testing.TB, params map[string]string) *Definition {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	tpl, err := cfn.Load(filepath.Join(filepath.Dir(file), "..", "..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Load(tpl, "firelane", params)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// invokerFunc is a function-field fake of lambda.Invoker.
type invokerFunc func(ctx context.Context, payload []byte) (lambda.Result, error)

func (f invokerFunc) Invoke(ctx context.Context, payload []byte) (lambda.Result, error) {
	return f(ctx, payload)
}

// TestLoad checks what each AuthMode's definition holds: the security of every non-preflight
// method, the usage plan in API_KEY mode only, the stage throttling, the optional Firehose route.
func TestLoad(t *testing.T) {
	for _, tc := range []struct {
		mode, auth string
		plan       bool
	}{{"API_KEY", "api_key", true}, {"IAM", "sigv4", false}, {"COGNITO", "cognito", false}} {
		t.Run(tc.mode, func(t *testing.T) {
			d := loadDefinition(t, map[string]string{"AuthMode": tc.mode, "DirectFirehoseRoute": "true"})
			if d.Stage != "prod" {
				t.Errorf("stage: got %q, want prod", d.Stage)
			}
			for _, path := range []string{"/events", "/direct/events", "/direct/firehose/events"} {
				for verb, m := range d.Routes[path] {
					want := tc.auth
					if verb == "OPTIONS" {
						want = ""
					}
					if m.Auth != want {
						t.Errorf("%s %s auth: got %q, want %q", verb, path, m.Auth, want)
					}
				}
			}
			if got := d.Routes["/events"]["POST"].Function; got != "IngestFunction" {
				t.Errorf("POST /events function: got %q, want IngestFunction", got)
			}
			if m := d.Routes["/direct/firehose/events"]["POST"]; m == nil || m.Service != "firehose" || m.Action != "PutRecordBatch" || m.Model == nil {
				t.Errorf("POST /direct/firehose/events: got %+v, want PutRecordBatch with a model", m)
			}
			if (d.UsagePlan != nil) != tc.plan {
				t.Errorf("usage plan: got %+v, want one: %v", d.UsagePlan, tc.plan)
			}
			if d.StageThrottle == nil || d.StageThrottle.Rate != 1000 || d.StageThrottle.Burst != 2000 {
				t.Errorf("stage throttle: got %+v, want 1000/2000", d.StageThrottle)
			}
		})
	}
}

// TestProxyEvent checks the proxy event a request becomes and the answers to a function's
// failures.
func TestProxyEvent(t *testing.T) {
	d := loadDefinition(t, nil)
	var got events.APIGatewayProxyRequest
	answer := `{"statusCode":202,"headers":{"X-One":"1"},"multiValueHeaders":{"X-Two":["a","b"]},"body":"ok"}`
	fn := invokerFunc(func(_ context.Context, payload []byte) (lambda.Result, error) {
		if err := json.Unmarshal(payload, &got); err != nil {
			t.Errorf("the event is not JSON: %v", err)
		}
		return lambda.Result{Payload: []byte(answer)}, nil
	})
	s, err := NewServer(Config{Definition: d, APIKeys: []string{key}, Functions: map[string]lambda.Invoker{"IngestFunction": fn}, AWS: &AWS{}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(`{"a":1}`))
	_ = zw.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/prod/events?x=1&x=2", bytes.NewReader(gz.Bytes()))
	req.Header.Set("X-Api-Key", key)
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Add("X-Multi", "a")
	req.Header.Add("X-Multi", "b")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 202 || string(body) != "ok" || resp.Header.Get("X-One") != "1" || strings.Join(resp.Header.Values("X-Two"), ",") != "a,b" {
		t.Errorf("answer: got %d %q %v", resp.StatusCode, body, resp.Header)
	}
	checks := []struct{ name, got, want string }{
		{"body", got.Body, `{"a":1}`},
		{"path", got.Path, "/events"},
		{"resource", got.Resource, "/events"},
		{"requestContext.path", got.RequestContext.Path, "/prod/events"},
		{"stage", got.RequestContext.Stage, "prod"},
		{"header X-Multi", got.Headers["X-Multi"], "b"},
		{"multiValueHeaders X-Multi", strings.Join(got.MultiValueHeaders["X-Multi"], ","), "a,b"},
		{"query x", got.QueryStringParameters["x"], "2"},
		{"multi-value query x", strings.Join(got.MultiValueQueryStringParameters["x"], ","), "1,2"},
		{"apiKeyId", got.RequestContext.Identity.APIKeyID, KeyID(key)},
		{"sourceIp", got.RequestContext.Identity.SourceIP, "127.0.0.1"},
		{"request id", got.RequestContext.RequestID, resp.Header.Get("x-amzn-RequestId")},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	if got.IsBase64Encoded || got.RequestContext.RequestTimeEpoch == 0 || len(got.RequestContext.RequestTime) != len("25/Nov/2026:09:01:01 +0000") {
		t.Errorf("isBase64Encoded %v, requestTime %q, epoch %d", got.IsBase64Encoded, got.RequestContext.RequestTime, got.RequestContext.RequestTimeEpoch)
	}

	for _, tc := range []struct{ name, answer string }{
		{"no status code", `{"body":"x"}`},
		{"not JSON", `nope`},
		{"function error", ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			answer = tc.answer
			if tc.name == "function error" {
				s.functions["IngestFunction"] = invokerFunc(func(context.Context, []byte) (lambda.Result, error) {
					return lambda.Result{Err: &lambda.FunctionError{Type: "Panic", Message: "boom"}}, nil
				})
			}
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/prod/events", strings.NewReader(`{}`))
			req.Header.Set("X-Api-Key", key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 502 || string(b) != `{"message":"Internal server error"}` {
				t.Errorf("got %d %s, want 502 Internal server error", resp.StatusCode, b)
			}
		})
	}
}

// TestGzipBomb checks that a body decompressing past 10 MB is refused with 413 after reading at
// most that much.
func TestGzipBomb(t *testing.T) {
	d := loadDefinition(t, nil)
	fn := invokerFunc(func(context.Context, []byte) (lambda.Result, error) {
		t.Error("the function was invoked")
		return lambda.Result{}, nil
	})
	s, err := NewServer(Config{Definition: d, APIKeys: []string{key}, Functions: map[string]lambda.Invoker{"IngestFunction": fn}, AWS: &AWS{}})
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(bytes.Repeat([]byte("a"), MaxPayload+1))
	_ = zw.Close()
	req := httptest.NewRequest(http.MethodPost, "/prod/events", bytes.NewReader(gz.Bytes()))
	req.Header.Set("X-Api-Key", key)
	req.Header.Set("Content-Encoding", "gzip")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != 413 {
		t.Errorf("status: got %d, want 413: %s", rec.Code, rec.Body)
	}
}
