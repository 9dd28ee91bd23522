package ingest

import (
	"encoding/json"
	"net/http"

	"github.com/firelane/firelane/internal/event"
)

// Outcome of one event.
const (
	StatusAccepted = "accepted" // Kinesis acknowledged the event
	StatusRejected = "rejected" // the event is invalid; resending it unchanged will not help
	StatusFailed   = "failed"   // the event is valid but was not written; resend it later
)

// EventResult is one event's outcome in the answer. Index counts the request's events from 0 (for
// NDJSON, blank lines do not count). ID is the event's id when it has one of at most 256 bytes.
// Archived says, for a rejected event when a failed-events stream is configured, whether the
// stream took its failed-event record; false means the answer holds the only record of why the
// event was rejected.
type EventResult struct {
	Index           int            `json:"index"`
	ID              string         `json:"id,omitempty"`
	Status          string         `json:"status"`
	Errors          []event.Reason `json:"errors,omitempty"`
	ErrorsTruncated bool           `json:"errors_truncated,omitempty"`
	Archived        *bool          `json:"archived,omitempty"`
}

// Response is the JSON body of every answer about events.
type Response struct {
	RequestID string        `json:"request_id,omitempty"`
	Accepted  int           `json:"accepted"`
	Rejected  int           `json:"rejected"`
	Failed    int           `json:"failed"`
	Results   []EventResult `json:"results"`
}

// ErrorBody is the JSON body of an answer about the request as a whole.
type ErrorBody struct {
	Error     string `json:"error"`
	Message   string `json:"message"`
	RequestID string `json:"request_id,omitempty"`
}

// encode sets the outcome's body to body's JSON text and its headers to the JSON media type and
// cors.
func (o *Outcome) encode(body any, cors map[string]string) {
	b, err := json.Marshal(body)
	if err != nil {
		o.Status, b = http.StatusInternalServerError, []byte(`{"error":"internal","message":"the answer could not be encoded"}`)
	}
	o.Headers = map[string]string{"Content-Type": "application/json"}
	for k, v := range cors {
		o.Headers[k] = v
	}
	o.Body = b
}

// refusal is the outcome of a request answered as a whole: nothing in it was written.
func refusal(e *requestError, requestID string, cors map[string]string) Outcome {
	o := Outcome{Status: e.status, Refusal: &ErrorBody{Error: e.code, Message: e.msg, RequestID: requestID}}
	o.encode(o.Refusal, cors)
	return o
}
