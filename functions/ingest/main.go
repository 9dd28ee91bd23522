// Command ingest is the API edge Lambda function: POST /events to Kinesis. See package
// [github.com/firelane/firelane/internal/ingest] and docs/contracts.md for its settings.
package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/ingest"
	"github.com/firelane/firelane/internal/schema"
	"github.com/firelane/firelane/internal/setup"
)

func main() {
	log := setup.Logger("ingest")
	h, err := build(context.Background())
	if err != nil {
		setup.Fatal(log, err)
	}
	h.Logger = log
	// The handler answers both REST API (1.0) and HTTP API (2.0) proxy events.
	lambda.Start(h)
}

func build(ctx context.Context) (*ingest.Handler, error) {
	stream, err := setup.Required("STREAM_NAME")
	if err != nil {
		return nil, err
	}
	reg, err := schema.FromEnv()
	if err != nil {
		return nil, err
	}
	cfg := ingest.DefaultConfig
	for _, s := range []struct {
		name string
		to   *int
	}{
		{"MAX_BODY_BYTES", &cfg.MaxBodyBytes},
		{"MAX_DECODED_BYTES", &cfg.MaxDecodedBytes},
		{"MAX_EVENTS", &cfg.MaxEvents},
		{"MAX_EVENT_BYTES", &cfg.MaxEventBytes},
		{"MAX_ERRORS", &cfg.MaxErrors},
	} {
		if *s.to, err = setup.Int(s.name, *s.to); err != nil {
			return nil, err
		}
	}
	for _, s := range []struct {
		name string
		to   *time.Duration
	}{
		{"INTEGRATION_TIMEOUT_MS", &cfg.IntegrationTimeout},
		{"SAFETY_MARGIN_MS", &cfg.SafetyMargin},
	} {
		ms, err := setup.Int(s.name, int(*s.to/time.Millisecond))
		if err != nil {
			return nil, err
		}
		*s.to = time.Duration(ms) * time.Millisecond
	}
	if v := setup.Env("PARTITION_KEY", ""); v != "" {
		cfg.PartitionKey = ingest.SplitList(v)
	}
	cfg.AllowedOrigins = ingest.SplitList(setup.Env("CORS_ALLOW_ORIGINS", ""))
	if err := cfg.Check(); err != nil {
		return nil, fmt.Errorf("ingest configuration: %w", err)
	}
	awsCfg, err := setup.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	kw, err := awsbatch.NewKinesisWriter(kinesis.NewFromConfig(awsCfg), stream, awsbatch.DefaultRetry)
	if err != nil {
		return nil, err
	}
	h := &ingest.Handler{Registry: reg, Kinesis: kw, Config: cfg}
	if name := setup.Env("FAILED_DELIVERY_STREAM_NAME", ""); name != "" {
		fw, err := awsbatch.NewFirehoseWriter(firehose.NewFromConfig(awsCfg), name, awsbatch.DefaultRetry)
		if err != nil {
			return nil, err
		}
		h.Rejected = fw
	}
	return h, nil
}
