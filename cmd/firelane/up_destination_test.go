package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firelane/firelane/internal/cfn"
	"github.com/firelane/firelane/internal/localaws/eventsource"
	localfirehose "github.com/firelane/firelane/internal/localaws/firehose"
	localkinesis "github.com/firelane/firelane/internal/localaws/kinesis"
	"github.com/firelane/firelane/internal/localaws/lambda"
	"github.com/firelane/firelane/internal/localaws/moto"
)

// failingEnrich stands in for an enrich that fails every invocation as a whole.
type failingEnrich struct{}

func (failingEnrich) Invoke(context.Context, []byte) (lambda.Result, error) {
	return lambda.Result{Err: &lambda.FunctionError{Type: "errorString", Message: "injected failure"}}, nil
}

// discardKey is the key Lambda gives a discarded batch in an S3 on-failure destination
// (https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html):
// aws/lambda/<mapping UUID>/<shard ID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<random UUID>.
var discardKey = regexp.MustCompile(`^aws/lambda/([0-9a-f-]{36})/(shardId-\d{12})/(\d{4})/(\d{2})/(\d{2})/(\d{4})-(\d{2})-(\d{2})T\d{2}\.\d{2}\.\d{2}-[0-9a-f-]{36}$`)

// dirObjects returns the objects under dir, by key.
func dirObjects(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	objs := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		objs[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return objs
}

// bucketObjects returns the objects of a bucket at endpoint, by key.
func bucketObjects(t *testing.T, endpoint, bucket string) map[string][]byte {
	t.Helper()
	c := upS3Client(endpoint)
	list, err := c.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	objs := map[string][]byte{}
	for _, o := range list.Contents {
		obj, err := c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(obj.Body)
		obj.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		objs[aws.ToString(o.Key)] = b
	}
	return objs
}

// TestUpDiscardedBatchesDestination runs up's event source mapping, with the template's settings
// and a failing enrich, into the on-failure destination up makes of the template's bucket: the
// lake bucket is the lake itself (the directory -out, or the bucket STACK-lake at -endpoint), so a
// discarded batch lands in the lake under the key Lambda would give it, where `firelane recover`
// finds it; another bucket is a directory beside the lake.
func TestUpDiscardedBatchesDestination(t *testing.T) {
	tpl, err := cfn.Load(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	esm, err := eventsource.FromTemplate(tpl, "EnrichFunction", "firelane", map[string]string{"EnrichMaxRetries": "0", "EnrichBisectOnError": "false"})
	if err != nil {
		t.Fatal(err)
	}
	other := eventsource.Target{Type: "S3", LogicalID: "OtherBucket", Name: "other", ARN: "arn:aws:s3:::other"}
	tests := []struct {
		name     string
		target   eventsource.Target
		endpoint bool
		objects  func(t *testing.T, lakeDir, endpoint string) map[string][]byte // where the batch must land
	}{
		{"the template's lake bucket", esm.OnFailure, false,
			func(t *testing.T, lake, _ string) map[string][]byte { return dirObjects(t, lake) }},
		{"another bucket", other, false,
			func(t *testing.T, lake, _ string) map[string][]byte { return dirObjects(t, lake+"-other") }},
		{"the template's lake bucket at an endpoint", esm.OnFailure, true,
			func(t *testing.T, _, endpoint string) map[string][]byte {
				return bucketObjects(t, endpoint, "firelane-lake")
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lakeDir := filepath.Join(t.TempDir(), "lake")
			s := &stack{opts: upOptions{stack: "firelane"}, tpl: tpl}
			lake := lakeWriter{ObjectWriter: localfirehose.DirSink{Dir: lakeDir}, at: lakeDir, beside: lakeDir}
			endpoint := ""
			if tc.endpoint {
				endpoint = moto.StartMoto(t)
				s.opts.endpoint = endpoint
				if err := ensureBucket(t.Context(), endpoint, "firelane-lake"); err != nil {
					t.Fatal(err)
				}
				lake = lakeWriter{ObjectWriter: localfirehose.S3Sink{API: upS3Client(endpoint), Bucket: "firelane-lake"}, at: "s3://firelane-lake", beside: lakeDir}
			}
			st := localkinesis.NewStream("firelane-events")
			cfg := esm
			cfg.BatchingWindow = 0
			m := &eventsource.Mapping{Config: cfg, Function: failingEnrich{}, StreamARN: st.ARN(),
				FunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:firelane-enrich",
				Shards:      []eventsource.Shard{eventsource.NewMemoryShard(st, cfg.StartingPosition)},
				Poll:        5 * time.Millisecond, Backoff: func(int) time.Duration { return time.Millisecond }}
			dest, queue, err := s.destination(t.Context(), tc.target, lake)
			if err != nil {
				t.Fatal(err)
			}
			if queue != nil {
				t.Fatalf("got an in-memory queue for %s, want an S3 destination", tc.target.LogicalID)
			}
			m.Destination = dest
			if err := m.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			defer m.Stop()
			data := `{"firelane":"ingest/1","event":{"specversion":"1.0","id":"d-1","source":"/t","type":"com.acme.web.page_view"}}`
			if _, err := st.PutRecords(t.Context(), &kinesis.PutRecordsInput{StreamName: aws.String(st.Name),
				Records: []types.PutRecordsRequestEntry{{PartitionKey: aws.String("k"), Data: []byte(data)}}}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			if left := m.Drain(ctx); left.Pending != 0 || left.Unread != 0 || left.Discarded != 1 {
				t.Fatalf("got %+v after the drain, want 1 record discarded and none left", left)
			}
			objs := tc.objects(t, lakeDir, endpoint)
			var keys []string
			for k := range objs {
				keys = append(keys, k)
			}
			if len(keys) != 1 {
				t.Fatalf("got objects %v, want one", keys)
			}
			k := discardKey.FindStringSubmatch(keys[0])
			if k == nil {
				t.Fatalf("got key %q, want aws/lambda/<mapping UUID>/<shard ID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<UUID>", keys[0])
			}
			if k[1] != m.UUID() || k[2] != localkinesis.ShardID || k[3]+k[4]+k[5] != k[6]+k[7]+k[8] {
				t.Errorf("got key %q, want the mapping's UUID %s, shard %s and one date", keys[0], m.UUID(), localkinesis.ShardID)
			}
			if got, want := dest.(bucketDestination).prefix(m.UUID()), "/aws/lambda/"+m.UUID()+"/"; !strings.HasSuffix(got, want) {
				t.Errorf("got prefix %q, want it to end in %q", got, want)
			}
			var rec eventsource.InvocationRecord
			if err := json.Unmarshal(objs[keys[0]], &rec); err != nil {
				t.Fatal(err)
			}
			var ev events.KinesisEvent
			if err := json.Unmarshal([]byte(rec.Payload), &ev); err != nil || len(ev.Records) != 1 {
				t.Fatalf("got payload %q (%v), want the batch's Kinesis event", rec.Payload, err)
			}
			if got := string(ev.Records[0].Kinesis.Data); got != data {
				t.Errorf("got record %q, want %q", got, data)
			}
			if rec.RequestContext.Condition != eventsource.RetryAttemptsExhausted || rec.KinesisBatchInfo.BatchSize != 1 {
				t.Errorf("got condition %q and batch size %d, want %s and 1", rec.RequestContext.Condition, rec.KinesisBatchInfo.BatchSize, eventsource.RetryAttemptsExhausted)
			}
			// The payload is the event Lambda invoked the function with: data base64, as Kinesis gives it.
			if !strings.Contains(rec.Payload, base64.StdEncoding.EncodeToString([]byte(data))) {
				t.Errorf("payload %q does not hold the record's data in base64", rec.Payload)
			}
		})
	}
}
