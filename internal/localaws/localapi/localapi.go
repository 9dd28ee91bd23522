// Package localapi starts the template's REST API on this machine with what it integrates with:
// the ingest function (called in this process, or its built bootstrap under the Lambda Runtime
// Interface Emulator) and the Kinesis stream and Firehose delivery streams it writes to, either
// at an AWS endpoint (a moto_server: the streams are created when missing) or in memory behind a
// loopback endpoint of their own, which also serves the secrets a function under the emulator
// reads (Secrets Manager's GetSecretValue, SSM's GetParameter). It is what `firelane api` runs,
// and what `firelane up` builds on.
package localapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	firehosetypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/cfn"
	"github.com/firelane/firelane/internal/ingest"
	"github.com/firelane/firelane/internal/localaws/apigateway"
	localfirehose "github.com/firelane/firelane/internal/localaws/firehose"
	localkinesis "github.com/firelane/firelane/internal/localaws/kinesis"
	"github.com/firelane/firelane/internal/localaws/lambda"
	"github.com/firelane/firelane/internal/schema"
)

// Options configures [Start].
type Options struct {
	Template cfn.Template
	Root     string // the module root, to build functions from (with RIE)
	Stack    string // "firelane" when empty
	Params   map[string]string
	Registry *schema.Registry // the schemas ingest validates with (in process)
	// SchemasDir is passed to a function under the emulator as SCHEMAS_DIR ("" for the embedded).
	SchemasDir string
	// Endpoint is the AWS endpoint of every service (a moto_server); empty keeps the streams in
	// memory.
	Endpoint string
	APIKeys  []string
	// Deliveries, when set, are the in-memory delivery streams to serve by name (with their
	// sinks, transforms and buffering hints), in place of streams that only buffer. With an
	// Endpoint they are served here all the same: only the Kinesis streams are at the endpoint.
	Deliveries map[string]*localfirehose.Stream
	// RIE runs functions as their built bootstraps under the Runtime Interface Emulator rather
	// than in this process.
	RIE bool
	// Secrets are served on the in-memory endpoint, by name, as the values of Secrets Manager's
	// GetSecretValue (a secret's SecretString) and of SSM's GetParameter, so that a function under
	// the emulator reads its key there (`firelane up -rie` gives enrich its PII key).
	Secrets map[string]string
	// Logs receives the functions' output under the emulator; Logger the API's request lines.
	Logs   io.Writer
	Logger *slog.Logger
}

// API is a running local API.
type API struct {
	Handler    *apigateway.Server
	Definition *apigateway.Definition
	// Endpoint is the AWS endpoint the API and its functions use; FirehoseEndpoint the one they
	// send Firehose calls to (the same unless Options.Deliveries are served here).
	Endpoint         string
	FirehoseEndpoint string
	// Streams and Deliveries are the in-memory services (nil with an AWS endpoint).
	Streams    map[string]*localkinesis.Stream
	Deliveries map[string]*localfirehose.Delivery

	closers []func()
}

// Close stops what Start started.
func (a *API) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.closers = nil
}

// Credentials are the static credentials local endpoints take.
var Credentials = credentials.NewStaticCredentialsProvider("test", "test", "")

// Start builds the API of opts.Template and what it integrates with.
func Start(ctx context.Context, opts Options) (*API, error) {
	if opts.Stack == "" {
		opts.Stack = "firelane"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	def, err := apigateway.Load(opts.Template, opts.Stack, opts.Params)
	if err != nil {
		return nil, err
	}
	a := &API{Definition: def, Endpoint: opts.Endpoint}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	streams, deliveries, err := streamNames(opts.Template, opts.Stack, opts.Params)
	if err != nil {
		return nil, err
	}
	switch {
	case a.Endpoint == "":
		if err := a.startMemory(streams, deliveries, opts.Deliveries, opts.Secrets); err != nil {
			return nil, err
		}
		a.Endpoint = a.FirehoseEndpoint
	case opts.Deliveries != nil:
		if err := ensureStreams(ctx, a.Endpoint, streams, nil); err != nil {
			return nil, err
		}
		if err := a.startMemory(nil, deliveries, opts.Deliveries, opts.Secrets); err != nil {
			return nil, err
		}
	default:
		if err := ensureStreams(ctx, a.Endpoint, streams, deliveries); err != nil {
			return nil, err
		}
		a.FirehoseEndpoint = a.Endpoint
	}
	functions := map[string]lambda.Invoker{}
	for _, methods := range def.Routes {
		for _, m := range methods {
			if m.Type != "aws_proxy" || functions[m.Function] != nil {
				continue
			}
			inv, err := a.function(ctx, opts, m.Function)
			if err != nil {
				return nil, err
			}
			functions[m.Function] = inv
		}
	}
	srv, err := apigateway.NewServer(apigateway.Config{
		Definition: def, APIKeys: opts.APIKeys, Functions: functions, Logger: opts.Logger,
		AWS: &apigateway.AWS{Endpoint: a.Endpoint, Credentials: Credentials},
	})
	if err != nil {
		return nil, err
	}
	a.Handler = srv
	ok = true
	return a, nil
}

// streamNames returns the physical names of the template's Kinesis streams and delivery streams.
func streamNames(tpl cfn.Template, stack string, params map[string]string) ([]string, []string, error) {
	e := cfn.NewEvaluator(tpl, stack, params)
	var streams []string
	for _, id := range tpl.ResourcesOfType("AWS::Kinesis::Stream") {
		res, _ := tpl.Resource(id)
		name, err := e.Resolve(cfn.Path(res, "Properties", "Name"))
		if err != nil {
			return nil, nil, fmt.Errorf("stream %s: %w", id, err)
		}
		if s, isStr := name.(string); isStr && s != "" {
			streams = append(streams, s)
		} else {
			streams = append(streams, id)
		}
	}
	configs, err := localfirehose.FromTemplate(tpl, stack, params)
	if err != nil {
		return nil, nil, err
	}
	var deliveries []string
	for _, c := range configs {
		deliveries = append(deliveries, c.Name)
	}
	return streams, deliveries, nil
}

// discard is the sink of in-memory delivery streams: the local API buffers what they take and
// `firelane up` delivers it.
type discard struct{}

func (discard) Put(context.Context, string, []byte) error { return nil }

// startMemory serves in-memory streams on a loopback endpoint of their own, so that functions
// under the emulator reach them as they reach moto.
func (a *API) startMemory(streams, deliveries []string, given map[string]*localfirehose.Stream, secrets map[string]string) error {
	a.Streams, a.Deliveries = map[string]*localkinesis.Stream{}, map[string]*localfirehose.Delivery{}
	kh := apigateway.KinesisHandler{Streams: map[string]apigateway.PutRecordsAPI{}}
	for _, n := range streams {
		st := localkinesis.NewStream(n)
		a.Streams[n], kh.Streams[n] = st, st
	}
	fh := &localfirehose.Server{Streams: map[string]*localfirehose.Stream{}}
	for _, n := range deliveries {
		if st := given[n]; st != nil {
			a.Deliveries[n], fh.Streams[n] = st.Delivery, st
			continue
		}
		d := &localfirehose.Delivery{Name: n, Sink: discard{}}
		a.Deliveries[n] = d
		fh.Streams[n] = &localfirehose.Stream{Delivery: d}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen for the in-memory streams: %w", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := r.Header.Get("X-Amz-Target")
		switch {
		case strings.HasPrefix(target, "Kinesis_"):
			kh.ServeHTTP(w, r)
		case strings.HasPrefix(target, "secretsmanager.") || strings.HasPrefix(target, "AmazonSSM."):
			serveSecret(w, r, secrets)
		default:
			fh.ServeHTTP(w, r)
		}
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	a.FirehoseEndpoint = "http://" + l.Addr().String()
	a.closers = append(a.closers, func() { _ = srv.Close() })
	return nil
}

func awsConfig(endpoint string) aws.Config {
	return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), Credentials: Credentials}
}

// ensureStreams creates, at endpoint, the streams that do not exist yet: on-demand Kinesis
// streams, and DirectPut delivery streams to a local bucket.
func ensureStreams(ctx context.Context, endpoint string, streams, deliveries []string) error {
	cfg := awsConfig(endpoint)
	kc := kinesis.NewFromConfig(cfg)
	for _, n := range streams {
		_, err := kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(n)})
		if err == nil {
			continue
		}
		var nf *kinesistypes.ResourceNotFoundException
		if !errors.As(err, &nf) {
			return fmt.Errorf("describe stream %s at %s: %w", n, endpoint, err)
		}
		_, err = kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(n), ShardCount: aws.Int32(1)})
		if err != nil {
			return fmt.Errorf("create stream %s at %s: %w", n, endpoint, err)
		}
		w := kinesis.NewStreamExistsWaiter(kc, func(o *kinesis.StreamExistsWaiterOptions) {
			o.MinDelay = 100 * time.Millisecond
			o.MaxDelay = time.Second
		})
		if err := w.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(n)}, 30*time.Second); err != nil {
			return fmt.Errorf("stream %s at %s: %w", n, endpoint, err)
		}
	}
	fc := firehose.NewFromConfig(cfg)
	for _, n := range deliveries {
		_, err := fc.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String(n)})
		if err == nil {
			continue
		}
		var nf *firehosetypes.ResourceNotFoundException
		if !errors.As(err, &nf) {
			return fmt.Errorf("describe delivery stream %s at %s: %w", n, endpoint, err)
		}
		_, err = fc.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
			DeliveryStreamName: aws.String(n), DeliveryStreamType: firehosetypes.DeliveryStreamTypeDirectPut,
			ExtendedS3DestinationConfiguration: &firehosetypes.ExtendedS3DestinationConfiguration{
				BucketARN: aws.String("arn:aws:s3:::firelane-local-lake"), RoleARN: aws.String("arn:aws:iam::123456789012:role/firelane-local"),
			},
		})
		if err != nil {
			return fmt.Errorf("create delivery stream %s at %s: %w", n, endpoint, err)
		}
	}
	return nil
}

// function returns the invoker of a template function: in process (ingest, the one function an
// API integrates) or under the emulator.
func (a *API) function(ctx context.Context, opts Options, id string) (lambda.Invoker, error) {
	spec, err := lambda.FunctionSpec(opts.Template, id, opts.Stack, opts.Params)
	if err != nil {
		return nil, err
	}
	if opts.RIE {
		return a.emulated(ctx, opts, spec)
	}
	if spec.Package != "./functions/ingest" {
		return nil, fmt.Errorf("%s: only the ingest function runs in process; use the emulator (-rie)", id)
	}
	h, err := ingestHandler(spec.Env, opts.Registry, a.Endpoint, a.FirehoseEndpoint)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", id, err)
	}
	h.Logger = opts.Logger.With("function", "ingest")
	return lambda.InProcess{Handler: h, Name: spec.Name, Timeout: spec.Timeout}, nil
}

// ingestHandler wires the ingest stage as functions/ingest does, from the function's environment,
// with SDK clients sent to endpoint (Firehose's to firehoseEndpoint).
func ingestHandler(env map[string]string, reg *schema.Registry, endpoint, firehoseEndpoint string) (*ingest.Handler, error) {
	if reg == nil {
		var err error
		if reg, err = schema.Default(); err != nil {
			return nil, err
		}
	}
	// The function's settings, read as functions/ingest reads them, from the template's environment.
	cfg, err := ingest.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		return nil, fmt.Errorf("ingest configuration: %w", err)
	}
	awsCfg := awsConfig(endpoint)
	kw, err := awsbatch.NewKinesisWriter(awsbatch.NewKinesisClient(awsCfg), env["STREAM_NAME"], awsbatch.DefaultRetry)
	if err != nil {
		return nil, err
	}
	h := &ingest.Handler{Registry: reg, Kinesis: kw, Config: cfg}
	if name := env["FAILED_DELIVERY_STREAM_NAME"]; name != "" {
		fw, err := awsbatch.NewFirehoseWriter(awsbatch.NewFirehoseClient(awsConfig(firehoseEndpoint)), name, awsbatch.DefaultRetry)
		if err != nil {
			return nil, err
		}
		h.Rejected = fw
	}
	return h, nil
}

// emulated builds the function and starts it under the Runtime Interface Emulator.
func (a *API) emulated(ctx context.Context, opts Options, spec lambda.Spec) (lambda.Invoker, error) {
	dir, err := os.MkdirTemp("", "firelane-api-")
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, func() { _ = os.RemoveAll(dir) })
	boot, err := lambda.Build(ctx, opts.Root, spec.Package, filepath.Join(dir, "fn"))
	if err != nil {
		return nil, err
	}
	rie, err := lambda.BuildEmulator(ctx, opts.Root, dir)
	if err != nil {
		return nil, err
	}
	spec.Env["AWS_ENDPOINT_URL"] = a.Endpoint
	if a.FirehoseEndpoint != a.Endpoint {
		spec.Env["AWS_ENDPOINT_URL_FIREHOSE"] = a.FirehoseEndpoint
	}
	if opts.SchemasDir != "" {
		spec.Env["SCHEMAS_DIR"] = opts.SchemasDir
	}
	in, err := lambda.Start(ctx, lambda.Config{Emulator: rie, Bootstrap: boot, Name: spec.Name, Env: spec.Env, MemoryMB: spec.MemoryMB, Timeout: spec.Timeout, Logs: opts.Logs})
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, in.Stop)
	return in, nil
}
