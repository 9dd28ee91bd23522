package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"
)

// Request is one API request to send, with the file it came from: a REST API (v1) proxy request,
// or an HTTP API (v2) request when V2 is set.
type Request struct {
	Name string
	Req  events.APIGatewayProxyRequest
	V2   *events.APIGatewayV2HTTPRequest
}

// LoadRequests reads API requests from files and directories (only *.json and *.ndjson files of a
// directory, sorted). A file holds an API Gateway REST proxy request (an object with httpMethod), an
// HTTP API request (version "2.0" with a routeKey), a
// CloudEvent or a JSON array of them (sent as one request), or NDJSON events (sent 500 to a
// request).
func LoadRequests(paths []string) ([]Request, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		var found []string
		for _, pat := range []string{"*.json", "*.ndjson"} {
			m, _ := filepath.Glob(filepath.Join(p, pat))
			found = append(found, m...)
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	var out []Request
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		reqs, err := requestsOf(f, b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, reqs...)
	}
	return out, nil
}

func requestsOf(name string, b []byte) ([]Request, error) {
	if strings.HasSuffix(name, ".ndjson") {
		var lines []string
		for _, l := range bytes.Split(b, []byte("\n")) {
			if l = bytes.TrimSpace(l); len(l) > 0 {
				lines = append(lines, string(l))
			}
		}
		var out []Request
		for i := 0; i < len(lines); i += 500 {
			end := min(i+500, len(lines))
			body := "[" + strings.Join(lines[i:end], ",") + "]"
			out = append(out, Request{Name: fmt.Sprintf("%s[%d:%d]", name, i, end), Req: NewRequest(body)})
		}
		return out, nil
	}
	var probe struct {
		HTTPMethod *string `json:"httpMethod"`
		Version    string  `json:"version"`
		RouteKey   *string `json:"routeKey"`
	}
	t := bytes.TrimSpace(b)
	if len(t) > 0 && t[0] == '{' && json.Unmarshal(t, &probe) == nil && probe.Version == "2.0" && probe.RouteKey != nil {
		var req events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(t, &req); err != nil {
			return nil, fmt.Errorf("decode API Gateway HTTP API request: %w", err)
		}
		return []Request{{Name: name, V2: &req}}, nil
	}
	if len(t) > 0 && t[0] == '{' && json.Unmarshal(t, &probe) == nil && probe.HTTPMethod != nil {
		var req events.APIGatewayProxyRequest
		if err := json.Unmarshal(t, &req); err != nil {
			return nil, fmt.Errorf("decode API Gateway request: %w", err)
		}
		return []Request{{Name: name, Req: req}}, nil
	}
	return []Request{{Name: name, Req: NewRequest(string(t))}}, nil
}

// NewRequest returns a REST proxy request for POST /events with body, as API Gateway would pass it.
func NewRequest(body string) events.APIGatewayProxyRequest {
	now := time.Now()
	return events.APIGatewayProxyRequest{
		Resource: "/events", Path: "/events", HTTPMethod: "POST",
		Headers: map[string]string{"Content-Type": "application/json", "User-Agent": "firelane-local/1.0"},
		RequestContext: events.APIGatewayProxyRequestContext{
			RequestID: uuid.NewString(), Stage: "local", ResourcePath: "/events", HTTPMethod: "POST",
			RequestTimeEpoch: now.UnixMilli(), RequestTime: now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			Identity: events.APIGatewayRequestIdentity{SourceIP: "127.0.0.1", UserAgent: "firelane-local/1.0"},
		},
		Body: body,
	}
}
