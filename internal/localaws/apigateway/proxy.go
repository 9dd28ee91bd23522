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
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/firelane/firelane/internal/localaws/lambda"
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

// ProxyHandler is a function in this process that takes a REST API proxy event as a value and
// answers with the response value, as ingest's adapter does ([ingest.Handler.Handle]). When a
// function is a [lambda.InProcess] whose handler is a ProxyHandler, the API hands it the event
// without encoding it as JSON and takes its answer the same way, under the Lambda context the
// runtime would give it; every other function gets the event's JSON.
type ProxyHandler interface {
	Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error)
}

// errFunction is a function's failure of the invocation, which API Gateway answers as a failed
// integration.
var errFunction = errors.New("the function failed the invocation or answered with something that is not a proxy response")

// invokeProxy invokes the function with ev and returns its answer. An event whose JSON would be
// over Lambda's 6 MB fails, as Lambda refuses it.
func (s *Server) invokeProxy(ctx context.Context, function string, ev *events.APIGatewayProxyRequest) (proxyAnswer, error) {
	fn := s.functions[function]
	if p, ok := fn.(lambda.InProcess); ok {
		if h, ok := p.Handler.(ProxyHandler); ok {
			// The event passes as a value only when its JSON is surely within the limit and holds
			// nothing that encoding would change (text that is not UTF-8); else it goes as JSON.
			if size, exact := jsonBound(reflect.ValueOf(ev).Elem()); exact && size <= maxLambdaPayload {
				fctx, cancel := p.Context(ctx)
				defer cancel()
				resp, err := h.Handle(fctx, *ev)
				if err != nil {
					return proxyAnswer{}, errFunction
				}
				if _, exact := jsonBound(reflect.ValueOf(&resp).Elem()); exact {
					return proxyAnswer{StatusCode: &resp.StatusCode, Headers: resp.Headers, MultiValueHeaders: resp.MultiValueHeaders, Body: resp.Body, IsBase64Encoded: resp.IsBase64Encoded}, nil
				}
				b, _ := json.Marshal(resp) // text that is not UTF-8 is coerced as the runtime's encoding would
				return decodeAnswer(b)
			}
		}
	}
	payload, err := json.Marshal(ev)
	if err != nil || len(payload) > maxLambdaPayload {
		// Lambda refuses an event over 6 MB, and API Gateway answers that as a failed integration.
		return proxyAnswer{}, errFunction
	}
	res, err := fn.Invoke(ctx, payload)
	if err != nil || res.Err != nil {
		return proxyAnswer{}, errFunction
	}
	return decodeAnswer(res.Payload)
}

// decodeAnswer decodes a function's JSON answer to a proxy event.
func decodeAnswer(b []byte) (proxyAnswer, error) {
	var ans proxyAnswer
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&ans); err != nil {
		return proxyAnswer{}, errFunction
	}
	return ans, nil
}

// jsonBound returns a bound on the length of v's JSON encoding (at least its length), and whether
// encoding v would keep every string as it is: false when a string is not valid UTF-8 (which
// encoding/json coerces) or v holds a kind this bound does not know.
func jsonBound(v reflect.Value) (int, bool) {
	const scalar = 32 // a number, a bool or null, with a member's punctuation
	switch v.Kind() {
	case reflect.String:
		return stringBound(v.String())
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return scalar, true
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return scalar, true
		}
		return jsonBound(v.Elem())
	case reflect.Struct:
		n := 2
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			m, ok := jsonBound(v.Field(i))
			if !ok {
				return 0, false
			}
			n += len(f.Name) + len(f.Tag) + 4 + m
		}
		return n, true
	case reflect.Map:
		n := 2
		for it := v.MapRange(); it.Next(); {
			k, ok := jsonBound(it.Key())
			if !ok || it.Key().Kind() != reflect.String {
				return 0, false
			}
			m, ok := jsonBound(it.Value())
			if !ok {
				return 0, false
			}
			n += k + m + 2
		}
		return n + scalar, true
	case reflect.Slice, reflect.Array:
		n := 2 + scalar
		for i := range v.Len() {
			m, ok := jsonBound(v.Index(i))
			if !ok {
				return 0, false
			}
			n += m + 1
		}
		return n, true
	}
	return 0, false
}

// stringBound bounds the length of s as a JSON string, quotes included, as encoding/json writes
// it: six bytes for a control character and for each of <>& (escaped for HTML), two for a quote
// or a backslash, six for U+2028 and U+2029, and a byte for every other byte. It reports false for
// text that is not UTF-8, which encoding/json would change.
func stringBound(s string) (int, bool) {
	if !utf8.ValidString(s) {
		return 0, false
	}
	n := 2
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c == '<' || c == '>' || c == '&':
			n += 6
		case c == '"' || c == '\\':
			n += 2
		default:
			n++
		}
	}
	return n + 3*(strings.Count(s, "\u2028")+strings.Count(s, "\u2029")), true
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
	ev := rc.proxyEvent()
	ans, err := s.invokeProxy(ctx, rc.method.Function, &ev)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		s.writeGateway(w, rc, errTimeout)
		return
	}
	if err != nil || ans.StatusCode == nil || *ans.StatusCode < 100 || *ans.StatusCode > 599 {
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
