package shardmap

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/firelane/firelane/internal/localaws/moto"
)

// TestShardsAgainstMoto creates streams in moto_server and checks that every PutRecord lands on the
// shard Map computes for its partition key.
func TestShardsAgainstMoto(t *testing.T) {
	endpoint := moto.StartMoto(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	client := kinesis.NewFromConfig(moto.AWSConfig(endpoint))
	keys := []string{"", "-", "a", "s-0", "s-1", "/clients/web", "/clients/ios", "user@example.com", "ünïcødé", "d23f0824-128b-4f33-8c5c-7fd0a6a3a450"}
	for i := range 40 {
		keys = append(keys, fmt.Sprintf("subject-%d", i))
	}
	for _, n := range []int{1, 2, 3, 5, 8} {
		t.Run(fmt.Sprintf("%d shards", n), func(t *testing.T) {
			ctx := t.Context()
			name := fmt.Sprintf("shardmap-%d", n)
			if _, err := client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(int32(n)),
				StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeProvisioned}}); err != nil {
				t.Fatalf("create stream: %v", err)
			}
			waitActive(t, client, name)
			m := Even(n)
			for _, key := range keys {
				out, err := client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String(orDash(key)), Data: []byte("x")})
				if err != nil {
					t.Fatalf("put record %q: %v", key, err)
				}
				if got, want := aws.ToString(out.ShardId), m.ID(m.Shard(orDash(key))); got != want {
					t.Errorf("key %q: moto put it on %s, Map says %s", key, got, want)
				}
			}
			// The ranges moto reports must give the same answers.
			shards, err := client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name)})
			if err != nil {
				t.Fatalf("list shards: %v", err)
			}
			if len(shards.Shards) != n {
				t.Fatalf("got %d shards, want %d", len(shards.Shards), n)
			}
			for i, s := range shards.Shards {
				start, err := ParseHashKey(aws.ToString(s.HashKeyRange.StartingHashKey))
				if err != nil {
					t.Fatal(err)
				}
				if want := m.Range(i).Start; start != want {
					t.Errorf("shard %d starts at %s, want %s", i, start, want)
				}
			}
		})
	}
}

// orDash stands for a key Kinesis would refuse: PartitionKey must have at least one character.
func orDash(k string) string {
	if k == "" {
		return "-"
	}
	return k
}

func waitActive(t *testing.T, c *kinesis.Client, name string) {
	t.Helper()
	for range 100 {
		out, err := c.DescribeStreamSummary(t.Context(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err == nil && out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("stream %s did not become active", name)
}
