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
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/firelane/firelane/internal/jsonbytes"
	"github.com/firelane/firelane/internal/obs"
	"github.com/firelane/firelane/internal/obs/emf"
	"github.com/firelane/firelane/internal/obs/trace"
)

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
	out, stats, id, err := h.invoke(ctx, payload)
	inv.Set("bytes_in", len(payload))
	h.summarize(ctx, inv, span, stats, id, len(out), err)
	return out, err
}

// Handle transforms one typed Firehose event: the same core as [Handler.Invoke] and the same
// answer, built as aws-lambda-go's response value rather than as JSON text.
func (h *Handler) Handle(ctx context.Context, ev events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error) {
	inv := obs.Start(ctx, "transform", h.logger())
	defer inv.End()
	ctx, span := trace.Start(obs.NewContext(ctx, inv), "convert")
	st := h.take()
	defer h.give(st)
	b := Batch{
		InvocationID:           []byte(ev.InvocationID),
		DeliveryStreamARN:      []byte(ev.DeliveryStreamArn),
		SourceKinesisStreamARN: []byte(ev.SourceKinesisStreamArn),
		Records:                make([]Record, len(ev.Records)),
	}
	for k, r := range ev.Records {
		// The event's JSON carries milliseconds: the typed path sees no finer time than the raw one.
		b.Records[k] = Record{ID: []byte(r.RecordID), Data: r.Data, ArrivalTime: time.UnixMilli(r.ApproximateArrivalTimestamp.UnixMilli())}
	}
	w := eventResponse{conv: &st.conv, n: len(responseHead), recs: make([]events.KinesisFirehoseResponseRecord, 0, len(ev.Records))}
	stats, err := h.convert(ctx, st, &b, &w)
	h.summarize(ctx, inv, span, stats, b.InvocationID, w.size(), err)
	if err != nil {
		return events.KinesisFirehoseResponse{}, err
	}
	return events.KinesisFirehoseResponse{Records: w.recs}, nil
}

// invoke runs the core over a raw payload and returns the response's JSON and the invocation ID.
func (h *Handler) invoke(ctx context.Context, payload []byte) ([]byte, Counts, []byte, error) {
	st := h.take()
	defer h.give(st)
	inv, err := parseInvocation(payload, st)
	if err != nil {
		return nil, Counts{}, nil, err
	}
	b := &st.inv
	*b = Batch{InvocationID: inv.invocationID.raw, DeliveryStreamARN: inv.streamARN.raw, SourceKinesisStreamARN: inv.sourceKinesis.raw}
	st.batch = slices.Grow(st.batch[:0], len(inv.records))[:len(inv.records)]
	for k := range inv.records {
		st.batch[k] = Record{in: &inv.records[k]}
	}
	b.Records = st.batch
	w := &st.resp
	*w = jsonResponse{conv: &st.conv}
	if estimate := min(len(payload)+len(payload)/8+4096, MaxResponseBytes+4096); h.ReuseResponse {
		w.out = slices.Grow(st.out[:0], estimate)
		defer func() { st.out = w.out[:0]; w.out = nil }()
	} else {
		w.out = make([]byte, 0, estimate)
		defer func() { w.out = nil }()
	}
	w.out = append(w.out, responseHead...)
	stats, err := h.convert(ctx, st, b, w)
	if err != nil {
		return nil, stats, nil, err
	}
	return w.out, stats, b.InvocationID, nil
}

// summarize takes the invocation's one summary from its counts, once the core is done.
func (h *Handler) summarize(ctx context.Context, inv *obs.Invocation, span trace.Span, stats Counts, invocationID []byte, bytesOut int, err error) {
	span.Annotate("records", stats.Records)
	inv.Count(obs.Received, stats.Records)
	inv.Observe(obs.BatchSize, emf.Count, float64(stats.Records))
	inv.Count(obs.Accepted, stats.OK)
	inv.Count(obs.Dropped, stats.Dropped, obs.Reason(obs.ReasonDropType))
	inv.Count(obs.Reingested, stats.Reingested)
	inv.Count(obs.Failed, stats.Failed, obs.Reason(obs.ReasonPoison))
	if stats.Reingested > 0 { // the dimensioned counts of re-ingestion exist only when there was one
		inv.Count(obs.Retried, stats.Retried, obs.Destination("firehose"))
		inv.Count(obs.Written, stats.Written, obs.Destination("firehose"))
	}
	if err == nil {
		inv.Set("bytes_out", bytesOut)
		inv.Set("invocation_id", string(invocationID))
	} else {
		inv.Set("bytes_out", 0)
		span.Fail(err)
		inv.Set("error", err.Error())
		h.logger().LogAttrs(ctx, slog.LevelError, "transform invocation failed", slog.String("error", err.Error()))
	}
	span.End()
}

// jsonResponse writes the response's JSON text as the core answers each record, echoing the
// payload's own recordId and data tokens.
type jsonResponse struct {
	out  []byte
	conv *converter
}

func (w *jsonResponse) size() int           { return len(w.out) }
func (w *jsonResponse) idLen(r *Record) int { return len(r.in.id.raw) }
func (w *jsonResponse) undo(_, n int)       { w.out = w.out[:n] }
func (w *jsonResponse) end()                { w.out = append(w.out, responseTail...) }

func (w *jsonResponse) open(k int, r *Record) {
	if k > 0 {
		w.out = append(w.out, ',')
	}
	w.out = append(w.out, `{"recordId":"`...)
	w.out = append(w.out, r.in.id.raw...)
}

func (w *jsonResponse) ok(k int, r *Record, row []byte, keys Keys) {
	w.open(k, r)
	w.out = append(w.out, `","result":"Ok","data":"`...)
	w.out = appendBase64(w.out, row)
	w.out = append(w.out, `","metadata":{"partitionKeys":`...)
	w.out = w.conv.receivedHour.appendKeys(w.out, keys)
	w.out = append(w.out, `}}`...)
}

func (w *jsonResponse) dropped(k int, r *Record) {
	w.open(k, r)
	w.out = append(w.out, `","result":"Dropped"}`...)
}

func (w *jsonResponse) failed(k int, r *Record) {
	w.open(k, r)
	w.out = append(w.out, `","result":"ProcessingFailed","data":"`...)
	w.out = append(w.out, r.in.data.raw...)
	w.out = append(w.out, `"}`...)
}

// eventResponse builds aws-lambda-go's response value, counting the bytes its JSON encoding holds
// so that the core bounds it as it bounds the raw response.
type eventResponse struct {
	recs    []events.KinesisFirehoseResponseRecord
	n       int // the response's JSON length so far
	conv    *converter
	scratch []byte
}

func (w *eventResponse) size() int { return w.n }
func (w *eventResponse) end()      { w.n += len(responseTail) }

// idLen is the length of the recordId as encoding/json writes it, escapes and all.
func (w *eventResponse) idLen(r *Record) int {
	b, _ := json.Marshal(string(r.ID)) // a string always encodes
	return len(b) - 2
}

func (w *eventResponse) undo(k, n int) {
	w.recs = w.recs[:k]
	w.n = n
}

func (w *eventResponse) add(k int, r *Record, rec events.KinesisFirehoseResponseRecord, n int) {
	if k > 0 {
		w.n++
	}
	w.n += len(`{"recordId":"`) + w.idLen(r) + n
	w.recs = append(w.recs, rec)
}

func (w *eventResponse) ok(k int, r *Record, row []byte, keys Keys) {
	w.scratch = w.conv.receivedHour.appendKeys(w.scratch[:0], keys)
	n := len(`","result":"Ok","data":"`) + base64.StdEncoding.EncodedLen(len(row)) + len(`","metadata":{"partitionKeys":`) + len(w.scratch) + len(`}}`)
	w.add(k, r, events.KinesisFirehoseResponseRecord{
		RecordID: string(r.ID), Result: ResultOk, Data: slices.Clone(row),
		Metadata: events.KinesisFirehoseResponseRecordMetadata{PartitionKeys: keys.Map()},
	}, n)
}

func (w *eventResponse) dropped(k int, r *Record) {
	w.add(k, r, events.KinesisFirehoseResponseRecord{RecordID: string(r.ID), Result: ResultDropped}, len(`","result":"Dropped"}`))
}

func (w *eventResponse) failed(k int, r *Record) {
	n := len(`","result":"ProcessingFailed","data":"`) + base64.StdEncoding.EncodedLen(len(r.Data)) + len(`"}`)
	w.add(k, r, events.KinesisFirehoseResponseRecord{RecordID: string(r.ID), Result: ResultProcessingFailed, Data: r.Data}, n)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
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
		return 0, &jsonbytes.SyntaxError{Offset: i, Msg: "unterminated string"}
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
		st.b64 = jsonbytes.AppendUnescaped(st.b64[:0], tok.raw)
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

// parseInvocation decodes the Firehose event, keeping records as slices of payload.
func parseInvocation(s []byte, st *state) (invocation, error) {
	var inv invocation
	st.recs = st.recs[:0]
	i := jsonbytes.SkipSpace(s, 0)
	if i >= len(s) || s[i] != '{' {
		return inv, fmt.Errorf("event is not a JSON object: %w", ErrInvocation)
	}
	it := newObjectIter(s, i, 0)
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
	if jsonbytes.SkipSpace(s, it.i) != len(s) {
		return inv, fmt.Errorf("%w: data after the event", ErrInvocation)
	}
	inv.records = st.recs
	return inv, nil
}

func parseRecords(s []byte, i int, st *state) (int, error) {
	if s[i] == 'n' {
		end, err := jsonbytes.ScanLiteral(s, i, "null")
		return end, err
	}
	if s[i] != '[' {
		return 0, failf("records is not an array")
	}
	i = jsonbytes.SkipSpace(s, i+1)
	if i < len(s) && s[i] == ']' {
		return i + 1, nil
	}
	for {
		if i >= len(s) || s[i] != '{' {
			return 0, failf("a record is not an object")
		}
		var r inRecord
		it := newObjectIter(s, i, 2)
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
		i = jsonbytes.SkipSpace(s, it.i)
		if i >= len(s) {
			return 0, &jsonbytes.SyntaxError{Offset: i, Msg: "unexpected end of input"}
		}
		switch s[i] {
		case ',':
			i = jsonbytes.SkipSpace(s, i+1)
		case ']':
			return i + 1, nil
		default:
			return 0, &jsonbytes.SyntaxError{Offset: i, Msg: "expected comma or end of array"}
		}
	}
}

// scanInt reads a JSON integer that fits in an int64, or null (which leaves *n as it was).
func scanInt(s []byte, i int, n *int64) (int, error) {
	if s[i] == 'n' {
		end, err := jsonbytes.ScanLiteral(s, i, "null")
		return end, err
	}
	if s[i] != '-' && s[i]-'0' >= 10 {
		return 0, failf("approximateArrivalTimestamp is not a number")
	}
	end, err := jsonbytes.ScanNumber(s, i)
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
