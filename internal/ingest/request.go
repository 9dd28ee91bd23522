package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/firelane/firelane/internal/event"
)

// request is what the edge needs of an API Gateway request, whichever payload version carried it.
type request struct {
	method   string
	headers  map[string]string // names in lower case
	body     string
	base64   bool
	received time.Time // when API Gateway received the request; zero when it did not say
	ctx      event.ServerContext
}

// header returns the value of the header with the given lower-case name.
func (r *request) header(name string) string { return r.headers[name] }

// lowerHeaders merges single- and multi-value headers under lower-case names. HTTP header names
// are case-insensitive, and REST APIs pass them as the client spelled them.
func lowerHeaders(single map[string]string, multi map[string][]string) map[string]string {
	h := make(map[string]string, len(single)+len(multi))
	for k, vs := range multi {
		if len(vs) > 0 {
			h[strings.ToLower(k)] = strings.Join(vs, ",")
		}
	}
	for k, v := range single {
		h[strings.ToLower(k)] = v
	}
	return h
}

// Bounds on the server context's fields, which come from headers the client chose: they keep an
// ingest record's overhead small and known (see MaxEventBytesLimit).
const (
	maxContextField = 1024
	maxUserAgent    = 1024
)

func fromV1(req *events.APIGatewayProxyRequest) request {
	rc := &req.RequestContext
	principal := rc.Identity.UserArn
	if p, ok := rc.Authorizer["principalId"].(string); ok && p != "" {
		principal = p
	}
	r := request{
		method:  req.HTTPMethod,
		headers: lowerHeaders(req.Headers, req.MultiValueHeaders),
		body:    req.Body,
		base64:  req.IsBase64Encoded,
		ctx: event.ServerContext{
			RequestID: clip(rc.RequestID, maxContextField),
			SourceIP:  clip(rc.Identity.SourceIP, maxContextField),
			UserAgent: clip(rc.Identity.UserAgent, maxUserAgent),
			APIKeyID:  clip(rc.Identity.APIKeyID, maxContextField),
			Principal: clip(principal, maxContextField),
			Stage:     clip(rc.Stage, maxContextField),
		},
	}
	if r.method == "" {
		r.method = rc.HTTPMethod
	}
	if rc.RequestTimeEpoch > 0 {
		r.received = time.UnixMilli(rc.RequestTimeEpoch)
	}
	return r
}

func fromV2(req *events.APIGatewayV2HTTPRequest) request {
	rc := &req.RequestContext
	var principal string
	if a := rc.Authorizer; a != nil {
		switch {
		case a.IAM != nil && a.IAM.UserARN != "":
			principal = a.IAM.UserARN
		case a.JWT != nil && a.JWT.Claims["sub"] != "":
			principal = a.JWT.Claims["sub"]
		default:
			if p, ok := a.Lambda["principalId"].(string); ok {
				principal = p
			}
		}
	}
	h := make(map[string]string, len(req.Headers))
	for k, v := range req.Headers {
		h[strings.ToLower(k)] = v
	}
	r := request{
		method:  rc.HTTP.Method,
		headers: h,
		body:    req.Body,
		base64:  req.IsBase64Encoded,
		ctx: event.ServerContext{
			RequestID: clip(rc.RequestID, maxContextField),
			SourceIP:  clip(rc.HTTP.SourceIP, maxContextField),
			UserAgent: clip(rc.HTTP.UserAgent, maxUserAgent),
			Principal: clip(principal, maxContextField),
			Stage:     clip(rc.Stage, maxContextField),
		},
	}
	if rc.TimeEpoch > 0 {
		r.received = time.UnixMilli(rc.TimeEpoch)
	}
	return r
}

// Handle answers one API Gateway REST API (payload version 1.0) proxy request.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	r := fromV1(&req)
	a := h.serve(ctx, &r)
	return events.APIGatewayProxyResponse{StatusCode: a.status, Headers: a.headers, Body: string(a.body)}, nil
}

// HandleV2 answers one API Gateway HTTP API (payload version 2.0) request.
func (h *Handler) HandleV2(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	r := fromV2(&req)
	a := h.serve(ctx, &r)
	return events.APIGatewayV2HTTPResponse{StatusCode: a.status, Headers: a.headers, Body: string(a.body)}, nil
}

// Invoke implements the Lambda runtime's handler interface: it answers a REST API (1.0) or HTTP
// API (2.0) proxy event, told apart by the "version" member that only 2.0 carries, in the answer
// shape of the same version. It returns an error only for a payload that is not an API Gateway
// proxy event at all, which a client cannot send.
func (h *Handler) Invoke(ctx context.Context, raw []byte) ([]byte, error) {
	p, err := decodePayload(raw)
	if err != nil {
		return nil, fmt.Errorf("decode API Gateway event: %w", err)
	}
	if p.Version == "2.0" {
		req := events.APIGatewayV2HTTPRequest{Version: p.Version, RouteKey: p.RouteKey, RawPath: p.RawPath, Headers: p.Headers, Body: p.Body, IsBase64Encoded: p.IsBase64Encoded}
		if len(p.RequestContext) > 0 {
			if err := json.Unmarshal(p.RequestContext, &req.RequestContext); err != nil {
				return nil, fmt.Errorf("decode HTTP API request context: %w", err)
			}
		}
		resp, _ := h.HandleV2(ctx, req)
		return json.Marshal(resp)
	}
	req := events.APIGatewayProxyRequest{Resource: p.Resource, Path: p.Path, HTTPMethod: p.HTTPMethod, Headers: p.Headers, MultiValueHeaders: p.MultiValueHeaders, Body: p.Body, IsBase64Encoded: p.IsBase64Encoded}
	if len(p.RequestContext) > 0 {
		if err := json.Unmarshal(p.RequestContext, &req.RequestContext); err != nil {
			return nil, fmt.Errorf("decode REST API request context: %w", err)
		}
	}
	resp, _ := h.Handle(ctx, req)
	return json.Marshal(resp)
}
