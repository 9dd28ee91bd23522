package apigateway

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/firelane/firelane/internal/localaws/vtl"
)

// gatewayError is one of API Gateway's own answers: its gateway response type, with the default
// status code of https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html,
// the message $context.error.message holds, and the x-amzn-ErrorType header.
type gatewayError struct {
	Type      string
	Status    int
	Message   string
	ErrorType string
}

var (
	errMissingToken = gatewayError{"MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token", "MissingAuthenticationTokenException"}
	errInvalidKey   = gatewayError{"INVALID_API_KEY", 403, "Forbidden", "ForbiddenException"}
	errUnauthorized = gatewayError{"UNAUTHORIZED", 401, "Unauthorized", "UnauthorizedException"}
	errThrottled    = gatewayError{"THROTTLED", 429, "Too Many Requests", "TooManyRequestsException"}
	errQuota        = gatewayError{"QUOTA_EXCEEDED", 429, "Limit Exceeded", "LimitExceededException"}
	errBadBody      = gatewayError{"BAD_REQUEST_BODY", 400, "Invalid request body", "BadRequestException"}
	errMediaType    = gatewayError{"UNSUPPORTED_MEDIA_TYPE", 415, "Unsupported Media Type", "UnsupportedMediaTypeException"}
	errTooLarge     = gatewayError{"REQUEST_TOO_LARGE", 413, "Request Too Long", "RequestTooLongException"}
	errTimeout      = gatewayError{"INTEGRATION_TIMEOUT", 504, "Endpoint request timed out", "InternalServerErrorException"}
	// A failed mapping template or an unreachable AWS service: API Gateway answers 500.
	errInternal = gatewayError{"API_CONFIGURATION_ERROR", 500, "Internal server error", "InternalServerErrorException"}
	// A Lambda function error or a malformed proxy answer: 502 (DEFAULT_5XX).
	errBadGateway = gatewayError{"DEFAULT_5XX", 502, "Internal server error", "InternalServerErrorException"}
)

// signatureError is the 403 API Gateway answers an IAM method with when the Authorization header
// is not a complete SigV4 one.
func signatureError(msg string) gatewayError {
	return gatewayError{"INVALID_SIGNATURE", 403, msg, "IncompleteSignatureException"}
}

// defaultGatewayTemplate is the body template every gateway response has unless customised.
var defaultGatewayTemplate = mustParse(`{"message":$context.error.messageString}`)

func mustParse(s string) *vtl.Template {
	t, err := vtl.Parse(s)
	if err != nil {
		panic(err)
	}
	return t
}

// writeGateway answers with a gateway response: the type's customisation, else DEFAULT_4XX or
// DEFAULT_5XX's, applied to its status, headers and body template.
func (s *Server) writeGateway(w http.ResponseWriter, rc *requestContext, ge gatewayError) {
	status := ge.Status
	fallback := "DEFAULT_4XX"
	if status >= 500 {
		fallback = "DEFAULT_5XX"
	}
	headers := map[string]string{}
	tmpl := defaultGatewayTemplate
	for _, typ := range []string{fallback, ge.Type} {
		gr, ok := s.def.GatewayResponses[typ]
		if !ok {
			continue
		}
		if gr.Status != 0 {
			status = gr.Status
		}
		for k, v := range gr.Parameters {
			if name, ok := strings.CutPrefix(k, "gatewayresponse.header."); ok && isStatic(v) {
				headers[name] = strings.Trim(v, "'")
			}
		}
		if t, ok := gr.Templates["application/json"]; ok {
			tmpl = t
		}
	}
	msg, _ := json.Marshal(ge.Message)
	ctx := rc.templateContext()
	ctx["error"] = map[string]any{"message": ge.Message, "messageString": string(msg), "responseType": ge.Type}
	body := `{"message":` + string(msg) + `}`
	if res, err := tmpl.Execute(vtl.Request{Params: rc.params(), Context: ctx}); err == nil {
		body = res.Output
	}
	h := w.Header()
	for k, v := range headers {
		h.Set(k, v)
	}
	h.Set("Content-Type", "application/json")
	h["x-amzn-ErrorType"] = []string{ge.ErrorType}
	rc.finish(w, status)
	_, _ = w.Write([]byte(body))
	s.log(rc, status, ge.Type)
}
