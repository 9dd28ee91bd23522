// Command enrich is the Kinesis consumer Lambda function: stream to Firehose. See package
// [github.com/firelane/firelane/internal/enrich] and docs/enrich.md for its settings.
package main

import (
	"context"
	"os"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/enrich"
	"github.com/firelane/firelane/internal/schema"
	"github.com/firelane/firelane/internal/setup"
)

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(enrich.GCPercent)
	}
	log := setup.Logger("enrich")
	h, err := build(context.Background())
	if err != nil {
		setup.Fatal(log, err)
	}
	h.Logger = log
	// The handler implements lambda.Handler: it decodes the Kinesis event itself, faster than the
	// runtime's reflective adapter around h.Handle would.
	lambda.Start(h)
}

func build(ctx context.Context) (*enrich.Handler, error) {
	stream, err := setup.Required("DELIVERY_STREAM_NAME")
	if err != nil {
		return nil, err
	}
	failed, err := setup.Required("FAILED_DELIVERY_STREAM_NAME")
	if err != nil {
		return nil, err
	}
	cfg, err := enrich.ConfigFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	reg, err := schema.FromEnv()
	if err != nil {
		return nil, err
	}
	awsCfg, err := setup.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	key, err := enrich.LoadKey(ctx, cfg, secretsmanager.NewFromConfig(awsCfg), ssm.NewFromConfig(awsCfg))
	if err != nil {
		return nil, err
	}
	chain, err := cfg.Chain(reg, time.Now, key)
	if err != nil {
		return nil, err
	}
	api := firehose.NewFromConfig(awsCfg)
	out, err := awsbatch.NewFirehoseWriter(api, stream, awsbatch.DefaultRetry)
	if err != nil {
		return nil, err
	}
	fw, err := awsbatch.NewFirehoseWriter(api, failed, awsbatch.DefaultRetry)
	if err != nil {
		return nil, err
	}
	return &enrich.Handler{Registry: reg, Chain: chain, Firehose: out, Failed: fw}, nil
}
