package eventsource

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/firelane/firelane/internal/cfn"
	localkinesis "github.com/firelane/firelane/internal/localaws/kinesis"
	"github.com/firelane/firelane/internal/localaws/lambda"
)

// function is an enrich stand-in: it answers each batch with what answer returns, and records
// every batch it was given.
type function struct {
	mu      sync.Mutex
	answer  func(batch []events.KinesisEventRecord) (events.KinesisEventResponse, error)
	batches [][]string // the data of each invocation's records
}

func (f *function) Invoke(_ context.Context, payload []byte) (lambda.Result, error) {
	var ev events.KinesisEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return lambda.Result{}, err
	}
	var data []string
	for _, r := range ev.Records {
		data = append(data, string(r.Kinesis.Data))
	}
	f.mu.Lock()
	f.batches = append(f.batches, data)
	f.mu.Unlock()
	resp, err := f.answer(ev.Records)
	if err != nil {
		return lambda.Result{Err: &lambda.FunctionError{Type: "errorString", Message: err.Error()}}, nil
	}
	b, _ := json.Marshal(resp)
	return lambda.Result{Payload: b}, nil
}

func put(t *testing.T, st *localkinesis.Stream, keys ...string) {
	t.Helper()
	var recs []types.PutRecordsRequestEntry
	for i, k := range keys {
		recs = append(recs, types.PutRecordsRequestEntry{PartitionKey: aws.String(k), Data: fmt.Appendf(nil, "%s-%d", k, i)})
	}
	if _, err := st.PutRecords(t.Context(), &kinesis.PutRecordsInput{StreamName: aws.String(st.Name), Records: recs}); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, cfg Config, f *function, keys []string) (*Mapping, *Queue, Stats) {
	t.Helper()
	st := localkinesis.NewStream("s")
	q := &Queue{Name: "q"}
	m := &Mapping{Config: cfg, Function: f, Shards: []Shard{NewMemoryShard(st, TrimHorizon)}, Destination: q,
		Poll: 5 * time.Millisecond, Backoff: func(int) time.Duration { return time.Millisecond }}
	if err := m.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	put(t, st, keys...)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	return m, q, m.Drain(ctx)
}

func isPoison(r events.KinesisEventRecord) bool { return string(r.Kinesis.Data) == "poison-3" }

func TestMappingFailures(t *testing.T) {
	keys := []string{"a", "b", "c", "poison", "d", "e", "f", "g"}
	tests := []struct {
		name          string
		cfg           Config
		answer        func([]events.KinesisEventRecord) (events.KinesisEventResponse, error)
		wantDiscarded int64
		wantSucceeded int64
		wantMessages  int
		wantCondition string
	}{
		{
			name: "partial batch response retries from the lowest failure, then discards it",
			cfg:  Config{BatchSize: 8, MaxRetries: 2, ReportBatchItemFailures: true},
			answer: func(b []events.KinesisEventRecord) (events.KinesisEventResponse, error) {
				var resp events.KinesisEventResponse
				for _, r := range b {
					if isPoison(r) {
						resp.BatchItemFailures = append(resp.BatchItemFailures, events.KinesisBatchItemFailure{ItemIdentifier: r.Kinesis.SequenceNumber})
					}
				}
				return resp, nil
			},
			// The poison record and the four after it are retried twice, then discarded together.
			wantDiscarded: 5, wantSucceeded: 3, wantMessages: 1, wantCondition: RetryAttemptsExhausted,
		},
		{
			name: "bisecting isolates the one record that fails the function",
			cfg:  Config{BatchSize: 8, MaxRetries: 1, BisectOnError: true},
			answer: func(b []events.KinesisEventRecord) (events.KinesisEventResponse, error) {
				if slices.ContainsFunc(b, isPoison) {
					return events.KinesisEventResponse{}, fmt.Errorf("boom")
				}
				return events.KinesisEventResponse{}, nil
			},
			wantDiscarded: 1, wantSucceeded: 7, wantMessages: 1, wantCondition: RetryAttemptsExhausted,
		},
		{
			name: "without bisecting the whole batch is discarded",
			cfg:  Config{BatchSize: 8, MaxRetries: 0},
			answer: func(b []events.KinesisEventRecord) (events.KinesisEventResponse, error) {
				return events.KinesisEventResponse{}, fmt.Errorf("boom")
			},
			wantDiscarded: 8, wantSucceeded: 0, wantMessages: 1, wantCondition: RetryAttemptsExhausted,
		},
		{
			name: "an unknown itemIdentifier fails the whole batch",
			cfg:  Config{BatchSize: 8, MaxRetries: 0, ReportBatchItemFailures: true},
			answer: func(b []events.KinesisEventRecord) (events.KinesisEventResponse, error) {
				return events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{{ItemIdentifier: "nope"}}}, nil
			},
			wantDiscarded: 8, wantMessages: 1, wantCondition: RetryAttemptsExhausted,
		},
		{
			name: "item failures are ignored without ReportBatchItemFailures",
			cfg:  Config{BatchSize: 8, MaxRetries: 0},
			answer: func(b []events.KinesisEventRecord) (events.KinesisEventResponse, error) {
				return events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{{ItemIdentifier: b[0].Kinesis.SequenceNumber}}}, nil
			},
			wantSucceeded: 8,
		},
		{
			name: "records older than the maximum age are discarded unprocessed",
			cfg:  Config{BatchSize: 8, MaxRetries: -1, MaxRecordAge: time.Nanosecond},
			answer: func(b []events.KinesisEventRecord) (events.KinesisEventResponse, error) {
				return events.KinesisEventResponse{}, fmt.Errorf("must not be called")
			},
			wantDiscarded: 8, wantMessages: 1, wantCondition: RecordMaximumAgeExceeded,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, q, s := run(t, tt.cfg, &function{answer: tt.answer}, keys)
			if s.Discarded != tt.wantDiscarded || s.Succeeded != tt.wantSucceeded {
				t.Errorf("got %d discarded and %d succeeded, want %d and %d", s.Discarded, s.Succeeded, tt.wantDiscarded, tt.wantSucceeded)
			}
			if s.Pending != 0 || s.Unread != 0 {
				t.Errorf("got %d pending and %d unread after the drain, want none", s.Pending, s.Unread)
			}
			msgs := q.Messages()
			if len(msgs) != tt.wantMessages {
				t.Fatalf("got %d messages in the queue, want %d", len(msgs), tt.wantMessages)
			}
			var total int
			for _, msg := range msgs {
				var rec InvocationRecord
				if err := json.Unmarshal(msg.Body, &rec); err != nil {
					t.Fatal(err)
				}
				if rec.RequestContext.Condition != tt.wantCondition || rec.Payload != "" || rec.KinesisBatchInfo.ShardID != localkinesis.ShardID {
					t.Errorf("got record %s, want condition %s, shard %s and no payload", msg.Body, tt.wantCondition, localkinesis.ShardID)
				}
				total += rec.KinesisBatchInfo.BatchSize
			}
			if int64(total) != tt.wantDiscarded {
				t.Errorf("got %d records named in the queue, want %d", total, tt.wantDiscarded)
			}
		})
	}
}

func TestMappingKeepsOrderPerPartitionKey(t *testing.T) {
	var keys []string
	for i := range 400 {
		keys = append(keys, fmt.Sprintf("k%d", i%7))
	}
	f := &function{answer: func([]events.KinesisEventRecord) (events.KinesisEventResponse, error) {
		time.Sleep(time.Millisecond)
		return events.KinesisEventResponse{}, nil
	}}
	_, _, s := run(t, Config{BatchSize: 10, ParallelizationFactor: 4, MaxRetries: -1}, f, keys)
	if s.Succeeded != int64(len(keys)) {
		t.Fatalf("got %d succeeded, want %d", s.Succeeded, len(keys))
	}
	last := map[string]int{}
	for _, b := range f.batches {
		if len(b) > 10 {
			t.Errorf("got a batch of %d records, want at most 10", len(b))
		}
		for _, d := range b {
			k, num, _ := strings.Cut(d, "-")
			i, err := strconv.Atoi(num)
			if err != nil {
				t.Fatalf("record %q: %v", d, err)
			}
			if prev, ok := last[k]; ok && prev >= i {
				t.Errorf("key %s: record %d after %d, want the stream's order", k, i, prev)
			}
			last[k] = i
		}
	}
}

func TestMappingBatchingWindow(t *testing.T) {
	f := &function{answer: func([]events.KinesisEventRecord) (events.KinesisEventResponse, error) {
		return events.KinesisEventResponse{}, nil
	}}
	st := localkinesis.NewStream("s")
	m := &Mapping{Config: Config{BatchSize: 100, BatchingWindow: 300 * time.Millisecond, MaxRetries: -1}, Function: f,
		Shards: []Shard{NewMemoryShard(st, TrimHorizon)}, Poll: 5 * time.Millisecond}
	if err := m.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	start := time.Now()
	put(t, st, "a", "b", "c")
	for m.Stats().Succeeded < 3 {
		if time.Since(start) > 5*time.Second {
			t.Fatal("the batch never came")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("got the batch after %s, want it held for the 300ms window", d)
	}
	if len(f.batches) != 1 || len(f.batches[0]) != 3 {
		t.Errorf("got batches %v, want one of 3 records", f.batches)
	}
}

func TestFromTemplate(t *testing.T) {
	tpl, err := cfn.Load(filepath.Join("..", "..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		params map[string]string
		want   Config
	}{
		{"defaults", nil, Config{
			FunctionID: "EnrichFunction", StreamID: "EventStream", BatchSize: 100, BatchingWindow: time.Second,
			StartingPosition: TrimHorizon, ParallelizationFactor: 1, BisectOnError: true, MaxRetries: 10,
			MaxRecordAge: 86400 * time.Second, ReportBatchItemFailures: true,
			OnFailure: Target{Type: "S3", LogicalID: "LakeBucket", Name: "LakeBucket", ARN: "arn:aws:s3:::LakeBucket"},
		}},
		{"overrides", map[string]string{"EnrichBatchSize": "500", "EnrichMaxRetries": "-1", "EnrichMaxRecordAgeSeconds": "-1", "EnrichParallelizationFactor": "4", "EnrichBisectOnError": "false"}, Config{
			FunctionID: "EnrichFunction", StreamID: "EventStream", BatchSize: 500, BatchingWindow: time.Second,
			StartingPosition: TrimHorizon, ParallelizationFactor: 4, MaxRetries: -1, ReportBatchItemFailures: true,
			OnFailure: Target{Type: "S3", LogicalID: "LakeBucket", Name: "LakeBucket", ARN: "arn:aws:s3:::LakeBucket"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromTemplate(tpl, "EnrichFunction", "firelane", tt.params)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	if _, err := FromTemplate(tpl, "EnrichFunction", "firelane", map[string]string{"EnrichMaxRecordAgeSeconds": "30"}); err == nil {
		t.Error("got no error for a maximum record age of 30 s, want one")
	}
}

func TestS3Destination(t *testing.T) {
	var keys []string
	var body []byte
	w := writerFunc(func(_ context.Context, k string, b []byte) error { keys, body = append(keys, k), b; return nil })
	d := S3Destination{Bucket: w, Mapping: "m-1"}
	rec := InvocationRecord{KinesisBatchInfo: BatchInfo{ShardID: "shardId-000000000000", BatchSize: 1}}
	err := d.Send(t.Context(), Discard{Record: rec, Records: []events.KinesisEventRecord{{Kinesis: events.KinesisRecord{Data: []byte("x"), SequenceNumber: "1"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || !strings.HasPrefix(keys[0], "aws/lambda/m-1/shardId-000000000000/"+time.Now().UTC().Format("2006/")) {
		t.Errorf("got keys %v, want one under aws/lambda/m-1/shardId-000000000000/YYYY/", keys)
	}
	var got InvocationRecord
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	var ev events.KinesisEvent
	if err := json.Unmarshal([]byte(got.Payload), &ev); err != nil || len(ev.Records) != 1 || string(ev.Records[0].Kinesis.Data) != "x" {
		t.Errorf("got payload %q, want the Kinesis event of the batch", got.Payload)
	}
	// Without a mapping of its own, the key names the mapping that discarded the batch.
	own := S3Destination{Bucket: w}
	if err := own.Send(t.Context(), Discard{Record: rec, Records: []events.KinesisEventRecord{{}}, Mapping: "m-2"}); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || !strings.HasPrefix(keys[1], "aws/lambda/m-2/shardId-000000000000/") {
		t.Errorf("got keys %v, want the second under aws/lambda/m-2/shardId-000000000000/", keys)
	}
}

type writerFunc func(ctx context.Context, key string, body []byte) error

func (f writerFunc) Put(ctx context.Context, key string, body []byte) error { return f(ctx, key, body) }

// FuzzLowestFailure asserts the partial batch response contract on any answer: no panic, and
// either the whole batch failed or the checkpoint is a record of the batch (or -1, success).
func FuzzLowestFailure(f *testing.F) {
	f.Add([]byte(`{"batchItemFailures":[{"itemIdentifier":"2"}]}`))
	f.Add([]byte(`{"batchItemFailures":[{"itemIdentifier":null}]}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{}`))
	batch := []events.KinesisEventRecord{{Kinesis: events.KinesisRecord{SequenceNumber: "1"}}, {Kinesis: events.KinesisRecord{SequenceNumber: "2"}}}
	f.Fuzz(func(t *testing.T, payload []byte) {
		idx, ok := lowestFailure(payload, batch)
		if ok && (idx < -1 || idx >= len(batch)) {
			t.Errorf("got checkpoint %d for a batch of %d", idx, len(batch))
		}
	})
}
