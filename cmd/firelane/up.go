package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/cfn"
	"github.com/firelane/firelane/internal/enrich"
	"github.com/firelane/firelane/internal/localaws/console"
	"github.com/firelane/firelane/internal/localaws/eventsource"
	localfirehose "github.com/firelane/firelane/internal/localaws/firehose"
	"github.com/firelane/firelane/internal/localaws/lambda"
	"github.com/firelane/firelane/internal/localaws/localapi"
	"github.com/firelane/firelane/internal/localaws/pipeline"
	"github.com/firelane/firelane/internal/schema"
	"github.com/firelane/firelane/internal/transform"
)

// upOptions are the flags of `firelane up`.
type upOptions struct {
	listen, apiKey, out, schemas, endpoint, overrides, template, stack string
	interval                                                           time.Duration
	rie                                                                bool
}

func runUp(args []string) error {
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	var o upOptions
	fs.StringVar(&o.listen, "listen", "127.0.0.1:3000", "address to serve the API and the console API on (loopback)")
	fs.StringVar(&o.apiKey, "api-key", "", "the API key the API accepts (20 to 128 characters; default: one generated and printed)")
	fs.StringVar(&o.out, "out", "lake", "directory the lake is written to, laid out as the S3 keys")
	fs.StringVar(&o.schemas, "schemas", "", "directory of event schemas (default: the embedded schemas/)")
	fs.DurationVar(&o.interval, "interval", 0, "Firehose flush interval instead of the template's buffering hint (e.g. 2s)")
	fs.StringVar(&o.endpoint, "endpoint", "", "AWS endpoint (a moto_server you started) for the Kinesis stream and the lake bucket (STACK-lake); default: in memory and -out")
	fs.BoolVar(&o.rie, "rie", false, "run the three functions as their built bootstraps under the Runtime Interface Emulator")
	fs.StringVar(&o.overrides, "parameter-overrides", "", "template parameters: 'Key=Value Key=Value'")
	fs.StringVar(&o.template, "template", "template.yaml", "SAM template of the stack to run")
	fs.StringVar(&o.stack, "stack", "firelane", "stack name the template's names are resolved with")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: firelane up [flags]\n\n"+
			"Runs the deployed pipeline on this machine until Ctrl-C: the template's REST API, the three\n"+
			"functions, the Kinesis stream, the enrich event source mapping, the two delivery streams with\n"+
			"the transform, and the lake under -out. The JSON API under /_console/api/ says what became of\n"+
			"each event, and the web console at /_console/ shows it. Ctrl-C (or SIGTERM) drains the\n"+
			"stream, flushes the delivery streams and exits 0.\n"+
			"docs/up.md says what it reproduces.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return up(ctx, o, os.Stdout, os.Stderr)
}

// up runs the stack until ctx ends, printing what a user needs to stdout and request lines and
// the stop report to logs.
func up(ctx context.Context, o upOptions, stdout, logs io.Writer) error {
	// What up starts lives until the stop is done, not until the signal: the drain and the final
	// flush need the mapping, the functions and the streams.
	run := context.WithoutCancel(ctx)
	host, _, err := net.SplitHostPort(o.listen)
	if err != nil {
		return fmt.Errorf("-listen %s: %w", o.listen, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("-listen %s: firelane up listens on loopback only", o.listen)
	}
	if o.apiKey == "" {
		b := make([]byte, 20)
		_, _ = rand.Read(b)
		o.apiKey = hex.EncodeToString(b)
	}
	params, err := parseOverrides(o.overrides)
	if err != nil {
		return err
	}
	tpl, err := cfn.Load(o.template)
	if err != nil {
		return err
	}
	reg, err := schema.Default()
	if o.schemas != "" {
		// Absolute, because functions under the emulator run in a directory of their own.
		if o.schemas, err = filepath.Abs(o.schemas); err != nil {
			return err
		}
		reg, err = schema.LoadDir(o.schemas)
	}
	if err != nil {
		return err
	}
	root, err := filepath.Abs(filepath.Dir(o.template))
	if err != nil {
		return err
	}
	out, err := filepath.Abs(o.out)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(logs, nil))
	// The functions' own summary lines stay quiet below warnings: up prints one line per request.
	quiet := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rec := console.NewRecorder()
	forms := console.NewForms()
	s := &stack{opts: o, tpl: tpl, params: params, root: root, reg: reg, log: log, quiet: quiet, logs: logs}
	defer s.close()

	// The delivery streams, their transform and the lake.
	configs, err := localfirehose.FromTemplate(tpl, o.stack, params)
	if err != nil {
		return err
	}
	s.deliveries = map[string]*localfirehose.Stream{}
	var lake localfirehose.Sink = localfirehose.DirSink{Dir: out}
	// The lake as the mapping's S3 on-failure destination writes to it: its objects as they are.
	lakeObjects := lakeWriter{ObjectWriter: localfirehose.DirSink{Dir: out}, at: out, beside: out}
	bucket := o.stack + "-lake"
	if o.endpoint != "" {
		if err := ensureBucket(ctx, o.endpoint, bucket); err != nil {
			return err
		}
		out = "s3://" + bucket
		lakeObjects.ObjectWriter, lakeObjects.at = localfirehose.S3Sink{API: upS3Client(o.endpoint), Bucket: bucket}, out
	}
	for _, c := range configs {
		sink := rec.Sink(lake)
		if o.endpoint != "" {
			sink = s3Recorded{rec: rec, sink: localfirehose.S3Sink{API: upS3Client(o.endpoint), Bucket: bucket, GZIP: c.GZIP}}
		}
		if o.interval > 0 {
			c.Interval = o.interval
		}
		st, err := localfirehose.NewStream(c, sink, func(ctx context.Context, ev events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error) {
			for _, r := range ev.Records {
				forms.Record(r.Data)
			}
			return s.transform(ctx, ev)
		})
		if err != nil {
			return err
		}
		s.deliveries[c.Name] = st
	}

	// The API, ingest, and the in-memory stream and delivery streams it writes to. Under the
	// emulator enrich reads its PII key as deployed, from the secret (or parameter) its environment
	// names: the in-memory endpoint serves it with the local chain's key.
	var secrets map[string]string
	if o.rie {
		spec, err := lambda.FunctionSpec(tpl, "EnrichFunction", o.stack, params)
		if err != nil {
			return err
		}
		secrets = map[string]string{}
		for _, k := range []string{"PII_KEY_SECRET_ID", "PII_KEY_PARAMETER_NAME"} {
			if name := spec.Env[k]; name != "" {
				secrets[name] = pipeline.LocalPIIKey
			}
		}
	}
	api, err := localapi.Start(run, localapi.Options{
		Template: tpl, Root: root, Stack: o.stack, Params: params, Registry: reg, SchemasDir: o.schemas,
		Endpoint: o.endpoint, APIKeys: []string{o.apiKey}, RIE: o.rie, Logs: logs, Logger: quiet, Deliveries: s.deliveries,
		Secrets: secrets,
	})
	if err != nil {
		return err
	}
	s.closers = append(s.closers, api.Close)
	s.endpoint = api.FirehoseEndpoint
	if err := s.startTransform(run, configs); err != nil {
		return err
	}

	// The event source mapping from the stream to enrich.
	esm, err := eventsource.FromTemplate(tpl, "EnrichFunction", o.stack, params)
	if err != nil {
		return err
	}
	streamName, streamARN, shards, streamLen, err := s.shards(ctx, api, esm)
	if err != nil {
		return err
	}
	enrichFn, enrichName, err := s.enrich(run)
	if err != nil {
		return err
	}
	dest, queue, err := s.destination(ctx, esm.OnFailure, lakeObjects)
	if err != nil {
		return err
	}
	mapping := &eventsource.Mapping{
		Config: esm, Function: enrichFn, StreamARN: streamARN, Destination: dest, Logger: log,
		FunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:" + enrichName,
		Shards:      shards,
		OnDiscard: func(d eventsource.Discard) {
			raw := make([][]byte, len(d.Records))
			for i, r := range d.Records {
				raw[i] = r.Kinesis.Data
			}
			rec.Discarded(d.Record.RequestContext.Condition, raw)
		},
	}
	if err := mapping.Start(run); err != nil {
		return err
	}
	defer mapping.Stop()
	discards, toBucket := dest.(bucketDestination)
	if toBucket {
		fmt.Fprintf(logs, "discarded batches: %s\n", discards.prefix(mapping.UUID()))
	}

	// The delivery streams flush by their buffering hints.
	flushDone := make(chan struct{})
	flushCtx, stopFlush := context.WithCancel(context.Background())
	defer stopFlush()
	go func() {
		defer close(flushDone)
		s.flushLoop(flushCtx)
	}()

	pipelineStats := func() any {
		ds := map[string]int{}
		for n, st := range s.deliveries {
			ds[n] = st.Delivery.Buffered()
		}
		out := map[string]any{
			"stream":            map[string]any{"name": streamName, "records": streamLen()},
			"mapping":           mapping.Stats(),
			"delivery_buffered": ds,
		}
		if queue != nil {
			out["on_failure_queue"] = map[string]any{"name": queue.Name, "messages": len(queue.Messages())}
		}
		return out
	}
	capi := &console.API{Recorder: rec, Pipeline: pipelineStats}
	if queue != nil {
		capi.OnReset = queue.Reset
	}
	mux := http.NewServeMux()
	mux.Handle(console.Prefix, capi)
	mux.Handle("/", rec.Wrap(forms.Wrap(api.Handler), log))
	web := &console.Console{API: capi, Forms: forms, Registry: reg, LakeName: out}
	if o.endpoint == "" {
		web.Lake = os.DirFS(out)
	}
	web.Register(mux)
	l, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	srv.RegisterOnShutdown(web.Close)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	base := "http://" + l.Addr().String()
	// The route ingest answers on; the template's others (direct integrations) are listed too.
	eventsPath := "/events"
	var routes []string
	for p := range api.Definition.Routes {
		routes = append(routes, p)
	}
	sort.Strings(routes)
	for _, p := range routes {
		fmt.Fprintf(logs, "route %s/%s%s\n", base, api.Definition.Stage, p)
	}
	fmt.Fprintf(stdout, "EVENTS_URL=%s/%s%s\n", base, api.Definition.Stage, eventsPath)
	fmt.Fprintf(stdout, "API_KEY=%s\n", o.apiKey)
	fmt.Fprintf(stdout, "CONSOLE_API=%s%s\n", base, console.Prefix)
	fmt.Fprintf(logs, "console: %s%s\n", base, console.PagePrefix)
	fmt.Fprintf(logs, "lake: %s; send with: curl -H 'x-api-key: %s' -H 'content-type: application/json' -d @event.json %s/%s%s\n",
		out, o.apiKey, base, api.Definition.Stage, eventsPath)

	select {
	case <-ctx.Done():
	case err := <-served:
		stopFlush()
		<-flushDone
		return fmt.Errorf("serve %s: %w", o.listen, err)
	}

	// A clean stop: no new requests, the stream drained through enrich, every buffer flushed.
	fmt.Fprintln(logs, "stopping: draining the stream and flushing the delivery streams")
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_ = srv.Shutdown(shut)
	cancel()
	drainCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
	left := mapping.Drain(drainCtx)
	cancel()
	stopFlush()
	<-flushDone
	finalCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	reports, ferr := (&localfirehose.Server{Streams: s.deliveries}).FlushAll(finalCtx)
	names := make([]string, 0, len(s.deliveries))
	for n := range s.deliveries {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t := s.totals[n]
		r := reports[n]
		fmt.Fprintf(logs, "delivery stream %s: %d records delivered, %d processing-failed, %d other failures, %d objects\n",
			n, t.Delivered+r.Delivered, t.ProcessingFailed+r.ProcessingFailed, t.OtherFailed+r.OtherFailed, len(t.Objects)+len(r.Objects))
	}
	c := rec.Counts()
	fmt.Fprintf(logs, "events: %d accepted and delivered, %d rejected, %d failed, %d accepted not delivered\n", c.Delivered, c.Rejected, c.Failed, c.Accepted)
	fmt.Fprintf(logs, "stream %s: %d records, %d still in the stream (%d read, not processed; %d unread)\n",
		streamName, streamLen(), left.Pending+max(left.Unread, 0), left.Pending, left.Unread)
	if queue != nil {
		fmt.Fprintf(logs, "on-failure queue %s: %d messages\n", queue.Name, len(queue.Messages()))
	}
	if toBucket {
		fmt.Fprintf(logs, "on-failure destination %s: %d records discarded\n", discards.prefix(mapping.UUID()), mapping.Stats().Discarded)
	}
	if ferr != nil {
		return ferr
	}
	if left.Pending > 0 || left.Unread != 0 {
		return fmt.Errorf("records are still in the stream after the drain: %d read, not processed; %d unread (-1: unknown)", left.Pending, left.Unread)
	}
	return nil
}

// stack holds what `up` started besides the API.
type stack struct {
	opts       upOptions
	tpl        cfn.Template
	params     map[string]string
	root       string
	reg        *schema.Registry
	log        *slog.Logger
	quiet      *slog.Logger
	logs       io.Writer
	endpoint   string
	deliveries map[string]*localfirehose.Stream
	totals     map[string]localfirehose.Report
	transform  localfirehose.TransformFunc
	rieDir     string
	closers    []func()
}

func (s *stack) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

func (s *stack) awsConfig() aws.Config {
	return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(s.endpoint), Credentials: localapi.Credentials}
}

// startTransform runs the transform function the delivery streams invoke: in process, or under
// the emulator with -rie.
func (s *stack) startTransform(ctx context.Context, configs []localfirehose.Config) error {
	id := ""
	for _, c := range configs {
		if c.HasTransform {
			id = c.TransformID
		}
	}
	if id == "" {
		s.transform = func(context.Context, events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error) {
			return events.KinesisFirehoseResponse{}, errors.New("no transform")
		}
		return nil
	}
	spec, err := lambda.FunctionSpec(s.tpl, id, s.opts.stack, s.params)
	if err != nil {
		return err
	}
	if s.opts.rie {
		in, err := s.emulate(ctx, spec)
		if err != nil {
			return err
		}
		s.transform = localfirehose.InvokeURL(in.URL)
		return nil
	}
	cfg, err := transform.ConfigFromEnv(func(k string) string { return spec.Env[k] })
	if err != nil {
		return fmt.Errorf("transform configuration: %w", err)
	}
	h := &transform.Handler{
		DropTypes: cfg.DropTypes, TextColumns: cfg.TextColumns, Logger: s.quiet.With("function", "transform"),
		Firehose: awsbatch.NewFirehoseClient(s.awsConfig()), Retry: awsbatch.DefaultRetry,
	}
	s.transform = h.Handle
	return nil
}

// emulate builds a function and starts it under the Runtime Interface Emulator.
func (s *stack) emulate(ctx context.Context, spec lambda.Spec) (*lambda.Instance, error) {
	if s.rieDir == "" {
		dir, err := os.MkdirTemp("", "firelane-up-")
		if err != nil {
			return nil, err
		}
		s.rieDir = dir
		s.closers = append(s.closers, func() { _ = os.RemoveAll(dir) })
	}
	boot, err := lambda.Build(ctx, s.root, spec.Package, filepath.Join(s.rieDir, spec.LogicalID))
	if err != nil {
		return nil, err
	}
	rie, err := lambda.BuildEmulator(ctx, s.root, s.rieDir)
	if err != nil {
		return nil, err
	}
	spec.Env["AWS_ENDPOINT_URL"] = s.endpoint
	in, err := lambda.Start(ctx, lambda.Config{Emulator: rie, Bootstrap: boot, Name: spec.Name, Env: spec.Env, MemoryMB: spec.MemoryMB, Timeout: spec.Timeout, Logs: s.logs})
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, in.Stop)
	return in, nil
}

// enrich returns the enrich function's invoker: in process with the local chain's key, or under
// the emulator with -rie, where its bootstrap reads the same key from the secret the in-memory
// endpoint serves.
func (s *stack) enrich(ctx context.Context) (lambda.Invoker, string, error) {
	spec, err := lambda.FunctionSpec(s.tpl, "EnrichFunction", s.opts.stack, s.params)
	if err != nil {
		return nil, "", err
	}
	if s.opts.rie {
		if s.opts.schemas != "" {
			spec.Env["SCHEMAS_DIR"] = s.opts.schemas
		}
		in, err := s.emulate(ctx, spec)
		if err != nil {
			return nil, "", err
		}
		return in, spec.Name, nil
	}
	cfg, err := enrich.ConfigFromEnv(func(k string) string { return spec.Env[k] })
	if err != nil {
		return nil, "", fmt.Errorf("enrich configuration: %w", err)
	}
	chain, err := cfg.Chain(s.reg, time.Now, []byte(pipeline.LocalPIIKey))
	if err != nil {
		return nil, "", err
	}
	api := awsbatch.NewFirehoseClient(s.awsConfig())
	out, err := awsbatch.NewFirehoseWriter(api, spec.Env["DELIVERY_STREAM_NAME"], awsbatch.DefaultRetry)
	if err != nil {
		return nil, "", err
	}
	failed, err := awsbatch.NewFirehoseWriter(api, spec.Env["FAILED_DELIVERY_STREAM_NAME"], awsbatch.DefaultRetry)
	if err != nil {
		return nil, "", err
	}
	h := &enrich.Handler{Registry: s.reg, Chain: chain, Firehose: out, Failed: failed, Logger: s.quiet.With("function", "enrich")}
	return lambda.InProcess{Handler: h, Name: spec.Name, Timeout: spec.Timeout}, spec.Name, nil
}

// destination is the mapping's on-failure destination as the template declares it: an SQS (or
// SNS) queue kept in memory, or an S3 bucket. The bucket the delivery streams write to is the
// lake, so that discarded batches land under aws/lambda/ beside the lake's prefixes as Lambda
// writes them in AWS: the directory -out, or the bucket STACK-lake at the endpoint. Another bucket
// is a directory beside the lake, or the bucket of its name at the endpoint.
func (s *stack) destination(ctx context.Context, t eventsource.Target, lake lakeWriter) (eventsource.Destination, *eventsource.Queue, error) {
	switch t.Type {
	case "":
		return nil, nil, nil
	case "S3":
		d := bucketDestination{S3Destination: eventsource.S3Destination{Bucket: lake.ObjectWriter}, at: lake.at}
		switch {
		case t.LogicalID != "" && slices.Contains(lakeBuckets(s.tpl), t.LogicalID):
			// the lake itself: d as it is
		case s.opts.endpoint == "":
			dir := lake.beside + "-" + t.Name
			d.Bucket, d.at = localfirehose.DirSink{Dir: dir}, dir
		default:
			if err := ensureBucket(ctx, s.opts.endpoint, t.Name); err != nil {
				return nil, nil, err
			}
			d.Bucket, d.at = localfirehose.S3Sink{API: upS3Client(s.opts.endpoint), Bucket: t.Name}, "s3://"+t.Name
		}
		return d, nil, nil
	default:
		q := &eventsource.Queue{Name: t.Name}
		return q, q, nil
	}
}

// lakeWriter is the lake as an object writer: at is where it is (a directory or s3://bucket), and
// beside the directory other local buckets are made next to.
type lakeWriter struct {
	eventsource.ObjectWriter
	at, beside string
}

// lakeBuckets returns the logical IDs of the buckets the template's delivery streams write to.
func lakeBuckets(tpl cfn.Template) []string {
	var ids []string
	for _, id := range tpl.ResourcesOfType("AWS::KinesisFirehose::DeliveryStream") {
		res, _ := tpl.Resource(id)
		if ga, ok := cfn.Path(res, "Properties", "ExtendedS3DestinationConfiguration", "BucketARN", "Fn::GetAtt").([]any); ok && len(ga) > 0 {
			ids = append(ids, cfn.Scalar(ga[0]))
		}
	}
	return ids
}

// bucketDestination is an S3 on-failure destination and where its bucket is (a directory or an
// s3:// URL), for up's report. Its keys name the discarding mapping's UUID, as Lambda's do
// (aws/lambda/<mapping UUID>/<shard ID>/...).
type bucketDestination struct {
	eventsource.S3Destination
	at string
}

// prefix is where the batches of the mapping whose UUID is mapping go.
func (d bucketDestination) prefix(mapping string) string {
	return strings.TrimSuffix(d.at, "/") + "/aws/lambda/" + mapping + "/"
}

// shards opens the mapping's stream: the in-memory one, or the one at the endpoint.
func (s *stack) shards(ctx context.Context, api *localapi.API, esm eventsource.Config) (string, string, []eventsource.Shard, func() int, error) {
	if s.opts.endpoint == "" {
		if len(api.Streams) != 1 {
			return "", "", nil, nil, fmt.Errorf("the template has %d Kinesis streams, want 1", len(api.Streams))
		}
		for name, st := range api.Streams {
			return name, st.ARN(), []eventsource.Shard{eventsource.NewMemoryShard(st, esm.StartingPosition)}, st.Len, nil
		}
	}
	res, ok := s.tpl.Resource(esm.StreamID)
	if !ok {
		return "", "", nil, nil, fmt.Errorf("the mapping's stream %s is not in the template", esm.StreamID)
	}
	n, err := cfn.NewEvaluator(s.tpl, s.opts.stack, s.params).Resolve(cfn.Path(res, "Properties", "Name"))
	if err != nil {
		return "", "", nil, nil, fmt.Errorf("stream %s: %w", esm.StreamID, err)
	}
	name := cfn.Scalar(n)
	kc := kinesis.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(s.opts.endpoint), Credentials: localapi.Credentials})
	sum, err := kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		return "", "", nil, nil, fmt.Errorf("describe stream %s at %s: %w", name, s.opts.endpoint, err)
	}
	arn := aws.ToString(sum.StreamDescriptionSummary.StreamARN)
	shards, err := eventsource.APIShards(ctx, kc, arn, esm.StartingPosition)
	if err != nil {
		return "", "", nil, nil, err
	}
	return name, arn, shards, func() int { return -1 }, nil
}

func upS3Client(endpoint string) *s3.Client {
	return s3.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: localapi.Credentials}, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
	})
}

// ensureBucket creates the bucket at endpoint unless it is there.
func ensureBucket(ctx context.Context, endpoint, bucket string) error {
	c := upS3Client(endpoint)
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err == nil {
		return nil
	}
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return fmt.Errorf("create bucket %s at %s: %w", bucket, endpoint, err)
	}
	return nil
}

// flushLoop flushes each delivery stream when its buffering hints say so, until ctx ends.
func (s *stack) flushLoop(ctx context.Context) {
	s.totals = map[string]localfirehose.Report{}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			for name, st := range s.deliveries {
				if !st.Due(now) {
					continue
				}
				r, err := st.Flush(ctx)
				if err != nil {
					s.log.Error("flush failed", "delivery_stream", name, "error", err.Error())
					continue
				}
				tot := s.totals[name]
				tot.Delivered += r.Delivered
				tot.ProcessingFailed += r.ProcessingFailed
				tot.OtherFailed += r.OtherFailed
				tot.Objects = append(tot.Objects, r.Objects...)
				s.totals[name] = tot
				s.log.Info("flush", "delivery_stream", name, "records", r.Records, "delivered", r.Delivered, "objects", len(r.Objects))
			}
		}
	}
}

// s3Recorded writes to a bucket and records each object under the key S3 has, with the .gz suffix
// the sink adds when it compresses.
type s3Recorded struct {
	rec  *console.Recorder
	sink localfirehose.S3Sink
}

func (s s3Recorded) Put(ctx context.Context, key string, body []byte) error {
	if err := s.sink.Put(ctx, key, body); err != nil {
		return err
	}
	if s.sink.GZIP {
		key += ".gz"
	}
	s.rec.Object(key, body)
	return nil
}
