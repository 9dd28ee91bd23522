package transform

import (
	"context"
	"fmt"
	"strings"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/obs/trace"
)

// reingest puts the overflow records back into the delivery stream that the invocation came from.
// The attempts and acknowledgements are counted into stats.
func (h *Handler) reingest(ctx context.Context, b *Batch, recs []awsbatch.Record, stats *Counts) error {
	if h.Firehose == nil {
		return fmt.Errorf("%d records overflow and no Firehose client is configured: %w", len(recs), ErrOverflow)
	}
	if len(b.SourceKinesisStreamARN) > 0 {
		return fmt.Errorf("%d records overflow and the delivery stream reads a Kinesis stream, which PutRecordBatch cannot feed: %w", len(recs), ErrOverflow)
	}
	arn := string(b.DeliveryStreamARN)
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
	failed, first := 0, ""
	for _, res := range w.Write(ctx, recs) {
		stats.Retried += max(res.Attempts-1, 0)
		if res.OK {
			stats.Written++
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
