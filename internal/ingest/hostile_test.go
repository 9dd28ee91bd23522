package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/firehose"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/schema"
)

// escapeHeavy is JSON string content whose decoded value is made of what JSON escapes most:
// control characters, quotes, backslashes, U+2028, an escaped lone surrogate and raw invalid UTF-8.
func escapeHeavy(n int) string {
	const unit = `\u0001\"\\` + "\u2028" + `\ud800` + "\xff<>&" + `\u001f`
	return strings.Repeat(unit, n/len(unit)+1)[:n/len(unit)*len(unit)]
}

// quotingRegistry is a registry with one schema, com.acme.test.contacts v1, whose map of emails
// puts each bad entry's name (the client's text) in its reason's location, and its value in the
// message.
func quotingRegistry(t testing.TB) *schema.Registry {
	t.Helper()
	dir := t.TempDir()
	doc := `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",` +
		`"properties":{"emails":{"type":"object","additionalProperties":{"type":"string","format":"email"}}}}`
	if err := os.WriteFile(filepath.Join(dir, "com.acme.test.contacts.v1.json"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	reg, err := schema.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// hostileContacts is an event of MaxEventBytesLimit bytes whose 100 emails are named and valued
// with escape-heavy text: 100 reasons whose locations JSON escapes six-fold.
func hostileContacts(t testing.TB, id string) string {
	t.Helper()
	emails := make([]string, 100)
	for i := range emails {
		emails[i] = fmt.Sprintf(`"%d%s":"%s"`, i, escapeHeavy(2000), escapeHeavy(1000))
	}
	ev := `{"specversion":"1.0","id":"` + id + `","source":"/crm","type":"com.acme.test.contacts",` +
		`"data":{"emails":{` + strings.Join(emails, ",") + `}}}`
	if len(ev) > MaxEventBytesLimit {
		t.Fatalf("event is %d bytes, over %d", len(ev), MaxEventBytesLimit)
	}
	return ev[:len(ev)-1] + strings.Repeat(" ", MaxEventBytesLimit-len(ev)) + "}"
}

// strictFirehose refuses, as Firehose does, a call holding a record over 1,000 KiB.
func strictFirehose(s *sink) func(context.Context, *firehose.PutRecordBatchInput) (*firehose.PutRecordBatchOutput, error) {
	ack := firehoseAck(s, nil)
	return func(ctx context.Context, in *firehose.PutRecordBatchInput) (*firehose.PutRecordBatchOutput, error) {
		for i, r := range in.Records {
			if len(r.Data) > awsbatch.FirehoseLimits.MaxRecordBytes {
				return nil, fmt.Errorf("InvalidArgumentException: record %d is %d bytes, over 1,000 KiB", i, len(r.Data))
			}
		}
		return ack(ctx, in)
	}
}

// TestRejectedEnvelopeFits sends the largest event a request may carry, with the most reasons and
// every reason quoting escape-heavy client text: its failed-event envelope must fit one Firehose
// record, keep the whole event, and carry the reasons the client got.
func TestRejectedEnvelopeFits(t *testing.T) {
	f := newFixture(t, quotingRegistry(t), Config{MaxErrors: MaxErrorsLimit})
	f.firehose.put = strictFirehose(f.setAside)
	ev := hostileContacts(t, "c-1")
	resp, _ := f.h.Handle(t.Context(), post(ev, nil))
	if resp.StatusCode != 422 {
		t.Fatalf("got status %d, want 422: %.300s", resp.StatusCode, resp.Body)
	}
	recs := f.setAside.all()
	if len(recs) != 1 {
		t.Fatalf("failed-events stream took %d records, want 1", len(recs))
	}
	if n := len(recs[0].Data); n > awsbatch.FirehoseLimits.MaxRecordBytes {
		t.Fatalf("envelope is %d bytes, over Firehose's %d", n, awsbatch.FirehoseLimits.MaxRecordBytes)
	}
	var got event.Failed
	if err := json.Unmarshal(recs[0].Data, &got); err != nil {
		t.Fatal(err)
	}
	if string(got.Original) != ev {
		t.Errorf("original holds %d bytes, want the whole event (%d)", len(got.Original), len(ev))
	}
	r := decodeResponse(t, resp.Body)
	if len(got.Reasons) < 2 || len(got.Reasons) > len(r.Results[0].Errors) {
		t.Errorf("envelope carries %d reasons, the answer %d", len(got.Reasons), len(r.Results[0].Errors))
	}
	for i, reason := range got.Reasons {
		if reason != r.Results[0].Errors[i] {
			t.Errorf("reason %d differs from the answer's", i)
			break
		}
	}
}

// TestFailedRecordBounded builds the envelope of the largest event with the most reasons, every
// field of them at its bound in raw bytes and made of characters JSON escapes six-fold, as a
// validator behind [Validator] may write them: the envelope must still fit one Firehose record
// and hold the whole event.
func TestFailedRecordBounded(t *testing.T) {
	const unit = "\x01\"\\\u2028\xff<>&\x1f"
	raw := func(n int) string { return strings.Repeat(unit, n/len(unit)+1)[:n] }
	ev := []byte(`{"x":"` + strings.Repeat("a", MaxEventBytesLimit-9) + `"}`)
	var reasons []event.Reason
	for range MaxErrorsLimit {
		reasons = append(reasons, event.Reason{Location: raw(1000), Keyword: raw(1000), Message: raw(5000)})
	}
	// The server context with every field at the bound the request's reading cuts it to.
	sc := event.ServerContext{ReceivedAt: "2026-11-25T09:01:01.000Z", RequestID: raw(maxContextField), SourceIP: raw(maxContextField),
		UserAgent: raw(maxUserAgent), APIKeyID: raw(maxContextField), Principal: raw(maxContextField), Stage: raw(maxContextField)}
	b := failedRecord(ev, event.Attrs{ID: raw(256), Type: raw(256)}, reasons, &sc, time.Date(2026, 11, 25, 9, 1, 2, 0, time.UTC))
	if len(b) > awsbatch.FirehoseLimits.MaxRecordBytes {
		t.Fatalf("envelope is %d bytes, over Firehose's %d", len(b), awsbatch.FirehoseLimits.MaxRecordBytes)
	}
	var got event.Failed
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if string(got.Original) != string(ev) || len(got.Reasons) == 0 {
		t.Errorf("got %d bytes of original and %d reasons, want the whole event (%d) and reasons", len(got.Original), len(got.Reasons), len(ev))
	}
	if got.Context == nil || got.Context.ReceivedAt != sc.ReceivedAt {
		t.Errorf("got context %+v, want its received_at kept", got.Context)
	}
}

// maxLogLine is the longest log line allowed: far below CloudWatch Logs' 256 KiB event.
const maxLogLine = 16 << 10

// checkLogs fails when a log line carries the canary or exceeds maxLogLine, and returns the
// lines' messages.
func checkLogs(t testing.TB, logs, canary string) []string {
	t.Helper()
	var msgs []string
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if len(line) > maxLogLine {
			t.Errorf("a %d-byte log line, want at most %d: %.200s", len(line), maxLogLine, line)
		}
		if strings.Contains(line, canary) {
			t.Errorf("a log line carries the client's value: %.300s", line)
		}
		var l struct{ Msg string }
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("log line is not JSON: %v", err)
		}
		msgs = append(msgs, l.Msg)
	}
	return msgs
}

// TestNoClientValueInLogs sends events carrying a canary in every member a client controls (id,
// source, subject, type, data names and values, the user agent), some of them 300 KB long,
// through every way ingest fails an event: rejected without a failed-events stream, rejected and
// not archived, refused by Kinesis, throttled by Kinesis. No log line may carry the canary or
// exceed 16 KiB.
func TestNoClientValueInLogs(t *testing.T) {
	const canary = "CANARY-6b2f9e"
	long := canary + strings.Repeat("x\\u0001<", 20<<10) // 160 KiB of JSON text
	valid := func(n int) string {
		return `{"specversion":"1.0","id":"` + canary + fmt.Sprint(n) + `","source":"/` + canary + `","type":"com.acme.web.page_view",` +
			`"subject":"` + canary + `","data":{"url":"https://shop.test/` + canary + `","session_id":"8f14e45f-ceea-467f-a0f8-7c2c3c1c2d3e","title":"` + canary + `"}}`
	}
	invalid := `{"specversion":"1.0","id":"` + canary + `-bad","source":"/` + canary + `","type":"com.acme.web.page_view",` +
		`"data":{"url":"` + long + `","session_id":"` + long + `","` + canary + `":"` + long + `"}}`
	unknown := `{"specversion":"1.0","id":"` + canary + `-t","source":"/s","type":"` + canary + `","time":"` + long + `","data":{}}`
	body := "[" + valid(1) + "," + invalid + "," + unknown + "," + valid(2) + "]"
	tests := []struct {
		name     string
		setup    func(f *fixture)
		wantMsgs []string
	}{
		{"rejected without a failed-events stream", func(f *fixture) { f.h.Rejected = nil }, []string{"rejected event"}},
		{"rejected and not archived", func(f *fixture) {
			f.firehose.put = firehoseAck(f.setAside, func([]byte) string { return "ServiceUnavailableException" })
		}, []string{"rejected event not archived"}},
		{"refused by Kinesis", func(f *fixture) {
			f.kinesis.put = kinesisAck(f.streamed, func([]byte) string { return "KMSAccessDeniedException" })
		}, []string{"event not written to the stream"}},
		{"throttled by Kinesis", func(f *fixture) {
			f.kinesis.put = kinesisAck(f.streamed, func([]byte) string { return "ProvisionedThroughputExceededException" })
		}, []string{"event not written to the stream"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, registry(t), Config{MaxErrors: MaxErrorsLimit})
			tt.setup(f)
			req := post(body, nil)
			req.RequestContext.Identity.UserAgent = canary + " " + long
			resp, _ := f.h.Handle(t.Context(), req)
			if r := decodeResponse(t, resp.Body); r.Rejected != 2 {
				t.Fatalf("got %d rejected, want 2: %.300s", r.Rejected, resp.Body)
			}
			msgs := checkLogs(t, f.logs.String(), canary)
			for _, want := range tt.wantMsgs {
				if !slices.Contains(msgs, want) {
					t.Errorf("got log lines %q, want a %q line", msgs, want)
				}
			}
		})
	}
}
