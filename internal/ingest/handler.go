package ingest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/schema"
)

// Writer writes records to Kinesis and reports each one's result, in order.
type Writer interface {
	Write(ctx context.Context, recs []awsbatch.Record) []awsbatch.Result
}

// Config holds the edge's settings.
type Config struct {
	MaxBodyBytes  int // the largest request body, after base64 decoding
	MaxEvents     int // events per request
	MaxEventBytes int // bytes per event as received
	MaxErrors     int // validation errors reported per rejected event
}

// DefaultConfig is the configuration used when none is given. MaxEventBytes leaves room within
// Kinesis' 1 MiB record for the server context ingest adds, and within Firehose's 1,000 KiB record
// for what enrich adds later.
var DefaultConfig = Config{MaxBodyBytes: 6 << 20, MaxEvents: 500, MaxEventBytes: 900 << 10, MaxErrors: 10}

// Handler is the ingest stage.
type Handler struct {
	Registry *schema.Registry
	Kinesis  Writer
	Rejected Writer // the failed-events delivery stream; nil when none is configured
	Config   Config
	Logger   *slog.Logger
	Now      func() time.Time
}

// Outcome of one event.
const (
	StatusAccepted = "accepted"
	StatusRejected = "rejected"
	StatusFailed   = "failed"
)

// EventResult is one event's outcome in the response.
type EventResult struct {
	Index  int            `json:"index"`
	ID     string         `json:"id,omitempty"`
	Status string         `json:"status"`
	Errors []event.Reason `json:"errors,omitempty"`
}

// Response is the JSON body of every answer that carries events.
type Response struct {
	Accepted int           `json:"accepted"`
	Rejected int           `json:"rejected"`
	Failed   int           `json:"failed"`
	Results  []EventResult `json:"results"`
}

// ErrorBody is the JSON body of an answer about the request as a whole.
type ErrorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// Handle answers one API Gateway REST proxy request.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	if req.HTTPMethod != "" && req.HTTPMethod != http.MethodPost {
		resp := errorResponse(http.StatusMethodNotAllowed, "method_not_allowed", "use POST to send events")
		resp.Headers["Allow"] = "POST"
		return resp, nil
	}
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return errorResponse(http.StatusBadRequest, "bad_encoding", "body is marked base64 but does not decode"), nil
		}
		body = b
	}
	if len(body) > h.Config.MaxBodyBytes {
		return errorResponse(http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("body is %d bytes, at most %d are taken", len(body), h.Config.MaxBodyBytes)), nil
	}
	raws, err := splitBody(body)
	if err != nil {
		return errorResponse(http.StatusBadRequest, "bad_body", err.Error()), nil
	}
	if len(raws) > h.Config.MaxEvents {
		return errorResponse(http.StatusRequestEntityTooLarge, "too_many_events", fmt.Sprintf("request carries %d events, at most %d are taken", len(raws), h.Config.MaxEvents)), nil
	}
	sc := serverContext(req, h.now())
	resp := h.process(ctx, raws, sc)
	return jsonResponse(statusOf(resp), resp), nil
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// process validates and writes the events of one request.
func (h *Handler) process(ctx context.Context, raws []json.RawMessage, sc event.ServerContext) Response {
	resp := Response{Results: make([]EventResult, len(raws))}
	var recs []awsbatch.Record
	var recIndex []int
	var rejected []awsbatch.Record
	for i, raw := range raws {
		r := &resp.Results[i]
		r.Index = i
		id, reasons := h.validate(raw)
		r.ID = id
		if len(reasons) > 0 {
			r.Status, r.Errors = StatusRejected, reasons
			rejected = append(rejected, awsbatch.Record{Data: failedRecord(raw, id, reasons, h.now())})
			continue
		}
		rec, err := ingestRecord(raw, sc)
		if err != nil {
			r.Status, r.Errors = StatusRejected, []event.Reason{{Message: err.Error()}}
			continue
		}
		recs = append(recs, awsbatch.Record{Data: rec, PartitionKey: partitionKey(raw)})
		recIndex = append(recIndex, i)
	}
	if len(recs) > 0 {
		for j, res := range h.Kinesis.Write(ctx, recs) {
			r := &resp.Results[recIndex[j]]
			if res.OK {
				r.Status = StatusAccepted
				continue
			}
			r.Status = StatusFailed
			r.Errors = []event.Reason{{Keyword: res.ErrorCode, Message: "not written to the stream: " + res.ErrorMessage}}
			h.logger().Warn("event not written", "index", recIndex[j], "error_code", res.ErrorCode, "error", res.ErrorMessage)
		}
	}
	for _, r := range resp.Results {
		switch r.Status {
		case StatusAccepted:
			resp.Accepted++
		case StatusRejected:
			resp.Rejected++
		default:
			resp.Failed++
		}
	}
	if h.Rejected != nil && len(rejected) > 0 {
		for _, res := range h.Rejected.Write(ctx, rejected) {
			if !res.OK {
				h.logger().Error("rejected event not written to the failed-events stream", "error_code", res.ErrorCode, "error", res.ErrorMessage)
			}
		}
	}
	return resp
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

// validate decodes one event and validates it; it returns the event's id when it has one.
func (h *Handler) validate(raw json.RawMessage) (string, []event.Reason) {
	if len(raw) > h.Config.MaxEventBytes {
		return "", []event.Reason{{Keyword: "maxEventBytes", Message: fmt.Sprintf("event is %d bytes, at most %d are taken", len(raw), h.Config.MaxEventBytes)}}
	}
	res := h.Registry.ValidateJSON(raw, h.Config.MaxErrors)
	return res.Attrs.ID, res.Reasons
}

// splitBody returns the events of a body: one JSON object, or a JSON array of them.
func splitBody(body []byte) ([]json.RawMessage, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, fmt.Errorf("body is empty: send one CloudEvent or a JSON array of them")
	}
	switch body[0] {
	case '{':
		if !json.Valid(body) {
			return nil, fmt.Errorf("body is not valid JSON")
		}
		return []json.RawMessage{body}, nil
	case '[':
		var raws []json.RawMessage
		if err := json.Unmarshal(body, &raws); err != nil {
			return nil, fmt.Errorf("body is not a valid JSON array: %v", err)
		}
		if len(raws) == 0 {
			return nil, fmt.Errorf("body is an empty array")
		}
		return raws, nil
	default:
		return nil, fmt.Errorf("body must be a CloudEvent object or a JSON array of them")
	}
}

// serverContext collects what API Gateway says about the request.
func serverContext(req events.APIGatewayProxyRequest, now time.Time) event.ServerContext {
	rc := req.RequestContext
	received := now
	if rc.RequestTimeEpoch > 0 {
		received = time.UnixMilli(rc.RequestTimeEpoch)
	}
	principal := rc.Identity.UserArn
	if p, ok := rc.Authorizer["principalId"].(string); ok && p != "" {
		principal = p
	}
	return event.ServerContext{
		ReceivedAt: event.FormatTime(received),
		RequestID:  rc.RequestID,
		SourceIP:   rc.Identity.SourceIP,
		UserAgent:  rc.Identity.UserAgent,
		APIKeyID:   rc.Identity.APIKeyID,
		Principal:  principal,
		Stage:      rc.Stage,
	}
}

// ingestRecord builds the Kinesis record of an accepted event without re-encoding the event.
func ingestRecord(raw json.RawMessage, sc event.ServerContext) ([]byte, error) {
	ctxJSON, err := json.Marshal(sc)
	if err != nil {
		return nil, fmt.Errorf("encode server context: %w", err)
	}
	var b bytes.Buffer
	b.Grow(len(raw) + len(ctxJSON) + 48)
	b.WriteString(`{"firelane":"` + event.FormatIngest + `","context":`)
	b.Write(ctxJSON)
	b.WriteString(`,"event":`)
	b.Write(bytes.TrimSpace(raw))
	b.WriteByte('}')
	return b.Bytes(), nil
}

// partitionKey keeps one subject's events in order: the event's subject, else its source. Kinesis
// takes keys of 1 to 256 Unicode characters.
func partitionKey(raw json.RawMessage) string {
	var attrs struct {
		Subject string `json:"subject"`
		Source  string `json:"source"`
	}
	_ = json.Unmarshal(raw, &attrs) // the event was validated already
	k := attrs.Subject
	if k == "" {
		k = attrs.Source
	}
	if r := []rune(k); len(r) > 256 {
		k = string(r[:256])
	}
	if k == "" {
		k = "-"
	}
	return k
}

func failedRecord(raw []byte, id string, reasons []event.Reason, now time.Time) []byte {
	f := event.Failed{
		Format: event.FormatFailed, Kind: event.KindRejected, Stage: "ingest",
		FailedAt: event.FormatTime(now), EventID: id, Reasons: reasons, Original: raw,
	}
	var attrs struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(raw, &attrs) == nil {
		f.EventType = attrs.Type
	}
	b, _ := json.Marshal(f) // a Failed of strings and bytes always encodes
	return append(b, '\n') // Firehose concatenates records; the newline keeps S3 objects NDJSON
}

// statusOf maps the outcomes to the status code that tells the client what to do:
// 200 every event accepted; 207 some accepted and the rest rejected (do not resend the rejected
// ones unchanged); 400 every event rejected (do not retry); 503 some events could not be written
// (retry those later; Retry-After says when).
func statusOf(r Response) int {
	switch {
	case r.Failed > 0:
		return http.StatusServiceUnavailable
	case r.Rejected == 0:
		return http.StatusOK
	case r.Accepted == 0:
		return http.StatusBadRequest
	default:
		return http.StatusMultiStatus
	}
}

func jsonResponse(status int, body any) events.APIGatewayProxyResponse {
	b, err := json.Marshal(body)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal","message":"response could not be encoded"}`)
	}
	resp := events.APIGatewayProxyResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(b),
	}
	if status == http.StatusServiceUnavailable {
		resp.Headers["Retry-After"] = "1"
	}
	return resp
}

func errorResponse(status int, code, msg string) events.APIGatewayProxyResponse {
	return jsonResponse(status, ErrorBody{Error: code, Message: strings.TrimSpace(msg)})
}
