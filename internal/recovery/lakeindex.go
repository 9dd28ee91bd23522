package recovery

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/lake"
)

// lakeIndex knows the fingerprints of the lake's partitions it has read, reading each partition
// (type, version, hour of received_at) once and no other.
type lakeIndex struct {
	store  Store
	parts  map[string]map[string]bool
	unread int
}

func newLakeIndex(s Store) *lakeIndex {
	return &lakeIndex{store: s, parts: map[string]map[string]bool{}}
}

// partition is the events prefix the row of e is delivered under (lake.EventsPrefix).
func partition(e SentEvent) string {
	t, _ := time.Parse(time.RFC3339Nano, e.ReceivedAt)
	k := lake.PartitionKeys(e.EventType, e.EventVersion, t)
	return "events/event_type=" + k[lake.KeyEventType] + "/event_version=" + k[lake.KeyEventVersion] +
		"/year=" + k[lake.KeyYear] + "/month=" + k[lake.KeyMonth] + "/day=" + k[lake.KeyDay] + "/hour=" + k[lake.KeyHour] + "/"
}

// has tells whether e's partition holds a row with e's fingerprint.
func (x *lakeIndex) has(ctx context.Context, e SentEvent) (bool, error) {
	p := partition(e)
	fps, ok := x.parts[p]
	if !ok {
		var err error
		if fps, err = x.read(ctx, p); err != nil {
			return false, err
		}
		x.parts[p] = fps
	}
	return fps[e.Fingerprint], nil
}

func (x *lakeIndex) read(ctx context.Context, prefix string) (map[string]bool, error) {
	keys, err := x.store.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	fps := map[string]bool{}
	for _, k := range keys {
		body, err := x.store.Get(ctx, k)
		if err != nil {
			return nil, err
		}
		if body, err = decompress(body); err != nil || (len(body) > 0 && body[0] != '{') {
			x.unread++ // a Parquet object, or not a row file
			continue
		}
		for _, line := range bytes.Split(body, []byte("\n")) {
			var row struct {
				Fingerprint string `json:"fingerprint"`
				EventID     string `json:"event_id"`
				Source      string `json:"source"`
			}
			if len(bytes.TrimSpace(line)) == 0 || json.Unmarshal(line, &row) != nil {
				continue
			}
			if row.Fingerprint == "" {
				row.Fingerprint = event.Fingerprint(row.Source, row.EventID)
			}
			fps[row.Fingerprint] = true
		}
	}
	return fps, nil
}
