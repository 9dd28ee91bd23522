package firehose

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/google/uuid"

	"github.com/firelane/firelane/internal/lake"
)

// Sink receives the objects a delivery stream writes, keyed as in S3.
type Sink interface {
	Put(ctx context.Context, key string, body []byte) error
}

// DirSink writes objects as files under Dir, the S3 key being the relative path.
type DirSink struct{ Dir string }

// Put implements [Sink].
func (d DirSink) Put(_ context.Context, key string, body []byte) error {
	p := filepath.Join(d.Dir, filepath.FromSlash(key))
	if rel, err := filepath.Rel(d.Dir, p); err != nil || strings.HasPrefix(rel, "..") {
		return fmt.Errorf("object key %q escapes %s", key, d.Dir)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("write object %s: %w", key, err)
	}
	if err := os.WriteFile(p, body, 0o644); err != nil {
		return fmt.Errorf("write object %s: %w", key, err)
	}
	return nil
}

// TransformFunc is a Firehose data-transformation function.
type TransformFunc func(ctx context.Context, ev events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error)

// Delivery is an in-memory Firehose delivery stream with an S3 destination. It implements the
// PutRecordBatch method that the writers use; [Delivery.Flush] delivers what is buffered.
type Delivery struct {
	Name        string
	Prefix      string // S3 prefix, with Firehose's !{...} expressions
	ErrorPrefix string // S3 error output prefix
	// Transform is the Lambda processor; nil means none. With a transform the prefix takes its
	// partition keys from the response (partitionKeyFromLambda); without one they are read from
	// the top-level members of each JSON record named by QueryKeys (partitionKeyFromQuery).
	Transform TransformFunc
	QueryKeys []string
	// ProcessorBufferBytes bounds the data of one transform invocation, as the processor's buffer
	// size hint does (1 MiB by default).
	ProcessorBufferBytes int
	// MaxActivePartitions bounds the distinct prefixes one buffer (one flush) may write, as
	// Firehose's active-partition quota does (500 by default, which 0 means). Records for further
	// partitions go under the error prefix as partitioning-failed.
	MaxActivePartitions int
	Sink                Sink
	Now                 func() time.Time

	// Conversion, when set, is the stream's record format conversion: each delivered object is
	// written as Parquet, and records that do not fit its table go under the error prefix as
	// format-conversion-failed.
	Conversion *Conversion

	mu     sync.Mutex
	buf    []buffered
	nextID int
}

type buffered struct {
	id      string
	data    []byte
	arrival time.Time
}

// Report says what one flush delivered.
type Report struct {
	Records          int            // records taken from the buffer
	Delivered        int            // records written under the delivery prefix
	Dropped          int            // records the transform dropped
	ProcessingFailed int            // records written under the processing-failed error prefix
	OtherFailed      int            // records written under another error prefix (partitioning-failed, format-conversion-failed)
	Objects          []string       // keys of the objects written
	ByPrefix         map[string]int // records per delivery prefix
}

// ARN returns the delivery stream's ARN, as Firehose passes it to the transform.
func (d *Delivery) ARN() string {
	return "arn:aws:firehose:us-east-1:123456789012:deliverystream/" + d.Name
}

// PutRecordBatch buffers the records and acknowledges every one of them.
func (d *Delivery) PutRecordBatch(ctx context.Context, in *firehose.PutRecordBatchInput, _ ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	if aws.ToString(in.DeliveryStreamName) != d.Name {
		return nil, fmt.Errorf("ResourceNotFoundException: delivery stream %s not found", aws.ToString(in.DeliveryStreamName))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	out := &firehose.PutRecordBatchOutput{RequestResponses: make([]types.PutRecordBatchResponseEntry, len(in.Records))}
	now := d.now()
	for i, r := range in.Records {
		d.nextID++
		id := fmt.Sprintf("%056d", d.nextID)
		d.buf = append(d.buf, buffered{id: id, data: append([]byte(nil), r.Data...), arrival: now})
		out.RequestResponses[i] = types.PutRecordBatchResponseEntry{RecordId: aws.String(id)}
	}
	out.FailedPutCount = aws.Int32(0)
	return out, nil
}

func (d *Delivery) now() time.Time {
	if d.Now != nil {
		return d.Now().UTC()
	}
	return time.Now().UTC()
}

// Buffered returns the number of records waiting for the next flush.
func (d *Delivery) Buffered() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.buf)
}

// Flush delivers every buffered record: through the transform when there is one, then to the
// sink under the expanded prefixes. Records the transform re-ingests into this stream during the
// flush are delivered by the next flush.
func (d *Delivery) Flush(ctx context.Context) (Report, error) {
	d.mu.Lock()
	recs := d.buf
	d.buf = nil
	d.mu.Unlock()
	rep := Report{Records: len(recs), ByPrefix: map[string]int{}}
	objects := map[string]*bytes.Buffer{}
	var order []string
	add := func(prefix string, data []byte) {
		b, ok := objects[prefix]
		if !ok {
			b = &bytes.Buffer{}
			objects[prefix] = b
			order = append(order, prefix)
		}
		b.Write(data)
	}
	failRecord := func(r buffered, errType string, rec []byte) error {
		p, err := lake.Expand(d.ErrorPrefix, nil, errType, r.arrival)
		if err != nil {
			return fmt.Errorf("expand error prefix of %s: %w", d.Name, err)
		}
		add(p, rec)
		if errType == "processing-failed" {
			rep.ProcessingFailed++
		} else {
			rep.OtherFailed++
		}
		return nil
	}
	fail := func(r buffered, errType, code, msg string) error {
		return failRecord(r, errType, errorRecord(r, code, msg, d.now()))
	}
	deliver := func(r buffered, data []byte, keys map[string]string) error {
		p, err := lake.Expand(d.Prefix, keys, "", r.arrival)
		if err != nil {
			return fail(r, "partitioning-failed", "DynamicPartitioning.MetadataExtractionFailed", err.Error())
		}
		if d.Conversion != nil {
			if rec := d.Conversion.Failure(data, r.arrival, d.now()); rec != nil {
				return failRecord(r, FormatConversionFailed, rec)
			}
		}
		if _, open := rep.ByPrefix[p]; !open && len(rep.ByPrefix) >= d.maxActivePartitions() {
			return fail(r, "partitioning-failed", "DynamicPartitioning.ActivePartitionsLimitExceeded",
				fmt.Sprintf("the buffer already has %d active partitions", len(rep.ByPrefix)))
		}
		add(p, data)
		rep.Delivered++
		rep.ByPrefix[p]++
		return nil
	}
	for _, batch := range d.invocations(recs) {
		if d.Transform == nil {
			for _, r := range batch {
				keys, err := queryKeys(r.data, d.QueryKeys)
				if err != nil {
					if err := fail(r, "partitioning-failed", "DynamicPartitioning.MetadataExtractionFailed", err.Error()); err != nil {
						return rep, err
					}
					continue
				}
				if err := deliver(r, r.data, keys); err != nil {
					return rep, err
				}
			}
			continue
		}
		resp, err := d.invoke(ctx, batch)
		if err != nil {
			for _, r := range batch {
				if err := fail(r, "processing-failed", "Lambda.FunctionError", err.Error()); err != nil {
					return rep, err
				}
			}
			continue
		}
		for i, r := range batch {
			out := resp.Records[i]
			switch out.Result {
			case events.KinesisFirehoseTransformedStateOk:
				err = deliver(r, out.Data, out.Metadata.PartitionKeys)
			case events.KinesisFirehoseTransformedStateDropped:
				rep.Dropped++
			default:
				err = fail(r, "processing-failed", "Lambda.ProcessingFailed", "The Lambda function returned a ProcessingFailed result.")
			}
			if err != nil {
				return rep, err
			}
		}
	}
	stamp := d.now()
	for _, p := range order {
		key, body := p+objectName(d.Name, stamp), objects[p].Bytes()
		if _, delivered := rep.ByPrefix[p]; delivered && d.Conversion != nil {
			var err error
			if key, body, err = d.Conversion.Object(key, body); err != nil {
				return rep, err
			}
		}
		if err := d.Sink.Put(ctx, key, body); err != nil {
			return rep, err
		}
		rep.Objects = append(rep.Objects, key)
	}
	sort.Strings(rep.Objects)
	return rep, nil
}

// maxActivePartitions is Firehose's default active-partition quota unless the stream sets one.
func (d *Delivery) maxActivePartitions() int {
	if d.MaxActivePartitions > 0 {
		return d.MaxActivePartitions
	}
	return lake.MaxActivePartitions
}

// invocations splits records into transform invocations of at most ProcessorBufferBytes of data.
func (d *Delivery) invocations(recs []buffered) [][]buffered {
	limit := d.ProcessorBufferBytes
	if limit <= 0 {
		limit = 1 << 20
	}
	var out [][]buffered
	var cur []buffered
	size := 0
	for _, r := range recs {
		if len(cur) > 0 && size+len(r.data) > limit {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, r)
		size += len(r.data)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// invoke calls the transform and checks the response as Firehose does: one result per record, the
// same record ids in the same order, a known result and, for Ok, data.
func (d *Delivery) invoke(ctx context.Context, batch []buffered) (events.KinesisFirehoseResponse, error) {
	ev := events.KinesisFirehoseEvent{InvocationID: uuid.NewString(), DeliveryStreamArn: d.ARN(), Region: "us-east-1"}
	for _, r := range batch {
		ev.Records = append(ev.Records, events.KinesisFirehoseEventRecord{
			RecordID: r.id, ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: r.arrival}, Data: r.data,
		})
	}
	resp, err := d.Transform(ctx, ev)
	if err != nil {
		return resp, fmt.Errorf("transform failed: %w", err)
	}
	if len(resp.Records) != len(batch) {
		return resp, fmt.Errorf("transform returned %d records for %d", len(resp.Records), len(batch))
	}
	for i, r := range resp.Records {
		if r.RecordID != batch[i].id {
			return resp, fmt.Errorf("transform returned record id %q where %q was expected", r.RecordID, batch[i].id)
		}
		switch r.Result {
		case events.KinesisFirehoseTransformedStateOk, events.KinesisFirehoseTransformedStateDropped, events.KinesisFirehoseTransformedStateProcessingFailed:
		default:
			return resp, fmt.Errorf("transform returned result %q for record %s", r.Result, r.RecordID)
		}
	}
	return resp, nil
}

// queryKeys reads the named top-level members of a JSON record, as a JQ query such as
// {kind: .kind} would.
func queryKeys(data []byte, names []string) (map[string]string, error) {
	if len(names) == 0 {
		return nil, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, fmt.Errorf("record is not a JSON object")
	}
	keys := map[string]string{}
	for _, n := range names {
		var s string
		if err := json.Unmarshal(obj[n], &s); err != nil || s == "" {
			return nil, fmt.Errorf("record has no string member %q", n)
		}
		keys[n] = lake.SafeValue(s)
	}
	return keys, nil
}

// errorRecord is Firehose's processing-failed record: the raw data in base64 and why it failed.
func errorRecord(r buffered, code, msg string, now time.Time) []byte {
	b, _ := json.Marshal(struct {
		AttemptsMade           int    `json:"attemptsMade"`
		ArrivalTimestamp       int64  `json:"arrivalTimestamp"`
		ErrorCode              string `json:"errorCode"`
		ErrorMessage           string `json:"errorMessage"`
		AttemptEndingTimestamp int64  `json:"attemptEndingTimestamp"`
		RawData                []byte `json:"rawData"`
		LambdaARN              string `json:"lambdaArn,omitempty"`
	}{1, r.arrival.UnixMilli(), code, msg, now.UnixMilli(), r.data, "arn:aws:lambda:us-east-1:123456789012:function:transform"})
	return append(b, '\n')
}

// objectName is Firehose's S3 object name: stream name, version, timestamp and a random part.
func objectName(stream string, t time.Time) string {
	return fmt.Sprintf("%s-1-%s-%s", stream, t.UTC().Format("2006-01-02-15-04-05"), uuid.NewString())
}
