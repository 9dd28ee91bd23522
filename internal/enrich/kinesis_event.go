package enrich

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/firelane/firelane/internal/jsonbytes"
	"github.com/firelane/firelane/internal/obs"
	"github.com/firelane/firelane/internal/obs/trace"
)

// Invoke implements the aws-lambda-go runtime's Handler interface, so that lambda.Start runs it
// in place of its reflective adapter around [Handler.Handle]: it decodes the payload with
// [DecodeKinesisEvent], handles the batch and encodes the KinesisEventResponse. A payload that is
// not a Kinesis event is the one case that fails the invocation as a whole.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	ev, err := DecodeKinesisEvent(payload)
	if err != nil {
		return nil, fmt.Errorf("decode Kinesis event: %w", err)
	}
	resp, err := h.Handle(ctx, ev)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(resp)
	if err != nil {
		return nil, fmt.Errorf("encode Kinesis event response: %w", err)
	}
	return b, nil
}

// Handle processes one Kinesis batch; it implements the contract in the package documentation.
// It never returns an error: whatever a record meets, a response that names the first record not
// written makes Lambda deliver it and every later one again, which is what a batch error would do
// for the whole batch.
func (h *Handler) Handle(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
	inv := obs.Start(ctx, "enrich", h.logger())
	defer inv.End()
	ctx, span := trace.Start(ctx, "enrich")
	defer span.End()
	res := h.Process(ctx, Records(ev))
	summarize(inv, span, len(ev.Records), &res)
	// An empty list rather than null: both mean success to Lambda, and the empty one says so plainly.
	resp := events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{}}
	if res.Reported != "" {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.KinesisBatchItemFailure{ItemIdentifier: res.Reported})
	}
	return resp, nil
}

// Records returns the core's view of a Kinesis event's records; the data is shared, not copied.
func Records(ev events.KinesisEvent) []Record {
	recs := make([]Record, len(ev.Records))
	for i := range ev.Records {
		k := &ev.Records[i].Kinesis
		recs[i] = Record{Data: k.Data, SequenceNumber: k.SequenceNumber, PartitionKey: k.PartitionKey, ArrivalTime: k.ApproximateArrivalTimestamp.Time}
	}
	return recs
}

// DecodeKinesisEvent decodes a Lambda Kinesis event payload into the same value json.Unmarshal
// gives for [events.KinesisEvent]. Decoding the event is a large share of an invocation's cost
// (each record's data is base64 in JSON), so the payloads Lambda sends are read by a direct pass over
// the text; anything that pass does not expect (escapes in names, members of an unexpected type)
// is left to encoding/json, whose answer is then the answer.
//
// For valid JSON the result is exactly encoding/json's. Text that is not valid JSON may be read
// leniently rather than rejected: checking it would cost as much again, and the payload is written by
// the Lambda service, not by clients. What clients wrote is each record's data, and that is checked
// on its own before it is used.
func DecodeKinesisEvent(payload []byte) (events.KinesisEvent, error) {
	if ev, ok := decodeKinesisFast(payload); ok {
		return ev, nil
	}
	var ev events.KinesisEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return events.KinesisEvent{}, err
	}
	return ev, nil
}

func decodeKinesisFast(payload []byte) (events.KinesisEvent, bool) {
	var ev events.KinesisEvent
	ok := true
	var records []byte
	strs := interner{}
	err := members(payload, func(key []byte, start, end int) bool {
		if string(key) == `"Records"` {
			records = payload[start:end]
		} else {
			ok = plainName(key) && !foldsToKnown(key)
		}
		return ok
	})
	if err != nil || !ok {
		return ev, false
	}
	if records == nil || string(records) == "null" {
		return ev, true
	}
	if records[0] != '[' {
		return ev, false
	}
	// "[]" decodes to an empty slice, not nil. Every record has one sequence number: counting them
	// sizes the slice once.
	ev.Records = make([]events.KinesisEventRecord, 0, bytes.Count(records, []byte(`"sequenceNumber"`)))
	// The records' data share one buffer: one allocation instead of one per record. Base64 text
	// decodes to at most three quarters of its length, and it is most of the payload.
	var buf []byte
	bufSize := len(payload) / 4 * 3
	i := jsonbytes.SkipSpace(records, 1)
	for i < len(records) && records[i] != ']' {
		end := jsonbytes.SkipLoose(records, i)
		if end < 0 || records[i] != '{' {
			return ev, false
		}
		var r events.KinesisEventRecord
		if !decodeKinesisRecord(records[i:end], &r, &buf, &bufSize, strs) {
			return ev, false
		}
		ev.Records = append(ev.Records, r)
		i = jsonbytes.SkipSpace(records, end)
		if i < len(records) && records[i] == ',' {
			i = jsonbytes.SkipSpace(records, i+1)
		} else if i >= len(records) || records[i] != ']' {
			return ev, false
		}
	}
	return ev, i < len(records) && jsonbytes.SkipSpace(records, i+1) == len(records)
}

// plainName reports whether a raw member name has no escapes, so that an exact comparison is the
// same as encoding/json's.
func plainName(key []byte) bool { return bytes.IndexByte(key, '\\') < 0 }

func decodeKinesisRecord(v []byte, r *events.KinesisEventRecord, buf *[]byte, bufSize *int, strs interner) bool {
	ok := true
	str := func(dst *string, raw []byte) {
		s, err := strs.jsonString(raw) // every record of a batch comes from the same stream
		ok = ok && err == nil
		*dst = s
	}
	err := members(v, func(key []byte, start, end int) bool {
		raw := v[start:end]
		switch string(key) {
		case `"eventID"`:
			s, err := jsonString(raw)
			ok = ok && err == nil
			r.EventID = s
		case `"awsRegion"`:
			str(&r.AwsRegion, raw)
		case `"eventName"`:
			str(&r.EventName, raw)
		case `"eventSource"`:
			str(&r.EventSource, raw)
		case `"eventSourceARN"`:
			str(&r.EventSourceArn, raw)
		case `"eventVersion"`:
			str(&r.EventVersion, raw)
		case `"invokeIdentityArn"`:
			str(&r.InvokeIdentityArn, raw)
		case `"kinesis"`:
			ok = raw[0] == '{' && decodeKinesisData(raw, &r.Kinesis, buf, bufSize, strs)
		default:
			// Another member is fine unless encoding/json could read it as one of the above.
			ok = plainName(key) && !foldsToKnown(key)
		}
		return ok
	})
	return err == nil && ok
}

func decodeKinesisData(v []byte, k *events.KinesisRecord, buf *[]byte, bufSize *int, strs interner) bool {
	ok := true
	str := func(dst *string, raw []byte) {
		s, err := jsonString(raw)
		ok = ok && err == nil
		*dst = s
	}
	err := members(v, func(key []byte, start, end int) bool {
		raw := v[start:end]
		switch string(key) {
		case `"approximateArrivalTimestamp"`:
			epoch, err := strconv.ParseFloat(string(raw), 64)
			if err != nil {
				ok = false
				break
			}
			// The same arithmetic as events.SecondsEpochTime's UnmarshalJSON.
			sec := int64(epoch)
			k.ApproximateArrivalTimestamp = events.SecondsEpochTime{Time: time.Unix(sec, int64((epoch-float64(sec))*float64(time.Second)))}
		case `"data"`:
			if raw[0] != '"' || !plainName(raw) {
				ok = false
				break
			}
			s := raw[1 : len(raw)-1]
			n := base64.StdEncoding.DecodedLen(len(s))
			if len(s) == 0 {
				k.Data = []byte{} // as encoding/json decodes ""
				break
			}
			if cap(*buf)-len(*buf) < n {
				*buf = make([]byte, 0, max(n, *bufSize))
				*bufSize = 0 // the estimate covered every record; more is rare and sized per record
			}
			dst := (*buf)[len(*buf) : len(*buf)+n]
			m, err := base64.StdEncoding.Decode(dst, s)
			if err != nil {
				ok = false
				break
			}
			k.Data = dst[:m:m]
			*buf = (*buf)[:len(*buf)+m]
		case `"encryptionType"`:
			s, err := strs.jsonString(raw)
			ok = ok && err == nil
			k.EncryptionType = s
		case `"kinesisSchemaVersion"`:
			s, err := strs.jsonString(raw)
			ok = ok && err == nil
			k.KinesisSchemaVersion = s
		case `"partitionKey"`:
			str(&k.PartitionKey, raw)
		case `"sequenceNumber"`:
			str(&k.SequenceNumber, raw)
		default:
			ok = plainName(key) && !foldsToKnown(key)
		}
		return ok
	})
	return err == nil && ok
}

// knownNames are the member names of a Kinesis event record, lower case.
var knownNames = map[string]bool{}

func init() {
	for _, n := range []string{"awsregion", "eventid", "eventname", "eventsource", "eventsourcearn", "eventversion", "invokeidentityarn",
		"kinesis", "approximatearrivaltimestamp", "data", "encryptiontype", "partitionkey", "sequencenumber", "kinesisschemaversion", "records"} {
		knownNames[n] = true
	}
}

// foldsToKnown reports whether a member name that is not spelled like a known one still matches
// one for encoding/json, which compares names without regard to case.
func foldsToKnown(key []byte) bool {
	if len(key) > 40 {
		return false
	}
	var b [40]byte
	n := 0
	for _, c := range key[1 : len(key)-1] {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		} else if c >= 0x80 {
			return true // Unicode case folding (the Kelvin sign is a k): leave it to encoding/json
		}
		b[n] = c
		n++
	}
	return knownNames[string(b[:n])]
}
