package firehose

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	smithy "github.com/aws/smithy-go"

	"github.com/firelane/firelane/internal/cfn"
	"github.com/firelane/firelane/internal/lake"
)

// memS3 keeps PutObject bodies by key.
type memS3 struct {
	mu   sync.Mutex
	objs map[string][]byte
}

func (m *memS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	b, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.objs == nil {
		m.objs = map[string][]byte{}
	}
	m.objs[aws.ToString(in.Key)] = b
	return &s3.PutObjectOutput{}, nil
}

func (m *memS3) keys() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k := range m.objs {
		out = append(out, k)
	}
	return out
}

func loadTemplate(t *testing.T) cfn.Template {
	_, file, _, _ := runtime.Caller(0)
	tpl, err := cfn.Load(filepath.Join(filepath.Dir(file), "..", "..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func TestFromTemplate(t *testing.T) {
	configs, err := FromTemplate(loadTemplate(t), "firelane", map[string]string{"DeliveryBufferSizeMB": "64", "ProcessorBufferSizeMB": "0.5"})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Config{}
	for _, c := range configs {
		byName[c.Name] = c
	}
	ev, fl := byName["firelane-events"], byName["firelane-failed-events"]
	if ev.Prefix != lake.EventsPrefix || ev.ErrorPrefix != lake.EventsErrorPrefix || !ev.HasTransform || ev.TransformID != "TransformFunction" {
		t.Errorf("events stream: got %+v", ev)
	}
	if ev.BufferBytes != 64<<20 || ev.ProcessorBytes != 1<<19 || !ev.GZIP || ev.Interval != 300*time.Second {
		t.Errorf("events stream buffering: got %d bytes, processor %d, interval %s, gzip %v", ev.BufferBytes, ev.ProcessorBytes, ev.Interval, ev.GZIP)
	}
	if fl.Prefix != lake.FailedPrefix || fl.HasTransform || strings.Join(fl.QueryKeys, ",") != "kind,stage" {
		t.Errorf("failed-events stream: got %+v", fl)
	}
}

// startServer serves one events-like stream whose transform upper-cases records and fails "bad".
func startServer(t *testing.T, bufferBytes int, interval time.Duration) (*Server, *memS3, *firehose.Client) {
	t.Helper()
	store := &memS3{}
	transform := func(_ context.Context, ev events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error) {
		var resp events.KinesisFirehoseResponse
		for _, r := range ev.Records {
			out := events.KinesisFirehoseResponseRecord{RecordID: r.RecordID, Result: events.KinesisFirehoseTransformedStateOk,
				Data: append(bytes.ToUpper(r.Data), '\n'), Metadata: events.KinesisFirehoseResponseRecordMetadata{PartitionKeys: map[string]string{"k": "v"}}}
			if string(r.Data) == "bad" {
				out = events.KinesisFirehoseResponseRecord{RecordID: r.RecordID, Result: events.KinesisFirehoseTransformedStateProcessingFailed, Data: r.Data}
			}
			resp.Records = append(resp.Records, out)
		}
		return resp, nil
	}
	st, err := NewStream(Config{Name: "s", Prefix: "p/k=!{partitionKeyFromLambda:k}/", ErrorPrefix: "errors/!{firehose:error-output-type}/", BufferBytes: bufferBytes, Interval: interval, HasTransform: true, GZIP: true},
		S3Sink{API: store, Bucket: "b", GZIP: true}, transform)
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{Streams: map[string]*Stream{"s": st}}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cfg := aws.Config{Region: "us-east-1", Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, nil
	})}
	client := firehose.NewFromConfig(cfg, func(o *firehose.Options) { o.BaseEndpoint = aws.String(srv.URL()) })
	return srv, store, client
}

func gunzip(t *testing.T, b []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestServerAPIAndFlush(t *testing.T) {
	srv, store, client := startServer(t, 0, 0)
	ctx := t.Context()
	out, err := client.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("s"),
		Records: []types.Record{{Data: []byte("a")}, {Data: []byte("bad")}}})
	if err != nil || aws.ToInt32(out.FailedPutCount) != 0 || len(out.RequestResponses) != 2 || aws.ToString(out.RequestResponses[0].RecordId) == "" {
		t.Fatalf("PutRecordBatch: %v %+v", err, out)
	}
	if _, err := client.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("s"), Record: &types.Record{Data: []byte("c")}}); err != nil {
		t.Fatalf("PutRecord: %v", err)
	}
	_, err = client.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("nope"), Record: &types.Record{Data: []byte("c")}})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ResourceNotFoundException" {
		t.Errorf("unknown stream: got %v, want ResourceNotFoundException", err)
	}
	reports, err := srv.FlushAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r := reports["s"]; r.Delivered != 2 || r.ProcessingFailed != 1 {
		t.Errorf("got %+v, want 2 delivered and 1 processing-failed", r)
	}
	var delivered, failed string
	for _, k := range store.keys() {
		if !strings.HasSuffix(k, ".gz") {
			t.Errorf("%s: no .gz suffix", k)
		}
		switch {
		case strings.HasPrefix(k, "p/k=v/s-1-"):
			delivered += gunzip(t, store.objs[k])
		case strings.HasPrefix(k, "errors/processing-failed/"):
			failed += gunzip(t, store.objs[k])
		default:
			t.Errorf("unexpected object %s", k)
		}
	}
	if delivered != "A\nC\n" {
		t.Errorf("delivered %q, want %q", delivered, "A\nC\n")
	}
	if !strings.Contains(failed, `"rawData":"YmFk"`) {
		t.Errorf("processing-failed record lacks the raw data: %s", failed)
	}
}

// TestFirehoseBuffering checks that the server flushes on its own by size and by interval.
func TestFirehoseBuffering(t *testing.T) {
	tests := []struct {
		name     string
		bytes    int
		interval time.Duration
	}{
		{"by size", 4, time.Hour},
		{"by interval", 1 << 20, 200 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, store, client := startServer(t, tc.bytes, tc.interval)
			if _, err := client.PutRecordBatch(t.Context(), &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("s"),
				Records: []types.Record{{Data: []byte("abcd")}}}); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for len(store.keys()) == 0 {
				if time.Now().After(deadline) {
					t.Fatal("nothing delivered within 5 s")
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

func TestServerRejectsBadBatches(t *testing.T) {
	_, _, client := startServer(t, 0, 0)
	big := make([]byte, maxRecordBytes+1)
	_, err := client.PutRecordBatch(t.Context(), &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("s"), Records: []types.Record{{Data: big}}})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidArgumentException" {
		t.Errorf("oversized record: got %v, want InvalidArgumentException", err)
	}
}
