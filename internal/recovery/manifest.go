package recovery

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/firelane/firelane/internal/event"
)

// ManifestPrefix is where runs write their manifests: a prefix of its own, so that neither the
// failed-events delivery stream's prefixes nor a run's own reading ever meet it.
const ManifestPrefix = "recovery/"

// FormatManifest marks a manifest, as the stages' records are marked.
const FormatManifest = "recovery/1"

// Manifest is what one run sent and the envelope objects it read.
type Manifest struct {
	Format     string      `json:"firelane"`
	StartedAt  string      `json:"started_at"`
	FinishedAt string      `json:"finished_at"`
	Objects    []string    `json:"objects"`
	Sent       []SentEvent `json:"sent"`
}

// SentEvent is one event a run sent: its fingerprint ([event.Fingerprint]), id, type, version,
// the receive time it was sent with, the object its envelope was read from, and where the stream
// put it (shard and sequence number, as PutRecords answered).
type SentEvent struct {
	Fingerprint    string `json:"fingerprint"`
	EventID        string `json:"event_id"`
	EventType      string `json:"event_type"`
	EventVersion   int    `json:"event_version"`
	ReceivedAt     string `json:"received_at"`
	Object         string `json:"object"`
	ShardID        string `json:"shard_id,omitempty"`
	SequenceNumber string `json:"sequence_number,omitempty"`
}

// readManifests returns the fingerprints every earlier run sent.
func readManifests(ctx context.Context, s Store) (map[string]bool, error) {
	keys, err := s.List(ctx, ManifestPrefix)
	if err != nil {
		return nil, err
	}
	done := map[string]bool{}
	for _, k := range keys {
		b, err := s.Get(ctx, k)
		if err != nil {
			return nil, err
		}
		var m Manifest
		if err := json.Unmarshal(b, &m); err != nil || m.Format != FormatManifest {
			// A manifest that cannot be read would let its events be sent twice: stop instead.
			return nil, fmt.Errorf("read recovery manifest %s: not a %s manifest", k, FormatManifest)
		}
		for _, e := range m.Sent {
			done[e.Fingerprint] = true
		}
	}
	return done, nil
}

// writeManifest writes m under ManifestPrefix, keyed by the hour it finished as Firehose keys
// its objects, and returns the key.
func writeManifest(ctx context.Context, s Store, m Manifest, at time.Time) (string, error) {
	m.FinishedAt = event.FormatTime(at)
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encode recovery manifest: %w", err)
	}
	key := ManifestPrefix + at.UTC().Format("2006/01/02/15/") + "recovery-" + at.UTC().Format("2006-01-02-15-04-05") + "-" + uuid.NewString() + ".json"
	if err := s.Put(ctx, key, append(b, '\n')); err != nil {
		return "", fmt.Errorf("write recovery manifest: %w", err)
	}
	return key, nil
}
