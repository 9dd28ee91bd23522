package enrich

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/localaws/moto"
)

// jsonValues splits concatenated JSON values, as Firehose writes records one after another.
func jsonValues(t *testing.T, objects [][]byte) []json.RawMessage {
	t.Helper()
	var out []json.RawMessage
	for _, o := range objects {
		dec := json.NewDecoder(bytes.NewReader(o))
		for {
			var v json.RawMessage
			if err := dec.Decode(&v); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("object is not a sequence of JSON values: %v", err)
			}
			out = append(out, v)
		}
	}
	return out
}

// TestMotoKinesisToFirehose puts records into a moto Kinesis stream, reads them back with
// GetRecords, turns them into the Kinesis event Lambda delivers, enriches them and writes them to
// moto Firehose delivery streams, which store them in S3.
func TestMotoKinesisToFirehose(t *testing.T) {
	url := moto.StartMoto(t)
	ctx := t.Context()
	cfg := moto.AWSConfig(url)
	kc, fc := kinesis.NewFromConfig(cfg), firehose.NewFromConfig(cfg)
	const bucket, stream = "firelane-lake", "firelane-events"
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, url+"/"+bucket, nil)
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	for name, prefix := range map[string]string{"firelane-events": "events/", "firelane-failed-events": "failed/"} {
		_, err := fc.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
			DeliveryStreamName: aws.String(name), DeliveryStreamType: fhtypes.DeliveryStreamTypeDirectPut,
			ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
				BucketARN: aws.String("arn:aws:s3:::" + bucket), RoleARN: aws.String("arn:aws:iam::123456789012:role/firehose"), Prefix: aws.String(prefix),
			},
		})
		if err != nil {
			t.Fatalf("create delivery stream %s: %v", name, err)
		}
	}
	if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}

	ingest := func(id, ip string) []byte {
		b, _ := json.Marshal(event.IngestRecord{Format: event.FormatIngest, Event: json.RawMessage(bareEvent(id)), Context: event.ServerContext{
			ReceivedAt: "2026-11-25T09:01:01.000Z", SourceIP: ip,
			UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"}})
		return b
	}
	inputs := [][]byte{ingest("m1", "198.51.100.23"), []byte(bareEvent("m2")), []byte("not json"), ingest("m1", "198.51.100.23"), ingest("m3", "2001:db8::1")}
	entries := make([]kintypes.PutRecordsRequestEntry, len(inputs))
	for i, d := range inputs {
		entries[i] = kintypes.PutRecordsRequestEntry{Data: d, PartitionKey: aws.String("session-1")}
	}
	if _, err := kc.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries}); err != nil {
		t.Fatal(err)
	}
	batch := readBatch(t, ctx, kc, stream)
	if len(batch.Records) != len(inputs) {
		t.Fatalf("got %d records from the stream, want %d", len(batch.Records), len(inputs))
	}

	// First with a missing events delivery stream: the first event is reported and nothing is
	// written, not even the poison record that comes later.
	missing, err := awsbatch.NewFirehoseWriter(fc, "no-such-stream", fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	failedW, err := awsbatch.NewFirehoseWriter(fc, "firelane-failed-events", fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := sharedRegistry()
	if err != nil {
		t.Fatal(err)
	}
	h := &Handler{Registry: reg, Chain: DefaultChain(nowFunc, testKey), Firehose: missing, Failed: failedW, Logger: quietLogger(), Now: nowFunc}
	resp, err := h.Handle(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != batch.Records[0].Kinesis.SequenceNumber {
		t.Fatalf("got %+v, want the first record (%s) reported", resp.BatchItemFailures, batch.Records[0].Kinesis.SequenceNumber)
	}
	if got := objectBodies(moto.S3Objects(t, url, bucket, "")); len(got) != 0 {
		t.Fatalf("got %d objects in S3 after a failed first write, want none", len(got))
	}

	// Then with both streams in place, as Lambda delivers the batch again.
	h.Firehose, err = awsbatch.NewFirehoseWriter(fc, "firelane-events", fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = h.Handle(ctx, batch)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("got %+v, %v; want no failures", resp, err)
	}
	var ids []string
	for _, v := range jsonValues(t, objectBodies(moto.S3Objects(t, url, bucket, "events/"))) {
		var rec struct {
			Enrichment event.Enrichment `json:"enrichment"`
			Event      struct{ ID string }
		}
		if err := json.Unmarshal(v, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Enrichment.Fingerprint != Fingerprint("/test", rec.Event.ID) {
			t.Errorf("event %s has fingerprint %s", rec.Event.ID, rec.Enrichment.Fingerprint)
		}
		if rec.Enrichment.Context != nil && strings.HasSuffix(rec.Enrichment.Context.SourceIP, ".23") {
			t.Errorf("event %s carries the raw source IP %s", rec.Event.ID, rec.Enrichment.Context.SourceIP)
		}
		ids = append(ids, rec.Event.ID)
	}
	if fmt.Sprint(ids) != "[m1 m2 m3]" {
		t.Errorf("events delivery stream holds %v, want [m1 m2 m3] (the duplicate written once)", ids)
	}
	failed := jsonValues(t, objectBodies(moto.S3Objects(t, url, bucket, "failed/")))
	if len(failed) != 1 {
		t.Fatalf("got %d failed events, want 1", len(failed))
	}
	var f event.Failed
	if err := json.Unmarshal(failed[0], &f); err != nil || string(f.Original) != "not json" {
		t.Errorf("got failed event %s, %v", failed[0], err)
	}
}

// readBatch reads every record of the stream's one shard and shapes them as the event Lambda's
// Kinesis event source mapping delivers.
func readBatch(t *testing.T, ctx context.Context, kc *kinesis.Client, stream string) events.KinesisEvent {
	t.Helper()
	shards, err := kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil || len(shards.Shards) != 1 {
		t.Fatalf("list shards: %v", err)
	}
	shard := aws.ToString(shards.Shards[0].ShardId)
	it, err := kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: aws.String(shard), ShardIteratorType: kintypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	out, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:kinesis:us-east-1:123456789012:stream/" + stream
	var ev events.KinesisEvent
	prev := -1
	for _, r := range out.Records {
		seq := aws.ToString(r.SequenceNumber)
		n, err := strconv.Atoi(seq) // moto numbers records with small integers
		if err != nil || n <= prev {
			t.Fatalf("sequence number %q does not follow %d", seq, prev)
		}
		prev = n
		ev.Records = append(ev.Records, events.KinesisEventRecord{
			AwsRegion: "us-east-1", EventID: shard + ":" + seq, EventName: "aws:kinesis:record", EventSource: "aws:kinesis",
			EventSourceArn: arn, EventVersion: "1.0", InvokeIdentityArn: "arn:aws:iam::123456789012:role/enrich",
			Kinesis: events.KinesisRecord{
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: aws.ToTime(r.ApproximateArrivalTimestamp)},
				Data:                        r.Data, EncryptionType: string(r.EncryptionType), KinesisSchemaVersion: "1.0",
				PartitionKey: aws.ToString(r.PartitionKey), SequenceNumber: seq,
			},
		})
	}
	return ev
}

// objectBodies drops the keys of [moto.S3Objects]' answer.
func objectBodies(_ []string, bodies [][]byte) [][]byte { return bodies }
