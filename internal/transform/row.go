package transform

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/lake"
)

// Row is one lake row. Column names are stable: docs/lake.md documents them and the Athena table.
type Row struct {
	EventID      string          `json:"event_id"`
	EventType    string          `json:"event_type"`
	EventVersion int             `json:"event_version"`
	EventTime    string          `json:"event_time"`
	ReceivedAt   string          `json:"received_at"`
	ArrivedAt    string          `json:"arrived_at,omitempty"`
	ProcessedAt  string          `json:"processed_at,omitempty"`
	Source       string          `json:"source"`
	Subject      string          `json:"subject,omitempty"`
	Fingerprint  string          `json:"fingerprint,omitempty"`
	LatenessMS   *int64          `json:"lateness_ms,omitempty"`
	RequestID    string          `json:"request_id,omitempty"`
	SourceIP     string          `json:"source_ip,omitempty"`
	UserAgent    string          `json:"user_agent,omitempty"`
	APIKeyID     string          `json:"api_key_id,omitempty"`
	Data         json.RawMessage `json:"data"`
}

// Convert turns one delivery-stream record into its lake row and partition keys. arrival is
// Firehose's approximate arrival time of the record, used as the receive time of events that carry
// none (raw CloudEvents from a direct integration).
func Convert(data []byte, arrival time.Time) (Row, map[string]string, error) {
	env, err := event.DecodeRecord(data)
	if err != nil {
		return Row{}, nil, err
	}
	ce, err := event.Parse(env.Event)
	if err != nil {
		return Row{}, nil, err
	}
	if errs := event.CheckEnvelope(ce); len(errs) > 0 {
		return Row{}, nil, fmt.Errorf("invalid CloudEvent: %v", errs[0])
	}
	received := arrival.UTC()
	row := Row{
		EventID: ce.ID, EventType: ce.Type, EventVersion: ce.Version(),
		Source: ce.Source, Subject: ce.Subject, Data: ce.Data,
	}
	if len(row.Data) == 0 {
		row.Data = json.RawMessage("null")
	}
	if env.Context != nil {
		c := env.Context
		if t, err := time.Parse(time.RFC3339Nano, c.ReceivedAt); err == nil {
			received = t.UTC()
		}
		row.RequestID, row.SourceIP, row.UserAgent, row.APIKeyID = c.RequestID, c.SourceIP, c.UserAgent, c.APIKeyID
	}
	if e := env.Enrichment; e != nil {
		row.ArrivedAt, row.ProcessedAt, row.Fingerprint, row.LatenessMS = e.ArrivedAt, e.ProcessedAt, e.Fingerprint, e.LatenessMS
	}
	row.ReceivedAt = event.FormatTime(received)
	row.EventTime = row.ReceivedAt
	if t, ok, err := ce.EventTime(); ok && err == nil {
		row.EventTime = event.FormatTime(t)
	}
	return row, lake.PartitionKeys(ce.Type, row.EventVersion, received), nil
}
