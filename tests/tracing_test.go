package tests

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/firelane/firelane/internal/localaws/lambda"
	"github.com/firelane/firelane/internal/obs/trace/otlptest"
)

// traceSpan is a span or X-Ray subsegment reduced to what the tracing tests compare.
type traceSpan struct {
	Name, ID, Parent, TraceID string
}

// tracedInvocation is a sample run under its own trace, with the spans it must produce: each
// stage step by name with its parent's name ("" for Lambda's segment), plus one AWS call under
// a step.
type tracedInvocation struct {
	function, event string
	root, parent    string // the X-Ray trace header's Root and Parent
	steps           map[string]string
	call            string // the AWS service called, under callUnder
	callUnder       string
}

var tracedInvocations = []tracedInvocation{
	{"IngestFunction", "ingest/valid-batch.json", "1-5759e988-bd862e3fe1be46a994272791", "53995c3f42cd8ad1",
		map[string]string{"validate": "", "write": ""}, "Kinesis", "write"},
	{"EnrichFunction", "enrich/kinesis-batch.json", "1-5759e988-bd862e3fe1be46a994272792", "53995c3f42cd8ad2",
		map[string]string{"enrich": "", "write": "enrich"}, "Firehose", "write"},
	{"TransformFunction", "transform/firehose-batch.json", "1-5759e988-bd862e3fe1be46a994272793", "53995c3f42cd8ad3",
		map[string]string{"convert": ""}, "", ""},
}

// TestTracingUnderEmulator runs each function under the Runtime Interface Emulator, invoked with
// an X-Ray trace header as Lambda passes API Gateway's, once built with the X-Ray SDK (the
// default, chosen automatically: subsegments to a daemon listening on UDP loopback) and once with
// TRACING=otel and FIRELANE_TRACING=otel (spans to an OTLP receiver as
// OTEL_EXPORTER_OTLP_ENDPOINT). Both must produce the same stage spans under
// the invocation's trace and parent, an AWS call under the write, and no span may carry a value
// of the events.
func TestTracingUnderEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the functions twice; skipped with -short")
	}
	root := repoRoot(t)
	payloads := map[string][]byte{}
	var secrets []string
	for _, inv := range tracedInvocations {
		b, err := os.ReadFile(filepath.Join(root, "events", inv.event))
		if err != nil {
			t.Fatal(err)
		}
		payloads[inv.event] = b
		for _, s := range eventStrings(t, b) {
			// The samples' region is also the functions' own, which spans rightly name.
			if s != "us-east-1" {
				secrets = append(secrets, s)
			}
		}
	}
	if len(secrets) < 20 {
		t.Fatalf("got %d strings from the samples, want enough to check spans against", len(secrets))
	}

	t.Run("xray", func(t *testing.T) {
		emulator, bootstraps := buildFunctions(t)
		udp := listenDaemon(t)
		la := startLocalAWSWith(t, emulator, bootstraps, map[string]string{"AWS_XRAY_DAEMON_ADDRESS": udp.addr}, true)
		for _, inv := range tracedInvocations {
			invokeTraced(t, la, inv, payloads[inv.event])
		}
		docs := udp.wait(t, func(d [][]byte) bool { return len(xraySpans(t, d)) >= countSpans() })
		checkTraces(t, xraySpans(t, docs), func(service string) string { return service })
		for _, d := range docs {
			checkNoEventData(t, "subsegment document", string(d), secrets)
		}
	})

	t.Run("otel", func(t *testing.T) {
		emulator, _ := buildFunctions(t)
		bootstraps := buildOTelFunctions(t)
		rcv := otlptest.Start(t)
		la := startLocalAWSWith(t, emulator, bootstraps, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": rcv.URL, "FIRELANE_TRACING": "otel"}, true)
		for _, inv := range tracedInvocations {
			invokeTraced(t, la, inv, payloads[inv.event])
		}
		spans := rcv.WaitSpans(t, countSpans(), 10*time.Second)
		var got []traceSpan
		for _, s := range spans {
			got = append(got, traceSpan{Name: s.Name, ID: s.SpanID, Parent: s.ParentID, TraceID: s.TraceID})
			var texts []string
			for _, attrs := range []map[string]any{s.Attrs, s.Resource} {
				for k, v := range attrs {
					texts = append(texts, k+"="+fmt.Sprint(v))
				}
			}
			for _, ev := range s.Events {
				texts = append(texts, ev.Name, fmt.Sprint(otlptest.Attrs(ev.Attributes)))
			}
			texts = append(texts, s.Name, s.Status.GetMessage())
			checkNoEventData(t, "span "+s.Name, strings.Join(texts, "\n"), secrets)
		}
		for _, req := range rcv.Requests() {
			if req.Header.Get("Authorization") != "" {
				t.Errorf("export to a collector carried Authorization %q", req.Header.Get("Authorization"))
			}
		}
		checkTraces(t, got, func(service string) string { return service + "." })
	})
}

func countSpans() int {
	n := 0
	for _, inv := range tracedInvocations {
		n += len(inv.steps)
		if inv.call != "" {
			n++
		}
	}
	return n
}

var otelBuilt struct {
	once       sync.Once
	bootstraps map[string]string
	err        error
}

// buildOTelFunctions builds every function with -tags otel, as TRACING=otel does, once.
func buildOTelFunctions(t *testing.T) map[string]string {
	t.Helper()
	otelBuilt.once.Do(func() {
		otelBuilt.bootstraps = map[string]string{}
		for _, id := range functionIDs {
			b, err := lambda.Build(context.Background(), repoRoot(t), lambda.PackageOf(id), filepath.Join(buildDir, "otel", id), "otel")
			if err != nil {
				otelBuilt.err = err
				return
			}
			otelBuilt.bootstraps[id] = b
		}
	})
	if otelBuilt.err != nil {
		t.Fatal(otelBuilt.err)
	}
	return otelBuilt.bootstraps
}

func invokeTraced(t *testing.T, la *localAWS, inv tracedInvocation, payload []byte) {
	t.Helper()
	res, err := la.fns[inv.function].InvokeTraced(t.Context(), payload, "Root="+inv.root+";Parent="+inv.parent+";Sampled=1")
	if err != nil {
		t.Fatalf("%s: %v", inv.function, err)
	}
	if res.Err != nil {
		t.Fatalf("%s: function error %v", inv.function, res.Err)
	}
}

// checkTraces finds, in each invocation's trace, every stage step under its parent (enrich writes
// once per destination stream, so a step may occur more than once) and the AWS call under its
// step; callName gives the span name of a call to service (X-Ray names the subsegment after the
// service, OpenTelemetry Service.Operation).
func checkTraces(t *testing.T, spans []traceSpan, callName func(service string) string) {
	t.Helper()
	for _, inv := range tracedInvocations {
		traceID := strings.ReplaceAll(strings.TrimPrefix(inv.root, "1-"), "-", "")
		byName := map[string][]traceSpan{}
		var all []string
		for _, s := range spans {
			if strings.ReplaceAll(strings.TrimPrefix(s.TraceID, "1-"), "-", "") == traceID {
				all = append(all, s.Name)
				byName[s.Name] = append(byName[s.Name], s)
			}
		}
		for step, parent := range inv.steps {
			if len(byName[step]) == 0 {
				t.Errorf("%s: no span %s in trace %s (got %v)", inv.function, step, inv.root, all)
				continue
			}
			want, what := inv.parent, "Lambda's segment"
			if parent != "" {
				if len(byName[parent]) != 1 {
					t.Errorf("%s: got %d spans %s, want 1", inv.function, len(byName[parent]), parent)
					continue
				}
				want, what = byName[parent][0].ID, parent
			}
			for _, s := range byName[step] {
				if s.Parent != want {
					t.Errorf("%s: span %s has parent %s, want %s (%s)", inv.function, step, s.Parent, want, what)
				}
			}
		}
		if inv.call == "" {
			continue
		}
		under := map[string]bool{}
		for _, s := range byName[inv.callUnder] {
			under[s.ID] = true
		}
		found := false
		for _, s := range spans {
			if strings.HasPrefix(s.Name, callName(inv.call)) && under[s.Parent] {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no %s call under %s (got %v)", inv.function, inv.call, inv.callUnder, all)
		}
	}
}

// eventStrings returns the strings of a sample that a span must never carry: every string of
// eight characters or more in the event, in an API Gateway body and in Kinesis and Firehose
// record data.
func eventStrings(t *testing.T, payload []byte) []string {
	t.Helper()
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		case string:
			if len(v) >= 8 {
				out = append(out, v)
			}
		}
	}
	var outer any
	if err := json.Unmarshal(payload, &outer); err != nil {
		t.Fatal(err)
	}
	walk(outer)
	var api events.APIGatewayProxyRequest
	var kin events.KinesisEvent
	var fh events.KinesisFirehoseEvent
	inner := [][]byte{}
	if json.Unmarshal(payload, &api) == nil && api.Body != "" {
		inner = append(inner, []byte(api.Body))
	}
	if json.Unmarshal(payload, &kin) == nil {
		for _, r := range kin.Records {
			inner = append(inner, r.Kinesis.Data)
		}
	}
	if json.Unmarshal(payload, &fh) == nil {
		for _, r := range fh.Records {
			inner = append(inner, r.Data)
		}
	}
	for _, b := range inner {
		var v any
		if json.Unmarshal(b, &v) == nil {
			walk(v)
		} else if d, err := base64.StdEncoding.DecodeString(string(b)); err == nil && json.Unmarshal(d, &v) == nil {
			walk(v)
		}
	}
	return out
}

func checkNoEventData(t *testing.T, what, text string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("%s carries %q from an event:\n%s", what, s, text)
			return
		}
	}
}

// daemonListener collects what reaches a UDP socket as the X-Ray daemon would.
type daemonListener struct {
	addr string
	mu   sync.Mutex
	docs [][]byte
}

func listenDaemon(t *testing.T) *daemonListener {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("cannot listen on UDP loopback: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	d := &daemonListener{addr: conn.LocalAddr().String()}
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, _, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			header, body, ok := bytes.Cut(buf[:n], []byte("\n"))
			if !ok || !bytes.Contains(header, []byte(`"format"`)) {
				continue
			}
			d.mu.Lock()
			d.docs = append(d.docs, bytes.Clone(body))
			d.mu.Unlock()
		}
	}()
	return d
}

func (d *daemonListener) wait(t *testing.T, done func([][]byte) bool) [][]byte {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		d.mu.Lock()
		docs := append([][]byte(nil), d.docs...)
		d.mu.Unlock()
		if done(docs) || time.Now().After(deadline) {
			return docs
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// xraySpans flattens subsegment documents: a nested subsegment's parent is the one enclosing it.
func xraySpans(t *testing.T, docs [][]byte) []traceSpan {
	t.Helper()
	type doc struct {
		Name        string `json:"name"`
		ID          string `json:"id"`
		TraceID     string `json:"trace_id"`
		ParentID    string `json:"parent_id"`
		Subsegments []json.RawMessage
	}
	var out []traceSpan
	var add func(raw []byte, parent, traceID string)
	add = func(raw []byte, parent, traceID string) {
		var d doc
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("subsegment %q is not JSON: %v", raw, err)
		}
		if parent == "" {
			parent = d.ParentID // the SDK repeats the segment's ID in nested subsegments too
		}
		if d.TraceID != "" {
			traceID = d.TraceID
		}
		out = append(out, traceSpan{Name: d.Name, ID: d.ID, Parent: parent, TraceID: traceID})
		for _, s := range d.Subsegments {
			add(s, d.ID, traceID)
		}
	}
	for _, raw := range docs {
		add(raw, "", "")
	}
	return out
}
