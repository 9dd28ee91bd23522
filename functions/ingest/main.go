// Command ingest is the API edge Lambda function: POST /events to Kinesis. See package
// [github.com/firelane/firelane/internal/ingest] and docs/contracts.md for its settings.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/ingest"
	"github.com/firelane/firelane/internal/schema"
	"github.com/firelane/firelane/internal/settings"
	"github.com/firelane/firelane/internal/setup"
)

func main() {
	log := setup.Logger("ingest", os.Getenv)
	h, err := build(context.Background(), os.Getenv)
	if err != nil {
		setup.Fatal(log, fmt.Errorf("ingest: %w", err))
	}
	h.Logger = log
	// The handler answers both REST API (1.0) and HTTP API (2.0) proxy events.
	lambda.Start(h)
}

func build(ctx context.Context, getenv func(string) string) (*ingest.Handler, error) {
	stream, err := settings.Required(getenv, "STREAM_NAME")
	if err != nil {
		return nil, err
	}
	failed := settings.Get(getenv, "FAILED_DELIVERY_STREAM_NAME") // optional
	cfg, err := ingest.ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	schemas, err := schema.ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	reg, err := schema.Open(schemas)
	if err != nil {
		return nil, err
	}
	awsCfg, err := setup.AWSConfig(ctx, getenv)
	if err != nil {
		return nil, err
	}
	kw, err := awsbatch.NewKinesisWriter(awsbatch.NewKinesisClient(awsCfg), stream, awsbatch.DefaultRetry)
	if err != nil {
		return nil, err
	}
	h := &ingest.Handler{Registry: reg, Kinesis: kw, Config: cfg}
	if failed != "" {
		fw, err := awsbatch.NewFirehoseWriter(awsbatch.NewFirehoseClient(awsCfg), failed, awsbatch.DefaultRetry)
		if err != nil {
			return nil, err
		}
		h.Rejected = fw
	}
	return h, nil
}
