package eventsource

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"
)

// Conditions under which the mapping discards a batch, as the invocation record names them.
const (
	RetryAttemptsExhausted   = "RetryAttemptsExhausted"
	RecordMaximumAgeExceeded = "RecordMaximumAgeExceeded"
)

// InvocationRecord is the JSON document Lambda sends to an on-failure destination for a discarded
// Kinesis batch (kinesis-on-failure-destination). Payload is set for S3 destinations only.
type InvocationRecord struct {
	RequestContext struct {
		RequestID              string `json:"requestId"`
		FunctionARN            string `json:"functionArn"`
		Condition              string `json:"condition"`
		ApproximateInvokeCount int    `json:"approximateInvokeCount"`
	} `json:"requestContext"`
	ResponseContext struct {
		StatusCode      int    `json:"statusCode"`
		ExecutedVersion string `json:"executedVersion"`
		FunctionError   string `json:"functionError"`
	} `json:"responseContext"`
	Version          string    `json:"version"`
	Timestamp        string    `json:"timestamp"`
	KinesisBatchInfo BatchInfo `json:"KinesisBatchInfo"`
	Payload          string    `json:"payload,omitempty"`
}

// BatchInfo says which records a discarded batch held.
type BatchInfo struct {
	ShardID                         string `json:"shardId"`
	StartSequenceNumber             string `json:"startSequenceNumber"`
	EndSequenceNumber               string `json:"endSequenceNumber"`
	ApproximateArrivalOfFirstRecord string `json:"approximateArrivalOfFirstRecord"`
	ApproximateArrivalOfLastRecord  string `json:"approximateArrivalOfLastRecord"`
	BatchSize                       int    `json:"batchSize"`
	StreamARN                       string `json:"streamArn"`
}

// Discard is one batch the mapping gave up on: the record the destination receives and the
// records themselves, which stay in the stream (a destination that is metadata only, like SQS,
// names them by sequence number).
type Discard struct {
	Record  InvocationRecord
	Records []events.KinesisEventRecord
	Mapping string // the UUID of the mapping that discarded the batch
}

// Destination is an on-failure destination. An error from Send is retried by the mapping: a
// batch is never discarded without its record reaching the destination.
type Destination interface {
	Send(ctx context.Context, d Discard) error
}

// Queue stands in for the Amazon SQS queue of an on-failure destination: it keeps each message's
// body, the invocation record without the payload, as Lambda sends it to SQS.
type Queue struct {
	Name string

	mu   sync.Mutex
	msgs []Message
}

// Message is one message of a [Queue].
type Message struct {
	MessageID string          `json:"message_id"`
	SentAt    time.Time       `json:"sent_at"`
	Body      json.RawMessage `json:"body"`
}

// Send implements [Destination].
func (q *Queue) Send(_ context.Context, d Discard) error {
	rec := d.Record
	rec.Payload = ""
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode invocation record for %s: %w", q.Name, err)
	}
	// SQS takes messages of up to 256 KiB; the metadata record is far smaller.
	q.mu.Lock()
	defer q.mu.Unlock()
	q.msgs = append(q.msgs, Message{MessageID: uuid.NewString(), SentAt: time.Now().UTC(), Body: b})
	return nil
}

// Messages returns the messages sent so far, oldest first.
func (q *Queue) Messages() []Message {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]Message(nil), q.msgs...)
}

// Reset empties the queue.
func (q *Queue) Reset() {
	q.mu.Lock()
	q.msgs = nil
	q.mu.Unlock()
}

// ObjectWriter is how [S3Destination] writes an object (a firehose.Sink is one).
type ObjectWriter interface {
	Put(ctx context.Context, key string, body []byte) error
}

// S3Destination stands in for an Amazon S3 bucket as an on-failure destination: each discarded
// batch is one object holding the invocation record with the invocation's payload (the Kinesis
// event, as a JSON string), under aws/lambda/<mapping UUID>/<shard ID>/YYYY/MM/DD/ as the guide
// lays the keys out.
type S3Destination struct {
	Bucket  ObjectWriter
	Mapping string // the event source mapping's UUID; empty for the discarding mapping's own
}

// Send implements [Destination].
func (s S3Destination) Send(ctx context.Context, d Discard) error {
	rec := d.Record
	payload, err := json.Marshal(events.KinesisEvent{Records: d.Records})
	if err != nil {
		return fmt.Errorf("encode discarded batch: %w", err)
	}
	rec.Payload = string(payload)
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode invocation record: %w", err)
	}
	mapping := s.Mapping
	if mapping == "" {
		mapping = d.Mapping
	}
	now := time.Now().UTC()
	key := fmt.Sprintf("aws/lambda/%s/%s/%s/%s-%s", mapping, rec.KinesisBatchInfo.ShardID, now.Format("2006/01/02"), now.Format("2006-01-02T15.04.05"), uuid.NewString())
	if err := s.Bucket.Put(ctx, key, b); err != nil {
		return fmt.Errorf("write on-failure record %s: %w", key, err)
	}
	return nil
}
