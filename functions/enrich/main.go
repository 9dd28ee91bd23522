// Command enrich is the Kinesis consumer Lambda function: stream to Firehose. See package
// [github.com/firelane/firelane/internal/enrich] and docs/enrich.md for its settings.
package main

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/enrich"
	"github.com/firelane/firelane/internal/schema"
	"github.com/firelane/firelane/internal/settings"
	"github.com/firelane/firelane/internal/setup"
	"github.com/firelane/firelane/internal/setup/hmackey"
)

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(enrich.GCPercent)
	}
	log := setup.Logger("enrich", os.Getenv)
	h, err := build(context.Background(), os.Getenv)
	if err != nil {
		setup.Fatal(log, fmt.Errorf("enrich: %w", err))
	}
	h.Logger = log
	// The handler implements lambda.Handler: it decodes the Kinesis event itself, faster than the
	// runtime's reflective adapter around h.Handle would.
	lambda.Start(h)
}

func build(ctx context.Context, getenv func(string) string) (*enrich.Handler, error) {
	stream, err := settings.Required(getenv, "DELIVERY_STREAM_NAME")
	if err != nil {
		return nil, err
	}
	failed, err := settings.Required(getenv, "FAILED_DELIVERY_STREAM_NAME")
	if err != nil {
		return nil, err
	}
	cfg, err := enrich.ConfigFromEnv(getenv)
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
	key, err := hmackey.Load(ctx, hmackey.Source{SecretID: cfg.KeySecretID, ParameterName: cfg.KeyParameterName}, secretsmanager.NewFromConfig(awsCfg), ssm.NewFromConfig(awsCfg))
	if err != nil {
		return nil, err
	}
	chain, err := cfg.Chain(reg, time.Now, key)
	if err != nil {
		return nil, err
	}
	api := awsbatch.NewFirehoseClient(awsCfg)
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
