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

// restPrincipal is who called a REST API, as the direct route's mapping template reads it: a
// Lambda authorizer's principalId, else the sub claim a Cognito user pool authorizer passes
// (requestContext.authorizer.claims), else the IAM caller's ARN.
// See https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html.
func restPrincipal(rc *events.APIGatewayProxyRequestContext) string {
	if p, ok := rc.Authorizer["principalId"].(string); ok && p != "" {
		return p
	}
	if claims, ok := rc.Authorizer["claims"].(map[string]any); ok {
		if sub, ok := claims["sub"].(string); ok && sub != "" {
			return sub
		}
	}
	return rc.Identity.UserArn
}

// RequestFromREST returns the core's view of a REST API (payload 1.0) proxy request: headers under
// lower-case names (multi-value ones joined with commas), the caller's identity and the stage as
// the server context, each field cut to its bound.
func RequestFromREST(req *events.APIGatewayProxyRequest) Request {
	rc := &req.RequestContext
	r := Request{
		Method:  req.HTTPMethod,
		Headers: lowerHeaders(req.Headers, req.MultiValueHeaders),
		Body:    req.Body,
		Base64:  req.IsBase64Encoded,
		Context: event.ServerContext{
			RequestID: clip(rc.RequestID, maxContextField),
			SourceIP:  clip(rc.Identity.SourceIP, maxContextField),
			UserAgent: clip(rc.Identity.UserAgent, maxUserAgent),
			APIKeyID:  clip(rc.Identity.APIKeyID, maxContextField),
			Principal: clip(restPrincipal(rc), maxContextField),
			Stage:     clip(rc.Stage, maxContextField),
		},
	}
	if r.Method == "" {
		r.Method = rc.HTTPMethod
	}
	if rc.RequestTimeEpoch > 0 {
		r.Received = time.UnixMilli(rc.RequestTimeEpoch)
	}
	return r
}

// RequestFromHTTP returns the core's view of an HTTP API (payload 2.0) request, as
// [RequestFromREST] does for a REST API's.
func RequestFromHTTP(req *events.APIGatewayV2HTTPRequest) Request {
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
	r := Request{
		Method:  rc.HTTP.Method,
		Headers: h,
		Body:    req.Body,
		Base64:  req.IsBase64Encoded,
		Context: event.ServerContext{
			RequestID: clip(rc.RequestID, maxContextField),
			SourceIP:  clip(rc.HTTP.SourceIP, maxContextField),
			UserAgent: clip(rc.HTTP.UserAgent, maxUserAgent),
			Principal: clip(principal, maxContextField),
			Stage:     clip(rc.Stage, maxContextField),
		},
	}
	if rc.TimeEpoch > 0 {
		r.Received = time.UnixMilli(rc.TimeEpoch)
	}
	return r
}

// Handle answers one API Gateway REST API (payload version 1.0) proxy request: the request's
// core view ([RequestFromREST]) is served ([Handler.Serve]) and the outcome becomes the proxy
// response.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	r := RequestFromREST(&req)
	out := h.Serve(ctx, &r)
	return events.APIGatewayProxyResponse{StatusCode: out.Status, Headers: out.Headers, Body: string(out.Body)}, nil
}

// HandleV2 answers one API Gateway HTTP API (payload version 2.0) request, as [Handler.Handle]
// does a REST API's.
func (h *Handler) HandleV2(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	r := RequestFromHTTP(&req)
	out := h.Serve(ctx, &r)
	return events.APIGatewayV2HTTPResponse{StatusCode: out.Status, Headers: out.Headers, Body: string(out.Body)}, nil
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
