package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/enrich"
	"github.com/firelane/firelane/internal/ingest"
	"github.com/firelane/firelane/internal/lake"
	localfirehose "github.com/firelane/firelane/internal/localaws/firehose"
	localkinesis "github.com/firelane/firelane/internal/localaws/kinesis"
	"github.com/firelane/firelane/internal/schema"
	"github.com/firelane/firelane/internal/transform"
)

// Names of the local streams; they match the defaults of template.yaml's resources.
const (
	StreamName         = "firelane-events"
	DeliveryStreamName = "firelane-events"
	FailedStreamName   = "firelane-failed-events"
)

// LocalPIIKey is the HMAC key the local chain hashes "x-pii": "hash" values with. It is not a
// secret: it exists so that local runs show what deployed ones do.
const LocalPIIKey = "firelane-local-pii-key"

// Config configures a local chain.
type Config struct {
	Registry  *schema.Registry
	Sink      localfirehose.Sink
	BatchSize int // records per enrich invocation, as the event source mapping's batch size (100)
	Logger    *slog.Logger

	// Parquet, when set, delivers the events as a stack deployed with OutputFormat=PARQUET does,
	// converting with this Glue table (schematool.ParquetTable).
	Parquet *localfirehose.Table
}

// Chain is the whole pipeline on one machine.
type Chain struct {
	Ingest    *ingest.Handler
	Enrich    *enrich.Handler
	Transform *transform.Handler
	Stream    *localkinesis.Stream
	Events    *localfirehose.Delivery
	Failed    *localfirehose.Delivery
	batchSize int
}

// New builds a chain whose deliveries write to cfg.Sink.
func New(cfg Config) (*Chain, error) {
	if cfg.Registry == nil || cfg.Sink == nil {
		return nil, fmt.Errorf("local chain needs a registry and a sink")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	c := &Chain{Stream: localkinesis.NewStream(StreamName), batchSize: cfg.BatchSize}
	if c.batchSize <= 0 {
		c.batchSize = 100
	}
	c.Events = &localfirehose.Delivery{Name: DeliveryStreamName, Prefix: lake.EventsPrefix, ErrorPrefix: lake.EventsErrorPrefix, Sink: cfg.Sink}
	// The transform hands what does not fit in its 6 MB response back to its own stream, as it does
	// when deployed; the next flush delivers it.
	c.Transform = &transform.Handler{Logger: log.With("function", "transform"), Firehose: c.Events}
	c.Events.Transform = c.Transform.Handle
	c.Failed = &localfirehose.Delivery{Name: FailedStreamName, Prefix: lake.FailedPrefix, ErrorPrefix: lake.FailedErrorPrefix, QueryKeys: []string{"kind", "stage"}, Sink: cfg.Sink}
	retry := awsbatch.Retry{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond}
	c.Transform.Retry = retry
	if cfg.Parquet != nil {
		if err := c.convertToParquet(*cfg.Parquet); err != nil {
			return nil, err
		}
	}
	kw, err := awsbatch.NewKinesisWriter(c.Stream, StreamName, retry)
	if err != nil {
		return nil, err
	}
	ew, err := awsbatch.NewFirehoseWriter(c.Events, DeliveryStreamName, retry)
	if err != nil {
		return nil, err
	}
	fw, err := awsbatch.NewFirehoseWriter(c.Failed, FailedStreamName, retry)
	if err != nil {
		return nil, err
	}
	c.Ingest = &ingest.Handler{Registry: cfg.Registry, Kinesis: kw, Rejected: fw, Config: ingest.DefaultConfig, Logger: log.With("function", "ingest")}
	c.Enrich = &enrich.Handler{
		Registry: cfg.Registry, Chain: enrich.DefaultChain(time.Now, []byte(LocalPIIKey)),
		Firehose: ew, Failed: fw, Logger: log.With("function", "enrich"),
	}
	return c, nil
}

// Send hands one REST API request to the ingest function and returns its answer.
func (c *Chain) Send(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return c.Ingest.Handle(ctx, req)
}

// SendRequest hands one loaded request, REST or HTTP API, to the ingest function. An HTTP API
// answer is returned in the REST shape: status code, headers and body.
func (c *Chain) SendRequest(ctx context.Context, r Request) (events.APIGatewayProxyResponse, error) {
	out := c.Serve(ctx, r)
	return events.APIGatewayProxyResponse{StatusCode: out.Status, Headers: out.Headers, Body: string(out.Body)}, nil
}

// Serve hands one loaded request, REST or HTTP API, to the ingest stage's core and returns its
// outcome: the answer and, unless the request was refused as a whole, every event's result.
func (c *Chain) Serve(ctx context.Context, r Request) ingest.Outcome {
	req := ingest.RequestFromREST(&r.Req)
	if r.V2 != nil {
		req = ingest.RequestFromHTTP(r.V2)
	}
	return c.Ingest.Serve(ctx, &req)
}

// DrainReport says what a drain did.
type DrainReport struct {
	Batches  int                  // enrich invocations
	Retried  int                  // batches redelivered after a reported failure
	Events   localfirehose.Report // what the events delivery stream delivered
	Failures localfirehose.Report // what the failed-events delivery stream delivered
}

// maxRedeliveries bounds how often one batch is redelivered before the drain gives up, as the event
// source mapping's maximum retry attempts do.
const maxRedeliveries = 5

// Drain delivers every record of the stream to the enrich function in batches, then flushes both
// delivery streams (again while the transform re-ingests records into its own stream).
func (c *Chain) Drain(ctx context.Context) (DrainReport, error) {
	var rep DrainReport
	retries := 0
	for {
		batch, ok := c.Stream.Next(c.batchSize)
		if !ok {
			break
		}
		rep.Batches++
		resp, err := c.Enrich.Handle(ctx, batch)
		if err != nil {
			return rep, fmt.Errorf("enrich failed the whole batch: %w", err)
		}
		failed, err := c.Stream.Checkpoint(batch, resp)
		if err != nil {
			return rep, err
		}
		if failed {
			rep.Retried++
			if retries++; retries > maxRedeliveries {
				return rep, fmt.Errorf("enrich kept failing record %s", resp.BatchItemFailures[0].ItemIdentifier)
			}
			continue
		}
		retries = 0
	}
	for c.Events.Buffered() > 0 {
		r, err := c.Events.Flush(ctx)
		if err != nil {
			return rep, err
		}
		rep.Events = merge(rep.Events, r)
	}
	for c.Failed.Buffered() > 0 {
		r, err := c.Failed.Flush(ctx)
		if err != nil {
			return rep, err
		}
		rep.Failures = merge(rep.Failures, r)
	}
	return rep, nil
}

func merge(a, b localfirehose.Report) localfirehose.Report {
	a.Records += b.Records
	a.Delivered += b.Delivered
	a.Dropped += b.Dropped
	a.ProcessingFailed += b.ProcessingFailed
	a.OtherFailed += b.OtherFailed
	a.Objects = append(a.Objects, b.Objects...)
	if a.ByPrefix == nil {
		a.ByPrefix = map[string]int{}
	}
	for k, v := range b.ByPrefix {
		a.ByPrefix[k] += v
	}
	return a
}
