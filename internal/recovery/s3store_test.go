package recovery

import (
	"bytes"
	"compress/gzip"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/localaws/moto"
)

// countingS3 passes every call to a real S3 client and counts them.
type countingS3 struct {
	S3API
	mu         sync.Mutex
	lists      int
	gets, puts []string
}

func (c *countingS3) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	c.mu.Lock()
	c.lists++
	c.mu.Unlock()
	return c.S3API.ListObjectsV2(ctx, in, opts...)
}

func (c *countingS3) GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	c.mu.Lock()
	c.gets = append(c.gets, aws.ToString(in.Key))
	c.mu.Unlock()
	return c.S3API.GetObject(ctx, in, opts...)
}

func (c *countingS3) PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	c.mu.Lock()
	c.puts = append(c.puts, aws.ToString(in.Key))
	c.mu.Unlock()
	return c.S3API.PutObject(ctx, in, opts...)
}

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestS3Store runs the store against moto's S3: a lake under a prefix of a bucket that holds
// other things too.
func TestS3Store(t *testing.T) {
	moto.IsolateAWS(t)
	endpoint := moto.StartMoto(t)
	ctx := t.Context()
	client := s3.NewFromConfig(moto.AWSConfig(endpoint), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("lake")}); err != nil {
		t.Fatal(err)
	}
	part := "events/event_type=com.acme.t/event_version=1/year=2026/month=11/day=25/hour=09/"
	objects := map[string][]byte{
		"other/readme.txt":           []byte("not the lake's"),
		"team/lake/" + part:          nil, // a folder placeholder, as the console makes
		"team/lake/" + part + "a.gz": gz(t, `{"fingerprint":"f1"}`+"\n"),
		"team/lake/" + part + "b.gz": gz(t, `{"fingerprint":"f2"}`+"\n"),
		"team/lake/" + part + "c.gz": gz(t, `{"event_id":"e3","source":"/s"}`+"\n"),
		"team/lake/" + strings.Replace(part, "hour=09", "hour=10", 1) + "d.gz": gz(t, `{"fingerprint":"f4"}`+"\n"),
		"team/lake/rejected/stage=ingest/2026/11/25/09/r.gz":                   gz(t, "{}\n"),
		"team/lakehouse/events/x.gz":                                           gz(t, "{}\n"),
	}
	for k, b := range objects {
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lake"), Key: aws.String(k), Body: bytes.NewReader(b)}); err != nil {
			t.Fatal(err)
		}
	}
	api := &countingS3{S3API: client}
	store, err := NewS3Store(api, "lake", "/team/lake")
	if err != nil {
		t.Fatal(err)
	}
	if store.Prefix != "team/lake/" {
		t.Errorf("got prefix %q, want team/lake/", store.Prefix)
	}
	store.MaxKeys = 2

	t.Run("list pages", func(t *testing.T) {
		api.lists = 0
		keys, err := store.List(ctx, "events/")
		if err != nil {
			t.Fatal(err)
		}
		want := []string{part + "a.gz", part + "b.gz", part + "c.gz", strings.Replace(part, "hour=09", "hour=10", 1) + "d.gz"}
		if strings.Join(keys, " ") != strings.Join(want, " ") {
			t.Errorf("got keys %v, want %v (the lake's own, without the placeholder)", keys, want)
		}
		// 5 keys under the prefix (the placeholder included), 2 a page.
		if api.lists != 3 {
			t.Errorf("got %d ListObjectsV2 calls, want 3 pages of at most 2", api.lists)
		}
	})

	t.Run("one partition read", func(t *testing.T) {
		api.gets = nil
		x := newLakeIndex(store)
		for _, tt := range []struct {
			name, fp string
			want     bool
		}{
			{"row with a fingerprint", "f1", true},
			{"row with only id and source", event.Fingerprint("/s", "e3"), true},
			{"in another hour's partition", "f4", false},
		} {
			got, err := x.has(ctx, SentEvent{Fingerprint: tt.fp, EventType: "com.acme.t", EventVersion: 1, ReceivedAt: "2026-11-25T09:30:00Z"})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
			}
		}
		if len(api.gets) != 3 {
			t.Errorf("got objects read %v, want the 3 of the one partition, once", api.gets)
		}
		for _, k := range api.gets {
			if !strings.HasPrefix(k, "team/lake/"+part) {
				t.Errorf("read %s, outside the event's partition", k)
			}
		}
	})

	t.Run("get and put", func(t *testing.T) {
		b, err := store.Get(ctx, "rejected/stage=ingest/2026/11/25/09/r.gz")
		if err != nil {
			t.Fatal(err)
		}
		if got, err := decompress(b); err != nil || string(got) != "{}\n" {
			t.Errorf("got %q (%v), want the object as stored, GZIP", got, err)
		}
		if _, err := store.Get(ctx, "rejected/none.gz"); err == nil || !strings.Contains(err.Error(), "s3://lake/team/lake/rejected/none.gz") {
			t.Errorf("missing object: got %v, want an error naming it", err)
		}
		keys, err := writeManifest(ctx, store, Manifest{Format: FormatManifest, Sent: []SentEvent{{Fingerprint: "f9"}}}, time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 1 || !strings.HasPrefix(keys[0], "recovery/2026/11/25/10/") || api.puts[len(api.puts)-1] != "team/lake/"+keys[0] {
			t.Errorf("got manifest %v put as %v, want one under team/lake/recovery/", keys, api.puts)
		}
		done, err := readManifests(ctx, store)
		if err != nil || !done["f9"] || len(done) != 1 {
			t.Errorf("got manifests' fingerprints %v (%v), want f9", done, err)
		}
		long := strings.Repeat("k", maxKeyBytes)
		if err := store.Put(ctx, long, []byte("{}")); err == nil || !strings.Contains(err.Error(), "at most 1024") {
			t.Errorf("long key: got %v, want S3's key limit", err)
		}
	})
}

func TestNewS3Store(t *testing.T) {
	tests := []struct {
		name, bucket, prefix, want, err string
	}{
		{"bucket root", "b", "", "", ""},
		{"prefix gets its slash", "b", "lake", "lake/", ""},
		{"leading slash dropped", "b", "/lake/", "lake/", ""},
		{"no bucket", "", "lake", "", "no bucket"},
		{"prefix too long", "b", strings.Repeat("p", maxKeyBytes), "", "no room"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewS3Store(nil, tt.bucket, tt.prefix)
			switch {
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("got error %v, want %q", err, tt.err)
			case tt.err == "" && err != nil:
				t.Errorf("got error %v, want none", err)
			case tt.err == "" && s.Prefix != tt.want:
				t.Errorf("got prefix %q, want %q", s.Prefix, tt.want)
			}
		})
	}
}
