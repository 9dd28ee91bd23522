package apigateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/firelane/firelane/internal/localaws/vtl"
)

// requestTemplate picks the integration request template for the request's content type; ok is
// false when the passthrough behaviour refuses the request (415).
func (rc *requestContext) requestTemplate() (t *vtl.Template, ok bool) {
	i := rc.method.Integration
	if t, found := i.RequestTemplates[mediaType(rc.r)]; found {
		return t, true
	}
	switch i.Passthrough {
	case "never":
		return nil, false
	case "when_no_templates":
		return nil, !i.hasRequestTemplates
	}
	return nil, true
}

// mock answers a mock integration: the request template's statusCode selects the integration
// response, whose parameters and template make the answer.
func (s *Server) mock(_ context.Context, w http.ResponseWriter, rc *requestContext) {
	t, ok := rc.requestTemplate()
	if !ok {
		s.writeGateway(w, rc, errMediaType)
		return
	}
	status := 200
	if t != nil {
		res, err := t.Execute(vtl.Request{Body: string(rc.body), Params: rc.params(), Context: rc.templateContext()})
		if err != nil {
			s.writeGateway(w, rc, errInternal)
			return
		}
		var out struct {
			StatusCode json.Number `json:"statusCode"`
		}
		if err := json.Unmarshal([]byte(res.Output), &out); err != nil {
			s.writeGateway(w, rc, errInternal)
			return
		}
		n, err := strconv.Atoi(out.StatusCode.String())
		if err != nil {
			s.writeGateway(w, rc, errInternal)
			return
		}
		status = n
	}
	s.integrationResponse(w, rc, status, nil, "")
}

// service calls the AWS action of an aws integration with the rendered request template, and
// answers through the integration response its status selects.
func (s *Server) service(ctx context.Context, w http.ResponseWriter, rc *requestContext) {
	i := rc.method.Integration
	t, ok := rc.requestTemplate()
	if !ok {
		s.writeGateway(w, rc, errMediaType)
		return
	}
	payload := string(rc.body)
	if t != nil {
		res, err := t.Execute(vtl.Request{Body: string(rc.body), Params: rc.params(), Context: rc.templateContext()})
		if err != nil {
			s.logger.Warn("request mapping failed", "request_id", rc.id, "error_class", errorClass(err))
			s.writeGateway(w, rc, errInternal)
			return
		}
		payload = res.Output
	}
	status, header, body, err := s.aws.Call(ctx, i.Service, i.Action, i.RequestHeaders, []byte(payload))
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			s.writeGateway(w, rc, errTimeout)
			return
		}
		s.logger.Warn("integration failed", "request_id", rc.id, "service", i.Service, "action", i.Action)
		s.writeGateway(w, rc, errInternal)
		return
	}
	s.integrationResponse(w, rc, status, header, string(body))
}

// errorClass names what kind of failure err is, without its text (which can quote a payload).
func errorClass(err error) string {
	if errors.Is(err, vtl.ErrMethod) {
		return "method"
	}
	var se *vtl.SyntaxError
	if errors.As(err, &se) {
		return "syntax"
	}
	return "other"
}

// integrationResponse selects the integration response for status (the first selection pattern
// matching it, else default), renders its template with the integration's answer as
// $input.body, and writes the method response.
func (s *Server) integrationResponse(w http.ResponseWriter, rc *requestContext, status int, header http.Header, body string) {
	var chosen *IntegrationResponse
	for k := range rc.method.Responses {
		r := &rc.method.Responses[k]
		if r.Pattern == nil || r.Pattern.MatchString(strconv.Itoa(status)) {
			chosen = r
			break
		}
	}
	if chosen == nil {
		s.writeGateway(w, rc, errInternal)
		return
	}
	out, code := body, chosen.Status
	h := w.Header()
	for k, v := range chosen.Parameters {
		name, ok := strings.CutPrefix(k, "method.response.header.")
		if !ok {
			continue
		}
		switch {
		case isStatic(v):
			h.Set(name, strings.Trim(v, "'"))
		case strings.HasPrefix(v, "integration.response.header."):
			if header != nil {
				if hv := header.Get(strings.TrimPrefix(v, "integration.response.header.")); hv != "" {
					h.Set(name, hv)
				}
			}
		}
	}
	if t, ok := chosen.Templates["application/json"]; ok {
		res, err := t.Execute(vtl.Request{Body: body, Params: rc.params(), Context: rc.templateContext()})
		if err != nil {
			s.logger.Warn("response mapping failed", "request_id", rc.id, "error_class", errorClass(err))
			h := w.Header()
			for k := range h {
				h.Del(k)
			}
			s.writeGateway(w, rc, errInternal)
			return
		}
		out = res.Output
		for k, v := range res.ResponseHeaders {
			h.Set(k, v)
		}
		if n := res.StatusCode(); n != 0 {
			code = n
		}
	}
	h.Set("Content-Type", "application/json")
	if code == http.StatusNoContent || code == http.StatusNotModified {
		out = ""
	}
	rc.finish(w, code)
	_, _ = w.Write([]byte(out))
	s.log(rc, code, "")
}
