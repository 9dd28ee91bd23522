package apigateway

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/firelane/firelane/internal/localaws/lambda"
)

// proxySpy is a REST API proxy function that keeps the events it gets and answers with a header
// taken from the request, so that what the API hands over either way can be compared.
type proxySpy struct {
	direct, viaJSON int
	got             []events.APIGatewayProxyRequest
}

func (p *proxySpy) answer(ctx context.Context, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	p.got = append(p.got, req)
	fn, inLambda := "", "false"
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		fn = strings.TrimPrefix(lc.InvokedFunctionArn, "arn:aws:lambda:us-east-1:123456789012:function:")
		if _, deadline := ctx.Deadline(); deadline && lc.AwsRequestID != "" {
			inLambda = "true"
		}
	}
	return events.APIGatewayProxyResponse{StatusCode: 201, Headers: map[string]string{"X-Echo": req.Headers["X-Echo"]},
		MultiValueHeaders: map[string][]string{"X-Lambda": {fn}}, Body: `{"lambda_context":` + inLambda + `}`}
}

// Handle is the typed path.
func (p *proxySpy) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	p.direct++
	return p.answer(ctx, req), nil
}

// Invoke is the JSON path.
func (p *proxySpy) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	p.viaJSON++
	var req events.APIGatewayProxyRequest
	if err := json.Unmarshal(payload, &req); err != nil {
		return nil, err
	}
	return json.Marshal(p.answer(ctx, req))
}

// jsonOnly hides the typed path of a handler: the API must hand it JSON.
type jsonOnly struct{ h lambda.Handler }

func (j jsonOnly) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return j.h.Invoke(ctx, payload)
}

// TestProxyInProcess checks that an in-process function that takes the proxy event as a value
// gets the same event, under the same Lambda context, and gives the same answer as through JSON;
// that text encoding/json would change goes through JSON; and that an event over Lambda's 6 MB is
// refused either way.
func TestProxyInProcess(t *testing.T) {
	d := loadDefinition(t, nil)
	type run struct {
		spy *proxySpy
		srv *httptest.Server
	}
	start := func(direct bool) run {
		spy := &proxySpy{}
		var h lambda.Handler = spy
		if !direct {
			h = jsonOnly{spy}
		}
		s, err := NewServer(Config{Definition: d, APIKeys: []string{key}, AWS: &AWS{},
			Functions: map[string]lambda.Invoker{"IngestFunction": lambda.InProcess{Handler: h, Name: "firelane-ingest"}}})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(s)
		t.Cleanup(srv.Close)
		return run{spy, srv}
	}
	direct, viaJSON := start(true), start(false)
	tests := []struct {
		name     string
		header   string // the X-Echo header sent
		answer   string // the X-Echo header answered
		body     string
		status   int
		wantJSON bool // the direct server too must pass the event as JSON
	}{
		{"plain", "a", "a", `[{"id":"1","data":"<&>\u2028"}]`, 201, false},
		{"header not UTF-8", "a\xff\xfeb", "a\ufffd\ufffdb", `{}`, 201, true},
		{"over 6 MB", "a", "", `"` + strings.Repeat("x", 6<<20) + `"`, 502, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen [2]string
			for i, r := range []run{direct, viaJSON} {
				d0, j0 := r.spy.direct, r.spy.viaJSON
				req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, r.srv.URL+"/prod/events", strings.NewReader(tt.body))
				req.Header.Set("X-Api-Key", key)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Echo", tt.header)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tt.status {
					t.Fatalf("got status %d, want %d: %s", resp.StatusCode, tt.status, body)
				}
				if tt.status != 201 {
					if r.spy.direct != d0 || r.spy.viaJSON != j0 {
						t.Errorf("the function was invoked with an event over the limit")
					}
					continue
				}
				if got := resp.Header.Get("X-Echo"); got != tt.answer {
					t.Errorf("answered header: got %q, want %q", got, tt.answer)
				}
				if got := resp.Header.Get("X-Lambda"); got != "firelane-ingest" {
					t.Errorf("multi-value header: got %q, want the function's name", got)
				}
				if string(body) != `{"lambda_context":true}` {
					t.Errorf("got body %s, want one from a function with a Lambda context and a deadline", body)
				}
				gotDirect := r.spy.direct - d0
				if want := 1; r == viaJSON || tt.wantJSON {
					want = 0
					if r.spy.viaJSON-j0 != 1 {
						t.Errorf("got %d invocations through JSON, want 1", r.spy.viaJSON-j0)
					}
				} else if gotDirect != want {
					t.Errorf("got %d invocations with the event as a value, want %d", gotDirect, want)
				}
				ev := r.spy.got[len(r.spy.got)-1]
				// What differs from one request to the next.
				ev.RequestContext.RequestID, ev.RequestContext.ExtendedRequestID, ev.RequestContext.RequestTime, ev.RequestContext.RequestTimeEpoch = "", "", "", 0
				delete(ev.Headers, "X-Amzn-Trace-Id")
				delete(ev.MultiValueHeaders, "X-Amzn-Trace-Id")
				for _, m := range []map[string]string{ev.Headers} {
					delete(m, "Host")
					delete(m, "X-Forwarded-Port")
				}
				for _, m := range []map[string][]string{ev.MultiValueHeaders} {
					delete(m, "Host")
					delete(m, "X-Forwarded-Port")
				}
				ev.RequestContext.DomainName, ev.RequestContext.DomainPrefix = "", ""
				b, _ := json.Marshal(ev)
				seen[i] = string(b)
			}
			if seen[0] != seen[1] {
				t.Errorf("the event as a value differs from the event through JSON:\n%s\n%s", seen[0], seen[1])
			}
		})
	}
}
