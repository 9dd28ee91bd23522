package transform

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
)

// Handler is the transform stage.
type Handler struct {
	Logger *slog.Logger
}

// Handle transforms one Firehose invocation.
func (h *Handler) Handle(ctx context.Context, ev events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error) {
	resp := events.KinesisFirehoseResponse{Records: make([]events.KinesisFirehoseResponseRecord, len(ev.Records))}
	for i, rec := range ev.Records {
		out := &resp.Records[i]
		out.RecordID = rec.RecordID
		row, keys, err := Convert(rec.Data, rec.ApproximateArrivalTimestamp.Time)
		if err == nil {
			var b []byte
			if b, err = json.Marshal(row); err == nil {
				out.Result = events.KinesisFirehoseTransformedStateOk
				out.Data = append(b, '\n')
				out.Metadata.PartitionKeys = keys
				continue
			}
		}
		h.logger().Warn("record failed", "record_id", rec.RecordID, "reason", err.Error())
		out.Result = events.KinesisFirehoseTransformedStateProcessingFailed
		out.Data = rec.Data
	}
	return resp, nil
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}
