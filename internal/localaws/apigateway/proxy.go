package apigateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// decodeJSON decodes one JSON value for validation, numbers as json.Number (which the validator
// compares exactly); text after the value is an error.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("text after the JSON value")
	}
	return v, nil
}

// ProxyEvent builds the REST API (payload 1.0) proxy event API Gateway sends a Lambda function
// for rc (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format):
// headers with the last value of each name and multiValueHeaders with all of them (null when
// there are none), the query string likewise, the identity and authorizer of the request, and the
// body as text (isBase64Encoded false: the API has no binary media types), after gzip
// decompression.
func (rc *requestContext) proxyEvent() events.APIGatewayProxyRequest {
	ev := events.APIGatewayProxyRequest{
		Resource: rc.resourcePath, Path: rc.path, HTTPMethod: rc.r.Method,
		Body: string(rc.body), IsBase64Encoded: false,
	}
	if !utf8.Valid(rc.body) {
		ev.Body = strings.ToValidUTF8(ev.Body, "\uFFFD")
	}
	headers := rc.r.Header.Clone()
	if rc.r.Host != "" {
		headers.Set("Host", rc.r.Host)
	}
	fwd := rc.sourceIP
	if prior := headers.Get("X-Forwarded-For"); prior != "" {
		fwd = prior + ", " + rc.sourceIP
	}
	headers.Set("X-Forwarded-For", fwd)
	headers.Set("X-Forwarded-Proto", "http")
	if _, port, err := splitPort(rc.r.Host); err == nil && port != "" {
		headers.Set("X-Forwarded-Port", port)
	}
	trace := make([]byte, 16)
	_, _ = rand.Read(trace)
	headers.Set("X-Amzn-Trace-Id", "Root=1-"+strconv.FormatInt(rc.start.Unix(), 16)+"-"+hex.EncodeToString(trace)[:24])
	if len(headers) > 0 {
		ev.Headers, ev.MultiValueHeaders = map[string]string{}, map[string][]string{}
		for k, v := range headers {
			ev.Headers[k] = v[len(v)-1]
			ev.MultiValueHeaders[k] = append([]string(nil), v...)
		}
	}
	if q := rc.r.URL.Query(); len(q) > 0 {
		ev.QueryStringParameters, ev.MultiValueQueryStringParameters = map[string]string{}, map[string][]string{}
		for k, v := range q {
			ev.QueryStringParameters[k] = v[len(v)-1]
			ev.MultiValueQueryStringParameters[k] = append([]string(nil), v...)
		}
	}
	id := events.APIGatewayRequestIdentity{SourceIP: rc.sourceIP, UserAgent: rc.r.Header.Get("User-Agent")}
	if rc.apiKeyID != "" {
		id.APIKey, id.APIKeyID = rc.apiKey, rc.apiKeyID
	}
	if rc.userArn != "" {
		id.UserArn, id.AccessKey, id.Caller, id.User, id.AccountID = rc.userArn, rc.accessKey, rc.accessKey, rc.accessKey, "123456789012"
	}
	ev.RequestContext = events.APIGatewayProxyRequestContext{
		AccountID: "123456789012", ResourceID: resourceID(rc.resourcePath), Stage: rc.stage,
		RequestID: rc.id, ExtendedRequestID: rc.extendedID,
		RequestTime: rc.start.UTC().Format("02/Jan/2006:15:04:05 -0700"), RequestTimeEpoch: rc.start.UnixMilli(),
		Identity: id, ResourcePath: rc.resourcePath, Path: "/" + rc.stage + rc.path, HTTPMethod: rc.r.Method,
		APIID: rc.apiID, Protocol: rc.r.Proto, DomainName: rc.r.Host, DomainPrefix: strings.Split(rc.r.Host, ".")[0],
	}
	if rc.claims != nil {
		ev.RequestContext.Authorizer = map[string]any{"claims": rc.claims}
	}
	return ev
}

func splitPort(host string) (string, string, error) {
	i := strings.LastIndexByte(host, ':')
	if i < 0 {
		return host, "", nil
	}
	return host[:i], host[i+1:], nil
}

// proxyAnswer is the function's answer to a proxy event (payload 1.0): statusCode is required.
type proxyAnswer struct {
	StatusCode        *int                `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

// proxy invokes the function with the proxy event and answers with its response, or 502 when the
// function fails or answers with something that is not a proxy response, 504 past the
// integration timeout.
func (s *Server) proxy(ctx context.Context, w http.ResponseWriter, rc *requestContext) {
	payload, err := json.Marshal(rc.proxyEvent())
	if err != nil || len(payload) > maxLambdaPayload {
		// Lambda refuses an event over 6 MB, and API Gateway answers that as a failed integration.
		s.writeGateway(w, rc, errBadGateway)
		return
	}
	res, err := s.functions[rc.method.Function].Invoke(ctx, payload)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		s.writeGateway(w, rc, errTimeout)
		return
	}
	if err != nil || res.Err != nil {
		s.writeGateway(w, rc, errBadGateway)
		return
	}
	var ans proxyAnswer
	dec := json.NewDecoder(bytes.NewReader(res.Payload))
	if err := dec.Decode(&ans); err != nil || ans.StatusCode == nil || *ans.StatusCode < 100 || *ans.StatusCode > 599 {
		s.writeGateway(w, rc, errBadGateway)
		return
	}
	body := []byte(ans.Body)
	if ans.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(ans.Body); err != nil {
			s.writeGateway(w, rc, errBadGateway)
			return
		}
	}
	h := w.Header()
	for k, vs := range ans.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for k, v := range ans.Headers {
		if _, multi := ans.MultiValueHeaders[k]; !multi {
			h.Set(k, v)
		}
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	rc.finish(w, *ans.StatusCode)
	_, _ = w.Write(body)
	s.log(rc, *ans.StatusCode, "")
}
