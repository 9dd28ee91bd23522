package apigateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/firelane/firelane/internal/localaws/lambda"
)

// FuzzServe sends arbitrary methods, paths, content types, credentials and bodies through the
// API of template.yaml (ingest and Kinesis answering as they do when all is well) and checks that
// every request gets an answer from API Gateway's set, never a panic, and that a client's
// mistake is never a 5XX.
func FuzzServe(f *testing.F) {
	d := loadDefinition(f, map[string]string{"AuthMode": "API_KEY"})
	fn := invokerFunc(func(context.Context, []byte) (lambda.Result, error) {
		return lambda.Result{Payload: []byte(`{"statusCode":200,"body":"{}"}`)}, nil
	})
	kinesis := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write([]byte(`{"FailedRecordCount":0,"Records":[{"SequenceNumber":"1","ShardId":"shardId-000000000000"}]}`))
	})
	s, err := NewServer(Config{Definition: d, APIKeys: []string{key}, Functions: map[string]lambda.Invoker{"IngestFunction": fn},
		AWS: &AWS{Local: map[string]http.Handler{"kinesis": kinesis}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("POST", "/prod/direct/events", "application/json", key, `{"specversion":"1.0","id":"1","source":"/s","type":"t","subject":"O'B","data":{}}`)
	f.Add("POST", "/prod/direct/events", "application/cloudevents+json", key, `[{"specversion":"1.0","id":"1","source":"/s","type":"t","data":{}}]`)
	f.Add("OPTIONS", "/prod/events", "", "", "")
	f.Add("POST", "/prod/events", "text/plain", "", "x")
	f.Fuzz(func(t *testing.T, method, path, ct, apiKey, body string) {
		if !strings.HasPrefix(path, "/") {
			return
		}
		req, err := http.NewRequest(method, "http://127.0.0.1"+path, strings.NewReader(body))
		if err != nil {
			return // not a request an HTTP client can send
		}
		req.RemoteAddr = "127.0.0.1:1234"
		req.Header.Set("Content-Type", ct)
		req.Header.Set("X-Api-Key", apiKey)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code < 200 || rec.Code > 599 {
			t.Fatalf("status %d", rec.Code)
		}
		if rec.Code >= 500 {
			t.Fatalf("%s %s (%s): %d %s", method, path, ct, rec.Code, rec.Body)
		}
	})
}
