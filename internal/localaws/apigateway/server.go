package apigateway

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/firelane/firelane/internal/localaws/lambda"
	"github.com/firelane/firelane/internal/localaws/vtl"
)

// API Gateway's limits for a REST API
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html).
const (
	// MaxPayload is the largest request body a REST API takes (10 MB).
	MaxPayload = 10 << 20
	// IntegrationTimeout is the default (and, without a quota increase, the longest) time an
	// integration may take.
	IntegrationTimeout = 29 * time.Second
	// maxLambdaPayload is Lambda's limit for a synchronous invocation's event (6 MB).
	maxLambdaPayload = 6 << 20
)

// Config configures a [Server].
type Config struct {
	Definition *Definition
	// APIKeys are the keys an api_key method accepts (the usage plan's keys).
	APIKeys []string
	// Functions runs each aws_proxy integration's function, by logical ID.
	Functions map[string]lambda.Invoker
	// AWS sends each aws integration's action.
	AWS *AWS
	// Now is the clock (time.Now when nil).
	Now    func() time.Time
	Logger *slog.Logger
}

// Server serves a [Definition] over HTTP as API Gateway serves the deployed stage: paths under
// /STAGE, authorization, usage plan, request validation, integrations, gateway responses.
type Server struct {
	def       *Definition
	keys      map[string]string // API key value -> its id
	functions map[string]lambda.Invoker
	aws       *AWS
	now       func() time.Time
	logger    *slog.Logger

	stage *bucket
	mu    sync.Mutex
	plans map[string]*keyUsage // per API key id
}

// NewServer checks cfg and returns a server. Every aws_proxy function must have an invoker, and
// aws integrations need cfg.AWS.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Definition == nil {
		return nil, errors.New("apigateway: no definition")
	}
	s := &Server{def: cfg.Definition, keys: map[string]string{}, functions: cfg.Functions, aws: cfg.AWS, now: cfg.Now, logger: cfg.Logger, plans: map[string]*keyUsage{}}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	for _, k := range cfg.APIKeys {
		// API Gateway takes keys of 20 to 128 characters.
		if len(k) < 20 || len(k) > 128 {
			return nil, fmt.Errorf("apigateway: an API key has 20 to 128 characters, got %d", len(k))
		}
		s.keys[k] = KeyID(k)
	}
	for path, methods := range s.def.Routes {
		for verb, m := range methods {
			switch m.Type {
			case "aws_proxy":
				if s.functions[m.Function] == nil {
					return nil, fmt.Errorf("apigateway: %s %s: no invoker for %s", verb, path, m.Function)
				}
			case "aws":
				if s.aws == nil {
					return nil, fmt.Errorf("apigateway: %s %s: an aws integration needs AWS", verb, path)
				}
			}
			if m.Auth == "api_key" && len(s.keys) == 0 {
				return nil, fmt.Errorf("apigateway: %s %s requires an API key: give at least one", verb, path)
			}
		}
	}
	if t := s.def.StageThrottle; t != nil {
		s.stage = newBucket(*t, s.now())
	}
	return s, nil
}

// KeyID is the id the local API gives an API key: stable for a key, ten characters as API
// Gateway's are, and not the key itself.
func KeyID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:5])
}

// requestContext is what API Gateway knows about one request.
type requestContext struct {
	id, extendedID string
	start          time.Time
	r              *http.Request
	stage          string
	resourcePath   string
	path           string // without the stage
	method         *Method
	body           []byte
	sourceIP       string
	apiKey         string
	apiKeyID       string
	accessKey      string
	userArn        string
	claims         map[string]any
	apiID          string
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// params are $input.params(): the method request's path, query string and header parameters.
func (rc *requestContext) params() vtl.Params {
	p := vtl.Params{Path: map[string]string{}, QueryString: map[string]string{}, Header: map[string]string{}}
	for k, v := range rc.r.URL.Query() {
		p.QueryString[k] = v[len(v)-1]
	}
	for k, v := range rc.r.Header {
		p.Header[k] = v[len(v)-1]
	}
	return p
}

// templateContext is $context for the mapping templates.
func (rc *requestContext) templateContext() map[string]any {
	identity := map[string]any{"sourceIp": rc.sourceIP}
	if ua := rc.r.Header.Get("User-Agent"); ua != "" {
		identity["userAgent"] = ua
	}
	if rc.apiKeyID != "" {
		identity["apiKey"], identity["apiKeyId"] = rc.apiKey, rc.apiKeyID
	}
	if rc.userArn != "" {
		identity["userArn"], identity["accessKey"], identity["caller"], identity["user"] = rc.userArn, rc.accessKey, rc.accessKey, rc.accessKey
		identity["accountId"] = "123456789012"
	}
	authorizer := map[string]any{}
	if rc.claims != nil {
		authorizer["claims"] = rc.claims
	}
	return map[string]any{
		"requestId": rc.id, "extendedRequestId": rc.extendedID, "stage": rc.stage,
		"requestTime": rc.start.UTC().Format("02/Jan/2006:15:04:05 -0700"), "requestTimeEpoch": rc.start.UnixMilli(),
		"httpMethod": rc.r.Method, "resourcePath": rc.resourcePath, "path": "/" + rc.stage + rc.path,
		"accountId": "123456789012", "apiId": rc.apiID, "resourceId": resourceID(rc.resourcePath),
		"domainName": rc.r.Host, "domainPrefix": strings.Split(rc.r.Host, ".")[0], "protocol": rc.r.Proto,
		"identity": identity, "authorizer": authorizer,
	}
}

func resourceID(path string) string {
	sum := sha256.Sum256([]byte(path))
	return hex.EncodeToString(sum[:3])
}

// finish writes the headers API Gateway adds to every answer, then the status.
func (rc *requestContext) finish(w http.ResponseWriter, status int) {
	// Set as API Gateway spells them (Header.Set would canonicalise the case).
	h := w.Header()
	h["x-amzn-RequestId"] = []string{rc.id}
	h["x-amz-apigw-id"] = []string{rc.extendedID}
	w.WriteHeader(status)
}

func (s *Server) log(rc *requestContext, status int, errType string) {
	attrs := []any{"request_id", rc.id, "method", rc.r.Method, "resource", rc.resourcePath, "status", status,
		"latency_ms", time.Since(rc.start).Milliseconds()}
	if rc.apiKeyID != "" {
		attrs = append(attrs, "api_key_id", rc.apiKeyID)
	}
	if errType != "" {
		attrs = append(attrs, "error", errType)
	}
	s.logger.Info("request", attrs...)
}

// ServeHTTP answers one request as the deployed stage would.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc := &requestContext{id: newID(), start: s.now(), r: r, stage: s.def.Stage, apiID: "local"}
	rc.extendedID = strings.ToUpper(rc.id[:8]) + "="
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		rc.sourceIP = host
	}
	route, ok := strings.CutPrefix(r.URL.Path, "/"+s.def.Stage)
	if !ok || route != "" && route[0] != '/' {
		s.writeGateway(w, rc, errMissingToken)
		return
	}
	if route == "" {
		route = "/"
	}
	rc.path, rc.resourcePath = route, route
	methods := s.def.Routes[route]
	m := methods[r.Method]
	if m == nil {
		m = methods["ANY"]
	}
	if m == nil {
		s.writeGateway(w, rc, errMissingToken)
		return
	}
	rc.method = m
	if ge, ok := s.authorize(rc); !ok {
		s.writeGateway(w, rc, ge)
		return
	}
	if ge, ok := s.meter(rc); !ok {
		s.writeGateway(w, rc, ge)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPayload+1))
	if err != nil {
		s.writeGateway(w, rc, errBadBody)
		return
	}
	if len(body) > MaxPayload {
		s.writeGateway(w, rc, errTooLarge)
		return
	}
	// A REST API decompresses a gzip request body before validation, mapping and invocation
	// (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-gzip-compression-decompression.html).
	if enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc == "gzip" || enc == "x-gzip" {
		if body, err = gunzip(body); err != nil {
			ge := errBadBody
			if errors.Is(err, errTooLargeBody) {
				ge = errTooLarge
			}
			s.writeGateway(w, rc, ge)
			return
		}
	}
	rc.body = body
	if m.Model != nil && m.Type != "mock" {
		if ge, ok := s.validate(rc); !ok {
			s.writeGateway(w, rc, ge)
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), IntegrationTimeout)
	defer cancel()
	switch m.Type {
	case "mock":
		s.mock(ctx, w, rc)
	case "aws_proxy":
		s.proxy(ctx, w, rc)
	case "aws":
		s.service(ctx, w, rc)
	}
}

// errTooLargeBody reports a gzip body that decompresses to more than [MaxPayload].
var errTooLargeBody = errors.New("the gzip body decompresses to more than 10 MB")

// gunzip decompresses at most MaxPayload bytes; a larger result is refused like a larger body.
func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("gzip body: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, MaxPayload+1))
	if err != nil {
		return nil, fmt.Errorf("gzip body: %w", err)
	}
	if len(out) > MaxPayload {
		return nil, errTooLargeBody
	}
	return out, nil
}

// mediaType is the request's content type without parameters; a request without one is taken as
// application/json, as API Gateway takes it.
func mediaType(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return "application/json"
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
	}
	return mt
}

// validate checks the body against the method's model, for a content type the method consumes.
func (s *Server) validate(rc *requestContext) (gatewayError, bool) {
	mt := mediaType(rc.r)
	applies := len(rc.method.Consumes) == 0
	for _, c := range rc.method.Consumes {
		if strings.EqualFold(c, mt) {
			applies = true
		}
	}
	if !applies {
		return gatewayError{}, true
	}
	doc, err := decodeJSON(rc.body)
	if err != nil {
		return errBadBody, false
	}
	if err := rc.method.Model.Validate(doc); err != nil {
		return errBadBody, false
	}
	return gatewayError{}, true
}
