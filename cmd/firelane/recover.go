package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	jsonpatch "github.com/evanphx/json-patch/v5"
	"golang.org/x/term"

	"github.com/firelane/firelane/internal/awsbatch"
	localfirehose "github.com/firelane/firelane/internal/localaws/firehose"
	"github.com/firelane/firelane/internal/localaws/pipeline"
	"github.com/firelane/firelane/internal/recovery"
	"github.com/firelane/firelane/internal/schema"
)

// patchFlags collects -patch TYPE=FILE flags.
type patchFlags map[string]jsonpatch.Patch

func (p patchFlags) String() string { return fmt.Sprint(len(p), " patches") }

func (p patchFlags) Set(v string) error {
	typ, file, ok := strings.Cut(v, "=")
	if !ok || typ == "" || file == "" {
		return fmt.Errorf("want TYPE=FILE, got %q", v)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	patch, err := recovery.ParsePatch(b)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	p[typ] = patch
	return nil
}

// recoverEnv is what a run of recover writes to and talks through: its report, the terminal its
// progress bar goes to (nil: none), and the HTTP client of its AWS calls (nil: the SDK's).
type recoverEnv struct {
	out      io.Writer
	progress io.Writer
	http     aws.HTTPClient
}

// recoverRetry bounds the retries of the records the stream refuses: awsbatch's default, the
// ingest function's.
var recoverRetry = awsbatch.DefaultRetry

func runRecover(ctx context.Context, args []string, w io.Writer) error {
	// An interrupt stops the sending, not the run: what the stream took is still written to the
	// manifest, and what it did not is reported unsent.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	return recoverWith(ctx, args, recoverEnv{out: w, progress: terminal(os.Stderr)})
}

// terminal returns f when it is a terminal, else nil: a progress bar is drawn for a person
// watching, never into a log or a pipe.
func terminal(f *os.File) io.Writer {
	if term.IsTerminal(int(f.Fd())) {
		return f
	}
	return nil
}

func recoverWith(ctx context.Context, args []string, env recoverEnv) error {
	w := env.out
	fs := flag.NewFlagSet("recover", flag.ContinueOnError)
	lakeDir := fs.String("lake", "", "the local lake to recover from and into (the layout `firelane local -out DIR` writes)")
	bucket := fs.String("bucket", "", "the lake bucket of a deployed stack (its BucketName output) to read envelopes from and write the manifest to")
	prefix := fs.String("prefix", "", "where the lake's layout starts in -bucket (default: the bucket's root, as the template writes it)")
	stream := fs.String("stream", "", "the Kinesis stream (the stack's StreamName output) to send the recovered events to, with -bucket")
	endpoint := fs.String("endpoint", "", "AWS endpoint for every service (S3 and Kinesis), e.g. a moto_server; default: AWS's")
	schemas := fs.String("schemas", "", "schema directory to validate against (default: the embedded schemas, or $SCHEMAS_DIR)")
	since := fs.String("since", "", "only envelopes that failed at or after this RFC 3339 time")
	until := fs.String("until", "", "only envelopes that failed before this RFC 3339 time")
	stages := fs.String("stage", "", "only these stages, comma-separated (ingest, enrich, transform)")
	kinds := fs.String("kind", "", "only these kinds, comma-separated (rejected, failed, discarded: the batches the enrich mapping discarded)")
	discarded := fs.String("discarded", "", "where the mapping's S3 on-failure destination is: with -lake the `DIR` holding its aws/lambda/ (firelane up writes the template's into the lake itself, another bucket beside the lake), with -bucket the destination bucket's name (default: aws/lambda/ in the lake)")
	classes := fs.String("class", "", "only these reason classes, comma-separated (schema, envelope, unknown_type, decode, truncated)")
	types := fs.String("type", "", "only these event types, comma-separated")
	partKey := fs.String("partition-key", strings.Join(recovery.DefaultPartitionKey, ","), "the stack's PartitionKey parameter: the event attributes tried in order for the Kinesis partition key (subject, source, type, id)")
	dry := fs.Bool("dry-run", false, "print what would recover and what would still fail, by reason; send and write nothing")
	patches := patchFlags{}
	fs.Var(patches, "patch", "`TYPE=FILE`: apply the JSON Patch (RFC 6902) in FILE to every event of TYPE before validating it (repeatable)")
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: firelane recover (-lake DIR | -bucket NAME [-prefix P] -stream NAME [-partition-key L] [-endpoint URL])\n"+
			"                        [-schemas DIR] [-since T] [-until T] [-stage S] [-kind K] [-discarded DIR|BUCKET] [-class C] [-type T] [-patch TYPE=FILE] [-dry-run]\n\n"+
			"Reads the failed-event envelopes under rejected/ and failed/, validates each event against the\n"+
			"current schemas (after its type's patch), and sends those that pass, keeping their received_at,\n"+
			"request id and event id: from a local lake through the local chain into the same lake, from a\n"+
			"bucket to the stack's Kinesis stream. A manifest under recovery/ keeps a later run from sending\n"+
			"them again.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch {
	case (*lakeDir == "") == (*bucket == ""):
		return fmt.Errorf("name one lake: -lake DIR or -bucket NAME")
	case *lakeDir != "" && (*stream != "" || *prefix != "" || *endpoint != ""):
		return fmt.Errorf("-stream, -prefix and -endpoint go with -bucket: a local lake's events go through the local chain")
	case *bucket != "" && *stream == "" && !*dry:
		return fmt.Errorf("-bucket needs -stream NAME to send the events to (or -dry-run)")
	}
	filter := recovery.Filter{
		Stages: recovery.ParseList(*stages), Kinds: recovery.ParseList(*kinds),
		Classes: recovery.ParseList(*classes), Types: recovery.ParseList(*types),
	}
	for _, b := range []struct {
		flag, v string
		t       *time.Time
	}{{"-since", *since, &filter.Since}, {"-until", *until, &filter.Until}} {
		if b.v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, b.v)
		if err != nil {
			return fmt.Errorf("%s: want an RFC 3339 time, got %q", b.flag, b.v)
		}
		*b.t = t
	}
	reg, err := openRegistry(*schemas)
	if err != nil {
		return err
	}
	keys := recovery.ParseList(*partKey)
	for _, k := range keys {
		if !slices.Contains(recovery.PartitionKeyAttrs, k) {
			return fmt.Errorf("-partition-key: %q is not one of %s", k, strings.Join(recovery.PartitionKeyAttrs, ", "))
		}
	}
	opts := recovery.Options{Registry: reg, Filter: filter, Patches: patches, PartitionKey: keys, DryRun: *dry}
	if *bucket != "" {
		err = bucketRun(ctx, &opts, env, *bucket, *prefix, *stream, *endpoint, *discarded)
	} else {
		err = lakeRun(&opts, w, *lakeDir, *discarded, reg)
	}
	if err != nil {
		return err
	}
	var bar *progress
	if env.progress != nil {
		bar = newProgress(env.progress)
		opts.Progress = bar.update
	}
	rep, err := recovery.Run(ctx, opts)
	if bar != nil {
		bar.finish() // before the report, which a terminal shows beside it
	}
	for _, l := range rep.Lines() {
		fmt.Fprintln(w, l)
	}
	for _, l := range rep.UnsentLines() {
		fmt.Fprintln(w, l)
	}
	for _, k := range rep.Manifests {
		fmt.Fprintf(w, "manifest: %s\n", k)
	}
	fmt.Fprintf(w, "recover: %s\n", rep.Summary(*dry))
	return err
}

// lakeRun reads a local lake and, unless a dry run, sends through the local chain into it.
func lakeRun(opts *recovery.Options, w io.Writer, lakeDir, discardedDir string, reg *schema.Registry) error {
	dir, err := filepath.Abs(lakeDir)
	if err != nil {
		return err
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("-lake %s: not a directory", lakeDir)
	}
	opts.Store = recovery.DirStore{Dir: dir}
	if discardedDir != "" {
		if st, err := os.Stat(discardedDir); err != nil || !st.IsDir() {
			return fmt.Errorf("-discarded %s: not a directory", discardedDir)
		}
		opts.Discarded = recovery.DirStore{Dir: discardedDir}
	}
	if opts.DryRun {
		return nil
	}
	chain, err := pipeline.New(pipeline.Config{Registry: reg, Sink: localfirehose.DirSink{Dir: dir}, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	kw, err := awsbatch.NewKinesisWriter(chain.Stream, pipeline.StreamName, awsbatch.Retry{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond})
	if err != nil {
		return err
	}
	opts.Writer = kw
	opts.Flush = func(ctx context.Context) error {
		rep, err := chain.Drain(ctx)
		if err == nil {
			fmt.Fprintf(w, "local chain: %d rows delivered, %d set aside again\n", rep.Events.Delivered, rep.Failures.Delivered+rep.Failures.OtherFailed)
		}
		return err
	}
	return nil
}

// bucketRun reads the lake in an S3 bucket and, unless a dry run, sends to a Kinesis stream,
// both through endpoint when one is given.
func bucketRun(ctx context.Context, opts *recovery.Options, env recoverEnv, bucket, prefix, stream, endpoint, discardedBucket string) error {
	cfg, err := recoverAWSConfig(ctx, endpoint, env.http)
	if err != nil {
		return err
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			// The flag wins over a service's own endpoint setting (AWS_ENDPOINT_URL_S3), which
			// the SDK would otherwise prefer; an endpoint on loopback (moto) has no bucket
			// subdomains.
			o.BaseEndpoint, o.UsePathStyle = aws.String(endpoint), true
		}
		// An object stored without a checksum leaves the SDK nothing to validate, and its note
		// saying so (once per object, on stderr) would bury the report.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	opts.Store, err = recovery.NewS3Store(client, bucket, prefix)
	if err != nil {
		return err
	}
	if discardedBucket != "" {
		// Lambda chooses the keys of an S3 on-failure destination itself, at the bucket's root
		// (aws/lambda/…): the destination has no prefix.
		if opts.Discarded, err = recovery.NewS3Store(client, discardedBucket, ""); err != nil {
			return err
		}
	}
	if opts.DryRun {
		return nil
	}
	kc := awsbatch.NewKinesisClient(cfg, func(o *kinesis.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
	kw, err := awsbatch.NewKinesisWriter(kc, stream, recoverRetry)
	if err != nil {
		return err
	}
	opts.Writer = kw
	return nil
}

// recoverAWSConfig loads the SDK's configuration (the environment's credentials and region),
// sending every service to endpoint when one is given. With an endpoint and no credentials it
// uses moto's test ones, and with no region us-east-1, as the other commands do.
func recoverAWSConfig(ctx context.Context, endpoint string, client aws.HTTPClient) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if client != nil {
		opts = append(opts, config.WithHTTPClient(client))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if endpoint == "" {
		if cfg.Region == "" {
			return aws.Config{}, fmt.Errorf("no AWS region: set AWS_REGION (or a profile's region)")
		}
		return cfg, nil
	}
	cfg.BaseEndpoint = aws.String(endpoint)
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		cfg.Credentials = credentials.NewStaticCredentialsProvider("testing", "testing", "")
	}
	return cfg, nil
}
