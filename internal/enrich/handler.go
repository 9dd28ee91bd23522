package enrich

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/schema"
)

// Writer writes records to a Firehose delivery stream and reports each one's result, in order.
type Writer interface {
	Write(ctx context.Context, recs []awsbatch.Record) []awsbatch.Result
}

// Handler is the enrich stage.
type Handler struct {
	Registry *schema.Registry
	Chain    []Enricher
	Firehose Writer // the events delivery stream
	Failed   Writer // the failed-events delivery stream
	Logger   *slog.Logger
	Now      func() time.Time
}

// DefaultChain returns the enrichments in their default order.
func DefaultChain(now func() time.Time, piiKey []byte) []Enricher {
	return []Enricher{Timestamps{Now: now}, Identity{}, SchemaInfo{}, Privacy{Key: piiKey}}
}

// Handle processes one Kinesis batch.
func (h *Handler) Handle(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
	var out, poison []awsbatch.Record
	var outSeq, poisonSeq []string
	seen := map[string]bool{}
	for _, rec := range ev.Records {
		k := rec.Kinesis
		b, err := h.enrich(k)
		if err != nil {
			h.logger().Warn("poison record", "sequence_number", k.SequenceNumber, "reason", err.Error())
			poison = append(poison, awsbatch.Record{Data: h.failedRecord(k.Data, err)})
			poisonSeq = append(poisonSeq, k.SequenceNumber)
			continue
		}
		if seen[b.fingerprint] {
			continue // a duplicate delivery within this batch: written once
		}
		seen[b.fingerprint] = true
		out = append(out, awsbatch.Record{Data: b.data})
		outSeq = append(outSeq, k.SequenceNumber)
	}
	var failedSeq []string
	for i, r := range h.Firehose.Write(ctx, out) {
		if !r.OK {
			h.logger().Error("record not written to Firehose", "sequence_number", outSeq[i], "error_code", r.ErrorCode, "error", r.ErrorMessage)
			failedSeq = append(failedSeq, outSeq[i])
		}
	}
	if len(poison) > 0 {
		for i, r := range h.Failed.Write(ctx, poison) {
			if !r.OK {
				h.logger().Error("poison record not written to the failed-events stream", "sequence_number", poisonSeq[i], "error_code", r.ErrorCode, "error", r.ErrorMessage)
				failedSeq = append(failedSeq, poisonSeq[i])
			}
		}
	}
	return response(failedSeq)
}

// response reports the lowest failed sequence number: Lambda checkpoints before it and retries
// every record from it onward, so reporting more would add nothing.
func response(failed []string) (events.KinesisEventResponse, error) {
	var resp events.KinesisEventResponse
	lowest := ""
	for _, s := range failed {
		if lowest == "" || lessSeq(s, lowest) {
			lowest = s
		}
	}
	if lowest != "" {
		resp.BatchItemFailures = []events.KinesisBatchItemFailure{{ItemIdentifier: lowest}}
	}
	return resp, nil
}

// lessSeq compares two Kinesis sequence numbers, decimal strings of up to 128 digits.
func lessSeq(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

type enriched struct {
	data        []byte
	fingerprint string
}

func (h *Handler) enrich(k events.KinesisRecord) (enriched, error) {
	env, err := event.DecodeRecord(k.Data)
	if err != nil {
		return enriched{}, err
	}
	ce, err := event.Parse(env.Event)
	if err != nil {
		return enriched{}, err
	}
	if errs := event.CheckEnvelope(ce); len(errs) > 0 {
		return enriched{}, fmt.Errorf("invalid CloudEvent: %v", errs[0])
	}
	it := &Item{Event: ce, Raw: env.Event, Context: env.Context, ArrivedAt: k.ApproximateArrivalTimestamp.UTC()}
	if e, ok := h.Registry.Lookup(ce.Type, ce.Version()); ok {
		it.Schema = e
	}
	for _, step := range h.Chain {
		if err := step.Enrich(it); err != nil {
			return enriched{}, fmt.Errorf("%s: %w", step.Name(), err)
		}
	}
	it.Enrichment.Context = it.Context
	b, err := json.Marshal(event.EnrichedRecord{Format: event.FormatEnriched, Enrichment: it.Enrichment, Event: it.Raw})
	if err != nil {
		return enriched{}, fmt.Errorf("encode enriched record: %w", err)
	}
	return enriched{data: b, fingerprint: it.Enrichment.Fingerprint}, nil
}

func (h *Handler) failedRecord(data []byte, reason error) []byte {
	f := event.Failed{
		Format: event.FormatFailed, Kind: event.KindFailed, Stage: "enrich",
		FailedAt: event.FormatTime(h.now()), Reasons: []event.Reason{{Message: reason.Error()}}, Original: data,
	}
	var attrs struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	if env, err := event.DecodeRecord(data); err == nil && json.Unmarshal(env.Event, &attrs) == nil {
		f.EventID, f.EventType = attrs.ID, attrs.Type
	}
	b, _ := json.Marshal(f) // a Failed of strings and bytes always encodes
	return append(b, '\n') // Firehose concatenates records; the newline keeps S3 objects NDJSON
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
