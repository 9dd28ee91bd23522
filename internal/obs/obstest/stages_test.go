package obstest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	ftypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/enrich"
	"github.com/firelane/firelane/internal/ingest"
	"github.com/firelane/firelane/internal/kpl"
	"github.com/firelane/firelane/internal/obs/emf/emftest"
	"github.com/firelane/firelane/internal/obs/logging"
	"github.com/firelane/firelane/internal/schema"
	"github.com/firelane/firelane/internal/transform"
)

const requestID = "8476a536-e9f4-11e8-9739-2dfe598c3fcd"

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

func samples(t *testing.T, stage string) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(repoRoot(), "events", stage, "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no samples in events/%s: %v", stage, err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

func invocationContext(t *testing.T) context.Context {
	ctx := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: requestID})
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// output is what one invocation wrote to its log.
type output struct {
	lines   []map[string]any
	raw     []string
	summary map[string]any
}

// capture parses the log lines, checks what every stage owes on every line, and returns them.
func capture(t *testing.T, stage string, buf *bytes.Buffer) output {
	t.Helper()
	var o output
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if m["request_id"] != requestID || m["stage"] != stage || m["function"] == nil || m["level"] == nil || m["timestamp"] == nil {
			t.Errorf("line lacks the invocation's fields: %s", line)
		}
		if _, ok := m["_aws"]; ok {
			if err := emftest.Verify([]byte(line)); err != nil {
				t.Errorf("EMF line: %v: %s", err, line)
			}
		}
		if m["msg"] == "invocation" {
			if o.summary != nil {
				t.Errorf("second summary line: %s", line)
			}
			o.summary = m
			if _, ok := m["_aws"]; !ok {
				t.Errorf("summary line carries no metrics: %s", line)
			}
		}
		o.lines = append(o.lines, m)
		o.raw = append(o.raw, line)
	}
	if o.summary == nil {
		t.Fatalf("no summary line in %q", buf.String())
	}
	return o
}

func (o output) count(name string) int {
	v, _ := o.summary[name].(float64)
	return int(v)
}

// checkBreakdown fails unless the metric lines' counts of each name add up to the summary's: a
// count a stage makes only with dimensions must be in both.
func (o output) checkBreakdown(t *testing.T, names ...string) {
	t.Helper()
	for _, name := range names {
		sum := 0
		for _, l := range o.lines {
			if v, ok := l[name].(float64); ok && l["msg"] == "metrics" {
				sum += int(v)
				if l["Reason"] == nil && l["EventType"] == nil && l["Destination"] == nil {
					t.Errorf("metric line without a breakdown dimension: %v", l)
				}
			}
		}
		if sum != o.count(name) {
			t.Errorf("%s: metric lines add up to %d, summary says %d", name, sum, o.count(name))
		}
	}
}

// checkNoPayload fails when a log line holds a string from an event's data or its subject.
func (o output) checkNoPayload(t *testing.T, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		for _, line := range o.raw {
			if strings.Contains(line, s) {
				t.Errorf("log line holds payload %q: %s", s, line)
			}
		}
	}
}

// payloadStrings collects the strings of the data and subject of the CloudEvents in v (an event,
// an array of events, or a record that wraps one), the values a log must never show.
func payloadStrings(v any, inData bool, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			payloadStrings(x, inData || k == "data" || k == "subject", out)
		}
	case []any:
		for _, x := range v {
			payloadStrings(x, inData, out)
		}
	case string:
		if inData && len(v) >= 6 && !slices.Contains([]string{"true", "false"}, v) {
			*out = append(*out, v)
		}
	}
}

func jsonSecrets(b []byte) []string {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return nil
	}
	var out []string
	payloadStrings(v, false, &out)
	return out
}

type kinesisOK struct{}

func (kinesisOK) PutRecords(_ context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	out := &kinesis.PutRecordsOutput{FailedRecordCount: aws.Int32(0)}
	for range in.Records {
		out.Records = append(out.Records, ktypes.PutRecordsResultEntry{SequenceNumber: aws.String("1"), ShardId: aws.String("shardId-000000000000")})
	}
	return out, nil
}

type firehoseOK struct{}

func (firehoseOK) PutRecordBatch(_ context.Context, in *firehose.PutRecordBatchInput, _ ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	out := &firehose.PutRecordBatchOutput{FailedPutCount: aws.Int32(0)}
	for range in.Records {
		out.RequestResponses = append(out.RequestResponses, ftypes.PutRecordBatchResponseEntry{RecordId: aws.String("r")})
	}
	return out, nil
}

func registry(t *testing.T) *schema.Registry {
	t.Helper()
	reg, err := schema.Default()
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func TestIngestOutput(t *testing.T) {
	reg := registry(t)
	for name, raw := range samples(t, "ingest") {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			kw, _ := awsbatch.NewKinesisWriter(kinesisOK{}, "events", awsbatch.DefaultRetry)
			fw, _ := awsbatch.NewFirehoseWriter(firehoseOK{}, "failed", awsbatch.DefaultRetry)
			h := &ingest.Handler{Registry: reg, Kinesis: kw, Rejected: fw, Config: ingest.DefaultConfig,
				Logger: logging.New(&buf, "ingest", "firelane-ingest", slog.LevelInfo)}
			out, err := h.Invoke(invocationContext(t), raw)
			if err != nil {
				t.Fatal(err)
			}
			var resp struct {
				StatusCode int    `json:"statusCode"`
				Body       string `json:"body"`
			}
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatal(err)
			}
			var body struct {
				Accepted, Rejected, Failed *int
			}
			_ = json.Unmarshal([]byte(resp.Body), &body)
			o := capture(t, "ingest", &buf)
			if body.Accepted != nil {
				got := [4]int{o.count("Received"), o.count("Accepted"), o.count("Rejected"), o.count("Failed")}
				want := [4]int{*body.Accepted + *body.Rejected + *body.Failed, *body.Accepted, *body.Rejected, *body.Failed}
				if got != want {
					t.Errorf("summary Received/Accepted/Rejected/Failed: got %v, want %v from the answer", got, want)
				}
			} else if o.count("Rejected") != 1 || o.count("Received") != 0 {
				t.Errorf("refused request (status %d): got Received %d, Rejected %d, want 0, 1", resp.StatusCode, o.count("Received"), o.count("Rejected"))
			}
			o.checkBreakdown(t, "Rejected", "Accepted")
			if o.summary["status"] != float64(resp.StatusCode) {
				t.Errorf("summary status: got %v, want %d", o.summary["status"], resp.StatusCode)
			}
			var req struct {
				Body            string `json:"body"`
				IsBase64Encoded bool   `json:"isBase64Encoded"`
			}
			_ = json.Unmarshal(raw, &req)
			if !req.IsBase64Encoded {
				o.checkNoPayload(t, jsonSecrets([]byte(req.Body)))
			}
		})
	}
}

func TestEnrichOutput(t *testing.T) {
	reg := registry(t)
	now := func() time.Time { return time.Date(2026, 11, 25, 9, 1, 2, 0, time.UTC) }
	for name, raw := range samples(t, "enrich") {
		t.Run(name, func(t *testing.T) {
			var ev events.KinesisEvent
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			out, _ := awsbatch.NewFirehoseWriter(firehoseOK{}, "events", awsbatch.DefaultRetry)
			failed, _ := awsbatch.NewFirehoseWriter(firehoseOK{}, "failed", awsbatch.DefaultRetry)
			h := &enrich.Handler{Registry: reg, Chain: enrich.DefaultChain(now, []byte("test-pii-key")), Firehose: out, Failed: failed,
				Now: now, Logger: logging.New(&buf, "enrich", "firelane-enrich", slog.LevelInfo)}
			resp, err := h.Handle(invocationContext(t), ev)
			if err != nil {
				t.Fatal(err)
			}
			o := capture(t, "enrich", &buf)
			if o.count("Received") != len(ev.Records) {
				t.Errorf("Received: got %d, want %d", o.count("Received"), len(ev.Records))
			}
			// A KPL aggregate is one event per user record, or one when it is set aside whole.
			var secrets []string
			var d kpl.Decoder
			evs, aggs, users := 0, 0, 0
			for _, r := range ev.Records {
				urs, err := d.Decode(r.Kinesis.Data)
				if !kpl.IsAggregated(r.Kinesis.Data) || err != nil {
					evs++
					secrets = append(secrets, jsonSecrets(r.Kinesis.Data)...)
					continue
				}
				evs, aggs, users = evs+len(urs), aggs+1, users+len(urs)
				for _, u := range urs {
					secrets = append(secrets, jsonSecrets(u.Data)...)
					secrets = append(secrets, string(u.PartitionKey))
				}
			}
			if got := [2]int{o.count("aggregates"), o.count("user_records")}; got != [2]int{aggs, users} {
				t.Errorf("summary aggregates/user_records: got %v, want %v", got, [2]int{aggs, users})
			}
			if got := o.count("Accepted") + o.count("Failed") + o.count("Dropped"); got != evs || len(resp.BatchItemFailures) > 0 {
				t.Errorf("Accepted+Failed+Dropped: got %d of %d events (%d reported)", got, evs, len(resp.BatchItemFailures))
			}
			o.checkBreakdown(t, "Failed", "Dropped")
			o.checkNoPayload(t, secrets)
		})
	}
}

func TestTransformOutput(t *testing.T) {
	for name, raw := range samples(t, "transform") {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			h := &transform.Handler{Logger: logging.New(&buf, "transform", "firelane-transform", slog.LevelInfo)}
			out, err := h.Invoke(invocationContext(t), raw)
			if err != nil {
				t.Fatal(err)
			}
			var resp events.KinesisFirehoseResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatal(err)
			}
			results := map[string]int{}
			for _, r := range resp.Records {
				results[r.Result]++
			}
			o := capture(t, "transform", &buf)
			got := [4]int{o.count("Received"), o.count("Accepted"), o.count("Dropped"), o.count("Failed")}
			want := [4]int{len(resp.Records), results["Ok"], results["Dropped"] - o.count("Reingested"), results["ProcessingFailed"]}
			if got != want {
				t.Errorf("Received/Accepted/Dropped/Failed: got %v, want %v", got, want)
			}
			o.checkBreakdown(t, "Failed", "Dropped")
			var ev events.KinesisFirehoseEvent
			_ = json.Unmarshal(raw, &ev)
			var secrets []string
			for _, r := range ev.Records {
				secrets = append(secrets, jsonSecrets(r.Data)...)
				if d, err := base64.StdEncoding.DecodeString(string(r.Data)); err == nil {
					secrets = append(secrets, jsonSecrets(d)...)
				}
			}
			o.checkNoPayload(t, secrets)
		})
	}
}

// kinesisFlaky refuses every entry of the first failures calls with a throttling error.
type kinesisFlaky struct{ failures int }

func (k *kinesisFlaky) PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, opts ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	if k.failures == 0 {
		return kinesisOK{}.PutRecords(ctx, in, opts...)
	}
	k.failures--
	out := &kinesis.PutRecordsOutput{FailedRecordCount: aws.Int32(int32(len(in.Records)))}
	for range in.Records {
		out.Records = append(out.Records, ktypes.PutRecordsResultEntry{ErrorCode: aws.String("ProvisionedThroughputExceededException"), ErrorMessage: aws.String("slow down")})
	}
	return out, nil
}

// TestIngestFaultOutput checks the counts and lines of throttled writes: retries that succeed
// count as Retried, and entries that never succeed as Failed with a reason and one line each.
func TestIngestFaultOutput(t *testing.T) {
	raw := samples(t, "ingest")["valid-batch.json"]
	retry := awsbatch.Retry{MaxAttempts: 3, BaseDelay: time.Microsecond, MaxDelay: 10 * time.Microsecond}
	tests := []struct {
		name                                  string
		failures                              int
		wantAccepted, wantFailed, wantRetried int
	}{
		{"retried then written", 2, 3, 0, 6},
		{"never written", 10, 0, 3, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			kw, _ := awsbatch.NewKinesisWriter(&kinesisFlaky{failures: tt.failures}, "events", retry)
			fw, _ := awsbatch.NewFirehoseWriter(firehoseOK{}, "failed", retry)
			h := &ingest.Handler{Registry: registry(t), Kinesis: kw, Rejected: fw, Config: ingest.DefaultConfig,
				Logger: logging.New(&buf, "ingest", "firelane-ingest", slog.LevelInfo)}
			if _, err := h.Invoke(invocationContext(t), raw); err != nil {
				t.Fatal(err)
			}
			o := capture(t, "ingest", &buf)
			got := [3]int{o.count("Accepted"), o.count("Failed"), o.count("Retried")}
			if want := [3]int{tt.wantAccepted, tt.wantFailed, tt.wantRetried}; got != want {
				t.Errorf("Accepted/Failed/Retried: got %v, want %v", got, want)
			}
			o.checkBreakdown(t, "Accepted", "Failed", "Retried")
			warns := 0
			for _, l := range o.lines {
				if l["level"] == "WARN" {
					warns++
				}
			}
			if warns != tt.wantFailed {
				t.Errorf("got %d WARN lines, want one per failed event (%d)", warns, tt.wantFailed)
			}
		})
	}
}
