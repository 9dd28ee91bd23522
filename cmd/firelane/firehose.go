package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firelane/firelane/internal/cfn"
	localfirehose "github.com/firelane/firelane/internal/localaws/firehose"
	"github.com/firelane/firelane/internal/localaws/lambda"
)

func runFirehose(args []string) error {
	fs := flag.NewFlagSet("firehose", flag.ContinueOnError)
	template := fs.String("template", "template.yaml", "SAM template whose delivery streams to serve")
	stack := fs.String("stack", "firelane", "stack name the template's names are resolved with")
	overrides := fs.String("parameter-overrides", "", "template parameters: 'Key=Value Key=Value'")
	listen := fs.String("listen", "127.0.0.1:4573", "address of the Firehose API (loopback)")
	s3URL := fs.String("s3-endpoint", os.Getenv("AWS_ENDPOINT_URL_S3"), "S3 endpoint, e.g. a moto_server (default $AWS_ENDPOINT_URL_S3)")
	bucket := fs.String("bucket", "", "bucket to deliver to")
	create := fs.Bool("create-bucket", false, "create the bucket first")
	interval := fs.Duration("interval", 0, "flush interval instead of the template's (e.g. 5s for quick local runs)")
	format := fs.String("format", "", "the events delivery stream's output format, json or parquet: the template's OutputFormat parameter (default: its value)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: firelane firehose -bucket NAME -s3-endpoint URL [flags]\n\n"+
			"Serves PutRecord and PutRecordBatch for every delivery stream of the template. Records are\n"+
			"buffered by the template's size and interval hints, transformed by the transform function\n"+
			"(built and run under the Lambda Runtime Interface Emulator), partitioned with the\n"+
			"template's prefixes and written GZIPped to the bucket. Point functions at it with\n"+
			"AWS_ENDPOINT_URL_FIREHOSE. Ctrl-C flushes what is buffered and stops.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *bucket == "" || *s3URL == "" {
		fs.Usage()
		return fmt.Errorf("-bucket and -s3-endpoint are required")
	}
	params, err := parseOverrides(*overrides)
	if err != nil {
		return err
	}
	if err := formatParam(*format, params); err != nil {
		return err
	}
	tpl, err := cfn.Load(*template)
	if err != nil {
		return err
	}
	configs, err := localfirehose.FromTemplate(tpl, *stack, params)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	awsCfg := aws.Config{Region: "us-east-1", Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, nil
	})}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(*s3URL); o.UsePathStyle = true })
	if *create {
		if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(*bucket)}); err != nil {
			return fmt.Errorf("create bucket %s: %w", *bucket, err)
		}
	}
	srv := &localfirehose.Server{Streams: map[string]*localfirehose.Stream{}}
	transforms := map[string]*lambda.Instance{}
	for _, c := range configs {
		if *interval > 0 {
			c.Interval = *interval
		}
		id := c.TransformID
		if c.HasTransform {
			transforms[id] = nil
		}
		invoke := func(ctx context.Context, ev events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error) {
			return localfirehose.InvokeURL(transforms[id].URL)(ctx, ev)
		}
		st, err := localfirehose.NewStream(c, localfirehose.S3Sink{API: client, Bucket: *bucket, GZIP: c.GZIP}, invoke)
		if err != nil {
			return err
		}
		srv.Streams[c.Name] = st
	}
	if err := srv.Start(*listen); err != nil {
		return err
	}
	defer srv.Close()
	root, err := filepath.Abs(filepath.Dir(*template))
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "firelane-firehose-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	rie, err := lambda.BuildEmulator(ctx, root, dir)
	if err != nil {
		return err
	}
	for id := range transforms {
		spec, err := lambda.FunctionSpec(tpl, id, *stack, params)
		if err != nil {
			return err
		}
		spec.Env["AWS_ENDPOINT_URL_FIREHOSE"] = srv.URL()
		boot, err := lambda.Build(ctx, root, spec.Package, filepath.Join(dir, id))
		if err != nil {
			return err
		}
		in, err := lambda.Start(ctx, lambda.Config{Emulator: rie, Bootstrap: boot, Name: spec.Name, Env: spec.Env, MemoryMB: spec.MemoryMB, Timeout: spec.Timeout, Logs: os.Stderr})
		if err != nil {
			return err
		}
		defer in.Stop()
		transforms[id] = in
	}
	for _, c := range configs {
		fmt.Fprintf(os.Stderr, "delivery stream %s: s3://%s/%s (buffer %d bytes or %s)\n", c.Name, *bucket, c.Prefix, c.BufferBytes, c.Interval)
	}
	fmt.Printf("AWS_ENDPOINT_URL_FIREHOSE=%s\n", srv.URL())
	<-ctx.Done()
	flushCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	reports, err := srv.FlushAll(flushCtx)
	for name, r := range reports {
		fmt.Fprintf(os.Stderr, "%s: %d records, %d delivered, %d processing-failed, %d other failures\n", name, r.Records, r.Delivered, r.ProcessingFailed, r.OtherFailed)
	}
	return err
}
