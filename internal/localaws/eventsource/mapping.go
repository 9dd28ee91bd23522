package eventsource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"

	"github.com/firelane/firelane/internal/localaws/lambda"
	"github.com/firelane/firelane/internal/shardmap"
)

// Mapping is one running event source mapping from a Kinesis stream to a function.
//
// A batch ends in one of three ways: the function succeeds on it (the checkpoint moves past it);
// it reports item failures (the checkpoint moves to the lowest one and the rest is retried); or
// the mapping discards it after MaximumRetryAttempts or MaximumRecordAgeInSeconds, sending its
// invocation record to the [Destination] first. Nothing leaves the shard's queue otherwise.
type Mapping struct {
	Config      Config
	Function    lambda.Invoker
	FunctionARN string
	StreamARN   string
	Shards      []Shard
	Destination Destination // nil: discards are only logged and observed (no destination)
	Logger      *slog.Logger
	// Poll is how often an idle shard is polled: 100 ms here where Lambda polls once a second,
	// so that a local run shows an event quickly; the batching window applies on top.
	Poll time.Duration
	// Backoff is the wait before the n-th retry of a failing batch (1, 2, ...); default 100 ms
	// doubling up to 5 s.
	Backoff func(n int) time.Duration
	Now     func() time.Time
	// OnDiscard, when set, is told of every discarded batch after its destination took it.
	OnDiscard func(Discard)

	uuid     string
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	draining atomic.Bool
	lanes    []*lane
	// caughtUp counts, per shard, the reads that came back empty: a drain ends only after each
	// shard has had one that began after the drain did.
	caughtUp []atomic.Int64
	stats    struct {
		invocations, succeeded, retried, discarded atomic.Int64
	}
}

// Stats counts what the mapping did.
type Stats struct {
	Invocations int64 `json:"invocations"`
	Succeeded   int64 `json:"records_succeeded"` // records the checkpoint moved past
	Retried     int64 `json:"batches_retried"`
	Discarded   int64 `json:"records_discarded"` // records sent to the on-failure destination
	Pending     int   `json:"records_pending"`   // read from the stream, not yet done
	Unread      int   `json:"records_unread"`    // in the stream, not yet read (-1: unknown)
}

// lane is one of a shard's ParallelizationFactor concurrent batch queues.
type lane struct {
	shard Shard
	mu    sync.Mutex
	recs  []events.KinesisEventRecord
	since time.Time // when the oldest queued record was read
	// inflight counts the records of the batch being processed: they are not done until it returns.
	inflight int
}

func (l *lane) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recs) + l.inflight
}

// Start polls every shard and invokes the function until ctx ends or [Mapping.Drain] returns.
func (m *Mapping) Start(ctx context.Context) error {
	if m.Function == nil || len(m.Shards) == 0 {
		return errors.New("event source mapping needs a function and at least one shard")
	}
	if m.Config.BatchSize <= 0 {
		m.Config.BatchSize = 100
	}
	if m.Config.ParallelizationFactor <= 0 {
		m.Config.ParallelizationFactor = 1
	}
	if m.Logger == nil {
		m.Logger = slog.New(slog.DiscardHandler)
	}
	if m.Poll <= 0 {
		m.Poll = 100 * time.Millisecond
	}
	if m.Backoff == nil {
		m.Backoff = func(n int) time.Duration { return min(100*time.Millisecond<<min(n-1, 6), 5*time.Second) }
	}
	if m.Now == nil {
		m.Now = time.Now
	}
	m.uuid = uuid.NewString()
	ctx, m.cancel = context.WithCancel(ctx)
	lanesOf := shardmap.Even(m.Config.ParallelizationFactor)
	m.caughtUp = make([]atomic.Int64, len(m.Shards))
	for si, sh := range m.Shards {
		lanes := make([]*lane, m.Config.ParallelizationFactor)
		for i := range lanes {
			lanes[i] = &lane{shard: sh}
			m.lanes = append(m.lanes, lanes[i])
			m.wg.Add(1)
			go func() { defer m.wg.Done(); m.runLane(ctx, lanes[i]) }()
		}
		m.wg.Add(1)
		go func() { defer m.wg.Done(); m.poll(ctx, sh, &m.caughtUp[si], lanes, lanesOf) }()
	}
	return nil
}

// UUID returns the mapping's identifier, as on-failure records name it.
func (m *Mapping) UUID() string { return m.uuid }

// poll reads a shard and queues each record on the lane its partition key's hash falls in (the
// shard's hash range split evenly), never holding more than a few batches per lane.
func (m *Mapping) poll(ctx context.Context, sh Shard, caughtUp *atomic.Int64, lanes []*lane, lanesOf shardmap.Map) {
	limit := 4 * m.Config.BatchSize
	t := time.NewTicker(m.Poll)
	defer t.Stop()
	for {
		room := limit
		for _, l := range lanes {
			room = min(room, limit-l.len())
		}
		if room > 0 {
			recs, err := sh.Read(ctx, min(room, 10000))
			if err != nil && ctx.Err() == nil {
				m.Logger.Warn("event source mapping: read failed", "shard", sh.ID(), "error", err.Error())
			}
			if err == nil && len(recs) == 0 {
				caughtUp.Add(1)
			}
			now := m.Now()
			for _, r := range recs {
				l := lanes[0]
				if len(lanes) > 1 {
					l = lanes[lanesOf.Shard(r.Kinesis.PartitionKey)]
				}
				l.mu.Lock()
				if len(l.recs) == 0 {
					l.since = now
				}
				l.recs = append(l.recs, r)
				l.mu.Unlock()
			}
			if len(recs) > 0 && len(recs) == min(room, 10000) {
				continue // more may be waiting: read again at once, as Lambda does while behind
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// runLane invokes the function with the lane's batches, one at a time and in order.
func (m *Mapping) runLane(ctx context.Context, l *lane) {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if batch := m.take(l); batch != nil {
			m.process(ctx, l.shard, batch, 0)
			l.mu.Lock()
			l.inflight = 0
			l.mu.Unlock()
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// take cuts the next batch when it is due: BatchSize records, the batching window elapsed since
// its first record was read, or a drain under way. The batch stops short of the 6 MB payload limit.
func (m *Mapping) take(l *lane) []events.KinesisEventRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.recs) == 0 {
		return nil
	}
	full := len(l.recs) >= m.Config.BatchSize
	if !full && !m.draining.Load() && m.Now().Sub(l.since) < m.Config.BatchingWindow {
		return nil
	}
	n, size := 0, 0
	for n < len(l.recs) && n < m.Config.BatchSize {
		s := recordSize(l.recs[n])
		if n > 0 && size+s > MaxPayloadBytes {
			break
		}
		size += s
		n++
	}
	batch := l.recs[:n:n]
	l.recs = append([]events.KinesisEventRecord(nil), l.recs[n:]...)
	l.since = m.Now()
	l.inflight = len(batch)
	return batch
}

// recordSize is an upper bound of a record's size in the event's JSON: its data in base64 and
// the fixed members around it.
func recordSize(r events.KinesisEventRecord) int {
	return (len(r.Kinesis.Data)+2)/3*4 + len(r.Kinesis.PartitionKey) + 2*len(r.Kinesis.SequenceNumber) +
		len(r.EventSourceArn) + len(r.InvokeIdentityArn) + 400
}

// process invokes the function with batch until the batch is done: succeeded, or discarded to the
// destination. attempts counts the retries already made of these records.
func (m *Mapping) process(ctx context.Context, sh Shard, batch []events.KinesisEventRecord, attempts int) {
	invokes := 0
	for len(batch) > 0 {
		if ctx.Err() != nil {
			return
		}
		if age := m.Config.MaxRecordAge; age > 0 {
			n := 0
			for n < len(batch) && m.Now().Sub(batch[n].Kinesis.ApproximateArrivalTimestamp.Time) > age {
				n++
			}
			if n > 0 {
				m.discard(ctx, sh, batch[:n], RecordMaximumAgeExceeded, invokes, "")
				batch = batch[n:]
				continue
			}
		}
		invokes++
		m.stats.invocations.Add(1)
		failed, fnErr, err := m.invoke(ctx, batch)
		switch {
		case err != nil:
			// The function could not be invoked at all: Lambda retries until the records expire,
			// without counting retries.
			if ctx.Err() != nil {
				return
			}
			m.Logger.Warn("event source mapping: invoke failed", "shard", sh.ID(), "records", len(batch), "error", err.Error())
			m.wait(ctx, 1)
			continue
		case fnErr == "" && failed < 0:
			m.stats.succeeded.Add(int64(len(batch)))
			return
		case fnErr == "":
			// A partial batch response: everything before the lowest failure is done.
			m.stats.succeeded.Add(int64(failed))
			batch = batch[failed:]
		default:
			if m.Config.BisectOnError && len(batch) > 1 {
				half := len(batch) / 2
				m.process(ctx, sh, batch[:half], attempts)
				m.process(ctx, sh, batch[half:], attempts)
				return
			}
		}
		attempts++
		if m.Config.MaxRetries >= 0 && attempts > m.Config.MaxRetries {
			m.discard(ctx, sh, batch, RetryAttemptsExhausted, invokes, fnErr)
			return
		}
		m.stats.retried.Add(1)
		m.wait(ctx, attempts)
	}
}

func (m *Mapping) wait(ctx context.Context, n int) {
	select {
	case <-ctx.Done():
	case <-time.After(m.Backoff(n)):
	}
}

// invoke calls the function. It returns the index of the lowest failed record of a partial batch
// response (-1 for complete success), or the function error ("Unhandled" for a function error or
// a response the mapping cannot read), or an error when the function could not be invoked.
func (m *Mapping) invoke(ctx context.Context, batch []events.KinesisEventRecord) (int, string, error) {
	payload, err := json.Marshal(events.KinesisEvent{Records: batch})
	if err != nil {
		return 0, "", fmt.Errorf("encode Kinesis event: %w", err)
	}
	res, err := m.Function.Invoke(ctx, payload)
	if err != nil {
		return 0, "", err
	}
	if res.Err != nil {
		return 0, "Unhandled", nil
	}
	if !m.Config.ReportBatchItemFailures {
		// Without ReportBatchItemFailures the response is not read.
		return -1, "", nil
	}
	idx, ok := lowestFailure(res.Payload, batch)
	if !ok {
		return 0, "Unhandled", nil
	}
	return idx, "", nil
}

// lowestFailure reads a partial batch response: an empty or null response or list is complete
// success (-1); an itemIdentifier that is null, empty or names no record of the batch makes the
// whole batch a failure (false).
func lowestFailure(payload []byte, batch []events.KinesisEventRecord) (int, bool) {
	var resp *struct {
		BatchItemFailures []struct {
			ItemIdentifier *string `json:"itemIdentifier"`
		} `json:"batchItemFailures"`
	}
	if len(payload) == 0 || string(payload) == "null" {
		return -1, true
	}
	if err := json.Unmarshal(payload, &resp); err != nil {
		return 0, false
	}
	if resp == nil || len(resp.BatchItemFailures) == 0 {
		return -1, true
	}
	low := len(batch)
	for _, f := range resp.BatchItemFailures {
		if f.ItemIdentifier == nil || *f.ItemIdentifier == "" {
			return 0, false
		}
		found := false
		for i, r := range batch {
			if r.Kinesis.SequenceNumber == *f.ItemIdentifier {
				low, found = min(low, i), true
				break
			}
		}
		if !found {
			return 0, false
		}
	}
	return low, true
}

// discard sends the batch's invocation record to the destination, retrying until it takes it
// (or the mapping stops, leaving the records unprocessed), and counts the records as discarded.
func (m *Mapping) discard(ctx context.Context, sh Shard, batch []events.KinesisEventRecord, condition string, invokes int, fnErr string) {
	var rec InvocationRecord
	rec.RequestContext.RequestID = uuid.NewString()
	rec.RequestContext.FunctionARN = m.FunctionARN
	rec.RequestContext.Condition = condition
	rec.RequestContext.ApproximateInvokeCount = invokes
	rec.ResponseContext.StatusCode = 200
	rec.ResponseContext.ExecutedVersion = "$LATEST"
	rec.ResponseContext.FunctionError = fnErr
	rec.Version = "1.0"
	rec.Timestamp = m.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	first, last := batch[0], batch[len(batch)-1]
	rec.KinesisBatchInfo = BatchInfo{
		ShardID: sh.ID(), StartSequenceNumber: first.Kinesis.SequenceNumber, EndSequenceNumber: last.Kinesis.SequenceNumber,
		ApproximateArrivalOfFirstRecord: first.Kinesis.ApproximateArrivalTimestamp.UTC().Format("2006-01-02T15:04:05.000Z"),
		ApproximateArrivalOfLastRecord:  last.Kinesis.ApproximateArrivalTimestamp.UTC().Format("2006-01-02T15:04:05.000Z"),
		BatchSize:                       len(batch), StreamARN: m.StreamARN,
	}
	d := Discard{Record: rec, Records: batch, Mapping: m.uuid}
	for n := 1; m.Destination != nil; n++ {
		err := m.Destination.Send(ctx, d)
		if err == nil {
			break
		}
		m.Logger.Warn("event source mapping: on-failure destination failed", "shard", sh.ID(), "records", len(batch), "error", err.Error())
		if m.wait(ctx, n); ctx.Err() != nil {
			return
		}
	}
	m.Logger.Warn("event source mapping: batch discarded", "condition", condition, "shard", sh.ID(),
		"records", len(batch), "start_sequence_number", first.Kinesis.SequenceNumber, "invocations", invokes)
	m.stats.discarded.Add(int64(len(batch)))
	if m.OnDiscard != nil {
		m.OnDiscard(d)
	}
}

// Stats returns what the mapping has done so far.
func (m *Mapping) Stats() Stats {
	s := Stats{
		Invocations: m.stats.invocations.Load(), Succeeded: m.stats.succeeded.Load(),
		Retried: m.stats.retried.Load(), Discarded: m.stats.discarded.Load(),
	}
	for _, l := range m.lanes {
		s.Pending += l.len()
	}
	for _, sh := range m.Shards {
		u := sh.Unread()
		if u < 0 || s.Unread < 0 {
			s.Unread = -1
			continue
		}
		s.Unread += u
	}
	return s
}

// Drain stops waiting for batching windows, processes every record the shards hold, then stops
// the mapping. When ctx ends first it stops anyway; the returned stats say what is left in the
// stream (Pending and Unread).
func (m *Mapping) Drain(ctx context.Context) Stats {
	m.draining.Store(true)
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	// A shard that knows only whether its last read came back empty (an endpoint's) may say so
	// from before the drain, or from a read that began before the records being drained were
	// written: each shard must have come back empty twice since the drain began (the second read
	// began after it did), however long its reads take.
	base := make([]int64, len(m.caughtUp))
	for i := range m.caughtUp {
		base[i] = m.caughtUp[i].Load()
	}
	readSince := func() bool {
		for i := range m.caughtUp {
			if m.caughtUp[i].Load() < base[i]+2 {
				return false
			}
		}
		return true
	}
	for {
		s := m.Stats()
		if s.Pending == 0 && s.Unread == 0 && readSince() {
			break
		}
		select {
		case <-ctx.Done():
		case <-t.C:
			continue
		}
		break
	}
	m.Stop()
	return m.Stats()
}

// Stop stops the mapping without draining.
func (m *Mapping) Stop() {
	if m.cancel != nil {
		m.cancel()
	}
	m.wg.Wait()
}
