package plan

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/enrich"
	"github.com/firelane/firelane/internal/ingest"
	"github.com/firelane/firelane/internal/lake"
	"github.com/firelane/firelane/internal/schema"
)

// Sample is what firelane's own stages made of a sample of events: every size the model needs,
// the partition keys, and (with timing) the per-record throughput on one core.
type Sample struct {
	Events, Accepted, Rejected int
	EventsPerRequest           float64             // events per API request in the sample (NDJSON: the batches built)
	EventBytes                 float64             // mean event as received
	KinesisRecordBytes         float64             // mean ingest record, data plus partition key
	KinesisBilledKiB           float64             // mean record rounded up to 1 KiB (on-demand data-in)
	KinesisPutUnits            float64             // mean 25 KB PUT payload units per record (provisioned)
	EnrichedBytes              float64             // mean record enrich writes to the events delivery stream
	FirehoseBilled5KB          float64             // mean enriched record rounded up to 5 KB, in KB
	FailedBytes                float64             // mean failed-event record (rejected events)
	LakeRowBytes               float64             // mean lake row transform returns
	GzipRatio                  float64             // compressed / uncompressed size of the lake rows
	TypeVersions               int                 // distinct (event type, version) partitions seen
	PartitionKeys              map[string][]string // per PartitionKey setting ("subject,source"), each accepted event's key
	Throughput                 *Bench              // per-record throughput on one core, when timed
}

// SampleOptions say how to run the stages on a sample.
type SampleOptions struct {
	Schemas       string     // schema directory the events are validated against
	PartitionKeys [][]string // PartitionKey settings to compute keys for; the first is the deployed one
	Time          bool       // time each stage at GOMAXPROCS=1 (one run after a warm-up)
}

// MeasureSample runs ingest, enrich and transform, as the functions run them, over the events of
// path (NDJSON, or an API Gateway proxy request whose body holds the events), with every AWS write
// acknowledged in process.
func MeasureSample(ctx context.Context, path string, opt SampleOptions) (*Sample, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read sample: %w", err)
	}
	reqs, nEvents, err := sampleRequests(raw)
	if err != nil {
		return nil, fmt.Errorf("sample %s: %w", path, err)
	}
	if nEvents == 0 {
		return nil, fmt.Errorf("sample %s holds no events", path)
	}
	reg, err := schema.LoadDir(opt.Schemas)
	if err != nil {
		return nil, fmt.Errorf("load schemas %s: %w", opt.Schemas, err)
	}
	if len(opt.PartitionKeys) == 0 {
		opt.PartitionKeys = [][]string{ingest.DefaultConfig.PartitionKey}
	}
	s := &Sample{Events: nEvents, EventsPerRequest: float64(nEvents) / float64(len(reqs)), PartitionKeys: map[string][]string{}}
	for _, r := range reqs {
		s.EventBytes += float64(len(r.Body))
	}
	// The body's brackets and commas are not the events'; the mean is close enough for sizing.
	s.EventBytes /= float64(nEvents)

	quiet := slog.New(slog.NewJSONHandler(io.Discard, nil))
	var kin, rejected []capture
	for i, keys := range opt.PartitionKeys {
		k := &recorder{}
		f := &recorder{}
		kw, err := awsbatch.NewKinesisWriter(k, "firelane-events", awsbatch.DefaultRetry)
		if err != nil {
			return nil, err
		}
		fw, err := awsbatch.NewFirehoseWriter(f, "firelane-failed-events", awsbatch.DefaultRetry)
		if err != nil {
			return nil, err
		}
		h := &ingest.Handler{Registry: reg, Kinesis: kw, Rejected: fw, Config: ingest.Config{PartitionKey: keys}, Logger: quiet}
		run := func() error {
			k.recs, f.recs = k.recs[:0], f.recs[:0]
			for _, r := range reqs {
				if _, err := h.Handle(ctx, r); err != nil {
					return fmt.Errorf("ingest: %w", err)
				}
			}
			return nil
		}
		if err := run(); err != nil {
			return nil, err
		}
		if i == 0 && opt.Time {
			d, err := timed(run)
			if err != nil {
				return nil, err
			}
			s.Throughput = &Bench{IngestEventsPerS: float64(nEvents) / d.Seconds(), Source: "measured on the sample by -measure, one core, GOMAXPROCS=1, one run after a warm-up"}
		}
		name := strings.Join(keys, ",")
		for _, c := range k.recs {
			s.PartitionKeys[name] = append(s.PartitionKeys[name], c.key)
		}
		if i == 0 {
			kin, rejected = append([]capture(nil), k.recs...), append([]capture(nil), f.recs...)
		}
	}
	s.Accepted, s.Rejected = len(kin), nEvents-len(kin)
	for _, c := range kin {
		n := float64(len(c.data) + len(c.key))
		s.KinesisRecordBytes += n
		s.KinesisBilledKiB += ceilDiv(n, 1024)
		s.KinesisPutUnits += ceilDiv(n, 25*1024)
	}
	for _, c := range rejected {
		s.FailedBytes += float64(len(c.data))
	}
	if len(rejected) > 0 {
		s.FailedBytes /= float64(len(rejected))
	}
	if len(kin) == 0 {
		return s, fmt.Errorf("sample %s: ingest accepted none of its %d events against the schemas of %s", path, nEvents, opt.Schemas)
	}
	n := float64(len(kin))
	s.KinesisRecordBytes /= n
	s.KinesisBilledKiB /= n
	s.KinesisPutUnits /= n

	enriched, err := runEnrich(ctx, reg, kin, quiet)
	if err != nil {
		return nil, err
	}
	if opt.Time {
		d, err := timed(func() error { _, err := runEnrich(ctx, reg, kin, quiet); return err })
		if err != nil {
			return nil, err
		}
		s.Throughput.EnrichRecordsPerS = n / d.Seconds()
	}
	if len(enriched) == 0 {
		return s, fmt.Errorf("enrich wrote none of the %d records to the events stream", len(kin))
	}
	for _, e := range enriched {
		s.EnrichedBytes += float64(len(e))
		s.FirehoseBilled5KB += ceilDiv(float64(len(e)), 5*1024) * 5
	}
	s.EnrichedBytes /= float64(len(enriched))
	s.FirehoseBilled5KB /= float64(len(enriched))

	payloads := firehosePayloads(enriched)
	rows, parts, err := runTransform(ctx, payloads, quiet)
	if err != nil {
		return nil, err
	}
	if opt.Time {
		h := transformHandler(quiet)
		h.ReuseResponse = true // as functions/transform runs it
		for _, p := range payloads {
			if _, err := h.Invoke(ctx, p); err != nil { // warm-up
				return nil, fmt.Errorf("transform: %w", err)
			}
		}
		d, err := timed(func() error {
			for _, p := range payloads {
				if _, err := h.Invoke(ctx, p); err != nil {
					return fmt.Errorf("transform: %w", err)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		s.Throughput.TransformRecordsPerS = float64(len(enriched)) / d.Seconds()
	}
	var all bytes.Buffer
	for _, r := range rows {
		s.LakeRowBytes += float64(len(r))
		all.Write(r)
	}
	if len(rows) > 0 {
		s.LakeRowBytes /= float64(len(rows))
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, _ = zw.Write(all.Bytes())
	_ = zw.Close()
	if all.Len() > 0 {
		s.GzipRatio = float64(z.Len()) / float64(all.Len())
	}
	s.TypeVersions = len(parts)
	return s, nil
}

// timed runs f once more at GOMAXPROCS=1 and returns how long it took.
func timed(f func() error) (time.Duration, error) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	runtime.GC()
	start := time.Now()
	err := f()
	return time.Since(start), err
}

func ceilDiv(n, unit float64) float64 {
	q := float64(int64(n / unit))
	if q*unit < n {
		q++
	}
	return q
}

// sampleContext is the request context given to NDJSON samples: a browser's user agent and a
// documentation-range address, so that the server context ingest adds has a realistic size.
var sampleContext = events.APIGatewayProxyRequestContext{
	RequestID: "plan-sample", Stage: "prod", HTTPMethod: "POST", ResourcePath: "/events",
	Identity: events.APIGatewayRequestIdentity{SourceIP: "203.0.113.9", APIKeyID: "plan-key",
		UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"},
}

// sampleRequests turns a sample into API requests: an API Gateway proxy request file is used as
// it is; NDJSON lines are sent 500 to a request (ingest's most events per request).
func sampleRequests(raw []byte) ([]events.APIGatewayProxyRequest, int, error) {
	if trimmed := bytes.TrimSpace(raw); len(trimmed) > 0 && trimmed[0] == '{' {
		var req events.APIGatewayProxyRequest
		if err := json.Unmarshal(trimmed, &req); err == nil && req.HTTPMethod != "" {
			var evs []json.RawMessage
			if err := json.Unmarshal([]byte(req.Body), &evs); err != nil {
				return nil, 0, fmt.Errorf("the API request's body is not a JSON array of events: %w", err)
			}
			if req.RequestContext.RequestTimeEpoch == 0 {
				req.RequestContext.RequestTimeEpoch = time.Now().UnixMilli()
			}
			return []events.APIGatewayProxyRequest{req}, len(evs), nil
		}
	}
	var lines [][]byte
	for _, l := range bytes.Split(raw, []byte("\n")) {
		if l = bytes.TrimSpace(l); len(l) > 0 {
			lines = append(lines, l)
		}
	}
	var reqs []events.APIGatewayProxyRequest
	now := time.Now().UnixMilli()
	for i := 0; i < len(lines); i += 500 {
		chunk := lines[i:min(i+500, len(lines))]
		body := append([]byte{'['}, bytes.Join(chunk, []byte{','})...)
		body = append(body, ']')
		rc := sampleContext
		rc.RequestTimeEpoch = now
		reqs = append(reqs, events.APIGatewayProxyRequest{HTTPMethod: "POST", Path: "/events", Resource: "/events",
			Headers: map[string]string{"Content-Type": "application/json"}, Body: string(body), RequestContext: rc})
	}
	return reqs, len(lines), nil
}

type capture struct {
	key  string
	data []byte
}

// recorder acknowledges every record of a PutRecords or PutRecordBatch and keeps it.
type recorder struct{ recs []capture }

func (r *recorder) PutRecords(_ context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	out := &kinesis.PutRecordsOutput{Records: make([]ktypes.PutRecordsResultEntry, len(in.Records))}
	for i, e := range in.Records {
		r.recs = append(r.recs, capture{key: aws.ToString(e.PartitionKey), data: e.Data})
		out.Records[i] = ktypes.PutRecordsResultEntry{SequenceNumber: aws.String(strconv.Itoa(len(r.recs))), ShardId: aws.String("shardId-000000000000")}
	}
	return out, nil
}

func (r *recorder) PutRecordBatch(_ context.Context, in *firehose.PutRecordBatchInput, _ ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	out := &firehose.PutRecordBatchOutput{FailedPutCount: aws.Int32(0), RequestResponses: make([]fhtypes.PutRecordBatchResponseEntry, len(in.Records))}
	for i, e := range in.Records {
		r.recs = append(r.recs, capture{data: e.Data})
		out.RequestResponses[i].RecordId = aws.String(strconv.Itoa(len(r.recs)))
	}
	return out, nil
}

// runEnrich passes the ingest records to enrich in batches of 100 (EnrichBatchSize's default) and
// returns what it wrote to the events delivery stream.
func runEnrich(ctx context.Context, reg *schema.Registry, kin []capture, logger *slog.Logger) ([][]byte, error) {
	ev, failed := &recorder{}, &recorder{}
	ew, err := awsbatch.NewFirehoseWriter(ev, "firelane-events", awsbatch.DefaultRetry)
	if err != nil {
		return nil, err
	}
	fw, err := awsbatch.NewFirehoseWriter(failed, "firelane-failed-events", awsbatch.DefaultRetry)
	if err != nil {
		return nil, err
	}
	h := &enrich.Handler{Registry: reg, Chain: enrich.DefaultChain(time.Now, []byte("plan-sample-key")), Firehose: ew, Failed: fw, Logger: logger}
	now := time.Now()
	for i := 0; i < len(kin); i += 100 {
		var batch events.KinesisEvent
		for j, c := range kin[i:min(i+100, len(kin))] {
			seq := strconv.Itoa(i + j + 1)
			batch.Records = append(batch.Records, events.KinesisEventRecord{
				AwsRegion: "us-east-1", EventID: "shardId-000000000000:" + seq, EventName: "aws:kinesis:record", EventSource: "aws:kinesis",
				EventSourceArn: "arn:aws:kinesis:us-east-1:123456789012:stream/firelane-events", EventVersion: "1.0",
				Kinesis: events.KinesisRecord{Data: c.data, PartitionKey: c.key, SequenceNumber: seq, KinesisSchemaVersion: "1.0",
					ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: now}},
			})
		}
		if _, err := h.Handle(ctx, batch); err != nil {
			return nil, fmt.Errorf("enrich: %w", err)
		}
	}
	out := make([][]byte, len(ev.recs))
	for i, c := range ev.recs {
		out[i] = c.data
	}
	return out, nil
}

// firehosePayloads builds transformation events of about 1 MB of record data (ProcessorBufferSizeMB's
// default), as Firehose invokes transform.
func firehosePayloads(recs [][]byte) [][]byte {
	var out [][]byte
	now := time.Now().UnixMilli()
	for i := 0; i < len(recs); {
		var b bytes.Buffer
		b.WriteString(`{"invocationId":"plan","deliveryStreamArn":"arn:aws:firehose:us-east-1:123456789012:deliverystream/firelane-events","region":"us-east-1","records":[`)
		size := 0
		for first := true; i < len(recs) && (first || size+len(recs[i]) <= 1<<20); i++ {
			if !first {
				b.WriteByte(',')
			}
			first = false
			fmt.Fprintf(&b, `{"recordId":"%d","approximateArrivalTimestamp":%d,"data":"%s"}`, i, now, base64.StdEncoding.EncodeToString(recs[i]))
			size += len(recs[i])
		}
		b.WriteString(`]}`)
		out = append(out, b.Bytes())
	}
	return out
}

// runTransform invokes transform on each payload and returns the lake rows of the Ok records and
// the distinct (event_type, event_version) partitions they go to.
func runTransform(ctx context.Context, payloads [][]byte, logger *slog.Logger) ([][]byte, map[string]bool, error) {
	h := transformHandler(logger)
	var rows [][]byte
	parts := map[string]bool{}
	for _, p := range payloads {
		out, err := h.Invoke(ctx, p)
		if err != nil {
			return nil, nil, fmt.Errorf("transform: %w", err)
		}
		var resp events.KinesisFirehoseResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			return nil, nil, fmt.Errorf("transform response: %w", err)
		}
		for _, r := range resp.Records {
			if r.Result != events.KinesisFirehoseTransformedStateOk {
				continue
			}
			rows = append(rows, r.Data)
			k := r.Metadata.PartitionKeys
			parts[k[lake.KeyEventType]+"\x00"+k[lake.KeyEventVersion]] = true
		}
	}
	return rows, parts, nil
}
