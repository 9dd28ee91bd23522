package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/firelane/firelane/internal/ingest"
	localfirehose "github.com/firelane/firelane/internal/localaws/firehose"
	"github.com/firelane/firelane/internal/localaws/pipeline"
	"github.com/firelane/firelane/internal/schematool"
)

func runLocal(args []string) error {
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	out := fs.String("out", "lake", "directory to write the delivered S3 objects to (laid out like the bucket's keys)")
	schemas := fs.String("schemas", "", "schema directory (default: the embedded schemas, or $SCHEMAS_DIR)")
	verbose := fs.Bool("v", false, "show the functions' logs")
	s3URL := fs.String("s3-endpoint", "", "deliver to this S3 endpoint (a moto_server) instead of -out, GZIP-compressed as deployed")
	bucket := fs.String("bucket", "", "the bucket to deliver to with -s3-endpoint (created when missing)")
	format := fs.String("format", templateFormat("template.yaml"), "the events delivery stream's output format, json or parquet (default: template.yaml's OutputFormat)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: firelane local [-out DIR | -s3-endpoint URL -bucket NAME] [-format json|parquet] [-schemas DIR] [FILE|DIR ...]\n\n"+
			"Sends each file's events through ingest, an in-memory Kinesis stream, enrich, an in-memory\n"+
			"Firehose stream and transform, and writes what Firehose would deliver to S3 under -out.\n"+
			"Default input: events/ingest/valid-*.json.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	inputs := fs.Args()
	if len(inputs) == 0 {
		m, _ := filepath.Glob(filepath.Join("events", "ingest", "valid-*.json"))
		if len(m) == 0 {
			return fmt.Errorf("no input given and no events/ingest/valid-*.json here: run from the repository root or name files")
		}
		inputs = m
	}
	reg, err := openRegistry(*schemas)
	if err != nil {
		return err
	}
	reqs, err := pipeline.LoadRequests(inputs)
	if err != nil {
		return err
	}
	logOut := io.Discard
	if *verbose {
		logOut = os.Stderr
	}
	ctx := context.Background()
	var sink localfirehose.Sink
	var where string
	switch {
	case *s3URL != "" || *bucket != "":
		if *s3URL == "" || *bucket == "" {
			return fmt.Errorf("-s3-endpoint and -bucket go together")
		}
		client, err := s3Client(ctx, *s3URL, *bucket)
		if err != nil {
			return err
		}
		sink, where = localfirehose.S3Sink{API: client, Bucket: *bucket, GZIP: true}, "s3://"+*bucket+" at "+*s3URL+" (GZIP-compressed, each key ending in .gz)"
		if *format == schematool.FormatParquet {
			// Firehose refuses S3 compression with format conversion; Parquet compresses its pages.
			sink, where = localfirehose.S3Sink{API: client, Bucket: *bucket}, "s3://"+*bucket+" at "+*s3URL
		}
	default:
		dir, err := filepath.Abs(*out)
		if err != nil {
			return err
		}
		sink, where = localfirehose.DirSink{Dir: dir}, dir
	}
	chainCfg := pipeline.Config{Registry: reg, Sink: sink, Logger: slog.New(slog.NewJSONHandler(logOut, nil))}
	if *format == schematool.FormatParquet {
		t := schematool.ParquetTable("firelane")
		chainCfg.Parquet = &t
	}
	chain, err := pipeline.New(chainCfg)
	if err != nil {
		return err
	}
	return runChain(ctx, chain, reqs, where, os.Stdout)
}

// s3Client returns a path-style client of the S3 endpoint (moto's test credentials unless the
// environment has others) and makes sure the bucket exists.
func s3Client(ctx context.Context, endpoint, bucket string) (*s3.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"))
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		cfg.Credentials = credentials.NewStaticCredentialsProvider("testing", "testing", "")
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(endpoint); o.UsePathStyle = true })
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err != nil {
		if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
			return nil, fmt.Errorf("create bucket %s: %w", bucket, err)
		}
	}
	return client, nil
}

// runChain sends the requests, drains the chain and prints what happened.
func runChain(ctx context.Context, chain *pipeline.Chain, reqs []pipeline.Request, where string, w io.Writer) error {
	var accepted, rejected, failed int
	for _, r := range reqs {
		out := chain.Serve(ctx, r)
		body := out.Events
		if body == nil {
			fmt.Fprintf(w, "%s: HTTP %d %s\n", r.Name, out.Status, out.Body)
			continue
		}
		fmt.Fprintf(w, "%s: HTTP %d, %d accepted, %d rejected, %d failed\n", r.Name, out.Status, body.Accepted, body.Rejected, body.Failed)
		accepted, rejected, failed = accepted+body.Accepted, rejected+body.Rejected, failed+body.Failed
		for _, res := range body.Results {
			if res.Status == ingest.StatusAccepted {
				continue
			}
			fmt.Fprintf(w, "  event %d (id %q) %s:\n", res.Index, res.ID, res.Status)
			for _, e := range res.Errors {
				fmt.Fprintf(w, "    %s %s: %s\n", orRoot(e.Location), e.Keyword, e.Message)
			}
		}
	}
	rep, err := chain.Drain(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nedge: %d accepted, %d rejected, %d failed\n", accepted, rejected, failed)
	fmt.Fprintf(w, "enrich: %d batches, %d redelivered\n", rep.Batches, rep.Retried)
	fmt.Fprintf(w, "lake: %d rows delivered, %d dropped, %d processing-failed, %d other failures\n",
		rep.Events.Delivered, rep.Events.Dropped, rep.Events.ProcessingFailed, rep.Events.OtherFailed)
	fmt.Fprintf(w, "failed-events stream: %d records\n", rep.Failures.Delivered+rep.Failures.OtherFailed)
	objects := append(append([]string(nil), rep.Events.Objects...), rep.Failures.Objects...)
	sort.Strings(objects)
	fmt.Fprintf(w, "\n%d objects in %s:\n", len(objects), where)
	for _, o := range objects {
		fmt.Fprintf(w, "  %s\n", o)
	}
	return nil
}

func orRoot(ptr string) string {
	if ptr == "" {
		return "(event)"
	}
	return ptr
}
