package eventsource

import (
	"context"
	"sync"

	"github.com/aws/aws-lambda-go/events"

	localkinesis "github.com/firelane/firelane/internal/localaws/kinesis"
)

// Shard is one shard the mapping polls: Read returns the next records after those it returned
// before (as successive GetRecords calls on one shard iterator do), nil when there is none yet.
type Shard interface {
	ID() string
	Read(ctx context.Context, max int) ([]events.KinesisEventRecord, error)
	// Unread returns how many records the shard holds that Read has not returned yet, -1 when
	// the source cannot tell.
	Unread() int
}

// MemoryShard reads the one shard of an in-memory stream.
type MemoryShard struct {
	Stream *localkinesis.Stream

	mu  sync.Mutex
	pos int
}

// NewMemoryShard returns a reader of st at the starting position: TRIM_HORIZON reads from the
// oldest record, LATEST from the first record put after this call.
func NewMemoryShard(st *localkinesis.Stream, position string) *MemoryShard {
	m := &MemoryShard{Stream: st}
	if position == Latest {
		m.pos = st.Len()
	}
	return m
}

// ID implements [Shard].
func (m *MemoryShard) ID() string { return localkinesis.ShardID }

// Read implements [Shard].
func (m *MemoryShard) Read(_ context.Context, max int) ([]events.KinesisEventRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	recs := m.Stream.Read(m.pos, max)
	m.pos += len(recs)
	return recs, nil
}

// Unread implements [Shard].
func (m *MemoryShard) Unread() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.Stream.Len() - m.pos
}
