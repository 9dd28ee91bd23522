package enrich

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/firehose"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/event"
)

// strictFirehose is a delivery stream that, like Firehose, refuses a call holding a record over
// 1,000 KiB; it records what it took in rec.
type strictFirehose struct{ rec *recorder }

func (s strictFirehose) PutRecordBatch(ctx context.Context, in *firehose.PutRecordBatchInput, opts ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	for i, r := range in.Records {
		if len(r.Data) > awsbatch.FirehoseLimits.MaxRecordBytes {
			return nil, fmt.Errorf("InvalidArgumentException: record %d is %d bytes, over 1,000 KiB", i, len(r.Data))
		}
	}
	return s.rec.PutRecordBatch(ctx, in, opts...)
}

// kinesisMax is the most data a Kinesis record holds with the tests' one-byte partition key.
const kinesisMax = 1<<20 - 1

// escapedText returns JSON string content of about n bytes whose decoded value is made of what
// JSON and Go quoting escape most: control characters, quotes, backslashes, U+2028, escaped lone
// surrogates, raw invalid UTF-8, and the <, > and & that encoding/json escapes by default.
func escapedText(n int) string {
	const unit = `\u0001\"\\` + "\u2028" + `\ud800` + "\xff<>&" + `\u001f`
	return strings.Repeat(unit, n/len(unit)+1)[:n/len(unit)*len(unit)]
}

// rawHostile returns n bytes of raw control characters, quotes, backslashes, U+2028 and invalid
// UTF-8: not JSON at all.
func rawHostile(n int) string {
	const unit = "\x01\"\\\u2028\xff<>&\x1f"
	return strings.Repeat(unit, n/len(unit)+1)[:n]
}

// fill pads a record template (with one %s) to about n bytes with escapedText.
func fill(template string, n int) string {
	return fmt.Sprintf(template, escapedText(n-len(template)))
}

// TestPoisonNeverBlocksTheShard sends poison records of every kind, up to Kinesis' 1 MiB and made
// of the characters JSON escapes most, through the handler's entry point to a failed-events
// stream that enforces Firehose's 1,000 KiB record. Each must be set aside, never reported: a
// reported poison record would come back on every delivery and stop its shard.
func TestPoisonNeverBlocksTheShard(t *testing.T) {
	tests := []struct{ name, data, keyword string }{
		{"not JSON", rawHostile(kinesisMax), "decode"},
		{"a JSON string", fill(`"%s"`, kinesisMax), "decode"},
		{"broken JSON", fill(`{"specversion":"1.0","id":"%s`, kinesisMax), "decode"},
		{"no specversion", fill(`{"id":"%s"}`, kinesisMax), "decode"},
		{"unknown format", fill(`{"firelane":"%s","context":{},"event":{}}`, kinesisMax), "decode"},
		{"specversion quoted back", fill(`{"specversion":"%s","id":"i","source":"/s","type":"t.t","data":{}}`, kinesisMax), "envelope"},
		{"time quoted back", fill(`{"specversion":"1.0","id":"i","source":"/s","type":"t.t","time":"%s","data":{}}`, kinesisMax), "envelope"},
		{"huge id", fill(`{"specversion":"1.0","id":"%s","source":"/s","type":"t.t","time":"x"}`, kinesisMax), "envelope"},
		{"ingest record with a bad event", fill(`{"firelane":"ingest/1","context":{"user_agent":"x"},"event":{"id":"%s"}}`, kinesisMax), "envelope"},
		{"too large once enriched", fill(`{"specversion":"1.0","id":"big","source":"/s","type":"com.acme.web.page_view","data":{"pad":"%s"}}`, kinesisMax), "too-large"},
		{"at the old envelope limit", fill(`{"specversion":"%s","id":"i","source":"/s","type":"t.t"}`, 755<<10), "envelope"},
		{"angle brackets quoted back", `{"specversion":"` + strings.Repeat("<", 755<<10) + `","id":"i","source":"/s","type":"t.t"}`, "envelope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.data) > kinesisMax {
				t.Fatalf("test record is %d bytes, Kinesis takes %d", len(tt.data), kinesisMax)
			}
			out, failed := &recorder{}, &recorder{}
			h := newHandler(t, out, failed)
			h.Failed = newWriter(t, strictFirehose{failed}, "failed")
			payload, err := json.Marshal(batchOf(tt.data, bareEvent("after")))
			if err != nil {
				t.Fatal(err)
			}
			b, err := h.Invoke(t.Context(), payload)
			if err != nil {
				t.Fatal(err)
			}
			var resp events.KinesisEventResponse
			if err := json.Unmarshal(b, &resp); err != nil {
				t.Fatal(err)
			}
			if len(resp.BatchItemFailures) != 0 {
				t.Fatalf("got batch item failures %+v, want none: the poison record blocks its shard", resp.BatchItemFailures)
			}
			if len(failed.acked) != 1 || len(out.acked) != 1 {
				t.Fatalf("got %d set aside and %d written, want 1 and 1", len(failed.acked), len(out.acked))
			}
			env := failed.acked[0]
			var f event.Failed
			if err := json.Unmarshal(env, &f); err != nil {
				t.Fatalf("envelope does not decode: %v", err)
			}
			if f.Reasons[0].Keyword != tt.keyword {
				t.Errorf("got keyword %q, want %q", f.Reasons[0].Keyword, tt.keyword)
			}
			if !strings.HasPrefix(tt.data, string(f.Original)) {
				t.Fatal("original is not a prefix of the record")
			}
			if len(f.Original) < len(tt.data) {
				last := f.Reasons[len(f.Reasons)-1]
				if last.Keyword != event.KeywordTruncated || !strings.Contains(last.Message, "sequence number 1") {
					t.Errorf("original cut without a reason naming the sequence number: %+v", f.Reasons)
				}
			}
			for _, r := range f.Reasons {
				if n := event.JSONLen(r.Message); n > event.MaxMessage {
					t.Errorf("a reason's message takes %d bytes encoded, want at most %d", n, event.MaxMessage)
				}
			}
		})
	}
}

// failingStep is an enrichment that refuses every event, quoting its subject back, as an
// enrichment's error may.
type failingStep struct{}

func (failingStep) Name() string { return "failing" }
func (failingStep) Enrich(it *Item) error {
	return fmt.Errorf("cannot handle subject %q", it.Event.Subject)
}

// TestNoClientValueInLogs sends records carrying a canary in every member a client or producer
// controls, some of them up to 1 MiB, through every way enrich fails a record: poison of each
// kind (decode, envelope, too large, an enrichment's refusal), the events stream refusing, the
// failed-events stream refusing. No log line may carry the canary or exceed 16 KiB.
func TestNoClientValueInLogs(t *testing.T) {
	const canary = "CANARY-3c7d1a"
	long := canary + escapedText(300<<10)
	ingestRec := func(ev string) string {
		return `{"firelane":"ingest/1","context":{"user_agent":"` + canary + long + `","source_ip":"` + canary + `","principal":"` + canary + `"},"event":` + ev + `}`
	}
	valid := func(id string) string {
		return `{"specversion":"1.0","id":"` + canary + id + `","source":"/` + canary + `","type":"com.acme.web.page_view","subject":"` + canary + `",` +
			`"data":{"url":"https://x.test/` + canary + `","session_id":"8f14e45f-ceea-467f-a0f8-7c2c3c1c2d3e","title":"` + canary + `"}}`
	}
	poison := []string{
		canary + rawHostile(kinesisMax-len(canary)),
		`{"firelane":"` + long + `"}`,
		`{"specversion":"` + long + `","id":"` + canary + `","source":"/s","type":"t.t"}`,
		ingestRec(`{"specversion":"1.0","id":"` + long + `","source":"/s","type":"t.t","time":"` + long + `"}`),
		fill(`{"specversion":"1.0","id":"`+canary+`","source":"/s","type":"com.acme.web.page_view","data":{"pad":"`+canary+`%s"}}`, kinesisMax),
	}
	tests := []struct {
		name     string
		data     []string
		setup    func(h *Handler, out, failed *recorder)
		wantMsgs []string
	}{
		{"poison of each kind", poison, nil, []string{"poison record", "poison record cut to fit one Firehose record"}},
		{"an enrichment refuses", []string{ingestRec(valid("e"))}, func(h *Handler, _, _ *recorder) {
			h.Chain = append(h.Chain, failingStep{})
		}, []string{"poison record"}},
		{"events stream refuses", []string{ingestRec(valid("a")), valid("b")}, func(_ *Handler, out, _ *recorder) {
			out.failEntry = func(int, []byte) bool { return true }
		}, []string{"record not written"}},
		{"failed-events stream refuses", poison[1:3], func(_ *Handler, _, failed *recorder) {
			failed.failEntry = func(int, []byte) bool { return true }
		}, []string{"poison record", "record not written"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, failed := &recorder{}, &recorder{}
			h := newHandler(t, out, failed)
			h.Failed = newWriter(t, strictFirehose{failed}, "failed")
			var logs strings.Builder
			h.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
			if tt.setup != nil {
				tt.setup(h, out, failed)
			}
			h.Process(t.Context(), Records(batchOf(tt.data...)))
			var msgs []string
			for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				if len(line) > 16<<10 {
					t.Errorf("a %d-byte log line, want at most 16 KiB: %.200s", len(line), line)
				}
				if strings.Contains(line, canary) {
					t.Errorf("a log line carries the record's values: %.300s", line)
				}
				var l struct{ Msg string }
				if err := json.Unmarshal([]byte(line), &l); err != nil {
					t.Fatalf("log line is not JSON: %v", err)
				}
				msgs = append(msgs, l.Msg)
			}
			for _, want := range tt.wantMsgs {
				if !slices.Contains(msgs, want) {
					t.Errorf("got log lines %q, want a %q line", msgs, want)
				}
			}
		})
	}
}
