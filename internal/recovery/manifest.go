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
	// Part and Parts number the objects of a run that sent more than one manifest holds.
	Part  int `json:"part,omitempty"`
	Parts int `json:"parts,omitempty"`
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

// maxManifestEvents bounds the events one manifest object names (a few hundred bytes each), so
// that every part stays far below the size a later run reads an object to ([maxObjectBytes]).
var maxManifestEvents = 100_000

// writeManifest writes m under ManifestPrefix, keyed by the hour it finished as Firehose keys
// its objects, in parts of at most maxManifestEvents events, and returns their keys. Each part is
// a whole manifest of its own: a later run reads them all.
func writeManifest(ctx context.Context, s Store, m Manifest, at time.Time) ([]string, error) {
	m.FinishedAt = event.FormatTime(at)
	base := ManifestPrefix + at.UTC().Format("2006/01/02/15/") + "recovery-" + at.UTC().Format("2006-01-02-15-04-05") + "-" + uuid.NewString()
	sent := m.Sent
	parts := max(1, (len(sent)+maxManifestEvents-1)/maxManifestEvents)
	keys := make([]string, 0, parts)
	for i := range parts {
		part := m
		part.Sent = sent[i*maxManifestEvents : min(len(sent), (i+1)*maxManifestEvents)]
		key := base + ".json"
		if parts > 1 {
			part.Part, part.Parts = i+1, parts
			key = fmt.Sprintf("%s-part%d-of-%d.json", base, i+1, parts)
		}
		b, err := json.Marshal(part)
		if err != nil {
			return keys, fmt.Errorf("encode recovery manifest: %w", err)
		}
		if err := s.Put(ctx, key, append(b, '\n')); err != nil {
			return keys, fmt.Errorf("write recovery manifest: %w", err)
		}
		keys = append(keys, key)
	}
	return keys, nil
}
