package transform

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/obs"
	"github.com/firelane/firelane/internal/obs/emf"
	"github.com/firelane/firelane/internal/obs/trace"
)

// MaxResponseBytes is the largest response the handler returns. Lambda caps a synchronous
// response at 6 MiB; Firehose's own documentation and AWS's blueprints keep to 6,000,000 bytes,
// and so does the handler, counting every byte of the response.
const MaxResponseBytes = 6_000_000

// Results of a transformed record, as Firehose spells them.
const (
	ResultOk               = events.KinesisFirehoseTransformedStateOk
	ResultDropped          = events.KinesisFirehoseTransformedStateDropped
	ResultProcessingFailed = events.KinesisFirehoseTransformedStateProcessingFailed
)

// ErrOverflow reports an invocation whose converted records do not fit in one response and whose
// overflow could not be handed back to Firehose: no Firehose client is configured, the delivery
// stream's source is a Kinesis stream, or Firehose did not acknowledge every overflow record in
// time. The invocation fails as a whole, so Firehose retries it and, when retries run out, writes
// its records to the processing-failed error output: nothing is lost.
var ErrOverflow = errors.New("converted records exceed the response limit and could not be re-ingested")

// ErrInvocation reports an invocation payload that is not a Firehose transformation event.
var ErrInvocation = errors.New("invalid Firehose transformation event")

// Handler is the transform stage. Its zero value works: it drops nothing on purpose and, having no
// Firehose client, fails an invocation whose output would exceed [MaxResponseBytes] (see
// [ErrOverflow]) rather than lose records. A Handler is safe for concurrent use.
type Handler struct {
	Logger *slog.Logger

	// DropTypes lists the event types whose records are left out of the lake on purpose, with
	// result Dropped, such as synthetic test events. An entry matches a type equal to it; an entry
	// that ends in "*" matches every type that starts with what comes before the "*".
	DropTypes []string

	// Firehose, when set, re-ingests the records that do not fit in the response into the same
	// delivery stream with PutRecordBatch, retried as Retry says; they are answered Dropped only
	// once Firehose has acknowledged them.
	Firehose awsbatch.FirehoseAPI
	// Retry bounds the retries of re-ingestion; the zero value means [awsbatch.DefaultRetry].
	Retry awsbatch.Retry

	// ReuseResponse lets Invoke write each response into the buffer of the previous one, which
	// spares allocating and faulting in megabytes per invocation. The slice Invoke returns is then
	// valid only until the next call of Invoke or Handle: right for the Lambda runtime, which sends
	// a response before it asks for the next invocation, and wrong for a caller that keeps
	// responses. Handle copies its response either way.
	ReuseResponse bool

	// TextColumns names the row's columns whose value, unless null, is written as a JSON string
	// holding the value's JSON text rather than as the value itself. Parquet output sets it to
	// [lake.TextColumns], the columns its Glue table declares string, so that Firehose's OpenX JSON
	// SerDe reads a string into each string column; nil writes every column as its JSON value, as
	// the JSON lake holds them.
	TextColumns []string

	mu   sync.Mutex
	idle *state // the buffers of the last invocation, kept for the next
}

// state holds the buffers one invocation uses; they are kept for the next one.
type state struct {
	conv    converter
	out     []byte
	recs    []inRecord
	decoded []byte
	row     []byte
	b64     []byte
}

// inRecord is one input record as slices of the invocation payload.
type inRecord struct {
	id      jsonString // recordId token
	arrival int64      // approximateArrivalTimestamp, Unix milliseconds
	data    jsonString // data token: base64 text
}

// invocation is the part of the Firehose event the handler needs.
type invocation struct {
	invocationID  jsonString
	streamARN     jsonString
	sourceKinesis jsonString
	records       []inRecord
}

// counts are the results of one invocation, as its log line reports them.
type counts struct {
	Records, OK, Dropped, Reingested, Failed int
}

// Invoke handles one invocation as the Lambda runtime delivers it: the Firehose event's JSON in,
// the response's JSON out. It implements aws-lambda-go's lambda.Handler, which spares the
// runtime's reflection and encoding/json; the response agrees with
// [events.KinesisFirehoseResponse], except that it leaves out what a record does not need: data
// for Dropped records, and metadata for every record but Ok ones, whose metadata holds only
// partitionKeys (no otfMetadata, which only Iceberg destinations read). Member names are matched
// exactly, as Firehose spells them (encoding/json would also take "RecordID" for recordId). With
// [Handler.ReuseResponse], the slice is valid until the next call.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	inv := obs.Start(ctx, "transform", h.logger())
	defer inv.End()
	ctx, span := trace.Start(obs.NewContext(ctx, inv), "convert")
	out, stats, err := h.invoke(ctx, payload)
	span.Annotate("records", stats.Records)
	inv.Count(obs.Received, stats.Records)
	inv.Observe(obs.BatchSize, emf.Count, float64(stats.Records))
	inv.Count(obs.Accepted, stats.OK)
	inv.Count(obs.Dropped, stats.Dropped, obs.Reason(obs.ReasonDropType))
	inv.Count(obs.Reingested, stats.Reingested)
	inv.Count(obs.Failed, stats.Failed, obs.Reason(obs.ReasonPoison))
	inv.Set("bytes_in", len(payload))
	inv.Set("bytes_out", len(out))
	if err != nil {
		span.Fail(err)
		inv.Set("error", err.Error())
		h.logger().LogAttrs(ctx, slog.LevelError, "transform invocation failed", slog.String("error", err.Error()))
	}
	span.End()
	return out, err
}

// Handle transforms one typed Firehose event. It runs the same code as [Handler.Invoke], over
// the event's JSON encoding, for callers that hold aws-lambda-go's types.
func (h *Handler) Handle(ctx context.Context, ev events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error) {
	var resp events.KinesisFirehoseResponse
	payload, err := json.Marshal(ev)
	if err != nil {
		return resp, fmt.Errorf("encode Firehose event: %w", err)
	}
	out, err := h.Invoke(ctx, payload)
	if err != nil {
		return resp, err
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		return resp, fmt.Errorf("decode transform response: %w", err)
	}
	return resp, nil
}

func (h *Handler) invoke(ctx context.Context, payload []byte) ([]byte, counts, error) {
	h.mu.Lock()
	st := h.idle
	h.idle = nil
	h.mu.Unlock()
	if st == nil {
		st = &state{}
	}
	st.conv.textColumns = h.TextColumns
	defer func() {
		h.mu.Lock()
		h.idle = st
		h.mu.Unlock()
	}()

	inv, err := parseInvocation(payload, st)
	if err != nil {
		return nil, counts{}, err
	}
	stats := counts{Records: len(inv.records)}
	log := h.logger()

	// reserve is what the records not yet written cost at least: a Dropped entry each.
	const head, tail = `{"records":[`, `]}`
	reserve := 0
	for _, r := range inv.records {
		reserve += droppedLen(r)
	}
	if len(head)+reserve+len(tail) > MaxResponseBytes {
		return nil, stats, fmt.Errorf("%d records cannot be answered within %d bytes: %w", len(inv.records), MaxResponseBytes, ErrOverflow)
	}
	var out []byte
	if estimate := min(len(payload)+len(payload)/8+4096, MaxResponseBytes+4096); h.ReuseResponse {
		out = slices.Grow(st.out[:0], estimate)
		defer func() { st.out = out[:0] }()
	} else {
		out = make([]byte, 0, estimate)
	}
	out = append(out, head...)
	var overflow []awsbatch.Record
	for k := range inv.records {
		r := &inv.records[k]
		reserve -= droppedLen(*r)
		start := len(out)
		if k > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"recordId":"`...)
		out = append(out, r.id.raw...)
		data, decodeErr := st.decode(r.data)
		if errors.Is(decodeErr, errInvalidData) {
			return nil, stats, fmt.Errorf("%w: record %d: %w", ErrInvocation, k, decodeErr)
		}
		row, keys, typ, convErr := []byte(nil), Keys{}, []byte(nil), decodeErr
		if convErr == nil {
			row, keys, typ, convErr = st.conv.appendRow(st.row[:0], data, time.UnixMilli(r.arrival))
			st.row = row[:0]
		}
		result := ResultOk
		switch {
		case convErr != nil:
			result = ResultProcessingFailed
			out = append(out, `","result":"ProcessingFailed","data":"`...)
			out = append(out, r.data.raw...)
			out = append(out, `"}`...)
		case h.drops(typ):
			result = ResultDropped
			out = append(out, `","result":"Dropped"}`...)
		default:
			out = append(out, `","result":"Ok","data":"`...)
			out = appendBase64(out, row)
			out = append(out, `","metadata":{"partitionKeys":`...)
			out = st.conv.receivedHour.appendKeys(out, keys)
			out = append(out, `}}`...)
		}
		if len(out)+reserve+len(tail) > MaxResponseBytes {
			if decodeErr != nil {
				return nil, stats, fmt.Errorf("record %d does not fit in the response and its data is not base64: %w", k, ErrOverflow)
			}
			out = out[:start]
			if k > 0 {
				out = append(out, ',')
			}
			out = append(out, `{"recordId":"`...)
			out = append(out, r.id.raw...)
			out = append(out, `","result":"Dropped"}`...)
			overflow = append(overflow, awsbatch.Record{Data: slices.Clone(data)})
			stats.Reingested++
			continue
		}
		switch result {
		case ResultOk:
			stats.OK++
		case ResultDropped:
			stats.Dropped++
		default:
			stats.Failed++
			log.LogAttrs(ctx, slog.LevelWarn, "record failed",
				slog.String("record_id", string(st.conv.text(r.id))), slog.String("reason", convErr.Error()))
		}
	}
	out = append(out, tail...)

	if len(overflow) > 0 {
		if err := h.reingest(ctx, inv, overflow); err != nil {
			return nil, stats, err
		}
	}
	obs.FromContext(ctx).Set("invocation_id", string(inv.invocationID.raw))
	return out, stats, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// droppedLen is the length of a record's Dropped entry and the comma before it.
func droppedLen(r inRecord) int {
	return len(`,{"recordId":"","result":"Dropped"}`) + len(r.id.raw)
}

// dataMember scans a record's data member. Base64 holds no quote and no backslash, so the end
// of the string is found with one fast search and the body is checked later by the base64 decoder
// (see [state.decode]); a body with a backslash takes the full scan.
func dataMember(dst *jsonString, s []byte, i int) (int, error) {
	if s[i] != '"' {
		return stringMember(dst, "data", s, i)
	}
	j := bytes.IndexByte(s[i+1:], '"')
	if j < 0 {
		return 0, synErr("unterminated string", i)
	}
	body := s[i+1 : i+1+j]
	if bytes.IndexByte(body, '\\') >= 0 {
		return stringMember(dst, "data", s, i)
	}
	*dst = jsonString{raw: body, set: true, unchecked: true}
	return i + 2 + j, nil
}

// errInvalidData reports a record's data member that is not a valid JSON string.
var errInvalidData = errors.New("a record's data is not a valid JSON string")

// decode returns a record's data, base64-decoded into the state's buffer. For a data token that
// [dataMember] did not check, a body that decodes holds only base64 characters (and perhaps line
// breaks, which the decoder skips and JSON forbids); one that does not decode is checked in full,
// and an invalid JSON string fails the whole invocation, as encoding/json would.
func (st *state) decode(tok jsonString) ([]byte, error) {
	b64 := tok.raw
	if tok.esc {
		st.b64 = unescape(st.b64[:0], tok.raw)
		b64 = st.b64
	}
	st.decoded = slices.Grow(st.decoded[:0], base64.StdEncoding.DecodedLen(len(b64))+2)
	n, err := decodeBase64(st.decoded[:cap(st.decoded)], b64)
	if tok.unchecked && (err != nil || bytes.IndexByte(b64, '\n') >= 0 || bytes.IndexByte(b64, '\r') >= 0) {
		quoted := tok.raw[:len(tok.raw)+1] // the closing quote follows the body
		if _, _, _, serr := scanString(append([]byte{'"'}, quoted...), 0); serr != nil {
			return nil, fmt.Errorf("%w: %w", errInvalidData, serr)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("record data is not base64: %w", err)
	}
	return st.decoded[:n], nil
}

func (h *Handler) drops(typ []byte) bool {
	for _, p := range h.DropTypes {
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			if len(typ) >= len(prefix) && string(typ[:len(prefix)]) == prefix {
				return true
			}
		} else if string(typ) == p {
			return true
		}
	}
	return false
}

// reingest puts the overflow records back into the delivery stream that the invocation came from.
func (h *Handler) reingest(ctx context.Context, inv invocation, recs []awsbatch.Record) error {
	if h.Firehose == nil {
		return fmt.Errorf("%d records overflow and no Firehose client is configured: %w", len(recs), ErrOverflow)
	}
	if len(inv.sourceKinesis.raw) > 0 {
		return fmt.Errorf("%d records overflow and the delivery stream reads a Kinesis stream, which PutRecordBatch cannot feed: %w", len(recs), ErrOverflow)
	}
	arn := string(inv.streamARN.raw)
	name, err := StreamName(arn)
	if err != nil {
		return fmt.Errorf("re-ingest %d records: %w: %w", len(recs), err, ErrOverflow)
	}
	retry := h.Retry
	if retry == (awsbatch.Retry{}) {
		retry = awsbatch.DefaultRetry
	}
	w, err := awsbatch.NewFirehoseWriter(h.Firehose, name, retry)
	if err != nil {
		return fmt.Errorf("re-ingest %d records: %w", len(recs), err)
	}
	ctx, span := trace.Start(ctx, "write")
	span.Annotate("records", len(recs))
	defer span.End()
	failed, first, retried, written := 0, "", 0, 0
	defer func() {
		o := obs.FromContext(ctx)
		o.Count(obs.Retried, retried, obs.Destination("firehose"))
		o.Count(obs.Written, written, obs.Destination("firehose"))
	}()
	for _, res := range w.Write(ctx, recs) {
		retried += max(res.Attempts-1, 0)
		if res.OK {
			written++
		}
		if !res.OK {
			if failed == 0 {
				first = res.ErrorCode + ": " + res.ErrorMessage
			}
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("re-ingest %d records into %s: %d not acknowledged (first: %s): %w", len(recs), name, failed, first, ErrOverflow)
	}
	return nil
}

// StreamName returns the name of the delivery stream that a deliveryStreamArn names
// ("arn:aws:firehose:us-east-1:123456789012:deliverystream/events" names "events").
func StreamName(arn string) (string, error) {
	_, name, ok := strings.Cut(arn, ":deliverystream/")
	if !ok || name == "" || strings.ContainsAny(name, "/:") || !strings.HasPrefix(arn, "arn:") {
		return "", fmt.Errorf("deliveryStreamArn %q names no delivery stream", arn)
	}
	return name, nil
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

// parseInvocation decodes the Firehose event, keeping records as slices of payload.
func parseInvocation(s []byte, st *state) (invocation, error) {
	var inv invocation
	st.recs = st.recs[:0]
	i := skipSpace(s, 0)
	if i >= len(s) || s[i] != '{' {
		return inv, fmt.Errorf("event is not a JSON object: %w", ErrInvocation)
	}
	it := objectIter{s: s, i: i}
	for {
		key, _, more, err := it.next(&st.conv)
		if err != nil {
			return inv, fmt.Errorf("%w: %w", ErrInvocation, err)
		}
		if !more {
			break
		}
		var end int
		switch string(key) {
		case "invocationId":
			end, err = stringMember(&inv.invocationID, "invocationId", s, it.i)
		case "deliveryStreamArn":
			end, err = stringMember(&inv.streamARN, "deliveryStreamArn", s, it.i)
		case "sourceKinesisStreamArn":
			end, err = stringMember(&inv.sourceKinesis, "sourceKinesisStreamArn", s, it.i)
		case "records":
			st.recs = st.recs[:0] // a repeated member replaces the earlier one, as in encoding/json
			end, err = parseRecords(s, it.i, st)
		default:
			end, _, err = skipValue(s, it.i, it.depth)
		}
		if err != nil {
			return inv, fmt.Errorf("%w: %w", ErrInvocation, err)
		}
		it.i = end
	}
	if skipSpace(s, it.i) != len(s) {
		return inv, fmt.Errorf("%w: data after the event", ErrInvocation)
	}
	inv.records = st.recs
	return inv, nil
}

func parseRecords(s []byte, i int, st *state) (int, error) {
	if s[i] == 'n' {
		end, _, err := literal(s, i, "null")
		return end, err
	}
	if s[i] != '[' {
		return 0, failf("records is not an array")
	}
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == ']' {
		return i + 1, nil
	}
	for {
		if i >= len(s) || s[i] != '{' {
			return 0, failf("a record is not an object")
		}
		var r inRecord
		it := objectIter{s: s, i: i, depth: 2}
		for {
			key, _, more, err := it.next(&st.conv)
			if err != nil {
				return 0, err
			}
			if !more {
				break
			}
			var end int
			switch string(key) {
			case "recordId":
				end, err = stringMember(&r.id, "recordId", s, it.i)
			case "data":
				end, err = dataMember(&r.data, s, it.i)
			case "approximateArrivalTimestamp":
				end, err = scanInt(s, it.i, &r.arrival)
			default:
				end, _, err = skipValue(s, it.i, it.depth)
			}
			if err != nil {
				return 0, err
			}
			it.i = end
		}
		st.recs = append(st.recs, r)
		i = skipSpace(s, it.i)
		if i >= len(s) {
			return 0, synErr("unexpected end of input", i)
		}
		switch s[i] {
		case ',':
			i = skipSpace(s, i+1)
		case ']':
			return i + 1, nil
		default:
			return 0, synErr("expected comma or end of array", i)
		}
	}
}

// scanInt reads a JSON integer that fits in an int64, or null (which leaves *n as it was).
func scanInt(s []byte, i int, n *int64) (int, error) {
	if s[i] == 'n' {
		end, _, err := literal(s, i, "null")
		return end, err
	}
	if s[i] != '-' && s[i]-'0' >= 10 {
		return 0, failf("approximateArrivalTimestamp is not a number")
	}
	end, err := scanNumber(s, i)
	if err != nil {
		return 0, err
	}
	neg := s[i] == '-'
	var v uint64
	for _, c := range s[i+boolInt(neg) : end] {
		if c-'0' >= 10 {
			return 0, failf("approximateArrivalTimestamp is not an integer")
		}
		if v > (1<<63)/10 {
			return 0, failf("approximateArrivalTimestamp is out of range")
		}
		v = v*10 + uint64(c-'0')
	}
	switch {
	case !neg && v > 1<<63-1, neg && v > 1<<63:
		return 0, failf("approximateArrivalTimestamp is out of range")
	case neg:
		*n = -int64(v)
	default:
		*n = int64(v)
	}
	return end, nil
}
