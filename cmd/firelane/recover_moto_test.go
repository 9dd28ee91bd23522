package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/cfn"
	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/localaws/eventsource"
	localfirehose "github.com/firelane/firelane/internal/localaws/firehose"
	"github.com/firelane/firelane/internal/localaws/lambda"
	"github.com/firelane/firelane/internal/localaws/moto"
	"github.com/firelane/firelane/internal/localaws/pipeline"
	"github.com/firelane/firelane/internal/schema"
)

// motoLake is a stack's Kinesis stream and lake bucket in moto, with the shards of the stream
// read as the enrich event source mapping reads them: each delivery goes on from where the last
// one stopped, as the mapping's checkpoint does.
type motoLake struct {
	endpoint, bucket, stream, arn string
	cfg                           aws.Config
	s3                            *s3.Client
	kinesis                       *kinesis.Client
	esm                           eventsource.Config
	shards                        []eventsource.Shard
}

// isolateRecoverEnv gives recover an AWS environment of its own, whatever the caller's: moto's
// test credentials, no FIPS or dual-stack setting that would shape its calls. The services' own
// endpoint variables name an address where nothing listens, so that a call -endpoint did not
// send to moto fails.
func isolateRecoverEnv(t *testing.T) {
	t.Helper()
	moto.IsolateAWS(t)
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "",
		"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:1", "AWS_ENDPOINT_URL_KINESIS": "http://127.0.0.1:1",
		"AWS_USE_FIPS_ENDPOINT": "", "AWS_USE_DUALSTACK_ENDPOINT": "", "AWS_CA_BUNDLE": "",
		"SCHEMAS_DIR": "", "FIRELANE_VALIDATOR": "",
	} {
		t.Setenv(k, v)
	}
}

// newMotoLake creates the stream (two shards, so that partition keys matter) and the bucket,
// named after name, at the moto endpoint.
func newMotoLake(t *testing.T, endpoint, name string) *motoLake {
	t.Helper()
	ctx := t.Context()
	m := &motoLake{endpoint: endpoint, bucket: name + "-lake", stream: name + "-events", cfg: moto.AWSConfig(endpoint)}
	m.s3 = s3.NewFromConfig(m.cfg, func(o *s3.Options) { o.UsePathStyle = true; o.DisableLogOutputChecksumValidationSkipped = true })
	m.kinesis = kinesis.NewFromConfig(m.cfg)
	if _, err := m.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(m.bucket)}); err != nil {
		t.Fatalf("create bucket %s: %v", m.bucket, err)
	}
	if _, err := m.kinesis.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(m.stream), ShardCount: aws.Int32(2)}); err != nil {
		t.Fatalf("create stream %s: %v", m.stream, err)
	}
	if err := kinesis.NewStreamExistsWaiter(m.kinesis).Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(m.stream)}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	sum, err := m.kinesis.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(m.stream)})
	if err != nil {
		t.Fatal(err)
	}
	m.arn = aws.ToString(sum.StreamDescriptionSummary.StreamARN)
	if m.shards, err = eventsource.APIShards(ctx, m.kinesis, m.arn, eventsource.TrimHorizon); err != nil {
		t.Fatal(err)
	}
	tpl, err := cfn.Load(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if m.esm, err = eventsource.FromTemplate(tpl, "EnrichFunction", "firelane", nil); err != nil {
		t.Fatal(err)
	}
	return m
}

// chain returns the stages of the local chain joined by the AWS APIs: ingest writes to the
// moto stream, and both delivery streams (the local Firehose emulation, which invokes the
// transform) write GZIPped objects into the moto bucket, as the template's do.
func (m *motoLake) chain(t *testing.T, reg *schema.Registry) *pipeline.Chain {
	t.Helper()
	c, err := pipeline.New(pipeline.Config{Registry: reg, Sink: localfirehose.S3Sink{API: m.s3, Bucket: m.bucket, GZIP: true}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	kw, err := awsbatch.NewKinesisWriter(awsbatch.NewKinesisClient(m.cfg), m.stream, awsbatch.DefaultRetry)
	if err != nil {
		t.Fatal(err)
	}
	c.Ingest.Kinesis = kw
	return c
}

// deliver runs the event source mapping over what the stream holds past the last delivery,
// invoking c's enrich, then flushes c's delivery streams into the bucket.
func (m *motoLake) deliver(t *testing.T, c *pipeline.Chain) {
	t.Helper()
	mp := &eventsource.Mapping{
		Config: m.esm, Function: lambda.InProcess{Handler: c.Enrich, Name: "firelane-enrich"},
		StreamARN: m.arn, Shards: m.shards, Poll: 20 * time.Millisecond,
	}
	if err := mp.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	if st := mp.Drain(ctx); st.Pending != 0 || st.Unread != 0 || st.Discarded != 0 {
		t.Fatalf("event source mapping: got %+v, want every record done and none discarded", st)
	}
	if _, err := c.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// deliverRows delivers what the stream holds past the last delivery with a chain that validates
// against the schemas in schemaDir, and returns the lake's rows by event id.
func (m *motoLake) deliverRows(t *testing.T, schemaDir string) map[string][]map[string]any {
	t.Helper()
	reg, err := openRegistry(schemaDir)
	if err != nil {
		t.Fatal(err)
	}
	m.deliver(t, m.chain(t, reg))
	return m.rows(t)
}

// streamRecord is one record of the stream and the shard that holds it.
type streamRecord struct {
	shard string
	kinesistypes.Record
}

func (r streamRecord) id() string { return r.shard + "/" + aws.ToString(r.SequenceNumber) }

// since returns the records of now that were not in before.
func since(before, now []streamRecord) []streamRecord {
	old := map[string]bool{}
	for _, r := range before {
		old[r.id()] = true
	}
	var out []streamRecord
	for _, r := range now {
		if !old[r.id()] {
			out = append(out, r)
		}
	}
	return out
}

// streamRecords returns every record the stream holds, read from its oldest, shard by shard.
func (m *motoLake) streamRecords(t *testing.T) []streamRecord {
	t.Helper()
	ctx := t.Context()
	shards, err := m.kinesis.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(m.stream)})
	if err != nil {
		t.Fatal(err)
	}
	var out []streamRecord
	for _, s := range shards.Shards {
		it, err := m.kinesis.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(m.stream), ShardId: s.ShardId, ShardIteratorType: kinesistypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		for iter := it.ShardIterator; iter != nil; {
			got, err := m.kinesis.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range got.Records {
				out = append(out, streamRecord{aws.ToString(s.ShardId), r})
			}
			if len(got.Records) == 0 {
				break
			}
			iter = got.NextShardIterator
		}
	}
	return out
}

// objects returns the decompressed bodies of the bucket's objects under prefix, by key.
func (m *motoLake) objects(t *testing.T, prefix string) map[string][]byte {
	t.Helper()
	keys, bodies := moto.S3Objects(t, m.endpoint, m.bucket, prefix)
	out := map[string][]byte{}
	for i, k := range keys {
		b := bodies[i]
		if strings.HasSuffix(k, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			if b, err = io.ReadAll(zr); err != nil {
				t.Fatalf("%s: %v", k, err)
			}
		}
		out[k] = b
	}
	return out
}

// rows returns the lake's rows by event id.
func (m *motoLake) rows(t *testing.T) map[string][]map[string]any {
	t.Helper()
	rows := map[string][]map[string]any{}
	for k, b := range m.objects(t, "events/") {
		for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
			var row map[string]any
			if err := json.Unmarshal(l, &row); err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			id, _ := row["event_id"].(string)
			rows[id] = append(rows[id], row)
		}
	}
	return rows
}

// receivedAt returns, by event id, the receive time each envelope under prefix says its event
// has: its server context's, else its failed_at (a failed/1 envelope of ingest holds none).
func (m *motoLake) receivedAt(t *testing.T, prefix string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for k, b := range m.objects(t, prefix) {
		for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
			var env struct {
				event.Failed
				Context *event.ServerContext `json:"context"`
			}
			if err := json.Unmarshal(l, &env); err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			out[env.EventID] = env.FailedAt
			if env.Context != nil && env.Context.ReceivedAt != "" {
				out[env.EventID] = env.Context.ReceivedAt
			}
		}
	}
	return out
}

// sendMix sends [recoveryMix] through ingest to the stream, and the poison records straight into
// the stream, then delivers them all into the bucket.
func (m *motoLake) sendMix(t *testing.T, poison ...string) {
	t.Helper()
	reg, err := schema.Default()
	if err != nil {
		t.Fatal(err)
	}
	c := m.chain(t, reg)
	resp, err := c.Send(t.Context(), pipeline.NewRequest(recoveryMix()))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(resp.Body, `"accepted":2`) || !strings.Contains(resp.Body, `"rejected":7`) {
		t.Fatalf("got answer %s, want 2 accepted and 7 rejected", resp.Body)
	}
	for i, p := range poison {
		if _, err := m.kinesis.PutRecord(t.Context(), &kinesis.PutRecordInput{StreamName: aws.String(m.stream), Data: []byte(p), PartitionKey: aws.String(fmt.Sprint("poison-", i))}); err != nil {
			t.Fatal(err)
		}
	}
	m.deliver(t, c)
}

// recover runs firelane recover against the lake's bucket and stream through the moto
// endpoint, with args after those, and returns its output and error.
func (m *motoLake) recover(t *testing.T, client aws.HTTPClient, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	all := append([]string{"-bucket", m.bucket, "-stream", m.stream, "-endpoint", m.endpoint}, args...)
	err := recoverWith(t.Context(), all, recoverEnv{out: &out, http: client})
	return out.String(), err
}

// TestRecoverMoto runs recovery against moto's S3 and Kinesis: the lake is a bucket the chain
// delivered to, recovered events go to the stream, and the event source mapping carries them
// from the stream through enrich and the transform into the bucket again.
func TestRecoverMoto(t *testing.T) {
	isolateRecoverEnv(t)
	endpoint := moto.StartMoto(t)

	t.Run("loop", func(t *testing.T) { testRecoverMotoLoop(t, newMotoLake(t, endpoint, "loop")) })
	t.Run("stream faults", func(t *testing.T) { testRecoverMotoFaults(t, newMotoLake(t, endpoint, "faults")) })
	t.Run("operations commands", func(t *testing.T) { testOperationsRecoverCommands(t, newMotoLake(t, endpoint, "ops")) })
}

// testRecoverMotoLoop: a schema published after its events were rejected brings them back into
// the lake exactly once, the rest stay reported with their reasons, and a second run sends
// nothing.
func testRecoverMotoLoop(t *testing.T, m *motoLake) {
	m.sendMix(t)
	schemaDir := recoverySchemas(t)
	received := m.receivedAt(t, "rejected/stage=ingest/")
	if len(received) != 7 {
		t.Fatalf("got %d rejected envelopes in the bucket, want 7", len(received))
	}
	initial := m.streamRecords(t)
	before := len(initial)

	dry, err := m.recover(t, nil, "-schemas", schemaDir, "-dry-run")
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, dry)
	}
	for _, want := range []string{
		"recover       3  unknown_type",
		"fail          1  unknown_type -> schema type at /data/n",
		"fail          2  schema -> schema required at /data",
		"fail          1  schema -> schema format at /data/url",
		"7 selected: would recover 3, still failing 4, already recovered 0, already in the lake 0",
	} {
		if !strings.Contains(dry, want) {
			t.Errorf("dry run: want %q in\n%s", want, dry)
		}
	}
	if n := len(m.streamRecords(t)); n != before {
		t.Errorf("dry run: got %d records in the stream, want %d (unchanged)", n, before)
	}
	if got := m.objects(t, "recovery/"); len(got) != 0 {
		t.Errorf("dry run: got manifests %v, want none", got)
	}

	// A lake under another prefix of the bucket is another lake: this one holds nothing.
	elsewhere, err := m.recover(t, nil, "-schemas", schemaDir, "-prefix", "elsewhere", "-dry-run")
	if s := summaryOf(elsewhere); err != nil || !strings.Contains(s, "recover: 0 objects, 0 envelopes") {
		t.Errorf("-prefix elsewhere: got %q (%v), want nothing read", s, err)
	}

	out, err := m.recover(t, nil, "-schemas", schemaDir)
	if err != nil {
		t.Fatalf("first run: %v\n%s", err, out)
	}
	if s := summaryOf(out); !strings.Contains(s, "recovered 3, still failing 4, already recovered 0, already in the lake 0, duplicates 0, unsent 0") {
		t.Fatalf("first run: got %q, want 3 recovered and 4 still failing", s)
	}
	for _, want := range []string{"fail          2  schema -> schema required at /data", "fail          1  schema -> schema format at /data/url", "fail          1  unknown_type -> schema type at /data/n"} {
		if !strings.Contains(out, want) {
			t.Errorf("first run: want %q in\n%s", want, out)
		}
	}
	sent := since(initial, m.streamRecords(t))
	if len(sent) != 3 {
		t.Fatalf("first run: got %d new records in the stream, want 3", len(sent))
	}
	for _, r := range sent {
		var rec event.IngestRecord
		if err := json.Unmarshal(r.Data, &rec); err != nil || rec.Format != event.FormatIngest {
			t.Errorf("record sent: got %.80s (%v), want an %s record", r.Data, err, event.FormatIngest)
		}
		// The events have no subject: ingest's default key (subject, else source) is the source.
		if k := aws.ToString(r.PartitionKey); k != "/test" {
			t.Errorf("record sent: got partition key %q, want ingest's, the source /test", k)
		}
	}
	manifests := m.objects(t, "")
	n := 0
	for k := range manifests {
		if strings.Contains(k, "recovery-") {
			n++
			if !strings.HasPrefix(k, "recovery/") {
				t.Errorf("manifest %s: want it under recovery/ only", k)
			}
		}
	}
	if n != 1 {
		t.Errorf("got %d manifests, want 1", n)
	}

	// The stack carries the recovered events from the stream into the lake, with the new schema.
	rows := m.deliverRows(t, schemaDir)
	for _, id := range []string{"rc-1", "rc-2", "rc-3"} {
		if len(rows[id]) != 1 {
			t.Errorf("event %s: got %d rows, want exactly 1", id, len(rows[id]))
			continue
		}
		if got := rows[id][0]["received_at"]; got != received[id] {
			t.Errorf("event %s: got received_at %v, want the original's %s", id, got, received[id])
		}
	}
	for _, id := range []string{"rc-bad", "nosession-1", "nosession-2", "badurl"} {
		if len(rows[id]) != 0 {
			t.Errorf("event %s: got %d rows, want none (it still fails)", id, len(rows[id]))
		}
	}
	for _, id := range []string{"ok-1", "ok-2"} {
		if len(rows[id]) != 1 {
			t.Errorf("event %s: got %d rows, want 1 (accepted at first)", id, len(rows[id]))
		}
	}

	again, err := m.recover(t, nil, "-schemas", schemaDir)
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, again)
	}
	if s := summaryOf(again); !strings.Contains(s, "recovered 0, still failing 4, already recovered 3, already in the lake 0") {
		t.Errorf("second run: got %q, want nothing sent and 3 already recovered", s)
	}
	if n := len(m.streamRecords(t)); n != before+3 {
		t.Errorf("second run: got %d records in the stream, want %d (nothing more sent)", n, before+3)
	}

	// Without the manifests, the partitions in the bucket say the events are there.
	for k := range m.objects(t, "recovery/") {
		if _, err := m.s3.DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: aws.String(m.bucket), Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}
	third, err := m.recover(t, nil, "-schemas", schemaDir)
	if err != nil {
		t.Fatalf("run without manifests: %v\n%s", err, third)
	}
	if s := summaryOf(third); !strings.Contains(s, "recovered 0, still failing 4, already recovered 0, already in the lake 3") {
		t.Errorf("run without manifests: got %q, want the 3 found in their partitions", s)
	}
	if n := len(m.streamRecords(t)); n != before+3 {
		t.Errorf("run without manifests: got %d records in the stream, want %d", n, before+3)
	}
}

// faultyKinesis passes every call to moto but answers for some PutRecords entries itself, with
// the per-entry error Kinesis gives when a shard is over its limit (moto cannot be told to):
// those whose data holds one of failAlways on every attempt, and those holding one of failOnce on
// their first attempt only. It counts the attempts of each.
type faultyKinesis struct {
	next                  http.RoundTripper
	failAlways, failOnce  []string
	mu                    sync.Mutex
	attempts              map[string]int
	injected, forwardedOK int
}

func (f *faultyKinesis) Do(req *http.Request) (*http.Response, error) { return f.RoundTrip(req) }

// putRecordsEntry is one entry of PutRecords' JSON request and answer (awsJson1_1).
type putRecordsEntry struct {
	Data           []byte `json:"Data,omitempty"`
	PartitionKey   string `json:"PartitionKey,omitempty"`
	ErrorCode      string `json:"ErrorCode,omitempty"`
	ErrorMessage   string `json:"ErrorMessage,omitempty"`
	SequenceNumber string `json:"SequenceNumber,omitempty"`
	ShardID        string `json:"ShardId,omitempty"`
}

func (f *faultyKinesis) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("X-Amz-Target") != "Kinesis_20131202.PutRecords" {
		return f.next.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	var in map[string]json.RawMessage
	var recs []putRecordsEntry
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(in["Records"], &recs); err != nil {
		return nil, err
	}
	fail := make([]bool, len(recs))
	var pass []putRecordsEntry
	f.mu.Lock()
	for i, r := range recs {
		k := fmt.Sprintf("%x", sha256.Sum256(r.Data))
		f.attempts[k]++
		for _, id := range f.failAlways {
			fail[i] = fail[i] || bytes.Contains(r.Data, []byte(`"id":"`+id+`"`))
		}
		for _, id := range f.failOnce {
			fail[i] = fail[i] || (f.attempts[k] == 1 && bytes.Contains(r.Data, []byte(`"id":"`+id+`"`)))
		}
		if fail[i] {
			f.injected++
		} else {
			pass = append(pass, r)
		}
	}
	f.mu.Unlock()
	var answered []putRecordsEntry
	failed := 0
	header := http.Header{"Content-Type": {"application/x-amz-json-1.1"}}
	if len(pass) > 0 {
		in["Records"], _ = json.Marshal(pass)
		fwd := req.Clone(req.Context())
		b, _ := json.Marshal(in)
		fwd.Body, fwd.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		fwd.Header.Set("Content-Length", fmt.Sprint(len(b)))
		resp, err := f.next.RoundTrip(fwd)
		if err != nil {
			return nil, err
		}
		rb, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(rb)), int64(len(rb))
			return resp, nil
		}
		var out struct {
			FailedRecordCount int
			Records           []putRecordsEntry
		}
		if err := json.Unmarshal(rb, &out); err != nil {
			return nil, err
		}
		answered, failed = out.Records, out.FailedRecordCount
		f.mu.Lock()
		f.forwardedOK += len(pass) - failed
		f.mu.Unlock()
	}
	merged := make([]putRecordsEntry, len(recs))
	for i := range recs {
		if fail[i] {
			merged[i] = putRecordsEntry{ErrorCode: "ProvisionedThroughputExceededException", ErrorMessage: "Rate exceeded for shard (injected by the test)"}
			failed++
			continue
		}
		merged[i], answered = answered[0], answered[1:]
	}
	b, _ := json.Marshal(map[string]any{"FailedRecordCount": failed, "Records": merged})
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Header: header, Request: req,
		Body: io.NopCloser(bytes.NewReader(b)), ContentLength: int64(len(b)), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
	}, nil
}

// testRecoverMotoFaults: Kinesis refuses one recovered record on every attempt and another on
// the first only. The second is sent on a retry; the first is reported with its error code, kept
// out of the manifest, and sent by the next run.
func testRecoverMotoFaults(t *testing.T, m *motoLake) {
	saved := recoverRetry
	recoverRetry = awsbatch.Retry{MaxAttempts: 4, BaseDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond}
	t.Cleanup(func() { recoverRetry = saved })
	m.sendMix(t)
	schemaDir := recoverySchemas(t)
	before := len(m.streamRecords(t))
	faults := &faultyKinesis{next: http.DefaultTransport.(*http.Transport).Clone(), failAlways: []string{"rc-2"}, failOnce: []string{"rc-3"}, attempts: map[string]int{}}

	out, err := m.recover(t, faults, "-schemas", schemaDir, "-class", "unknown_type")
	if err == nil || !strings.Contains(err.Error(), "1 recovered events were refused by the stream") {
		t.Errorf("faulty run: got error %v, want the refused event named", err)
	}
	if s := summaryOf(out); !strings.Contains(s, "recovered 2, still failing 1, already recovered 0, already in the lake 0, duplicates 0, unsent 1") {
		t.Errorf("faulty run: got %q, want 2 recovered and 1 unsent", s)
	}
	for _, want := range []string{"unsent        1  ProvisionedThroughputExceededException", `unsent event "rc-2"`} {
		if !strings.Contains(out, want) {
			t.Errorf("faulty run: want %q in\n%s", want, out)
		}
	}
	if len(faults.attempts) != 3 {
		t.Errorf("faulty run: got %d distinct records put, want 3", len(faults.attempts))
	}
	for k, n := range faults.attempts {
		if n != 1 && n != 2 && n != recoverRetry.MaxAttempts {
			t.Errorf("record %s…: got %d attempts, want 1, 2 or %d", k[:8], n, recoverRetry.MaxAttempts)
		}
	}
	if faults.injected != recoverRetry.MaxAttempts+1 || faults.forwardedOK != 2 {
		t.Errorf("faulty run: got %d entries refused and %d taken, want %d and 2", faults.injected, faults.forwardedOK, recoverRetry.MaxAttempts+1)
	}
	if n := len(m.streamRecords(t)); n != before+2 {
		t.Errorf("faulty run: got %d new records in the stream, want 2", n-before)
	}
	for k, b := range m.objects(t, "recovery/") {
		var man struct {
			Sent []struct {
				EventID string `json:"event_id"`
			} `json:"sent"`
		}
		if err := json.Unmarshal(b, &man); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, s := range man.Sent {
			ids = append(ids, s.EventID)
		}
		if got := strings.Join(ids, ","); got != "rc-1,rc-3" {
			t.Errorf("manifest %s: got events %s, want rc-1,rc-3 (never the unsent rc-2)", k, got)
		}
	}

	// The next run, the stream healthy again, sends what the faulty one could not.
	again, err := m.recover(t, nil, "-schemas", schemaDir, "-class", "unknown_type")
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, again)
	}
	if s := summaryOf(again); !strings.Contains(s, "recovered 1, still failing 1, already recovered 2, already in the lake 0, duplicates 0, unsent 0") {
		t.Errorf("second run: got %q, want the unsent event sent", s)
	}
	rows := m.deliverRows(t, schemaDir)
	for _, id := range []string{"rc-1", "rc-2", "rc-3"} {
		if len(rows[id]) != 1 {
			t.Errorf("event %s: got %d rows, want exactly 1", id, len(rows[id]))
		}
	}
	third, err := m.recover(t, nil, "-schemas", schemaDir, "-class", "unknown_type")
	if err != nil {
		t.Fatalf("third run: %v\n%s", err, third)
	}
	if s := summaryOf(third); !strings.Contains(s, "recovered 0, still failing 1, already recovered 3") {
		t.Errorf("third run: got %q, want nothing more sent", s)
	}
	if n := len(m.streamRecords(t)); n != before+3 {
		t.Errorf("after three runs: got %d new records in the stream, want 3", n-before)
	}
}

// operationsCommands returns the `firelane recover` lines of the first code block under heading
// in docs/operations.md, split into arguments (without "firelane recover").
func operationsCommands(t *testing.T, heading string) [][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i := strings.Index(doc, heading)
	if i < 0 {
		t.Fatalf("docs/operations.md has no %q", heading)
	}
	doc = doc[i:]
	start := strings.Index(doc, "```sh\n")
	end := strings.Index(doc[start+6:], "```")
	var out [][]string
	for _, l := range strings.Split(doc[start+6:start+6+end], "\n") {
		if f := strings.Fields(l); len(f) > 2 && f[0] == "firelane" && f[1] == "recover" {
			out = append(out, f[2:])
		}
	}
	if len(out) == 0 {
		t.Fatalf("docs/operations.md: no firelane recover command after %q", heading)
	}
	return out
}

// motoArgs points a documented command at the test's bucket, stream, schemas and patch files,
// through the moto endpoint.
func (m *motoLake) motoArgs(t *testing.T, args []string, schemaDir, patchDir string) []string {
	t.Helper()
	out := append([]string(nil), args...)
	for i := 0; i+1 < len(out); i++ {
		switch out[i] {
		case "-bucket":
			out[i+1] = m.bucket
		case "-stream":
			out[i+1] = m.stream
		case "-schemas":
			out[i+1] = schemaDir
		case "-patch":
			typ, file, _ := strings.Cut(out[i+1], "=")
			out[i+1] = typ + "=" + filepath.Join(patchDir, file)
		case "-endpoint", "-lake":
			t.Fatalf("documented command %v: want it for a deployed stack, without %s", args, out[i])
		}
	}
	return append(out, "-endpoint", m.endpoint)
}

// testOperationsRecoverCommands runs the commands that end docs/operations.md's sections on
// rejected events and failed records, in order, against a bucket and stream the chain filled,
// and proves the events they bring back reach the lake once with their original context.
func testOperationsRecoverCommands(t *testing.T, m *motoLake) {
	m.sendMix(t, poisonFailedRecord)
	schemaDir := recoverySchemas(t)
	patchDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(patchDir, "fix.json"), []byte(`[{"op":"add","path":"/source","value":"/web"}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, heading string
		want          []string // the summaries of the commands, in order
	}{
		{"rejected events", "**Rejected events**", []string{
			"7 selected: would recover 3, still failing 4",
			"7 selected: recovered 3, still failing 4",
		}},
		{"failed records", "**Failed records**", []string{
			"1 selected: would recover 1, still failing 0",
			"1 selected: recovered 1, still failing 0",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmds := operationsCommands(t, tt.heading)
			if len(cmds) != len(tt.want) {
				t.Fatalf("got %d commands, want %d", len(cmds), len(tt.want))
			}
			for i, args := range cmds {
				var out bytes.Buffer
				if err := recoverWith(t.Context(), m.motoArgs(t, args, schemaDir, patchDir), recoverEnv{out: &out}); err != nil {
					t.Fatalf("firelane recover %s: %v\n%s", strings.Join(args, " "), err, out.String())
				}
				if s := summaryOf(out.String()); !strings.Contains(s, tt.want[i]) {
					t.Errorf("firelane recover %s: got %q, want %q in it", strings.Join(args, " "), s, tt.want[i])
				}
			}
		})
	}
	rows := m.deliverRows(t, schemaDir)
	if len(rows["px-1"]) != 1 {
		t.Fatalf("recovered failed record: got %d rows, want 1", len(rows["px-1"]))
	}
	row := rows["px-1"][0]
	for k, want := range map[string]string{"received_at": "2026-11-25T09:01:01.000Z", "request_id": "req-poison-1", "source": "/web"} {
		if row[k] != want {
			t.Errorf("recovered failed record: got %s %v, want %s", k, row[k], want)
		}
	}
	for _, id := range []string{"rc-1", "rc-2", "rc-3"} {
		if len(rows[id]) != 1 {
			t.Errorf("recovered rejected event %s: got %d rows, want 1", id, len(rows[id]))
		}
	}
}
