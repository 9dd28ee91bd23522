package transform

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/lake"
)

// testARN is the delivery stream the tests' events come from.
const testARN = "arn:aws:firehose:us-east-1:123456789012:deliverystream/events"

// firehoseEvent builds a Firehose transformation event with one record per data, ids r0, r1, ...
func firehoseEvent(arrival time.Time, data ...[]byte) events.KinesisFirehoseEvent {
	ev := events.KinesisFirehoseEvent{InvocationID: "inv-1", DeliveryStreamArn: testARN, Region: "us-east-1"}
	for i, d := range data {
		ev.Records = append(ev.Records, events.KinesisFirehoseEventRecord{
			RecordID:                    fmt.Sprintf("r%d", i),
			ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: arrival.Add(time.Duration(i) * time.Millisecond)},
			Data:                        d,
		})
	}
	return ev
}

func marshal(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

var safeValue = regexp.MustCompile(`^[a-z0-9_-]([a-z0-9_.-]{0,198}[a-z0-9_-])?$`)

// checkContract asserts Firehose's data-transformation contract on the response out to in, and
// returns the response decoded with aws-lambda-go's types.
func checkContract(tb testing.TB, in events.KinesisFirehoseEvent, out []byte) events.KinesisFirehoseResponse {
	tb.Helper()
	if len(out) > MaxResponseBytes {
		tb.Fatalf("response is %d bytes, want at most %d", len(out), MaxResponseBytes)
	}
	var resp events.KinesisFirehoseResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		tb.Fatalf("response does not decode into events.KinesisFirehoseResponse: %v", err)
	}
	var generic struct {
		Records []map[string]json.RawMessage `json:"records"`
	}
	if err := json.Unmarshal(out, &generic); err != nil {
		tb.Fatal(err)
	}
	if len(resp.Records) != len(in.Records) {
		tb.Fatalf("got %d response records, want %d", len(resp.Records), len(in.Records))
	}
	for i, got := range resp.Records {
		want := in.Records[i]
		if got.RecordID != want.RecordID {
			tb.Fatalf("record %d: got recordId %q, want %q (input order)", i, got.RecordID, want.RecordID)
		}
		switch got.Result {
		case ResultOk:
			if n := bytes.Count(got.Data, []byte("\n")); n != 1 || !bytes.HasSuffix(got.Data, []byte("\n")) {
				tb.Fatalf("record %d: row has %d newlines, want exactly one at its end: %q", i, n, got.Data)
			}
			var row map[string]json.RawMessage
			if err := json.Unmarshal(got.Data, &row); err != nil {
				tb.Fatalf("record %d: row is not a JSON object: %v: %q", i, err, got.Data)
			}
			keys := got.Metadata.PartitionKeys
			if len(keys) != len(lake.PartitionKeyNames) {
				tb.Fatalf("record %d: got partition keys %v, want %v", i, keys, lake.PartitionKeyNames)
			}
			for _, k := range lake.PartitionKeyNames {
				if !safeValue.MatchString(keys[k]) || strings.Contains(keys[k], "..") {
					tb.Fatalf("record %d: partition key %s=%q is not S3-safe", i, k, keys[k])
				}
			}
			if _, ok := generic.Records[i]["metadata"]; !ok {
				tb.Fatalf("record %d: Ok record has no metadata", i)
			}
		case ResultProcessingFailed:
			if !bytes.Equal(got.Data, want.Data) {
				tb.Fatalf("record %d: ProcessingFailed data %q, want the input %q", i, got.Data, want.Data)
			}
		case ResultDropped:
			if len(got.Data) != 0 {
				tb.Fatalf("record %d: Dropped record carries data", i)
			}
		default:
			tb.Fatalf("record %d: result %q", i, got.Result)
		}
		if _, ok := generic.Records[i]["otfMetadata"]; ok {
			tb.Fatalf("record %d: otfMetadata outside metadata", i)
		}
	}
	return resp
}

// reference converts a record with the event package's encoding/json decoders: the independent
// expectation the fast converter is compared with.
func reference(data []byte, arrival time.Time) (map[string]any, map[string]string, error) {
	env, err := event.DecodeRecord(data)
	if err != nil {
		return nil, nil, err
	}
	ce, err := event.Parse(env.Event)
	if err != nil {
		return nil, nil, err
	}
	var v event.View
	if _, err := event.ParseView(env.Event, 0, 0, &v, new([]byte)); err != nil {
		return nil, nil, err
	}
	if errs := event.CheckEnvelope(&v); errs != nil {
		return nil, nil, errs
	}
	received := arrival
	if env.Enrichment != nil && env.Enrichment.ReceivedAt != "" {
		if t, err := time.Parse(time.RFC3339Nano, env.Enrichment.ReceivedAt); err == nil {
			received = t
		}
	} else if env.Context != nil {
		if t, err := time.Parse(time.RFC3339Nano, env.Context.ReceivedAt); err == nil {
			received = t
		}
	}
	eventTime := received
	if t, ok, _ := ce.EventTime(); ok {
		eventTime = t
	}
	row := map[string]any{
		"event_id": ce.ID, "event_type": ce.Type, "event_version": json.Number(fmt.Sprint(ce.Version())),
		"event_time": event.FormatTime(eventTime), "received_at": event.FormatTime(received), "source": ce.Source,
	}
	if ce.Subject != "" {
		row["subject"] = ce.Subject
	}
	if len(ce.Data) > 0 {
		var d any
		dec := json.NewDecoder(bytes.NewReader(ce.Data))
		dec.UseNumber()
		if err := dec.Decode(&d); err != nil {
			return nil, nil, err
		}
		row["data"] = d
	} else {
		row["data"] = nil
	}
	return row, lake.PartitionKeys(ce.Type, ce.Version(), received), nil
}

func decodeRow(tb testing.TB, b []byte) map[string]any {
	tb.Helper()
	var row map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&row); err != nil {
		tb.Fatalf("row %q: %v", b, err)
	}
	return row
}

// checkAgainstReference compares every record's result with the reference conversion.
func checkAgainstReference(tb testing.TB, in events.KinesisFirehoseEvent, resp events.KinesisFirehoseResponse) {
	tb.Helper()
	for i, rec := range in.Records {
		want, wantKeys, err := reference(rec.Data, rec.ApproximateArrivalTimestamp.Time)
		got := resp.Records[i]
		if err != nil {
			if got.Result != ResultProcessingFailed {
				tb.Fatalf("record %d: got %s, want ProcessingFailed (%v)", i, got.Result, err)
			}
			continue
		}
		if got.Result != ResultOk {
			tb.Fatalf("record %d: got %s, want Ok", i, got.Result)
		}
		row := decodeRow(tb, got.Data)
		for k, v := range want {
			if g, w := marshal(tb, row[k]), marshal(tb, v); !bytes.Equal(g, w) {
				tb.Fatalf("record %d: column %s: got %s, want %s", i, k, g, w)
			}
		}
		if g, w := fmt.Sprint(got.Metadata.PartitionKeys), fmt.Sprint(wantKeys); g != w {
			tb.Fatalf("record %d: got partition keys %s, want %s", i, g, w)
		}
	}
}

func TestInvokeWorkload(t *testing.T) {
	for _, name := range []string{"firehose-1mb.json", "firehose-3mb.json"} {
		t.Run(name, func(t *testing.T) {
			payload := workload(t, name)
			var in events.KinesisFirehoseEvent
			if err := json.Unmarshal(payload, &in); err != nil {
				t.Fatal(err)
			}
			out, err := quietHandler().Invoke(t.Context(), payload)
			if err != nil {
				t.Fatal(err)
			}
			resp := checkContract(t, in, out)
			checkAgainstReference(t, in, resp)
		})
	}
}

// TestAWSSampleEvent runs aws-lambda-go's own sample event, whose data ("Hello World") is not JSON:
// every record must come back ProcessingFailed with its data unchanged.
func TestAWSSampleEvent(t *testing.T) {
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-lambda-go").Output()
	if err != nil {
		t.Skipf("cannot locate the aws-lambda-go module: %v", err)
	}
	payload, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(dir)), "events", "testdata", "kinesis-firehose-event.json"))
	if err != nil {
		t.Fatal(err)
	}
	var in events.KinesisFirehoseEvent
	if err := json.Unmarshal(payload, &in); err != nil {
		t.Fatal(err)
	}
	out, err := quietHandler().Invoke(t.Context(), payload)
	if err != nil {
		t.Fatal(err)
	}
	resp := checkContract(t, in, out)
	for i, r := range resp.Records {
		if r.Result != ResultProcessingFailed || string(r.Data) != "Hello World" {
			t.Errorf("record %d: got %s %q, want ProcessingFailed \"Hello World\"", i, r.Result, r.Data)
		}
	}
}

// TestHandleAgreesWithInvoke checks that the typed entry point and the raw one give the same
// response, and that the hand-written decoder reads what encoding/json writes for aws-lambda-go's
// event type.
func TestHandleAgreesWithInvoke(t *testing.T) {
	in := firehoseEvent(time.UnixMilli(1795597205330),
		[]byte(`{"specversion":"1.0","id":"a","source":"/s","type":"com.example.t","data":{"x":1}}`),
		[]byte(`not json`),
		[]byte(`{"specversion":"1.0","id":"b\u00e9\"","source":"/s","type":"Com.Example/../T","time":"2026-01-02T03:04:05+02:00"}`),
	)
	in.Records[1].RecordID = `id with "quotes" and \ and é`
	h := quietHandler()
	typed, err := h.Handle(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := h.Invoke(t.Context(), marshal(t, in))
	if err != nil {
		t.Fatal(err)
	}
	resp := checkContract(t, in, raw)
	if g, w := marshal(t, typed), marshal(t, resp); !bytes.Equal(g, w) {
		t.Fatalf("Handle and Invoke disagree:\n%s\n%s", g, w)
	}
	checkAgainstReference(t, in, resp)
	if got := resp.Records[2].Metadata.PartitionKeys[lake.KeyEventType]; got != "com.example_.._t" && got != lake.SafeValue("Com.Example/../T") {
		t.Errorf("got event_type key %q", got)
	}
}

func TestParseInvocationAgreesWithEncodingJSON(t *testing.T) {
	in := firehoseEvent(time.UnixMilli(-1500), []byte("x"), nil, []byte{0, 1, 2, 0xff}, []byte(strings.Repeat("é", 1000)))
	in.SourceKinesisStreamArn = "arn:aws:kinesis:us-east-1:123456789012:stream/s"
	in.Records[0].KinesisFirehoseRecordMetadata.ShardID = "shardId-0"
	payload := marshal(t, in)
	var st state
	inv, err := parseInvocation(payload, &st)
	if err != nil {
		t.Fatal(err)
	}
	if string(inv.streamARN.raw) != in.DeliveryStreamArn || string(inv.sourceKinesis.raw) != in.SourceKinesisStreamArn || len(inv.records) != len(in.Records) {
		t.Fatalf("got %+v", inv)
	}
	for i, r := range inv.records {
		data, err := st.decode(r.data)
		if err != nil {
			t.Fatal(err)
		}
		want := in.Records[i]
		if string(r.id.raw) != want.RecordID || r.arrival != want.ApproximateArrivalTimestamp.UnixMilli() || !bytes.Equal(data, want.Data) {
			t.Errorf("record %d: got %q %d %q, want %q %d %q", i, r.id.raw, r.arrival, data, want.RecordID, want.ApproximateArrivalTimestamp.UnixMilli(), want.Data)
		}
	}
}

func TestInvokeRejectsMalformedInvocations(t *testing.T) {
	for _, tc := range []struct{ name, payload string }{
		{"empty", ``},
		{"not an object", `[]`},
		{"truncated", `{"records":[{"recordId":"a","data":"eyJ9"`},
		{"records not an array", `{"records":{}}`},
		{"record id not a string", `{"records":[{"recordId":1,"data":""}]}`},
		{"arrival not an integer", `{"records":[{"recordId":"a","approximateArrivalTimestamp":1.5,"data":""}]}`},
		{"control character in data", "{\"records\":[{\"recordId\":\"a\",\"data\":\"eyJ9\neyJ9\"}]}"},
		{"raw byte in data", "{\"records\":[{\"recordId\":\"a\",\"data\":\"ey\x01J9\"}]}"},
		{"trailing data", `{"records":[]} x`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := quietHandler().Invoke(t.Context(), []byte(tc.payload))
			if err == nil {
				t.Fatalf("got response %s, want an error", out)
			}
			var ev events.KinesisFirehoseEvent
			if json.Unmarshal([]byte(tc.payload), &ev) == nil {
				t.Fatalf("encoding/json accepts the payload that Invoke rejects")
			}
		})
	}
	out, err := quietHandler().Invoke(t.Context(), []byte(`{"records":null}`))
	if err != nil || string(out) != `{"records":[]}` {
		t.Fatalf("got %s, %v; want an empty response", out, err)
	}
}

// TestSampleEvents runs every sample event of events/transform (the sam local invoke events).
func TestSampleEvents(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "events", "transform", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events found: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			payload, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var in events.KinesisFirehoseEvent
			if err := json.Unmarshal(payload, &in); err != nil {
				t.Fatal(err)
			}
			out, err := quietHandler().Invoke(t.Context(), payload)
			if err != nil {
				t.Fatal(err)
			}
			checkAgainstReference(t, in, checkContract(t, in, out))
		})
	}
}

// TestReuseResponse checks that reusing the response buffer changes no response, across
// invocations of different sizes.
func TestReuseResponse(t *testing.T) {
	small := marshal(t, firehoseEvent(arrival, []byte(bare), []byte("x")))
	large := marshal(t, largeEvent(40, 2000, 7))
	fresh, reuse := quietHandler(), quietHandler()
	reuse.ReuseResponse = true
	for i, p := range [][]byte{large, small, large, small} {
		want, err := fresh.Invoke(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := reuse.Invoke(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("invocation %d: reused buffer gives a different response", i)
		}
	}
}

// TestLogging checks the logging contract: one line per failed record with its reason and no
// payload value, and one line per invocation with the counts.
func TestLogging(t *testing.T) {
	var buf bytes.Buffer
	h := &Handler{Logger: slog.New(slog.NewJSONHandler(&buf, nil)), DropTypes: []string{"drop.me"}}
	in := firehoseEvent(arrival,
		[]byte(bare),
		[]byte(`{"specversion":"1.0","id":"SECRET-ID","source":"/s","type":"t","time":"SECRET-TIME"}`),
		[]byte(`SECRET-BYTES`),
		[]byte(`{"specversion":"1.0","id":"i","source":"/s","type":"drop.me"}`),
	)
	if _, err := h.Invoke(t.Context(), marshal(t, in)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "SECRET") {
		t.Fatalf("logs carry payload values:\n%s", buf.String())
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, m)
	}
	// Two failed records, then the invocation's summary line and one EMF metrics line per
	// dimension combination counted (Dropped by reason, Failed by reason).
	var failed, summaries, metrics []map[string]any
	for _, l := range lines {
		switch l["msg"] {
		case "record failed":
			failed = append(failed, l)
		case "invocation":
			summaries = append(summaries, l)
		case "metrics":
			metrics = append(metrics, l)
		default:
			t.Errorf("unexpected log line %v", l)
		}
	}
	if len(failed) != 2 || len(summaries) != 1 || len(metrics) != 2 {
		t.Fatalf("got %d failure, %d summary and %d metrics lines, want 2, 1 and 2:\n%s", len(failed), len(summaries), len(metrics), buf.String())
	}
	for i, id := range []string{"r1", "r2"} {
		if failed[i]["record_id"] != id || failed[i]["reason"] == "" {
			t.Errorf("line %d: got %v, want the failure of %s with a reason", i, failed[i], id)
		}
	}
	last := summaries[0]
	if last["Received"] != 4.0 || last["Accepted"] != 1.0 || last["Failed"] != 2.0 || last["Dropped"] != 1.0 || last["invocation_id"] == nil {
		t.Errorf("got invocation line %v", last)
	}
	if _, ok := last["_aws"]; !ok {
		t.Errorf("summary line is not an EMF document: %v", last)
	}
}

var update = flag.Bool("update", false, "rewrite the golden responses in testdata")

// TestGoldenResponse compares the response to testdata/mixed.json (bare, enriched and ingest
// records, a hostile type, a test event dropped on purpose, records that are not events) with the
// golden response, as JSON.
func TestGoldenResponse(t *testing.T) {
	payload, err := os.ReadFile(filepath.Join("testdata", "mixed.json"))
	if err != nil {
		t.Fatal(err)
	}
	h := quietHandler()
	h.DropTypes = []string{"com.acme.test.*"}
	out, err := h.Invoke(t.Context(), payload)
	if err != nil {
		t.Fatal(err)
	}
	var in events.KinesisFirehoseEvent
	if err := json.Unmarshal(payload, &in); err != nil {
		t.Fatal(err)
	}
	resp := checkContract(t, in, out)
	// The golden file shows the rows decoded, so that a reviewer can read them.
	type shown struct {
		RecordID      string            `json:"recordId"`
		Result        string            `json:"result"`
		Row           json.RawMessage   `json:"row,omitempty"`
		PartitionKeys map[string]string `json:"partitionKeys,omitempty"`
		Data          string            `json:"data,omitempty"`
	}
	var got []shown
	for _, r := range resp.Records {
		s := shown{RecordID: r.RecordID, Result: r.Result, PartitionKeys: r.Metadata.PartitionKeys}
		if r.Result == ResultOk {
			s.Row = bytes.TrimSuffix(r.Data, []byte("\n"))
		} else {
			s.Data = string(r.Data)
		}
		got = append(got, s)
	}
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "mixed.golden.json")
	if *update {
		if err := os.WriteFile(golden, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	var g, w any
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("response differs from %s (go test -run TestGoldenResponse -update rewrites it):\n%s", golden, b)
	}
}

func TestConcurrentInvoke(t *testing.T) {
	h := quietHandler()
	payloads := [][]byte{marshal(t, firehoseEvent(arrival, []byte(bare), []byte("x"))), marshal(t, largeEvent(30, 3000, 4))}
	var want [][]byte
	for _, p := range payloads {
		out, err := h.Invoke(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, out)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				k := (g + i) % len(payloads)
				out, err := h.Invoke(t.Context(), payloads[k])
				if err != nil || !bytes.Equal(out, want[k]) {
					t.Errorf("goroutine %d: concurrent invocation gave a different response (%v)", g, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestResultNames keeps the core's result names equal to aws-lambda-go's, which the adapter's
// typed response uses.
func TestResultNames(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{ResultOk, events.KinesisFirehoseTransformedStateOk},
		{ResultDropped, events.KinesisFirehoseTransformedStateDropped},
		{ResultProcessingFailed, events.KinesisFirehoseTransformedStateProcessingFailed},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
