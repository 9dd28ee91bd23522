package transform

import (
	"context"
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

// counts are the results of one invocation, as its log line reports them.
type counts struct {
	Records, OK, Dropped, Reingested, Failed int
}

func (h *Handler) invoke(ctx context.Context, payload []byte) ([]byte, counts, error) {
	h.mu.Lock()
	st := h.idle
	h.idle = nil
	h.mu.Unlock()
	if st == nil {
		st = &state{}
	}
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

// droppedLen is the length of a record's Dropped entry and the comma before it.
func droppedLen(r inRecord) int {
	return len(`,{"recordId":"","result":"Dropped"}`) + len(r.id.raw)
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

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}
