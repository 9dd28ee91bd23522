package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	ftypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/schema"
)

// repoRoot is the repository's root directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// sharedDir returns ../shared relative to the repository root, skipping the test when it is absent.
func sharedDir(t testing.TB) string {
	t.Helper()
	d := filepath.Join(repoRoot(t), "..", "shared")
	if _, err := os.Stat(filepath.Join(d, "workload", "out", "events.ndjson")); err != nil {
		t.Skipf("shared workload not found at %s (expected ../shared beside the repository): %v", d, err)
	}
	return d
}

var (
	regOnce     sync.Once
	defaultReg  *schema.Registry
	defaultErr  error
	wlRegOnce   sync.Once
	workloadReg *schema.Registry
	workloadErr error
)

// registry returns the registry of the repository's embedded schemas.
func registry(t testing.TB) *schema.Registry {
	t.Helper()
	regOnce.Do(func() { defaultReg, defaultErr = schema.Default() })
	if defaultErr != nil {
		t.Fatalf("load embedded schemas: %v", defaultErr)
	}
	return defaultReg
}

// workloadRegistry returns the registry of the shared workload's schemas.
func workloadRegistry(t testing.TB) *schema.Registry {
	t.Helper()
	dir := filepath.Join(sharedDir(t), "workload", "schemas")
	wlRegOnce.Do(func() { workloadReg, workloadErr = schema.LoadDir(dir) })
	if workloadErr != nil {
		t.Fatalf("load workload schemas: %v", workloadErr)
	}
	return workloadReg
}

// fakeKinesis is a function-field fake of the PutRecords API.
type fakeKinesis struct {
	put func(ctx context.Context, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error)
}

func (f *fakeKinesis) PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	return f.put(ctx, in)
}

// fakeFirehose is a function-field fake of the PutRecordBatch API.
type fakeFirehose struct {
	put func(ctx context.Context, in *firehose.PutRecordBatchInput) (*firehose.PutRecordBatchOutput, error)
}

func (f *fakeFirehose) PutRecordBatch(ctx context.Context, in *firehose.PutRecordBatchInput, _ ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	return f.put(ctx, in)
}

// stored is a record a fake acknowledged.
type stored struct {
	Data         []byte
	PartitionKey string
}

// sink collects what the fakes acknowledged.
type sink struct {
	mu   sync.Mutex
	recs []stored
	seq  int
}

func (s *sink) all() []stored {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]stored(nil), s.recs...)
}

// kinesisAck returns a PutRecords that acknowledges every record and keeps it in s, except the
// entries for which fail returns an error code.
func kinesisAck(s *sink, fail func(data []byte) string) func(context.Context, *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
	return func(_ context.Context, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		out := &kinesis.PutRecordsOutput{Records: make([]ktypes.PutRecordsResultEntry, len(in.Records))}
		for i, r := range in.Records {
			if fail != nil {
				if code := fail(r.Data); code != "" {
					out.Records[i] = ktypes.PutRecordsResultEntry{ErrorCode: aws.String(code), ErrorMessage: aws.String("injected")}
					out.FailedRecordCount = aws.Int32(aws.ToInt32(out.FailedRecordCount) + 1)
					continue
				}
			}
			s.seq++
			s.recs = append(s.recs, stored{Data: append([]byte(nil), r.Data...), PartitionKey: aws.ToString(r.PartitionKey)})
			out.Records[i] = ktypes.PutRecordsResultEntry{SequenceNumber: aws.String(fmt.Sprint(s.seq)), ShardId: aws.String("shardId-000000000000")}
		}
		return out, nil
	}
}

func firehoseAck(s *sink, fail func(data []byte) string) func(context.Context, *firehose.PutRecordBatchInput) (*firehose.PutRecordBatchOutput, error) {
	return func(_ context.Context, in *firehose.PutRecordBatchInput) (*firehose.PutRecordBatchOutput, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		out := &firehose.PutRecordBatchOutput{RequestResponses: make([]ftypes.PutRecordBatchResponseEntry, len(in.Records))}
		for i, r := range in.Records {
			if fail != nil {
				if code := fail(r.Data); code != "" {
					out.RequestResponses[i] = ftypes.PutRecordBatchResponseEntry{ErrorCode: aws.String(code), ErrorMessage: aws.String("injected")}
					continue
				}
			}
			s.seq++
			s.recs = append(s.recs, stored{Data: append([]byte(nil), r.Data...)})
			out.RequestResponses[i] = ftypes.PutRecordBatchResponseEntry{RecordId: aws.String(fmt.Sprint(s.seq))}
		}
		return out, nil
	}
}

// fastRetry retries quickly so that fault tests run in milliseconds.
var fastRetry = awsbatch.Retry{MaxAttempts: 4, BaseDelay: 100 * time.Microsecond, MaxDelay: time.Millisecond, Margin: time.Millisecond}

// fixture is a handler wired to fakes.
type fixture struct {
	h        *Handler
	kinesis  *fakeKinesis
	firehose *fakeFirehose
	streamed *sink // what Kinesis acknowledged
	setAside *sink // what the failed-events stream acknowledged
	logs     *bytes.Buffer
}

func newFixture(t testing.TB, reg Validator, cfg Config) *fixture {
	t.Helper()
	f := &fixture{streamed: &sink{}, setAside: &sink{}, logs: &bytes.Buffer{}}
	f.kinesis = &fakeKinesis{put: kinesisAck(f.streamed, nil)}
	f.firehose = &fakeFirehose{put: firehoseAck(f.setAside, nil)}
	kw, err := awsbatch.NewKinesisWriter(f.kinesis, "events", fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	fw, err := awsbatch.NewFirehoseWriter(f.firehose, "failed-events", fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	f.h = &Handler{Registry: reg, Kinesis: kw, Rejected: fw, Config: cfg,
		Logger: slog.New(slog.NewJSONHandler(&syncWriter{w: f.logs}, nil)),
		Now:    func() time.Time { return time.Date(2026, 11, 25, 9, 1, 2, 0, time.UTC) }}
	return f
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// post returns a REST API request that posts body with the given headers.
func post(body string, headers map[string]string) events.APIGatewayProxyRequest {
	return events.APIGatewayProxyRequest{
		HTTPMethod: "POST", Path: "/events", Headers: headers, Body: body,
		RequestContext: events.APIGatewayProxyRequestContext{
			RequestID: "req-1", Stage: "prod", RequestTimeEpoch: 1795597261000,
			Identity: events.APIGatewayRequestIdentity{SourceIP: "198.51.100.23", UserAgent: "test/1.0", APIKeyID: "key-1"},
		},
	}
}

// decodeResponse decodes an answer's body as a Response and checks its invariants: one result per
// event, in index order, and counts that add up.
func decodeResponse(t testing.TB, body string) Response {
	t.Helper()
	var r Response
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("answer is not a Response: %v: %s", err, body)
	}
	checkResponse(t, r)
	return r
}

func checkResponse(t testing.TB, r Response) {
	t.Helper()
	counts := map[string]int{}
	for i, e := range r.Results {
		if e.Index != i {
			t.Fatalf("result %d has index %d", i, e.Index)
		}
		counts[e.Status]++
		if e.Status != StatusAccepted && len(e.Errors) == 0 {
			t.Fatalf("result %d is %s without a reason", i, e.Status)
		}
	}
	if counts[StatusAccepted] != r.Accepted || counts[StatusRejected] != r.Rejected || counts[StatusFailed] != r.Failed ||
		r.Accepted+r.Rejected+r.Failed != len(r.Results) {
		t.Fatalf("counts %d/%d/%d do not match results %v", r.Accepted, r.Rejected, r.Failed, counts)
	}
}

func statuses(r Response) []string {
	out := make([]string, len(r.Results))
	for i, e := range r.Results {
		out[i] = e.Status
	}
	return out
}

// Sample events valid against the repository's embedded schemas.
const (
	pageView = `{"specversion":"1.0","id":"9d8c7b6a-5f4e-4d3c-8b2a-190817161514","source":"/web/shop","type":"com.acme.web.page_view","time":"2026-11-25T09:00:40.004Z","subject":"session-8f14e45f","dataschema":"com.acme.web.page_view/v1","datacontenttype":"application/json","data":{"url":"https://shop.acme.test/cart","session_id":"8f14e45f-ceea-467f-a0f8-7c2c3c1c2d3e"}}`
	sensor   = `{"specversion":"1.0","id":"7e8f9a0b-1c2d-4e3f-8a5b-6c7d8e9f0a1b","source":"/devices/thermostat","type":"com.acme.iot.sensor_reading","time":"2026-11-25T09:00:45.000Z","dataschema":"com.acme.iot.sensor_reading/v1","data":{"device_id":"dev-0a1b2c3d","firmware":"2.4.1","readings":{"temperature_c":21.5},"location":{"lat":52.52,"lon":13.405}}}`
	badURL   = `{"specversion":"1.0","id":"5a5a5a5a-0000-4000-8000-000000000001","source":"/web/shop","type":"com.acme.web.page_view","data":{"url":"not a url","session_id":"123"}}`
)

// attrsOf builds Attrs from id, type, source and subject.
func attrsOf(a [4]string) event.Attrs {
	return event.Attrs{ID: a[0], Type: a[1], Source: a[2], Subject: a[3]}
}

// newKinesisWriterForTest returns a writer to the fixture's fake Kinesis that would retry for a
// long time: only the deadline stops it.
func newKinesisWriterForTest(f *fixture, attempts int) (*awsbatch.KinesisWriter, error) {
	return awsbatch.NewKinesisWriter(f.kinesis, "events", awsbatch.Retry{MaxAttempts: attempts, BaseDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond, Margin: 10 * time.Millisecond})
}
