package recovery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/kpl"
)

// DiscardedPrefix is where Lambda writes the invocation records of the batches an event source
// mapping discards to an S3 on-failure destination: aws/lambda/<mapping UUID>/<shard ID>/YYYY/MM/DD/
// (https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html). Lambda
// chooses the key; the destination takes a bucket, no prefix.
const DiscardedPrefix = "aws/lambda/"

// discardedStage is the stage whose mapping discards batches: enrich reads the stream.
const discardedStage = "enrich"

// invocationRecord is the part of the invocation record an S3 on-failure destination receives for
// a discarded Kinesis batch that recovery reads: the metadata the Lambda developer guide documents
// (requestContext, responseContext, timestamp, KinesisBatchInfo) and the payload, the invocation's
// whole Kinesis event, which S3 destinations receive besides the metadata.
type invocationRecord struct {
	RequestContext *struct {
		Condition              string `json:"condition"`
		ApproximateInvokeCount int    `json:"approximateInvokeCount"`
	} `json:"requestContext"`
	ResponseContext struct {
		FunctionError string `json:"functionError"`
	} `json:"responseContext"`
	Timestamp        string `json:"timestamp"`
	KinesisBatchInfo *struct {
		ShardID                        string `json:"shardId"`
		StartSequenceNumber            string `json:"startSequenceNumber"`
		EndSequenceNumber              string `json:"endSequenceNumber"`
		ApproximateArrivalOfLastRecord string `json:"approximateArrivalOfLastRecord"`
		BatchSize                      int    `json:"batchSize"`
	} `json:"KinesisBatchInfo"`
	// Payload is the Kinesis event: a JSON string holding its text (as the local event source
	// mapping writes it), or the event object itself.
	Payload json.RawMessage `json:"payload"`
}

// asInvocationRecord reads b as a Kinesis invocation record: a JSON object with requestContext
// and KinesisBatchInfo objects.
func asInvocationRecord(b []byte) (*invocationRecord, bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return nil, false
	}
	var inv invocationRecord
	if json.Unmarshal(b, &inv) != nil || inv.RequestContext == nil || inv.KinesisBatchInfo == nil {
		return nil, false
	}
	return &inv, true
}

// condition is the reason Lambda discarded the batch, as its invocation record names it.
func (inv *invocationRecord) condition() string {
	if c := inv.RequestContext.Condition; c != "" {
		return event.ClipJSON(c, event.MaxKeyword)
	}
	return "discarded"
}

// reason is the made-up envelope's reason: where the batch came from and why it was discarded,
// never a value of its records.
func (inv *invocationRecord) reason() event.Reason {
	b := inv.KinesisBatchInfo
	msg := fmt.Sprintf("Lambda discarded the batch of %d records (shard %s, sequence numbers %s to %s) after %d invocations",
		b.BatchSize, b.ShardID, b.StartSequenceNumber, b.EndSequenceNumber, inv.RequestContext.ApproximateInvokeCount)
	if fe := inv.ResponseContext.FunctionError; fe != "" {
		msg += "; function error " + fe
	}
	return event.Reason{Keyword: inv.condition(), Message: event.ClipMark(msg, event.MaxMessage)}
}

// discardedAt is when the batch was discarded: the record's timestamp, else the arrival of its
// last record.
func (inv *invocationRecord) discardedAt() (time.Time, error) {
	for _, s := range []string{inv.Timestamp, inv.KinesisBatchInfo.ApproximateArrivalOfLastRecord} {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("invocation record has neither a timestamp nor an arrival time")
}

// kinesisEvent decodes the payload.
func (inv *invocationRecord) kinesisEvent() (events.KinesisEvent, error) {
	var ev events.KinesisEvent
	p := bytes.TrimSpace(inv.Payload)
	if len(p) == 0 || string(p) == "null" {
		return ev, errors.New("invocation record has no payload (an SQS or SNS destination's record names the batch, it does not hold it)")
	}
	if p[0] == '"' {
		var s string
		if err := json.Unmarshal(p, &s); err != nil {
			return ev, fmt.Errorf("invocation record's payload: %w", err)
		}
		p = []byte(s)
	}
	if err := json.Unmarshal(p, &ev); err != nil {
		return ev, fmt.Errorf("invocation record's payload is not a Kinesis event: %w", err)
	}
	if len(ev.Records) == 0 {
		return ev, errors.New("invocation record's payload holds no records")
	}
	return ev, nil
}

// unwrap returns the events of the batch's records: each record's data (each user record of a KPL
// aggregate) unwrapped as an ingest/1 or enriched/1 record or a bare event. A payload that cannot
// be read gives one unreadable item, never none.
func (inv *invocationRecord) unwrap() []unwrapped {
	ev, err := inv.kinesisEvent()
	if err != nil {
		return []unwrapped{{unreadable: err.Error()}}
	}
	var out []unwrapped
	var dec kpl.Decoder
	for _, r := range ev.Records {
		arrived := r.Kinesis.ApproximateArrivalTimestamp.UTC()
		if len(r.Kinesis.Data) == 0 {
			out = append(out, unwrapped{arrived: arrived, unreadable: "Kinesis record at sequence number " + event.ClipJSON(r.Kinesis.SequenceNumber, 128) + " has no data"})
			continue
		}
		data := [][]byte{r.Kinesis.Data}
		if kpl.IsAggregated(r.Kinesis.Data) {
			recs, err := dec.Decode(r.Kinesis.Data)
			if err != nil {
				out = append(out, unwrapped{event: r.Kinesis.Data, arrived: arrived,
					unreadable: "KPL aggregate at sequence number " + event.ClipJSON(r.Kinesis.SequenceNumber, 128) + ": " + err.Error()})
				continue
			}
			data = data[:0]
			for _, u := range recs {
				data = append(data, bytes.Clone(u.Data)) // the decoder's records alias its buffers
			}
		}
		for _, d := range data {
			u, ok := unwrapRecord(d)
			if !ok {
				u = unwrapped{event: d}
			}
			u.arrived = arrived
			out = append(out, u)
		}
	}
	return out
}

// decodeDiscarded reads one object of an S3 on-failure destination: an invocation record (one
// JSON document) whose records become items of kind [KindDiscarded], stage enrich. An object that
// is not an invocation record is one error, reported as an unreadable envelope.
func decodeDiscarded(key string, body []byte) ([]*Item, []error) {
	inv, ok := asInvocationRecord(body)
	if !ok {
		return nil, []error{fmt.Errorf("%s: not a Lambda invocation record of a Kinesis batch", key)}
	}
	at, err := inv.discardedAt()
	if err != nil {
		return nil, []error{fmt.Errorf("%s: %w", key, err)}
	}
	f := event.Failed{Kind: KindDiscarded, Stage: discardedStage, FailedAt: event.FormatTime(at), Reasons: []event.Reason{inv.reason()}}
	var items []*Item
	for i, u := range inv.unwrap() {
		env := f
		if u.event != nil {
			a := attrsOf(u.event)
			env.EventID, env.EventType = a.ID, a.Type
		}
		items = append(items, &Item{Object: key, Line: i + 1, Envelope: env, FailedAt: at, Event: u.event, Context: u.context,
			Arrived: u.arrived, Unreadable: u.unreadable})
	}
	return items, nil
}

// attrsOf reads an event's id and type, "" where they are not strings.
func attrsOf(ev []byte) (a struct{ ID, Type string }) {
	var raw struct {
		ID, Type json.RawMessage
	}
	if json.Unmarshal(ev, &raw) != nil {
		return a
	}
	_ = json.Unmarshal(raw.ID, &a.ID)
	_ = json.Unmarshal(raw.Type, &a.Type)
	if event.JSONLen(a.ID) > event.MaxFailedAttr {
		a.ID = ""
	}
	if event.JSONLen(a.Type) > event.MaxFailedAttr {
		a.Type = ""
	}
	return a
}

// discardedKey tells whether key is an object of an on-failure destination.
func discardedKey(key string) bool { return strings.HasPrefix(key, DiscardedPrefix) }
