package tests

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firelane/firelane/internal/lake"
)

// TestChainAgainstMoto runs the whole pipeline against real AWS APIs on loopback: the ingest
// bootstrap writes to moto's Kinesis, the test reads the shard with GetShardIterator/GetRecords and
// hands the records to the enrich bootstrap in Lambda's Kinesis event shape, enrich writes through
// the Firehose API to the local delivery emulator, which invokes the transform bootstrap and writes
// GZIP objects under the template's prefixes to moto's S3. It then proves from the bucket alone
// that every accepted event is in exactly one object under its partition, every rejected event and
// poison record is under the failed-events prefixes with its reasons, every ProcessingFailed record
// is under the processing-failed prefix, and nothing else is there.
func TestChainAgainstMoto(t *testing.T) {
	la := startLocalAWS(t)
	ctx := t.Context()

	// 1. The edge: every ingest sample through the ingest function.
	accepted := map[string]int{}
	rejected := map[string]int{}
	files, _ := filepath.Glob(filepath.Join(repoRoot(t), "events", "ingest", "*.json"))
	for _, f := range files {
		payload, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var resp events.APIGatewayProxyResponse
		if err := json.Unmarshal(la.invoke(t, "IngestFunction", payload), &resp); err != nil {
			t.Fatal(err)
		}
		var body ingestAnswer
		_ = json.Unmarshal([]byte(resp.Body), &body)
		for _, r := range body.Results {
			switch r.Status {
			case "accepted":
				accepted[r.ID]++
			case "rejected":
				rejected[r.ID]++
			default:
				t.Errorf("%s: event %q ended %q", filepath.Base(f), r.ID, r.Status)
			}
		}
	}
	if len(accepted) == 0 || len(rejected) == 0 {
		t.Fatalf("samples gave %d accepted and %d rejected events; want some of each", len(accepted), len(rejected))
	}

	// 2. Poison records straight into the stream, as a broken producer would write them.
	poison := []string{"not json at all", `{"specversion":"1.0","id":"poison-1"}`}
	for i, p := range poison {
		if _, err := la.kinesis.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(la.stream), Data: []byte(p), PartitionKey: aws.String("poison-" + string(rune('a'+i)))}); err != nil {
			t.Fatal(err)
		}
	}

	// 3. The event source mapping: read the shard, deliver in batches, honour partial failures.
	records := readShard(t, la)
	if want := sumCounts(accepted) + len(poison); len(records) != want {
		t.Fatalf("stream holds %d records, want %d (accepted events and poison)", len(records), want)
	}
	const batchSize = 4
	redeliveries := 0
	for start := 0; start < len(records); {
		end := min(start+batchSize, len(records))
		batch := events.KinesisEvent{Records: records[start:end]}
		payload, _ := json.Marshal(batch)
		var resp events.KinesisEventResponse
		if err := json.Unmarshal(la.invoke(t, "EnrichFunction", payload), &resp); err != nil {
			t.Fatal(err)
		}
		if len(resp.BatchItemFailures) == 0 {
			start = end
			continue
		}
		// Lambda resumes from the lowest failed sequence number; moto's are small integers, so
		// they are compared as numbers, never as strings.
		lowest := -1
		for _, f := range resp.BatchItemFailures {
			for i, r := range batch.Records {
				if !seqEqual(r.Kinesis.SequenceNumber, f.ItemIdentifier) {
					continue
				}
				if lowest < 0 || i < lowest {
					lowest = i
				}
			}
		}
		if lowest < 0 {
			t.Fatalf("batch item failures %v name no record of the batch", resp.BatchItemFailures)
		}
		if redeliveries++; redeliveries > 5 {
			t.Fatalf("enrich kept failing %v", resp.BatchItemFailures)
		}
		start += lowest
	}

	// 4. A direct producer's garbage into the events delivery stream: the transform must fail it.
	fh := firehose.NewFromConfig(la.cfg, func(o *firehose.Options) { o.BaseEndpoint = aws.String(la.firehose.URL()) })
	garbage := []string{"<<not an event>>", `{"firelane":"enriched/9"}`}
	var recs []fhtypes.Record
	for _, g := range garbage {
		recs = append(recs, fhtypes.Record{Data: []byte(g)})
	}
	out, err := fh.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("firelane-events"), Records: recs})
	if err != nil || aws.ToInt32(out.FailedPutCount) != 0 {
		t.Fatalf("PutRecordBatch to the emulator: %v %+v", err, out)
	}

	// 5. Deliver, then read back the bucket.
	if _, err := la.firehose.FlushAll(ctx); err != nil {
		t.Fatal(err)
	}
	lakeRows := map[string]int{}
	failedRecords := map[string][]string{} // prefix kind/stage -> event ids or originals
	var processingFailed []string
	keys := listBucket(t, la)
	for _, key := range keys {
		lines := readObject(t, la, key)
		switch {
		case strings.HasPrefix(key, "events/"):
			for _, l := range lines {
				var row struct {
					EventID   string `json:"event_id"`
					EventType string `json:"event_type"`
				}
				if err := json.Unmarshal([]byte(l), &row); err != nil {
					t.Errorf("%s: row is not JSON: %v", key, err)
					continue
				}
				if want := "events/event_type=" + lake.SafeValue(row.EventType) + "/"; !strings.HasPrefix(key, want) {
					t.Errorf("%s: row of type %s outside %s", key, row.EventType, want)
				}
				lakeRows[row.EventID]++
			}
		case strings.HasPrefix(key, "rejected/stage=ingest/"), strings.HasPrefix(key, "failed/stage=enrich/"):
			kind := key[:strings.Index(key, "/stage=")]
			for _, l := range lines {
				var f struct {
					Kind     string            `json:"kind"`
					EventID  string            `json:"event_id"`
					Reasons  []json.RawMessage `json:"reasons"`
					Original []byte            `json:"original"`
				}
				if err := json.Unmarshal([]byte(l), &f); err != nil {
					t.Errorf("%s: record is not a failed envelope: %v", key, err)
					continue
				}
				if f.Kind != kind || len(f.Reasons) == 0 {
					t.Errorf("%s: kind %q with %d reasons", key, f.Kind, len(f.Reasons))
				}
				id := f.EventID
				if kind == "failed" {
					id = string(f.Original)
				}
				failedRecords[kind] = append(failedRecords[kind], id)
			}
		case strings.HasPrefix(key, "errors/processing-failed/"):
			for _, l := range lines {
				var e struct {
					ErrorCode string `json:"errorCode"`
					RawData   []byte `json:"rawData"`
				}
				if err := json.Unmarshal([]byte(l), &e); err != nil || e.ErrorCode == "" {
					t.Errorf("%s: not a processing-failed record: %v %s", key, err, l)
					continue
				}
				processingFailed = append(processingFailed, string(e.RawData))
			}
		default:
			t.Errorf("unexpected object %s", key)
		}
		if !strings.HasSuffix(key, ".gz") {
			t.Errorf("%s: not GZIP, though the template compresses", key)
		}
	}
	// Samples share some events: one accepted in n requests is n stream records, and enrich writes
	// a repeat within one batch only once (the lake deduplicates on the fingerprint), so such an
	// event is 1 to n rows. Every other event is exactly one row.
	for id, n := range accepted {
		if got := lakeRows[id]; got < 1 || got > n {
			t.Errorf("accepted event %s is in the lake %d times, want 1 to %d", id, got, n)
		}
	}
	if len(lakeRows) != len(accepted) {
		t.Errorf("lake holds %d events, want the %d accepted", len(lakeRows), len(accepted))
	}
	gotRejected := map[string]int{}
	for _, id := range failedRecords["rejected"] {
		gotRejected[id]++
	}
	for id, n := range rejected {
		if gotRejected[id] != n {
			t.Errorf("rejected event %q is under rejected/ %d times, want %d", id, gotRejected[id], n)
		}
	}
	if len(failedRecords["rejected"]) != sumCounts(rejected) {
		t.Errorf("rejected/ holds %d records, want %d", len(failedRecords["rejected"]), sumCounts(rejected))
	}
	sort.Strings(poison)
	gotPoison := append([]string(nil), failedRecords["failed"]...)
	sort.Strings(gotPoison)
	if strings.Join(gotPoison, "\n") != strings.Join(poison, "\n") {
		t.Errorf("failed/ holds %q, want the poison %q", gotPoison, poison)
	}
	sort.Strings(garbage)
	sort.Strings(processingFailed)
	if strings.Join(processingFailed, "\n") != strings.Join(garbage, "\n") {
		t.Errorf("processing-failed holds %q, want %q", processingFailed, garbage)
	}
	t.Logf("%d objects: %d lake rows, %d rejected, %d poison, %d processing-failed", len(keys), len(lakeRows), len(failedRecords["rejected"]), len(gotPoison), len(processingFailed))
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// seqLess compares two Kinesis sequence numbers as the decimal integers they are.
func seqLess(a, b string) bool {
	x, okA := new(big.Int).SetString(a, 10)
	y, okB := new(big.Int).SetString(b, 10)
	if !okA || !okB {
		return a < b
	}
	return x.Cmp(y) < 0
}

// seqEqual reports whether two sequence numbers are the same number.
func seqEqual(a, b string) bool { return !seqLess(a, b) && !seqLess(b, a) }

// readShard reads every record of the stream's shards from TRIM_HORIZON, in Lambda's Kinesis
// event record shape.
func readShard(t *testing.T, la *localAWS) []events.KinesisEventRecord {
	t.Helper()
	ctx := t.Context()
	shards, err := la.kinesis.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(la.stream)})
	if err != nil {
		t.Fatal(err)
	}
	desc, err := la.kinesis.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(la.stream)})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(desc.StreamDescriptionSummary.StreamARN)
	var out []events.KinesisEventRecord
	for _, sh := range shards.Shards {
		it, err := la.kinesis.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName: aws.String(la.stream), ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			t.Fatal(err)
		}
		iter := it.ShardIterator
		for iter != nil {
			got, err := la.kinesis.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range got.Records {
				seq := aws.ToString(r.SequenceNumber)
				out = append(out, events.KinesisEventRecord{
					AwsRegion: "us-east-1", EventID: aws.ToString(sh.ShardId) + ":" + seq, EventName: "aws:kinesis:record",
					EventSource: "aws:kinesis", EventSourceArn: arn, EventVersion: "1.0",
					InvokeIdentityArn: "arn:aws:iam::123456789012:role/firelane-enrich",
					Kinesis: events.KinesisRecord{
						ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: aws.ToTime(r.ApproximateArrivalTimestamp)},
						Data:                        r.Data, KinesisSchemaVersion: "1.0",
						PartitionKey: aws.ToString(r.PartitionKey), SequenceNumber: seq,
					},
				})
			}
			if len(got.Records) == 0 {
				break
			}
			iter = got.NextShardIterator
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return seqLess(out[i].Kinesis.SequenceNumber, out[j].Kinesis.SequenceNumber) })
	return out
}

func listBucket(t *testing.T, la *localAWS) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(la.s3, &s3.ListObjectsV2Input{Bucket: aws.String(la.bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// readObject returns an object's NDJSON lines, un-GZIPped when its key ends in .gz.
func readObject(t *testing.T, la *localAWS, key string) []string {
	t.Helper()
	obj, err := la.s3.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(la.bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Body.Close()
	var r io.Reader = obj.Body
	if strings.HasSuffix(key, ".gz") {
		zr, err := gzip.NewReader(obj.Body)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	var lines []string
	s := bufio.NewScanner(bytes.NewReader(b))
	s.Buffer(nil, 8<<20)
	for s.Scan() {
		if l := strings.TrimSpace(s.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}
