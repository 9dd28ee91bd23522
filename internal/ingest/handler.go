package ingest

import (
	"cmp"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/obs"
	"github.com/firelane/firelane/internal/obs/trace"
	"github.com/firelane/firelane/internal/schema"
)

// Validator validates one event's JSON text: the CloudEvents envelope, then data against the
// schema that the event's type and major version select. It reports at most max reasons and the
// envelope attributes it read. *[schema.Registry] is the validator of record.
type Validator interface {
	ValidateJSON(raw []byte, max int) schema.Result
}

// decider is the part of *[schema.Registry] that decides an event without explaining a rejection;
// the handler uses it once a request has spent explainBudget on rejected events.
type decider interface {
	Decide(raw []byte) (schema.Result, bool)
}

// explainBudget bounds the time one request spends validating events that turn out rejected, which
// is where the cost of a request lies (jsonschema/v5 computes every reason). Once it is spent, the
// request's remaining events are still decided, by the fast path, but a rejected one gets one
// reason with keyword "unexplained" instead of its details, so that no request within the limits
// costs more than about a second of CPU (API Gateway gives up at 29 s; the client should learn
// sooner).
const explainBudget = 500 * time.Millisecond

// Writer writes records and reports each one's result, in order; a record is OK only when AWS
// acknowledged it. *[awsbatch.KinesisWriter] and *[awsbatch.FirehoseWriter] are Writers.
type Writer interface {
	Write(ctx context.Context, recs []awsbatch.Record) []awsbatch.Result
}

// Handler is the ingest stage. Registry, Kinesis and Config are required; Rejected is the
// failed-events delivery stream, nil when none is configured.
type Handler struct {
	Registry Validator
	Kinesis  Writer
	Rejected Writer
	Config   Config
	Logger   *slog.Logger
	// Now is the clock of failed_at and of received_at when API Gateway gives no request time.
	Now func() time.Time
}

// Request is one API request as the core reads it, whichever API Gateway API and payload version
// carried it (request.go makes it from either): the method, the headers by lower-case name, the
// body as API Gateway passed it, and the server context that an accepted event's record carries.
type Request struct {
	Method  string
	Headers map[string]string // names in lower case
	Body    string
	// Base64 says that Body is base64 text, as API Gateway passes a body of a binary media type.
	Base64 bool
	// Received is when API Gateway received the request; zero when it did not say.
	Received time.Time
	Context  event.ServerContext
}

// Header returns the value of the header with the given lower-case name.
func (r *Request) Header(name string) string { return r.Headers[name] }

// Outcome is the core's answer to one request: the HTTP answer (status, headers, JSON body), the
// per-event results the body holds, and what the invocation's summary is taken from.
type Outcome struct {
	Status  int
	Headers map[string]string
	Body    []byte // the answer's JSON text; empty for a preflight's 204
	// Events is every event's outcome, nil when the request was answered as a whole.
	Events *Response
	// Refusal is the answer about the request as a whole (nothing in it was written), nil when
	// Events is set and for a preflight's 204.
	Refusal *ErrorBody

	preflight bool        // a CORS preflight: the summary counts nothing
	notes     []eventNote // by event index, what the summary counts each event by
	retried   int         // the extra attempts Kinesis' entries took
}

// eventNote is what the summary counts one event by: the registry's type for an event the
// registry knows ("" otherwise) and, for a rejected event, its reason class.
type eventNote struct {
	typ, class string
}

// Serve answers one request. It is the stage's core: the adapters in request.go, the local chain
// and the benchmarks call it. It never fails: every outcome is an answer. Once the request is
// answered, the invocation's one summary (log line, metrics) is taken from the outcome.
func (h *Handler) Serve(ctx context.Context, r *Request) Outcome {
	inv := obs.Start(ctx, "ingest", h.logger())
	defer inv.End()
	out := h.answer(ctx, r)
	summarize(inv, r, &out)
	return out
}

// answer is the core's flow from a request to its outcome.
func (h *Handler) answer(ctx context.Context, r *Request) Outcome {
	start := time.Now()
	cfg := h.Config.withDefaults()
	cors := corsHeaders(r, &cfg)
	if r.Method == http.MethodOptions {
		out := h.preflight(r, cors)
		out.preflight = true
		return out
	}
	if r.Method != http.MethodPost {
		out := refusal(&requestError{http.StatusMethodNotAllowed, "method_not_allowed", "use POST to send events"}, r.Context.RequestID, cors)
		out.Headers["Allow"] = "OPTIONS, POST"
		return out
	}
	body, rerr := decodeBody(r, &cfg)
	var raws [][]byte
	if rerr == nil {
		raws, rerr = splitEvents(r, body, &cfg)
	}
	if rerr == nil {
		for i, raw := range raws {
			if len(raw) > cfg.MaxEventBytes {
				rerr = tooLarge("event_too_large", "event %d is %d bytes, at most %d are taken", i, len(raw), cfg.MaxEventBytes)
				break
			}
		}
	}
	if rerr != nil {
		return refusal(rerr, r.Context.RequestID, cors)
	}
	now := h.now()
	sc := r.Context
	sc.ReceivedAt = event.FormatTime(now)
	if !r.Received.IsZero() {
		sc.ReceivedAt = event.FormatTime(r.Received)
	}
	ctx, cancel := context.WithDeadline(ctx, h.deadline(ctx, r, start, &cfg))
	defer cancel()
	out := h.process(ctx, raws, sc, &cfg, now)
	out.Status = statusOf(out.Events)
	out.encode(out.Events, cors)
	switch out.Status {
	case http.StatusTooManyRequests:
		out.Headers["Retry-After"] = "1"
	case http.StatusServiceUnavailable:
		out.Headers["Retry-After"] = "5"
	}
	return out
}

// deadline is when writing must stop: the earlier of the Lambda deadline and API Gateway's
// integration timeout, counted from when API Gateway received the request (a cold start counts
// against it), minus the safety margin.
func (h *Handler) deadline(ctx context.Context, r *Request, start time.Time, cfg *Config) time.Time {
	from := start
	if !r.Received.IsZero() && r.Received.Before(start) && start.Sub(r.Received) < cfg.IntegrationTimeout {
		from = r.Received
	}
	d := from.Add(cfg.IntegrationTimeout)
	if ld, ok := ctx.Deadline(); ok && ld.Before(d) {
		d = ld
	}
	return d.Add(-cfg.SafetyMargin)
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

// process validates the events of one request, writes the valid ones to Kinesis and the
// rejected ones to the failed-events stream (both at once), and collects every event's outcome.
func (h *Handler) process(ctx context.Context, raws [][]byte, sc event.ServerContext, cfg *Config, now time.Time) Outcome {
	resp := &Response{RequestID: sc.RequestID, Results: make([]EventResult, len(raws))}
	out := Outcome{Events: resp, notes: make([]eventNote, len(raws))}
	ctxJSON, _ := json.Marshal(sc) // a struct of strings always encodes
	var recs, rejected []awsbatch.Record
	var recIndex, rejIndex []int
	var recAttrs, rejAttrs []event.Attrs // the attributes of each record, by recIndex and rejIndex position
	budget := answerReasonsBudget
	_, span := trace.Start(ctx, "validate")
	span.Annotate("events", len(raws))
	decider, _ := h.Registry.(decider)
	var explaining time.Duration // time spent validating events that were rejected
	for i, raw := range raws {
		var res schema.Result
		decided := false
		if explaining >= explainBudget && decider != nil {
			res, decided = decider.Decide(raw)
		}
		if !decided {
			start := time.Now()
			res = h.Registry.ValidateJSON(raw, cfg.MaxErrors)
			if !res.Valid() {
				explaining += time.Since(start)
			}
		}
		r := &resp.Results[i]
		r.Index = i
		if len(res.Attrs.ID) <= maxEchoedID {
			r.ID = res.Attrs.ID
		}
		if res.Entry != nil {
			out.notes[i].typ = res.Entry.Type
		}
		if !res.Valid() {
			r.Status = StatusRejected
			// jsonschema/v5 reports the errors of an object's properties in map order; sorting
			// them by location makes the same event always get the same answer.
			slices.SortStableFunc(res.Reasons, func(a, b event.Reason) int {
				return cmp.Or(strings.Compare(a.Location, b.Location), strings.Compare(a.Keyword, b.Keyword))
			})
			var used int
			r.Errors, used, r.ErrorsTruncated = boundReasons(res.Reasons, budget)
			budget = max(budget-used, 0)
			rejected = append(rejected, awsbatch.Record{Data: failedRecord(raw, res.Attrs, res.Reasons, &sc, now)})
			rejIndex = append(rejIndex, i)
			rejAttrs = append(rejAttrs, res.Attrs)
			out.notes[i].class = res.Class()
			continue
		}
		recs = append(recs, awsbatch.Record{PartitionKey: partitionKey(res.Attrs, cfg.PartitionKey)})
		recIndex = append(recIndex, i)
		recAttrs = append(recAttrs, res.Attrs)
	}
	span.End()
	// The records of all accepted events share one buffer: one allocation per request.
	size := 0
	for _, i := range recIndex {
		size += ingestRecordSize(raws[i], ctxJSON)
	}
	buf := make([]byte, 0, size)
	for j, i := range recIndex {
		start := len(buf)
		buf = appendIngestRecord(buf, raws[i], ctxJSON)
		recs[j].Data = buf[start:len(buf):len(buf)]
	}
	var wg sync.WaitGroup
	if len(rejected) > 0 {
		wg.Go(func() { h.setAside(ctx, rejected, rejIndex, rejAttrs, resp) })
	}
	if len(recs) > 0 {
		wctx, span := trace.Start(ctx, "write")
		span.Annotate("records", len(recs))
		results := h.Kinesis.Write(wctx, recs)
		span.End()
		for j, res := range results {
			r := &resp.Results[recIndex[j]]
			out.retried += max(res.Attempts-1, 0)
			if res.OK {
				r.Status = StatusAccepted
				continue
			}
			r.Status = StatusFailed
			r.Errors = []event.Reason{{Keyword: event.ClipJSON(res.ErrorCode, maxKeyword), Message: "the event was not written to the stream; send it again later"}}
			h.logger().LogAttrs(ctx, slog.LevelWarn, "event not written to the stream", slog.String("api_request_id", sc.RequestID), slog.Int("index", recIndex[j]),
				eventKey(recAttrs[j]), slog.String("error_code", r.Errors[0].Keyword), slog.String("error", event.ClipJSON(res.ErrorMessage, maxLoggedError)),
				slog.Int("attempts", res.Attempts))
		}
	}
	wg.Wait()
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
	return out
}

// keywords lists a rejection's reason keywords (the schema's words, or firelane's codes), without
// locations or messages: a location names the client's members and a message may quote its values.
func keywords(reasons []event.Reason) []string {
	out := make([]string, len(reasons))
	for i, r := range reasons {
		out[i] = r.Keyword
	}
	return out
}

// maxLoggedError bounds the error message of a log line; with ids and counts, it keeps every line
// far below 16 KiB.
const maxLoggedError = 512

// eventKey returns the log attribute that names an event: its fingerprint (the lake's, see
// [event.Fingerprint]) rather than its id, which is the client's free text, or nothing without an id.
func eventKey(a event.Attrs) slog.Attr {
	if a.ID == "" {
		return slog.Attr{}
	}
	return slog.String("fingerprint", event.Fingerprint(a.Source, a.ID))
}

// setAside writes rejected events to the failed-events stream and says in each one's result
// whether it was archived. A rejected event that the stream does not take is logged by index,
// fingerprint and error code, never with its record: the client's answer holds its reasons, and the
// log must not hold its values. Without a stream, each rejected event is logged by its reasons'
// keywords.
func (h *Handler) setAside(ctx context.Context, recs []awsbatch.Record, index []int, attrs []event.Attrs, resp *Response) {
	if h.Rejected == nil {
		for j, i := range index {
			h.logger().LogAttrs(ctx, slog.LevelInfo, "rejected event", slog.String("api_request_id", resp.RequestID), slog.Int("index", i),
				eventKey(attrs[j]), slog.Any("keywords", keywords(resp.Results[i].Errors)))
		}
		return
	}
	for j, res := range h.Rejected.Write(ctx, recs) {
		r := &resp.Results[index[j]]
		r.Archived = &res.OK
		if res.OK {
			continue
		}
		h.logger().LogAttrs(ctx, slog.LevelError, "rejected event not archived", slog.String("api_request_id", resp.RequestID), slog.Int("index", index[j]),
			eventKey(attrs[j]), slog.Int("bytes", len(recs[j].Data)), slog.String("error_code", event.ClipJSON(res.ErrorCode, maxKeyword)),
			slog.String("error", event.ClipJSON(res.ErrorMessage, maxLoggedError)), slog.Int("attempts", res.Attempts))
	}
}
