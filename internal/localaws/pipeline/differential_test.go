package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/firelane/firelane/internal/ingest"
	"github.com/firelane/firelane/internal/jsonbytes"
	localfirehose "github.com/firelane/firelane/internal/localaws/firehose"
	"github.com/firelane/firelane/internal/schema"
)

// row is what the test reads of a lake row.
type row struct {
	EventID   string `json:"event_id"`
	EventTime string `json:"event_time"`
}

// rows returns the lake rows that a chain wrote under dir's events/.
func rows(t testing.TB, dir string) []row {
	var ids []row
	err := filepath.WalkDir(filepath.Join(dir, "events"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(nil, 8<<20)
		for sc.Scan() {
			var r row
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				return fmt.Errorf("%s: a row is not JSON: %w", p, err)
			}
			ids = append(ids, r)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return ids
}

var (
	registryOnce sync.Once
	registry     *schema.Registry
	registryErr  error
)

func shippedRegistry(t testing.TB) *schema.Registry {
	registryOnce.Do(func() { registry, registryErr = schema.Default() })
	if registryErr != nil {
		t.Fatal(registryErr)
	}
	return registry
}

// verdict is what became of one event.
type verdict struct {
	accepted bool   // ingest answered accepted
	reason   string // ingest's first reason, when it rejected the event
	rows     []row
	failures int // failed-event envelopes written (ingest's rejections and enrich's poison)
	report   DrainReport
}

// sendOne sends one event, alone in a request, through a fresh local chain (ingest, the Kinesis
// record, enrich, the Firehose record, transform) and reports what became of it.
func sendOne(t testing.TB, ev []byte, userAgent string) verdict {
	t.Helper()
	dir := t.TempDir()
	chain, err := New(Config{Registry: shippedRegistry(t), Sink: localfirehose.DirSink{Dir: dir}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	req := NewRequest(string(ev))
	if userAgent != "" {
		req.Headers["User-Agent"], req.RequestContext.Identity.UserAgent = userAgent, userAgent
	}
	resp, err := chain.Send(ctx, req)
	if err != nil {
		t.Fatalf("ingest failed: %v", err)
	}
	var v verdict
	var body ingest.Response
	if json.Unmarshal([]byte(resp.Body), &body) == nil && len(body.Results) == 1 {
		r := body.Results[0]
		v.accepted = r.Status == ingest.StatusAccepted
		if len(r.Errors) > 0 {
			v.reason = r.Errors[0].Message
		}
	} else {
		v.reason = resp.Body
	}
	if v.report, err = chain.Drain(ctx); err != nil {
		t.Fatalf("drain: %v", err)
	}
	v.rows = rows(t, dir)
	v.failures = v.report.Failures.Records
	return v
}

// checkAccepted asserts the contract between the stages: an event ingest accepts is an Ok row of
// the lake after enrich and transform, and nothing of it is set aside.
func checkAccepted(t testing.TB, ev []byte, v verdict, id, eventTime string) {
	t.Helper()
	if !v.accepted {
		return
	}
	rep := v.report
	if len(v.rows) != 1 || v.failures != 0 || rep.Events.ProcessingFailed != 0 || rep.Events.OtherFailed != 0 || rep.Events.Dropped != 0 {
		t.Fatalf("accepted at ingest, then rows %q, %d set aside, delivery %+v, for %.300q", v.rows, v.failures, rep.Events, ev)
	}
	if id != "" && v.rows[0].EventID != id {
		t.Fatalf("row's event_id %q, want %q", v.rows[0].EventID, id)
	}
	if eventTime != "" && v.rows[0].EventTime != eventTime {
		t.Fatalf("row's event_time %q, want %q", v.rows[0].EventTime, eventTime)
	}
}

const (
	pageView = `"type":"com.acme.web.page_view","source":"/web","dataschema":"com.acme.web.page_view/v1",` +
		`"data":{"url":"https://shop.acme.test/p","session_id":"8f14e45f-ceea-467f-a0f8-7c2c3c1c2d3e"}`
	head = `{"specversion":"1.0","id":"e1",` + pageView
)

// withTime is the page view event with the time attribute's text t.
func withTime(t string) string { return head + `,"time":` + t + `}` }

// nested is an extension attribute whose value makes the event n levels deep.
func nested(n int) string {
	return head + `,"deep":` + strings.Repeat("[", n-1) + strings.Repeat("]", n-1) + `}`
}

// padded is the page view event grown to exactly size bytes by an extension string made of unit.
func padded(size int, unit string) string {
	base := head + `,"pad":""}`
	n := (size - len(base)) / len(unit)
	s := head + `,"pad":"` + strings.Repeat(unit, n) + `"}`
	return s[:len(s)-2] + strings.Repeat("x", size-len(s)) + `"}`
}

type edgeCase struct {
	name, event string
	accept      bool   // whether ingest must accept it
	id          string // the row's event_id, when it is not "e1"
	userAgent   string // the request's User-Agent, when not the local chain's
	eventTime   string // the row's event_time, when the case is about it
}

// edgeCases is the corpus of the differential test: events at the edges of the definition of a
// valid event. accept says what the edge must answer; every accepted one must become an Ok row.
var edgeCases = []edgeCase{
	{name: "plain", event: head + `}`, accept: true},
	{name: "time in milliseconds", event: withTime(`"2026-11-25T09:00:04.559Z"`), accept: true},
	{name: "lower-case t and z", event: withTime(`"2026-11-25t09:00:04z"`), accept: true, eventTime: "2026-11-25T09:00:04.000Z"},
	{name: "leap second", event: withTime(`"2016-12-31T23:59:60Z"`), accept: true, eventTime: "2016-12-31T23:59:59.999Z"},
	{name: "leap second with a fraction", event: withTime(`"2016-12-31T23:59:60.999999999Z"`), accept: true},
	{name: "leap second east of UTC", event: withTime(`"2017-01-01T08:59:60+09:00"`), accept: true, eventTime: "2016-12-31T23:59:59.999Z"},
	{name: "leap second west of UTC", event: withTime(`"2016-12-31T15:59:60-08:00"`), accept: true},
	{name: "leap second in lower case", event: withTime(`"2016-12-31t23:59:60.5z"`), accept: true},
	{name: "leap second not at 23:59 UTC", event: withTime(`"2016-12-31T22:59:60Z"`)},
	{name: "offset -00:00", event: withTime(`"2026-11-25T09:00:04-00:00"`), accept: true},
	{name: "thirteen fraction digits", event: withTime(`"2026-11-25T09:00:04.1234567890123Z"`), accept: true, eventTime: "2026-11-25T09:00:04.123Z"},
	{name: "year 0000", event: withTime(`"0000-01-01T00:00:00Z"`), accept: true},
	{name: "year 9999", event: withTime(`"9999-12-31T23:59:59.999Z"`), accept: true},
	{name: "29 February", event: withTime(`"2024-02-29T12:00:00Z"`), accept: true},
	{name: "29 February of a common year", event: withTime(`"2023-02-29T12:00:00Z"`)},
	{name: "escaped time", event: withTime(`"2026-11-25\u005409:00:04\u005a"`), accept: true, eventTime: "2026-11-25T09:00:04.000Z"},
	{name: "signed hour", event: withTime(`"2026-11-25T+9:00:00Z"`)},
	{name: "hour 24", event: withTime(`"2026-11-25T24:00:00Z"`)},
	{name: "no fraction digits", event: withTime(`"2026-11-25T09:00:04.Z"`)},
	{name: "space for T", event: withTime(`"2026-11-25 09:00:04Z"`)},
	{name: "time null", event: withTime(`null`)},
	{name: "time empty", event: withTime(`""`)},
	{name: "a bad time, then a good one", event: head + `,"time":"yesterday","time":"2026-11-25T09:00:04Z"}`, accept: true, eventTime: "2026-11-25T09:00:04.000Z"},
	{name: "a good time, then null", event: head + `,"time":"2026-11-25T09:00:04Z","time":null}`},
	{name: "sentat in lower case", event: head + `,"sentat":"2026-11-25t09:00:04.5z","time":"2026-11-25T09:00:04Z"}`, accept: true},
	{name: "sentat a leap second", event: head + `,"sentat":"2016-12-31T23:59:60Z"}`, accept: true},
	{name: "nested to the limit", event: nested(jsonbytes.MaxDepth), accept: true},
	{name: "nested one level deeper", event: nested(jsonbytes.MaxDepth + 1)},
	{name: "at the size limit", event: padded(ingest.MaxEventBytesLimit, "x"), accept: true},
	{name: "at the size limit in escapes", event: padded(ingest.MaxEventBytesLimit, `\u0001`), accept: true},
	{name: "at the size limit in quotes", event: padded(ingest.MaxEventBytesLimit, `\"`), accept: true},
	{name: "at the size limit in non-ASCII", event: padded(ingest.MaxEventBytesLimit, "é😀"), accept: true},
	{name: "at the size limit in invalid UTF-8", event: padded(ingest.MaxEventBytesLimit, "\xff"), accept: true},
	{name: "at the size limit with the largest context", event: padded(ingest.MaxEventBytesLimit, `\u0001`), accept: true,
		userAgent: strings.Repeat("\x01", 4096)},
	{name: "one byte over the size limit", event: padded(ingest.MaxEventBytesLimit+1, "x")},
	{name: "line breaks", event: "{\r\n\"specversion\" : \"1.0\",\n\t\"id\":\"e1\",\n" + pageView + "\n}\n", accept: true},
	{name: "escaped names and values", event: `{"spec\u0076ersion":"1\u002e0","\u0069d":"\u0065\u0031","type":"com.acme.web.page\u005fview","source":"\/web","data":{"url":"https://shop.acme.test/p","session_id":"8f14e45f-ceea-467f-a0f8-7c2c3c1c2d3e"}}`, accept: true},
	{name: "repeated id, the last wins", event: head + `,"id":"e2"}`, accept: true, id: "e2"},
	{name: "a number, then a string id", event: `{"id":1,` + head[1:] + `}`, accept: true},
	{name: "a string, then a number id", event: head + `,"id":1}`},
	{name: "repeated type", event: `{"type":"com.acme.nope",` + head[1:] + `}`, accept: true},
	{name: "repeated data", event: `{"data":5,` + head[1:] + `}`, accept: true},
	{name: "non-ASCII subject", event: head + `,"subject":"日本語 ☃"}`, accept: true},
	{name: "invalid UTF-8 subject", event: head + ",\"subject\":\"a\xffb\"}", accept: true},
	{name: "invalid UTF-8 id", event: `{"specversion":"1.0","id":"e` + "\xff" + `",` + pageView + `}`, accept: true, id: "e\uFFFD"},
	{name: "upper-case ID is an extension", event: head + `,"ID":5}`, accept: true},
	{name: "extensions named like record members", event: head + `,"firelane":"ingest/1","context":{"received_at":"x"},"enrichment":{},"event":{"id":1}}`, accept: true},
	{name: "data_base64 a number", event: head + `,"data_base64":5}`},
	{name: "data_base64 a string", event: head + `,"data_base64":"AAEC"}`, accept: true},
	{name: "escaped specversion", event: `{"specversion":"1\u002e0","id":"e1",` + pageView + `}`, accept: true},
	{name: "datacontenttype", event: head + `,"datacontenttype":"application/json"}`, accept: true},
	{name: "spaces around", event: " \n" + head + "} \n", accept: true},
}

// TestAcceptedEventsBecomeRows is the differential test of the stages' definitions of a valid
// event: every edge case goes through ingest's handler, the Kinesis record it writes, enrich's
// handler, the Firehose record and transform, and every event the edge accepts must be an Ok row,
// never poison after the client was told it was accepted.
func TestAcceptedEventsBecomeRows(t *testing.T) {
	for _, tc := range edgeCases {
		t.Run(tc.name, func(t *testing.T) {
			v := sendOne(t, []byte(tc.event), tc.userAgent)
			if v.accepted != tc.accept {
				t.Fatalf("got accepted=%v (%s), want %v", v.accepted, v.reason, tc.accept)
			}
			id := tc.id
			if id == "" && tc.accept {
				id = "e1"
			}
			checkAccepted(t, []byte(tc.event), v, id, tc.eventTime)
		})
	}
}

// FuzzAcceptedIsOk holds every stage to the same definition of a valid event: whatever ingest
// accepts is an Ok row downstream.
func FuzzAcceptedIsOk(f *testing.F) {
	for _, tc := range edgeCases {
		if len(tc.event) < 4096 {
			f.Add([]byte(tc.event))
		}
	}
	f.Fuzz(func(t *testing.T, ev []byte) {
		checkAccepted(t, ev, sendOne(t, ev, ""), "", "")
	})
}
