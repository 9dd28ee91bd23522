package firehose

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// memSink keeps objects in memory.
type memSink struct {
	mu   sync.Mutex
	objs map[string][]byte
}

func (m *memSink) Put(_ context.Context, key string, body []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.objs == nil {
		m.objs = map[string][]byte{}
	}
	m.objs[key] = append([]byte(nil), body...)
	return nil
}

// byPrefix returns the concatenated objects whose key starts with prefix.
func (m *memSink) byPrefix(prefix string) string {
	var b bytes.Buffer
	for k, v := range m.objs {
		if strings.HasPrefix(k, prefix) {
			b.Write(v)
		}
	}
	return b.String()
}

func put(t *testing.T, d *Delivery, recs ...string) {
	t.Helper()
	in := &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(d.Name)}
	for _, r := range recs {
		in.Records = append(in.Records, types.Record{Data: []byte(r)})
	}
	out, err := d.PutRecordBatch(t.Context(), in)
	if err != nil || aws.ToInt32(out.FailedPutCount) != 0 {
		t.Fatalf("put: %v", err)
	}
}

func TestDeliveryResults(t *testing.T) {
	at := time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)
	sink := &memSink{}
	d := &Delivery{
		Name: "s", Prefix: "events/t=!{partitionKeyFromLambda:t}/", ErrorPrefix: "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/",
		Sink: sink, Now: func() time.Time { return at },
		Transform: func(_ context.Context, ev events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error) {
			var resp events.KinesisFirehoseResponse
			for _, r := range ev.Records {
				out := events.KinesisFirehoseResponseRecord{RecordID: r.RecordID, Data: r.Data}
				switch s := string(r.Data); {
				case strings.HasPrefix(s, "ok"):
					out.Result = "Ok"
					out.Data = append([]byte(s), '\n')
					out.Metadata.PartitionKeys = map[string]string{"t": s}
				case s == "nokey":
					out.Result = "Ok"
				case s == "drop":
					out.Result = "Dropped"
				default:
					out.Result = "ProcessingFailed"
				}
				resp.Records = append(resp.Records, out)
			}
			return resp, nil
		},
	}
	put(t, d, "ok1", "drop", "bad", "ok2", "nokey", "ok1")
	rep, err := d.Flush(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records != 6 || rep.Delivered != 3 || rep.Dropped != 1 || rep.ProcessingFailed != 1 || rep.OtherFailed != 1 {
		t.Fatalf("got %+v", rep)
	}
	if got := sink.byPrefix("events/t=ok1/"); got != "ok1\nok1\n" {
		t.Errorf("ok1 object holds %q", got)
	}
	if got := sink.byPrefix("events/t=ok2/"); got != "ok2\n" {
		t.Errorf("ok2 object holds %q", got)
	}
	var failed struct {
		ErrorCode string `json:"errorCode"`
		RawData   []byte `json:"rawData"`
	}
	if err := json.Unmarshal([]byte(sink.byPrefix("errors/processing-failed/2026/11/25/09/")), &failed); err != nil || string(failed.RawData) != "bad" || failed.ErrorCode != "Lambda.ProcessingFailed" {
		t.Errorf("processing-failed record: %+v %v", failed, err)
	}
	if !strings.Contains(sink.byPrefix("errors/partitioning-failed/"), "DynamicPartitioning") {
		t.Errorf("record without its partition key was not written as partitioning-failed")
	}
	for k := range sink.objs {
		if !strings.HasPrefix(k[strings.LastIndexByte(k, '/')+1:], "s-1-2026-11-25-09-30-00-") {
			t.Errorf("object name %s is not Firehose's", k)
		}
	}
}

func TestDeliveryTransformErrors(t *testing.T) {
	tests := []struct {
		name string
		fn   TransformFunc
	}{
		{"function error", func(context.Context, events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error) {
			return events.KinesisFirehoseResponse{}, errors.New("boom")
		}},
		{"missing record", func(context.Context, events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error) {
			return events.KinesisFirehoseResponse{}, nil
		}},
		{"wrong id", func(_ context.Context, ev events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error) {
			return events.KinesisFirehoseResponse{Records: []events.KinesisFirehoseResponseRecord{{RecordID: "x", Result: "Ok"}}}, nil
		}},
		{"bad result", func(_ context.Context, ev events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error) {
			return events.KinesisFirehoseResponse{Records: []events.KinesisFirehoseResponseRecord{{RecordID: ev.Records[0].RecordID, Result: "Fine"}}}, nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &memSink{}
			d := &Delivery{Name: "s", Prefix: "p/", ErrorPrefix: "e/!{firehose:error-output-type}/", Sink: sink, Transform: tt.fn}
			put(t, d, "x")
			rep, err := d.Flush(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if rep.ProcessingFailed != 1 || rep.Delivered != 0 {
				t.Fatalf("got %+v, want the record processing-failed", rep)
			}
			if !strings.Contains(sink.byPrefix("e/processing-failed/"), `"rawData":"eA=="`) {
				t.Errorf("error record does not hold the raw data: %v", sink.objs)
			}
		})
	}
}

func TestDeliveryQueryKeys(t *testing.T) {
	sink := &memSink{}
	d := &Delivery{Name: "f", Prefix: "!{partitionKeyFromQuery:kind}/stage=!{partitionKeyFromQuery:stage}/", ErrorPrefix: "e/!{firehose:error-output-type}/", QueryKeys: []string{"kind", "stage"}, Sink: sink}
	put(t, d, `{"kind":"rejected","stage":"ingest"}`+"\n", `{"kind":"../../etc","stage":"x/y"}`+"\n", `not json`)
	rep, err := d.Flush(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Delivered != 2 || rep.OtherFailed != 1 {
		t.Fatalf("got %+v", rep)
	}
	for k := range sink.objs {
		if strings.Contains(k, "..") || strings.Count(k, "/") != 2 {
			t.Errorf("key %s escapes its prefix", k)
		}
	}
}

func TestProcessorBuffer(t *testing.T) {
	var sizes []int
	d := &Delivery{Name: "s", Prefix: "p/", ErrorPrefix: "e/", Sink: &memSink{}, ProcessorBufferBytes: 10,
		Transform: func(_ context.Context, ev events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error) {
			sizes = append(sizes, len(ev.Records))
			var resp events.KinesisFirehoseResponse
			for _, r := range ev.Records {
				resp.Records = append(resp.Records, events.KinesisFirehoseResponseRecord{RecordID: r.RecordID, Result: "Dropped"})
			}
			return resp, nil
		}}
	put(t, d, "12345", "12345", "12345", "12345678901")
	if _, err := d.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(sizes) != 3 || sizes[0] != 2 || sizes[1] != 1 || sizes[2] != 1 {
		t.Errorf("invocation sizes %v, want [2 1 1]", sizes)
	}
}
