package transform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/localaws/moto"
)

// fakeFirehose is a PutRecordBatch that acknowledges records unless fail says otherwise.
type fakeFirehose struct {
	mu    sync.Mutex
	calls int
	acked [][]byte
	// fail returns the error code for the i-th record of call n (from 1), or "".
	fail func(n, i int) string
	// stream is the delivery stream name every call must name.
	stream string
}

func (f *fakeFirehose) PutRecordBatch(_ context.Context, in *firehose.PutRecordBatchInput, _ ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if got := aws.ToString(in.DeliveryStreamName); got != f.stream {
		return nil, fmt.Errorf("put to stream %q, want %q", got, f.stream)
	}
	out := &firehose.PutRecordBatchOutput{}
	for i, r := range in.Records {
		if code := f.fail(f.calls, i); code != "" {
			out.RequestResponses = append(out.RequestResponses, types.PutRecordBatchResponseEntry{ErrorCode: aws.String(code), ErrorMessage: aws.String("injected")})
			out.FailedPutCount = aws.Int32(aws.ToInt32(out.FailedPutCount) + 1)
			continue
		}
		f.acked = append(f.acked, bytes.Clone(r.Data))
		out.RequestResponses = append(out.RequestResponses, types.PutRecordBatchResponseEntry{RecordId: aws.String(fmt.Sprint(len(f.acked)))})
	}
	return out, nil
}

var fastRetry = awsbatch.Retry{MaxAttempts: 5, BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond}

// largeEvent returns an event whose rows need more than one response: n records of about size
// bytes of data each, with an invalid record every invalidEvery records (none when 0).
func largeEvent(n, size, invalidEvery int) events.KinesisFirehoseEvent {
	data := make([][]byte, n)
	for i := range data {
		if invalidEvery > 0 && i%invalidEvery == 5 {
			data[i] = []byte(fmt.Sprintf("not an event %d %s", i, strings.Repeat("z", size)))
			continue
		}
		data[i] = []byte(fmt.Sprintf(`{"specversion":"1.0","id":"e-%d","source":"/s","type":"com.example.big","data":{"blob":%q}}`, i, strings.Repeat("x", size)))
	}
	return firehoseEvent(time.UnixMilli(1795597205330), data...)
}

// checkOverflow asserts that the overflow records were answered Dropped and acknowledged with
// exactly their original data, in order, and that every other record was answered in full.
func checkOverflow(t *testing.T, in events.KinesisFirehoseEvent, resp events.KinesisFirehoseResponse, acked [][]byte) {
	t.Helper()
	var dropped [][]byte
	for i, r := range resp.Records {
		if r.Result == ResultDropped {
			dropped = append(dropped, in.Records[i].Data)
		}
	}
	if len(dropped) == 0 {
		t.Fatal("no record overflowed: the test batch is too small")
	}
	if len(dropped) != len(acked) {
		t.Fatalf("%d records answered Dropped, %d acknowledged by Firehose", len(dropped), len(acked))
	}
	// Retried entries are acknowledged later than the others: compare without order.
	sortBytes := func(s [][]byte) { sort.Slice(s, func(i, j int) bool { return bytes.Compare(s[i], s[j]) < 0 }) }
	acked = slices.Clone(acked)
	sortBytes(dropped)
	sortBytes(acked)
	for i := range dropped {
		if !bytes.Equal(dropped[i], acked[i]) {
			t.Fatalf("re-ingested record %d differs from the original", i)
		}
	}
}

func TestOverflowIsReingested(t *testing.T) {
	in := largeEvent(130, 50_000, 17)
	payload := marshal(t, in)
	for _, tc := range []struct {
		name string
		fail func(n, i int) string
	}{
		{"all acknowledged", func(int, int) string { return "" }},
		{"some entries fail, then succeed", func(n, i int) string {
			if n <= 2 && i%2 == 0 {
				return "ServiceUnavailableException"
			}
			return ""
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeFirehose{fail: tc.fail, stream: "events"}
			var logs bytes.Buffer
			h := quietHandler()
			h.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
			h.Firehose, h.Retry = fake, fastRetry
			out, err := h.Invoke(t.Context(), payload)
			if err != nil {
				t.Fatal(err)
			}
			resp := checkContract(t, in, out)
			checkOverflow(t, in, resp, fake.acked)
			// The invocation's summary counts the re-ingested records and the retries it took.
			var summary struct {
				Reingested, Retried, Written int
			}
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, `"msg":"invocation"`) {
					if err := json.Unmarshal([]byte(l), &summary); err != nil {
						t.Fatal(err)
					}
				}
			}
			if summary.Reingested != len(fake.acked) || summary.Written != len(fake.acked) || (tc.name == "all acknowledged") != (summary.Retried == 0) {
				t.Errorf("summary counts %+v for %d re-ingested records", summary, len(fake.acked))
			}
			if len(out) < MaxResponseBytes-100_000 {
				t.Errorf("response is %d bytes: records were re-ingested that fitted", len(out))
			}
		})
	}
}

func TestOverflowNeverLosesRecords(t *testing.T) {
	in := largeEvent(130, 50_000, 17)
	payload := marshal(t, in)
	for _, tc := range []struct {
		name  string
		setup func(h *Handler)
		ev    func(ev *events.KinesisFirehoseEvent)
	}{
		{"no Firehose client", func(h *Handler) {}, nil},
		{"entries keep failing", func(h *Handler) {
			h.Firehose = &fakeFirehose{stream: "events", fail: func(n, i int) string { return "ServiceUnavailableException" }}
		}, nil},
		{"one entry rejected for good", func(h *Handler) {
			h.Firehose = &fakeFirehose{stream: "events", fail: func(n, i int) string {
				if i == 3 {
					return "InvalidArgumentException"
				}
				return ""
			}}
		}, nil},
		{"Kinesis source", func(h *Handler) {
			h.Firehose = &fakeFirehose{stream: "events", fail: func(int, int) string { return "" }}
		},
			func(ev *events.KinesisFirehoseEvent) {
				ev.SourceKinesisStreamArn = "arn:aws:kinesis:us-east-1:123456789012:stream/s"
			}},
		{"no stream name in the ARN", func(h *Handler) {
			h.Firehose = &fakeFirehose{stream: "events", fail: func(int, int) string { return "" }}
		},
			func(ev *events.KinesisFirehoseEvent) { ev.DeliveryStreamArn = "aws:lambda:events" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := quietHandler()
			h.Retry = fastRetry
			tc.setup(h)
			p := payload
			if tc.ev != nil {
				ev := in
				tc.ev(&ev)
				p = marshal(t, ev)
			}
			out, err := h.Invoke(t.Context(), p)
			if !errors.Is(err, ErrOverflow) {
				t.Fatalf("got %d bytes, %v; want ErrOverflow, so that Firehose retries the invocation", len(out), err)
			}
		})
	}
}

func TestSmallBatchNeedsNoClient(t *testing.T) {
	in := largeEvent(20, 1000, 17)
	out, err := quietHandler().Invoke(t.Context(), marshal(t, in))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range checkContract(t, in, out).Records {
		if r.Result == ResultDropped {
			t.Fatal("a record was dropped from a batch that fits")
		}
	}
}

func TestStreamName(t *testing.T) {
	for _, tc := range []struct{ arn, want string }{
		{testARN, "events"},
		{"arn:aws-cn:firehose:cn-north-1:123456789012:deliverystream/a-b_c.d", "a-b_c.d"},
		{"aws:lambda:events", ""},
		{"arn:aws:firehose:us-east-1:123456789012:deliverystream/", ""},
		{"arn:aws:firehose:us-east-1:123456789012:deliverystream/a/b", ""},
	} {
		got, err := StreamName(tc.arn)
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("StreamName(%q) = %q, %v; want %q", tc.arn, got, err, tc.want)
		}
	}
}

// TestOverflowAgainstMoto re-ingests the overflow of a large batch into a delivery stream of
// moto_server, started on loopback, and reads the records back from the S3 bucket it delivers to.
func TestOverflowAgainstMoto(t *testing.T) {
	endpoint := moto.StartMoto(t)
	ctx := t.Context()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, endpoint+"/lake", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("create bucket: %v %v", resp, err)
	}
	client := firehose.New(firehose.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing"}, nil
		}),
	})
	if _, err := client.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String("events"),
		ExtendedS3DestinationConfiguration: &types.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::lake"), RoleARN: aws.String("arn:aws:iam::123456789012:role/firehose"),
		},
	}); err != nil {
		t.Fatalf("create delivery stream: %v", err)
	}

	in := largeEvent(130, 50_000, 0)
	h := quietHandler()
	h.Firehose, h.Retry = client, fastRetry
	out, err := h.Invoke(ctx, marshal(t, in))
	if err != nil {
		t.Fatal(err)
	}
	resp := checkContract(t, in, out)

	var want []string
	for i, r := range resp.Records {
		if r.Result == ResultDropped {
			want = append(want, string(in.Records[i].Data))
		}
	}
	var got []string
	keys, bodies := moto.S3Objects(t, endpoint, "lake", "")
	for i, key := range keys {
		body := bodies[i]
		dec := json.NewDecoder(bytes.NewReader(body))
		for dec.More() { // Firehose concatenates records, each a JSON object here
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("object %s: %v", key, err)
			}
			got = append(got, string(v))
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	if len(want) == 0 || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("S3 holds %d records, want the %d overflow records", len(got), len(want))
	}
}
