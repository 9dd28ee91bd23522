package ingest

import (
	"net/http"
)

// throttled are the error codes that mean "too much, too fast" rather than "unavailable".
var throttled = map[string]bool{
	"ProvisionedThroughputExceededException": true,
	"ThrottlingException":                    true,
	"LimitExceededException":                 true,
	"KMSThrottlingException":                 true,
}

// statusOf maps the outcomes to the status code that tells the client what to do:
//   - 200: every event accepted.
//   - 207: some accepted, the others rejected; do not resend the rejected ones unchanged.
//   - 422: every event rejected; do not retry.
//   - 429: some events failed because the stream is throttled; resend the failed ones after
//     Retry-After.
//   - 503: some events failed for another reason; resend the failed ones after Retry-After.
func statusOf(r *Response) int {
	if r.Failed > 0 {
		for _, e := range r.Results {
			if e.Status == StatusFailed && (len(e.Errors) == 0 || !throttled[e.Errors[0].Keyword]) {
				return http.StatusServiceUnavailable
			}
		}
		return http.StatusTooManyRequests
	}
	switch {
	case r.Rejected == 0:
		return http.StatusOK
	case r.Accepted == 0:
		return http.StatusUnprocessableEntity
	default:
		return http.StatusMultiStatus
	}
}
