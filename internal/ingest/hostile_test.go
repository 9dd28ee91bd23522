package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
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
	b := failedRecord(ev, event.Attrs{ID: raw(256), Type: raw(256)}, reasons, time.Date(2026, 11, 25, 9, 1, 2, 0, time.UTC))
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
}
