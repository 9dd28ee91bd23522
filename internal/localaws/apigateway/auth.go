package apigateway

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// authorize applies the method's security requirement. IAM and Cognito are checked for a
// present, well-formed credential only: the local API holds no IAM policies or user pool keys, so
// it neither verifies a SigV4 signature nor a JWT's signature (docs/api-local.md).
func (s *Server) authorize(rc *requestContext) (gatewayError, bool) {
	switch rc.method.Auth {
	case "sigv4":
		return s.sigv4(rc)
	case "cognito":
		return s.cognito(rc)
	case "api_key":
		key := rc.r.Header.Get("X-Api-Key")
		id, ok := s.keys[key]
		if key == "" || !ok {
			return errInvalidKey, false
		}
		rc.apiKey, rc.apiKeyID = key, id
	}
	return gatewayError{}, true
}

var (
	credentialRe = regexp.MustCompile(`^([A-Z0-9]{16,128})/(\d{8})/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request$`)
	signedRe     = regexp.MustCompile(`^[a-z0-9-]+(;[a-z0-9-]+)*$`)
	signatureRe  = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// sigv4 checks that the Authorization header is a complete Signature Version 4 header
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-signing-elements.html): the
// AWS4-HMAC-SHA256 algorithm, a Credential scoped to execute-api, SignedHeaders including host,
// a 64-hex-digit Signature, and an X-Amz-Date (or Date) header.
func (s *Server) sigv4(rc *requestContext) (gatewayError, bool) {
	h := rc.r.Header.Get("Authorization")
	if h == "" {
		return errMissingToken, false
	}
	alg, rest, _ := strings.Cut(h, " ")
	if alg != "AWS4-HMAC-SHA256" {
		return signatureError(fmt.Sprintf("Authorization header requires the AWS4-HMAC-SHA256 algorithm, got %q.", alg)), false
	}
	parts := map[string]string{}
	for _, p := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		parts[k] = v
	}
	var missing []string
	for _, k := range []string{"Credential", "Signature", "SignedHeaders"} {
		if parts[k] == "" {
			missing = append(missing, fmt.Sprintf("Authorization header requires '%s' parameter.", k))
		}
	}
	if rc.r.Header.Get("X-Amz-Date") == "" && rc.r.Header.Get("Date") == "" {
		missing = append(missing, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if len(missing) > 0 {
		return signatureError(strings.Join(missing, " ")), false
	}
	cred := credentialRe.FindStringSubmatch(parts["Credential"])
	if cred == nil || cred[4] != "execute-api" {
		return signatureError("Credential should be scoped to a valid region and the execute-api service: " + "'KEY/DATE/REGION/execute-api/aws4_request'."), false
	}
	if !signedRe.MatchString(parts["SignedHeaders"]) || !strings.Contains(";"+parts["SignedHeaders"]+";", ";host;") {
		return signatureError("SignedHeaders must list host, in lower case, separated by semicolons."), false
	}
	if !signatureRe.MatchString(parts["Signature"]) {
		return signatureError("Signature must be 64 hexadecimal digits."), false
	}
	rc.accessKey = cred[1]
	rc.userArn = "arn:aws:iam::123456789012:user/" + cred[1]
	return gatewayError{}, true
}

// cognito checks that the Authorization header holds a well-formed, unexpired Cognito user pool
// JWT (three base64url parts, a JSON header naming alg and kid, JSON claims with sub, token_use
// and exp) and passes its claims on as API Gateway passes them: every claim as a string.
func (s *Server) cognito(rc *requestContext) (gatewayError, bool) {
	tok := rc.r.Header.Get("Authorization")
	if tok == "" {
		return errUnauthorized, false
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return errUnauthorized, false
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	var claims map[string]any
	for i, dst := range []any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(b, dst) != nil {
			return errUnauthorized, false
		}
	}
	if _, err := base64.RawURLEncoding.DecodeString(parts[2]); err != nil || parts[2] == "" || header.Alg == "" || header.Kid == "" {
		return errUnauthorized, false
	}
	exp, ok := claims["exp"].(float64)
	sub, _ := claims["sub"].(string)
	use, _ := claims["token_use"].(string)
	if !ok || sub == "" || use != "id" && use != "access" || time.Unix(int64(exp), 0).Before(s.now()) {
		return errUnauthorized, false
	}
	rc.claims = map[string]any{}
	for k, v := range claims {
		switch x := v.(type) {
		case string:
			rc.claims[k] = x
		default:
			b, _ := json.Marshal(x)
			rc.claims[k] = string(b)
		}
	}
	return gatewayError{}, true
}

// bucket is a token bucket: rate tokens a second up to burst.
type bucket struct {
	t      Throttle
	tokens float64
	last   time.Time
}

func newBucket(t Throttle, now time.Time) *bucket {
	return &bucket{t: t, tokens: float64(t.Burst), last: now}
}

func (b *bucket) take(now time.Time) bool {
	if d := now.Sub(b.last).Seconds(); d > 0 {
		b.tokens = min(float64(b.t.Burst), b.tokens+d*b.t.Rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// keyUsage is one API key's usage plan state.
type keyUsage struct {
	bucket *bucket
	period time.Time // start of the quota period counted
	used   int
}

// periodStart is the start of the quota period holding t, in UTC: the day, the week from Sunday
// (offset 0), or the month.
func periodStart(period string, t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch period {
	case "WEEK":
		return day.AddDate(0, 0, -int(day.Weekday()))
	case "MONTH":
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return day
}

// meter applies the usage plan (per key: throttle, then quota) and the stage's throttling.
func (s *Server) meter(rc *requestContext) (gatewayError, bool) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if up := s.def.UsagePlan; up != nil && rc.apiKeyID != "" {
		u := s.plans[rc.apiKeyID]
		if u == nil {
			u = &keyUsage{}
			if up.Throttle != nil {
				u.bucket = newBucket(*up.Throttle, now)
			}
			s.plans[rc.apiKeyID] = u
		}
		if u.bucket != nil && !u.bucket.take(now) {
			return errThrottled, false
		}
		if up.QuotaLimit > 0 {
			if p := periodStart(up.QuotaPeriod, now); !p.Equal(u.period) {
				u.period, u.used = p, 0
			}
			if u.used >= up.QuotaLimit {
				return errQuota, false
			}
			u.used++
		}
	}
	if s.stage != nil && !s.stage.take(now) {
		return errThrottled, false
	}
	return gatewayError{}, true
}
