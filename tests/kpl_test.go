package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/firelane/firelane/internal/kpl"
)

// TestKPLAggregatesToTheLake puts KPL aggregates into moto's Kinesis as a producer using the
// Kinesis Producer Library would (aggregates of 1, 3 and 200 user records, some with explicit hash
// keys, one user record repeated across aggregates, a plain record among them, and an aggregate
// with a wrong MD5), reads the shard back in Lambda's event shape, invokes the enrich bootstrap
// under the runtime emulator, lets the Firehose emulator deliver through the transform bootstrap
// into moto's S3, and proves from the bucket alone that every user record is exactly one lake row
// and the damaged aggregate is one failed-event record holding its bytes.
func TestKPLAggregatesToTheLake(t *testing.T) {
	la := startLocalAWS(t)
	ctx := t.Context()

	// Ingest records of the generated samples, one per type, given ids of their own.
	files, _ := filepath.Glob(filepath.Join(repoRoot(t), "events", "enrich", "kinesis-com.*-v1.json"))
	var templates []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ev events.KinesisEvent
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatal(err)
		}
		templates = append(templates, string(ev.Records[0].Kinesis.Data))
	}
	if len(templates) == 0 {
		t.Fatal("no generated enrich samples under events/enrich")
	}
	n := 0
	userRecord := func(id string) []byte {
		tpl := templates[n%len(templates)]
		n++
		var rec struct {
			Event struct {
				ID string `json:"id"`
			} `json:"event"`
		}
		if err := json.Unmarshal([]byte(tpl), &rec); err != nil || rec.Event.ID == "" {
			t.Fatalf("sample is not an ingest record: %v", err)
		}
		return []byte(strings.Replace(tpl, `"id":"`+rec.Event.ID+`"`, `"id":"`+id+`"`, 1))
	}
	aggregate := func(ids ...string) []byte {
		recs := make([]kpl.Record, len(ids))
		for i, id := range ids {
			recs[i] = kpl.Record{Data: userRecord(id), PartitionKey: []byte("pk-" + id)}
			if i%3 == 2 {
				recs[i].ExplicitHashKey = []byte("85070591730234615865843651857942052864") // 2^126
			}
		}
		return kpl.Aggregate(recs)
	}
	var big []string
	for i := range 200 {
		big = append(big, fmt.Sprintf("kpl-big-%d", i))
	}
	damaged := aggregate("kpl-damaged-0", "kpl-damaged-1")
	damaged[len(damaged)-1] ^= 0xff
	puts := [][]byte{
		aggregate("kpl-one"),
		aggregate("kpl-three-0", "kpl-three-1", "kpl-three-2"),
		userRecord("kpl-plain"),
		aggregate(big...),
		damaged,
		aggregate("kpl-three-1", "kpl-last"), // kpl-three-1 again: written once within the batch
	}
	wantRows := append([]string{"kpl-one", "kpl-three-0", "kpl-three-1", "kpl-three-2", "kpl-plain"}, big...)
	wantRows = append(wantRows, "kpl-last")
	for i, data := range puts {
		if _, err := la.kinesis.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(la.stream), Data: data, PartitionKey: aws.String(fmt.Sprintf("producer-%d", i))}); err != nil {
			t.Fatal(err)
		}
	}

	records := readShard(t, la)
	if len(records) != len(puts) {
		t.Fatalf("stream holds %d records, want %d", len(records), len(puts))
	}
	payload, _ := json.Marshal(events.KinesisEvent{Records: records})
	var resp events.KinesisEventResponse
	if err := json.Unmarshal(la.invoke(t, "EnrichFunction", payload), &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("enrich reported %v with a working Firehose", resp.BatchItemFailures)
	}
	if _, err := la.firehose.FlushAll(ctx); err != nil {
		t.Fatal(err)
	}

	rows := map[string]int{}
	var failed []string // the failed-event records' originals
	for _, key := range listBucket(t, la) {
		for _, l := range readObject(t, la, key) {
			switch {
			case strings.HasPrefix(key, "events/"):
				var row struct {
					EventID string `json:"event_id"`
				}
				if err := json.Unmarshal([]byte(l), &row); err != nil {
					t.Fatalf("%s: row is not JSON: %v", key, err)
				}
				rows[row.EventID]++
			case strings.HasPrefix(key, "failed/stage=enrich/"):
				var f struct {
					Reasons []struct {
						Keyword string `json:"keyword"`
						Message string `json:"message"`
					} `json:"reasons"`
					Original []byte `json:"original"`
				}
				if err := json.Unmarshal([]byte(l), &f); err != nil {
					t.Fatalf("%s: not a failed-event envelope: %v", key, err)
				}
				if len(f.Reasons) == 0 || f.Reasons[0].Keyword != "aggregate" || !strings.Contains(f.Reasons[0].Message, "MD5 does not match") {
					t.Errorf("%s: reasons %+v, want keyword aggregate and the MD5 named", key, f.Reasons)
				}
				failed = append(failed, string(f.Original))
			default:
				t.Errorf("unexpected object %s", key)
			}
		}
	}
	for _, id := range wantRows {
		if rows[id] != 1 {
			t.Errorf("user record %s is %d rows of the lake, want 1", id, rows[id])
		}
	}
	if got, want := len(rows), len(wantRows); got != want {
		var extra []string
		for id := range rows {
			if !slices.Contains(wantRows, id) {
				extra = append(extra, id)
			}
		}
		t.Errorf("lake holds %d events, want %d; not expected: %v", got, want, extra)
	}
	if len(failed) != 1 || failed[0] != string(damaged) {
		t.Errorf("failed/ holds %d records, want the damaged aggregate alone, whole", len(failed))
	}
	t.Logf("%d stream records: %d lake rows, %d set aside", len(records), len(rows), len(failed))
}
