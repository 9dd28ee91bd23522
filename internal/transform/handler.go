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

	"github.com/firelane/firelane/internal/awsbatch"
)

// MaxResponseBytes is the largest response the handler returns. Lambda caps a synchronous
// response at 6 MiB; Firehose's own documentation and AWS's blueprints keep to 6,000,000 bytes,
// and so does the handler, counting every byte of the response.
const MaxResponseBytes = 6_000_000

// Results of a transformed record, as Firehose spells them (the adapter's test checks them against
// aws-lambda-go's events.KinesisFirehoseTransformedState constants).
const (
	ResultOk               = "Ok"
	ResultDropped          = "Dropped"
	ResultProcessingFailed = "ProcessingFailed"
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
	batch   []Record     // the core's view of recs
	inv     Batch        // the raw path's batch, kept so that it is not allocated per invocation
	resp    jsonResponse // the raw path's response writer, likewise
	decoded []byte
	row     []byte
	b64     []byte
}

// Record is one record of a transformation batch, as the core reads it: its ID, its data (the
// bytes Firehose decoded from base64) and when Firehose received it.
type Record struct {
	ID          []byte
	Data        []byte
	ArrivalTime time.Time

	// in is set for a record that [Handler.Invoke] read from the raw payload: ID and Data are then
	// unused, and the core decodes the data token on use, so that the invocation never holds more
	// than one record's decoded data.
	in *inRecord
}

// Batch is one invocation's records and the delivery stream they came from, as the JSON text of
// the event's members (an ARN holds nothing JSON escapes).
type Batch struct {
	InvocationID           []byte
	DeliveryStreamARN      []byte
	SourceKinesisStreamARN []byte // set when the delivery stream reads a Kinesis stream
	Records                []Record
}

// Counts say what became of a batch's records, for the invocation's one summary.
type Counts struct {
	Records, OK, Dropped, Reingested, Failed int
	// Written and Retried count the re-ingested records Firehose acknowledged and the extra
	// attempts their writes took.
	Written, Retried int
}

// response receives the core's answer record by record, in order. The raw adapter writes
// Firehose's response JSON as it goes; [Handler.Handle] builds aws-lambda-go's response value.
// Either way size is the length of the response's JSON so far, which [MaxResponseBytes] bounds.
type response interface {
	size() int
	ok(k int, r *Record, row []byte, keys Keys)
	dropped(k int, r *Record)
	failed(k int, r *Record)
	// undo takes back the entry just added; the response had size n before it.
	undo(k, n int)
	// idLen is the length of a record's ID in the response's JSON.
	idLen(r *Record) int
	end()
}

// Response framing, as [MaxResponseBytes] counts it.
const responseHead, responseTail = `{"records":[`, `]}`

// convert is the stage's core: it converts every record of b into its lake row, answers each one
// Ok, Dropped or ProcessingFailed into w, and re-ingests what does not fit. An error fails the whole
// invocation.
func (h *Handler) convert(ctx context.Context, st *state, b *Batch, w response) (Counts, error) {
	stats := Counts{Records: len(b.Records)}
	log := h.logger()

	// reserve is what the records not yet written cost at least: a Dropped entry each.
	reserve := 0
	for k := range b.Records {
		reserve += droppedLen(w.idLen(&b.Records[k]))
	}
	if len(responseHead)+reserve+len(responseTail) > MaxResponseBytes {
		return stats, fmt.Errorf("%d records cannot be answered within %d bytes: %w", len(b.Records), MaxResponseBytes, ErrOverflow)
	}
	var overflow []awsbatch.Record
	for k := range b.Records {
		r := &b.Records[k]
		reserve -= droppedLen(w.idLen(r))
		start := w.size()
		data, arrival, decodeErr := r.Data, r.ArrivalTime, error(nil)
		if r.in != nil {
			data, decodeErr = st.decode(r.in.data)
			arrival = time.UnixMilli(r.in.arrival)
		}
		if errors.Is(decodeErr, errInvalidData) {
			return stats, fmt.Errorf("%w: record %d: %w", ErrInvocation, k, decodeErr)
		}
		row, keys, typ, convErr := []byte(nil), Keys{}, []byte(nil), decodeErr
		if convErr == nil {
			row, keys, typ, convErr = st.conv.appendRow(st.row[:0], data, arrival)
			st.row = row[:0]
		}
		result := ResultOk
		switch {
		case convErr != nil:
			result = ResultProcessingFailed
			w.failed(k, r)
		case h.drops(typ):
			result = ResultDropped
			w.dropped(k, r)
		default:
			w.ok(k, r, row, keys)
		}
		if w.size()+reserve+len(responseTail) > MaxResponseBytes {
			if decodeErr != nil {
				return stats, fmt.Errorf("record %d does not fit in the response and its data is not base64: %w", k, ErrOverflow)
			}
			w.undo(k, start)
			w.dropped(k, r)
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
			id := r.ID
			if r.in != nil {
				id = st.conv.text(r.in.id)
			}
			log.LogAttrs(ctx, slog.LevelWarn, "record failed", slog.String("record_id", string(id)), slog.String("reason", convErr.Error()))
		}
	}
	w.end()
	if len(overflow) > 0 {
		if err := h.reingest(ctx, b, overflow, &stats); err != nil {
			return stats, err
		}
	}
	return stats, nil
}

// take returns the buffers of the last invocation, or new ones; give keeps them for the next.
func (h *Handler) take() *state {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.idle
	h.idle = nil
	if st == nil {
		st = &state{}
	}
	st.conv.textColumns = h.TextColumns
	return st
}

func (h *Handler) give(st *state) {
	h.mu.Lock()
	h.idle = st
	h.mu.Unlock()
}

// droppedLen is the length of a record's Dropped entry, for an ID of n bytes, and the comma
// before it.
func droppedLen(n int) int {
	return len(`,{"recordId":"","result":"Dropped"}`) + n
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
