package ingest

import (
	"net/http"
	"strings"
)

// preflight answers a CORS preflight request.
func (h *Handler) preflight(r *Request, cors map[string]string) Outcome {
	if r.Header("origin") == "" || r.Header("access-control-request-method") == "" {
		out := refusal(&requestError{http.StatusMethodNotAllowed, "method_not_allowed", "OPTIONS is for CORS preflight requests; use POST to send events"}, r.Context.RequestID, cors)
		out.Headers["Allow"] = "OPTIONS, POST"
		return out
	}
	if cors == nil {
		return refusal(&requestError{http.StatusForbidden, "origin_not_allowed", "this origin may not send events from a browser"}, r.Context.RequestID, nil)
	}
	cors["Access-Control-Allow-Methods"] = "POST, OPTIONS"
	if rh := r.Header("access-control-request-headers"); rh != "" && isTokenList(rh) {
		cors["Access-Control-Allow-Headers"] = clip(rh, 2048)
	}
	cors["Access-Control-Max-Age"] = "600"
	return Outcome{Status: http.StatusNoContent, Headers: cors}
}

// corsHeaders returns the CORS headers of an answer to a request from an allowed origin, nil
// otherwise.
func corsHeaders(r *Request, cfg *Config) map[string]string {
	origin := r.Header("origin")
	if origin == "" || len(cfg.AllowedOrigins) == 0 {
		return nil
	}
	for _, o := range cfg.AllowedOrigins {
		if o == "*" {
			return map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Retry-After"}
		}
		if strings.EqualFold(o, origin) {
			return map[string]string{"Access-Control-Allow-Origin": o, "Vary": "Origin", "Access-Control-Expose-Headers": "Retry-After"}
		}
	}
	return nil
}

// isTokenList reports whether s is a comma-separated list of HTTP header names, so that echoing it
// cannot inject anything into a response header.
func isTokenList(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == ',' || c == ' ' || c == '-' || c == '_' || c == '.' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')) {
			return false
		}
	}
	return true
}
