package enrich

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// FuzzDecodeKinesisEvent checks that, for any valid JSON, DecodeKinesisEvent gives exactly what
// json.Unmarshal gives for events.KinesisEvent and fails where it fails; other text must not make it
// panic.
func FuzzDecodeKinesisEvent(f *testing.F) {
	samples, _ := filepath.Glob(filepath.Join("..", "..", "events", "enrich", "*.json"))
	for _, s := range samples {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"Records":null}`))
	f.Add([]byte(`{"Records":[{"kinesis":{"data":"eyJ9","sequenceNumber":"1","approximateArrivalTimestamp":1795597261.512},"EventSource":"x"}]}`))
	f.Add([]byte(`{"Records":[{"kinesis":{"data":"ey\/J9","sequenceNumber":"1\u0032"}}],"records":[]}`))
	f.Add([]byte(`{"Records":[{"kinesis":{"data":"!!"}}]}`))
	f.Add([]byte(`{"Records":[{"kinesis":{"approximateArrivalTimestamp":"1"}}]}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		got, err := DecodeKinesisEvent(payload)
		if !json.Valid(payload) {
			return
		}
		var want events.KinesisEvent
		werr := json.Unmarshal(payload, &want)
		if (err == nil) != (werr == nil) {
			t.Fatalf("got error %v, encoding/json says %v", err, werr)
		}
		if err != nil {
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got  %+v\nwant %+v", got, want)
		}
	})
}

func TestInvoke(t *testing.T) {
	payload, err := os.ReadFile(filepath.Join(repoRoot(t), "events", "enrich", "kinesis-batch.json"))
	if err != nil {
		t.Fatal(err)
	}
	out, failed := &recorder{}, &recorder{}
	h := newHandler(t, out, failed)
	b, err := h.Invoke(t.Context(), payload)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"batchItemFailures":[]}` {
		t.Errorf("got %s", b)
	}
	if len(out.acked) != 3 || len(failed.acked) != 1 {
		t.Errorf("got %d events and %d failed, want 3 and 1", len(out.acked), len(failed.acked))
	}
	if _, err := h.Invoke(t.Context(), []byte(`{"Records":"no"}`)); err == nil {
		t.Error("got no error for a payload that is not a Kinesis event")
	}
}
